//! The soak's short version: 1,000 mixed calls through the host under 1 % random faults of
//! every kind, then every invariant of `kosmo_tests::soak` checked against the emulator's data.
//! The long one is `cargo bench -p kosmo-tests --bench soak` (README, "Reliability").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kosmo_tests::soak::{SoakConfig, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_calls_under_random_faults_lose_and_double_nothing() {
    let config = SoakConfig {
        calls: 1_000,
        seed: 20_261_130,
        ..SoakConfig::default()
    };
    let report = run(&config).await.unwrap();
    println!("{report}");
    assert!(report.passed(), "{report}");
    assert_eq!(report.calls, 1_000, "{report}");
    assert!(report.faults.total() > 0, "no fault was injected: {report}");
    for invariant in [
        "no write applied twice",
        "every write done is there",
        "no call past its time budget",
        "no secret in any output",
    ] {
        assert!(
            report.checks.get(invariant).copied().unwrap_or(0) > 0,
            "{invariant} was never checked: {report}"
        );
    }
}
