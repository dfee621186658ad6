//! The real [`Transport`]: HTTPS with reqwest and rustls, retries that never repeat an effect,
//! and provider errors kept whole.
//!
//! Retry rules, and why:
//! - **429** is retried for every method: a rate-limited request was refused before it was
//!   handled. The wait is the provider's `Retry-After` (seconds or an HTTP date) when it sends
//!   one; a wait longer than [`RetryPolicy::max_retry_after`] or past the time budget is not
//!   waited out, and the 429 is returned with its `retry_after`.
//! - **5xx, timeouts and connections that fail after the request was sent** are retried only
//!   for GET, PUT and DELETE, the idempotent methods a manifest can use: sending
//!   them twice has the effect of sending them once. A POST or PATCH may already have been
//!   applied, so it is never sent twice.
//! - **Connections that could not be opened** are retried for every method: nothing was sent.
//! - Waits grow exponentially with jitter; attempts and total time are bounded.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{
    AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT,
};
use reqwest::{StatusCode, Url};
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::credentials::{BASE_URL_CREDENTIAL, Credentials};
use crate::error::ApiError;
use crate::meta::ProviderMeta;
use crate::pacing::{Pacer, PacingConfig};
use crate::{ApiRequest, BodyFormat, Error, Method, Response, Transport, TransportFuture};

/// `User-Agent` sent unless [`HttpConfig::user_agent`] says otherwise.
pub const DEFAULT_USER_AGENT: &str = concat!("kosmo-runtime/", env!("CARGO_PKG_VERSION"));

/// How long to wait, and how often to try.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Time to open a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Time for one attempt, from sending to the last byte of the response.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub user_agent: String,
    /// Waiting for room under the provider's declared rate limits (on by default).
    pub pacing: PacingConfig,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            user_agent: DEFAULT_USER_AGENT.to_string(),
            pacing: PacingConfig::default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included. 1 disables retries.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled for each later one.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Longest `Retry-After` that is waited out.
    pub max_retry_after: Duration,
    /// Time from the first attempt after which no new attempt starts.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
            budget: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait before retry number `retry` (1-based): exponential, with the upper half
    /// jittered so that many clients do not retry in step.
    fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        let ceiling = self
            .initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff);
        let half = ceiling / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// Sends [`ApiRequest`]s to one provider's base URL with one credential set.
