//! Proof that the host is generic: one host with two registries — Clerk (generated from
//! spec/clerk.yaml) and the fixture provider `acme` (from codegen/tests/fixtures/spec/acme.yaml)
//! — and one Lua script that calls both. Clerk's calls go over HTTP to the emulator; acme's to
//! a recorder. Each provider's own wire format holds: Clerk's error body and trace header,
//! acme's own error shape and retry header.

use crate::support;

use std::sync::Arc;

use kosmo_host::{CredentialMap, Credentials, Host, HttpTransports, RunOptions, TransportFactory};
use kosmo_runtime::{Error, ProviderMeta, Transport};
use serde_json::json;
use support::Recorder;

/// Acme's requests go to the recorder, everything else over HTTP.
struct Routed {
    acme: Arc<Recorder>,
    http: HttpTransports,
}

impl TransportFactory for Routed {
    fn transport(
        &self,
        integration: &'static ProviderMeta,
        credentials: &Credentials,
    ) -> Result<Arc<dyn Transport>, Error> {
        if integration.name == "acme" {
            credentials.check(integration)?;
            return Ok(self.acme.clone());
        }
        self.http.transport(integration, credentials)
    }
}

#[tokio::test]
async fn one_script_calls_clerk_and_the_fixture_provider() {
    let emulator = clerk_emulator::Emulator::start(clerk_emulator::Config::without_limits())
        .await
        .unwrap();
    emulator.seed(2, 0);
    let acme = Arc::new(Recorder::answering(
        json!({"object": "widget", "id": "wid_7", "name": "Sprocket"}),
    ));
    let host = Host::builder()
        .integrations(&kosmo_integrations::INTEGRATIONS)
        .integrations(&kosmo_fixture_integrations::INTEGRATIONS)
        .credentials(
            CredentialMap::new()
                .with("clerk", "default", kosmo_tests::credentials_for(&emulator))
                .with(
                    "acme",
                    "default",
                    Credentials::new().with("token", "acme_t0ken"),
                ),
        )
        .transports(Routed {
            acme: acme.clone(),
            http: HttpTransports::new(kosmo_tests::quick_retries()),
        })
        .build()
        .unwrap();
    let report = host
        .run(
            r#"local clerk, acme = app.integrations.clerk, app.integrations.acme
               local users = clerk.list_users({ limit = 10 })
               local widget = acme.get_widget({ id = users[1].id })
               local ok, err = pcall(clerk.get_user, { id = "user_missing" })
               return #users, widget.id, err.kind, err.status, err.code, docs.read("acme") ~= docs.read("clerk")"#,
            RunOptions::default(),
        )
        .await;
    assert_eq!(report.error, None, "{report:?}");
    assert_eq!(
        report.result.unwrap(),
        [
            json!(2),
            json!("wid_7"),
            json!("api"),
            json!(404),
            json!("resource_not_found"),
            json!(true)
        ]
    );
    // Acme was called with the Clerk user's ID, as one path segment.
    let request = acme.last();
    assert!(
        request.path.starts_with("/widgets/user_"),
        "{}",
        request.path
    );
    let paths: Vec<String> = report.calls.iter().map(|c| c.path()).collect();
    assert_eq!(
        paths,
        [
            "integrations.clerk.list_users",
            "integrations.acme.get_widget",
            "integrations.clerk.get_user"
        ]
    );
    let names: Vec<&str> = host.integrations().iter().map(|i| i.name()).collect();
    assert_eq!(names, ["clerk", "acme"]);
}

#[test]
fn each_provider_reads_errors_in_its_own_shape() {
    use kosmo_runtime::http::parse_api_error;
    use reqwest::StatusCode;
    use reqwest::header::{HeaderMap, HeaderValue};

    let mut headers = HeaderMap::new();
    headers.insert("clerk-trace-id", HeaderValue::from_static("clerk_trace"));
    headers.insert("acme-request-id", HeaderValue::from_static("acme_request"));
    headers.insert("retry-after", HeaderValue::from_static("3"));
    headers.insert("acme-retry-in", HeaderValue::from_static("9"));
    let clerk_body = br#"{"errors":[{"message":"not found","long_message":"No user","code":"resource_not_found"}]}"#;
    let acme_body =
        br#"{"error":{"type":"no_widget","detail":"No such widget","info":{"id":"w"}}}"#;

    let clerk = parse_api_error(
        &kosmo_integrations::clerk::meta::PROVIDER,
        StatusCode::TOO_MANY_REQUESTS,
        &headers,
        clerk_body,
    );
    assert_eq!(
        (
            clerk.message.as_str(),
            clerk.code.as_deref(),
            clerk.long_message.as_deref(),
            clerk.trace_id.as_deref(),
            clerk.retry_after
        ),
        (
            "not found",
            Some("resource_not_found"),
            Some("No user"),
            Some("clerk_trace"),
            Some(3)
        )
    );
    let acme = parse_api_error(
        &kosmo_fixture_integrations::acme::meta::PROVIDER,
        StatusCode::TOO_MANY_REQUESTS,
        &headers,
        acme_body,
    );
    assert_eq!(
        (
            acme.message.as_str(),
            acme.code.as_deref(),
            acme.meta.clone(),
            acme.trace_id.as_deref(),
            acme.retry_after
        ),
        (
            "No such widget",
            Some("no_widget"),
            Some(json!({"id": "w"})),
            Some("acme_request"),
            Some(9)
        )
    );
    // Each reads only its own shape: Clerk's pointers find nothing in acme's body.
    let crossed = parse_api_error(
        &kosmo_integrations::clerk::meta::PROVIDER,
        StatusCode::NOT_FOUND,
        &HeaderMap::new(),
        acme_body,
    );
    assert_eq!(crossed.code, None);
    assert_eq!(crossed.message, String::from_utf8_lossy(acme_body));
}
