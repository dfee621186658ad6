//! The API key functions end to end against the emulator, which answers them with mocks built
//! from Clerk's OpenAPI document: the exact request each sends and the answer's key fields.

use crate::mock_harness;
use crate::shape;

use kosmo_integrations::clerk;
use kosmo_runtime::Operation;
use kosmo_tests::{bare, get, with_body};
use mock_harness::{Mocked, string};
use serde_json::json;
use shape::{assert_fields, assert_listed};

const KEY_ID: &str = "ak_3beecc9c60adb5f9b850e91a8ee1e992";
const KEY: &[&str] = &[
    "object",
    "id",
    "type",
    "subject",
    "name",
    "claims",
    "scopes",
    "revoked",
    "revocation_reason",
    "expired",
    "expiration",
    "created_by",
    "last_used_at",
    "created_at",
    "updated_at",
];

#[tokio::test]
async fn create_api_key_sends_every_field_and_returns_the_secret() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let args = json!({
        "name": "CI deploy key",
        "subject": "user_2abc123",
        "description": "Used by the deploy pipeline",
        "scopes": ["deploy:write", "builds:read"],
        "claims": {"team": "platform"},
        "seconds_until_expiration": 2_592_000,
        "type": "api_key",
        "created_by": "user_2abc123",
    });
    // A whole number in a `number` parameter goes out as the caller wrote it, 2592000, not as
    // the float 2592000.0.
    let sent = args.clone();
    let key = run
        .check(
            "create_api_key",
            args,
            with_body("POST", "/v1/api_keys", sent),
        )
        .await;
    assert_fields(&key, KEY);
    assert_eq!(key["object"], "api_key");
    assert!(string(&key, "secret").starts_with("ak_"), "{key}");
}

#[tokio::test]
async fn list_api_keys_sends_the_subject_and_its_string_flag() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let page = run
        .check(
            "list_api_keys",
            json!({
                "subject": "org_2abc123",
                "query": "deploy",
                "include_invalid": "true",
                "type": "api_key",
                "limit": 20,
                "offset": 40,
            }),
            get(
                "/v1/api_keys",
                &[
                    ("subject", "org_2abc123"),
                    ("query", "deploy"),
                    ("include_invalid", "true"),
                    ("type", "api_key"),
                    ("limit", "20"),
                    ("offset", "40"),
                ],
            ),
        )
        .await;
    assert_listed(&page, "data", KEY);
    // Clerk takes `include_invalid` as the string "true" or "false", not a boolean.
    let error = run
        .harness
        .call(
            "list_api_keys",
            json!({"subject": "org_2abc123", "include_invalid": "yes"}),
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains("include_invalid"), "{error}");
}

/// Clerk types this list's `limit` and `offset` as numbers; a walk still asks for whole pages
/// (`limit=100`, not `100.0`) and refuses a page size that is not a whole number.
#[tokio::test]
async fn each_walks_the_keys_with_whole_number_pages() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let host = kosmo_tests::host_for(&run.harness.emulator);
    let mut pages = host
        .pages(
            "clerk",
            "list_api_keys",
            json!({"subject": "user_2abc123"}),
            kosmo_host::CallOptions::default(),
        )
        .unwrap();
    run.harness.emulator.take_requests();
    let page = pages.next_page().await.unwrap().unwrap();
    for key in &page {
        assert_fields(key, KEY);
    }
    let requests = run.harness.emulator.take_requests();
    let query: Vec<(&str, &str)> = requests[0]
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        query,
        [
            ("subject", "user_2abc123"),
            ("limit", "100"),
            ("offset", "0")
        ]
    );

    let refused = host
        .pages(
            "clerk",
            "list_api_keys",
            json!({"subject": "user_2abc123", "limit": 2.5}),
            kosmo_host::CallOptions::default(),
        )
        .err()
        .unwrap();
    assert_eq!(
        refused.to_string(),
        "list_api_keys: limit must be a whole number of at least 0."
    );
}

#[tokio::test]
async fn a_key_is_read_updated_revoked_and_deleted_by_id() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let path = format!("/v1/api_keys/{KEY_ID}");
    let key = run
        .check(
            "get_api_key",
            json!({"api_key_id": KEY_ID}),
            get(&path, &[]),
        )
        .await;
    assert_fields(&key, KEY);
    assert_eq!(key["id"], KEY_ID);
    assert!(key.get("secret").is_none(), "{key}");

    let updated = run
        .check(
            "update_api_key",
            json!({
                "api_key_id": KEY_ID,
                "scopes": ["builds:read"],
                "claims": {"team": "release"},
                "description": "Read-only since the pipeline moved",
                "subject": "org_2abc123",
                "seconds_until_expiration": 604_800,
            }),
            with_body(
                "PATCH",
                &path,
                json!({
                    "scopes": ["builds:read"],
                    "claims": {"team": "release"},
                    "description": "Read-only since the pipeline moved",
                    "subject": "org_2abc123",
                    "seconds_until_expiration": 604_800,
                }),
            ),
        )
        .await;
    assert_fields(&updated, KEY);
    assert_eq!(updated["id"], KEY_ID);

    let revoked = run
        .check(
            "revoke_api_key",
            json!({"api_key_id": KEY_ID, "revocation_reason": "Leaked in a build log"}),
            with_body(
                "POST",
                &format!("{path}/revoke"),
                json!({"revocation_reason": "Leaked in a build log"}),
            ),
        )
        .await;
    assert_fields(&revoked, KEY);
    assert_eq!(revoked["id"], KEY_ID);

    let deleted = run
        .check(
            "delete_api_key",
            json!({"api_key_id": KEY_ID}),
            bare("DELETE", &path),
        )
        .await;
    assert_eq!(
        deleted,
        json!({"object": "api_key", "id": KEY_ID, "deleted": true})
    );
}

#[tokio::test]
async fn the_secret_is_read_by_id_and_verified_by_a_read() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let secret = run
        .check(
            "get_api_key_secret",
            json!({"api_key_id": KEY_ID}),
            get(&format!("/v1/api_keys/{KEY_ID}/secret"), &[]),
        )
        .await;
    assert!(!string(&secret, "secret").is_empty());

    let key = run
        .check(
            "verify_api_key",
            json!({"secret": "ak_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"}),
            with_body(
                "POST",
                "/v1/api_keys/verify",
                json!({"secret": "ak_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"}),
            ),
        )
        .await;
    assert_fields(&key, KEY);
    let meta = clerk::meta::PROVIDER.function("verify_api_key").unwrap();
    assert_eq!(meta.operation, Operation::Read);
}
