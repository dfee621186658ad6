//! What functions answer: the provider's body as received, parsed only when read.
//!
//! Handing the body on unparsed lets a host build its own representation straight from the
//! bytes (the Lua host builds Lua tables) instead of going through a `serde_json::Value` first.

use bytes::Bytes;
use serde_json::Value;

use crate::Error;

/// A successful answer from a provider.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The provider's label, for error messages.
    provider: &'static str,
    status: u16,
    content_type: Option<String>,
    body: Bytes,
}

impl Response {
    pub fn new(
        provider: &'static str,
        status: u16,
        content_type: Option<String>,
        body: impl Into<Bytes>,
    ) -> Self {
        Response {
            provider,
            status,
            content_type,
            body: body.into(),
        }
    }

    /// A `200 application/json` answer holding `value` (for transports that make answers up:
    /// tests, dry runs).
    pub fn from_value(provider: &'static str, value: &Value) -> Self {
        Response::new(
            provider,
            200,
            Some("application/json".into()),
            serde_json::to_vec(value).unwrap_or_default(),
        )
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The body as received.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Whether the body holds nothing but whitespace: such an answer reads as `{}`.
    pub fn is_empty(&self) -> bool {
        self.body.iter().all(u8::is_ascii_whitespace)
    }

    /// The body as JSON; an empty body is `{}`.
    pub fn json(&self) -> Result<Value, Error> {
        if self.is_empty() {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_slice(&self.body).map_err(|e| self.unreadable(e))
    }

    /// The error for a body that is not JSON, for readers other than [`Response::json`].
    pub fn unreadable(&self, reason: impl std::fmt::Display) -> Error {
        Error::InvalidResponse {
            provider: self.provider.to_string(),
            status: self.status,
            content_type: self.content_type.as_deref().unwrap_or("none").to_string(),
            reason: format!("the body is not JSON ({reason})"),
        }
    }
}

/// A function's answer: the provider's response, or a value made here (a response wrapped as
/// the manifest says, a dry run's description of the request).
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Response(Response),
    Value(Value),
}

impl Output {
    /// The answer as JSON.
    pub fn into_value(self) -> Result<Value, Error> {
        match self {
            Output::Response(response) => response.json(),
            Output::Value(value) => Ok(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_read_as_json_and_say_why_when_they_are_not() {
        let empty = Response::new("Acme", 200, None, " \n");
        assert_eq!(empty.json().ok(), Some(serde_json::json!({})));
        let html = Response::new("Acme", 200, Some("text/html".into()), "<html>");
        let error = html.json().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            error.starts_with(
                "Acme API returned an unreadable response (200, content type text/html): the body is not JSON"
            ),
            "{error}"
        );
        let value = serde_json::json!({"id": "w_1", "n": [1, 2]});
        assert_eq!(
            Output::Response(Response::from_value("Acme", &value))
                .into_value()
                .ok(),
            Some(value)
        );
    }
}
