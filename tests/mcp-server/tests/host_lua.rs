//! Lua scripts calling the test server through the host's `app.mcp` and `mcp` global, as a
//! real child process over stdio: trust, permissions, `force`, dry runs, timeouts, crashes,
//! the child's environment, and that servers end with the run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::time::{Duration, Instant};

use kosmo_host::kosmo_mcp::{Server, ServerConfig, Source};
use kosmo_host::{
    AccountPolicy, Approval, ApprovalRequest, Approver, Host, McpApprovalRequest, Policy,
    RunOptions, RunReport,
};
use serde_json::{Value, json};

const SERVER: &str = env!("CARGO_BIN_EXE_test-mcp-server");

/// A project server (so trust matters) running the test server with a state file.
fn demo(state: &Path, extra: Value, trusted: bool) -> Server {
    let mut entry = json!({
        "command": SERVER,
        "args": ["--state", state.display().to_string()],
        "timeout": 5,
    });
    if let (Some(entry), Some(extra)) = (entry.as_object_mut(), extra.as_object()) {
        entry.extend(extra.clone());
    }
    Server {
        config: ServerConfig::from_entry(
            "demo",
            Source::Project,
            Some(Path::new(".mcp.json")),
            &entry,
        )
        .expect("a valid entry"),
        trusted,
    }
}

fn host(server: Server, policy: AccountPolicy) -> Host {
    Host::builder()
        .mcp_servers([server])
        .mcp_policies(policy)
        .build()
        .expect("a host")
}

async fn run(host: &Host, code: &str, options: RunOptions) -> RunReport {
    host.run(code, options).await
}

