//! Who writes the answers, behind one trait: any OpenAI-compatible chat
//! completions API, streamed (`openai`), or, with none set, the local
//! retrieval that answers with the course's own passages (`Retrieval`).

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::{
    model::{BackendKind, Failure},
    prompt::Message,
};

/// What an answer cost, as the API reported it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: Option<i32>,
    pub completion_tokens: Option<i32>,
}

/// Why no (whole) answer came.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// The whole answer took longer than allowed.
    #[error("timed out")]
    Timeout,
    /// Busy or failing (429, 5xx, no connection) after the retries.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The API refused the request itself (a bad key or model: 4xx).
    #[error("refused with status {0}")]
    Refused(u16),
}

impl BackendError {
    /// What the turn keeps of it.
    pub fn failure(&self) -> Failure {
        match self {
            Self::Timeout => Failure::Timeout,
            Self::Unavailable(_) => Failure::Unavailable,
            Self::Refused(_) => Failure::Refused,
        }
    }
}

/// A passage found for a question, as the local retrieval lists it.
#[derive(Clone, Debug)]
pub struct Found {
    /// The lesson it is in (its page's path) and that lesson's title.
    pub lesson: String,
    pub title: String,
    /// The moment in that lesson's video, for captions.
    pub at_secs: Option<u64>,
    pub text: String,
    /// In the lesson the learner asked from.
    pub here: bool,
}

/// One question to answer.
pub struct Request {
    pub messages: Vec<Message>,
    /// The most relevant passages, best first.
    pub found: Vec<Found>,
}

#[async_trait]
pub trait Backend: Send + Sync {
    fn kind(&self) -> BackendKind;

    /// Writes the answer into `out` piece by piece as it comes; a closed
    /// `out` (the learner left) does not stop it.
    async fn answer(
        &self,
        request: &Request,
        out: &mpsc::Sender<String>,
    ) -> Result<Usage, BackendError>;
}

/// The local default: the passages themselves, each with where it is.
pub struct Retrieval;

/// Markdown's active characters in a title or passage, escaped.
fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_[]()<>#!|~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The passages as a Markdown list: a caption of this lesson cites its
/// moment as `[mm:ss]` (the page makes it seek the player), another
/// lesson's moment links to that lesson at that moment.
pub fn passages_markdown(found: &[Found]) -> String {
    let mut out = String::new();
    for f in found.iter().take(4) {
        let text = escaped(&f.text);
        let line = match (f.at_secs, f.here) {
            (Some(secs), true) => format!("- [{}] {text}\n", super::prompt::clock(secs)),
            (Some(secs), false) => format!(
                "- [{} {}]({}#t={secs}) {text}\n",
                escaped(&f.title),
                super::prompt::clock(secs),
                f.lesson
            ),
            (None, _) => format!("- [{}]({}) {text}\n", escaped(&f.title), f.lesson),
        };
        out.push_str(&line);
    }
    out
}

#[async_trait]
impl Backend for Retrieval {
    fn kind(&self) -> BackendKind {
        BackendKind::Retrieval
    }

    async fn answer(
        &self,
        request: &Request,
        out: &mpsc::Sender<String>,
    ) -> Result<Usage, BackendError> {
        let _ = out.send(passages_markdown(&request.found)).await;
        Ok(Usage::default())
    }
}

/// An OpenAI-compatible chat completions API, streamed.
pub struct OpenAi {
    http: reqwest::Client,
    url: String,
    key: Option<String>,
    model: String,
    timeout: Duration,
    max_tokens: u32,
}

/// Tries before giving up on 429 and 5xx (before the first token only).
const ATTEMPTS: u32 = 3;
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);

impl OpenAi {
    pub fn new(config: &crate::config::TutorConfig, base: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("Weaverse/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            url: format!("{}/chat/completions", base.trim_end_matches('/')),
            key: config.api_key.clone(),
            model: config.model.clone(),
            timeout: config.timeout,
            max_tokens: config.max_answer_tokens,
        })
    }

    fn body(&self, request: &Request) -> serde_json::Value {
        serde_json::json!({
            "model": self.model,
            "messages": request.messages,
            "stream": true,
            "stream_options": { "include_usage": true },
            "max_tokens": self.max_tokens,
            "temperature": 0.3,
        })
    }

    /// The response to stream from, after retries on 429 and 5xx.
    async fn connect(&self, request: &Request) -> Result<reqwest::Response, BackendError> {
        let body = self.body(request);
        let mut last = String::new();
        let mut pause = Duration::ZERO;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(pause).await;
            }
            pause = backoff(attempt + 1);
            let mut call = self.http.post(&self.url).json(&body);
            if let Some(key) = &self.key {
                call = call.bearer_auth(key);
            }
            let response = match call.send().await {
                Ok(r) => r,
                Err(e) => {
                    last = format!("{e}");
                    continue;
                }
            };
            let status = response.status();
            if status.is_success() {
                return Ok(response);
            }
            if status.as_u16() == 429 || status.is_server_error() {
                last = format!("status {status}");
                if let Some(wait) = retry_after(&response) {
                    pause = wait;
                }
                continue;
            }
            return Err(BackendError::Refused(status.as_u16()));
        }
        Err(BackendError::Unavailable(last))
    }

    async fn stream(
        &self,
        request: &Request,
        out: &mpsc::Sender<String>,
    ) -> Result<Usage, BackendError> {
        let mut response = self.connect(request).await?;
        let mut lines = SseLines::default();
        let mut usage = Usage::default();
        let mut wrote = false;
        // An answer with no text in it is no answer.
        let ended = |wrote: bool, usage: Usage| {
            if wrote {
                Ok(usage)
            } else {
                Err(BackendError::Unavailable("an empty answer".into()))
            }
        };
        loop {
            let chunk = response
                .chunk()
                .await
                .map_err(|e| BackendError::Unavailable(format!("{e}")))?;
            let Some(chunk) = chunk else {
                return ended(wrote, usage);
            };
            for data in lines.push(&chunk) {
                if data == "[DONE]" {
                    return ended(wrote, usage);
                }
                match read_chunk(&data) {
                    Chunk::Text(text) => {
                        wrote = true;
                        let _ = out.send(text).await;
                    }
                    Chunk::Usage(u) => usage = u,
                    Chunk::Error(message) => return Err(BackendError::Unavailable(message)),
                    Chunk::Nothing => {}
                }
            }
        }
    }
}

