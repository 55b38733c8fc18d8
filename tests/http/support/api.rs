//! A program's view of the JSON API: a client with no cookies that checks
//! every answer against the OpenAPI document the app serves (the contract
//! test): its status must be one the operation lists (or `default`), its
//! content type one listed for that status, and its body must fit the
//! schema. Every `/api` call in the tests goes through here, so the
//! document and the code cannot drift apart.

use reqwest::{Client, Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};

use super::TestApp;

pub struct ApiClient {
    base: String,
    client: Client,
    doc: Value,
    token: Option<String>,
}

/// One answer, read whole; `body` is `Null` when there is none.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The pointers of a problem's refused fields.
    pub fn pointers(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["pointer"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl ApiClient {
    /// A client of `app`'s API, without a token; it reads the OpenAPI
    /// document first.
    pub async fn new(app: &TestApp) -> Self {
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = client
            .get(format!("{}/api/openapi.json", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let doc: Value = response.json().await.unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        Self {
            base: app.base.clone(),
            client,
            doc,
            token: None,
        }
    }

    /// The same client sending `token`.
    pub fn with_token(&self, token: &str) -> Self {
        Self {
            base: self.base.clone(),
            client: self.client.clone(),
            doc: self.doc.clone(),
            token: Some(token.to_owned()),
        }
    }

    /// Every operation the document lists: its method and path template.
    pub fn operations(&self) -> Vec<(Method, String)> {
        let mut operations = Vec::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                operations.push((method, path.clone()));
            }
        }
        operations
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, &[], None).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.send(Method::PATCH, path, &[], Some(body)).await
    }

    /// Any request; `headers` go on top (a cookie, `If-None-Match`, an
    /// `Origin`, another content type with a raw body in `body`'s string).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .header("accept-encoding", "gzip");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let raw_type = headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request = match body {
            Some(Value::String(raw)) if raw_type => request.body(raw),
            Some(body) => request.json(&body),
            None => request,
        };
        self.read(&method, path, request.send().await.unwrap())
            .await
    }

    /// A file as the request's body (an upload), with its content type.
    pub async fn upload(&self, path: &str, content_type: &str, bytes: Vec<u8>) -> Answer {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(bytes);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        self.read(&Method::POST, path, request.send().await.unwrap())
            .await
    }

    /// The answer read whole (gunzipped) and checked against the document.
    async fn read(&self, method: &Method, path: &str, response: reqwest::Response) -> Answer {
        let method = method.clone();
        let status = response.status();
        let headers = response.headers().clone();
        let mut bytes = response.bytes().await.unwrap().to_vec();
        if headers.get("content-encoding").is_some_and(|c| c == "gzip") {
            use std::io::Read;
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut plain)
                .unwrap();
            bytes = plain;
        }
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|err| {
                panic!(
                    "{method} {path}: {status} is not JSON ({err}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        let answer = Answer {
            status,
            headers,
            body,
        };
        if method != Method::OPTIONS {
            self.check(&method, path, &answer);
        }
        answer
    }

    /// The contract: `answer` is one the document allows for this call.
    fn check(&self, method: &Method, path: &str, answer: &Answer) {
        if let Err(broken) = self.fits(method, path, answer) {
            panic!("{broken}\n{:#}", answer.body);
        }
    }

    /// Whether `answer` is one the document allows for `method path`, and
    /// if not, why.
    pub fn fits(&self, method: &Method, path: &str, answer: &Answer) -> Result<(), String> {
        let path = path.split('?').next().unwrap_or(path);
        let call = format!("{method} {path} -> {}", answer.status);
        let paths = self.doc["paths"].as_object().unwrap();
        let problem = json!({ "$ref": "#/components/schemas/Problem" });
        let Some((_, item)) = paths.iter().find(|(template, _)| matches(template, path)) else {
            // Only a refusal may come from an address the API does not have.
            if answer.status != StatusCode::NOT_FOUND {
                return Err(format!("{call}: the document has no such path"));
            }
            return self.fits_body(&call, &problem, PROBLEM, answer);
        };
        let operation = &item[method.as_str().to_ascii_lowercase()];
        if operation.is_null() {
            if answer.status != StatusCode::METHOD_NOT_ALLOWED {
                return Err(format!("{call}: the document has no such operation"));
            }
            return self.fits_body(&call, &problem, PROBLEM, answer);
        }
        let responses = &operation["responses"];
        let documented = match &responses[answer.status.as_str()] {
            Value::Null => &responses["default"],
            listed => listed,
        };
        if !documented.is_object() {
            return Err(format!("{call}: the document lists no such status"));
        }
        let content_type = media_type(answer);
        match documented["content"].as_object() {
            None if answer.body.is_null() => Ok(()),
            None => Err(format!("{call}: the document says no body")),
            Some(content) => match content.get(content_type) {
                Some(media) => self.fits_body(&call, &media["schema"], content_type, answer),
                None => Err(format!("{call}: {content_type:?} is not documented for it")),
            },
        }
    }

    fn fits_body(
        &self,
        call: &str,
        schema: &Value,
        content_type: &str,
        answer: &Answer,
    ) -> Result<(), String> {
        if media_type(answer) != content_type {
            return Err(format!(
                "{call}: {:?}, not {content_type}",
                media_type(answer)
            ));
        }
        let mut root = schema.as_object().cloned().unwrap_or_default();
        root.insert(
            "$schema".into(),
            "https://json-schema.org/draft/2020-12/schema".into(),
        );
        root.insert("components".into(), self.doc["components"].clone());
        let validator = jsonschema::validator_for(&Value::Object(root))
            .map_err(|err| format!("{call}: the document's schema does not compile: {err}"))?;
        let problems: Vec<String> = validator
            .iter_errors(&answer.body)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        match problems.is_empty() {
            true => Ok(()),
            false => Err(format!(
                "{call}: the body does not fit the document: {problems:#?}"
            )),
        }
    }
}

const PROBLEM: &str = "application/problem+json";

/// The answer's media type, without parameters.
fn media_type(answer: &Answer) -> &str {
    answer
        .header("content-type")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
}

/// Whether `path` is an address of the OpenAPI path `template`
/// (`/api/v1/courses/{id}`).
fn matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}
