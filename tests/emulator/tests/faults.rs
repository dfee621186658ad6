//! Faults, rate limits, request recording and the handle's other controls, seen from a real
//! HTTP client over loopback.

use crate::common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use clerk_emulator::{Config, Emulator, Fault, FaultKind, ObjectKind, RateLimit};
use common::Api;
use serde_json::{Value, json};

fn user_body(email: &str) -> Value {
    json!({ "email_address": [email] })
}

#[tokio::test]
async fn too_many_requests_sends_clerks_body_and_retry_after_verbatim_and_applies_nothing() {
    let api = Api::start().await;
    api.emulator.inject(
        Fault::new(FaultKind::TooManyRequests {
            retry_after: Some("7".into()),
        })
        .on("POST", "/v1/users"),
    );
    let answer = api.post("/users", user_body("limited@example.test")).await;
    assert_eq!(answer.status, 429);
    assert_eq!(answer.code(), "too_many_requests");
    assert_eq!(answer.headers["retry-after"], "7");
    let trace = answer.body["clerk_trace_id"].as_str().unwrap();
    assert_eq!(answer.headers["clerk-trace-id"], trace);
    assert_eq!(api.emulator.count(ObjectKind::User), 0);

    let date = "Wed, 21 Oct 2037 07:28:00 GMT";
    api.emulator.inject(Fault::new(FaultKind::TooManyRequests {
        retry_after: Some(date.into()),
    }));
    let answer = api.get("/users").await;
    assert_eq!(
        (
            answer.status,
            answer.headers["retry-after"].to_str().unwrap()
        ),
        (429, date)
    );

    api.emulator
        .inject(Fault::new(FaultKind::TooManyRequests { retry_after: None }));
    let answer = api.get("/users").await;
    assert_eq!(answer.status, 429);
    assert!(answer.headers.get("retry-after").is_none());
    // The queue is empty again.
    assert_eq!(api.get("/users").await.status, 200);
}

#[tokio::test]
async fn server_errors_apply_or_not_as_asked() {
    let api = Api::start().await;
    api.emulator
        .inject(Fault::new(FaultKind::ServerError { status: 503 }).on("POST", "/v1/users"));
    let answer = api.post("/users", user_body("a@example.test")).await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.code(), "internal_clerk_error");
    assert!(answer.body["errors"][0]["long_message"].is_string());
    assert_eq!(api.emulator.count(ObjectKind::User), 0, "not applied");

    api.emulator.inject(
        Fault::new(FaultKind::ServerErrorAfterApplying { status: 500 }).on("POST", "/v1/users"),
    );
    let answer = api.post("/users", user_body("a@example.test")).await;
    assert_eq!(
        (answer.status, answer.code()),
        (500, "internal_clerk_error")
    );
    assert_eq!(
        api.emulator.count(ObjectKind::User),
        1,
        "applied before the 500"
    );
    // A retry now collides with the first, applied attempt.
    let retry = api.post("/users", user_body("a@example.test")).await;
    assert_eq!(
        (retry.status, retry.code()),
        (422, "form_identifier_exists")
    );
}

#[tokio::test]
async fn faults_match_method_and_exact_wire_path_and_count_down() {
    let api = Api::start().await;
    api.emulator.inject(
        Fault::new(FaultKind::ServerError { status: 502 })
            .on("GET", "/v1/users/count")
            .times(2),
    );
    assert_eq!(api.get("/users").await.status, 200, "other path");
    assert_eq!(
        api.post("/users", user_body("x@example.test")).await.status,
        200
    );
    assert_eq!(api.get("/users/count").await.status, 502);
    assert_eq!(
        api.get("/users/count?limit=1").await.status,
        502,
        "query is not part of the path"
    );
    assert_eq!(api.get("/users/count").await.status, 200, "used up");

    api.emulator
        .inject(Fault::new(FaultKind::ServerError { status: 500 }).times(3));
    api.emulator.clear_faults();
    assert_eq!(api.get("/users").await.status, 200);
}

