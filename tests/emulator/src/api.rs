//! The `/v1` API: authentication, version and body checks, Clerk's error body, and routing.

use std::time::Instant;

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};

use crate::handlers::Params;
use crate::mock::{BodyShape, MockBody};
use crate::multipart::{self, Part};
use crate::routes::Resolved;
use crate::{Inner, RecordedRequest, SUPPORTED_API_VERSIONS, Shared};

/// The first version whose PATCH user and organization bodies no longer take metadata.
const METADATA_LEAVES_PATCH: &str = "2026-05-12";

/// A Clerk error: one entry of `errors[]` plus the HTTP status. Boxed so `Result`s stay small.
#[derive(Debug)]
pub(crate) struct ApiError(Box<ErrorDetail>);

#[derive(Debug)]
pub(crate) struct ErrorDetail {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub long_message: String,
    pub meta: Option<Value>,
    pub retry_after: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: &str, long_message: String) -> ApiError {
        ApiError(Box::new(ErrorDetail {
            status,
            code,
            message: message.to_string(),
            long_message,
            meta: None,
            retry_after: None,
        }))
    }

    pub fn with_param(mut self, param: &str) -> ApiError {
        self.0.meta = Some(json!({ "param_name": param }));
        self
    }

    /// 404 `resource_not_found`, for example "No user was found with id user_x".
    pub fn not_found(kind: &str, id: &str) -> ApiError {
        ApiError::new(
            404,
            "resource_not_found",
            "not found",
            format!("No {kind} was found with id {id}"),
        )
    }

    pub fn unknown_param(param: &str) -> ApiError {
        ApiError::new(
            422,
            "form_param_unknown",
            "is unknown",
            format!("{param} is not a valid parameter for this request."),
        )
        .with_param(param)
    }

    pub fn missing_param(param: &str) -> ApiError {
        ApiError::new(
            422,
            "form_param_missing",
            "missing data",
            format!("{param} must be included."),
        )
        .with_param(param)
    }

    pub fn format_invalid(param: &str, long_message: String) -> ApiError {
        ApiError::new(422, "form_param_format_invalid", "is invalid", long_message)
            .with_param(param)
    }

    pub fn value_invalid(param: &str, value: &str) -> ApiError {
        ApiError::new(
            422,
            "form_param_value_invalid",
            "is invalid",
            format!("{value} does not match one of the allowed values for parameter {param}"),
        )
        .with_param(param)
    }

    pub fn identifier_exists(param: &str, what: &str) -> ApiError {
        ApiError::new(
            422,
            "form_identifier_exists",
            &format!("That {what} is taken. Please try another."),
            format!("That {what} is taken. Please try another."),
        )
        .with_param(param)
    }

    pub fn malformed_query(param: &str, expected: &str) -> ApiError {
        ApiError::new(
            400,
            "malformed_request_parameters",
            "malformed request parameters",
            format!("The query parameter {param} must be {expected}."),
        )
        .with_param(param)
    }

    pub fn too_many_requests(retry_after: Option<String>) -> ApiError {
        let mut error = ApiError::new(
            429,
            "too_many_requests",
            "Too many requests",
            "Too many requests, retry later".to_string(),
        );
        error.0.retry_after = retry_after;
        error
    }

    pub fn internal(status: u16) -> ApiError {
        ApiError::new(
            status,
            "internal_clerk_error",
            "Oops, an unexpected error occurred",
            "There was an internal error on our servers. We've been notified and are working on fixing it.".to_string(),
        )
    }
}

/// A finished answer, ready for the wire.
pub(crate) struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl ApiResponse {
    pub fn json(status: u16, value: &Value, trace_id: String) -> ApiResponse {
        ApiResponse {
            status,
            headers: vec![
                ("content-type", "application/json".to_string()),
                ("clerk-trace-id", trace_id),
            ],
            body: serde_json::to_vec(value).unwrap_or_default(),
        }
    }

    /// A status without a body (a mocked 204 or 202).
    pub fn empty(status: u16, trace_id: String) -> ApiResponse {
        ApiResponse {
            status,
            headers: vec![("clerk-trace-id", trace_id)],
            body: Vec::new(),
        }
    }

    pub fn error(error: ApiError, trace_id: String) -> ApiResponse {
        let error = *error.0;
        let mut entry = json!({
            "message": error.message,
            "long_message": error.long_message,
            "code": error.code,
        });
        if let (Some(meta), Some(map)) = (error.meta, entry.as_object_mut()) {
            map.insert("meta".into(), meta);
        }
        let body = json!({ "errors": [entry], "meta": {}, "clerk_trace_id": trace_id });
        let mut response = ApiResponse::json(error.status, &body, trace_id);
        if let Some(retry_after) = error.retry_after {
            response.headers.push(("retry-after", retry_after));
        }
        response
    }
}

