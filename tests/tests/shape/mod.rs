//! What the answers of mocked operations are checked for: the key fields of the response schema
//! (billing, machines, M2M tokens, API keys and OAuth applications).
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use serde_json::Value;

/// Asserts every one of `fields` is present (null counts as present: nullable fields).
pub fn assert_fields(object: &Value, fields: &[&str]) {
    let map = object
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {object}"));
    for field in fields {
        assert!(map.contains_key(*field), "no `{field}` in {object}");
    }
}

/// Asserts `answer` is a `{<items>: [...], total_count}` page, not empty, whose items have
/// `fields`. `total_count` may be any number: Clerk types some as `number`.
pub fn assert_listed(answer: &Value, items: &str, fields: &[&str]) {
    assert!(answer["total_count"].is_number(), "{answer}");
    let list = answer[items]
        .as_array()
        .unwrap_or_else(|| panic!("no `{items}` array in {answer}"));
    assert!(!list.is_empty(), "an empty page tells nothing: {answer}");
    for item in list {
        assert_fields(item, fields);
    }
}
