//! What every request goes through: the key, the API version, the body's type, routing, and
//! Clerk's error body.

use crate::common;

use clerk_emulator::{Config, DEFAULT_SECRET_KEY, ObjectKind, SUPPORTED_API_VERSIONS};
use common::Api;
use serde_json::json;

#[tokio::test]
async fn errors_have_clerks_shape_and_a_trace_id_header() {
    let api = Api::start().await;
    let answer = api.get("/users/user_missing").await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.headers["content-type"], "application/json");
    let body = answer.body.as_object().unwrap();
    assert_eq!(
        body.keys().collect::<Vec<_>>(),
        ["errors", "meta", "clerk_trace_id"]
    );
    assert_eq!(answer.body["meta"], json!({}));
    let error = &answer.body["errors"][0];
    assert_eq!(error["message"], "not found");
    assert_eq!(
        error["long_message"],
        "No user was found with id user_missing"
    );
    assert_eq!(error["code"], "resource_not_found");
    let trace = answer.body["clerk_trace_id"].as_str().unwrap();
    assert_eq!(trace.len(), 32);
    assert_eq!(answer.headers["clerk-trace-id"], trace);
    let next = api.get("/users/user_missing").await;
    assert_ne!(next.body["clerk_trace_id"], answer.body["clerk_trace_id"]);
}

#[tokio::test]
async fn the_key_must_be_a_bearer_token_matching_the_configured_one() {
    let api = Api::start().await;
    assert!(DEFAULT_SECRET_KEY.starts_with("sk_test_"));
    assert_eq!(api.emulator.secret_key(), DEFAULT_SECRET_KEY);
    let url = api.url("/users");
    for header in [
        None,
        Some("sk_test_x"),
        Some("Basic abc"),
        Some("Bearer "),
        Some("Bearer a b"),
    ] {
        let mut request = api.client.get(&url);
        if let Some(value) = header {
            request = request.header("authorization", value);
        }
        let answer = api.send(request).await;
        assert_eq!(
            (answer.status, answer.code()),
            (401, "authorization_header_format_invalid"),
            "{header:?}"
        );
    }
    let wrong = api
        .send(
            api.client
                .get(&url)
                .header("authorization", "Bearer sk_test_wrong"),
        )
        .await;
    assert_eq!((wrong.status, wrong.code()), (401, "clerk_key_invalid"));
    assert!(!wrong.body.to_string().contains("sk_test_wrong"));
    assert_eq!(
        api.emulator.requests().len(),
        6,
        "unauthorized requests are recorded too"
    );

    let custom = Api::start_with(Config {
        secret_key: "sk_test_custom".into(),
        ..Config::default()
    })
    .await;
    assert_eq!(custom.get("/users").await.status, 200);
    let default_key = custom
        .send(
            custom
                .client
                .get(custom.url("/users"))
                .header("authorization", format!("Bearer {DEFAULT_SECRET_KEY}")),
        )
        .await;
    assert_eq!(default_key.code(), "clerk_key_invalid");
}

#[tokio::test]
async fn the_api_version_is_optional_but_must_be_known_and_given_once() {
    let api = Api::start().await;
    let key = format!("Bearer {}", api.emulator.secret_key());
    let get = |version_header: Option<&str>, query: &str| {
        let mut request = api
            .client
            .get(api.url(&format!("/users{query}")))
            .header("authorization", &key);
        if let Some(version) = version_header {
            request = request.header("clerk-api-version", version);
        }
        api.send(request)
    };
    assert_eq!(get(None, "").await.status, 200);
    for version in SUPPORTED_API_VERSIONS {
        assert_eq!(get(Some(version), "").await.status, 200, "{version}");
        assert_eq!(
            get(None, &format!("?__clerk_api_version={version}"))
                .await
                .status,
            200
        );
    }
    let unknown = get(Some("2099-01-01"), "").await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (400, "api_version_invalid")
    );
    assert!(
        unknown.body["errors"][0]["long_message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid Clerk API version: 2099-01-01")
    );
    let unknown_query = get(None, "?__clerk_api_version=v2").await;
    assert_eq!(unknown_query.code(), "api_version_invalid");
    let both = get(Some("2026-05-12"), "?__clerk_api_version=2026-05-12").await;
    assert_eq!((both.status, both.code()), (400, "api_version_invalid"));
}