/// The Clerk error body for a fault (429 or 5xx), with a fresh trace id.
pub(crate) fn fault_response(shared: &Shared, error: ApiError) -> ApiResponse {
    let trace_id = shared.lock().store.trace_id();
    ApiResponse::error(error, trace_id)
}

/// A successful answer: the status and the JSON body, if any.
struct Reply {
    status: u16,
    body: Option<Value>,
}

/// Handles one `/v1` request against the state. A route no stateful handler serves but the
/// OpenAPI document has is answered as a mock, with the same checks first (limits, key,
/// version, body); every answer on such a route carries `X-Emulator-Mock: true`.
pub(crate) fn process(shared: &Shared, request: &RecordedRequest) -> ApiResponse {
    let segments = segments(&request.path);
    let resolved = match &segments {
        Some(segments) => {
            let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
            shared.router.resolve(&request.method, &segments)
        }
        None => Resolved::Unknown,
    };
    let mocked = matches!(resolved, Resolved::Mocked { .. });
    let mut inner = shared.lock();
    let outcome = respond(
        &mut inner,
        &shared.secret_key,
        request,
        segments.as_deref(),
        resolved,
    );
    let trace_id = inner.store.trace_id();
    drop(inner);
    let mut response = match outcome {
        Ok(Reply {
            status,
            body: Some(value),
        }) => ApiResponse::json(status, &value, trace_id),
        Ok(Reply { status, body: None }) => ApiResponse::empty(status, trace_id),
        Err(error) => ApiResponse::error(error, trace_id),
    };
    if mocked {
        response
            .headers
            .push(("x-emulator-mock", "true".to_string()));
    }
    response
}

fn respond(
    inner: &mut Inner,
    secret_key: &str,
    request: &RecordedRequest,
    segments: Option<&[String]>,
    resolved: Resolved<'_>,
) -> Result<Reply, ApiError> {
    check_rate_limits(inner, request)?;
    check_clerk_limits(inner, request, segments)?;
    let public = matches!(&resolved, Resolved::Mocked { mock, .. } if !mock.requires_key());
    if !public {
        authenticate(secret_key, request)?;
    }
    let version = api_version(request)?;
    match resolved {
        Resolved::Stateful { route, params } => {
            let (body, files, items) = if route.array_body {
                (Map::new(), Vec::new(), array_body(request)?)
            } else {
                let (body, files) = stateful_body(request)?;
                (body, files, Vec::new())
            };
            let context = Context {
                query: Query(&request.query),
                body,
                files,
                items,
                legacy_metadata_allowed: version.is_none_or(|v| v < METADATA_LEAVES_PATCH),
            };
            let value = (route.handler)(&mut inner.store, &context, &Params(&params))?;
            Ok(Reply {
                status: 200,
                body: Some(value),
            })
        }
        Resolved::Mocked { mock, params } => {
            let body = mock_body(request, mock.body_shape())?;
            mock.check(&params, Query(&request.query), &body)?;
            let (status, body) = mock.answer(&params);
            Ok(Reply { status, body })
        }
        Resolved::Unknown => {
            // As before mocks existed: a bad body is reported ahead of the unknown route.
            parse_body(request)?;
            Err(unknown_route(&request.path))
        }
    }
}

fn check_rate_limits(inner: &mut Inner, request: &RecordedRequest) -> Result<(), ApiError> {
    let now = Instant::now();
    let mut blocked = None;
    for state in inner.rate_limits.iter_mut() {
        if state.matches(&request.method, &request.path)
            && let Some(seconds) = state.check(now)
        {
            blocked = blocked.max(Some(seconds));
        }
    }
    match blocked {
        Some(seconds) => {
            inner.refusals.rate_limit += 1;
            Err(ApiError::too_many_requests(Some(seconds.to_string())))
        }
        None => Ok(()),
    }
}

/// Clerk's own limits; a refused request is counted in none of them and changes nothing.
fn check_clerk_limits(
    inner: &mut Inner,
    request: &RecordedRequest,
    segments: Option<&[String]>,
) -> Result<(), ApiError> {
    let Inner {
        limiter,
        store,
        refusals,
        ..
    } = inner;
    match limiter.check(&request.method, segments, store, Instant::now()) {
        Ok(()) => Ok(()),
        Err(refusal) => {
            refusals.count_clerk(&refusal.limits);
            Err(ApiError::too_many_requests(Some(
                refusal.retry_after.to_string(),
            )))
        }
    }
}