#[async_trait]
impl Backend for OpenAi {
    fn kind(&self) -> BackendKind {
        BackendKind::Model
    }

    async fn answer(
        &self,
        request: &Request,
        out: &mpsc::Sender<String>,
    ) -> Result<Usage, BackendError> {
        tokio::time::timeout(self.timeout, self.stream(request, out))
            .await
            .map_err(|_| BackendError::Timeout)?
    }
}

/// The pause before try `attempt` (1, 2, ...): 0.5 s, 1 s, 2 s ...
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250 * 2u64.pow(attempt.min(4)))
}

/// `Retry-After` in seconds, capped.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let secs: f64 = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs).min(MAX_RETRY_AFTER))
}

/// The `data:` fields of a server-sent event stream, as bytes arrive.
#[derive(Default)]
pub struct SseLines {
    buffer: Vec<u8>,
}

impl SseLines {
    /// The data of each complete `data:` line in what has arrived so far.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buffer.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if let Some(data) = line.strip_prefix("data:") {
                out.push(data.trim_start().to_owned());
            }
        }
        out
    }
}

/// What one streamed chunk carries.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk {
    Text(String),
    Usage(Usage),
    Error(String),
    Nothing,
}

pub fn read_chunk(data: &str) -> Chunk {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(data) else {
        return Chunk::Nothing;
    };
    if let Some(error) = value.get("error") {
        return Chunk::Error(
            error
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or("error")
                .to_owned(),
        );
    }
    if let Some(text) = value
        .pointer("/choices/0/delta/content")
        .and_then(|c| c.as_str())
        .filter(|t| !t.is_empty())
    {
        return Chunk::Text(text.to_owned());
    }
    if let Some(usage) = value.get("usage").filter(|u| u.is_object()) {
        let count = |k: &str| {
            usage
                .get(k)
                .and_then(|v| v.as_i64())
                .and_then(|v| i32::try_from(v).ok())
        };
        return Chunk::Usage(Usage {
            prompt_tokens: count("prompt_tokens"),
            completion_tokens: count("completion_tokens"),
        });
    }
    Chunk::Nothing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_lines_are_read_across_chunk_boundaries() {
        let mut lines = SseLines::default();
        assert!(lines.push(b"data: {\"a\"").is_empty());
        assert_eq!(
            lines.push(b":1}\r\n\r\n: ping\ndata: [DONE]\n"),
            vec!["{\"a\":1}", "[DONE]"]
        );
    }

    #[test]
    fn chunks_give_text_usage_or_errors() {
        assert_eq!(
            read_chunk(r#"{"choices":[{"index":0,"delta":{"content":"변수"}}]}"#),
            Chunk::Text("변수".into())
        );
        assert_eq!(
            read_chunk(r#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3}}"#),
            Chunk::Usage(Usage {
                prompt_tokens: Some(12),
                completion_tokens: Some(3)
            })
        );
        assert_eq!(
            read_chunk(r#"{"choices":[{"delta":{"role":"assistant"}}]}"#),
            Chunk::Nothing
        );
        assert_eq!(
            read_chunk(r#"{"error":{"message":"overloaded"}}"#),
            Chunk::Error("overloaded".into())
        );
    }

    #[test]
    fn retrieval_cites_this_lessons_moments_and_links_others() {
        let found = vec![
            Found {
                lesson: "/learn/topics/a".into(),
                title: "변수".into(),
                at_secs: Some(72),
                text: "const는 *다시* 대입할 수 없습니다".into(),
                here: true,
            },
            Found {
                lesson: "/learn/topics/b".into(),
                title: "함수 [기초]".into(),
                at_secs: Some(5),
                text: "함수는 이름 붙은 코드 묶음입니다".into(),
                here: false,
            },
            Found {
                lesson: "/learn/topics/c".into(),
                title: "읽기".into(),
                at_secs: None,
                text: "<b>태그</b>".into(),
                here: false,
            },
        ];
        let md = passages_markdown(&found);
        assert!(md.contains("- [01:12] const는 \\*다시\\* 대입할"), "{md}");
        assert!(
            md.contains("- [함수 \\[기초\\] 00:05](/learn/topics/b#t=5) 함수는"),
            "{md}"
        );
        assert!(md.contains("- [읽기](/learn/topics/c) \\<b\\>태그"), "{md}");
    }
}