#[tokio::test]
async fn bodies_must_be_json_objects() {
    let api = Api::start().await;
    let form = api
        .send(
            api.request("POST", "/users")
                .header("content-type", "application/x-www-form-urlencoded")
                .body("email_address=a%40b.test"),
        )
        .await;
    assert_eq!(
        (form.status, form.code()),
        (415, "unsupported_content_type")
    );
    let untyped = api.send(api.request("POST", "/users").body("{}")).await;
    assert_eq!(untyped.status, 415);
    let charset = api
        .send(
            api.request("POST", "/users")
                .header("content-type", "application/json; charset=utf-8")
                .body(r#"{"first_name":"Ok"}"#),
        )
        .await;
    assert_eq!(charset.status, 200);
    let malformed = api
        .send(
            api.request("POST", "/users")
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!(
        (malformed.status, malformed.code()),
        (400, "request_body_invalid")
    );
    let array = api
        .send(
            api.request("POST", "/users")
                .header("content-type", "application/json")
                .body("[]"),
        )
        .await;
    assert_eq!(array.code(), "request_body_invalid");
    assert_eq!(api.emulator.count(ObjectKind::User), 1);

    // Actions take no body at all.
    let user = api.user("empty@example.test").await;
    let ban = api
        .send(api.request(
            "POST",
            &format!("/users/{}/ban", user["id"].as_str().unwrap()),
        ))
        .await;
    assert_eq!(
        (ban.status, ban.body["banned"].as_bool()),
        (200, Some(true))
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_are_resource_not_found() {
    let api = Api::start().await;
    for (method, path) in [
        ("GET", "/nope"),
        ("GET", "/users/user_x/sessions"),
        ("PUT", "/users"),
        ("GET", ""),
        ("GET", "/"),
        ("POST", "/jwks"),
        ("GET", "/users/"),
    ] {
        let answer = api.call(method, path, None).await;
        assert_eq!(
            (answer.status, answer.code()),
            (404, "resource_not_found"),
            "{method} {path}"
        );
    }
    let outside = api
        .send(
            api.client
                .get(format!("http://{}/users", api.emulator.addr()))
                .header(
                    "authorization",
                    format!("Bearer {}", api.emulator.secret_key()),
                ),
        )
        .await;
    assert_eq!(outside.status, 404, "only /v1 is served");
}

#[tokio::test]
async fn path_ids_are_decoded_after_splitting_so_they_never_reach_another_resource() {
    let api = Api::start().await;
    let owner = api.user("owner@example.test").await;
    let org = api
        .organization("Target", Some(owner["id"].as_str().unwrap()))
        .await;
    let org_id = org["id"].as_str().unwrap();

    let escape = format!("/users/..%2Forganizations%2F{org_id}");
    let deleted = api.delete(&escape).await;
    assert_eq!(deleted.status, 404);
    assert_eq!(
        deleted.body["errors"][0]["long_message"],
        format!("No user was found with id ../organizations/{org_id}")
    );
    assert_eq!(
        api.emulator.requests().last().unwrap().path,
        format!("/v1{escape}")
    );
    assert_eq!(api.emulator.count(ObjectKind::Organization), 1);
    assert_eq!(api.get(&escape).await.status, 404);

    let encoded = api.get("/users/user_1%3Fx%3D1").await;
    assert_eq!(
        encoded.body["errors"][0]["long_message"],
        "No user was found with id user_1?x=1"
    );
    let double = api.get("/users/%252e%252e").await;
    assert_eq!(
        double.body["errors"][0]["long_message"],
        "No user was found with id %2e%2e"
    );

    // A real ID percent-encoded still works: only the separators matter.
    let encoded_id = org_id.replace('_', "%5F");
    assert_eq!(
        api.get(&format!("/organizations/{encoded_id}"))
            .await
            .status,
        200
    );
}