#[tokio::test]
async fn a_fault_can_let_its_first_matching_requests_through() {
    let api = Api::start().await;
    api.emulator.inject(
        Fault::new(FaultKind::ServerError { status: 503 })
            .on("GET", "/v1/users")
            .skip(2)
            .times(2),
    );
    assert_eq!(api.get("/users/count").await.status, 200, "other path");
    assert_eq!(api.get("/users").await.status, 200, "skipped 1");
    assert_eq!(api.get("/users?offset=1").await.status, 200, "skipped 2");
    assert_eq!(api.get("/users").await.status, 503);
    assert_eq!(api.get("/users").await.status, 503);
    assert_eq!(api.get("/users").await.status, 200, "used up");

    // `skip` on the control endpoint, and a skipping fault counts requests another applies to.
    let fault = json!({"method": "GET", "path": "/v1/users", "kind": {"type": "server_error", "status": 500}, "skip": 1});
    let response = api
        .client
        .post(format!("http://{}/__emulator/faults", api.emulator.addr()))
        .header("content-type", "application/json")
        .body(fault.to_string())
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    api.emulator
        .inject(Fault::new(FaultKind::ServerError { status: 502 }).on("GET", "/v1/users"));
    assert_eq!(
        api.get("/users").await.status,
        502,
        "the second fault; the first skips it"
    );
    assert_eq!(api.get("/users").await.status, 500);
    assert_eq!(api.get("/users").await.status, 200);
}

#[tokio::test]
async fn a_delay_waits_then_answers_normally() {
    let api = Api::start().await;
    api.emulator
        .inject(Fault::new(FaultKind::Delay(Duration::from_millis(300))).on("POST", "/v1/users"));
    let started = Instant::now();
    let answer = api.post("/users", user_body("slow@example.test")).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(answer.status, 200);
    assert_eq!(api.emulator.count(ObjectKind::User), 1);
    // The request was recorded on arrival, once.
    assert_eq!(api.emulator.requests().len(), 1);
}

#[tokio::test]
async fn dropped_connections_give_the_client_no_status_at_all() {
    let api = Api::start().await;
    api.emulator
        .inject(Fault::new(FaultKind::DropConnection).on("POST", "/v1/users"));
    let error = api
        .request("POST", "/users")
        .header("content-type", "application/json")
        .body(user_body("drop@example.test").to_string())
        .send()
        .await
        .unwrap_err();
    assert!(error.status().is_none(), "{error:?}");
    assert!(!error.is_timeout(), "{error:?}");
    assert_eq!(api.emulator.count(ObjectKind::User), 0, "not applied");
    assert_eq!(api.emulator.requests().len(), 1, "but recorded");

    api.emulator
        .inject(Fault::new(FaultKind::DropConnectionAfterApplying).on("POST", "/v1/organizations"));
    let error = api
        .request("POST", "/organizations")
        .header("content-type", "application/json")
        .body(json!({"name": "Applied"}).to_string())
        .send()
        .await
        .unwrap_err();
    assert!(error.status().is_none(), "{error:?}");
    assert_eq!(api.emulator.count(ObjectKind::Organization), 1, "applied");
}

/// Raw bytes from a socket, to see exactly what a fault sends.
fn raw_exchange(addr: std::net::SocketAddr, request: &str) -> Vec<u8> {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut received = Vec::new();
    let _ = stream.read_to_end(&mut received);
    received
}

fn get_request(emulator: &Emulator, path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {}\r\nconnection: close\r\n\r\n",
        emulator.addr(),
        emulator.secret_key()
    )
}

#[test]
fn a_dropped_connection_sends_zero_bytes() {
    let emulator = Emulator::spawn(Config::default()).unwrap();
    emulator.inject(Fault::new(FaultKind::DropConnection));
    let received = raw_exchange(emulator.addr(), &get_request(&emulator, "/v1/users"));
    assert!(
        received.is_empty(),
        "{}",
        String::from_utf8_lossy(&received)
    );
}

