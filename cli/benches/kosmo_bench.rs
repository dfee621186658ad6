//! `cargo bench -p kosmo-cli` (release): figures, not assertions.
//!
//! 1. Cold start: the median wall time of `kosmo integrations:lua --eval 'return 1' --json`
//!    (aim: 10 ms or less).
//! 2. Overhead: 1,000 `get_user` calls from a Lua loop against the emulator, compared with the
//!    same 1,000 requests from a bare reqwest loop (aim: a ratio of 1.15 or less). The Lua side
//!    is the envelope's `execution_time_ms` (process start excluded); the reqwest side sends the
//!    same headers and parses each body as JSON.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clerk_emulator::{Config, Emulator};
use serde_json::Value;

const COLD_RUNS: usize = 41;
const CALLS: usize = 1000;
const ROUNDS: usize = 5;

fn kosmo() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kosmo"));
    let home = std::env::temp_dir().join("kosmo-bench-home");
    command
        .env("KOSMO_HOME", &home)
        .env("HOME", &home)
        .env_remove("CLERK_SECRET_KEY")
        .env_remove("CLERK_API_URL")
        .stdin(Stdio::null());
    command
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn cold_start() -> f64 {
    let mut times = Vec::with_capacity(COLD_RUNS);
    for _ in 0..COLD_RUNS {
        let started = Instant::now();
        let output = kosmo()
            .args(["integrations:lua", "--eval", "return 1", "--json"])
            .output()
            .unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(output.status.success());
    }
    median(times)
}

fn lua_loop(emulator: &Emulator, id: &str) -> f64 {
    let script = format!(
        r#"local clerk = app.integrations.clerk
           for i = 1, {CALLS} do
               local user = clerk.get_user({{ id = "{id}" }})
               if user.id ~= "{id}" then error("wrong user") end
           end"#
    );
    let output = kosmo()
        .env("CLERK_API_URL", emulator.base_url())
        .env("CLERK_SECRET_KEY", emulator.secret_key())
        .args(["integrations:lua", "--eval", &script, "--json"])
        .output()
        .unwrap();
    let envelope: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(envelope["success"], true, "{envelope}");
    envelope["execution_time_ms"].as_f64().unwrap()
}

fn reqwest_loop(runtime: &tokio::runtime::Runtime, emulator: &Emulator, id: &str) -> f64 {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let url = format!("{}/users/{id}", emulator.base_url());
    let auth = format!("Bearer {}", emulator.secret_key());
    runtime.block_on(async {
        let started = Instant::now();
        for _ in 0..CALLS {
            let response = client
                .get(&url)
                .header("Authorization", &auth)
                .header("Clerk-API-Version", "2026-05-12")
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success());
            let user: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
            assert_eq!(user["id"], id);
        }
        started.elapsed().as_secs_f64() * 1000.0
    })
}

fn main() {
    // `cargo test --benches` runs benches once in test mode; nothing to measure then.
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    let cold = cold_start();
    println!(
        "cold start `integrations:lua --eval 'return 1' --json`: median {cold:.2} ms over {COLD_RUNS} runs (aim <= 10 ms)"
    );

    let emulator = Emulator::spawn(Config::default()).unwrap();
    emulator.seed(1, 0);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let id = {
        let output = kosmo()
            .env("CLERK_API_URL", emulator.base_url())
            .env("CLERK_SECRET_KEY", emulator.secret_key())
            .args([
                "integrations:lua",
                "--eval",
                "return app.integrations.clerk.list_users({ limit = 1 })[1].id",
                "--json",
            ])
            .output()
            .unwrap();
        let envelope: Value = serde_json::from_slice(&output.stdout).unwrap();
        envelope["result"][0].as_str().unwrap().to_string()
    };
    // Warm both paths once, then alternate rounds and take medians.
    lua_loop(&emulator, &id);
    reqwest_loop(&runtime, &emulator, &id);
    let mut lua = Vec::new();
    let mut bare = Vec::new();
    for _ in 0..ROUNDS {
        lua.push(lua_loop(&emulator, &id));
        bare.push(reqwest_loop(&runtime, &emulator, &id));
    }
    let (lua, bare) = (median(lua), median(bare));
    println!(
        "{CALLS} get_user calls: Lua loop {lua:.1} ms ({:.1} us/call), bare reqwest {bare:.1} ms ({:.1} us/call), ratio {:.3} (aim <= 1.15)",
        lua * 1000.0 / CALLS as f64,
        bare * 1000.0 / CALLS as f64,
        lua / bare
    );
}
