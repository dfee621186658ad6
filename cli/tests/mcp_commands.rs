//! The `mcp:*` commands and `app.mcp` through the real `kosmo` binary, against the test MCP
//! server over streamable HTTP on 127.0.0.1: config files, trust and its revocation,
//! permissions, `--force`, `--dry-run`, env expansion in headers, and the envelopes.

use crate::common;

use common::Kosmo;
use kosmo_test_mcp_server::{HttpServer, Options, serve_http};
use serde_json::{Value, json};

/// The test server, on a runtime that lives as long as the test.
struct Demo {
    _runtime: tokio::runtime::Runtime,
    server: HttpServer,
}

impl Demo {
    fn start(options: Options) -> Demo {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let server = runtime
            .block_on(serve_http("127.0.0.1:0".parse().unwrap(), options))
            .unwrap();
        Demo {
            _runtime: runtime,
            server,
        }
    }

    fn url(&self) -> String {
        self.server.url()
    }
}

fn mcp_json(entries: Value) -> String {
    json!({ "mcpServers": entries }).to_string()
}

#[test]
fn the_references_mcp_lua_command_works_verbatim_with_or_without_servers() {
    let kosmo = Kosmo::new();
    let run = kosmo.run(&["mcp:lua", "--eval", "dump(mcp.servers())", "--json"]);
    let envelope = run.json();
    common::assert_envelope_shape(&envelope);
    assert_eq!(envelope["success"], true, "{envelope:#}");
    assert_eq!(run.code, 0);

    let demo = Demo::start(Options::default());
    std::fs::create_dir_all(kosmo.kosmo_home()).unwrap();
    std::fs::write(
        kosmo.kosmo_home().join("mcp.json"),
        mcp_json(json!({"demo": {"type": "http", "url": demo.url()}})),
    )
    .unwrap();
    let envelope = kosmo
        .run(&["mcp:lua", "--eval", "dump(mcp.servers())", "--json"])
        .json();
    assert_eq!(envelope["success"], true, "{envelope:#}");
    let output = envelope["output"].as_str().unwrap();
    assert!(output.contains("name: demo"), "{output}");
    assert!(output.contains("source: global"), "{output}");
}