/// Cloning is cheap and shares the connection pool.
#[derive(Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    provider: &'static ProviderMeta,
    base_url: String,
    /// `base_url`, parsed once: every request's URL starts from it.
    base: Url,
    /// Prepared `Authorization` header, marked sensitive so that no debug output shows it.
    authorization: HeaderValue,
    config: HttpConfig,
    /// Shared with every transport that sends with the same key; `None` when not paced.
    pacer: Option<Arc<Pacer>>,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("provider", &self.provider.name)
            .field("base_url", &self.base_url)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl HttpTransport {
    /// Checks the credentials (before any request is possible) and prepares a client with a
    /// pacer of its own (see [`HttpTransport::with_pacer`] to share one).
    pub fn new(
        provider: &'static ProviderMeta,
        credentials: &Credentials,
        config: HttpConfig,
    ) -> Result<Self, Error> {
        let pacer = Pacer::new(provider, credentials, &config.pacing)?.map(Arc::new);
        Self::with_pacer(provider, credentials, config, pacer)
    }

    /// Like [`HttpTransport::new`], pacing with `pacer` (from [`crate::Pacers`], so that every
    /// transport with the same key shares one budget), or not at all.
    pub fn with_pacer(
        provider: &'static ProviderMeta,
        credentials: &Credentials,
        config: HttpConfig,
        pacer: Option<Arc<Pacer>>,
    ) -> Result<Self, Error> {
        credentials.check(provider)?;
        let base_url = resolve_base_url(
            provider,
            credentials.plain(provider, BASE_URL_CREDENTIAL).as_deref(),
        )?;
        let secret = credentials.get(provider.bearer_credential).ok_or_else(|| {
            Error::Config(format!(
                "{} integration is not configured. The credential `{}` is missing.",
                provider.label, provider.bearer_credential
            ))
        })?;
        let mut authorization =
            HeaderValue::from_str(&format!("Bearer {}", secret.expose_secret())).map_err(|_| {
                Error::Config(format!(
                    "{} credential `{}` contains characters a header cannot carry.",
                    provider.label, provider.bearer_credential
                ))
            })?;
        authorization.set_sensitive(true);

        let mut headers = HeaderMap::new();
        if let Some((name, value)) = provider.version_header {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| {
                Error::Config(format!("{} version header name: {e}", provider.label))
            })?;
            let value = HeaderValue::from_str(value)
                .map_err(|e| Error::Config(format!("version header value: {e}")))?;
            headers.insert(name, value);
        }
        let user_agent = HeaderValue::from_str(&config.user_agent)
            .map_err(|e| Error::Config(format!("user agent: {e}")))?;
        headers.insert(USER_AGENT, user_agent);

        let client = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            // The key must only ever reach the configured base URL.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        let base = Url::parse(&base_url).map_err(|e| Error::Config(format!("base URL: {e}")))?;
        Ok(HttpTransport {
            client,
            provider,
            base_url,
            base,
            authorization,
            config,
            pacer,
        })
    }

    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// The pacer this transport waits on, if it is paced.
    pub fn pacer(&self) -> Option<&Arc<Pacer>> {
        self.pacer.as_ref()
    }

    /// The full URL for a request; refuses anything that would leave the base URL.
    fn url(&self, request: &ApiRequest) -> Result<Url, Error> {
        // The path is percent-encoded by the request builder; only the path of the base URL
        // changes, so the request cannot reach another origin.
        let mut url = self.base.clone();
        let base_path = self.base.path().trim_end_matches('/');
        url.set_path(&format!("{base_path}{}", request.path));
        if url.origin() != self.base.origin() || !url.path().starts_with(self.base.path()) {
            return Err(Error::invalid(
                request.function,
                "path",
                "leads outside the base URL.",
            ));
        }
        if !request.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&request.query);
        }
        Ok(url)
    }

    async fn send_with_retries(&self, request: ApiRequest) -> Result<Response, Error> {
        let url = self.url(&request)?;
        let body = prepare_body(&request)?;
        let policy = &self.config.retry;
        let mut started = None;
        let mut attempt = 0u32;
        // The first failed attempt that may have been applied, described: a retry's answer
        // (a DELETE's 404, say) can be its effect, and the error says so.
        let mut maybe_applied: Option<String> = None;
        loop {
            attempt += 1;
            if let Some(pacer) = &self.pacer {
                pacer.admit(request.method, &request.path).await?;
            }
            // The retry budget runs from the first attempt, not from the wait before it.
            let started = *started.get_or_insert_with(Instant::now);
            let outcome = self.attempt(&request, &url, &body).await;
            let retry = match &outcome {
                Ok(_) => None,
                Err(failure) => failure.retry_wait(request.method, attempt, policy),
            };
            if let (Err(failure), Some(pacer)) = (&outcome, &self.pacer)
                && let FailureKind::RateLimited(seconds) = failure.kind
            {
                pacer.rate_limited(
                    request.method,
                    &request.path,
                    seconds.map(Duration::from_secs),
                );
            }
            let Some(wait) = retry else {
                return outcome.map_err(|failure| failure.error.after(maybe_applied));
            };
            let out_of_budget = started.elapsed() + wait >= policy.budget;
            if attempt >= policy.max_attempts || out_of_budget {
                return outcome.map_err(|failure| failure.error.after(maybe_applied));
            }
            if let Err(failure) = &outcome
                && maybe_applied.is_none()
            {
                maybe_applied = failure.may_have_applied();
            }
            // A paced 429 waits in the pacer, which now holds the whole limit back.
            let wait = match (&outcome, &self.pacer) {
                (Err(failure), Some(_))
                    if matches!(failure.kind, FailureKind::RateLimited(Some(_))) =>
                {
                    Duration::ZERO
                }
                _ => wait,
            };
            tracing::warn!(
                provider = self.provider.name,
                function = request.function,
                method = request.method.as_str(),
                path = %request.path,
                attempt,
                wait_ms = wait.as_millis() as u64,
                "retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(
        &self,
        request: &ApiRequest,
        url: &Url,
        body: &PreparedBody,
    ) -> Result<Response, AttemptFailure> {
        let mut builder = self
            .client
            .request(reqwest_method(request.method), url.clone())
            .header(AUTHORIZATION, self.authorization.clone());
        match body {
            PreparedBody::None => {}
            PreparedBody::Json(bytes) => {
                builder = builder
                    .header(CONTENT_TYPE, BodyFormat::Json.media_type())
                    .body(bytes.clone());
            }
            // A multipart body is a stream, which a sent request consumes: it is built anew
            // for every attempt, from the fields and the files' shared bytes.
            PreparedBody::Multipart(fields) => {
                let form = multipart_form(request, fields).map_err(|error| AttemptFailure {
                    kind: FailureKind::Final,
                    error,
                })?;
                builder = builder.multipart(form);
            }
        }
        let started = Instant::now();
        let response = match builder.send().await {
            Ok(response) => response,
            Err(e) => return Err(self.transport_failure(&e, !e.is_connect())),
        };
        let status = response.status();
        // A success needs only its content type; an error its headers (trace ID, Retry-After).
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let error_headers = (!status.is_success()).then(|| response.headers().clone());
        let bytes = match response.bytes().await {
            Ok(bytes) => bytes,
            Err(e) => return Err(self.transport_failure(&e, true)),
        };
        tracing::debug!(
            provider = self.provider.name,
            function = request.function,
            method = request.method.as_str(),
            path = %request.path,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "response"
        );
        let Some(headers) = error_headers else {
            if answers_with_content(status) && bytes.iter().all(u8::is_ascii_whitespace) {
                // A 200 or 201 of a JSON API always carries its object: an empty one is a broken
                // answer (a proxy, a crash mid-write), not `{}`. It may have been applied.
                return Err(AttemptFailure {
                    kind: FailureKind::MaybeApplied,
                    error: Error::InvalidResponse {
                        provider: self.provider.label.to_string(),
                        status: status.as_u16(),
                        content_type: content_type.unwrap_or_else(|| "none".into()),
                        reason: "the body is empty, where this status carries the answer; the request may have been applied".into(),
                    },
                });
            }
            // Parsed by whoever reads it: the Lua host builds tables straight from the bytes.
            return Ok(Response::new(
                self.provider.label,
                status.as_u16(),
                content_type,
                bytes,
            ));
        };
        let error = parse_api_error(self.provider, status, &headers, &bytes);
        Err(AttemptFailure {
            kind: if status == StatusCode::TOO_MANY_REQUESTS {
                FailureKind::RateLimited(error.retry_after)
            } else if status.is_server_error() {
                FailureKind::ServerError
            } else {
                FailureKind::Final
            },
            error: Error::Api(Box::new(error)),
        })
    }

    /// `sent`: whether the request may have reached the server.
    fn transport_failure(&self, error: &reqwest::Error, sent: bool) -> AttemptFailure {
        let provider = self.provider.label.to_string();
        let error = if error.is_timeout() {
            Error::Timeout {
                provider,
                seconds: self.config.timeout.as_secs_f64(),
            }
        } else {
            Error::Transport {
                provider,
                message: describe(error),
            }
        };
        AttemptFailure {
            kind: if sent {
                FailureKind::MaybeApplied
            } else {
                FailureKind::NotSent
            },
            error,
        }
    }
}

impl Transport for HttpTransport {
    fn send(&self, request: ApiRequest) -> TransportFuture<'_> {
        Box::pin(self.send_with_retries(request))
    }

    fn base_url(&self) -> Option<&str> {
        Some(&self.base_url)
    }
}

