//! The agent task functions end to end: the request each sends, as the emulator received it,
//! and the key fields of the answer, which the emulator mocks from Clerk's OpenAPI spec.

use crate::mock_harness;

use kosmo_tests::{bare, with_body};
use mock_harness::{Mocked, string};
use serde_json::json;

#[tokio::test]
async fn create_agent_task_sends_the_user_the_agent_and_the_redirect() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let body = json!({
        "on_behalf_of": {"user_id": "user_2abc123"},
        "permissions": "*",
        "agent_name": "support-bot",
        "task_description": "Update the shipping address on order 1042",
        "redirect_url": "https://app.example.com/orders/1042",
        "session_max_duration_in_seconds": 900,
    });
    let task = run
        .check(
            "create_agent_task",
            body.clone(),
            with_body("POST", "/v1/agents/tasks", body),
        )
        .await;
    assert_eq!(task["object"], "agent_task", "{task}");
    string(&task, "agent_id");
    string(&task, "agent_task_id");
    string(&task, "url");
}

#[tokio::test]
async fn create_agent_task_refuses_other_permissions_before_sending() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    run.harness.emulator.take_requests();
    let error = run
        .harness
        .call(
            "create_agent_task",
            json!({
                "on_behalf_of": {"identifier": "ada@example.test"},
                "permissions": "read",
                "agent_name": "support-bot",
                "task_description": "Look around",
                "redirect_url": "https://app.example.com/",
            }),
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains("permissions"), "{error}");
    assert!(run.harness.emulator.take_requests().is_empty());
}

#[tokio::test]
async fn revoke_agent_task_posts_to_the_tasks_revoke_path() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let revoked = run
        .check(
            "revoke_agent_task",
            json!({"agent_task_id": "agtask_2abc123"}),
            bare("POST", "/v1/agents/tasks/agtask_2abc123/revoke"),
        )
        .await;
    assert_eq!(revoked["object"], "agent_task", "{revoked}");
    string(&revoked, "agent_task_id");
}
