//! What a call from a Lua script costs over a bare reqwest loop that sends the same request and
//! parses the same JSON, measured in one run and reported as ratios (figures, not assertions).
//!
//! 1. `get_user`: a loop of calls fetching one user (~1.5 KB of JSON) — the fixed cost of a call
//!    from Lua (aim: a ratio of 1.15 or less).
//! 2. `list_users({ limit = 100 })`: a loop of calls fetching 100 users (~150 KB) — the cost of
//!    building large results into Lua tables (aim: 1.30 or less).
//!
//! Both sides run in this process on the same kind of runtime against one emulator (on its own
//! threads): the Lua side through the host library (`kosmo_host::Host::run`, the sandbox with
//! its limits, the policy and the call log included), the bare side with reqwest and
//! `serde_json::from_slice`. Rounds alternate, a Lua round then a bare one, so that drift of the
//! machine affects both alike; the report gives each side's median time per call and the median
//! of the rounds' paired ratios (on a shared machine a single round varies by 20 %).
//!
//! `cargo bench -p kosmo-tests --bench lua_overhead [-- --rounds N --scale F --only NAME]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use clerk_emulator::{Config, Emulator};
use kosmo_host::{CredentialMap, Host, RunOptions};
use serde_json::Value;

struct Case {
    name: &'static str,
    calls: usize,
    /// The Lua loop body, run `calls` times.
    lua: &'static str,
    /// The same request, relative to the base URL.
    path: &'static str,
    aim: f64,
}

fn main() {
    let mut rounds = 15usize;
    let mut scale = 1.0f64;
    let mut only = String::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rounds" => rounds = args.next().and_then(|v| v.parse().ok()).unwrap_or(rounds),
            "--scale" => scale = args.next().and_then(|v| v.parse().ok()).unwrap_or(scale),
            "--only" => only = args.next().unwrap_or_default(),
            // `cargo bench` passes `--bench`; `cargo test --benches` passes `--test`.
            "--test" => return,
            _ => {}
        }
    }

    let emulator = Emulator::spawn(Config {
        seed_users: 100,
        ..Config::without_limits()
    })
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let host = Host::builder()
        .integrations(&kosmo_integrations::INTEGRATIONS)
        .credentials(CredentialMap::new().with(
            "clerk",
            "default",
            kosmo_tests::credentials_for(&emulator),
        ))
        // The emulator runs without Clerk's limits; the figure is the host's own cost per call.
        .http(kosmo_runtime::HttpConfig {
            pacing: kosmo_runtime::PacingConfig::off(),
            ..kosmo_runtime::HttpConfig::default()
        })
        .build()
        .unwrap();
    let id = runtime
        .block_on(host.run(
            "return app.integrations.clerk.list_users({ limit = 1 })[1].id",
            RunOptions::default(),
        ))
        .result
        .and_then(|r| r.first().and_then(Value::as_str).map(str::to_string))
        .expect("a seeded user");

    let get_user = format!(
        r#"local u = clerk.get_user({{ id = "{id}" }}) if u.id ~= "{id}" then error("wrong user") end"#
    );
    let get_user_path = format!("/users/{id}");
    let cases = [
        Case {
            name: "get_user",
            calls: (500.0 * scale) as usize,
            lua: Box::leak(get_user.into_boxed_str()),
            path: Box::leak(get_user_path.into_boxed_str()),
            aim: 1.15,
        },
        Case {
            name: "list_users({ limit = 100 })",
            calls: (100.0 * scale) as usize,
            lua: r#"local users = clerk.list_users({ limit = 100 }) if #users ~= 100 then error("short page") end"#,
            path: "/users?limit=100",
            aim: 1.30,
        },
    ];

    let bare = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let authorization = format!("Bearer {}", emulator.secret_key());
    for case in cases.iter().filter(|c| c.name.contains(&only)) {
        let script = format!(
            "local clerk = app.integrations.clerk\nfor i = 1, {} do\n{}\nend",
            case.calls, case.lua
        );
        let url = format!("{}{}", emulator.base_url(), case.path);
        let lua_round = || {
            let started = Instant::now();
            let report = runtime.block_on(host.run(&script, RunOptions::default()));
            assert_eq!(report.error, None, "{}", case.name);
            started.elapsed()
        };
        let bare_round = || {
            runtime.block_on(async {
                let started = Instant::now();
                for _ in 0..case.calls {
                    let response = bare
                        .get(&url)
                        .header("Authorization", &authorization)
                        .header("Clerk-API-Version", "2026-05-12")
                        .send()
                        .await
                        .unwrap();
                    assert!(response.status().is_success());
                    let body: Value =
                        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
                    assert!(!body.is_null());
                }
                started.elapsed()
            })
        };
        // Warm both paths (connections, the host's client), then alternate.
        lua_round();
        bare_round();
        let mut lua = Vec::new();
        let mut plain = Vec::new();
        let mut ratios = Vec::new();
        for _ in 0..rounds {
            let (l, p) = (
                per_call(lua_round(), case.calls),
                per_call(bare_round(), case.calls),
            );
            lua.push(l);
            plain.push(p);
            ratios.push(l / p);
        }
        println!(
            "{rounds} rounds of {} x {}: Lua loop {:.1} us/call, bare reqwest {:.1} us/call (medians), ratio {:.3} (median of paired rounds; aim <= {:.2})",
            case.calls,
            case.name,
            median(lua),
            median(plain),
            median(ratios),
            case.aim
        );
    }
}

fn per_call(elapsed: Duration, calls: usize) -> f64 {
    elapsed.as_secs_f64() * 1_000_000.0 / calls.max(1) as f64
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
