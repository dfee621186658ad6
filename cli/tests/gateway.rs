//! `kosmo mcp:serve` and `kosmo mcp:gateway:export` as an MCP client meets them: a real rmcp
//! client starts the binary over stdio (and connects to it over streamable HTTP), with the
//! emulator behind it, a private home and no configuration of the user's.

use crate::common;

use std::io::BufRead;
use std::process::Stdio;

use clerk_emulator::{Config, Emulator, ObjectKind};
use common::Kosmo;
use kosmo_runtime::{FunctionMeta, Operation};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientRequest, PingRequest, ServerResult, Tool,
};
use rmcp::service::RunningService;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Map, Value, json};

type Client = RunningService<RoleClient, ()>;

fn clerk() -> &'static kosmo_runtime::Integration {
    kosmo_integrations::INTEGRATIONS
        .iter()
        .copied()
        .find(|i| i.meta.name == "clerk")
        .unwrap()
}

fn start(users: usize) -> (Emulator, Kosmo) {
    let emulator = Emulator::spawn(Config::without_limits()).unwrap();
    emulator.seed(users, 0);
    let kosmo = Kosmo::with_clerk(&emulator.base_url(), emulator.secret_key());
    (emulator, kosmo)
}

/// An MCP session with `kosmo mcp:serve <args>` started as a child process over stdio.
async fn stdio(kosmo: &Kosmo, args: &[&str]) -> Client {
    let mut all = vec!["mcp:serve"];
    all.extend_from_slice(args);
    let command = tokio::process::Command::from(kosmo.command(&all));
    let (transport, _) = TokioChildProcess::builder(command)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    ().serve(transport).await.unwrap()
}

async fn call(client: &Client, tool: &str, args: Value) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("arguments are an object")
    };
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .unwrap()
}

fn text(result: &CallToolResult) -> &str {
    &result.content[0].as_text().expect("a text content").text
}

fn error_of(result: &CallToolResult) -> &Map<String, Value> {
    assert_eq!(result.is_error, Some(true), "{result:?}");
    result.structured_content.as_ref().unwrap()["error"]
        .as_object()
        .expect("structuredContent.error")
}

fn function_of(tool: &Tool) -> &'static FunctionMeta {
    let name = tool
        .name
        .strip_prefix("integration__clerk__")
        .unwrap_or_else(|| panic!("{} is not a clerk tool", tool.name));
    clerk().function(name).unwrap()
}

/// The ID of one seeded user, read through the gateway.
async fn some_user_id(client: &Client) -> String {
    let list = call(
        client,
        "integration__clerk__list_users",
        json!({"limit": 1}),
    )
    .await;
    assert_eq!(list.is_error, Some(false), "{list:?}");
    list.structured_content.unwrap()["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn stdio_lists_the_reads_under_deny_and_every_function_under_allow() {
    let (_emulator, kosmo) = start(1);
    let functions = clerk().meta.functions;
    let reads = functions
        .iter()
        .filter(|f| f.operation == Operation::Read)
        .count();

    let deny = stdio(&kosmo, &[]).await;
    let tools = deny.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), reads);
    assert!(
        tools
            .iter()
            .all(|t| t.annotations.as_ref().unwrap().read_only_hint == Some(true))
    );

    let allow = stdio(&kosmo, &["--write=allow"]).await;
    let tools = allow.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), functions.len());
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    assert!(names.contains(&"integration__clerk__ban_user"));
}

#[tokio::test]
async fn every_tool_carries_the_manifests_annotations_and_a_plain_object_schema() {
    let (_emulator, kosmo) = start(1);
    let client = stdio(&kosmo, &["--write=allow"]).await;
    for tool in client.list_all_tools().await.unwrap() {
        let function = function_of(&tool);
        let annotations = tool.annotations.as_ref().unwrap();
        let read = function.operation == Operation::Read;
        assert_eq!(annotations.read_only_hint, Some(read), "{}", tool.name);
        assert_eq!(
            annotations.destructive_hint,
            Some(function.destructive),
            "{}",
            tool.name
        );
        assert_eq!(
            annotations.idempotent_hint,
            Some(function.idempotent),
            "{}",
            tool.name
        );
        assert_eq!(annotations.open_world_hint, Some(true));
        assert_eq!(tool.title.as_deref(), Some(function.title));

        let schema = &tool.input_schema;
        assert_eq!(schema["type"], "object", "{}", tool.name);
        for keyword in ["$ref", "allOf", "oneOf", "anyOf"] {
            assert!(!schema.contains_key(keyword), "{}: {keyword}", tool.name);
        }
        let properties = schema["properties"].as_object().unwrap();
        assert_eq!(properties["_account"]["enum"], json!(["default"]));
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for param in function.params {
            assert!(properties.contains_key(param.name), "{}", param.name);
            assert_eq!(
                required.contains(&param.name),
                param.required,
                "{}",
                param.name
            );
        }
    }
}

