//! Clerk's own rate limits (on by default), and the counts of the 429s the emulator sent.
//!
//! A test that expects a refusal uses windows of 10 seconds or more, far longer than its
//! requests take; a test that waits for a window to pass uses a scaled-down window and sleeps
//! for the `Retry-After` it was given. Nothing asserts how long anything took.

use crate::common;

use std::time::Duration;

use clerk_emulator::{
    ClerkLimit, ClerkLimits, Config, Fault, FaultKind, InstanceTier, ObjectKind, RateLimit,
};
use common::{Answer, Api};
use serde_json::{Value, json};

const LIVE_KEY: &str = "sk_live_emulator_local_only_0000000000000";

/// Limits on with Clerk's windows, and a development key (the default).
async fn limited() -> Api {
    Api::start_with(Config::default()).await
}

fn retry_after(answer: &Answer) -> u64 {
    answer.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Clerk's 429: the body and a whole-seconds `Retry-After` of at least 1.
fn assert_clerk_429(answer: &Answer) {
    assert_eq!(answer.status, 429, "{}", answer.body);
    let error = &answer.body["errors"][0];
    assert_eq!(error["code"], "too_many_requests");
    assert_eq!(error["message"], "Too many requests");
    assert_eq!(error["long_message"], "Too many requests, retry later");
    assert!(answer.body["clerk_trace_id"].is_string());
    assert!(retry_after(answer) >= 1);
}

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
async fn limits_are_on_by_default_and_a_development_key_gets_100_per_10_seconds() {
    let api = limited().await;
    assert_eq!(api.emulator.limits(), ClerkLimits::CLERK);
    assert_eq!(api.emulator.instance_tier(), InstanceTier::Development);
    api.emulator.seed(1, 0);
    for n in 0..100 {
        let answer = api.get("/users/count").await;
        assert_eq!(answer.status, 200, "request {n}: {}", answer.body);
    }
    let refused = api
        .post("/users", json!({"email_address": ["late@example.test"]}))
        .await;
    assert_clerk_429(&refused);
    assert!(retry_after(&refused) <= 10);
    assert_eq!(
        api.emulator.count(ObjectKind::User),
        1,
        "a refused request changes nothing"
    );
    // Refused requests are not counted: they keep being refused, and `GET /v1/jwks` never is.
    assert_clerk_429(&api.get("/users/count").await);
    for _ in 0..5 {
        assert_ne!(api.get("/jwks").await.status, 429);
    }

    let stats = api.stats();
    assert_eq!(stats.requests, 107);
    assert_eq!(stats.clerk_limit_429s, 2);
    assert_eq!(stats.clerk_limit_429s_of(ClerkLimit::Instance), 2);
    assert_eq!(stats.clerk_limit_429s_by_limit["instance"], 2);
    assert_eq!(
        stats.clerk_limit_429s_by_limit.values().sum::<u64>(),
        2,
        "no other limit refused"
    );
    assert_eq!((stats.rate_limit_429s, stats.fault_429s), (0, 0));
    // Every limit is listed by its stable name.
    let names: Vec<&str> = stats
        .clerk_limit_429s_by_limit
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected: Vec<&str> = ClerkLimit::ALL.iter().map(|l| l.name()).collect();
    expected.sort_unstable();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn a_live_key_gets_the_production_limit_of_1000() {
    let api = Api::start_with(Config {
        secret_key: LIVE_KEY.into(),
        ..Config::default()
    })
    .await;
    assert_eq!(api.emulator.instance_tier(), InstanceTier::Production);
    for n in 0..1000 {
        let answer = api.get("/users/count").await;
        assert_eq!(answer.status, 200, "request {n}: {}", answer.body);
    }
    assert_clerk_429(&api.get("/users/count").await);
    let stats = api.stats();
    assert_eq!(
        (
            stats.requests,
            stats.clerk_limit_429s,
            stats.clerk_limit_429s_of(ClerkLimit::Instance)
        ),
        (1001, 1, 1)
    );
}

#[tokio::test]
async fn user_updates_are_limited_per_user_and_a_refused_update_changes_nothing() {
    let api = limited().await;
    let ada = api.user("ada@example.test").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let grace = api.user("grace@example.test").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // PATCH /users/{id} and PATCH /users/{id}/metadata share one counter per user.
    for n in 0..5 {
        let answer = api
            .patch(
                &format!("/users/{ada}"),
                json!({"first_name": format!("Ada{n}")}),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let answer = api
            .patch(
                &format!("/users/{ada}/metadata"),
                json!({"public_metadata": {"n": n}}),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let refused = api
        .patch(&format!("/users/{ada}"), json!({"first_name": "Refused"}))
        .await;
    assert_clerk_429(&refused);
    let refused = api
        .patch(
            &format!("/users/{ada}/metadata"),
            json!({"public_metadata": {"n": "refused"}}),
        )
        .await;
    assert_clerk_429(&refused);
    let user = api.ok("GET", &format!("/users/{ada}"), None).await;
    assert_eq!(user["first_name"], "Ada4");
    assert_eq!(user["public_metadata"], json!({"n": 4}));

    // Another user has a counter of their own.
    let answer = api
        .patch(&format!("/users/{grace}"), json!({"first_name": "Grace"}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    let stats = api.stats();
    assert_eq!(stats.clerk_limit_429s_of(ClerkLimit::UserUpdates), 2);
    assert_eq!(stats.clerk_limit_429s_of(ClerkLimit::Instance), 0);
    assert_eq!(stats.clerk_limit_429s, 2);
}

#[tokio::test]
async fn organization_and_membership_updates_are_limited_per_object() {
    let api = limited().await;
    let user = api.user("owner@example.test").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let organization = api.organization("Acme", Some(&user)).await;
    let id = organization["id"].as_str().unwrap().to_string();
    let slug = organization["slug"].as_str().unwrap().to_string();
    let other = api.organization("Other", None).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // By ID or by slug, it is the same organization and the same counter.
    for n in 0..5 {
        let answer = api
            .patch(
                &format!("/organizations/{id}"),
                json!({"name": format!("Acme {n}")}),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let answer = api
            .patch(
                &format!("/organizations/{slug}/metadata"),
                json!({"public_metadata": {"n": n}}),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    assert_clerk_429(
        &api.patch(&format!("/organizations/{id}"), json!({"name": "Refused"}))
            .await,
    );
    assert_eq!(
        api.patch(&format!("/organizations/{other}"), json!({"name": "Fine"}))
            .await
            .status,
        200
    );
    let path = format!("/organizations/{id}/memberships/{user}");
    for _ in 0..10 {
        let answer = api.patch(&path, json!({"role": "org:admin"})).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    assert_clerk_429(&api.patch(&path, json!({"role": "org:admin"})).await);

    let stats = api.stats();
    assert_eq!(
        stats.clerk_limit_429s_of(ClerkLimit::OrganizationUpdates),
        1
    );
    assert_eq!(stats.clerk_limit_429s_of(ClerkLimit::MembershipUpdates), 1);
    assert_eq!(stats.clerk_limit_429s, 2);
}

#[tokio::test]
async fn invitations_are_limited_to_100_an_hour() {
    // A production key: its instance limit (1,000 per 10 s) leaves room, so the endpoint limit
    // is the one that refuses.
    let api = Api::start_with(Config {
        secret_key: LIVE_KEY.into(),
        ..Config::default()
    })
    .await;
    for n in 0..100 {
        let answer = api
            .post(
                "/invitations",
                json!({"email_address": format!("invitee{n}@example.test")}),
            )
            .await;
        assert_eq!(answer.status, 200, "invitation {n}: {}", answer.body);
    }
    let refused = api
        .post(
            "/invitations",
            json!({"email_address": "one-too-many@example.test"}),
        )
        .await;
    assert_clerk_429(&refused);
    assert!(
        retry_after(&refused) > 10,
        "an hour's window: {}",
        retry_after(&refused)
    );
    assert_eq!(api.emulator.count(ObjectKind::Invitation), 100);
    // Other endpoints are still open.
    assert_eq!(api.get("/invitations").await.status, 200);

    let stats = api.stats();
    assert_eq!(stats.clerk_limit_429s_of(ClerkLimit::Invitations), 1);
    assert_eq!(stats.clerk_limit_429s_of(ClerkLimit::Instance), 0);
    assert_eq!(stats.clerk_limit_429s, 1);
}

#[tokio::test]
async fn requests_are_accepted_again_once_the_window_has_passed() {
    // 100 requests per second instead of per 10 seconds.
    let api = Api::start_with(Config {
        limits: ClerkLimits::scaled(0.1),
        ..Config::default()
    })
    .await;
    // Until the first refusal: however slow the machine, 101 requests land in one window.
    let mut refused = None;
    for _ in 0..20_000 {
        let answer = api.get("/users/count").await;
        if answer.status == 429 {
            refused = Some(answer);
            break;
        }
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let refused = refused.expect("the instance limit never refused a request");
    assert_clerk_429(&refused);
    let wait = retry_after(&refused);
    assert_eq!(wait, 1, "a 1-second window, rounded up");
    // Retry-After is rounded up, so after it the oldest counted request has left the window.
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let again = api.get("/users/count").await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(api.stats().clerk_limit_429s_of(ClerkLimit::Instance) >= 1);
}

#[tokio::test]
async fn with_limits_off_1000_quick_requests_all_pass() {
    let api = Api::start_with(Config::without_limits()).await;
    let user = api.user("busy@example.test").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for n in 0..1000 {
        let answer = if n % 10 == 0 {
            api.patch(
                &format!("/users/{user}"),
                json!({"first_name": format!("N{n}")}),
            )
            .await
        } else {
            api.get("/users/count").await
        };
        assert_eq!(answer.status, 200, "request {n}: {}", answer.body);
    }
    let stats = api.stats();
    assert_eq!((stats.requests, stats.clerk_limit_429s), (1001, 0));
}

#[tokio::test]
async fn limits_can_be_switched_and_rescaled_at_run_time() {
    let api = limited().await;
    assert!(api.emulator.set_limits(ClerkLimits::scaled(0.0)).is_err());
    assert!(
        api.emulator
            .set_limits(ClerkLimits::scaled(f64::NAN))
            .is_err()
    );
    assert_eq!(api.emulator.limits(), ClerkLimits::CLERK, "unchanged");
    api.emulator.set_limits(ClerkLimits::OFF).unwrap();
    for _ in 0..150 {
        assert_eq!(api.get("/users/count").await.status, 200);
    }
    // Switched back on, the counters start afresh.
    api.emulator.set_limits(ClerkLimits::scaled(2.0)).unwrap();
    for _ in 0..100 {
        assert_eq!(api.get("/users/count").await.status, 200);
    }
    let refused = api.get("/users/count").await;
    assert_clerk_429(&refused);
    assert!(retry_after(&refused) <= 20, "a 20-second window");

    // The same through the control endpoints.
    let (status, limits) = control(&api, "GET", "limits", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        limits,
        json!({"enabled": true, "window_scale": 2.0, "instance": "development"})
    );
    let (status, limits) = control(
        &api,
        "POST",
        "limits",
        Some(json!({"enabled": false, "window_scale": 0.5})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        limits,
        json!({"enabled": false, "window_scale": 0.5, "instance": "development"})
    );
    assert_eq!(
        api.emulator.limits(),
        ClerkLimits {
            enabled: false,
            window_scale: 0.5
        }
    );
    for bad in [
        json!({"window_scale": 0}),
        json!({"window_scale": -1}),
        json!({"speed": 1}),
    ] {
        let (status, problem) = control(&api, "POST", "limits", Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad}: {problem}");
    }
    assert_eq!(api.get("/users/count").await.status, 200);
    let (_, limits) = control(&api, "POST", "limits", Some(json!({"enabled": true}))).await;
    assert_eq!(limits["window_scale"], 0.5, "what is left out stays");

    let (status, stats) = control(&api, "GET", "stats", None).await;
    assert_eq!(status, 200);
    assert_eq!(stats, serde_json::to_value(api.stats()).unwrap());
    assert_eq!(stats["clerk_limit_429s"], 1);
    assert_eq!(stats["clerk_limit_429s_by_limit"]["instance"], 1);
    assert_eq!(stats["clerk_limit_429s_by_limit"]["user_updates"], 0);
    assert_eq!(stats["requests"], 252);

    // A reset zeroes the counts and the counters, and keeps the settings.
    api.emulator.reset();
    let stats = api.stats();
    assert_eq!(
        (
            stats.requests,
            stats.clerk_limit_429s,
            stats.rate_limit_429s
        ),
        (0, 0, 0)
    );
    assert!(stats.clerk_limit_429s_by_limit.values().all(|&n| n == 0));
    assert_eq!(api.emulator.limits(), ClerkLimits::scaled(0.5));
}

#[tokio::test]
async fn custom_rate_limits_and_fault_429s_are_counted_apart() {
    let api = limited().await;
    api.emulator.inject(Fault::new(FaultKind::TooManyRequests {
        retry_after: Some("3".into()),
    }));
    api.emulator.inject(Fault::new(FaultKind::NonJson {
        status: 429,
        content_type: "text/plain".into(),
        body: "slow down".into(),
    }));
    assert_eq!(api.get("/users").await.status, 429);
    assert_eq!(api.get("/users").await.status, 429);
    api.emulator.set_rate_limit(RateLimit {
        method: Some("GET".into()),
        path: Some("/v1/users".into()),
        max_requests: 1,
        window: Duration::from_secs(60),
    });
    assert_eq!(api.get("/users").await.status, 200);
    let refused = api.get("/users").await;
    assert_clerk_429(&refused);
    assert_eq!(retry_after(&refused), 60);
    let stats = api.stats();
    assert_eq!(
        (
            stats.requests,
            stats.fault_429s,
            stats.rate_limit_429s,
            stats.clerk_limit_429s
        ),
        (4, 2, 1, 0)
    );
}
