//! The webhook (Svix app) functions end to end: the request each sends, as the emulator received
//! it, and the answer, which the emulator mocks from Clerk's OpenAPI spec.

use crate::mock_harness;

use kosmo_tests::bare;
use mock_harness::{Mocked, string};
use serde_json::json;

#[tokio::test]
async fn create_svix_app_posts_without_a_body_and_answers_with_a_dashboard_url() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let app = run
        .check(
            "create_svix_app",
            json!({}),
            bare("POST", "/v1/webhooks/svix"),
        )
        .await;
    string(&app, "svix_url");
}

#[tokio::test]
async fn delete_svix_app_returns_an_empty_table_for_clerks_204() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let answer = run
        .check(
            "delete_svix_app",
            json!({}),
            bare("DELETE", "/v1/webhooks/svix"),
        )
        .await;
    assert_eq!(answer, json!({}));
}

#[tokio::test]
async fn create_svix_dashboard_url_answers_with_a_url_under_both_names() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    for name in ["create_svix_dashboard_url", "generate_svix_auth_url"] {
        let dashboard = run
            .check(name, json!({}), bare("POST", "/v1/webhooks/svix_url"))
            .await;
        string(&dashboard, "svix_url");
    }
}
