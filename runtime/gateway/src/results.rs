//! Answers and failures as MCP tool results.

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Map, Value};

/// A call's answer: its text (a string as is, anything else as pretty JSON), cut at
/// `max_chars` characters, and the whole value as `structuredContent`, which MCP wants to be
/// an object (anything else goes under `value`).
pub(crate) fn success(value: Value, max_chars: usize) -> CallToolResult {
    let text = match &value {
        Value::String(text) => text.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    };
    let mut result = CallToolResult::success(vec![ContentBlock::text(truncate(text, max_chars))]);
    result.structured_content = Some(match value {
        object @ Value::Object(_) => object,
        other => {
            let mut wrapper = Map::new();
            wrapper.insert("value".into(), other);
            Value::Object(wrapper)
        }
    });
    result
}

/// A failed call: `isError`, the message as text, and `{"error": fields}` as
/// `structuredContent`.
pub(crate) fn failure(message: String, fields: Map<String, Value>) -> CallToolResult {
    let mut result = CallToolResult::error(vec![ContentBlock::text(message)]);
    let mut wrapper = Map::new();
    wrapper.insert("error".into(), Value::Object(fields));
    result.structured_content = Some(Value::Object(wrapper));
    result
}

/// The fields of a failure the gateway itself reports (it has no `kosmo_runtime::Error`).
pub(crate) fn fields(kind: &str, message: &str, extra: &[(&str, Value)]) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("kind".into(), kind.into());
    fields.insert("message".into(), message.into());
    fields.insert("text".into(), message.into());
    for (name, value) in extra {
        fields.insert((*name).into(), value.clone());
    }
    fields
}

/// `text` cut after `max_chars` characters, with a line saying how much was left out.
pub(crate) fn truncate(mut text: String, max_chars: usize) -> String {
    // Most answers are short: bytes bound characters, so nothing needs counting.
    if text.len() <= max_chars {
        return text;
    }
    let Some((cut, _)) = text.char_indices().nth(max_chars) else {
        return text;
    };
    let total = max_chars + text[cut..].chars().count();
    text.truncate(cut);
    text.push_str(&format!(
        "\n[truncated by kosmo MCP gateway: {max_chars} of {total} characters]"
    ));
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn short_text_is_kept_and_long_text_cut_on_a_character_boundary() {
        assert_eq!(truncate("abc".into(), 3), "abc");
        assert_eq!(truncate("ééé".into(), 3), "ééé");
        assert_eq!(
            truncate("ééééé".into(), 2),
            "éé\n[truncated by kosmo MCP gateway: 2 of 5 characters]"
        );
    }

    #[test]
    fn structured_content_is_always_an_object() {
        let object = success(json!({"id": "w1"}), 1_000);
        assert_eq!(object.structured_content, Some(json!({"id": "w1"})));
        assert_eq!(object.is_error, Some(false));
        let list = success(json!([1, 2]), 1_000);
        assert_eq!(list.structured_content, Some(json!({"value": [1, 2]})));
        assert_eq!(list.content[0].as_text().unwrap().text, "[\n  1,\n  2\n]");
        let text = success(json!("plain text"), 1_000);
        assert_eq!(text.content[0].as_text().unwrap().text, "plain text");
        assert_eq!(
            text.structured_content,
            Some(json!({"value": "plain text"}))
        );
    }

    #[test]
    fn failures_carry_the_error_fields() {
        let result = failure(
            "nope".into(),
            fields("write_denied", "nope", &[("function", json!("f"))]),
        );
        assert_eq!(result.is_error, Some(true));
        assert_eq!(
            result.structured_content,
            Some(
                json!({"error": {"kind": "write_denied", "message": "nope", "text": "nope", "function": "f"}})
            )
        );
    }
}