/// A request's body, encoded once for all its attempts.
enum PreparedBody {
    None,
    /// The JSON text (shared, so each attempt sends it without a copy).
    Json(bytes::Bytes),
    /// The text fields; the files stay in the request.
    Multipart(Vec<(String, String)>),
}

fn prepare_body(request: &ApiRequest) -> Result<PreparedBody, Error> {
    match request.format {
        BodyFormat::Multipart => Ok(PreparedBody::Multipart(request.text_fields())),
        BodyFormat::Json | BodyFormat::JsonArray => match request.json_body() {
            Some(body) => serde_json::to_vec(&body)
                .map(|bytes| PreparedBody::Json(bytes.into()))
                .map_err(|e| Error::invalid(request.function, "body", e.to_string())),
            None => Ok(PreparedBody::None),
        },
    }
}

/// The multipart form of a request: its text fields, then its files, each with its filename
/// and content type. Names are sent as given (UTF-8), not percent-encoded: servers read
/// `filename="…"` literally, and file arguments cannot hold quotes or control characters.
fn multipart_form(
    request: &ApiRequest,
    fields: &[(String, String)],
) -> Result<reqwest::multipart::Form, Error> {
    let mut form = reqwest::multipart::Form::new().percent_encode_noop();
    for (name, value) in fields {
        form = form.text(name.clone(), value.clone());
    }
    for (name, file) in &request.files {
        let part = reqwest::multipart::Part::stream_with_length(
            reqwest::Body::from(file.content.clone()),
            file.content.len() as u64,
        )
        .file_name(file.filename.clone())
        .mime_str(&file.content_type)
        .map_err(|e| {
            Error::invalid(
                request.function,
                name,
                format!(
                    "has content type {:?}, which cannot be sent: {e}",
                    file.content_type
                ),
            )
        })?;
        form = form.part(name.clone(), part);
    }
    Ok(form)
}