fn ok(report: &RunReport) -> Vec<Value> {
    assert!(
        report.success(),
        "the run failed: {:?}\noutput: {}",
        report.error,
        report.output
    );
    report.result.clone().unwrap_or_default()
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_mcp_and_the_mcp_global_reach_a_trusted_server() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let host = host(demo(&state, json!({}), true), AccountPolicy::default());
    let report = run(
        &host,
        r#"
        local demo = app.mcp.demo
        local item = demo.get_item({ id = "item_1" })
        local listed = demo.list_items()
        local tools = mcp.tools("demo")
        local names = {}
        for _, t in tools do names[#names + 1] = t.lua_name end
        table.sort(names)
        local schema = mcp.schema("demo.echo_back")
        local docs_list = docs.list()
        return {
            structured = item,
            json_text = listed[1].name,
            echo = demo.echo_back({ text = "hi" }),
            positional = demo.echo_back("there"),
            raw_name = demo["Echo-Back"]({ text = "raw" }),
            two = #demo.two_texts(),
            names = names,
            schema_wire_name = schema.name,
            schema_operation = schema.operation,
            called = mcp.call("demo.get_item", { id = "item_1" }).name,
            servers = mcp.servers()[1].name,
            resources = mcp.resources("demo")[1].uri,
            resource = mcp.read_resource("demo", "item://item_1").contents[1].text,
            prompt = mcp.get_prompt("demo", "summarize_item", { id = "item_1" }).messages[1].content.text,
            prompts = mcp.prompts("demo")[1].name,
            server_page = docs.read("mcp.demo"),
            tool_page = docs.read("mcp.demo.echo_back"),
            last_page = docs_list[#docs_list],
        }
        "#,
        RunOptions::default(),
    )
    .await;
    let result = &ok(&report)[0];
    assert_eq!(
        result["structured"],
        json!({"id": "item_1", "name": "first"})
    );
    assert_eq!(result["json_text"], "first");
    assert_eq!(result["echo"], "echo: hi");
    assert_eq!(result["positional"], "echo: there");
    assert_eq!(result["raw_name"], "echo: raw");
    assert_eq!(result["two"], 2);
    assert_eq!(
        result["names"],
        json!([
            "crash",
            "create_item",
            "echo_back",
            "env",
            "fail",
            "get_item",
            "hang",
            "list_items",
            "two_texts"
        ])
    );
    assert_eq!(result["schema_wire_name"], "Echo-Back");
    assert_eq!(result["schema_operation"], "read");
    assert_eq!(result["called"], "first");
    assert_eq!(result["servers"], "demo");
    assert_eq!(result["resources"], "item://item_1");
    assert_eq!(result["resource"], r#"{"id":"item_1","name":"first"}"#);
    assert_eq!(result["prompt"], "Summarize item item_1: first");
    assert_eq!(result["prompts"], "summarize_item");
    let server_page = result["server_page"].as_str().unwrap();
    for tool in ["get_item", "create_item", "echo_back", "hang"] {
        assert!(
            server_page.contains(&format!("`demo.{tool}`")),
            "{server_page}"
        );
    }
    let tool_page = result["tool_page"].as_str().unwrap();
    assert!(
        tool_page.contains("the server calls it `Echo-Back`"),
        "{tool_page}"
    );
    assert!(
        tool_page.contains("| `text` | string | yes |"),
        "{tool_page}"
    );
    assert_eq!(result["last_page"], "mcp.demo");
    let paths: Vec<String> = report.calls.iter().map(|c| c.path()).collect();
    assert_eq!(
        &paths[..4],
        [
            "mcp.demo.get_item",
            "mcp.demo.list_items",
            "mcp.demo.echo_back",
            "mcp.demo.echo_back"
        ]
    );
    assert!(lines(&state).is_empty(), "no write ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_error_is_an_error_object_with_the_server_the_tool_and_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let host = host(
        demo(&dir.path().join("s"), json!({}), true),
        AccountPolicy::default(),
    );
    let report = run(
        &host,
        r#"
        local ok, e = pcall(app.mcp.demo.fail)
        local ok2, unknown = pcall(function() return app.mcp.demo.get_itme({ id = "x" }) end)
        local ok3, missing = pcall(function() return app.mcp.nope end)
        return { ok, e.kind, e.server, e.tool, e.message, tostring(e), unknown.kind, tostring(unknown), tostring(missing) }
        "#,
        RunOptions::default(),
    )
    .await;
    let result = &ok(&report)[0];
    assert_eq!(result[0], false);
    assert_eq!(result[1], "mcp_tool");
    assert_eq!(result[2], "demo");
    assert_eq!(result[3], "fail");
    assert_eq!(result[4], "the item store is closed");
    assert_eq!(
        result[5],
        "MCP tool demo.fail failed: the item store is closed"
    );
    assert_eq!(result[6], "unknown_function");
    assert!(
        result[7]
            .as_str()
            .unwrap()
            .contains("Did you mean `get_item`?"),
        "{}",
        result[7]
    );
    assert!(
        result[8]
            .as_str()
            .unwrap()
            .contains("Unknown MCP server `nope`"),
        "{}",
        result[8]
    );
    let failed = report.calls.iter().find(|c| c.function == "fail").unwrap();
    assert!(failed.error.is_some());
}

/// Approves MCP calls only.
struct ApprovesMcp;

impl Approver for ApprovesMcp {
    fn approve<'a>(
        &'a self,
        _request: ApprovalRequest<'a>,
    ) -> Pin<Box<dyn Future<Output = Approval> + Send + 'a>> {
        Box::pin(std::future::ready(Approval::Refused))
    }

    fn approve_mcp<'a>(
        &'a self,
        request: McpApprovalRequest<'a>,
    ) -> Pin<Box<dyn Future<Output = Approval> + Send + 'a>> {
        let approved = request.server == "demo" && request.tool.name == "create_item";
        Box::pin(std::future::ready(if approved {
            Approval::Approved
        } else {
            Approval::Refused
        }))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_follow_the_servers_policy_the_approver_force_and_dry_runs() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let create = r#"return app.mcp.demo.create_item({ name = "new" })"#;

    // Writes ask by default, and nobody is there to ask.
    let default = host(demo(&state, json!({}), true), AccountPolicy::default());
    let refused = run(&default, create, RunOptions::default()).await;
    let error = refused.error.clone().unwrap_or_default();
    assert!(
        error.contains("MCP server 'demo' write requires approval (demo.create_item)"),
        "{error}"
    );
    assert!(lines(&state).is_empty());

    // A dry run shows the write and sends nothing.
    let shown = run(
        &default,
        create,
        RunOptions {
            dry_run: true,
            ..RunOptions::default()
        },
    )
    .await;
    let shown = &ok(&shown)[0];
    assert_eq!(shown["dry_run"], true);
    assert_eq!(shown["arguments"], json!({"name": "new"}));
    assert_eq!(shown["policy"], "ask");
    assert!(lines(&state).is_empty());

    // --force runs it and says so.
    let forced = run(
        &default,
        create,
        RunOptions {
            force: true,
            ..RunOptions::default()
        },
    )
    .await;
    assert_eq!(ok(&forced)[0]["name"], "new");
    assert!(forced.permission_bypassed);
    assert_eq!(lines(&state), ["create_item new"]);

    // An approver that approves it.
    let approving = Host::builder()
        .mcp_servers([demo(&state, json!({}), true)])
        .approver(ApprovesMcp)
        .build()
        .unwrap();
    let approved = run(&approving, create, RunOptions::default()).await;
    assert_eq!(ok(&approved)[0]["name"], "new");
    assert!(!approved.permission_bypassed);
    assert_eq!(lines(&state).len(), 2);

    // Reads denied: even the read-only tools are refused, resources too.
    let deny_reads = host(
        demo(&state, json!({}), true),
        AccountPolicy {
            enabled: true,
            read: Policy::Deny,
            write: Policy::Allow,
        },
    );
    let denied = run(
        &deny_reads,
        r#"
        local ok, e = pcall(app.mcp.demo.get_item, { id = "item_1" })
        local ok2, r = pcall(mcp.resources, "demo")
        return { tostring(e), e.kind, tostring(r) }
        "#,
        RunOptions::default(),
    )
    .await;
    let denied = &ok(&denied)[0];
    assert!(
        denied[0]
            .as_str()
            .unwrap()
            .contains("MCP server 'demo' read access denied"),
        "{denied}"
    );
    assert_eq!(denied[1], "config");
    assert!(
        denied[2].as_str().unwrap().contains("read access denied"),
        "{denied}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_server_is_left_out_and_force_does_not_start_it() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("started");
    // The process would leave a marker if it ever started.
    let entry = json!({
        "command": "/bin/sh",
        "args": ["-c", format!("touch '{}'; exec '{}'", marker.display(), SERVER)],
    });
    let server = Server {
        config: ServerConfig::from_entry(
            "demo",
            Source::Project,
            Some(Path::new(".mcp.json")),
            &entry,
        )
        .unwrap(),
        trusted: false,
    };
    let host = host(
        server,
        AccountPolicy {
            enabled: true,
            read: Policy::Allow,
            write: Policy::Allow,
        },
    );
    let report = run(
        &host,
        r#"
        local ok, e = pcall(function() return app.mcp.demo end)
        local ok2, e2 = pcall(mcp.call, "demo.get_item", { id = "item_1" })
        local ok3, e3 = pcall(docs.read, "mcp.demo")
        return { tostring(e), tostring(e2), tostring(e3), mcp.servers()[1].trusted }
        "#,
        RunOptions {
            force: true,
            ..RunOptions::default()
        },
    )
    .await;
    let result = &ok(&report)[0];
    for message in result.as_array().unwrap()[..3].iter() {
        let message = message.as_str().unwrap();
        assert!(message.contains("is not trusted"), "{message}");
        assert!(message.contains("kosmo mcp:trust demo"), "{message}");
    }
    assert_eq!(result[3], false);
    assert!(
        report.warnings.iter().any(|w| w.contains("not trusted")),
        "{:?}",
        report.warnings
    );
    assert!(!marker.exists(), "an untrusted server must never start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_tool_times_out_and_a_crashed_server_starts_again() {
    let dir = tempfile::tempdir().unwrap();
    let host = host(
        demo(&dir.path().join("s"), json!({"timeout": 1}), true),
        AccountPolicy {
            enabled: true,
            read: Policy::Allow,
            write: Policy::Allow,
        },
    );
    let report = run(
        &host,
        r#"
        local ok, hung = pcall(app.mcp.demo.hang)
        local after_hang = app.mcp.demo.get_item({ id = "item_1" }).name
        local ok2, crashed = pcall(app.mcp.demo.crash)
        local after_crash = app.mcp.demo.get_item({ id = "item_1" }).name
        return { hung.kind, tostring(hung), after_hang, crashed.kind, tostring(crashed), after_crash }
        "#,
        RunOptions::default(),
    )
    .await;
    let result = &ok(&report)[0];
    assert_eq!(result[0], "timeout");
    assert!(
        result[1]
            .as_str()
            .unwrap()
            .contains("did not answer tools/call hang within 1 s"),
        "{result}"
    );
    assert_eq!(result[2], "first");
    assert_eq!(result[3], "transport");
    assert!(
        result[4]
            .as_str()
            .unwrap()
            .contains("closed the connection during tools/call crash"),
        "{result}"
    );
    assert_eq!(result[5], "first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_gets_a_minimal_environment_and_cannot_read_other_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let allowed: Vec<&str> = kosmo_host::kosmo_mcp::env::PASSED_THROUGH.to_vec();
    let host = host(
        demo(
            &dir.path().join("s"),
            json!({"env": {"KOSMO_MCP_TEST_TOKEN": "literal-token", "EXTRA": "x"}}),
            true,
        ),
        AccountPolicy::default(),
    );
    let report = run(&host, "return app.mcp.demo.env()", RunOptions::default()).await;
    let result = &ok(&report)[0];
    assert_eq!(result["token"], "literal-token");
    for name in result["names"].as_array().unwrap() {
        let name = name.as_str().unwrap();
        assert!(
            allowed.contains(&name) || name == "KOSMO_MCP_TEST_TOKEN" || name == "EXTRA",
            "the server got {name} from our environment"
        );
    }

    let secret_reader = host_with_env(dir.path(), json!({"TOKEN": "${CARGO_PKG_NAME}"}));
    let refused = run(
        &secret_reader,
        "return app.mcp.demo.env()",
        RunOptions::default(),
    )
    .await;
    let error = refused.error.unwrap_or_default();
    assert!(error.contains("MCP server 'demo' cannot start"), "{error}");
    assert!(error.contains("CARGO_PKG_NAME"), "{error}");
    assert!(
        !error.contains("kosmo-test-mcp-server"),
        "the value must not leak: {error}"
    );
}

fn host_with_env(dir: &Path, env: Value) -> Host {
    host(
        demo(&dir.join("s"), json!({ "env": env }), true),
        AccountPolicy::default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_end_with_the_run_and_coroutines_cannot_call_them() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let entry = json!({
        "command": "/bin/sh",
        "args": ["-c", format!("echo $$ > '{}'; exec '{}'", pid_file.display(), SERVER)],
    });
    let server = Server {
        config: ServerConfig::from_entry("demo", Source::Global, None, &entry).unwrap(),
        trusted: true,
    };
    let host = host(server, AccountPolicy::default());
    let report = run(
        &host,
        r#"
        local first = app.mcp.demo.get_item({ id = "item_1" }).name
        local ok, e = pcall(coroutine.wrap(function() return app.mcp.demo.get_item({ id = "item_1" }) end))
        return { first, tostring(e) }
        "#,
        RunOptions::default(),
    )
    .await;
    let result = &ok(&report)[0];
    assert_eq!(result[0], "first");
    assert!(
        result[1]
            .as_str()
            .unwrap()
            .contains("cannot run inside a coroutine"),
        "{result}"
    );
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_string();
    // The run ended: the process is gone, or going (killed, waiting to be reaped).
    let proc = Path::new("/proc").join(&pid);
    let deadline = Instant::now() + Duration::from_secs(10);
    while proc.exists() && !is_zombie(&proc) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !proc.exists() || is_zombie(&proc),
        "server {pid} outlived the run"
    );
}

fn is_zombie(proc: &Path) -> bool {
    std::fs::read_to_string(proc.join("stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit(')')
                .next()
                .map(|rest| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(true)
}
