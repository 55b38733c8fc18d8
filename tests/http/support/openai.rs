//! A local OpenAI-compatible chat completions server, following the
//! documented contract: `POST /v1/chat/completions` with
//! `Authorization: Bearer`, `stream: true` answered as server-sent events
//! of `chat.completion.chunk` objects (a first chunk with the role, one per
//! piece of content, one with `finish_reason`, a usage chunk with empty
//! `choices` when `stream_options.include_usage` is set, then
//! `data: [DONE]`), and errors as JSON `{"error": {message, type, code}}`
//! with 401, 429 (with `retry-after`) and 500.

use std::{
    collections::VecDeque,
    convert::Infallible,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};

pub const API_KEY: &str = "sk-test-weaverse-0000";

/// How the server answers one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// The answer in these pieces, `gap` apart.
    Stream { pieces: Vec<String>, gap: Duration },
    /// An error status with OpenAI's error body.
    Status(u16),
    /// Headers and the role chunk, then nothing for this long.
    Stall(Duration),
}

#[derive(Default)]
struct Shared {
    /// Replies for the next requests, in order; then the default answer.
    script: Mutex<VecDeque<Reply>>,
    /// Every request's JSON body.
    requests: Mutex<Vec<Value>>,
    default_gap: Mutex<Duration>,
}

pub struct OpenAiServer {
    /// `http://127.0.0.1:PORT/v1`, what `TUTOR_API_BASE` takes.
    pub base: String,
    shared: Arc<Shared>,
}

/// The default answer: cites a moment and ends.
pub const ANSWER: [&str; 4] = [
    "const로 만든 변수는 ",
    "다시 대입할 수 없습니다. ",
    "[00:12] 장면을 다시 보세요.",
    " 값이 바뀌어야 하면 let을 씁니다.",
];

impl OpenAiServer {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!(
            "http://127.0.0.1:{}/v1",
            listener.local_addr().unwrap().port()
        );
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, shared }
    }

    /// The next requests get these replies, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.script.lock().unwrap().extend(replies);
    }

    /// The default answer's pieces come this far apart (a slow model).
    pub fn slow(&self, gap: Duration) {
        *self.shared.default_gap.lock().unwrap() = gap;
    }

    /// Every request's JSON body so far.
    pub fn requests(&self) -> Vec<Value> {
        self.shared.requests.lock().unwrap().clone()
    }
}

fn error(status: StatusCode, message: &str, kind: &str, code: Option<&str>) -> Response {
    (
        status,
        Json(json!({ "error": { "message": message, "type": kind, "param": null, "code": code } })),
    )
        .into_response()
}

fn chunk(model: &str, delta: Value, finish: Option<&str>) -> String {
    let body = json!({
        "id": "chatcmpl-weaversetest",
        "object": "chat.completion.chunk",
        "created": 1_764_900_000,
        "model": model,
        "choices": [{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }],
    });
    format!("data: {body}\n\n")
}

async fn completions(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {API_KEY}"))
    {
        return error(
            StatusCode::UNAUTHORIZED,
            "Incorrect API key provided.",
            "invalid_request_error",
            Some("invalid_api_key"),
        );
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "We could not parse the JSON body of your request.",
            "invalid_request_error",
            None,
        );
    };
    shared.requests.lock().unwrap().push(request.clone());
    let reply = shared.script.lock().unwrap().pop_front();
    let gap = *shared.default_gap.lock().unwrap();
    let reply = reply.unwrap_or(Reply::Stream {
        pieces: ANSWER.iter().map(|s| s.to_string()).collect(),
        gap,
    });
    let model = request["model"].as_str().unwrap_or_default().to_owned();
    let usage = request["stream_options"]["include_usage"] == true;
    match reply {
        Reply::Status(429) => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit reached for requests",
                "requests",
                Some("rate_limit_exceeded"),
            );
            response
                .headers_mut()
                .insert("retry-after", "0".parse().unwrap());
            response
        }
        Reply::Status(code) => error(
            StatusCode::from_u16(code).unwrap(),
            "The server had an error while processing your request.",
            "server_error",
            None,
        ),
        // The stream stays open, silent, while `tx` lives.
        Reply::Stall(wait) => sse(&model, move |_, tx| async move {
            tokio::time::sleep(wait).await;
            drop(tx);
        }),
        Reply::Stream { pieces, gap } => sse(&model, move |model, tx| async move {
            let mut out = 0;
            for piece in &pieces {
                tokio::time::sleep(gap).await;
                out += piece.chars().count();
                let _ = tx
                    .send(Ok(chunk(&model, json!({"content": piece}), None)))
                    .await;
            }
            let _ = tx.send(Ok(chunk(&model, json!({}), Some("stop")))).await;
            if usage {
                let body = json!({
                    "id": "chatcmpl-weaversetest",
                    "object": "chat.completion.chunk",
                    "created": 1_764_900_000,
                    "model": model,
                    "choices": [],
                    "usage": { "prompt_tokens": 321, "completion_tokens": out, "total_tokens": 321 + out },
                });
                let _ = tx.send(Ok(format!("data: {body}\n\n"))).await;
            }
            let _ = tx.send(Ok("data: [DONE]\n\n".to_owned())).await;
        }),
    }
}

type Sender = tokio::sync::mpsc::Sender<Result<String, Infallible>>;

/// An event stream that starts with the role chunk, then what `rest` sends.
fn sse<F, Fut>(model: &str, rest: F) -> Response
where
    F: FnOnce(String, Sender) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<String, Infallible>>(16);
    let model = model.to_owned();
    tokio::spawn(async move {
        let _ = tx
            .send(Ok(chunk(
                &model,
                json!({"role": "assistant", "content": ""}),
                None,
            )))
            .await;
        rest(model, tx).await;
    });
    Response::builder()
        .header("content-type", "text/event-stream; charset=utf-8")
        .header("cache-control", "no-cache")
        .body(Body::from_stream(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        ))
        .unwrap()
}
