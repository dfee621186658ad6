//! The session functions beyond list, get and revoke (creating sessions, minting and refreshing
//! their tokens), and the client lookups, end to end against the emulator: the request it
//! received and the answer. Sessions and their tokens are stateful there; clients are mocked
//! from Clerk's OpenAPI spec.

use crate::mock_harness;

use kosmo_runtime::Error;
use kosmo_tests::{Expect, Harness, assert_clerk_id, assert_request};
use mock_harness::Mocked;
use serde_json::{Value, json};

fn post<'a>(path: &'a str, body: Option<Value>) -> Expect<'a> {
    Expect {
        method: "POST",
        path,
        query: &[],
        body,
    }
}

/// The claims of a JWT: its middle part, base64url-decoded JSON.
fn claims(jwt: &Value) -> Value {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let parts: Vec<&str> = jwt.as_str().unwrap().split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let (mut bytes, mut block, mut bits) = (Vec::new(), 0u32, 0);
    for byte in parts[1].bytes() {
        block = (block << 6) | ALPHABET.iter().position(|c| *c == byte).unwrap() as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((block >> bits) as u8);
            block &= (1 << bits) - 1;
        }
    }
    serde_json::from_slice(&bytes).unwrap()
}

fn api_status(error: &Error) -> u16 {
    match error {
        Error::Api(api) => api.status,
        other => panic!("not an API error: {other}"),
    }
}

