//! What a generated handler costs per call over a bare reqwest call sending the same request to
//! the emulator, measured in one run and reported as a ratio (aim: at most 1.10).
//!
//! Both sides send `GET /v1/users?limit=10` with the same headers to the same emulator (seeded
//! with 50 users, on its own threads) and parse the JSON answer into a `serde_json::Value`.
//! Rounds alternate between the two so that drift of the machine affects both alike; the report
//! gives the median over rounds of each side's mean per-call time.
//!
//! `cargo bench -p kosmo-tests --bench http_overhead [-- --rounds N --calls M]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use clerk_emulator::{Config, Emulator};
use kosmo_integrations::clerk;
use kosmo_runtime::{Credentials, HttpConfig, HttpTransport};
use serde_json::{Value, json};

fn main() {
    let mut rounds = 15usize;
    let mut calls = 200usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rounds" => rounds = args.next().and_then(|v| v.parse().ok()).unwrap_or(rounds),
            "--calls" => calls = args.next().and_then(|v| v.parse().ok()).unwrap_or(calls),
            // `cargo bench` passes `--bench`; nothing else is expected.
            _ => {}
        }
    }

    let emulator = Emulator::spawn(Config {
        seed_users: 50,
        ..Config::without_limits()
    })
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let credentials = Credentials::new()
        .with("secret_key", emulator.secret_key())
        .with("url", emulator.base_url());
    // The emulator runs without Clerk's limits, and the figure is the client's own cost per
    // request: no pacing (a development key would be paced to 10 requests a second).
    let config = HttpConfig {
        pacing: kosmo_runtime::PacingConfig::off(),
        ..HttpConfig::default()
    };
    let transport =
        HttpTransport::new(&clerk::meta::PROVIDER, &credentials, config.clone()).unwrap();

    // The baseline: what a careful hand-written client would do for the same request.
    let bare = reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .timeout(config.timeout)
        .build()
        .unwrap();
    let url = format!("{}/users?limit=10", emulator.base_url());
    let authorization = format!("Bearer {}", emulator.secret_key());
    let bare_call = || async {
        let response = bare
            .get(&url)
            .header("authorization", &authorization)
            .header("clerk-api-version", "2026-05-12")
            .header("user-agent", &config.user_agent)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        let value: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        value
    };
    let handler_call = || async {
        clerk::call(&transport, "list_users", json!({"limit": 10}))
            .await
            .unwrap()
    };

    runtime.block_on(async {
        // Same answers, and warm connection pools on both sides.
        let a = bare_call().await;
        let b = handler_call().await;
        assert_eq!(a, b, "both sides must receive the same answer");
        for _ in 0..50 {
            bare_call().await;
            handler_call().await;
        }
    });

    let mut bare_means = Vec::with_capacity(rounds);
    let mut handler_means = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let (first, second) = runtime.block_on(async {
            // Alternate which side goes first.
            if round % 2 == 0 {
                let b = time(calls, &bare_call).await;
                let h = time(calls, &handler_call).await;
                (b, h)
            } else {
                let h = time(calls, &handler_call).await;
                let b = time(calls, &bare_call).await;
                (b, h)
            }
        });
        bare_means.push(first);
        handler_means.push(second);
    }
    let bare = median(&mut bare_means);
    let handler = median(&mut handler_means);
    let ratio = handler.as_secs_f64() / bare.as_secs_f64();
    println!(
        "http_overhead: GET /v1/users?limit=10 against the emulator (50 users), {rounds} rounds x {calls} calls"
    );
    println!(
        "  bare reqwest      {:>8.1} us/call (median of round means)",
        micros(bare)
    );
    println!("  generated handler {:>8.1} us/call", micros(handler));
    println!(
        "  ratio             {ratio:.3} (aim <= 1.10); overhead {:+.1} us/call",
        micros(handler) - micros(bare)
    );
}

async fn time<F, Fut>(calls: usize, call: &F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    let started = Instant::now();
    for _ in 0..calls {
        std::hint::black_box(call().await);
    }
    started.elapsed() / calls as u32
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
