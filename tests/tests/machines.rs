//! The machine functions end to end against the emulator, which answers them with mocks built
//! from Clerk's OpenAPI document: the exact request each sends and the answer's key fields.

use crate::mock_harness;
use crate::shape;

use kosmo_tests::{bare, get, with_body};
use mock_harness::{Mocked, string};
use serde_json::json;
use shape::{assert_fields, assert_listed};

const MACHINE: &[&str] = &[
    "object",
    "id",
    "name",
    "instance_id",
    "default_token_ttl",
    "scoped_machines",
    "created_at",
    "updated_at",
];

#[tokio::test]
async fn list_machines_sends_search_sort_and_paging() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let page = run
        .check(
            "list_machines",
            json!({"query": "billing", "limit": 20, "offset": 40, "order_by": "+name"}),
            get(
                "/v1/machines",
                &[
                    ("query", "billing"),
                    ("limit", "20"),
                    ("offset", "40"),
                    ("order_by", "+name"),
                ],
            ),
        )
        .await;
    assert_listed(&page, "data", MACHINE);
    assert_eq!(page["data"][0]["object"], "machine");
}

#[tokio::test]
async fn create_machine_sends_its_scopes_and_returns_the_secret_key() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let machine = run
        .check(
            "create_machine",
            json!({
                "name": "Billing worker",
                "scoped_machines": ["mch_2abc123"],
                "default_token_ttl": 900,
            }),
            with_body(
                "POST",
                "/v1/machines",
                json!({
                    "name": "Billing worker",
                    "scoped_machines": ["mch_2abc123"],
                    "default_token_ttl": 900,
                }),
            ),
        )
        .await;
    assert_fields(&machine, MACHINE);
    assert_eq!(machine["object"], "machine");
    assert!(!string(&machine, "secret_key").is_empty());
}

#[tokio::test]
async fn get_update_and_delete_machine_address_the_machine_by_id() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let machine = run
        .check(
            "get_machine",
            json!({"machine_id": "mch_2abc123"}),
            get("/v1/machines/mch_2abc123", &[]),
        )
        .await;
    assert_fields(&machine, MACHINE);
    assert_eq!(machine["id"], "mch_2abc123");
    assert!(machine.get("secret_key").is_none(), "{machine}");

    let updated = run
        .check(
            "update_machine",
            json!({
                "machine_id": "mch_2abc123",
                "name": "Billing worker (EU)",
                "default_token_ttl": 1800,
            }),
            with_body(
                "PATCH",
                "/v1/machines/mch_2abc123",
                json!({"name": "Billing worker (EU)", "default_token_ttl": 1800}),
            ),
        )
        .await;
    assert_fields(&updated, MACHINE);
    assert_eq!(updated["id"], "mch_2abc123");

    let deleted = run
        .check(
            "delete_machine",
            json!({"machine_id": "mch_2abc123"}),
            bare("DELETE", "/v1/machines/mch_2abc123"),
        )
        .await;
    assert_eq!(
        deleted,
        json!({"object": "machine", "id": "mch_2abc123", "deleted": true})
    );
}

#[tokio::test]
async fn secret_key_is_read_and_rotated_with_a_grace_period() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let key = run
        .check(
            "get_machine_secret_key",
            json!({"machine_id": "mch_2abc123"}),
            get("/v1/machines/mch_2abc123/secret_key", &[]),
        )
        .await;
    assert_eq!(key["object"], "machine_secret_key");
    assert!(!string(&key, "secret").is_empty());

    let rotated = run
        .check(
            "rotate_machine_secret_key",
            json!({"machine_id": "mch_2abc123", "previous_token_ttl": 3600}),
            with_body(
                "POST",
                "/v1/machines/mch_2abc123/secret_key/rotate",
                json!({"previous_token_ttl": 3600}),
            ),
        )
        .await;
    assert_eq!(rotated["object"], "machine_secret_key");
    assert!(!string(&rotated, "secret").is_empty());
}

#[tokio::test]
async fn rotation_without_a_grace_period_is_refused_before_sending() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    run.harness.emulator.take_requests();
    let error = run
        .harness
        .call(
            "rotate_machine_secret_key",
            json!({"machine_id": "mch_2abc123", "previous_token_ttl": 28801}),
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains("previous_token_ttl"), "{error}");
    assert!(run.harness.emulator.take_requests().is_empty());
}

#[tokio::test]
async fn scopes_are_created_and_deleted_between_two_machines() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let scope = run
        .check(
            "create_machine_scope",
            json!({"machine_id": "mch_2abc123", "to_machine_id": "mch_2def456"}),
            with_body(
                "POST",
                "/v1/machines/mch_2abc123/scopes",
                json!({"to_machine_id": "mch_2def456"}),
            ),
        )
        .await;
    assert_eq!(scope["object"], "machine_scope");
    assert_fields(&scope, &["from_machine_id", "to_machine_id", "created_at"]);

    let deleted = run
        .check(
            "delete_machine_scope",
            json!({"machine_id": "mch_2abc123", "other_machine_id": "mch_2def456"}),
            bare("DELETE", "/v1/machines/mch_2abc123/scopes/mch_2def456"),
        )
        .await;
    assert_eq!(deleted["object"], "machine_scope");
    assert_eq!(deleted["deleted"], true);
}