async fn user(harness: &Harness, email: &str) -> String {
    let user = harness
        .call("create_user", json!({"email_address": [email]}))
        .await
        .unwrap();
    user["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn create_session_signs_a_user_in_and_the_session_reads_back() {
    let harness = Harness::start().await;
    let key = harness.emulator.secret_key().to_string();
    let user_id = user(&harness, "create-session@example.test").await;
    let org = harness
        .call(
            "create_organization",
            json!({"name": "Session Org", "created_by": user_id}),
        )
        .await
        .unwrap();
    let org_id = org["id"].as_str().unwrap();

    let (session, request) = harness
        .call_once(
            "create_session",
            json!({"user_id": user_id, "active_organization_id": org_id}),
        )
        .await;
    assert_request(
        &request,
        &key,
        post(
            "/v1/sessions",
            Some(json!({"user_id": user_id, "active_organization_id": org_id})),
        ),
    );
    assert_eq!(session["object"], "session");
    assert_clerk_id(&session["id"], "sess_");
    assert_clerk_id(&session["client_id"], "client_");
    assert_eq!(session["status"], "active");
    assert_eq!(session["user_id"], user_id.as_str());
    assert_eq!(session["last_active_organization_id"], org_id);

    let fetched = harness
        .call("get_session", json!({"session_id": session["id"]}))
        .await
        .unwrap();
    assert_eq!(fetched, session);
    let listed = harness
        .call("list_sessions", json!({"user_id": user_id}))
        .await
        .unwrap();
    assert_eq!(listed[0]["id"], session["id"]);

    let unknown = harness
        .call("create_session", json!({"user_id": "user_unknown"}))
        .await
        .unwrap_err();
    assert_eq!(api_status(&unknown), 404);
}

#[tokio::test]
async fn session_tokens_carry_the_session_and_stop_once_it_is_revoked() {
    let harness = Harness::start().await;
    let key = harness.emulator.secret_key().to_string();
    let user_id = user(&harness, "session-token@example.test").await;
    let session = harness
        .call("create_session", json!({"user_id": user_id}))
        .await
        .unwrap();
    let session_id = session["id"].as_str().unwrap();
    let tokens_path = format!("/v1/sessions/{session_id}/tokens");

    let (token, request) = harness
        .call_once(
            "create_session_token",
            json!({"session_id": session_id, "expires_in_seconds": 600}),
        )
        .await;
    assert_request(
        &request,
        &key,
        post(&tokens_path, Some(json!({"expires_in_seconds": 600}))),
    );
    assert_eq!(token["object"], "token");
    let minted = claims(&token["jwt"]);
    assert_eq!(minted["sid"], session_id);
    assert_eq!(minted["sub"], user_id.as_str());
    assert_eq!(
        minted["exp"].as_i64().unwrap() - minted["iat"].as_i64().unwrap(),
        600
    );

    let (plain, request) = harness
        .call_once("create_session_token", json!({"session_id": session_id}))
        .await;
    assert_request(&request, &key, post(&tokens_path, None));
    let plain = claims(&plain["jwt"]);
    assert_eq!(
        plain["exp"].as_i64().unwrap() - plain["iat"].as_i64().unwrap(),
        60,
        "Clerk's default lifetime"
    );

    let (templated, request) = harness
        .call_once(
            "create_session_token_from_template",
            json!({"session_id": session_id, "template_name": "custom_hasura", "expires_in_seconds": 300}),
        )
        .await;
    assert_request(
        &request,
        &key,
        post(
            &format!("{tokens_path}/custom_hasura"),
            Some(json!({"expires_in_seconds": 300})),
        ),
    );
    assert_eq!(templated["object"], "token");
    let templated = claims(&templated["jwt"]);
    assert_eq!(templated["sub"], user_id.as_str());
    assert_eq!(templated["template"], "custom_hasura");

    // Bounds are checked before anything is sent.
    harness.emulator.take_requests();
    let too_short = harness
        .call(
            "create_session_token",
            json!({"session_id": session_id, "expires_in_seconds": 10}),
        )
        .await
        .unwrap_err();
    assert_eq!(too_short.kind(), "invalid_argument");
    assert!(harness.emulator.take_requests().is_empty());

    harness
        .call("revoke_session", json!({"session_id": session_id}))
        .await
        .unwrap();
    for (function, args) in [
        ("create_session_token", json!({"session_id": session_id})),
        (
            "create_session_token_from_template",
            json!({"session_id": session_id, "template_name": "custom_hasura"}),
        ),
    ] {
        let refused = harness.call(function, args).await.unwrap_err();
        assert_eq!(
            api_status(&refused),
            404,
            "{function} for a revoked session"
        );
    }
}

#[tokio::test]
async fn refresh_session_trades_the_sessions_expired_token_for_a_new_one() {
    let harness = Harness::start().await;
    let key = harness.emulator.secret_key().to_string();
    let user_id = user(&harness, "refresh-session@example.test").await;
    let session = harness
        .call("create_session", json!({"user_id": user_id}))
        .await
        .unwrap();
    let session_id = session["id"].as_str().unwrap();
    let expired = harness
        .call("create_session_token", json!({"session_id": session_id}))
        .await
        .unwrap();
    let args = json!({
        "session_id": session_id,
        "expired_token": expired["jwt"],
        "refresh_token": "rt_from_the_refresh_cookie",
        "request_origin": "https://app.example.test",
        "request_headers": {"User-Agent": ["Mozilla/5.0"]},
        "request_originating_ip": "203.0.113.7",
        "format": "cookie",
    });

    let (cookies, request) = harness.call_once("refresh_session", args.clone()).await;
    assert_request(
        &request,
        &key,
        post(
            &format!("/v1/sessions/{session_id}/refresh"),
            Some(json!({
                "expired_token": expired["jwt"],
                "refresh_token": "rt_from_the_refresh_cookie",
                "request_origin": "https://app.example.test",
                "request_headers": {"User-Agent": ["Mozilla/5.0"]},
                "request_originating_ip": "203.0.113.7",
                "format": "cookie",
            })),
        ),
    );
    assert_eq!(cookies["object"], "cookies");
    let cookie = cookies["cookies"][0].as_str().unwrap();
    assert!(cookie.starts_with("__session="), "{cookie}");

    let mut as_token = args.clone();
    as_token.as_object_mut().unwrap().remove("format");
    let token = harness.call("refresh_session", as_token).await.unwrap();
    assert_eq!(token["object"], "token");
    assert_eq!(claims(&token["jwt"])["sid"], session_id);

    // A token of another session is refused with 401, the signal to fall back to the handshake.
    let other = harness
        .call("create_session", json!({"user_id": user_id}))
        .await
        .unwrap();
    let mut foreign = args.clone();
    foreign["session_id"] = other["id"].clone();
    let refused = harness.call("refresh_session", foreign).await.unwrap_err();
    assert_eq!(api_status(&refused), 401);
}

#[tokio::test]
async fn get_client_and_verify_client_return_the_client_with_its_sessions() {
    let Some(harness) = Mocked::start().await.map(|m| m.harness) else {
        return;
    };
    let key = harness.emulator.secret_key().to_string();

    let (client, request) = harness
        .call_once("get_client", json!({"client_id": "client_2xyz789"}))
        .await;
    assert_request(
        &request,
        &key,
        Expect {
            method: "GET",
            path: "/v1/clients/client_2xyz789",
            query: &[],
            body: None,
        },
    );
    assert_eq!(client["object"], "client");
    assert_eq!(client["id"], "client_2xyz789");
    assert!(client["session_ids"].is_array());
    assert_eq!(client["sessions"][0]["object"], "session");
    assert!(client["last_active_session_id"].is_string());

    let token = "eyJhbGciOiJSUzI1NiJ9.eyJpZCI6ImNsaWVudF8yeHl6Nzg5In0.c2ln";
    let (verified, request) = harness
        .call_once("verify_client", json!({"token": token}))
        .await;
    assert_request(
        &request,
        &key,
        post("/v1/clients/verify", Some(json!({"token": token}))),
    );
    assert_eq!(verified["object"], "client");
    assert!(verified["sessions"].is_array());
    assert!(verified["created_at"].is_i64());

    let missing = harness.call("verify_client", json!({})).await.unwrap_err();
    assert_eq!(missing.kind(), "invalid_argument", "token is required");
}
