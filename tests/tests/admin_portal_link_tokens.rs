//! The admin portal link token functions end to end: the request each sends, as the emulator
//! received it, and the key fields of the answer, which the emulator mocks from Clerk's OpenAPI
//! spec.

use crate::mock_harness;

use kosmo_tests::with_body;
use mock_harness::{Mocked, string};
use serde_json::{Value, json};

/// The fields every admin portal link token carries.
fn assert_token(token: &Value) {
    assert_eq!(token["object"], "admin_portal_link_token", "{token}");
    assert!(string(token, "id").starts_with("aplt_"), "{token}");
    string(token, "admin_portal_link_id");
    assert!(token["revoked"].is_boolean(), "{token}");
    assert!(token["expired"].is_boolean(), "{token}");
}

#[tokio::test]
async fn create_admin_portal_link_token_sends_scope_contact_and_lifetime() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let body = json!({
        "organization_id": "org_2xhFjEI5X2qWRvtV13BzSj8H6Dk",
        "it_contact_id": "contact-42",
        "scopes": ["admin_portal:read"],
        "seconds_until_expiration": 7200,
    });
    let token = run
        .check(
            "create_admin_portal_link_token",
            body.clone(),
            with_body("POST", "/v1/admin_portal_link_tokens", body),
        )
        .await;
    assert_token(&token);
    // The secret is in the answer to the creation only.
    string(&token, "token");
}

#[tokio::test]
async fn create_admin_portal_link_token_refuses_a_lifetime_over_a_day_before_sending() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    run.harness.emulator.take_requests();
    let error = run
        .harness
        .call(
            "create_admin_portal_link_token",
            json!({"seconds_until_expiration": 86401}),
        )
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("seconds_until_expiration"),
        "{error}"
    );
    assert!(run.harness.emulator.take_requests().is_empty());
}

#[tokio::test]
async fn revoke_admin_portal_link_token_puts_the_id_in_the_path_and_the_reason_in_the_body() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let revoked = run
        .check(
            "revoke_admin_portal_link_token",
            json!({
                "admin_portal_link_token_id": "aplt_3beecc9c60adb5f9b850e91a83beecc9",
                "revocation_reason": "Sent to the wrong contact",
            }),
            with_body(
                "POST",
                "/v1/admin_portal_link_tokens/aplt_3beecc9c60adb5f9b850e91a83beecc9/revoke",
                json!({"revocation_reason": "Sent to the wrong contact"}),
            ),
        )
        .await;
    assert_token(&revoked);
}