#[test]
fn a_project_server_runs_only_once_trusted_and_an_edit_revokes_the_trust() {
    let demo = Demo::start(Options::default());
    let kosmo = Kosmo::new();
    kosmo.write_project_file(
        ".mcp.json",
        &mcp_json(json!({"demo": {"type": "http", "url": demo.url()}})),
    );
    let call = r#"return app.mcp.demo.get_item({ id = "item_1" }).name"#;

    let listed = kosmo.run(&["mcp:list", "--json"]).json();
    assert_eq!(listed["servers"][0]["trusted"], false, "{listed:#}");
    assert_eq!(listed["servers"][0]["source"], "project");
    assert_eq!(listed["sources"][0]["schema"], "mcpServers");

    let (code, refused) = kosmo.lua(call, &["--force"]);
    assert_eq!(code, 1);
    let error = refused["error"].as_str().unwrap();
    assert!(error.contains("is not trusted"), "{error}");
    assert!(error.contains("kosmo mcp:trust demo"), "{error}");

    let trusted = kosmo.run(&["mcp:trust", "demo", "--json"]).json();
    assert_eq!(trusted["success"], true, "{trusted:#}");
    assert_eq!(trusted["scope"], "project");
    assert!(
        trusted["fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    // Trust is recorded in the user's own file, not in the project.
    let global = std::fs::read_to_string(kosmo.kosmo_home().join("integrations.json")).unwrap();
    assert!(global.contains(trusted["fingerprint"].as_str().unwrap()));

    let (code, envelope) = kosmo.lua(call, &[]);
    assert_eq!(code, 0, "{envelope:#}");
    assert_eq!(envelope["result"], json!(["first"]));
    assert_eq!(
        envelope["integration_calls"][0]["path"],
        "mcp.demo.get_item"
    );
    assert_eq!(envelope["integration_calls"][0]["group"], "mcp.demo");

    // Any edit of the entry revokes the trust.
    kosmo.write_project_file(
        ".mcp.json",
        &mcp_json(json!({"demo": {"type": "http", "url": demo.url(), "timeout": 10}})),
    );
    let (code, refused) = kosmo.lua(call, &[]);
    assert_eq!(code, 1);
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("is not trusted")
    );

    // A project cannot trust its own servers.
    std::fs::create_dir_all(kosmo.project.path().join(".kosmo")).unwrap();
    let fingerprint =
        kosmo.run(&["mcp:list", "--json"]).json()["servers"][0]["fingerprint"].clone();
    let project_root = std::fs::canonicalize(kosmo.project.path()).unwrap();
    kosmo.write_project_file(
        ".kosmo/integrations.json",
        &json!({"mcp": {"trusted": {project_root.display().to_string(): {"demo": fingerprint}}}})
            .to_string(),
    );
    let (code, refused) = kosmo.lua(call, &[]);
    assert_eq!(code, 1, "{refused:#}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("is not trusted")
    );
}

#[test]
fn add_permissions_call_and_remove_round_trip_with_the_envelopes() {
    let demo = Demo::start(Options::default());
    let kosmo = Kosmo::new();
    let added = kosmo
        .run(&["mcp:add", "demo", "--timeout", "5", "--json", &demo.url()])
        .json();
    assert_eq!(added["success"], true, "{added:#}");
    assert_eq!(added["scope"], "global");

    let tools = kosmo.run(&["mcp:tools", "demo", "--json"]).json();
    let names: Vec<&str> = tools["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["lua_name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"echo_back") && names.contains(&"create_item"),
        "{names:?}"
    );
    let schema = kosmo
        .run(&["mcp:schema", "demo.Echo-Back", "--json"])
        .json();
    assert_eq!(schema["tool"]["name"], "Echo-Back");
    assert_eq!(schema["tool"]["lua_path"], "app.mcp.demo.echo_back");

    let read = kosmo
        .run(&["mcp:call", "demo.get_item", "--id=item_1", "--json"])
        .json();
    assert_eq!(read["success"], true, "{read:#}");
    assert_eq!(read["data"], json!({"id": "item_1", "name": "first"}));
    assert_eq!(read["meta"]["operation"], "read");

    let failed = kosmo.run(&["mcp:call", "demo.fail", "--json"]);
    assert_eq!(failed.code, 1);
    let failed = failed.json();
    assert_eq!(failed["error_details"]["kind"], "mcp_tool");
    assert_eq!(
        failed["error_details"]["message"],
        "the item store is closed"
    );

    // Writes ask by default: refused headless, shown by --dry-run, run by --force.
    let refused = kosmo
        .run(&["mcp:call", "demo.create_item", "--name=x", "--json"])
        .json();
    assert_eq!(refused["success"], false);
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("write requires approval")
    );
    let shown = kosmo
        .run(&[
            "mcp:call",
            "demo.create_item",
            "--name=x",
            "--dry-run",
            "--json",
        ])
        .json();
    assert_eq!(shown["meta"]["dry_run"], true, "{shown:#}");
    assert_eq!(shown["data"]["arguments"], json!({"name": "x"}));
    let forced = kosmo
        .run(&[
            "mcp:call",
            "demo.create_item",
            "--name=x",
            "--force",
            "--json",
        ])
        .json();
    assert_eq!(forced["success"], true, "{forced:#}");
    assert_eq!(forced["meta"]["permission_bypassed"], true);

    // Allowing writes for this server lets them through without --force.
    let allowed = kosmo
        .run(&["mcp:permissions", "demo", "--write", "allow", "--json"])
        .json();
    assert_eq!(
        allowed["permissions"],
        json!({"read": "allow", "write": "allow"})
    );
    let created = kosmo
        .run(&[
            "mcp:call",
            "demo.create_item",
            "{\"name\": \"y\"}",
            "--json",
        ])
        .json();
    assert_eq!(created["data"]["name"], "y", "{created:#}");
    assert_eq!(created["meta"]["permission_bypassed"], false);

    // A project file can make permissions stricter, never looser.
    std::fs::create_dir_all(kosmo.project.path().join(".kosmo")).unwrap();
    kosmo.write_project_file(
        ".kosmo/integrations.json",
        &json!({"mcp": {"servers": {"demo": {"permissions": {"read": "deny", "write": "allow"}}}}})
            .to_string(),
    );
    let listed = kosmo.run(&["mcp:list", "--json"]).json();
    assert_eq!(
        listed["servers"][0]["permissions"],
        json!({"read": "deny", "write": "allow"})
    );
    std::fs::remove_file(kosmo.project.path().join(".kosmo/integrations.json")).unwrap();

    let removed = kosmo.run(&["mcp:remove", "demo", "--json"]).json();
    assert_eq!(removed["success"], true);
    let listed = kosmo.run(&["mcp:list", "--json"]).json();
    assert_eq!(listed["servers"], json!([]));
    let again = kosmo.run(&["mcp:remove", "demo", "--json"]);
    assert_eq!(again.code, 1);
}

