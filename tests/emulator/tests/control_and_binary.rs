//! The `/__emulator` control endpoints and the `clerk-emulator` binary.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use clerk_emulator::{DEFAULT_SECRET_KEY, Fault, FaultKind, ObjectKind, RateLimit};
use common::Api;
use serde_json::{Value, json};

async fn control(api: &Api, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("http://{}/__emulator/{path}", api.emulator.addr());
    let mut request = api
        .client
        .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap(),
    )
}

#[tokio::test]
async fn control_endpoints_seed_fault_limit_inspect_and_reset() {
    let api = Api::start().await;
    let (status, seeded) = control(
        &api,
        "POST",
        "seed",
        Some(json!({"users": 2, "organizations": 1})),
    )
    .await;
    assert_eq!(
        (status, seeded),
        (200, json!({"users": 2, "organizations": 1}))
    );
    assert_eq!(api.emulator.count(ObjectKind::User), 2);

    let (status, _) = control(
        &api,
        "POST",
        "faults",
        Some(json!({"method": "GET", "path": "/v1/users", "kind": {"type": "too_many_requests", "retry_after": "2"}, "times": 2})),
    )
    .await;
    assert_eq!(status, 200);
    for _ in 0..2 {
        let limited = api.get("/users").await;
        assert_eq!(
            (
                limited.status,
                limited.headers["retry-after"].to_str().unwrap()
            ),
            (429, "2")
        );
    }
    assert_eq!(api.get("/users").await.status, 200);

    control(
        &api,
        "POST",
        "faults",
        Some(json!({"kind": {"type": "delay", "millis": 10}})),
    )
    .await;
    control(&api, "POST", "faults", Some(json!({"kind": {"type": "non_json", "status": 502, "content_type": "text/plain", "body": "gateway"}}))).await;
    assert_eq!(api.get("/users").await.status, 200, "the delay");
    assert_eq!(api.get("/users").await.body, json!("gateway"));
    let (status, problem) = control(
        &api,
        "POST",
        "faults",
        Some(json!({"kind": {"type": "explode"}})),
    )
    .await;
    assert_eq!(status, 400, "{problem}");

    let (status, _) = control(
        &api,
        "POST",
        "rate_limits",
        Some(json!({"method": "POST", "path": "/v1/users", "max_requests": 0, "window_ms": 60000})),
    )
    .await;
    assert_eq!(status, 200);
    let limited = api.post("/users", json!({})).await;
    assert_eq!(
        (
            limited.status,
            limited.headers["retry-after"].to_str().unwrap()
        ),
        (429, "60")
    );
    control(&api, "DELETE", "rate_limits", None).await;
    assert_eq!(
        api.post("/users", json!({"email_address": ["ctl@example.test"]}))
            .await
            .status,
        200
    );

    let (status, requests) = control(&api, "GET", "requests", None).await;
    assert_eq!(status, 200);
    let requests = requests.as_array().unwrap();
    assert_eq!(requests.len(), 7, "control calls are not recorded");
    let last = requests.last().unwrap();
    assert_eq!(
        (last["method"].as_str(), last["path"].as_str()),
        (Some("POST"), Some("/v1/users"))
    );
    assert_eq!(last["body"], json!({"email_address": ["ctl@example.test"]}));
    assert!(
        last["headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h[0] == "authorization")
    );

    let (_, cleared) = control(&api, "DELETE", "requests", None).await;
    assert_eq!(cleared, json!({"cleared": 7}));
    assert!(api.emulator.requests().is_empty());
    control(&api, "POST", "reset", None).await;
    assert_eq!(api.emulator.count(ObjectKind::User), 0);
    assert_eq!(control(&api, "GET", "nothing", None).await.0, 404);
}

#[test]
fn faults_and_rate_limits_round_trip_through_json() {
    for kind in [
        FaultKind::TooManyRequests {
            retry_after: Some("1".into()),
        },
        FaultKind::ServerError { status: 500 },
        FaultKind::ServerErrorAfterApplying { status: 502 },
        FaultKind::Delay(Duration::from_millis(1500)),
        FaultKind::DropConnection,
        FaultKind::DropConnectionAfterApplying,
        FaultKind::TruncatedBody,
        FaultKind::NonJson {
            status: 200,
            content_type: "text/html".into(),
            body: "<p>".into(),
        },
        FaultKind::EmptyBody { status: 204 },
    ] {
        let fault = Fault::new(kind.clone()).on("GET", "/v1/users").times(3);
        let text = serde_json::to_string(&fault).unwrap();
        let back: Fault = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (back.kind, back.times, back.path.as_deref()),
            (kind, 3, Some("/v1/users")),
            "{text}"
        );
    }
    let delay: Value =
        serde_json::to_value(Fault::new(FaultKind::Delay(Duration::from_secs(2)))).unwrap();
    assert_eq!(delay["kind"], json!({"type": "delay", "millis": 2000}));
    let limit = RateLimit {
        method: None,
        path: Some("/v1/users".into()),
        max_requests: 5,
        window: Duration::from_secs(10),
    };
    let value = serde_json::to_value(&limit).unwrap();
    assert_eq!(
        value,
        json!({"method": null, "path": "/v1/users", "max_requests": 5, "window_ms": 10000})
    );
    assert_eq!(serde_json::from_value::<RateLimit>(value).unwrap(), limit);
}

