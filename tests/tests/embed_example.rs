//! The embedding example (runtime/host/examples/embed.rs), compiled into this test and run
//! against the emulator: the README's "Embedding the host" code works as printed.

#[allow(dead_code)] // the example's `main` is for `cargo run --example embed`
#[path = "../../runtime/host/examples/embed.rs"]
mod embed;

use kosmo_host::CredentialMap;
use serde_json::json;

#[tokio::test]
async fn the_embedding_example_runs_a_script_against_the_emulator() {
    let emulator = clerk_emulator::Emulator::start(clerk_emulator::Config::default())
        .await
        .unwrap();
    emulator.seed(3, 1);
    let credentials =
        CredentialMap::new().with("clerk", "default", kosmo_tests::credentials_for(&emulator));
    let report = embed::embed(
        r#"local clerk = app.integrations.clerk
           print("users:", clerk.count_users({}).total_count)
           return #clerk.list_users({ limit = 2 }), clerk.list_organizations({}).total_count"#,
        credentials,
    )
    .await
    .unwrap();
    assert_eq!(report.error, None, "{report:?}");
    assert_eq!(report.output, "users:\t3");
    assert_eq!(report.result, Some(vec![json!(2), json!(1)]));
    assert_eq!(report.calls.len(), 3);
    // A write goes to the approver, which asks only on a terminal; a test has none, so the
    // answer is no and nothing is created.
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        let refused = embed::embed(
            r#"return app.integrations.clerk.create_organization({ name = "Nope" })"#,
            CredentialMap::new().with("clerk", "default", kosmo_tests::credentials_for(&emulator)),
        )
        .await
        .unwrap();
        assert!(
            refused
                .error
                .as_deref()
                .unwrap()
                .contains("write requires approval"),
            "{refused:?}"
        );
    }
}