#[test]
fn header_references_read_only_allowed_variables() {
    let demo = Demo::start(Options {
        required_header: Some(("x-token".parse().unwrap(), "s3cret".parse().unwrap())),
        ..Options::default()
    });
    let mut kosmo = Kosmo::new();
    std::fs::create_dir_all(kosmo.kosmo_home()).unwrap();
    let write = |kosmo: &Kosmo, reference: &str| {
        std::fs::write(
            kosmo.kosmo_home().join("mcp.json"),
            mcp_json(json!({"demo": {"type": "http", "url": demo.url(), "headers": {"X-Token": reference}}})),
        )
        .unwrap();
    };
    kosmo
        .env("KOSMO_MCP_TOKEN", "s3cret")
        .env("OTHER_TOKEN", "s3cret");
    write(&kosmo, "${KOSMO_MCP_TOKEN}");
    let call = r#"return app.mcp.demo.get_item({ id = "item_1" }).id"#;
    let (code, envelope) = kosmo.lua(call, &[]);
    assert_eq!(code, 0, "{envelope:#}");

    write(&kosmo, "${OTHER_TOKEN}");
    let (code, envelope) = kosmo.lua(call, &[]);
    assert_eq!(code, 1);
    let error = envelope["error"].as_str().unwrap();
    assert!(error.contains("OTHER_TOKEN"), "{error}");
    assert!(!error.contains("s3cret"), "{error}");

    kosmo.env("KOSMO_MCP_ALLOWED_ENV", "OTHER_TOKEN");
    let (code, envelope) = kosmo.lua(call, &[]);
    assert_eq!(code, 0, "{envelope:#}");
}

#[test]
fn mcp_lua_reaches_only_mcp_and_integrations_lua_reaches_both() {
    let demo = Demo::start(Options::default());
    let kosmo = Kosmo::new();
    std::fs::create_dir_all(kosmo.kosmo_home()).unwrap();
    std::fs::write(
        kosmo.kosmo_home().join("mcp.json"),
        mcp_json(json!({"demo": {"type": "http", "url": demo.url()}})),
    )
    .unwrap();
    let both = r#"return { #mcp.tools("demo") > 0, (pcall(function() return app.integrations.clerk end)) }"#;
    let (code, envelope) = kosmo.lua(both, &[]);
    assert_eq!(code, 0, "{envelope:#}");
    assert_eq!(envelope["result"][0], json!([true, true]));
    let only = kosmo.run(&["mcp:lua", "--eval", both, "--json"]).json();
    assert_eq!(only["success"], true, "{only:#}");
    assert_eq!(only["result"][0][0], true);
    assert_eq!(only["result"][0][1], false);

    // A broken config file is an error for mcp commands, a warning for the others.
    std::fs::write(kosmo.kosmo_home().join("mcp.json"), "{ not json").unwrap();
    let broken = kosmo.run(&["mcp:list", "--json"]);
    assert_eq!(broken.code, 1);
    assert!(broken.stdout.contains("mcp.json"), "{}", broken.stdout);
    let unaffected = kosmo.run(&["integrations:lua", "--eval", "return 1", "--json"]);
    assert_eq!(unaffected.code, 0);
    assert!(
        unaffected.stderr.contains("MCP servers are left out"),
        "{}",
        unaffected.stderr
    );
}
