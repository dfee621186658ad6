//! The one error type every generated function returns.

use serde_json::{Map, Value};

/// A failure of an integration call. Its `Display` is what a script sees as the error message.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller passed arguments the manifest does not allow; nothing was sent.
    #[error("{function}: {parameter} {reason}")]
    InvalidArgument {
        function: String,
        parameter: String,
        reason: String,
    },
    /// No function answers to this name.
    #[error("Unknown function: {namespace}.{name}.{suggestion}")]
    UnknownFunction {
        namespace: String,
        name: String,
        /// Either empty or ` Did you mean: a, b`.
        suggestion: String,
    },
    /// The provider answered with an error status.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The request could not be sent or its response could not be read.
    #[error("Failed to connect to {provider} API: {message}")]
    Transport { provider: String, message: String },
    #[error("{provider} API request timed out after {seconds} s")]
    Timeout { provider: String, seconds: f64 },
    /// A success status whose body cannot be read as JSON.
    #[error(
        "{provider} API returned an unreadable response ({status}, content type {content_type}): {reason}"
    )]
    InvalidResponse {
        provider: String,
        status: u16,
        content_type: String,
        reason: String,
    },
    /// Pacing found no room under the provider's declared limits within the longest wait
    /// allowed; nothing was sent.
    #[error(
        "{provider} rate limit ({limit}) has no room for another {retry_after} s, beyond the {max_wait} s a call may wait for it; nothing was sent. Retry after {retry_after} s."
    )]
    RateLimited {
        provider: String,
        /// The limit, described: `user updates: 10 requests per 10 s for each resource`.
        limit: String,
        /// Seconds until there is room.
        retry_after: u64,
        /// The longest a call waits, in seconds.
        max_wait: f64,
    },
    /// Credentials or settings are missing or unusable.
    #[error("{0}")]
    Config(String),
}

/// An error response from the provider, with everything it told us. Boxed inside [`Error`]
/// so that `Result<_, Error>` stays small.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{provider} API error ({status}): {message}{detail}{earlier}",
    detail = api_detail(long_message.as_deref(), message),
    earlier = earlier_detail(earlier_attempt.as_deref())
)]
pub struct ApiError {
    pub provider: String,
    pub status: u16,
    pub code: Option<String>,
    pub message: String,
    pub long_message: Option<String>,
    pub meta: Option<Value>,
    pub trace_id: Option<String>,
    /// Seconds the provider asked us to wait (429, some 503s).
    pub retry_after: Option<u64>,
    /// The raw response body.
    pub body: String,
    /// When this answer came to a retry: what befell an earlier attempt that may have been
    /// applied (`a 500 answer`, `a connection that failed after the request was sent`). A
    /// DELETE retried after its first attempt was applied gets a 404, which this explains.
    pub earlier_attempt: Option<String>,
}

fn earlier_detail(earlier_attempt: Option<&str>) -> String {
    match earlier_attempt {
        Some(what) => format!(
            ". This answered a retry: an earlier attempt ended in {what} and may have been applied, which this answer can reflect."
        ),
        None => String::new(),
    }
}

fn api_detail(long_message: Option<&str>, message: &str) -> String {
    match long_message {
        Some(long) if !long.is_empty() && long != message => format!(" ({long})"),
        _ => String::new(),
    }
}

impl Error {
    /// This error, as the answer to a retry after an attempt that may have been applied
    /// (see [`ApiError::earlier_attempt`]). Only API errors carry it: they are the answers
    /// such an attempt can explain.
    pub fn after(self, earlier_attempt: Option<String>) -> Self {
        match (self, earlier_attempt) {
            (Error::Api(mut api), Some(earlier)) => {
                api.earlier_attempt = Some(earlier);
                Error::Api(api)
            }
            (error, _) => error,
        }
    }

