//! `cargo bench -p kosmo-host --bench regex_linear`: `regex.match` on a 100 kB subject with
//! patterns that take exponential time in a backtracking engine, against a trivial pattern.
//! Matching is linear in the subject, so each ratio stays a small constant; it prints figures
//! only and never fails on time (the refusal of backreferences and look-around is tested in
//! `tests/properties.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

use std::time::Duration;

use kosmo_host::{Host, RunOptions};

const SUBJECT_BYTES: usize = 100_000;
const ROUNDS: usize = 5;

/// The median time of a run of `regex.match(subject, pattern)` (no call for `""`) over a few
/// runs; the subject is `a`s then a `b`, so that anchored patterns fail at the very end.
fn time(rt: &tokio::runtime::Runtime, host: &Host, pattern: &str) -> Duration {
    let mut times: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let call = if pattern.is_empty() {
                String::new()
            } else {
                format!("regex.match(subject, {pattern:?})")
            };
            let script = format!(
                "local subject = string.rep('a', {}) .. 'b'\n{call}",
                SUBJECT_BYTES - 1
            );
            let report = rt.block_on(host.run(&script, RunOptions::default()));
            assert_eq!(report.error, None, "{pattern}");
            report.execution_time
        })
        .collect();
    times.sort();
    times[ROUNDS / 2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let host = Host::builder().build().unwrap();
    let baseline = time(&rt, &host, "");
    let trivial = time(&rt, &host, "b");
    println!(
        "regex.match on a {} kB subject (median of {ROUNDS} runs; a script without a match takes {:.2} ms)",
        SUBJECT_BYTES / 1000,
        baseline.as_secs_f64() * 1e3
    );
    println!("  trivial `b`: {:.2} ms", trivial.as_secs_f64() * 1e3);
    for pattern in [
        r"^(a+)+$",
        r"^(a|aa)*$",
        r"^(a*)*c",
        r"(a|a?)+$",
        r"^(\w+\s?)*$",
    ] {
        let t = time(&rt, &host, pattern);
        println!(
            "  `{pattern}`: {:.2} ms, {:.1}x the trivial pattern",
            t.as_secs_f64() * 1e3,
            t.as_secs_f64() / trivial.as_secs_f64().max(1e-9)
        );
    }
}
