//! The enterprise connection functions end to end: the request each sends, as the emulator
//! received it, and the key fields of the answer, which the emulator mocks from Clerk's OpenAPI
//! spec (it keeps no enterprise connections).

use crate::mock_harness;

use kosmo_tests::{bare, get, with_body};
use mock_harness::{Mocked, page, string};
use serde_json::{Value, json};

/// The fields every enterprise connection carries.
fn assert_connection(connection: &Value) {
    assert_eq!(
        connection["object"], "enterprise_connection",
        "{connection}"
    );
    string(connection, "id");
    string(connection, "name");
    string(connection, "provider");
    assert!(connection["active"].is_boolean(), "{connection}");
    assert!(connection["domains"].is_array(), "{connection}");
    assert!(connection["created_at"].is_i64(), "{connection}");
}

#[tokio::test]
async fn list_enterprise_connections_sends_its_filters_and_returns_a_page() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let answer = run
        .check(
            "list_enterprise_connections",
            json!({"organization_id": "org_2abc123", "active": true, "limit": 20, "offset": 40}),
            get(
                "/v1/enterprise_connections",
                &[
                    ("organization_id", "org_2abc123"),
                    ("active", "true"),
                    ("limit", "20"),
                    ("offset", "40"),
                ],
            ),
        )
        .await;
    for connection in page(&answer, "enterprise_connection") {
        assert_connection(connection);
    }
}

#[tokio::test]
async fn create_enterprise_connection_sends_the_connection_and_its_idp_settings() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let body = json!({
        "name": "Acme Okta",
        "provider": "saml_okta",
        "domains": ["acme.example"],
        "organization_id": "org_2abc123",
        "allow_organization_account_linking": true,
        "active": false,
        "saml": {"idp_metadata_url": "https://acme.okta.example/metadata", "allow_idp_initiated": false},
        "custom_attributes": [{"name": "Department", "key": "department", "sso_path": "department"}],
    });
    let created = run
        .check(
            "create_enterprise_connection",
            body.clone(),
            with_body("POST", "/v1/enterprise_connections", body),
        )
        .await;
    assert_connection(&created);
}

#[tokio::test]
async fn create_enterprise_connection_refuses_an_unknown_provider_before_sending() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    run.harness.emulator.take_requests();
    let error = run
        .harness
        .call(
            "create_enterprise_connection",
            json!({"name": "Acme", "provider": "saml_unknown", "domains": ["acme.example"]}),
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains("provider"), "{error}");
    assert!(run.harness.emulator.take_requests().is_empty());
}

#[tokio::test]
async fn get_enterprise_connection_asks_for_the_connection_by_id() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let connection = run
        .check(
            "get_enterprise_connection",
            json!({"enterprise_connection_id": "ent_2abc123"}),
            get("/v1/enterprise_connections/ent_2abc123", &[]),
        )
        .await;
    assert_connection(&connection);
    assert_eq!(connection["id"], "ent_2abc123");
}

#[tokio::test]
async fn update_enterprise_connection_patches_only_the_fields_given() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let updated = run
        .check(
            "update_enterprise_connection",
            json!({
                "enterprise_connection_id": "ent_2abc123",
                "active": true,
                "domains": ["acme.example", "acme-eu.example"],
                "oidc": {"client_secret": "n3w-s3cr3t"},
            }),
            with_body(
                "PATCH",
                "/v1/enterprise_connections/ent_2abc123",
                json!({
                    "active": true,
                    "domains": ["acme.example", "acme-eu.example"],
                    "oidc": {"client_secret": "n3w-s3cr3t"},
                }),
            ),
        )
        .await;
    assert_connection(&updated);
    assert_eq!(updated["id"], "ent_2abc123");
}

#[tokio::test]
async fn delete_enterprise_connection_sends_a_bare_delete() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let deleted = run
        .check(
            "delete_enterprise_connection",
            json!({"enterprise_connection_id": "ent_2abc123"}),
            bare("DELETE", "/v1/enterprise_connections/ent_2abc123"),
        )
        .await;
    assert_eq!(deleted["deleted"], true, "{deleted}");
    string(&deleted, "object");
}

#[tokio::test]
async fn list_enterprise_connection_test_runs_repeats_the_status_filter() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let answer = run
        .check(
            "list_enterprise_connection_test_runs",
            json!({
                "enterprise_connection_id": "ent_2abc123",
                "status": ["failed", "pending"],
                "limit": 5,
            }),
            get(
                "/v1/enterprise_connections/ent_2abc123/test_runs",
                &[("status", "failed"), ("status", "pending"), ("limit", "5")],
            ),
        )
        .await;
    assert!(answer["total_count"].is_i64(), "{answer}");
    let runs = answer["data"].as_array().expect("a page of test runs");
    assert!(!runs.is_empty());
    for test_run in runs {
        string(test_run, "id");
        let status = string(test_run, "status");
        assert!(
            ["pending", "success", "failed"].contains(&status),
            "{status}"
        );
        assert!(test_run["logs"].is_array(), "{test_run}");
    }
}

#[tokio::test]
async fn create_enterprise_connection_test_run_answers_with_a_url() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let started = run
        .check(
            "create_enterprise_connection_test_run",
            json!({"enterprise_connection_id": "ent_2abc123"}),
            bare("POST", "/v1/enterprise_connections/ent_2abc123/test_runs"),
        )
        .await;
    string(&started, "url");
    // The alias reaches the same operation.
    let (_, request) = run
        .harness
        .call_once(
            "test_enterprise_connection",
            json!({"enterprise_connection_id": "ent_2abc123"}),
        )
        .await;
    assert_eq!(
        request.path,
        "/v1/enterprise_connections/ent_2abc123/test_runs"
    );
}