#[tokio::test]
async fn a_read_against_the_emulator_answers_with_structured_content() {
    let (_emulator, kosmo) = start(3);
    let client = stdio(&kosmo, &[]).await;
    let list = call(
        &client,
        "integration__clerk__list_users",
        json!({"limit": 2}),
    )
    .await;
    assert_eq!(list.is_error, Some(false), "{list:?}");
    let users = list.structured_content.as_ref().unwrap()["value"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(users.len(), 2);
    assert_eq!(
        serde_json::from_str::<Value>(text(&list)).unwrap(),
        Value::Array(users.clone())
    );

    let id = users[0]["id"].as_str().unwrap();
    let user = call(&client, "integration__clerk__get_user", json!({"id": id})).await;
    assert_eq!(user.is_error, Some(false), "{user:?}");
    let user = user.structured_content.unwrap();
    assert_eq!(user["id"], id);
    assert_eq!(user["object"], "user");
}

#[tokio::test]
async fn a_write_is_hidden_and_refused_under_deny_and_runs_under_allow() {
    let (emulator, kosmo) = start(1);
    let args = json!({"email_address": ["gateway-write@example.test"]});

    let deny = stdio(&kosmo, &[]).await;
    let listed = deny.list_all_tools().await.unwrap();
    assert!(
        !listed
            .iter()
            .any(|t| t.name == "integration__clerk__create_user")
    );
    let refused = call(&deny, "integration__clerk__create_user", args.clone()).await;
    assert_eq!(error_of(&refused)["kind"], "write_denied");
    assert!(
        text(&refused).contains("--write=allow"),
        "{}",
        text(&refused)
    );
    assert_eq!(emulator.count(ObjectKind::User), 1);

    let allow = stdio(&kosmo, &["--write", "allow"]).await;
    let created = call(&allow, "integration__clerk__create_user", args).await;
    assert_eq!(created.is_error, Some(false), "{created:?}");
    assert_eq!(emulator.count(ObjectKind::User), 2);
    let id = created.structured_content.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let banned = call(
        &allow,
        "integration__clerk__ban_user",
        json!({"user_id": id}),
    )
    .await;
    assert_eq!(banned.structured_content.unwrap()["banned"], true);
}

#[tokio::test]
async fn an_api_error_is_an_error_result_with_its_status() {
    let (_emulator, kosmo) = start(1);
    let client = stdio(&kosmo, &[]).await;
    let missing = call(
        &client,
        "integration__clerk__get_user",
        json!({"id": "user_missing"}),
    )
    .await;
    let error = error_of(&missing);
    assert_eq!(error["kind"], "api");
    assert_eq!(error["status"], 404);
    assert_eq!(error["provider"], "Clerk");
    assert!(error["code"].is_string(), "{error:?}");
    assert!(
        text(&missing).starts_with("Clerk API error (404): "),
        "{}",
        text(&missing)
    );
}

#[tokio::test]
async fn ping_unknown_accounts_and_unknown_tools() {
    let (_emulator, kosmo) = start(1);
    let client = stdio(&kosmo, &[]).await;
    let pong = client
        .send_request(ClientRequest::PingRequest(PingRequest::default()))
        .await
        .unwrap();
    assert!(matches!(pong, ServerResult::EmptyResult(_)), "{pong:?}");

    let id = some_user_id(&client).await;
    let account = call(
        &client,
        "integration__clerk__get_user",
        json!({"id": id, "_account": "nobody"}),
    )
    .await;
    assert_eq!(error_of(&account)["kind"], "unknown_account");
    assert!(
        text(&account).contains("`nobody`") && text(&account).contains("(accounts: default)"),
        "{}",
        text(&account)
    );

    let unknown = call(&client, "integration__clerk__get_usr", json!({})).await;
    assert!(
        text(&unknown).contains("`integration__clerk__get_user`"),
        "{}",
        text(&unknown)
    );
}

#[tokio::test]
async fn max_result_chars_cuts_long_text_with_a_marker() {
    let (_emulator, kosmo) = start(10);
    let client = stdio(&kosmo, &["--max-result-chars", "1000"]).await;
    let list = call(
        &client,
        "integration__clerk__list_users",
        json!({"limit": 10}),
    )
    .await;
    let text = text(&list);
    let (shown, marker) = text.rsplit_once('\n').unwrap();
    assert_eq!(shown.chars().count(), 1_000);
    assert!(
        marker.starts_with("[truncated by kosmo MCP gateway: 1000 of "),
        "{marker}"
    );
    assert_eq!(
        list.structured_content.unwrap()["value"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
}

/// Kills the HTTP server when the test ends, whatever happens.
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn streamable_http_on_a_port_of_its_choosing() {
    let (_emulator, kosmo) = start(2);
    let mut child = kosmo
        .command(&["mcp:serve", "--http", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let guard = ChildGuard(child);
    let url = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        line
    })
    .await
    .unwrap();
    let url = url.trim_end();
    let port = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix("/mcp"))
        .unwrap_or_else(|| panic!("printed `{url}`"));
    assert_ne!(port.parse::<u16>().unwrap(), 0);

    let client = ().serve(StreamableHttpClientTransport::from_uri(url.to_string())).await.unwrap();
    let tools = client.list_all_tools().await.unwrap();
    assert!(
        tools
            .iter()
            .any(|t| t.name == "integration__clerk__get_user")
    );
    let id = some_user_id(&client).await;
    let user = call(&client, "integration__clerk__get_user", json!({"id": id})).await;
    assert_eq!(user.structured_content.unwrap()["id"], id.as_str());
    let pong = client
        .send_request(ClientRequest::PingRequest(PingRequest::default()))
        .await
        .unwrap();
    assert!(matches!(pong, ServerResult::EmptyResult(_)));
    drop(client);
    drop(guard);
}

#[test]
fn bad_flags_are_usage_errors() {
    let kosmo = Kosmo::new();
    for args in [
        &["mcp:serve", "--write=ask"][..],
        &["mcp:serve", "--write", "yes"],
        &["mcp:serve", "--max-result-chars", "999"],
        &["mcp:serve", "--http", "0.0.0.0:8080"],
        &["mcp:gateway:export", "--write=maybe"],
    ] {
        let run = kosmo.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}");
    }
    let unknown = kosmo.run(&["mcp:serve", "--integration", "nope"]);
    assert_eq!(unknown.code, 1);
    assert!(
        unknown
            .stderr
            .contains("unknown integration `nope`; known: clerk"),
        "{}",
        unknown.stderr
    );
}

#[tokio::test]
async fn export_prints_a_configuration_that_starts_the_same_gateway() {
    let (_emulator, kosmo) = start(1);
    let run = kosmo.run(&[
        "mcp:gateway:export",
        "--json",
        "--integrations",
        "clerk",
        "--write=allow",
        "--max-result-chars",
        "2000",
        "--name",
        "crm",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let envelope = run.json();
    assert_eq!(envelope["success"], true);
    let server = &envelope["config"]["mcpServers"]["crm"];
    assert_eq!(server["type"], "stdio");
    let binary = std::fs::canonicalize(env!("CARGO_BIN_EXE_kosmo")).unwrap();
    assert_eq!(server["command"], binary.to_str().unwrap());
    let args: Vec<&str> = server["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        args,
        [
            "mcp:serve",
            "--write=allow",
            "--integration=clerk",
            "--max-result-chars=2000"
        ]
    );

    // The exported command line, run as a client would run it, serves what was selected.
    let client = stdio(&kosmo, &args[1..]).await;
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), clerk().meta.functions.len());

    // Without --json: the configuration alone, ready for .mcp.json; writes denied by default,
    // and never --force.
    let plain = kosmo.run(&["mcp:gateway:export"]).json();
    assert_eq!(
        plain["mcpServers"]["kosmo"]["args"],
        json!(["mcp:serve", "--write=deny"])
    );
    assert!(!plain.to_string().contains("--force"));
}

/// A gateway over stdio that also serves the test MCP server `demo` (over HTTP in process).
struct Upstream {
    _thread: std::thread::JoinHandle<()>,
    url: String,
}

/// Starts the test MCP server on a thread of its own, so it outlives the test's runtime.
fn demo_server() -> Upstream {
    let (sender, receiver) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let server = kosmo_test_mcp_server::serve_http(
                "127.0.0.1:0".parse().unwrap(),
                kosmo_test_mcp_server::Options::default(),
            )
            .await
            .unwrap();
            sender.send(server.url()).unwrap();
            server.wait().await;
        });
    });
    Upstream {
        url: receiver.recv().unwrap(),
        _thread: thread,
    }
}