/// The base URL: the override when given (a URL with no path gets the default's path, as
/// providers' SDKs commonly do with `/v1`), else the provider's default. No trailing slash.
pub fn resolve_base_url(provider: &ProviderMeta, custom: Option<&str>) -> Result<String, Error> {
    let default = Url::parse(provider.base_url)
        .map_err(|e| Error::Config(format!("{} default base URL: {e}", provider.label)))?;
    let Some(custom) = custom else {
        return Ok(provider.base_url.trim_end_matches('/').to_string());
    };
    let bad = |why: &str| {
        Error::Config(format!(
            "{} credential `{BASE_URL_CREDENTIAL}` ({custom}) {why}",
            provider.label
        ))
    };
    let mut url = Url::parse(custom).map_err(|e| bad(&format!("is not a valid URL: {e}.")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must be an http or https URL."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not contain a user name or password."));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not contain a query or a fragment."));
    }
    if url.path() == "/" || url.path().is_empty() {
        url.set_path(default.path());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// One failed attempt and whether another may follow.
struct AttemptFailure {
    kind: FailureKind,
    error: Error,
}

enum FailureKind {
    /// 429: refused before being handled; the provider's wait, if it gave one.
    RateLimited(Option<u64>),
    ServerError,
    /// The connection failed after the request may have been sent.
    MaybeApplied,
    /// The connection could not be opened; nothing was sent.
    NotSent,
    /// Not worth repeating: client errors.
    Final,
}

impl AttemptFailure {
    /// What befell this attempt, if it may have been applied: a 5xx, or a connection that
    /// failed once the request was sent.
    fn may_have_applied(&self) -> Option<String> {
        match (&self.kind, &self.error) {
            (FailureKind::ServerError, Error::Api(api)) => Some(format!("a {} answer", api.status)),
            (FailureKind::ServerError, _) => Some("a server error".to_string()),
            (FailureKind::MaybeApplied, Error::InvalidResponse { status, .. }) => {
                Some(format!("an empty {status} answer"))
            }
            (FailureKind::MaybeApplied, Error::Timeout { .. }) => {
                Some("a timeout after the request was sent".to_string())
            }
            (FailureKind::MaybeApplied, _) => {
                Some("a connection that failed after the request was sent".to_string())
            }
            _ => None,
        }
    }

    /// How long to wait before trying again, or `None` if this must not be retried.
    fn retry_wait(&self, method: Method, attempt: u32, policy: &RetryPolicy) -> Option<Duration> {
        let backoff = policy.backoff(attempt);
        match self.kind {
            FailureKind::RateLimited(Some(0)) => Some(backoff),
            FailureKind::RateLimited(Some(seconds)) => {
                let wait = Duration::from_secs(seconds);
                (wait <= policy.max_retry_after).then_some(wait)
            }
            FailureKind::RateLimited(None) | FailureKind::NotSent => Some(backoff),
            FailureKind::ServerError | FailureKind::MaybeApplied => {
                is_idempotent(method).then_some(backoff)
            }
            FailureKind::Final => None,
        }
    }
}

/// Success statuses whose answer is in the body: all but 202 Accepted, 204 No Content and 205
/// Reset Content, which providers send without one.
fn answers_with_content(status: StatusCode) -> bool {
    status.is_success() && !matches!(status.as_u16(), 202 | 204 | 205)
}

/// Methods whose repetition has the effect of one request (RFC 9110, section 9.2.2).
pub fn is_idempotent(method: Method) -> bool {
    matches!(method, Method::Get | Method::Put | Method::Delete)
}

fn reqwest_method(method: Method) -> reqwest::Method {
    match method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
    }
}

