//! The HTTP transport against the emulator: credentials, headers, error mapping, retries under
//! every injected fault, path injection, and the secret key never leaking.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use clerk_emulator::{Config, Emulator, Fault, FaultKind, ObjectKind, RateLimit};
use kosmo_integrations::clerk::{self, meta::PROVIDER};
use kosmo_runtime::http::resolve_base_url;
use kosmo_runtime::{Credentials, Error, HttpConfig, HttpTransport, RetryPolicy};
use kosmo_tests::{Harness, credentials_for, quick_retries};
use serde_json::{Value, json};

fn api_error(error: Error) -> kosmo_runtime::ApiError {
    match error {
        Error::Api(api) => *api,
        other => panic!("expected an API error, got {other:?}"),
    }
}

async fn create_user(harness: &Harness, email: &str) -> Value {
    harness
        .call("create_user", json!({"email_address": [email]}))
        .await
        .unwrap()
}

async fn create_organization(harness: &Harness, name: &str, owner: &Value) -> Value {
    harness
        .call(
            "create_organization",
            json!({"name": name, "created_by": owner["id"]}),
        )
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Credentials and configuration
// ---------------------------------------------------------------------------------------------

#[test]
fn a_missing_key_says_how_to_set_one() {
    let error = HttpTransport::new(&PROVIDER, &Credentials::new(), HttpConfig::default())
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("Clerk integration is not configured."),
        "{error}"
    );
    assert!(error.contains("CLERK_SECRET_KEY"), "{error}");
    assert!(error.contains("secret_key"), "{error}");
}

#[test]
fn a_publishable_key_is_refused_before_any_request() {
    let key = "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k";
    let credentials = Credentials::new().with("secret_key", key);
    let error = HttpTransport::new(&PROVIDER, &credentials, HttpConfig::default())
        .unwrap_err()
        .to_string();
    assert!(error.contains("publishable key"), "{error}");
    assert!(error.contains("secret key"), "{error}");
    assert!(!error.contains(key), "the key leaked: {error}");

    let other = Credentials::new().with("secret_key", "ak_0123456789");
    let error = HttpTransport::new(&PROVIDER, &other, HttpConfig::default())
        .unwrap_err()
        .to_string();
    assert!(error.contains("must start with `sk_`"), "{error}");
    assert!(!error.contains("ak_0123456789"), "{error}");

    let header_breaker = Credentials::new().with("secret_key", "sk_test_a\r\nX-Evil: 1");
    let error = HttpTransport::new(&PROVIDER, &header_breaker, HttpConfig::default())
        .unwrap_err()
        .to_string();
    assert!(error.contains("control characters"), "{error}");
    assert!(!error.contains("X-Evil"), "{error}");
}

#[test]
fn credentials_come_from_the_environment_variables_the_manifest_names() {
    let credentials = Credentials::from_lookup(&PROVIDER, |name| match name {
        "CLERK_SECRET_KEY" => Some("sk_test_from_env".into()),
        "CLERK_API_URL" => Some("http://127.0.0.1:9/v1".into()),
        _ => None,
    });
    assert!(credentials.is_set("secret_key"));
    assert_eq!(
        credentials.plain(&PROVIDER, "url").as_deref(),
        Some("http://127.0.0.1:9/v1")
    );
    assert_eq!(
        credentials.plain(&PROVIDER, "secret_key"),
        None,
        "secrets are never plain"
    );
    let blank = Credentials::from_lookup(&PROVIDER, |_| Some("  ".into()));
    assert!(
        !blank.is_set("secret_key"),
        "an empty variable counts as unset"
    );
}

