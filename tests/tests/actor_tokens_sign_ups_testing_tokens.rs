//! Actor tokens, sign-ups and testing tokens end to end against the emulator, which mocks them
//! from Clerk's OpenAPI spec: the request each function sends and the fields of its answer.

use crate::mock_harness;

use kosmo_tests::{Expect, assert_request};
use mock_harness::Mocked;
use serde_json::json;

fn expect<'a>(method: &'a str, path: &'a str, body: Option<serde_json::Value>) -> Expect<'a> {
    Expect {
        method,
        path,
        query: &[],
        body,
    }
}

#[tokio::test]
async fn actor_tokens_are_created_for_a_user_and_revoked() {
    let Some(harness) = Mocked::start().await.map(|m| m.harness) else {
        return;
    };
    let key = harness.emulator.secret_key().to_string();
    let args = json!({
        "user_id": "user_2abc123",
        "actor": {"sub": "user_2def456", "reason": "ticket 4711"},
        "expires_in_seconds": 600,
        "session_max_duration_in_seconds": 900,
    });
    let (token, request) = harness.call_once("create_actor_token", args.clone()).await;
    assert_request(
        &request,
        &key,
        expect("POST", "/v1/actor_tokens", Some(args)),
    );
    assert_eq!(token["object"], "actor_token");
    assert_eq!(token["status"], "pending");
    for field in ["id", "user_id", "actor", "token", "url", "created_at"] {
        assert!(token.get(field).is_some(), "no {field}: {token}");
    }

    let (revoked, request) = harness
        .call_once(
            "revoke_actor_token",
            json!({"actor_token_id": "act_2xyz789"}),
        )
        .await;
    assert_request(
        &request,
        &key,
        expect("POST", "/v1/actor_tokens/act_2xyz789/revoke", None),
    );
    assert_eq!(revoked["object"], "actor_token");
    assert_eq!(revoked["id"], "act_2xyz789");

    harness.emulator.take_requests();
    let no_actor = harness
        .call("create_actor_token", json!({"user_id": "user_2abc123"}))
        .await
        .unwrap_err();
    assert_eq!(no_actor.kind(), "invalid_argument", "actor is required");
    assert!(harness.emulator.take_requests().is_empty());
}

#[tokio::test]
async fn sign_ups_are_read_and_updated_by_id() {
    let Some(harness) = Mocked::start().await.map(|m| m.harness) else {
        return;
    };
    let key = harness.emulator.secret_key().to_string();
    let (sign_up, request) = harness
        .call_once("get_sign_up", json!({"sign_up_id": "sua_2xyz789"}))
        .await;
    assert_request(
        &request,
        &key,
        expect("GET", "/v1/sign_ups/sua_2xyz789", None),
    );
    assert_eq!(sign_up["object"], "sign_up_attempt");
    for field in [
        "id",
        "status",
        "missing_fields",
        "verifications",
        "abandon_at",
    ] {
        assert!(sign_up.get(field).is_some(), "no {field}: {sign_up}");
    }
    // `id` is the wire name; scripts may use it too.
    let (_, request) = harness
        .call_once("get_sign_up", json!({"id": "sua_2xyz789"}))
        .await;
    assert_eq!(request.path, "/v1/sign_ups/sua_2xyz789");

    let (updated, request) = harness
        .call_once(
            "update_sign_up",
            json!({"sign_up_id": "sua_2xyz789", "external_id": "crm-42", "custom_action": true}),
        )
        .await;
    assert_request(
        &request,
        &key,
        expect(
            "PATCH",
            "/v1/sign_ups/sua_2xyz789",
            Some(json!({"external_id": "crm-42", "custom_action": true})),
        ),
    );
    assert_eq!(updated["object"], "sign_up_attempt");
    assert!(updated.get("external_id").is_some());
}

#[tokio::test]
async fn a_testing_token_comes_with_its_expiry() {
    let Some(harness) = Mocked::start().await.map(|m| m.harness) else {
        return;
    };
    let key = harness.emulator.secret_key().to_string();
    let (testing, request) = harness.call_once("create_testing_token", json!({})).await;
    assert_request(&request, &key, expect("POST", "/v1/testing_tokens", None));
    assert_eq!(testing["object"], "testing_token");
    assert!(!testing["token"].as_str().unwrap().is_empty());
    assert!(testing["expires_at"].is_i64());
}
