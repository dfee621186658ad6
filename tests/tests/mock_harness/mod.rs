//! A harness for functions whose operations the emulator mocks from Clerk's OpenAPI spec
//! (`kosmo_tests::Harness::start` serves the stateful operations only). Shared by the test files
//! of the families that have no stateful handler.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use clerk_emulator::Emulator;
use kosmo_integrations::clerk;
use kosmo_runtime::HttpTransport;
use kosmo_tests::{
    Expect, Harness, assert_request, credentials_for, emulator_config, quick_retries,
};
use serde_json::Value;

pub struct Mocked {
    pub harness: Harness,
    pub key: String,
}

impl Mocked {
    /// An emulator that mocks what it has no handler for, or `None` (the caller skips) when
    /// Clerk's OpenAPI spec is not on this machine, unless `REQUIRE_OPENAPI` is set.
    pub async fn start() -> Option<Mocked> {
        let config = emulator_config();
        if config.openapi.is_none() {
            let path = clerk_emulator::openapi_spec_path();
            assert!(
                std::env::var_os("REQUIRE_OPENAPI").is_none(),
                "REQUIRE_OPENAPI is set, but there is no OpenAPI spec at {}",
                path.display()
            );
            eprintln!(
                "skipped: no OpenAPI spec at {} to mock from",
                path.display()
            );
            return None;
        }
        let emulator = Emulator::start(config).await.unwrap();
        let transport = HttpTransport::new(
            &clerk::meta::PROVIDER,
            &credentials_for(&emulator),
            quick_retries(),
        )
        .unwrap();
        let key = emulator.secret_key().to_string();
        Some(Mocked {
            harness: Harness {
                emulator,
                transport,
            },
            key,
        })
    }

    /// Calls `function` (one request, which must succeed), checks the request the emulator
    /// received against `expect`, and returns the answer.
    pub async fn check(&self, function: &str, args: Value, expect: Expect<'_>) -> Value {
        let (answer, request) = self.harness.call_once(function, args).await;
        assert_request(&request, &self.key, expect);
        answer
    }
}

/// Asserts `value[key]` is a string, and returns it.
pub fn string<'v>(value: &'v Value, key: &str) -> &'v str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {value}"))
}

/// Asserts `value` is a `{data, total_count}` page whose items are `object`s; returns the items.
pub fn page<'v>(value: &'v Value, object: &str) -> &'v [Value] {
    assert!(value["total_count"].is_i64(), "no total_count in {value}");
    let items = value["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data array in {value}"));
    assert!(!items.is_empty(), "an empty page tells nothing: {value}");
    for item in items {
        assert_eq!(item["object"], object, "{item}");
        string(item, "id");
    }
    items
}
