//! The SCIM directory functions (`/scim_directories`) end to end: the request each sends, as the
//! emulator received it, and the key fields of the answer, which the emulator mocks from Clerk's
//! OpenAPI spec (it keeps no directories).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod mock_harness;

use kosmo_tests::{bare, get, with_body};
use mock_harness::{Mocked, page, string};
use serde_json::{Value, json};

/// The fields every SCIM directory carries.
fn assert_directory(directory: &Value) {
    assert_eq!(directory["object"], "scim_directory", "{directory}");
    string(directory, "id");
    string(directory, "endpoint_url");
    string(directory, "provider");
    assert!(directory["enabled"].is_boolean(), "{directory}");
    assert!(
        directory["group_role_mapping_enabled"].is_boolean(),
        "{directory}"
    );
    assert!(directory["attribute_mapping"].is_object(), "{directory}");
}

/// The fields every SCIM group role mapping carries.
fn assert_mapping(mapping: &Value) {
    assert_eq!(mapping["object"], "scim_group_role_mapping", "{mapping}");
    string(mapping, "id");
    string(mapping, "scim_directory_id");
    string(mapping, "scim_group_id");
    assert!(mapping["precedence"].is_i64(), "{mapping}");
}

#[tokio::test]
async fn list_scim_directories_pages_with_limit_and_offset() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let answer = run
        .check(
            "list_scim_directories",
            json!({"limit": 50, "offset": 0}),
            get("/v1/scim_directories", &[("limit", "50"), ("offset", "0")]),
        )
        .await;
    for directory in page(&answer, "scim_directory") {
        assert_directory(directory);
    }
}

#[tokio::test]
async fn create_scim_directory_sends_the_connection_and_initial_mappings() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let body = json!({
        "enterprise_connection_id": "ent_2abc123",
        "provider": "okta",
        "name": "Acme Okta users",
        "group_role_mappings": [{"scim_group_id": "00g1abcd", "role_id": "role_2abc123", "precedence": 1}],
    });
    let created = run
        .check(
            "create_scim_directory",
            body.clone(),
            with_body("POST", "/v1/scim_directories", body),
        )
        .await;
    assert_directory(&created);
    // Shown once, on creation.
    string(&created, "api_key");
}

#[tokio::test]
async fn get_scim_directory_asks_for_the_directory_by_id() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let directory = run
        .check(
            "get_scim_directory",
            json!({"scim_directory_id": "dir_2abc123"}),
            get("/v1/scim_directories/dir_2abc123", &[]),
        )
        .await;
    assert_directory(&directory);
    assert_eq!(directory["id"], "dir_2abc123");
}

#[tokio::test]
async fn update_scim_directory_sends_null_to_remove_a_mapped_attribute() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let updated = run
        .check(
            "update_scim_directory",
            json!({
                "scim_directory_id": "dir_2abc123",
                "group_role_mapping_enabled": true,
                "attribute_mapping": {"first_name": "name.givenName", "last_name": null},
            }),
            with_body(
                "PATCH",
                "/v1/scim_directories/dir_2abc123",
                json!({
                    "attribute_mapping": {"first_name": "name.givenName", "last_name": null},
                    "group_role_mapping_enabled": true,
                }),
            ),
        )
        .await;
    assert_directory(&updated);
}

#[tokio::test]
async fn delete_scim_directory_sends_a_bare_delete() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let deleted = run
        .check(
            "delete_scim_directory",
            json!({"scim_directory_id": "dir_2abc123"}),
            bare("DELETE", "/v1/scim_directories/dir_2abc123"),
        )
        .await;
    assert_eq!(deleted["deleted"], true, "{deleted}");
}

#[tokio::test]
async fn rotate_scim_directory_api_key_answers_with_the_new_key() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let directory = run
        .check(
            "rotate_scim_directory_api_key",
            json!({"scim_directory_id": "dir_2abc123"}),
            bare("POST", "/v1/scim_directories/dir_2abc123/rotate_api_key"),
        )
        .await;
    assert_directory(&directory);
    string(&directory, "api_key");
}

#[tokio::test]
async fn list_scim_group_role_mappings_returns_every_mapping() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let answer = run
        .check(
            "list_scim_group_role_mappings",
            json!({"scim_directory_id": "dir_2abc123"}),
            get("/v1/scim_directories/dir_2abc123/group_role_mappings", &[]),
        )
        .await;
    for mapping in page(&answer, "scim_group_role_mapping") {
        assert_mapping(mapping);
    }
}

#[tokio::test]
async fn create_scim_group_role_mapping_sends_group_role_and_precedence() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let mapping = run
        .check(
            "create_scim_group_role_mapping",
            json!({
                "scim_directory_id": "dir_2abc123",
                "scim_group_id": "00g1abcd",
                "role_id": "role_2abc123",
                "precedence": 2,
            }),
            with_body(
                "POST",
                "/v1/scim_directories/dir_2abc123/group_role_mappings",
                json!({"scim_group_id": "00g1abcd", "role_id": "role_2abc123", "precedence": 2}),
            ),
        )
        .await;
    assert_mapping(&mapping);
}

#[tokio::test]
async fn replace_scim_group_role_mappings_puts_the_whole_list_in_order() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let mappings = json!([
        {"scim_group_id": "00g1abcd", "role_id": "role_2abc123"},
        {"scim_group_id": "00g2efgh", "role_id": "role_2def456"},
    ]);
    let answer = run
        .check(
            "replace_scim_group_role_mappings",
            json!({"scim_directory_id": "dir_2abc123", "mappings": mappings}),
            with_body(
                "PUT",
                "/v1/scim_directories/dir_2abc123/group_role_mappings",
                json!({"mappings": mappings}),
            ),
        )
        .await;
    for mapping in page(&answer, "scim_group_role_mapping") {
        assert_mapping(mapping);
    }
}

#[tokio::test]
async fn replace_scim_group_role_mappings_sends_an_empty_list_to_clear_them() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    run.check(
        "replace_scim_group_role_mappings",
        json!({"scim_directory_id": "dir_2abc123", "mappings": []}),
        with_body(
            "PUT",
            "/v1/scim_directories/dir_2abc123/group_role_mappings",
            json!({"mappings": []}),
        ),
    )
    .await;
}

#[tokio::test]
async fn delete_scim_group_role_mapping_names_directory_and_mapping() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let deleted = run
        .check(
            "delete_scim_group_role_mapping",
            json!({"scim_directory_id": "dir_2abc123", "mapping_id": "grm_2abc123"}),
            bare(
                "DELETE",
                "/v1/scim_directories/dir_2abc123/group_role_mappings/grm_2abc123",
            ),
        )
        .await;
    assert_eq!(deleted["object"], "scim_group_role_mapping", "{deleted}");
    assert_eq!(deleted["deleted"], true, "{deleted}");
}