/// A transport error's message with its causes, which reqwest keeps in the source chain.
/// (The URL it names is ours; the key is never part of a URL.)
fn describe(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Everything an error response says, read where the provider's manifest says it is: the
/// message, code, long message and meta (JSON Pointers into the body), the trace ID (body or
/// header) and the retry delay header. A body that is not in the declared shape becomes the
/// message as it is.
pub fn parse_api_error(
    provider: &ProviderMeta,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiError {
    let raw = String::from_utf8_lossy(body).into_owned();
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let format = &provider.errors;
    let find = |pointers: &[&str]| -> Option<&Value> {
        let json = json.as_ref()?;
        pointers
            .iter()
            .filter_map(|pointer| json.pointer(pointer))
            .find(|value| !value.is_null())
    };
    let text = |pointers: &[&str]| -> Option<String> {
        find(pointers).map(|value| match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let message = text(format.message)
        .or_else(|| {
            let trimmed = raw.trim();
            (!trimmed.is_empty()).then(|| truncate(trimmed, 500))
        })
        .unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("no response body")
                .to_string()
        });
    ApiError {
        provider: provider.label.to_string(),
        status: status.as_u16(),
        code: text(format.code),
        message,
        long_message: text(format.long_message),
        meta: find(format.meta).cloned(),
        trace_id: text(format.trace_id)
            .or_else(|| format.trace_id_headers.iter().find_map(|name| header(name))),
        retry_after: header(provider.retry_after_header)
            .and_then(|v| parse_retry_after(&v, SystemTime::now())),
        body: raw,
        earlier_attempt: None,
    }
}

/// `Retry-After` as whole seconds from `now`: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(now)
            .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
            .unwrap_or(0),
    )
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("7", now), Some(7));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(parse_retry_after(&later, now), Some(90));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(90));
        assert_eq!(parse_retry_after(&earlier, now), Some(0));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_grows_and_stays_bounded() {
        let policy = RetryPolicy::default();
        for retry in 1..=10 {
            let ceiling = policy
                .initial_backoff
                .saturating_mul(2u32.saturating_pow(retry - 1))
                .min(policy.max_backoff);
            let wait = policy.backoff(retry);
            assert!(wait >= ceiling / 2 && wait <= ceiling, "{retry}: {wait:?}");
        }
    }

    #[test]
    fn only_idempotent_methods_are_retried_after_a_server_error() {
        let policy = RetryPolicy::default();
        let failure = |kind| AttemptFailure {
            kind,
            error: Error::Config(String::new()),
        };
        for method in [Method::Get, Method::Put, Method::Delete] {
            assert!(
                failure(FailureKind::ServerError)
                    .retry_wait(method, 1, &policy)
                    .is_some()
            );
            assert!(
                failure(FailureKind::MaybeApplied)
                    .retry_wait(method, 1, &policy)
                    .is_some()
            );
        }
        for method in [Method::Post, Method::Patch] {
            assert!(
                failure(FailureKind::ServerError)
                    .retry_wait(method, 1, &policy)
                    .is_none()
            );
            assert!(
                failure(FailureKind::MaybeApplied)
                    .retry_wait(method, 1, &policy)
                    .is_none()
            );
            assert!(
                failure(FailureKind::NotSent)
                    .retry_wait(method, 1, &policy)
                    .is_some()
            );
            assert!(
                failure(FailureKind::RateLimited(Some(1)))
                    .retry_wait(method, 1, &policy)
                    .is_some()
            );
        }
        assert!(
            failure(FailureKind::RateLimited(Some(3600)))
                .retry_wait(Method::Get, 1, &policy)
                .is_none(),
            "a wait beyond max_retry_after is returned to the caller, not slept through"
        );
    }

    /// A provider that declares its error shape and headers, as a manifest would.
    const ACME: ProviderMeta = ProviderMeta {
        name: "acme",
        label: "Acme",
        description: "",
        category: "",
        docs_url: "",
        base_url: "https://api.acme.test/v1",
        version_header: None,
        bearer_credential: "token",
        credentials: &[],
        errors: crate::meta::ErrorFormat {
            message: &["/errors/0/message", "/error"],
            code: &["/errors/0/code"],
            long_message: &["/errors/0/long_message"],
            meta: &["/errors/0/meta"],
            trace_id: &["/trace"],
            trace_id_headers: &["Acme-Trace"],
        },
        retry_after_header: "Retry-After",
        rate_limits: crate::meta::RateLimits::NONE,
        families: &[],
        functions: &[],
    };
    static PROVIDER: ProviderMeta = ACME;

    #[test]
    fn error_bodies_are_read_where_the_manifest_says() {
        let mut headers = HeaderMap::new();
        headers.insert("acme-trace", HeaderValue::from_static("trace_from_header"));
        headers.insert("retry-after", HeaderValue::from_static("3"));
        let body = br#"{"errors":[{"message":"not found","long_message":"No user was found with id user_1","code":"resource_not_found","meta":{"param_name":"user_id"}}],"meta":{}}"#;
        let error = parse_api_error(&PROVIDER, StatusCode::NOT_FOUND, &headers, body);
        assert_eq!(error.provider, "Acme");
        assert_eq!(error.message, "not found");
        assert_eq!(error.code.as_deref(), Some("resource_not_found"));
        assert_eq!(
            error.long_message.as_deref(),
            Some("No user was found with id user_1")
        );
        assert_eq!(
            error.meta,
            Some(serde_json::json!({"param_name": "user_id"}))
        );
        assert_eq!(error.trace_id.as_deref(), Some("trace_from_header"));
        assert_eq!(error.retry_after, Some(3));
        assert_eq!(error.body, String::from_utf8_lossy(body));

        // The second pointer is tried when the first finds nothing; the body's trace wins.
        let other = parse_api_error(
            &PROVIDER,
            StatusCode::BAD_REQUEST,
            &headers,
            br#"{"error":"bad input","trace":"trace_from_body"}"#,
        );
        assert_eq!(other.message, "bad input");
        assert_eq!(other.code, None);
        assert_eq!(other.trace_id.as_deref(), Some("trace_from_body"));

        let html = parse_api_error(
            &PROVIDER,
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
            b"<html>bad gateway</html>",
        );
        assert_eq!(html.message, "<html>bad gateway</html>");
        assert_eq!(html.code, None);
        let empty = parse_api_error(
            &PROVIDER,
            StatusCode::SERVICE_UNAVAILABLE,
            &HeaderMap::new(),
            b"",
        );
        assert_eq!(empty.message, "Service Unavailable");
    }

    #[test]
    fn only_the_declared_retry_header_is_read() {
        static OTHER: ProviderMeta = ProviderMeta {
            retry_after_header: "X-Wait-Seconds",
            errors: crate::meta::ErrorFormat::NONE,
            ..ACME
        };
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3"));
        headers.insert("x-wait-seconds", HeaderValue::from_static("9"));
        let error = parse_api_error(&OTHER, StatusCode::TOO_MANY_REQUESTS, &headers, b"{}");
        assert_eq!(error.retry_after, Some(9));
        assert_eq!(error.message, "{}");
    }
}