/// Kills the child even when an assertion fails.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_binary_prints_its_url_and_key_then_serves() {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_clerk-emulator"))
            .args(["--port", "0", "--seed-users", "2"])
            .env_remove("CLERK_SECRET_KEY")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base_url = first
        .strip_prefix("Clerk emulator listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    assert!(
        base_url.starts_with("http://127.0.0.1:") && base_url.ends_with("/v1"),
        "{base_url}"
    );
    assert_eq!(
        lines.next().unwrap().unwrap(),
        format!("Secret key: {DEFAULT_SECRET_KEY}")
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (status, body) = runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(format!("{base_url}/users/count"))
            .header("authorization", format!("Bearer {DEFAULT_SECRET_KEY}"))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.bytes().await.unwrap())
    });
    assert_eq!(status, 200);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body, json!({"object": "total_count", "total_count": 2}));
    child.0.kill().unwrap();
}

#[test]
fn the_binary_mocks_the_operations_of_an_openapi_file() {
    let spec =
        std::env::temp_dir().join(format!("clerk-emulator-spec-{}.json", std::process::id()));
    let document = json!({"openapi": "3.0.3", "paths": {"/widgets/{widget_id}": {"get": {"responses": {
        "200": {"description": "a widget", "content": {"application/json": {"schema": {
            "type": "object",
            "properties": {"object": {"type": "string", "enum": ["widget"]}, "id": {"type": "string"}}
        }}}}
    }}}}});
    std::fs::write(&spec, document.to_string()).unwrap();
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_clerk-emulator"))
            .args(["--port", "0", "--openapi"])
            .arg(&spec)
            .env_remove("CLERK_SECRET_KEY")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base_url = first
        .strip_prefix("Clerk emulator listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    lines.next().unwrap().unwrap();
    let counts = lines.next().unwrap().unwrap();
    assert!(
        counts.starts_with("Operations: ")
            && counts.ends_with(" stateful, 1 mocked from the OpenAPI spec"),
        "{counts}"
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (status, mock_header, body) = runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(format!("{base_url}/widgets/w_1"))
            .header("authorization", format!("Bearer {DEFAULT_SECRET_KEY}"))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let mock_header = response.headers().get("x-emulator-mock").cloned();
        (status, mock_header, response.bytes().await.unwrap())
    });
    let _ = std::fs::remove_file(&spec);
    assert_eq!(status, 200);
    assert_eq!(mock_header.unwrap(), "true");
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body, json!({"object": "widget", "id": "w_1"}));

    // A spec that cannot be read stops the binary with a message.
    let failed = Command::new(env!("CARGO_BIN_EXE_clerk-emulator"))
        .args(["--port", "0", "--openapi", "/nonexistent/spec.yml"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("--openapi /nonexistent/spec.yml"),
        "{stderr}"
    );
}

#[test]
fn the_binary_takes_its_key_from_the_environment() {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_clerk-emulator"))
            .args(["--port", "0"])
            .env("CLERK_SECRET_KEY", "sk_test_from_env")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    lines.next().unwrap().unwrap();
    assert_eq!(
        lines.next().unwrap().unwrap(),
        "Secret key: sk_test_from_env"
    );
}

#[tokio::test]
async fn pinned_ids_are_handed_out_in_order_then_random_ones() {
    let api = Api::start().await;
    api.emulator
        .pin_ids(&["user_2abc123", "user_2def456", "org_2abc123"])
        .unwrap();
    let first = api
        .ok(
            "POST",
            "/users",
            Some(json!({"email_address": ["pin-1@example.test"]})),
        )
        .await;
    let second = api
        .ok(
            "POST",
            "/users",
            Some(json!({"email_address": ["pin-2@example.test"]})),
        )
        .await;
    let third = api
        .ok(
            "POST",
            "/users",
            Some(json!({"email_address": ["pin-3@example.test"]})),
        )
        .await;
    assert_eq!(first["id"], "user_2abc123");
    assert_eq!(second["id"], "user_2def456");
    assert_ne!(third["id"], "user_2abc123");
    assert!(third["id"].as_str().unwrap().starts_with("user_"));
    // Other ID kinds of the same objects (email identifications) are not affected.
    assert!(
        first["email_addresses"][0]["id"]
            .as_str()
            .unwrap()
            .starts_with("idn_")
    );
    let organization = api
        .ok(
            "POST",
            "/organizations",
            Some(json!({"name": "Pinned", "created_by": "user_2abc123"})),
        )
        .await;
    assert_eq!(organization["id"], "org_2abc123");
    let fetched = api.ok("GET", "/users/user_2def456", None).await;
    assert_eq!(
        fetched["email_addresses"][0]["email_address"],
        "pin-2@example.test"
    );

    // Refused, pinning nothing: an ID in use, one without a prefix, a duplicate.
    assert!(api.emulator.pin_ids(&["sess_1", "user_2abc123"]).is_err());
    assert!(api.emulator.pin_ids(&["nounderscore"]).is_err());
    assert!(api.emulator.pin_ids(&["sess_2", "sess_2"]).is_err());
    let session = api
        .ok(
            "POST",
            "/sessions",
            Some(json!({"user_id": "user_2abc123"})),
        )
        .await;
    assert_ne!(session["id"], "sess_1");
    assert_ne!(session["id"], "sess_2");
    // A reset forgets pins.
    api.emulator.pin_ids(&["user_after_reset"]).unwrap();
    api.emulator.reset();
    let user = api
        .ok(
            "POST",
            "/users",
            Some(json!({"email_address": ["pin-4@example.test"]})),
        )
        .await;
    assert_ne!(user["id"], "user_after_reset");
}
