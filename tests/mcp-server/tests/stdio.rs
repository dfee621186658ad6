//! The binary over stdio, driven by rmcp's client as an MCP host would.
#![allow(clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Duration;

use common::{BIN, Client, call, only_text, scratch_file, texts};
use rmcp::ServiceExt as _;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, ClientRequest, GetPromptRequestParams, PingRequest,
    ReadResourceRequestParams, ServerResult,
};
use rmcp::service::{PeerRequestOptions, ServiceError};
use rmcp::transport::{ConfigureCommandExt as _, TokioChildProcess};
use serde_json::{Value, json};
use tokio::process::Command;

async fn spawn(configure: impl FnOnce(&mut Command)) -> Client {
    let command = Command::new(BIN).configure(configure);
    let transport = TokioChildProcess::new(command).expect("spawn test-mcp-server");
    ().serve(transport).await.expect("initialize over stdio")
}

#[tokio::test]
async fn lists_tools_with_schemas_and_annotations() {
    let client = spawn(|_| {}).await;
    let info = client.peer_info().expect("server info");
    let name = info.server_info.as_ref().map(|i| i.name.as_str());
    assert_eq!(name, Some("kosmo-test-mcp-server"));

    let tools = client.list_all_tools().await.expect("tools/list");
    let names: BTreeSet<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    let expected = [
        "get_item",
        "list_items",
        "create_item",
        "fail",
        "hang",
        "Echo-Back",
        "two_texts",
        "env",
        "crash",
    ];
    assert_eq!(names, expected.into_iter().collect());
    for tool in &tools {
        assert!(
            tool.description.is_some(),
            "{} has no description",
            tool.name
        );
        assert_eq!(tool.input_schema.get("type"), Some(&json!("object")));
        let read_only = tool.annotations.as_ref().and_then(|a| a.read_only_hint);
        match tool.name.as_ref() {
            // Writes: no annotations at all, so a client has to treat them as writes.
            "create_item" | "crash" => assert!(tool.annotations.is_none(), "{}", tool.name),
            _ => assert_eq!(read_only, Some(true), "{}", tool.name),
        }
    }
    let get_item = tools
        .iter()
        .find(|t| t.name == "get_item")
        .expect("get_item");
    assert_eq!(get_item.input_schema.get("required"), Some(&json!(["id"])));
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn tools_return_each_kind_of_result() {
    let client = spawn(|_| {}).await;

    let item = call(&client, "get_item", json!({"id": "item_1"}))
        .await
        .expect("get_item");
    let expected = json!({"id": "item_1", "name": "first"});
    assert_eq!(item.structured_content, Some(expected.clone()));
    assert_ne!(item.is_error, Some(true));
    let text: Value = serde_json::from_str(&only_text(&item)).expect("JSON text");
    assert_eq!(text, expected);

    let missing = call(&client, "get_item", json!({"id": "item_9"}))
        .await
        .expect("get_item");
    assert_eq!(missing.is_error, Some(true));
    assert_eq!(only_text(&missing), "no item item_9");

    let list = call(&client, "list_items", json!({}))
        .await
        .expect("list_items");
    assert_eq!(list.structured_content, None);
    let items: Value = serde_json::from_str(&only_text(&list)).expect("JSON text");
    assert_eq!(items, json!([expected]));

    let fail = call(&client, "fail", json!({})).await.expect("fail");
    assert_eq!(fail.is_error, Some(true));
    assert_eq!(only_text(&fail), "the item store is closed");

    let echo = call(&client, "Echo-Back", json!({"text": "hi there"}))
        .await
        .expect("echo");
    assert_eq!(echo.structured_content, None);
    assert_eq!(only_text(&echo), "echo: hi there");

    let two = call(&client, "two_texts", json!({}))
        .await
        .expect("two_texts");
    assert_eq!(two.structured_content, None);
    assert_eq!(texts(&two), ["a", "b"]);

    let created = call(&client, "create_item", json!({"name": "second"}))
        .await
        .expect("create");
    assert_eq!(
        created.structured_content,
        Some(json!({"id": "item_2", "name": "second"}))
    );
    let list = call(&client, "list_items", json!({}))
        .await
        .expect("list_items");
    let items: Value = serde_json::from_str(&only_text(&list)).expect("JSON text");
    assert_eq!(items.as_array().map(Vec::len), Some(2));

    let pong = client
        .send_request(ClientRequest::PingRequest(PingRequest::default()))
        .await
        .expect("ping");
    assert!(matches!(pong, ServerResult::EmptyResult(_)), "{pong:?}");
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn resources_and_prompts() {
    let client = spawn(|_| {}).await;
    let resources = client.list_all_resources().await.expect("resources/list");
    let uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
    assert_eq!(uris, ["item://item_1"]);

    let read = client
        .read_resource(ReadResourceRequestParams::new("item://item_1"))
        .await
        .expect("resources/read");
    assert_eq!(
        serde_json::to_value(&read.contents).expect("JSON"),
        json!([{
            "uri": "item://item_1",
            "mimeType": "application/json",
            "text": r#"{"id":"item_1","name":"first"}"#,
        }])
    );
    let unknown = client
        .read_resource(ReadResourceRequestParams::new("item://nope"))
        .await;
    assert!(
        matches!(unknown, Err(ServiceError::McpError(_))),
        "{unknown:?}"
    );

    let prompts = client.list_all_prompts().await.expect("prompts/list");
    assert_eq!(prompts.len(), 1);
    assert_eq!(prompts[0].name, "summarize_item");
    let arguments = serde_json::to_value(&prompts[0].arguments).expect("JSON");
    assert_eq!(arguments[0]["name"], "id");
    assert_eq!(arguments[0]["required"], true);

    let args = json!({"id": "item_1"})
        .as_object()
        .cloned()
        .expect("object");
    let prompt = client
        .get_prompt(GetPromptRequestParams::new("summarize_item").with_arguments(args))
        .await
        .expect("prompts/get");
    assert_eq!(
        serde_json::to_value(&prompt.messages).expect("JSON"),
        json!([{"role": "user", "content": {"type": "text", "text": "Summarize item item_1: first"}}])
    );
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn a_hung_call_times_out_and_the_connection_still_works() {
    let client = spawn(|_| {}).await;
    let hang =
        || ClientRequest::CallToolRequest(CallToolRequest::new(CallToolRequestParams::new("hang")));

    // rmcp's per-request timeout: on expiry it sends notifications/cancelled for the request.
    let handle = client
        .send_request_with_option(
            hang(),
            PeerRequestOptions::with_timeout(Duration::from_millis(200)),
        )
        .await
        .expect("send hang");
    let outcome = handle.await_response().await;
    assert!(
        matches!(outcome, Err(ServiceError::Timeout { .. })),
        "{outcome:?}"
    );

    // An explicit cancel, while the call is outstanding.
    let handle = client
        .send_cancellable_request(hang(), PeerRequestOptions::no_options())
        .await
        .expect("send hang");
    handle.cancel(Some("test".into())).await.expect("cancel");

    // A hang still running does not block other calls either.
    let hanging = client
        .send_cancellable_request(hang(), PeerRequestOptions::no_options())
        .await
        .expect("send hang");
    let item = call(&client, "get_item", json!({"id": "item_1"}))
        .await
        .expect("get_item");
    assert_eq!(
        item.structured_content,
        Some(json!({"id": "item_1", "name": "first"}))
    );
    // Cancelled rather than left running: on stdin EOF rmcp's server waits up to 5 s for
    // handlers still running, and rmcp's client waits 3 s for the child before SIGTERM.
    hanging.cancel(None).await.expect("cancel");
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn create_item_appends_to_the_state_file() {
    let state = scratch_file("state");
    let path = state.clone();
    let client = spawn(move |command| {
        command.arg("--state").arg(&path);
    })
    .await;
    call(&client, "get_item", json!({"id": "item_1"}))
        .await
        .expect("get_item");
    assert!(!state.exists(), "a read wrote the state file");
    call(&client, "create_item", json!({"name": "widget"}))
        .await
        .expect("create");
    call(&client, "create_item", json!({"name": "gadget"}))
        .await
        .expect("create");
    let written = std::fs::read_to_string(&state).expect("state file");
    assert_eq!(written, "create_item widget\ncreate_item gadget\n");
    client.cancel().await.expect("close");
    let _ = std::fs::remove_file(&state);
}

#[tokio::test]
async fn env_reports_variable_names_and_the_token() {
    let client = spawn(|command| {
        command
            .env("KOSMO_MCP_TEST_TOKEN", "t0ken")
            .env("KOSMO_MCP_TEST_OTHER", "x");
    })
    .await;
    let result = call(&client, "env", json!({})).await.expect("env");
    let env = result.structured_content.expect("structured");
    assert_eq!(env["token"], "t0ken");
    let names: Vec<&str> = env["names"]
        .as_array()
        .expect("names")
        .iter()
        .map(|n| n.as_str().expect("name"))
        .collect();
    assert!(names.contains(&"KOSMO_MCP_TEST_OTHER"), "{names:?}");
    assert!(names.is_sorted(), "{names:?}");
    client.cancel().await.expect("close");

    let client = spawn(|command| {
        command.env_remove("KOSMO_MCP_TEST_TOKEN");
    })
    .await;
    let result = call(&client, "env", json!({})).await.expect("env");
    assert_eq!(
        result.structured_content.expect("structured")["token"],
        Value::Null
    );
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn crash_exits_with_code_3() {
    // Spawned by hand rather than with TokioChildProcess, to keep the child for its exit status.
    let mut child = Command::new(BIN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn test-mcp-server");
    let stdout = child.stdout.take().expect("stdout");
    let stdin = child.stdin.take().expect("stdin");
    let client = ().serve((stdout, stdin)).await.expect("initialize");
    let outcome = call(&client, "crash", json!({})).await;
    assert!(outcome.is_err(), "crash answered: {outcome:?}");
    let status = child.wait().await.expect("exit status");
    assert_eq!(status.code(), Some(3));
}