#[test]
fn a_truncated_body_promises_the_full_length_and_sends_half() {
    let emulator = Emulator::spawn(Config::default()).unwrap();
    emulator.seed(3, 0);
    emulator.inject(Fault::new(FaultKind::TruncatedBody).on("GET", "/v1/users"));
    let received = raw_exchange(emulator.addr(), &get_request(&emulator, "/v1/users"));
    let text = String::from_utf8_lossy(&received).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length: "))
        .expect("content-length")
        .parse()
        .unwrap();
    assert!(length > 1000, "three users of JSON: {length}");
    assert_eq!(body.len(), length / 2);
    assert!(serde_json::from_str::<Value>(body).is_err());
}

#[tokio::test]
async fn a_truncated_body_is_a_body_error_for_the_client_and_the_request_was_applied() {
    let api = Api::start().await;
    api.emulator
        .inject(Fault::new(FaultKind::TruncatedBody).on("POST", "/v1/invitations"));
    let response = api
        .request("POST", "/invitations")
        .header("content-type", "application/json")
        .body(json!({"email_address": "cut@example.test"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.is_err());
    assert_eq!(api.emulator.count(ObjectKind::Invitation), 1);
}

#[tokio::test]
async fn non_json_and_empty_bodies() {
    let api = Api::start().await;
    api.emulator.inject(
        Fault::new(FaultKind::NonJson {
            status: 502,
            content_type: "text/html; charset=utf-8".into(),
            body: "<html>bad gateway</html>".into(),
        })
        .on("POST", "/v1/users"),
    );
    let answer = api.post("/users", user_body("html@example.test")).await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(answer.body, json!("<html>bad gateway</html>"));
    assert_eq!(api.emulator.count(ObjectKind::User), 0, "not applied");

    api.emulator
        .inject(Fault::new(FaultKind::EmptyBody { status: 200 }).on("POST", "/v1/users"));
    let response = api
        .request("POST", "/users")
        .header("content-type", "application/json")
        .body(user_body("empty@example.test").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-length"], "0");
    assert!(response.bytes().await.unwrap().is_empty());
    assert_eq!(api.emulator.count(ObjectKind::User), 1, "applied");
}

#[tokio::test]
async fn rate_limits_block_until_the_window_ends() {
    let api = Api::start().await;
    api.emulator.set_rate_limit(RateLimit {
        method: Some("GET".into()),
        path: Some("/v1/users/count".into()),
        max_requests: 2,
        window: Duration::from_millis(1500),
    });
    assert_eq!(api.get("/users/count").await.status, 200);
    assert_eq!(api.get("/users/count").await.status, 200);
    let limited = api.get("/users/count").await;
    assert_eq!((limited.status, limited.code()), (429, "too_many_requests"));
    assert_eq!(limited.headers["retry-after"], "2", "1.5 s rounds up");
    assert_eq!(api.get("/users").await.status, 200, "other paths are free");
    assert_eq!(
        api.post("/users", user_body("c@example.test")).await.status,
        200
    );
    assert_eq!(api.get("/users/count").await.status, 429, "still blocked");
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(api.get("/users/count").await.status, 200, "a new window");

    // Every rejected request was still recorded.
    let counted = api
        .emulator
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/users/count")
        .count();
    assert_eq!(counted, 5);
}

#[tokio::test]
async fn a_short_rate_limit_says_retry_after_at_least_one_second() {
    let api = Api::start().await;
    api.emulator.set_rate_limit(RateLimit {
        method: None,
        path: None,
        max_requests: 1,
        window: Duration::from_millis(200),
    });
    assert_eq!(api.get("/users").await.status, 200);
    let limited = api.get("/organizations").await;
    assert_eq!(limited.status, 429, "no path: one counter for all");
    assert_eq!(limited.headers["retry-after"], "1");
}

#[tokio::test]
async fn requests_are_recorded_in_order_with_decoded_query_headers_and_body() {
    let api = Api::start().await;
    api.get("/users?email_address=a%2Bb%40example.test&email_address=c@example.test&limit=5")
        .await;
    let bad = api
        .client
        .get(api.url("/users"))
        .header("authorization", "Bearer wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    api.post("/users", json!({"email_address": ["rec@example.test"]}))
        .await;
    api.call("DELETE", "/users/user_nope", None).await;

    let requests = api.emulator.requests();
    assert_eq!(requests.len(), 4);
    let first = &requests[0];
    assert_eq!(first.method, "GET");
    assert_eq!(first.path, "/v1/users");
    assert_eq!(
        first.raw_query.as_deref(),
        Some("email_address=a%2Bb%40example.test&email_address=c@example.test&limit=5")
    );
    assert_eq!(
        first.query_values("email_address"),
        ["a+b@example.test", "c@example.test"]
    );
    assert_eq!(first.header("Clerk-API-Version"), Some("2026-05-12"));
    assert!(
        first
            .headers
            .iter()
            .all(|(name, _)| *name == name.to_lowercase())
    );
    assert!(first.body.is_empty() && first.json.is_none());
    assert_eq!(requests[1].header("authorization"), Some("Bearer wrong"));
    assert_eq!(
        requests[2].json,
        Some(json!({"email_address": ["rec@example.test"]}))
    );
    assert_eq!(requests[3].method, "DELETE");

    assert_eq!(api.emulator.take_requests().len(), 4);
    assert!(api.emulator.requests().is_empty());
}

#[tokio::test]
async fn seed_count_and_reset() {
    let api = Api::start_with(Config {
        seed_users: 2,
        seed_organizations: 1,
        ..Config::default()
    })
    .await;
    assert_eq!(api.emulator.count(ObjectKind::User), 2);
    assert_eq!(api.emulator.count(ObjectKind::Organization), 1);
    api.emulator.seed(3, 2);
    assert_eq!(api.emulator.count(ObjectKind::User), 5);
    assert_eq!(api.emulator.count(ObjectKind::Organization), 3);
    let users = api.get("/users?limit=500").await.body;
    let emails: std::collections::HashSet<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email_addresses"][0]["email_address"].as_str().unwrap())
        .collect();
    assert_eq!(emails.len(), 5, "seeded emails are unique");
    assert!(
        users
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["first_name"].is_string())
    );

    api.emulator
        .inject(Fault::new(FaultKind::ServerError { status: 500 }));
    api.emulator.set_rate_limit(RateLimit {
        method: None,
        path: None,
        max_requests: 0,
        window: Duration::from_secs(60),
    });
    api.emulator.reset();
    assert_eq!(api.emulator.count(ObjectKind::User), 0);
    assert_eq!(api.emulator.count(ObjectKind::Organization), 0);
    assert!(api.emulator.requests().is_empty());
    assert_eq!(api.get("/users").await.status, 200, "no fault, no limit");
}

#[tokio::test]
async fn ids_are_reproducible_across_runs() {
    async fn first_ids() -> (String, String) {
        let api = Api::start().await;
        let user = api.user("same@example.test").await;
        let org = api.organization("Same", None).await;
        (
            user["id"].as_str().unwrap().to_string(),
            org["id"].as_str().unwrap().to_string(),
        )
    }
    assert_eq!(first_ids().await, first_ids().await);
}

#[test]
fn a_spawned_emulator_serves_sync_callers_and_stops_on_drop() {
    let emulator = Emulator::spawn(Config::default()).unwrap();
    let addr = emulator.addr();
    assert_eq!(emulator.base_url(), format!("http://{addr}/v1"));
    let received = raw_exchange(addr, &get_request(&emulator, "/v1/users/count"));
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.contains(r#"{"object":"total_count","total_count":0}"#),
        "{text}"
    );
    drop(emulator);
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "stopped listening"
    );
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let emulator = Emulator::start(Config::default()).await.unwrap();
    let addr = emulator.addr();
    emulator.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
