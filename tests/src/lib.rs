//! Test support shared by tests/tests/*.rs: a Clerk emulator with an HTTP transport pointed at
//! it, and assertions on what the emulator received.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod fixture;
pub mod soak;

use std::collections::BTreeSet;
use std::time::Duration;

use clerk_emulator::multipart::Part;
use clerk_emulator::{Config, Emulator, RecordedRequest};
use kosmo_host::{CredentialMap, Host, HttpTransports, RunOptions, RunReport};
use kosmo_integrations::clerk;
use kosmo_runtime::{Credentials, Error, HttpConfig, HttpTransport, RetryPolicy};
use serde_json::Value;

/// Retries as in production, with waits short enough for tests.
pub fn quick_retries() -> HttpConfig {
    HttpConfig {
        connect_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(40),
            max_retry_after: Duration::from_secs(2),
            budget: Duration::from_secs(10),
        },
        user_agent: kosmo_runtime::http::DEFAULT_USER_AGENT.to_string(),
        // The fault tests are about retries; pacing has tests of its own.
        pacing: kosmo_runtime::PacingConfig::off(),
    }
}

/// The emulator's settings for tests that make many calls quickly: Clerk's limits off, and
/// Clerk's OpenAPI spec when it is there (`clerk_emulator::load_openapi_spec`), so operations
/// without a stateful handler get mocked answers instead of 404s.
pub fn emulator_config() -> Config {
    let config = Config::without_limits();
    match clerk_emulator::load_openapi_spec() {
        Ok(Some(spec)) => config.with_openapi(spec),
        Ok(None) => config,
        Err(error) => panic!("{error}"),
    }
}

/// An emulator on 127.0.0.1 and the real HTTP transport configured for it.
pub struct Harness {
    pub emulator: Emulator,
    pub transport: HttpTransport,
}

impl Harness {
    pub async fn start() -> Harness {
        Self::start_with(quick_retries()).await
    }

    pub async fn start_with(config: HttpConfig) -> Harness {
        let emulator = Emulator::start(emulator_config()).await.unwrap();
        let transport =
            HttpTransport::new(&clerk::meta::PROVIDER, &credentials_for(&emulator), config)
                .unwrap();
        Harness {
            emulator,
            transport,
        }
    }

    /// Calls a function once, checks the request the emulator received against `expect`, and
    /// returns the answer.
    pub async fn check(&self, function: &str, args: Value, expect: Expect<'_>) -> Value {
        let (result, request) = self.call_once(function, args).await;
        assert_request(&request, self.emulator.secret_key(), expect);
        result
    }

    /// The status and code of the Clerk error a call fails with; panics if it does not.
    pub async fn fails(&self, function: &str, args: Value) -> (u16, String) {
        match self.call(function, args).await {
            Err(Error::Api(error)) => (error.status, error.code.unwrap_or_default()),
            other => panic!("{function} did not fail with a Clerk error: {other:?}"),
        }
    }

    /// Calls a generated function by name, as a script would.
    pub async fn call(&self, function: &str, args: Value) -> Result<Value, Error> {
        clerk::call(&self.transport, function, args).await
    }

    /// Calls a function that must succeed with exactly one request; returns the result and the
    /// request as the emulator received it.
    pub async fn call_once(&self, function: &str, args: Value) -> (Value, RecordedRequest) {
        self.emulator.take_requests();
        let result = self
            .call(function, args)
            .await
            .unwrap_or_else(|e| panic!("{function} failed: {e}"));
        let mut requests = self.emulator.take_requests();
        assert_eq!(
            requests.len(),
            1,
            "{function} sent {} requests",
            requests.len()
        );
        (result, requests.remove(0))
    }
}

/// A host with every generated integration and the Clerk account `default` on `emulator`.
pub fn host_for(emulator: &Emulator) -> Host {
    Host::builder()
        .integrations(&kosmo_integrations::INTEGRATIONS)
        .credentials(CredentialMap::new().with("clerk", "default", credentials_for(emulator)))
        .transports(HttpTransports::new(quick_retries()))
        .build()
        .unwrap()
}

/// Runs a script with `force` on: writes go without asking anyone.
pub async fn run_forced(host: &Host, code: &str) -> RunReport {
    host.run(
        code,
        RunOptions {
            force: true,
            ..RunOptions::default()
        },
    )
    .await
}

/// A harness that remembers which functions were checked, for a walk that must cover a list of
/// functions: the test compares `covered` with its list at the end.
pub struct CoverageWalk {
    pub harness: Harness,
    /// The emulator's secret key, which every request must carry.
    pub key: String,
    pub covered: BTreeSet<&'static str>,
}

