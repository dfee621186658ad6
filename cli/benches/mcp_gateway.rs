//! What one tool call through `kosmo mcp:serve` costs, against the other ways of making the same
//! call, measured in one run (figures, not assertions):
//!
//! - **gateway**: `get_user` as an MCP tool call over a warm rmcp client session to
//!   `kosmo mcp:serve` (stdio, a child process started once);
//! - **CLI**: `kosmo integrations:call clerk.get_user --id=… --json`, one process per call;
//! - **bare**: the same `GET /users/{id}` with reqwest and `serde_json::from_slice`, in process;
//! - **ping**: an MCP `ping` through the gateway's session: the protocol's round trip alone.
//!
//! All three go to one emulator on its own threads. Rounds alternate the three, so that drift of
//! the machine affects each alike; the report gives each side's median time per call and the
//! medians of the rounds' paired ratios.
//!
//! `cargo bench -p kosmo-cli --bench mcp_gateway [-- --rounds N --scale F]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clerk_emulator::{Config, Emulator};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ClientRequest, PingRequest, ServerResult};
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};

fn main() {
    let mut rounds = 15usize;
    let mut scale = 1.0f64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rounds" => rounds = args.next().and_then(|v| v.parse().ok()).unwrap_or(rounds),
            "--scale" => scale = args.next().and_then(|v| v.parse().ok()).unwrap_or(scale),
            // `cargo bench` passes `--bench`; `cargo test --benches` passes `--test`.
            "--test" => return,
            _ => {}
        }
    }
    let in_process_calls = ((200.0 * scale) as usize).max(1);
    let spawned_calls = ((20.0 * scale) as usize).max(1);

    let emulator = Emulator::spawn(Config {
        seed_users: 10,
        ..Config::without_limits()
    })
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let kosmo = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kosmo"));
        command
            .args(args)
            .current_dir(home.path())
            .env("HOME", home.path())
            .env("KOSMO_HOME", home.path().join(".kosmo"))
            .env("CLERK_API_URL", emulator.base_url())
            .env("CLERK_SECRET_KEY", emulator.secret_key())
            // The emulator runs without Clerk's limits; the figures are per-call costs.
            .env("KOSMO_PACING", "off")
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        command
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let bare = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let authorization = format!("Bearer {}", emulator.secret_key());
    let get = |url: String| {
        let request = bare
            .get(url)
            .header("Authorization", &authorization)
            .header("Clerk-API-Version", "2026-05-12");
        async move {
            let response = request.send().await.unwrap();
            assert!(response.status().is_success());
            serde_json::from_slice::<Value>(&response.bytes().await.unwrap()).unwrap()
        }
    };
    let id = runtime.block_on(get(format!("{}/users?limit=1", emulator.base_url())))[0]["id"]
        .as_str()
        .expect("a seeded user")
        .to_string();
    let user_url = format!("{}/users/{id}", emulator.base_url());

    let client = runtime.block_on(async {
        let command = tokio::process::Command::from(kosmo(&["mcp:serve"]));
        ().serve(TokioChildProcess::new(command).unwrap())
            .await
            .unwrap()
    });
    let tool_call = CallToolRequestParams::new("integration__clerk__get_user")
        .with_arguments(json!({ "id": id }).as_object().unwrap().clone());

    let gateway_round = || {
        runtime.block_on(async {
            let started = Instant::now();
            for _ in 0..in_process_calls {
                let result = client.call_tool(tool_call.clone()).await.unwrap();
                assert_eq!(result.is_error, Some(false), "{result:?}");
            }
            per_call(started.elapsed(), in_process_calls)
        })
    };
    // The protocol alone: a request and its answer through the same session, no call behind it.
    let ping_round = || {
        runtime.block_on(async {
            let started = Instant::now();
            for _ in 0..in_process_calls {
                let answer = client
                    .send_request(ClientRequest::PingRequest(PingRequest::default()))
                    .await
                    .unwrap();
                assert!(matches!(answer, ServerResult::EmptyResult(_)));
            }
            per_call(started.elapsed(), in_process_calls)
        })
    };
    let id_flag = format!("--id={id}");
    let cli_round = || {
        let started = Instant::now();
        for _ in 0..spawned_calls {
            let output = kosmo(&["integrations:call", "clerk.get_user", &id_flag, "--json"])
                .output()
                .unwrap();
            assert!(output.status.success());
        }
        per_call(started.elapsed(), spawned_calls)
    };
    let bare_round = || {
        runtime.block_on(async {
            let started = Instant::now();
            for _ in 0..in_process_calls {
                let user = get(user_url.clone()).await;
                assert_eq!(user["id"], id.as_str());
            }
            per_call(started.elapsed(), in_process_calls)
        })
    };

    // Warm every path (connections, the server's client, the binary in the page cache).
    gateway_round();
    ping_round();
    cli_round();
    bare_round();
    let (mut gateway, mut ping, mut cli, mut plain) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut over_bare, mut cli_over_gateway) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (g, p, c, b) = (gateway_round(), ping_round(), cli_round(), bare_round());
        gateway.push(g);
        ping.push(p);
        cli.push(c);
        plain.push(b);
        over_bare.push(g / b);
        cli_over_gateway.push(c / g);
    }
    println!(
        "{rounds} rounds of get_user ({in_process_calls} gateway and bare calls, {spawned_calls} CLI processes per round), medians per call:"
    );
    println!(
        "  MCP gateway (warm stdio session)  {:>9.1} us",
        median(gateway)
    );
    println!(
        "  MCP ping, same session            {:>9.1} us  (a round trip with no call behind it)",
        median(ping)
    );
    println!(
        "  kosmo integrations:call (spawn)   {:>9.1} us",
        median(cli)
    );
    println!(
        "  bare reqwest                      {:>9.1} us",
        median(plain)
    );
    println!(
        "  ratios (medians of paired rounds): gateway / bare {:.2}, CLI spawn / gateway {:.1}",
        median(over_bare),
        median(cli_over_gateway)
    );
    runtime.block_on(async move {
        let _ = client.cancel().await;
    });
}

fn per_call(elapsed: Duration, calls: usize) -> f64 {
    elapsed.as_secs_f64() * 1_000_000.0 / calls.max(1) as f64
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
