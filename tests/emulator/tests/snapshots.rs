//! Snapshots: a fixture built once and restored before each case, in Rust and over the control
//! endpoints.

use crate::common;

use std::time::Duration;

use clerk_emulator::{Fault, FaultKind, ObjectKind, RateLimit};
use common::Api;
use serde_json::{Value, json};

async fn user(api: &Api, email: &str) -> String {
    api.user(email).await["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_restore_brings_back_the_data_ids_and_pins_and_resets_the_rest() {
    let api = Api::start().await;
    let fixture_user = user(&api, "fixture@example.test").await;
    api.emulator.pin_ids(&["org_2pinned1"]).unwrap();
    let snapshot = api.emulator.snapshot();

    // What one case does after the snapshot.
    let first_run_user = user(&api, "case@example.test").await;
    let organization = api.organization("Pinned", Some(&fixture_user)).await;
    assert_eq!(organization["id"], "org_2pinned1");
    api.ok("DELETE", &format!("/users/{fixture_user}"), None)
        .await;
    api.emulator
        .inject(Fault::new(FaultKind::ServerError { status: 500 }).times(5));
    api.emulator.set_rate_limit(RateLimit {
        method: None,
        path: None,
        max_requests: 100,
        window: Duration::from_secs(60),
    });

    api.emulator.restore(&snapshot);
    assert_eq!(api.emulator.count(ObjectKind::User), 1);
    assert_eq!(api.emulator.count(ObjectKind::Organization), 0);
    assert!(api.emulator.requests().is_empty());
    assert_eq!(api.stats().requests, 0);
    // No fault or custom limit is left: this request succeeds.
    let fetched = api.ok("GET", &format!("/users/{fixture_user}"), None).await;
    assert_eq!(
        fetched["email_addresses"][0]["email_address"],
        "fixture@example.test"
    );
    // The ID generator and the pins are back where they were: the same calls, the same IDs.
    assert_eq!(user(&api, "case@example.test").await, first_run_user);
    let again = api.organization("Pinned", Some(&fixture_user)).await;
    assert_eq!(again["id"], "org_2pinned1");
    // Objects made after a restore are newer than the snapshot's.
    assert!(again["created_at"].as_i64() > fetched["created_at"].as_i64());

    // A snapshot can be restored any number of times, and survives a reset.
    api.emulator.reset();
    api.emulator.restore(&snapshot);
    assert_eq!(api.emulator.count(ObjectKind::User), 1);
    assert_eq!(user(&api, "case@example.test").await, first_run_user);
}

async fn control(api: &Api, path: &str, body: Value) -> (u16, Value) {
    let url = format!("http://{}/__emulator/{path}", api.emulator.addr());
    let answer = api
        .send(
            api.client
                .post(url)
                .header("content-type", "application/json")
                .body(body.to_string()),
        )
        .await;
    (answer.status, answer.body)
}

#[tokio::test]
async fn snapshots_are_saved_and_restored_by_name_over_http() {
    let api = Api::start().await;
    api.emulator.seed(2, 0);
    assert_eq!(
        control(&api, "snapshot", json!({})).await,
        (200, json!({"snapshot": "default"}))
    );
    api.emulator.seed(3, 0);
    assert_eq!(
        control(&api, "snapshot", json!({"name": "five users"})).await,
        (200, json!({"snapshot": "five users"}))
    );
    api.emulator.reset();

    assert_eq!(
        control(&api, "restore", json!({})).await,
        (200, json!({"restored": "default"}))
    );
    assert_eq!(api.emulator.count(ObjectKind::User), 2);
    control(&api, "restore", json!({"name": "five users"})).await;
    assert_eq!(api.emulator.count(ObjectKind::User), 5);

    let (status, problem) = control(&api, "restore", json!({"name": "nothing"})).await;
    assert_eq!(
        (status, problem),
        (404, json!({"error": "no snapshot named \"nothing\""}))
    );
    let (status, _) = control(&api, "snapshot", json!({"label": "x"})).await;
    assert_eq!(status, 400, "unknown fields are refused");
    assert_eq!(api.emulator.count(ObjectKind::User), 5);
}