fn configure_servers(kosmo: &Kosmo, servers: Value) {
    std::fs::create_dir_all(kosmo.kosmo_home()).unwrap();
    std::fs::write(
        kosmo.kosmo_home().join("mcp.json"),
        json!({ "mcpServers": servers }).to_string(),
    )
    .unwrap();
}

#[tokio::test]
async fn upstream_tools_are_served_under_their_servers_permissions_and_annotations() {
    let (_emulator, kosmo) = start(1);
    let demo = demo_server();
    configure_servers(&kosmo, json!({"demo": {"type": "http", "url": demo.url}}));

    let deny = stdio(&kosmo, &["--upstream", "demo"]).await;
    let tools = deny.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert!(names.contains(&"mcp__demo__get_item"), "{names:?}");
    assert!(names.contains(&"mcp__demo__echo_back"), "{names:?}");
    // create_item has no annotations: a write, hidden under --write=deny.
    assert!(!names.contains(&"mcp__demo__create_item"), "{names:?}");
    let get_item = tools
        .iter()
        .find(|t| t.name == "mcp__demo__get_item")
        .unwrap();
    assert_eq!(
        get_item.annotations.as_ref().unwrap().read_only_hint,
        Some(true)
    );
    assert_eq!(get_item.input_schema["type"], "object");

    let item = call(&deny, "mcp__demo__get_item", json!({"id": "item_1"})).await;
    assert_eq!(item.is_error, Some(false), "{item:?}");
    assert_eq!(
        item.structured_content.unwrap(),
        json!({"id": "item_1", "name": "first"})
    );
    let failed = call(&deny, "mcp__demo__fail", json!({})).await;
    let error = error_of(&failed);
    assert_eq!(error["kind"], "mcp_tool");
    assert_eq!(error["server"], "demo");
    assert_eq!(error["message"], "the item store is closed");
    let refused = call(&deny, "mcp__demo__create_item", json!({"name": "x"})).await;
    assert_eq!(error_of(&refused)["kind"], "write_denied");

    // Under --write=allow the client's approval answers the server's `ask`.
    let allow = stdio(&kosmo, &["--upstream", "demo", "--write=allow"]).await;
    let created = call(&allow, "mcp__demo__create_item", json!({"name": "x"})).await;
    assert_eq!(created.is_error, Some(false), "{created:?}");
    assert_eq!(created.structured_content.unwrap()["name"], "x");

    // ...but not a `deny` the user set for the server.
    let mut denying = Kosmo::new();
    denying.env("CLERK_API_URL", "http://127.0.0.1:9");
    configure_servers(&denying, json!({"demo": {"type": "http", "url": demo.url}}));
    let set = denying.run(&["mcp:permissions", "demo", "--write", "deny", "--json"]);
    assert_eq!(set.code, 0, "{}", set.stderr);
    let strict = stdio(&denying, &["--upstream", "demo", "--write=allow"]).await;
    let refused = call(&strict, "mcp__demo__create_item", json!({"name": "y"})).await;
    let error = error_of(&refused);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("write access denied"),
        "{error:?}"
    );
}

#[test]
fn the_gateway_never_proxies_itself_and_names_unknown_upstreams() {
    let kosmo = Kosmo::new();
    configure_servers(
        &kosmo,
        json!({"self": {"command": env!("CARGO_BIN_EXE_kosmo"), "args": ["mcp:serve"]}}),
    );
    let itself = kosmo.run(&["mcp:serve", "--upstream", "self"]);
    assert_eq!(itself.code, 1);
    assert!(
        itself.stderr.contains("never proxies itself"),
        "{}",
        itself.stderr
    );

    let unknown = kosmo.run(&["mcp:serve", "--upstream", "nope"]);
    assert_eq!(unknown.code, 1);
    assert!(
        unknown
            .stderr
            .contains("unknown MCP server `nope`; configured: self"),
        "{}",
        unknown.stderr
    );

    let exported = kosmo
        .run(&["mcp:gateway:export", "--upstream", "self", "--json"])
        .json();
    let args = exported["config"]["mcpServers"]["kosmo"]["args"].clone();
    assert!(
        args.as_array().unwrap().contains(&json!("--upstream=self")),
        "{args}"
    );
}
