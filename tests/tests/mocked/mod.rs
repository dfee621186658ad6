//! Shared by the end-to-end tests of functions whose operations the emulator answers with mocks
//! built from Clerk's OpenAPI document (billing, machines, M2M tokens, API keys, OAuth
//! applications): a harness whose emulator has that document, and one checked call.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use kosmo_tests::{Expect, Harness, assert_request};
use serde_json::Value;

/// A harness whose emulator mocks every operation without a stateful handler. `None`, and the
/// test is skipped, when Clerk's OpenAPI document is not there (it is not part of the
/// repository), unless `REQUIRE_OPENAPI` is set: then its absence fails the test.
pub async fn harness() -> Option<Harness> {
    let path = clerk_emulator::openapi_spec_path();
    if clerk_emulator::load_openapi_spec().unwrap().is_none() {
        assert!(
            std::env::var_os("REQUIRE_OPENAPI").is_none(),
            "REQUIRE_OPENAPI is set but there is no spec at {}",
            path.display()
        );
        println!("skipped: no OpenAPI spec at {}", path.display());
        return None;
    }
    Some(Harness::start().await)
}

/// Calls `function` once, asserts the request the emulator received, and returns the answer.
pub async fn check(harness: &Harness, function: &str, args: Value, expect: Expect<'_>) -> Value {
    let (answer, request) = harness.call_once(function, args).await;
    assert_request(&request, harness.emulator.secret_key(), expect);
    answer
}

pub fn get<'a>(path: &'a str, query: &'a [(&'a str, &'a str)]) -> Expect<'a> {
    Expect {
        method: "GET",
        path,
        query,
        body: None,
    }
}

pub fn with_body<'a>(method: &'a str, path: &'a str, body: Value) -> Expect<'a> {
    Expect {
        method,
        path,
        query: &[],
        body: Some(body),
    }
}

pub fn bare<'a>(method: &'a str, path: &'a str, query: &'a [(&'a str, &'a str)]) -> Expect<'a> {
    Expect {
        method,
        path,
        query,
        body: None,
    }
}

/// The answer's string field `key`, which must be there.
pub fn text<'a>(answer: &'a Value, key: &str) -> &'a str {
    answer[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string `{key}` in {answer}"))
}

/// Asserts `answer` is a `{<items>: [...], total_count}` page whose items have `fields`.
pub fn assert_page(answer: &Value, items: &str, fields: &[&str]) {
    assert!(answer["total_count"].is_number(), "{answer}");
    let list = answer[items]
        .as_array()
        .unwrap_or_else(|| panic!("no `{items}` array in {answer}"));
    assert!(!list.is_empty(), "{answer}");
    for item in list {
        assert_fields(item, fields);
    }
}

/// Asserts every one of `fields` is present (null counts as present: nullable fields).
pub fn assert_fields(object: &Value, fields: &[&str]) {
    let map = object
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {object}"));
    for field in fields {
        assert!(map.contains_key(*field), "no `{field}` in {object}");
    }
}
