//! The machine-to-machine token functions end to end against the emulator, which answers them
//! with mocks built from Clerk's OpenAPI document: the exact request each sends and the answer's
//! key fields. Creating a token is not a function (it needs the machine's own secret key).

use crate::mock_harness;
use crate::shape;

use kosmo_integrations::clerk;
use kosmo_runtime::Operation;
use kosmo_tests::{get, with_body};
use mock_harness::{Mocked, string};
use serde_json::json;
use shape::{assert_fields, assert_listed};

const TOKEN: &[&str] = &[
    "object",
    "id",
    "subject",
    "scopes",
    "revoked",
    "revocation_reason",
    "expired",
    "expiration",
    "created_at",
];

#[tokio::test]
async fn list_m2m_tokens_filters_by_machine_and_state() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let page = run
        .check(
            "list_m2m_tokens",
            json!({
                "subject": "mch_2abc123",
                "revoked": true,
                "expired": false,
                "limit": 20,
                "offset": 40,
            }),
            get(
                "/v1/m2m_tokens",
                &[
                    ("subject", "mch_2abc123"),
                    ("revoked", "true"),
                    ("expired", "false"),
                    ("limit", "20"),
                    ("offset", "40"),
                ],
            ),
        )
        .await;
    assert_listed(&page, "m2m_tokens", TOKEN);
    assert_eq!(page["m2m_tokens"][0]["object"], "machine_to_machine_token");
    // The machine is required: without it nothing is sent.
    let error = run
        .harness
        .call("list_m2m_tokens", json!({}))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("subject"), "{error}");
}

#[tokio::test]
async fn revoke_m2m_token_sends_the_reason() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let token = run
        .check(
            "revoke_m2m_token",
            json!({
                "m2m_token_id": "mt_f7f0ba8c3b4843ce7d85fcdd5e71853e",
                "revocation_reason": "Machine decommissioned",
            }),
            with_body(
                "POST",
                "/v1/m2m_tokens/mt_f7f0ba8c3b4843ce7d85fcdd5e71853e/revoke",
                json!({"revocation_reason": "Machine decommissioned"}),
            ),
        )
        .await;
    assert_fields(&token, TOKEN);
    assert_eq!(token["object"], "machine_to_machine_token");
}

#[tokio::test]
async fn verify_m2m_token_is_a_read_sent_as_post() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let token = run
        .check(
            "verify_m2m_token",
            json!({"token": "mt_secret_example"}),
            with_body(
                "POST",
                "/v1/m2m_tokens/verify",
                json!({"token": "mt_secret_example"}),
            ),
        )
        .await;
    assert_fields(&token, TOKEN);
    assert!(string(&token, "subject").starts_with("mch_"), "{token}");
    let meta = clerk::meta::PROVIDER.function("verify_m2m_token").unwrap();
    assert_eq!(meta.operation, Operation::Read);
}