    pub fn invalid(function: &str, parameter: &str, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            function: function.to_string(),
            parameter: parameter.to_string(),
            reason: reason.into(),
        }
    }

    /// What kind of failure this is, as scripts and the MCP gateway name it: `api`,
    /// `invalid_argument`, `unknown_function`, `transport`, `timeout`, `invalid_response`,
    /// `rate_limited` or `config`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Api(_) => "api",
            Error::InvalidArgument { .. } => "invalid_argument",
            Error::UnknownFunction { .. } => "unknown_function",
            Error::Transport { .. } => "transport",
            Error::Timeout { .. } => "timeout",
            Error::InvalidResponse { .. } => "invalid_response",
            Error::RateLimited { .. } => "rate_limited",
            Error::Config(_) => "config",
        }
    }

    /// The error as JSON fields, with the names and values a script's error object has
    /// (`kosmo_host`'s `error_value`): `kind`, `message` (the provider's own for API errors,
    /// else the full text), `text` (the full text), then only what applies: `status`, `code`,
    /// `long_message`, `meta`, `trace_id`, `retry_after`, `earlier_attempt`, `limit`,
    /// `function`, `parameter`, `provider`.
    pub fn fields(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        let text = self.to_string();
        fields.insert("kind".into(), self.kind().into());
        let message = match self {
            Error::Api(api) => api.message.clone(),
            _ => text.clone(),
        };
        fields.insert("message".into(), message.into());
        fields.insert("text".into(), text.into());
        let mut put = |name: &str, value: Option<Value>| {
            if let Some(value) = value {
                fields.insert(name.into(), value);
            }
        };
        match self {
            Error::Api(api) => {
                put("status", Some(api.status.into()));
                put("code", api.code.clone().map(Value::from));
                put("long_message", api.long_message.clone().map(Value::from));
                put("meta", api.meta.clone());
                put("trace_id", api.trace_id.clone().map(Value::from));
                put("retry_after", api.retry_after.map(Value::from));
                put(
                    "earlier_attempt",
                    api.earlier_attempt.clone().map(Value::from),
                );
                put("provider", Some(api.provider.clone().into()));
            }
            Error::InvalidArgument {
                function,
                parameter,
                ..
            } => {
                put("function", Some(function.clone().into()));
                put("parameter", Some(parameter.clone().into()));
            }
            Error::UnknownFunction { name, .. } => put("function", Some(name.clone().into())),
            Error::Transport { provider, .. } | Error::Timeout { provider, .. } => {
                put("provider", Some(provider.clone().into()));
            }
            Error::InvalidResponse {
                provider, status, ..
            } => {
                put("status", Some((*status).into()));
                put("provider", Some(provider.clone().into()));
            }
            Error::RateLimited {
                provider,
                limit,
                retry_after,
                ..
            } => {
                put("retry_after", Some((*retry_after).into()));
                put("limit", Some(limit.clone().into()));
                put("provider", Some(provider.clone().into()));
            }
            Error::Config(_) => {}
        }
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_keeps_the_original_prefix_and_adds_the_long_message() {
        let error = Error::Api(Box::new(ApiError {
            provider: "Acme".into(),
            status: 404,
            code: Some("resource_not_found".into()),
            message: "not found".into(),
            long_message: Some("No user was found with id user_1".into()),
            meta: None,
            trace_id: None,
            retry_after: None,
            body: String::new(),
            earlier_attempt: None,
        }));
        assert_eq!(
            error.to_string(),
            "Acme API error (404): not found (No user was found with id user_1)"
        );
    }

    #[test]
    fn fields_keep_only_what_applies() {
        let error = Error::Api(Box::new(ApiError {
            provider: "Acme".into(),
            status: 429,
            code: Some("too_many_requests".into()),
            message: "slow down".into(),
            long_message: None,
            meta: None,
            trace_id: Some("t-1".into()),
            retry_after: Some(7),
            body: String::new(),
            earlier_attempt: None,
        }));
        assert_eq!(
            Value::Object(error.fields()),
            serde_json::json!({
                "kind": "api",
                "message": "slow down",
                "text": "Acme API error (429): slow down",
                "status": 429,
                "code": "too_many_requests",
                "trace_id": "t-1",
                "retry_after": 7,
                "provider": "Acme",
            })
        );
        let invalid = Error::invalid("get_user", "id", "is required.");
        assert_eq!(
            Value::Object(invalid.fields()),
            serde_json::json!({
                "kind": "invalid_argument",
                "message": "get_user: id is required.",
                "text": "get_user: id is required.",
                "function": "get_user",
                "parameter": "id",
            })
        );
    }

    #[test]
    fn invalid_argument_names_function_and_parameter() {
        let error = Error::invalid("get_user", "id", "is required.");
        assert_eq!(error.to_string(), "get_user: id is required.");
    }
}