fn authenticate(secret_key: &str, request: &RecordedRequest) -> Result<(), ApiError> {
    let format_invalid = || {
        ApiError::new(
            401,
            "authorization_header_format_invalid",
            "Invalid Authorization header format",
            "Invalid Authorization header format. Must be 'Bearer <YOUR_API_KEY>'".to_string(),
        )
    };
    let header = request.header("authorization").ok_or_else(format_invalid)?;
    let token = header
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|token| !token.is_empty() && !token.contains(' '))
        .ok_or_else(format_invalid)?;
    if token != secret_key {
        return Err(ApiError::new(
            401,
            "clerk_key_invalid",
            "Secret Key invalid",
            "The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.".to_string(),
        ));
    }
    Ok(())
}

fn api_version(request: &RecordedRequest) -> Result<Option<&str>, ApiError> {
    let invalid = |reason: String| {
        ApiError::new(
            400,
            "api_version_invalid",
            "Invalid Clerk API version",
            format!("Invalid Clerk API version: {reason}"),
        )
    };
    let header = request.header("clerk-api-version");
    let query = request
        .query
        .iter()
        .find(|(key, _)| key == "__clerk_api_version")
        .map(|(_, value)| value.as_str());
    let version = match (header, query) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "send the version either in the Clerk-API-Version header or in the __clerk_api_version query parameter, not both".to_string(),
            ));
        }
        (Some(version), None) | (None, Some(version)) => version,
        (None, None) => return Ok(None),
    };
    if SUPPORTED_API_VERSIONS.contains(&version) {
        Ok(Some(version))
    } else {
        Err(invalid(format!(
            "{version} is not a supported version ({})",
            SUPPORTED_API_VERSIONS.join(", ")
        )))
    }
}

/// The content type's essence, lower-cased: `application/json` of `Application/JSON; charset=utf-8`.
fn content_type_essence(request: &RecordedRequest) -> String {
    let content_type = request.header("content-type").unwrap_or("");
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn unsupported_content_type(request: &RecordedRequest, wanted: &str) -> ApiError {
    let content_type = request.header("content-type").unwrap_or("");
    ApiError::new(
        415,
        "unsupported_content_type",
        "Unsupported content type",
        format!("Content-Type {content_type:?} is not supported; request bodies must be {wanted}."),
    )
}

fn body_invalid(detail: String) -> ApiError {
    ApiError::new(
        400,
        "request_body_invalid",
        "Request body invalid",
        format!("The request body is invalid: {detail}"),
    )
}

/// The JSON body, `None` when there is none (or the method takes none).
fn json_body(request: &RecordedRequest) -> Result<Option<Value>, ApiError> {
    if request.method == "GET" || request.method == "HEAD" || request.body.is_empty() {
        return Ok(None);
    }
    if content_type_essence(request) != "application/json" {
        return Err(unsupported_content_type(request, "application/json"));
    }
    serde_json::from_slice::<Value>(&request.body)
        .map(Some)
        .map_err(|error| body_invalid(error.to_string()))
}

fn parse_body(request: &RecordedRequest) -> Result<Map<String, Value>, ApiError> {
    match json_body(request)? {
        None => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(body_invalid("expected a JSON object".to_string())),
    }
}

/// The body of a stateful request: a JSON object, or the text fields and files of a
/// `multipart/form-data` body (the uploads), read by the emulator's own parser.
fn stateful_body(request: &RecordedRequest) -> Result<(Map<String, Value>, Vec<Part>), ApiError> {
    let content_type = request.header("content-type").unwrap_or("");
    if request.body.is_empty() || !multipart::is_form_data(content_type) {
        return parse_body(request).map(|body| (body, Vec::new()));
    }
    let parts = multipart::parse(content_type, &request.body).map_err(body_invalid)?;
    let mut fields = Map::new();
    let mut files = Vec::new();
    for part in parts {
        if part.is_file() {
            files.push(part);
        } else {
            let text = part
                .text()
                .ok_or_else(|| body_invalid(format!("the field {} is not UTF-8", part.name)))?;
            fields.insert(part.name.clone(), Value::String(text.to_string()));
        }
    }
    Ok((fields, files))
}

/// The items of a JSON array body, which a bulk route requires.
fn array_body(request: &RecordedRequest) -> Result<Vec<Value>, ApiError> {
    match json_body(request)? {
        Some(Value::Array(items)) => Ok(items),
        _ => Err(body_invalid("expected a JSON array".to_string())),
    }
}

/// The body of a mocked request, read as its operation takes it: a JSON object (the usual), a
/// JSON array (the bulk operations) or form fields.
fn mock_body(request: &RecordedRequest, shape: Option<&BodyShape>) -> Result<MockBody, ApiError> {
    match shape {
        Some(BodyShape::Json {
            array: true,
            required,
            ..
        }) => match json_body(request)? {
            Some(Value::Array(items)) => Ok(MockBody::Array(items)),
            None if !required => Ok(MockBody::Array(Vec::new())),
            _ => Err(body_invalid("expected a JSON array".to_string())),
        },
        Some(BodyShape::Multipart { .. }) => form_fields(request).map(MockBody::FormFields),
        Some(BodyShape::Json { .. }) | None => parse_body(request).map(MockBody::Object),
    }
}

/// The field names of a `multipart/form-data` (or URL-encoded form) body; only the names are
/// checked, so the parts are not decoded.
fn form_fields(request: &RecordedRequest) -> Result<Vec<String>, ApiError> {
    if request.body.is_empty() {
        return Ok(Vec::new());
    }
    match content_type_essence(request).as_str() {
        "multipart/form-data" => Ok(String::from_utf8_lossy(&request.body)
            .lines()
            .filter(|line| {
                line.to_ascii_lowercase()
                    .starts_with("content-disposition:")
            })
            .filter_map(|line| {
                line.split(';').find_map(|part| {
                    let value = part.trim().strip_prefix("name=")?;
                    Some(value.trim_matches('"').to_string())
                })
            })
            .collect()),
        "application/x-www-form-urlencoded" => Ok(form_urlencoded::parse(&request.body)
            .map(|(name, _)| name.into_owned())
            .collect()),
        _ => Err(unsupported_content_type(request, "multipart/form-data")),
    }
}

/// The decoded path segments after `/v1`; `None` outside `/v1`.
fn segments(path: &str) -> Option<Vec<String>> {
    let rest = path.strip_prefix("/v1")?;
    if rest.is_empty() {
        return Some(Vec::new());
    }
    let rest = rest.strip_prefix('/')?;
    // Split before decoding: an encoded `/` stays inside its segment.
    Some(
        rest.split('/')
            .map(|segment| percent_decode_str(segment).decode_utf8_lossy().into_owned())
            .collect(),
    )
}

fn unknown_route(path: &str) -> ApiError {
    ApiError::new(
        404,
        "resource_not_found",
        "not found",
        format!("The requested resource {path} was not found"),
    )
}

pub(crate) struct Context<'a> {
    pub query: Query<'a>,
    pub body: Map<String, Value>,
    /// The files of a multipart body.
    pub files: Vec<Part>,
    /// The items of a JSON array body, for a route declared to take one; otherwise empty.
    pub items: Vec<Value>,
    /// Versions before 2026-05-12 still take metadata in PATCH user and organization bodies.
    pub legacy_metadata_allowed: bool,
}