#[test]
fn the_base_url_defaults_and_gains_v1_when_it_has_no_path() {
    assert_eq!(
        resolve_base_url(&PROVIDER, None).unwrap(),
        "https://api.clerk.com/v1"
    );
    for (given, expected) in [
        ("http://127.0.0.1:8787", "http://127.0.0.1:8787/v1"),
        ("http://127.0.0.1:8787/", "http://127.0.0.1:8787/v1"),
        ("http://127.0.0.1:8787/v1/", "http://127.0.0.1:8787/v1"),
        (
            "https://proxy.example.test/clerk/v1",
            "https://proxy.example.test/clerk/v1",
        ),
    ] {
        assert_eq!(
            resolve_base_url(&PROVIDER, Some(given)).unwrap(),
            expected,
            "{given}"
        );
    }
    for bad in [
        "not a url",
        "ftp://example.test",
        "https://user:pass@example.test/v1",
        "https://example.test/v1?x=1",
        "https://example.test/v1#top",
    ] {
        let error = resolve_base_url(&PROVIDER, Some(bad))
            .unwrap_err()
            .to_string();
        assert!(error.contains("`url`"), "{bad}: {error}");
    }
}

#[tokio::test]
async fn a_url_without_a_path_reaches_the_v1_api() {
    let emulator = Emulator::start(Config::without_limits()).await.unwrap();
    let credentials = Credentials::new()
        .with("secret_key", emulator.secret_key())
        .with("url", format!("http://{}", emulator.addr()));
    let transport = HttpTransport::new(&PROVIDER, &credentials, quick_retries()).unwrap();
    let count = clerk::call(&transport, "count_users", json!({}))
        .await
        .unwrap();
    assert_eq!(count["total_count"], 0);
    assert_eq!(emulator.requests()[0].path, "/v1/users/count");
}

#[tokio::test]
async fn every_request_carries_the_key_the_version_the_user_agent_and_accepts_compression() {
    let harness = Harness::start().await;
    harness.call("list_users", json!({})).await.unwrap();
    let request = &harness.emulator.requests()[0];
    assert_eq!(
        request.header("authorization").unwrap(),
        format!("Bearer {}", harness.emulator.secret_key())
    );
    assert_eq!(request.header("clerk-api-version"), Some("2026-05-12"));
    assert!(
        request
            .header("user-agent")
            .unwrap()
            .starts_with("kosmo-runtime/"),
        "{:?}",
        request.header("user-agent")
    );
    let accept = request.header("accept-encoding").unwrap();
    assert!(accept.contains("gzip") && accept.contains("br"), "{accept}");
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn api_errors_keep_status_code_message_detail_and_trace_id() {
    let harness = Harness::start().await;
    let error = harness
        .call("get_user", json!({"id": "user_missing"}))
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("Clerk API error (404): not found"),
        "{text}"
    );
    let api = api_error(error);
    assert_eq!(api.status, 404);
    assert_eq!(api.code.as_deref(), Some("resource_not_found"));
    assert!(api.long_message.unwrap().contains("user_missing"));
    let trace = api.trace_id.expect("trace id");
    assert!(!trace.is_empty());
    assert!(api.body.contains(&trace));
    assert_eq!(api.retry_after, None);
}