impl CoverageWalk {
    pub async fn start() -> CoverageWalk {
        let harness = Harness::start().await;
        let key = harness.emulator.secret_key().to_string();
        CoverageWalk {
            harness,
            key,
            covered: BTreeSet::new(),
        }
    }

    /// [`Harness::check`], and the function counts as covered.
    pub async fn check(
        &mut self,
        function: &'static str,
        args: Value,
        expect: Expect<'_>,
    ) -> Value {
        let answer = self.harness.check(function, args, expect).await;
        self.covered.insert(function);
        answer
    }

    /// Calls a function that must succeed (a step of the walk, not checked itself).
    pub async fn call(&self, function: &str, args: Value) -> Value {
        self.harness
            .call(function, args)
            .await
            .unwrap_or_else(|e| panic!("{function} failed: {e}"))
    }

    /// [`Harness::fails`].
    pub async fn fails(&self, function: &str, args: Value) -> (u16, String) {
        self.harness.fails(function, args).await
    }
}

pub fn credentials_for(emulator: &Emulator) -> Credentials {
    Credentials::new()
        .with("secret_key", emulator.secret_key())
        .with("url", emulator.base_url())
}

/// What a request must look like on the wire.
pub struct Expect<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a [(&'a str, &'a str)],
    pub body: Option<Value>,
}

/// A GET with these query pairs, in order.
pub fn get<'a>(path: &'a str, query: &'a [(&'a str, &'a str)]) -> Expect<'a> {
    Expect {
        method: "GET",
        path,
        query,
        body: None,
    }
}

/// A request with this JSON body and no query.
pub fn with_body<'a>(method: &'a str, path: &'a str, body: Value) -> Expect<'a> {
    Expect {
        method,
        path,
        query: &[],
        body: Some(body),
    }
}

/// A request with neither query nor body.
pub fn bare<'a>(method: &'a str, path: &'a str) -> Expect<'a> {
    Expect {
        method,
        path,
        query: &[],
        body: None,
    }
}

/// Asserts method, raw path, decoded query pairs in order, JSON body and the headers every
/// request carries.
pub fn assert_request(request: &RecordedRequest, key: &str, expect: Expect<'_>) {
    assert_eq!(request.method, expect.method, "method of {}", request.path);
    assert_eq!(request.path, expect.path);
    let query: Vec<(&str, &str)> = request
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        query, expect.query,
        "query of {} {}",
        expect.method, expect.path
    );
    match expect.body {
        Some(body) => {
            assert_eq!(
                request.json.as_ref(),
                Some(&body),
                "body of {}",
                expect.path
            );
            assert_eq!(request.header("content-type"), Some("application/json"));
        }
        None => assert!(
            request.body.is_empty(),
            "{} {} sent a body: {}",
            expect.method,
            expect.path,
            String::from_utf8_lossy(&request.body)
        ),
    }
    assert_common_headers(request, key);
}

/// The headers every request carries: the key, the pinned version and the user agent.
fn assert_common_headers(request: &RecordedRequest, key: &str) {
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {key}").as_str())
    );
    assert_eq!(request.header("clerk-api-version"), Some("2026-05-12"));
    assert_eq!(
        request.header("user-agent"),
        Some(kosmo_runtime::http::DEFAULT_USER_AGENT)
    );
}

/// Asserts method, raw path, no query, a `multipart/form-data` body and the headers every
/// request carries; returns the body's parts, read by the emulator's parser.
pub fn assert_multipart_request(
    request: &RecordedRequest,
    key: &str,
    method: &str,
    path: &str,
) -> Vec<Part> {
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        (method, path)
    );
    assert!(
        request.query.is_empty(),
        "query of {path}: {:?}",
        request.query
    );
    assert_common_headers(request, key);
    multipart_parts(request)
}

/// The parts of a recorded `multipart/form-data` body.
pub fn multipart_parts(request: &RecordedRequest) -> Vec<Part> {
    let content_type = request.header("content-type").unwrap_or_default();
    clerk_emulator::multipart::parse(content_type, &request.body)
        .unwrap_or_else(|e| panic!("{} {}: {e}", request.method, request.path))
}

/// Asserts `id` is a Clerk ID: the prefix and 27 base62 characters.
pub fn assert_clerk_id(id: &Value, prefix: &str) {
    let id = id
        .as_str()
        .unwrap_or_else(|| panic!("{id} is not a string"));
    let rest = id
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{id} does not start with {prefix}"));
    assert_eq!(rest.len(), 27, "{id}");
    assert!(rest.chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
}
