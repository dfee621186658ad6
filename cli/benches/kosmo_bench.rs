//! `cargo bench -p kosmo-cli` (release): figures, not assertions.
//!
//! Cold start: the median wall time of `kosmo integrations:lua --eval 'return 1' --json`
//! (aim: 10 ms or less). What a call from Lua costs is measured in process, through the host
//! library: `cargo bench -p kosmo-tests --bench lua_overhead`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::Instant;

const COLD_RUNS: usize = 41;

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

fn main() {
    // `cargo test --benches` runs benches once in test mode; nothing to measure then.
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    let cold = cold_start();
    println!(
        "cold start `integrations:lua --eval 'return 1' --json`: median {cold:.2} ms over {COLD_RUNS} runs (aim <= 10 ms)"
    );
}