#[tokio::test]
async fn form_errors_carry_their_meta() {
    let harness = Harness::start().await;
    create_user(&harness, "taken@example.test").await;
    let api = api_error(
        harness
            .call(
                "create_user",
                json!({"email_address": ["taken@example.test"]}),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (api.status, api.code.as_deref()),
        (422, Some("form_identifier_exists"))
    );
    assert_eq!(api.meta.unwrap()["param_name"], "email_address");

    // Raw helpers can send fields Clerk does not know; Clerk's answer comes back whole.
    let api = api_error(
        harness
            .call(
                "api_post",
                json!({"path": "/users", "body": {"favourite_colour": "teal"}}),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (api.status, api.code.as_deref()),
        (422, Some("form_param_unknown"))
    );
    assert_eq!(api.meta.unwrap()["param_name"], "favourite_colour");
}

#[tokio::test]
async fn duplicate_records_and_wrong_keys_are_api_errors() {
    let harness = Harness::start().await;
    let user = create_user(&harness, "owner@example.test").await;
    let org = create_organization(&harness, "Dup", &user).await;
    let api = api_error(
        harness
            .call(
                "create_organization_membership",
                json!({"organization_id": org["id"], "user_id": user["id"], "role": "org:member"}),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (api.status, api.code.as_deref()),
        (400, Some("duplicate_record"))
    );

    let wrong = Credentials::new()
        .with("secret_key", "sk_test_not_the_emulators_key")
        .with("url", harness.emulator.base_url());
    let transport = HttpTransport::new(&PROVIDER, &wrong, quick_retries()).unwrap();
    let error = clerk::call(&transport, "list_users", json!({}))
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.starts_with("Clerk API error (401): "), "{text}");
    assert!(!text.contains("sk_test_not_the_emulators_key"), "{text}");
    assert_eq!(api_error(error).code.as_deref(), Some("clerk_key_invalid"));
}

#[tokio::test]
async fn invalid_arguments_are_refused_before_anything_is_sent() {
    let harness = Harness::start().await;
    let cases = [
        ("get_user", json!({}), "get_user: id is required."),
        (
            "get_user",
            json!({"id": 42}),
            "get_user: id must be a string",
        ),
        (
            "list_users",
            json!({"limit": 501}),
            "list_users: limit must be at most 500",
        ),
        (
            "list_sessions",
            json!({"status": "sleeping"}),
            "list_sessions: status must be one of",
        ),
        (
            "list_users",
            json!({"limt": 5}),
            "list_users: limt is not a parameter of list_users. Did you mean: limit",
        ),
        (
            "get_user",
            json!({"id": "user_a", "user_id": "user_b"}),
            "get_user: id was given twice",
        ),
    ];
    for (function, args, expected) in cases {
        let error = harness.call(function, args.clone()).await.unwrap_err();
        assert!(
            matches!(error, Error::InvalidArgument { .. }),
            "{function} {args}: {error:?}"
        );
        let text = error.to_string();
        assert!(text.starts_with(expected), "{function} {args}: {text}");
    }
    assert!(
        harness.emulator.requests().is_empty(),
        "nothing reached the emulator"
    );
}

#[tokio::test]
async fn an_empty_200_is_a_broken_answer_an_empty_204_an_empty_table_and_non_json_an_error() {
    let harness = Harness::start().await;
    let user = harness
        .call(
            "create_user",
            json!({"email_address": ["empty-body@example.test"]}),
        )
        .await
        .unwrap();
    // A read is asked again: the second answer is the real one.
    harness
        .emulator
        .inject(Fault::new(FaultKind::EmptyBody { status: 200 }).on("GET", "/v1/users"));
    harness.emulator.take_requests();
    let users = harness.call("list_users", json!({})).await.unwrap();
    assert_eq!(users[0]["id"], user["id"], "{users}");
    assert_eq!(harness.emulator.take_requests().len(), 2);

    // A write is not: its error says it may have been applied (the emulator applied it).
    harness
        .emulator
        .inject(Fault::new(FaultKind::EmptyBody { status: 200 }).on("POST", "/v1/users"));
    let error = harness
        .call(
            "create_user",
            json!({"email_address": ["empty-write@example.test"]}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::InvalidResponse { status: 200, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("may have been applied"),
        "{error}"
    );
    assert_eq!(harness.emulator.take_requests().len(), 1, "not sent twice");

    // 204 has no body by definition: it reads as an empty table.
    harness
        .emulator
        .inject(Fault::new(FaultKind::EmptyBody { status: 204 }).on("GET", "/v1/users"));
    assert_eq!(
        harness.call("list_users", json!({})).await.unwrap(),
        json!({})
    );

    harness.emulator.inject(
        Fault::new(FaultKind::NonJson {
            status: 200,
            content_type: "text/html; charset=utf-8".into(),
            body: "<html>maintenance</html>".into(),
        })
        .on("GET", "/v1/users"),
    );
    let error = harness.call("list_users", json!({})).await.unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(error, Error::InvalidResponse { status: 200, .. }),
        "{error:?}"
    );
    assert!(text.contains("200") && text.contains("text/html"), "{text}");

    harness.emulator.inject(
        Fault::new(FaultKind::NonJson {
            status: 404,
            content_type: "text/plain".into(),
            body: "no such thing".into(),
        })
        .on("GET", "/v1/users/user_x"),
    );
    let error = harness
        .call("get_user", json!({"id": "user_x"}))
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "Clerk API error (404): no such thing");
}

// ---------------------------------------------------------------------------------------------
// Retries
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after_seconds() {
    let harness = Harness::start().await;
    harness.emulator.inject(
        Fault::new(FaultKind::TooManyRequests {
            retry_after: Some("1".into()),
        })
        .on("GET", "/v1/users"),
    );
    let started = Instant::now();
    harness.call("list_users", json!({})).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited out Retry-After"
    );
    assert_eq!(harness.emulator.requests().len(), 2);
}

#[tokio::test]
async fn a_429_with_an_http_date_is_honoured() {
    let harness = Harness::start().await;
    let at = httpdate_in(Duration::from_secs(2));
    harness.emulator.inject(
        Fault::new(FaultKind::TooManyRequests {
            retry_after: Some(at),
        })
        .on("GET", "/v1/users/count"),
    );
    let started = Instant::now();
    harness.call("count_users", json!({})).await.unwrap();
    // An HTTP date has one-second resolution: the wait is at least one second.
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(harness.emulator.requests().len(), 2);
}

fn httpdate_in(delay: Duration) -> String {
    let at = SystemTime::now() + delay;
    let secs = at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_is_returned_not_slept_through() {
    let harness = Harness::start().await;
    harness.emulator.inject(
        Fault::new(FaultKind::TooManyRequests {
            retry_after: Some("120".into()),
        })
        .on("GET", "/v1/users"),
    );
    let started = Instant::now();
    let api = api_error(harness.call("list_users", json!({})).await.unwrap_err());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!((api.status, api.retry_after), (429, Some(120)));
    assert_eq!(api.code.as_deref(), Some("too_many_requests"));
    assert_eq!(harness.emulator.requests().len(), 1);
}

#[tokio::test]
async fn a_rate_limited_post_is_retried_because_it_was_never_applied() {
    let harness = Harness::start().await;
    harness.emulator.inject(
        Fault::new(FaultKind::TooManyRequests {
            retry_after: Some("0".into()),
        })
        .on("POST", "/v1/users"),
    );
    create_user(&harness, "patient@example.test").await;
    assert_eq!(harness.emulator.requests().len(), 2);
    assert_eq!(harness.emulator.count(ObjectKind::User), 1);
}

#[tokio::test]
async fn server_errors_are_retried_for_reads_and_never_for_posts() {
    let harness = Harness::start().await;
    harness.emulator.inject(
        Fault::new(FaultKind::ServerError { status: 502 })
            .on("GET", "/v1/users")
            .times(2),
    );
    harness.call("list_users", json!({})).await.unwrap();
    assert_eq!(harness.emulator.take_requests().len(), 3);

    harness.emulator.inject(
        Fault::new(FaultKind::ServerErrorAfterApplying { status: 500 }).on("POST", "/v1/users"),
    );
    let api = api_error(
        harness
            .call(
                "create_user",
                json!({"email_address": ["once@example.test"]}),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(api.status, 500);
    assert_eq!(
        harness.emulator.take_requests().len(),
        1,
        "a POST is sent once"
    );
    assert_eq!(
        harness.emulator.count(ObjectKind::User),
        1,
        "and applied once"
    );
}

#[tokio::test]
async fn patches_are_never_repeated_after_a_server_error() {
    let harness = Harness::start().await;
    let user = create_user(&harness, "patchy@example.test").await;
    let path = format!("/v1/users/{}", user["id"].as_str().unwrap());
    harness.emulator.take_requests();
    harness
        .emulator
        .inject(Fault::new(FaultKind::ServerError { status: 503 }).on("PATCH", &path));
    let api = api_error(
        harness
            .call("update_user", json!({"id": user["id"], "first_name": "P"}))
            .await
            .unwrap_err(),
    );
    assert_eq!(api.status, 503);
    assert_eq!(harness.emulator.requests().len(), 1);
}

#[tokio::test]
async fn persistent_failures_stop_after_the_attempt_limit() {
    let harness = Harness::start().await;
    harness.emulator.inject(
        Fault::new(FaultKind::ServerError { status: 500 })
            .on("GET", "/v1/users")
            .times(100),
    );
    let api = api_error(harness.call("list_users", json!({})).await.unwrap_err());
    assert_eq!(api.status, 500);
    assert_eq!(harness.emulator.requests().len(), 4, "max_attempts = 4");
}

#[tokio::test]
async fn the_time_budget_bounds_retries() {
    let mut config = quick_retries();
    config.retry.max_attempts = 10;
    config.retry.budget = Duration::from_millis(1500);
    let harness = Harness::start_with(config).await;
    harness.emulator.inject(
        Fault::new(FaultKind::TooManyRequests {
            retry_after: Some("1".into()),
        })
        .on("GET", "/v1/users")
        .times(100),
    );
    let api = api_error(harness.call("list_users", json!({})).await.unwrap_err());
    assert_eq!(api.status, 429);
    assert_eq!(
        harness.emulator.requests().len(),
        2,
        "a third attempt would start after the 1.5 s budget"
    );
}

#[tokio::test]
async fn dropped_connections_are_retried_for_reads_only() {
    let harness = Harness::start().await;
    harness
        .emulator
        .inject(Fault::new(FaultKind::DropConnection).on("GET", "/v1/users"));
    harness.call("list_users", json!({})).await.unwrap();
    assert_eq!(harness.emulator.take_requests().len(), 2);

    harness
        .emulator
        .inject(Fault::new(FaultKind::DropConnectionAfterApplying).on("POST", "/v1/organizations"));
    let error = harness
        .call("create_organization", json!({"name": "Once Only"}))
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("Failed to connect to Clerk API: "),
        "{error}"
    );
    assert_eq!(harness.emulator.take_requests().len(), 1);
    assert_eq!(harness.emulator.count(ObjectKind::Organization), 1);
}

/// A DELETE applied before a 500 or a dropped connection is retried, and the retry finds
/// nothing: its 404 says that an earlier attempt may have done it. A 404 with no such attempt
/// says nothing of the kind.
#[tokio::test]
async fn a_retry_s_404_after_an_attempt_that_may_have_applied_says_so() {
    let harness = Harness::start().await;
    for (fault, earlier) in [
        (
            FaultKind::ServerErrorAfterApplying { status: 500 },
            "a 500 answer",
        ),
        (
            FaultKind::DropConnectionAfterApplying,
            "a connection that failed after the request was sent",
        ),
    ] {
        let user = create_user(&harness, "deleted.once@example.test").await;
        let id = user["id"].as_str().unwrap().to_string();
        let path = format!("/v1/users/{id}");
        harness.emulator.take_requests();
        harness
            .emulator
            .inject(Fault::new(fault).on("DELETE", &path));
        let error = harness
            .call("delete_user", json!({ "id": id }))
            .await
            .unwrap_err();
        let text = error.to_string();
        let api = api_error(error);
        assert_eq!(api.status, 404);
        assert_eq!(api.earlier_attempt.as_deref(), Some(earlier));
        assert!(
            text.ends_with(&format!(
                ". This answered a retry: an earlier attempt ended in {earlier} and may have been applied, which this answer can reflect."
            )),
            "{text}"
        );
        assert_eq!(harness.emulator.take_requests().len(), 2);
        assert_eq!(harness.emulator.count(ObjectKind::User), 0);
    }

    let api = api_error(
        harness
            .call("delete_user", json!({ "id": "user_never_was" }))
            .await
            .unwrap_err(),
    );
    assert_eq!((api.status, api.earlier_attempt), (404, None));
}

#[tokio::test]
async fn truncated_bodies_are_retried_for_reads_and_reported_for_writes() {
    let harness = Harness::start().await;
    create_user(&harness, "truncated@example.test").await;
    harness.emulator.take_requests();
    harness
        .emulator
        .inject(Fault::new(FaultKind::TruncatedBody).on("GET", "/v1/users"));
    let users = harness.call("list_users", json!({})).await.unwrap();
    assert_eq!(users.as_array().unwrap().len(), 1);
    assert_eq!(harness.emulator.take_requests().len(), 2);

    harness
        .emulator
        .inject(Fault::new(FaultKind::TruncatedBody).on("POST", "/v1/invitations"));
    let error = harness
        .call(
            "create_invitation",
            json!({"email_address": "cut@example.test"}),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert_eq!(harness.emulator.take_requests().len(), 1);
    assert_eq!(harness.emulator.count(ObjectKind::Invitation), 1);
}

#[tokio::test]
async fn slow_responses_time_out_and_only_reads_are_tried_again() {
    let mut config = quick_retries();
    config.timeout = Duration::from_millis(300);
    config.retry.max_attempts = 2;
    let harness = Harness::start_with(config).await;
    harness.emulator.inject(
        Fault::new(FaultKind::Delay(Duration::from_secs(3)))
            .on("GET", "/v1/users")
            .times(2),
    );
    let error = harness.call("list_users", json!({})).await.unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    assert_eq!(error.to_string(), "Clerk API request timed out after 0.3 s");
    assert_eq!(harness.emulator.take_requests().len(), 2);

    harness
        .emulator
        .inject(Fault::new(FaultKind::Delay(Duration::from_secs(3))).on("POST", "/v1/users"));
    let error = harness
        .call(
            "create_user",
            json!({"email_address": ["slow@example.test"]}),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    assert_eq!(harness.emulator.take_requests().len(), 1);
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_a_post_because_nothing_was_sent() {
    // A port that was free a moment ago: nothing listens there now.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let credentials = Credentials::new()
        .with("secret_key", "sk_test_unreachable")
        .with("url", format!("http://{addr}/v1"));
    let transport = HttpTransport::new(&PROVIDER, &credentials, quick_retries()).unwrap();
    let started = Instant::now();
    let error = clerk::call(
        &transport,
        "create_user",
        json!({"email_address": ["x@example.test"]}),
    )
    .await
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("Failed to connect to Clerk API: "),
        "{error}"
    );
    // Four attempts with three backoffs of at least 2.5, 5 and 10 ms.
    assert!(started.elapsed() >= Duration::from_millis(17));
}

#[tokio::test]
async fn per_endpoint_rate_limits_are_waited_out() {
    let harness = Harness::start().await;
    harness.emulator.set_rate_limit(RateLimit {
        method: Some("GET".into()),
        path: Some("/v1/users/count".into()),
        max_requests: 2,
        window: Duration::from_secs(1),
    });
    for _ in 0..3 {
        harness.call("count_users", json!({})).await.unwrap();
    }
    let statuses = harness.emulator.requests().len();
    assert_eq!(statuses, 4, "the third call was limited once, then retried");
    // Another endpoint is not limited.
    harness.call("list_users", json!({})).await.unwrap();

    // Without retries the caller sees the 429 and how long to wait. A fresh limit on another
    // endpoint, so the window above does not matter.
    harness.emulator.set_rate_limit(RateLimit {
        method: Some("GET".into()),
        path: Some("/v1/invitations".into()),
        max_requests: 2,
        window: Duration::from_secs(60),
    });
    let unretried = HttpTransport::new(
        &PROVIDER,
        &credentials_for(&harness.emulator),
        HttpConfig {
            retry: RetryPolicy::none(),
            ..quick_retries()
        },
    )
    .unwrap();
    clerk::call(&unretried, "list_invitations", json!({}))
        .await
        .unwrap();
    clerk::call(&unretried, "list_invitations", json!({}))
        .await
        .unwrap();
    let api = api_error(
        clerk::call(&unretried, "list_invitations", json!({}))
            .await
            .unwrap_err(),
    );
    assert_eq!(api.status, 429);
    assert!(
        api.retry_after.is_some_and(|s| s >= 1),
        "{:?}",
        api.retry_after
    );
}

// ---------------------------------------------------------------------------------------------
// Paths that try to escape
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn path_arguments_stay_one_segment() {
    let harness = Harness::start().await;
    let owner = create_user(&harness, "owner@example.test").await;
    let org = create_organization(&harness, "Target", &owner).await;
    let org_id = org["id"].as_str().unwrap();
    harness.emulator.take_requests();

    let cases = [
        (
            format!("../organizations/{org_id}"),
            format!("/v1/users/..%2Forganizations%2F{org_id}"),
        ),
        (
            "user_1?x=1".to_string(),
            "/v1/users/user_1%3Fx%3D1".to_string(),
        ),
        ("a/b".to_string(), "/v1/users/a%2Fb".to_string()),
        ("%2e%2e".to_string(), "/v1/users/%252e%252e".to_string()),
        (
            "user_1\r\nX-Injected: 1".to_string(),
            "/v1/users/user_1%0D%0AX-Injected%3A%201".to_string(),
        ),
        (
            "user_1#frag".to_string(),
            "/v1/users/user_1%23frag".to_string(),
        ),
    ];
    for (id, wire) in &cases {
        let api = api_error(
            harness
                .call("delete_user", json!({"id": id}))
                .await
                .unwrap_err(),
        );
        assert_eq!(api.status, 404, "{id:?}");
        let request = harness.emulator.take_requests().remove(0);
        assert_eq!(&request.path, wire, "{id:?}");
        assert_eq!(request.raw_query, None, "{id:?}");
        assert_eq!(request.header("x-injected"), None);
    }
    assert_eq!(
        harness.emulator.count(ObjectKind::Organization),
        1,
        "the organization survived"
    );
    assert_eq!(harness.emulator.count(ObjectKind::User), 1);

    for id in ["", ".", ".."] {
        let error = harness
            .call("delete_user", json!({"id": id}))
            .await
            .unwrap_err();
        assert!(
            matches!(error, Error::InvalidArgument { .. }),
            "{id:?}: {error}"
        );
    }
    assert!(harness.emulator.requests().is_empty());
}

#[tokio::test]
async fn raw_paths_cannot_leave_the_base_url() {
    let harness = Harness::start().await;
    let base = harness.emulator.base_url();
    for path in [
        "https://evil.example/v1/users".to_string(),
        "//evil.example/v1/users".to_string(),
        "http://127.0.0.1:1/v1/users".to_string(),
        format!("{base}.evil.example/users"),
        "/users/../organizations".to_string(),
        "/users/%2e%2e/organizations".to_string(),
        "/users/%2E%2E".to_string(),
        "\\\\evil.example\\users".to_string(),
        "/users\r\nX-Injected: 1".to_string(),
        "/users#fragment".to_string(),
        "/users?limit=1".to_string(),
        String::new(),
    ] {
        let error = harness
            .call("api_delete", json!({"path": path}))
            .await
            .unwrap_err();
        assert!(
            matches!(&error, Error::InvalidArgument { parameter, .. } if parameter == "path"),
            "{path:?}: {error:?}"
        );
    }
    assert!(
        harness.emulator.requests().is_empty(),
        "nothing was sent anywhere"
    );
}

// ---------------------------------------------------------------------------------------------
// Compression and connection reuse, checked against a minimal hand-written HTTP/1.1 server
// ---------------------------------------------------------------------------------------------

/// `{"compressed":true}` gzipped (mtime 0).
const GZIPPED: &[u8] = &[
    31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 171, 86, 74, 206, 207, 45, 40, 74, 45, 46, 78, 77, 81, 178,
    42, 41, 42, 77, 173, 5, 0, 241, 234, 57, 149, 19, 0, 0, 0,
];

/// Serves gzipped JSON to every request, keeping connections open; counts connections.
async fn gzip_server() -> (std::net::SocketAddr, Arc<Mutex<usize>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(Mutex::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            *counter.lock().unwrap() += 1;
            tokio::spawn(async move {
                let mut pending = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        pending.drain(..end + 4);
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\ncontent-length: {}\r\n\r\n",
                            GZIPPED.len()
                        );
                        if socket.write_all(head.as_bytes()).await.is_err()
                            || socket.write_all(GZIPPED).await.is_err()
                        {
                            return;
                        }
                    }
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => pending.extend_from_slice(&buf[..n]),
                    }
                }
            });
        }
    });
    (addr, connections)
}

#[tokio::test]
async fn compressed_responses_are_decoded_and_connections_are_reused() {
    let (addr, connections) = gzip_server().await;
    let credentials = Credentials::new()
        .with("secret_key", "sk_test_gzip")
        .with("url", format!("http://{addr}/v1"));
    let transport = HttpTransport::new(&PROVIDER, &credentials, quick_retries()).unwrap();
    for _ in 0..5 {
        let answer = clerk::call(&transport, "count_users", json!({}))
            .await
            .unwrap();
        assert_eq!(answer, json!({"compressed": true}));
    }
    assert_eq!(
        *connections.lock().unwrap(),
        1,
        "five calls, one connection"
    );
}
