//! A small HTTP client for the emulator's tests.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::sync::Arc;

use clerk_emulator::{Config, Document, Emulator, Stats};
use serde_json::Value;

/// Clerk's OpenAPI spec, when it is there (see `clerk_emulator::openapi_spec_path`). Tests that
/// need it are skipped without it, unless `REQUIRE_OPENAPI` is set: then its absence fails them.
pub fn load_spec() -> Option<Arc<Document>> {
    let path = clerk_emulator::openapi_spec_path();
    match clerk_emulator::load_openapi_spec() {
        Ok(Some(spec)) => Some(spec),
        Ok(None) => {
            assert!(
                std::env::var_os("REQUIRE_OPENAPI").is_none(),
                "REQUIRE_OPENAPI is set but there is no spec at {}",
                path.display()
            );
            println!("skipped: spec not found at {}", path.display());
            None
        }
        Err(error) => panic!("{error}"),
    }
}

pub struct Api {
    pub emulator: Emulator,
    pub client: reqwest::Client,
}

/// A response as the tests look at it.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The `code` of the first Clerk error.
    pub fn code(&self) -> &str {
        self.body["errors"][0]["code"].as_str().unwrap_or("")
    }

    pub fn param(&self) -> &str {
        self.body["errors"][0]["meta"]["param_name"]
            .as_str()
            .unwrap_or("")
    }
}

impl Api {
    /// Without Clerk's rate limits: the suites make many calls; `tests/limits.rs` turns them on.
    pub async fn start() -> Api {
        Api::start_with(Config::without_limits()).await
    }

    pub async fn start_with(config: Config) -> Api {
        Api {
            emulator: Emulator::start(config).await.unwrap(),
            client: reqwest::Client::new(),
        }
    }

    /// Requests received and 429s sent, as the emulator counted them.
    pub fn stats(&self) -> Stats {
        self.emulator.stats()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emulator.base_url())
    }

    /// A request with the key and the pinned version, as the integration sends it.
    pub fn request(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        self.client
            .request(method, self.url(path))
            .header(
                "authorization",
                format!("Bearer {}", self.emulator.secret_key()),
            )
            .header("clerk-api-version", "2026-05-12")
    }

    pub async fn send(&self, builder: reqwest::RequestBuilder) -> Answer {
        let response = builder.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let mut builder = self.request(method, path);
        if let Some(body) = body {
            builder = builder
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&body).unwrap());
        }
        self.send(builder).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call("POST", path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.call("PATCH", path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call("DELETE", path, None).await
    }

    /// A `multipart/form-data` request: text fields, then files as `(name, filename,
    /// content type, bytes)`. The body is written here, byte by byte, so the emulator's parser
    /// is tested on its own.
    pub async fn upload(
        &self,
        method: &str,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, Option<&str>, &[u8])],
    ) -> Answer {
        let (content_type, body) = multipart_body(fields, files);
        let builder = self
            .request(method, path)
            .header("content-type", content_type)
            .body(body);
        self.send(builder).await
    }

    /// Expects a 200 and returns the body.
    pub async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let answer = self.call(method, path, body).await;
        assert_eq!(answer.status, 200, "{method} {path}: {}", answer.body);
        answer.body
    }

    pub async fn user(&self, email: &str) -> Value {
        self.ok(
            "POST",
            "/users",
            Some(serde_json::json!({ "email_address": [email] })),
        )
        .await
    }

    pub async fn organization(&self, name: &str, created_by: Option<&str>) -> Value {
        let mut body = serde_json::json!({ "name": name });
        if let Some(user) = created_by {
            body["created_by"] = Value::from(user);
        }
        self.ok("POST", "/organizations", Some(body)).await
    }
}

/// A Clerk ID: the prefix and exactly 27 base62 characters.
pub fn assert_clerk_id(value: &Value, prefix: &str) {
    let id = value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"));
    let rest = id
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{id} does not start with {prefix}"));
    assert_eq!(rest.len(), 27, "{id}");
    assert!(rest.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
}

/// A timestamp in Unix milliseconds (after 2020, before 2100).
pub fn assert_millis(value: &Value) {
    let ms = value
        .as_i64()
        .unwrap_or_else(|| panic!("not an integer: {value}"));
    assert!((1_577_836_800_000..4_102_444_800_000).contains(&ms), "{ms}");
}

pub fn ids(list: &Value) -> Vec<String> {
    let items = list
        .as_array()
        .or_else(|| list["data"].as_array())
        .unwrap_or_else(|| panic!("not a list: {list}"));
    items
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_string())
        .collect()
}

/// The boundary [`multipart_body`] uses.
pub const BOUNDARY: &str = "----emulator-test-boundary-7MA4YWxkTrZu0gW";

/// A `multipart/form-data` body and its `Content-Type`.
pub fn multipart_body(
    fields: &[(&str, &str)],
    files: &[(&str, &str, Option<&str>, &[u8])],
) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, filename, content_type, data) in files {
        body.extend(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n")
                .as_bytes(),
        );
        if let Some(content_type) = content_type {
            body.extend(format!("Content-Type: {content_type}\r\n").as_bytes());
        }
        body.extend(b"\r\n");
        body.extend(*data);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// A 1x1 transparent PNG (68 bytes).
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x00, 0x02, 0x00,
    0x00, 0x05, 0x00, 0x01, 0x7a, 0x5e, 0xab, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];
