//! The sandbox's limits with many calls in flight: memory, CPU time and output each end a run
//! whose `parallel.map` has dozens of calls waiting on a slow emulator. The run ends with the
//! limit named; the calls still waiting are dropped and the items not yet started are never
//! sent (the emulator's request count stops growing the moment the run is over); the output
//! stays within its limit; and the same host runs the next script at once, nothing left held.

use std::time::Duration;

use clerk_emulator::Emulator;
use kosmo_host::{Host, LimitExceeded, Limits, RunOptions};
use kosmo_tests::host_for;

const SECRET: &str = "sk_test_limitsunderloadcanary0001";

/// 400 items, 32 at a time, each creating a user (a write) on an emulator that answers in
/// 300 ms; item 3 is `breaker`, which hits a limit while the others wait.
fn script(breaker: &str) -> String {
    format!(
        r#"local clerk = app.integrations.clerk
local items = {{}}
for i = 1, 400 do items[i] = i end
parallel.map(items, function(i)
  if i == 3 then
    {breaker}
  end
  clerk.create_user({{ email_address = {{ "load-" .. i .. "@example.test" }} }})
  return i
end, {{ concurrency = 32 }})
return "not reached""#
    )
}

async fn run_to_limit(
    breaker: &str,
    limits: Limits,
    expected: LimitExceeded,
) -> (kosmo_host::RunReport, Emulator, Host) {
    let emulator = Emulator::start(clerk_emulator::Config {
        secret_key: SECRET.into(),
        latency: Duration::from_millis(300),
        ..kosmo_tests::emulator_config()
    })
    .await
    .unwrap();
    let host = host_for(&emulator);
    let report = host
        .run(
            &script(breaker),
            RunOptions {
                force: true,
                limits: Some(limits),
                ..RunOptions::default()
            },
        )
        .await;
    assert_eq!(report.limit_exceeded, Some(expected), "{report:?}");
    assert!(report.result.is_none(), "{report:?}");
    let error = report.error.clone().unwrap_or_default();
    assert!(!error.contains(SECRET), "{error}");
    assert!(!report.output.contains(SECRET));

    // Nothing more is sent once the run is over: the calls still waiting were dropped with it,
    // and the items not started never start. (Requests already on the wire when it ended are
    // given a moment to land first.)
    let mut sent = emulator.stats().requests;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = emulator.stats().requests;
        if now == sent {
            break;
        }
        sent = now;
    }
    assert!(sent < 400, "every item was sent: {sent}");
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(
        emulator.stats().requests,
        sent,
        "requests went on after the run ended"
    );

    // The host is not left holding anything: the next run makes its calls at once.
    let next = host
        .run(
            r#"return #app.integrations.clerk.list_users({ limit = 5 })"#,
            RunOptions::default(),
        )
        .await;
    assert_eq!(next.error, None, "{next:?}");
    (report, emulator, host)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_limit_ends_a_run_with_32_calls_in_flight() {
    run_to_limit(
        r#"local t = {}
    for j = 1, 1e8 do t[j] = string.rep("x", 64) .. j end"#,
        Limits {
            memory: 8 * 1024 * 1024,
            ..Limits::default()
        },
        LimitExceeded::Memory,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cpu_limit_ends_a_run_with_32_calls_in_flight() {
    run_to_limit(
        "while true do pcall(function() end) end",
        Limits {
            cpu: Duration::from_millis(400),
            ..Limits::default()
        },
        LimitExceeded::Cpu,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_output_limit_holds_with_32_calls_in_flight() {
    let limit = 64 * 1024;
    let (report, _emulator, _host) = run_to_limit(
        r#"for j = 1, 1e6 do print(string.rep("o", 1000)) end"#,
        Limits {
            output: limit,
            ..Limits::default()
        },
        LimitExceeded::Output,
    )
    .await;
    assert!(
        report.output.len() <= limit,
        "{} bytes of output past a limit of {limit}",
        report.output.len()
    );
    assert!(report.output.len() > limit / 2, "{}", report.output.len());
}
