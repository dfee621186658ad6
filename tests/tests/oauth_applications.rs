//! The OAuth application functions end to end against the emulator, which answers them with
//! mocks built from Clerk's OpenAPI document: the exact request each sends and the answer's key
//! fields.

use crate::mock_harness;
use crate::shape;

use kosmo_integrations::clerk;
use kosmo_runtime::Operation;
use kosmo_tests::{bare, get, with_body};
use mock_harness::{Mocked, string};
use serde_json::json;
use shape::{assert_fields, assert_listed};

const APP_ID: &str = "oa_2abc123";
const APPLICATION: &[&str] = &[
    "object",
    "id",
    "name",
    "client_id",
    "public",
    "scopes",
    "redirect_uris",
    "consent_screen_enabled",
    "pkce_required",
    "authorize_url",
    "token_fetch_url",
    "user_info_url",
    "discovery_url",
    "created_at",
];

#[tokio::test]
async fn list_oauth_applications_sends_search_sort_and_paging() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let page = run
        .check(
            "list_oauth_applications",
            json!({
                "name_query": "dashboard",
                "limit": 20,
                "offset": 20,
                "order_by": "-created_at",
            }),
            get(
                "/v1/oauth_applications",
                &[
                    ("name_query", "dashboard"),
                    ("limit", "20"),
                    ("offset", "20"),
                    ("order_by", "-created_at"),
                ],
            ),
        )
        .await;
    assert_listed(&page, "data", APPLICATION);
    assert!(page["data"][0].get("client_secret").is_none(), "{page}");
}

#[tokio::test]
async fn create_oauth_application_sends_every_field_and_returns_the_client_secret() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let args = json!({
        "name": "Partner dashboard",
        "redirect_uris": ["https://dashboard.example.test/oauth/callback"],
        "scopes": "profile email public_metadata",
        "public": false,
        "pkce_required": true,
        "consent_screen_enabled": true,
        "callback_url": "https://dashboard.example.test/oauth/callback",
    });
    let application = run
        .check(
            "create_oauth_application",
            args.clone(),
            with_body("POST", "/v1/oauth_applications", args),
        )
        .await;
    assert_fields(&application, APPLICATION);
    assert_eq!(application["object"], "oauth_application");
    assert!(!string(&application, "client_secret").is_empty());
}

#[tokio::test]
async fn an_application_is_read_updated_rotated_and_deleted_by_id() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let path = format!("/v1/oauth_applications/{APP_ID}");
    let application = run
        .check(
            "get_oauth_application",
            json!({"oauth_application_id": APP_ID}),
            get(&path, &[]),
        )
        .await;
    assert_fields(&application, APPLICATION);
    assert_eq!(application["id"], APP_ID);

    let updated = run
        .check(
            "update_oauth_application",
            json!({
                "oauth_application_id": APP_ID,
                "name": "Partner dashboard (EU)",
                "redirect_uris": ["https://eu.dashboard.example.test/oauth/callback"],
                "scopes": "profile email",
                "public": false,
                "pkce_required": true,
                "consent_screen_enabled": true,
            }),
            with_body(
                "PATCH",
                &path,
                json!({
                    "name": "Partner dashboard (EU)",
                    "redirect_uris": ["https://eu.dashboard.example.test/oauth/callback"],
                    "scopes": "profile email",
                    "public": false,
                    "pkce_required": true,
                    "consent_screen_enabled": true,
                }),
            ),
        )
        .await;
    assert_fields(&updated, APPLICATION);
    assert_eq!(updated["id"], APP_ID);

    let rotated = run
        .check(
            "rotate_oauth_application_secret",
            json!({"oauth_application_id": APP_ID}),
            bare("POST", &format!("{path}/rotate_secret")),
        )
        .await;
    assert_eq!(rotated["id"], APP_ID);
    assert!(!string(&rotated, "client_secret").is_empty());

    let deleted = run
        .check(
            "delete_oauth_application",
            json!({"oauth_application_id": APP_ID}),
            bare("DELETE", &path),
        )
        .await;
    assert_eq!(deleted["deleted"], true);
}

#[tokio::test]
async fn revoking_a_token_answers_204_which_becomes_an_empty_table() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let answer = run
        .check(
            "revoke_oauth_application_token",
            json!({"oauth_application_id": APP_ID, "token": "refresh-token-value"}),
            with_body(
                "POST",
                &format!("/v1/oauth_applications/{APP_ID}/revoke_token"),
                json!({"token": "refresh-token-value"}),
            ),
        )
        .await;
    assert_eq!(answer, json!({}));
}

#[tokio::test]
async fn verify_oauth_access_token_is_a_read_sent_as_post() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let token = run
        .check(
            "verify_oauth_access_token",
            json!({"access_token": "access-token-value"}),
            with_body(
                "POST",
                "/v1/oauth_applications/access_tokens/verify",
                json!({"access_token": "access-token-value"}),
            ),
        )
        .await;
    assert_eq!(token["object"], "clerk_idp_oauth_access_token");
    assert_fields(
        &token,
        &[
            "id",
            "client_id",
            "subject",
            "scopes",
            "revoked",
            "expired",
            "expiration",
        ],
    );
    // The deprecated field name is still sent as given.
    run.check(
        "verify_oauth_access_token",
        json!({"secret": "access-token-value"}),
        with_body(
            "POST",
            "/v1/oauth_applications/access_tokens/verify",
            json!({"secret": "access-token-value"}),
        ),
    )
    .await;
    let meta = clerk::meta::PROVIDER
        .function("verify_oauth_access_token")
        .unwrap();
    assert_eq!(meta.operation, Operation::Read);
}
