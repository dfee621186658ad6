//! The secret key never appears in errors, logs or debug output.
//!
//! Its own test binary: `tracing` caches per-callsite interest process-wide, so a test running
//! on another thread could register the client's callsites before this test's subscriber exists
//! and hide the events it asserts on.

use std::sync::{Arc, Mutex};

use clerk_emulator::{Fault, FaultKind};
use kosmo_integrations::clerk::meta::PROVIDER;
use kosmo_runtime::{Credentials, HttpConfig, HttpTransport};
use kosmo_tests::{Harness, credentials_for};
use serde_json::json;

// ---------------------------------------------------------------------------------------------
// The key never leaks
// ---------------------------------------------------------------------------------------------

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_secret_key_never_appears_in_errors_logs_or_debug_output() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let harness = Harness::start().await;
    let key = harness.emulator.secret_key().to_string();
    let mut texts = vec![
        format!("{:?}", harness.transport),
        format!("{:?}", credentials_for(&harness.emulator)),
    ];
    harness.emulator.inject(
        Fault::new(FaultKind::ServerError { status: 500 })
            .on("GET", "/v1/users")
            .times(2),
    );
    harness.call("list_users", json!({})).await.unwrap();
    for (function, args) in [
        ("get_user", json!({"id": "user_missing"})),
        (
            "create_user",
            json!({"email_address": ["not-an-email"], "password": "short"}),
        ),
        ("list_users", json!({"limit": 0})),
        ("api_get", json!({"path": "https://evil.example/x"})),
    ] {
        let error = harness.call(function, args).await.unwrap_err();
        texts.push(error.to_string());
        texts.push(format!("{error:?}"));
    }
    let wrong = Credentials::new().with("secret_key", "pk_test_wrong_kind");
    texts.push(
        HttpTransport::new(&PROVIDER, &wrong, HttpConfig::default())
            .unwrap_err()
            .to_string(),
    );

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retrying"), "the retries were logged: {logs}");
    assert!(logs.contains("status=500"), "{logs}");
    texts.push(logs);
    for text in &texts {
        assert!(!text.contains(&key), "the key leaked into: {text}");
        assert!(!text.contains("pk_test_wrong_kind"), "{text}");
    }
}
