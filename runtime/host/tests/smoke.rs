#![allow(clippy::unwrap_used)]
use kosmo_host::{Host, RunOptions};

fn assert_send<T: Send>(_: &T) {}

#[tokio::test(flavor = "multi_thread")]
async fn runs() {
    let host = Host::builder()
        .integrations(&kosmo_integrations::INTEGRATIONS)
        .build()
        .unwrap();
    let report = tokio::spawn(async move {
        let future = host.run("print('hi') return 1 + 1", RunOptions::default());
        assert_send(&future);
        future.await
    })
    .await
    .unwrap();
    assert_eq!(report.output, "hi");
    assert_eq!(report.result, Some(vec![serde_json::json!(2)]));
}