/// The decoded query pairs of a request.
#[derive(Clone, Copy)]
pub(crate) struct Query<'a>(pub &'a [(String, String)]);

impl<'a> Query<'a> {
    pub fn all(&self, key: &str) -> Vec<&'a str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn one(&self, key: &str) -> Option<&'a str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A non-empty string value.
    pub fn text(&self, key: &str) -> Option<String> {
        self.one(key).filter(|v| !v.is_empty()).map(str::to_string)
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.one(key) {
            None | Some("") => Ok(None),
            Some(value) => value
                .parse()
                .map(Some)
                .map_err(|_| ApiError::malformed_query(key, "an integer")),
        }
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.one(key) {
            None | Some("") => Ok(None),
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some(_) => Err(ApiError::malformed_query(key, "true or false")),
        }
    }

    /// `limit` (default 10, 1..=500) and `offset` (default 0, at least 0).
    pub fn page(&self) -> Result<(usize, usize), ApiError> {
        let limit = self.int("limit")?.unwrap_or(10);
        if !(1..=500).contains(&limit) {
            return Err(ApiError::format_invalid(
                "limit",
                "limit must be an integer between 1 and 500.".to_string(),
            ));
        }
        let offset = self.int("offset")?.unwrap_or(0);
        if offset < 0 {
            return Err(ApiError::format_invalid(
                "offset",
                "offset must be an integer greater than or equal to 0.".to_string(),
            ));
        }
        Ok((
            usize::try_from(limit).unwrap_or(10),
            usize::try_from(offset).unwrap_or(0),
        ))
    }

    /// `order_by` as (field, descending), checked against the fields an endpoint sorts by.
    pub fn order_by(
        &self,
        default: &'static str,
        allowed: &[&str],
    ) -> Result<(String, bool), ApiError> {
        let raw = self
            .one("order_by")
            .filter(|v| !v.is_empty())
            .unwrap_or(default);
        // An unencoded `+` arrives as a space.
        let (field, descending) = match raw.as_bytes().first() {
            Some(b'-') => (&raw[1..], true),
            Some(b'+' | b' ') => (&raw[1..], false),
            _ => (raw, false),
        };
        if allowed.contains(&field) {
            Ok((field.to_string(), descending))
        } else {
            Err(ApiError::value_invalid("order_by", raw))
        }
    }
}
