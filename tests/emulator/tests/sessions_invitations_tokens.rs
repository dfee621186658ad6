//! Sessions, application invitations and sign-in tokens.

use crate::common;

use clerk_emulator::ObjectKind;
use common::{Api, assert_clerk_id, assert_millis, ids};
use serde_json::{Value, json};

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn sessions_are_created_listed_fetched_and_revoked() {
    let api = Api::start().await;
    let ada = api.user("ada@example.test").await;
    let grace = api.user("grace@example.test").await;
    let first = api
        .ok("POST", "/sessions", Some(json!({"user_id": ada["id"]})))
        .await;
    assert_eq!(first["object"], "session");
    assert_clerk_id(&first["id"], "sess_");
    assert_clerk_id(&first["client_id"], "client_");
    assert_eq!(first["status"], "active");
    assert_eq!(first["user_id"], ada["id"]);
    for key in [
        "last_active_at",
        "expire_at",
        "abandon_at",
        "created_at",
        "updated_at",
    ] {
        assert_millis(&first[key]);
    }
    let second = api
        .ok("POST", "/sessions", Some(json!({"user_id": ada["id"]})))
        .await;
    let other = api
        .ok("POST", "/sessions", Some(json!({"user_id": grace["id"]})))
        .await;
    let signed_in = api.ok("GET", &format!("/users/{}", id(&ada)), None).await;
    assert_eq!(signed_in["last_sign_in_at"], second["created_at"]);

    let bare = api.ok("GET", "/sessions", None).await;
    assert!(bare.is_array());
    assert_eq!(ids(&bare), [id(&other), id(&second), id(&first)]);
    let mine = api
        .ok("GET", &format!("/sessions?user_id={}", id(&ada)), None)
        .await;
    assert_eq!(ids(&mine), [id(&second), id(&first)]);
    let by_client = api
        .ok(
            "GET",
            &format!(
                "/sessions?client_id={}",
                first["client_id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(ids(&by_client), [id(&first)]);

    let revoked = api
        .ok("POST", &format!("/sessions/{}/revoke", id(&first)), None)
        .await;
    assert_eq!(revoked["status"], "revoked");
    let fetched = api
        .ok("GET", &format!("/sessions/{}", id(&first)), None)
        .await;
    assert_eq!(fetched["status"], "revoked");

    let page = api
        .ok(
            "GET",
            &format!(
                "/sessions?user_id={}&status=active&paginated=true&limit=10",
                id(&ada)
            ),
            None,
        )
        .await;
    assert_eq!(page, json!({"data": [second], "total_count": 1}));
    let paged = api
        .ok("GET", "/sessions?paginated=true&limit=1&offset=1", None)
        .await;
    assert_eq!(
        (ids(&paged), paged["total_count"].as_i64()),
        (vec![id(&second)], Some(3))
    );

    let missing_user = api
        .post("/sessions", json!({"user_id": "user_missing"}))
        .await;
    assert_eq!(
        (missing_user.status, missing_user.code()),
        (404, "resource_not_found")
    );
    let no_user = api.post("/sessions", json!({})).await;
    assert_eq!((no_user.status, no_user.param()), (422, "user_id"));
    assert_eq!(api.get("/sessions/sess_missing").await.status, 404);
    assert_eq!(
        api.post("/sessions/sess_missing/revoke", json!({}))
            .await
            .status,
        404
    );
    let bad_status = api.get("/sessions?status=sleeping").await;
    assert_eq!(
        (bad_status.status, bad_status.code()),
        (422, "form_param_value_invalid")
    );
    assert_eq!(api.emulator.count(ObjectKind::Session), 3);
}

#[tokio::test]
async fn invitations_are_created_listed_and_revoked() {
    let api = Api::start().await;
    let invitation = api
        .ok(
            "POST",
            "/invitations",
            Some(json!({"email_address": "new@example.test", "public_metadata": {"plan": "trial"}, "redirect_url": "https://app.example.test/welcome", "notify": false, "expires_in_days": 3, "template_slug": "invitation"})),
        )
        .await;
    assert_eq!(invitation["object"], "invitation");
    assert_clerk_id(&invitation["id"], "inv_");
    assert_eq!(invitation["status"], "pending");
    assert_eq!(invitation["revoked"], false);
    assert_eq!(invitation["public_metadata"], json!({"plan": "trial"}));
    assert!(
        invitation["url"]
            .as_str()
            .unwrap()
            .starts_with("https://app.example.test/welcome?__clerk_ticket=")
    );
    let lifetime =
        invitation["expires_at"].as_i64().unwrap() - invitation["created_at"].as_i64().unwrap();
    assert_eq!(lifetime, 3 * 86_400_000);

    let duplicate = api
        .post("/invitations", json!({"email_address": "NEW@example.test"}))
        .await;
    assert_eq!(
        (duplicate.status, duplicate.code()),
        (400, "duplicate_record")
    );
    let again = api
        .ok(
            "POST",
            "/invitations",
            Some(json!({"email_address": "new@example.test", "ignore_existing": true})),
        )
        .await;
    api.user("member@example.test").await;
    let claimed = api
        .post(
            "/invitations",
            json!({"email_address": "member@example.test"}),
        )
        .await;
    assert_eq!(
        (claimed.status, claimed.code()),
        (422, "form_identifier_exists")
    );
    let unknown = api
        .post(
            "/invitations",
            json!({"email_address": "x@example.test", "role": "admin"}),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.code(), unknown.param()),
        (422, "form_param_unknown", "role")
    );
    let missing = api.post("/invitations", json!({})).await;
    assert_eq!(
        (missing.code(), missing.param()),
        ("form_param_missing", "email_address")
    );
    let invalid = api
        .post("/invitations", json!({"email_address": "nope"}))
        .await;
    assert_eq!(invalid.code(), "form_param_format_invalid");
    let slug = api
        .post(
            "/invitations",
            json!({"email_address": "t@example.test", "template_slug": "custom"}),
        )
        .await;
    assert_eq!(slug.code(), "form_param_value_invalid");
    let other = api
        .ok(
            "POST",
            "/invitations",
            Some(json!({"email_address": "another@example.test"})),
        )
        .await;

    let revoked = api
        .ok(
            "POST",
            &format!("/invitations/{}/revoke", id(&invitation)),
            None,
        )
        .await;
    assert_eq!(
        (revoked["revoked"].as_bool(), revoked["status"].as_str()),
        (Some(true), Some("revoked"))
    );
    let twice = api
        .post(
            &format!("/invitations/{}/revoke", id(&invitation)),
            json!({}),
        )
        .await;
    assert_eq!(
        (twice.status, twice.code()),
        (400, "invitation_already_revoked")
    );
    assert_eq!(
        api.post("/invitations/inv_missing/revoke", json!({}))
            .await
            .status,
        404
    );

    let listed = api.ok("GET", "/invitations", None).await;
    assert_eq!(
        ids(&listed),
        [id(&other), id(&again)],
        "revoked ones are left out by default"
    );
    let revoked_list = api.ok("GET", "/invitations?status=revoked", None).await;
    assert_eq!(ids(&revoked_list), [id(&invitation)]);
    let searched = api.ok("GET", "/invitations?query=another", None).await;
    assert_eq!(ids(&searched), [id(&other)]);
    let ordered = api
        .ok("GET", "/invitations?order_by=email_address", None)
        .await;
    assert_eq!(ids(&ordered), [id(&other), id(&again)]);
    let page = api
        .ok("GET", "/invitations?paginated=true&limit=1", None)
        .await;
    assert_eq!(
        (ids(&page), page["total_count"].as_i64()),
        (vec![id(&other)], Some(2))
    );
    assert_eq!(api.emulator.count(ObjectKind::Invitation), 3);
}

#[tokio::test]
async fn sign_in_tokens_are_created_and_revoked() {
    let api = Api::start().await;
    let user = api.user("token@example.test").await;
    let token = api
        .ok(
            "POST",
            "/sign_in_tokens",
            Some(json!({"user_id": user["id"], "expires_in_seconds": 600})),
        )
        .await;
    assert_eq!(token["object"], "sign_in_token");
    assert_clerk_id(&token["id"], "sit_");
    assert_eq!(
        (token["status"].as_str(), token["user_id"].as_str()),
        (Some("pending"), user["id"].as_str())
    );
    let secret = token["token"].as_str().unwrap();
    assert!(secret.len() >= 32);
    assert!(token["url"].as_str().unwrap().ends_with(secret));
    assert_millis(&token["created_at"]);

    let revoked = api
        .ok(
            "POST",
            &format!("/sign_in_tokens/{}/revoke", id(&token)),
            None,
        )
        .await;
    assert_eq!(revoked["status"], "revoked");
    let twice = api
        .post(&format!("/sign_in_tokens/{}/revoke", id(&token)), json!({}))
        .await;
    assert_eq!(
        (twice.status, twice.code()),
        (400, "sign_in_token_cannot_be_revoked_code")
    );
    assert_eq!(
        api.post("/sign_in_tokens/sit_missing/revoke", json!({}))
            .await
            .status,
        404
    );

    let unknown = api
        .post("/sign_in_tokens", json!({"user_id": "user_missing"}))
        .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (404, "resource_not_found")
    );
    let missing = api.post("/sign_in_tokens", json!({})).await;
    assert_eq!((missing.status, missing.param()), (422, "user_id"));
    let zero = api
        .post(
            "/sign_in_tokens",
            json!({"user_id": user["id"], "expires_in_seconds": 0}),
        )
        .await;
    assert_eq!(zero.status, 422);
    let org = api.organization("Tokens", None).await;
    let not_member = api
        .post(
            "/sign_in_tokens",
            json!({"user_id": user["id"], "org_id": org["id"]}),
        )
        .await;
    assert_eq!(not_member.status, 422);
    assert_eq!(api.emulator.count(ObjectKind::SignInToken), 1);
}

/// The claims of a JWT the emulator minted (no signature check: it signs nothing).
fn claims(jwt: &Value) -> Value {
    let jwt = jwt.as_str().unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    assert!(!parts[2].is_empty());
    serde_json::from_slice(&base64url_decode(parts[1])).unwrap()
}

fn base64url_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let (mut out, mut block, mut bits) = (Vec::new(), 0u32, 0);
    for byte in text.bytes() {
        block = (block << 6) | ALPHABET.iter().position(|c| *c == byte).unwrap() as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((block >> bits) as u8);
            block &= (1 << bits) - 1;
        }
    }
    out
}

#[tokio::test]
async fn active_sessions_mint_tokens_that_name_the_session_and_user() {
    let api = Api::start().await;
    let ada = api.user("ada@example.test").await;
    let session = api
        .ok("POST", "/sessions", Some(json!({"user_id": ada["id"]})))
        .await;
    let tokens = format!("/sessions/{}/tokens", id(&session));

    let token = api.ok("POST", &tokens, None).await;
    assert_eq!(token["object"], "token");
    let minted = claims(&token["jwt"]);
    assert_eq!(minted["sub"], ada["id"]);
    assert_eq!(minted["sid"], session["id"]);
    let iat = minted["iat"].as_i64().unwrap();
    assert_eq!(
        minted["exp"].as_i64().unwrap() - iat,
        60,
        "Clerk's default lifetime"
    );
    assert!(minted["nbf"].as_i64().unwrap() <= iat);

    let longer = api
        .ok("POST", &tokens, Some(json!({"expires_in_seconds": 3600})))
        .await;
    let longer = claims(&longer["jwt"]);
    assert_eq!(
        longer["exp"].as_i64().unwrap() - longer["iat"].as_i64().unwrap(),
        3600
    );

    let template = api
        .ok(
            "POST",
            &format!("{tokens}/custom_hasura"),
            Some(json!({"expires_in_seconds": 30})),
        )
        .await;
    assert_eq!(template["object"], "token");
    let templated = claims(&template["jwt"]);
    assert_eq!(templated["sub"], ada["id"]);
    assert_eq!(templated["template"], "custom_hasura");
    assert_eq!(
        templated["exp"].as_i64().unwrap() - templated["iat"].as_i64().unwrap(),
        30
    );

    for bad in [29, 315_360_001] {
        let refused = api.post(&tokens, json!({"expires_in_seconds": bad})).await;
        assert_eq!(
            (refused.status, refused.code(), refused.param()),
            (422, "form_param_format_invalid", "expires_in_seconds")
        );
    }
    let unknown = api.post("/sessions/sess_unknown/tokens", json!({})).await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (404, "resource_not_found")
    );
    let unknown = api
        .post("/sessions/sess_unknown/tokens/custom_hasura", json!({}))
        .await;
    assert_eq!(unknown.status, 404);

    api.ok("POST", &format!("/sessions/{}/revoke", id(&session)), None)
        .await;
    let revoked = api.post(&tokens, json!({})).await;
    assert_eq!(
        (revoked.status, revoked.code()),
        (404, "resource_not_found"),
        "a revoked session issues no tokens"
    );
}

#[tokio::test]
async fn sessions_refresh_from_their_own_expired_token_as_a_token_or_cookies() {
    let api = Api::start().await;
    let ada = api.user("ada@example.test").await;
    let session = api
        .ok("POST", "/sessions", Some(json!({"user_id": ada["id"]})))
        .await;
    let other = api
        .ok("POST", "/sessions", Some(json!({"user_id": ada["id"]})))
        .await;
    let expired = api
        .ok("POST", &format!("/sessions/{}/tokens", id(&session)), None)
        .await;
    let refresh = format!("/sessions/{}/refresh", id(&session));
    let request = |format: Option<&str>| {
        let mut body = json!({
            "expired_token": expired["jwt"],
            "refresh_token": "rt_from_cookie",
            "request_origin": "https://app.example.test",
            "request_headers": {"User-Agent": ["Mozilla/5.0"]},
            "request_originating_ip": "203.0.113.7",
        });
        if let Some(format) = format {
            body["format"] = json!(format);
        }
        body
    };

    let token = api.ok("POST", &refresh, Some(request(None))).await;
    assert_eq!(token["object"], "token");
    assert_eq!(claims(&token["jwt"])["sid"], session["id"]);
    assert_ne!(token["jwt"], expired["jwt"]);
    let cookies = api
        .ok("POST", &refresh, Some(request(Some("cookie"))))
        .await;
    assert_eq!(cookies["object"], "cookies");
    let cookie = cookies["cookies"][0].as_str().unwrap();
    let jwt = cookie
        .strip_prefix("__session=")
        .and_then(|rest| rest.split(';').next())
        .unwrap();
    assert_eq!(claims(&json!(jwt))["sid"], session["id"]);

    let foreign = api
        .post(&format!("/sessions/{}/refresh", id(&other)), request(None))
        .await;
    assert_eq!(
        (foreign.status, foreign.code()),
        (401, "authentication_invalid"),
        "another session's token"
    );
    let garbage = api
        .post(&refresh, json!({"expired_token": "not.a.jwt", "refresh_token": "rt", "request_origin": "https://app.example.test"}))
        .await;
    assert_eq!(garbage.status, 401);
    let missing = api
        .post(
            &refresh,
            json!({"expired_token": expired["jwt"], "refresh_token": "rt"}),
        )
        .await;
    assert_eq!(
        (missing.status, missing.code(), missing.param()),
        (422, "form_param_missing", "request_origin")
    );
    let bad_format = api.post(&refresh, request(Some("header"))).await;
    assert_eq!((bad_format.status, bad_format.param()), (422, "format"));
    let mut unknown_field = request(None);
    unknown_field["remember"] = json!(true);
    let unknown_field = api.post(&refresh, unknown_field).await;
    assert_eq!(unknown_field.code(), "form_param_unknown");
    let unknown = api
        .post("/sessions/sess_unknown/refresh", request(None))
        .await;
    assert_eq!(unknown.status, 404);

    api.ok("POST", &format!("/sessions/{}/revoke", id(&session)), None)
        .await;
    let revoked = api.post(&refresh, request(None)).await;
    assert_eq!(
        (revoked.status, revoked.code()),
        (401, "authentication_invalid"),
        "a revoked session cannot be refreshed"
    );
}

#[tokio::test]
async fn bulk_invitations_create_each_like_one_invitation_or_none_at_all() {
    let api = Api::start().await;
    let created = api
        .ok(
            "POST",
            "/invitations/bulk",
            Some(json!([
                {"email_address": "one@example.test", "public_metadata": {"team": "a"}, "notify": false},
                {"email_address": "two@example.test", "redirect_url": "https://app.example.test/join", "expires_in_days": 7},
            ])),
        )
        .await;
    let created = created.as_array().unwrap();
    assert_eq!(created.len(), 2);
    for invitation in created {
        assert_eq!(invitation["object"], "invitation");
        assert_clerk_id(&invitation["id"], "inv_");
        assert_eq!(invitation["status"], "pending");
    }
    assert_eq!(created[0]["email_address"], "one@example.test");
    assert_eq!(created[0]["public_metadata"], json!({"team": "a"}));
    assert!(
        created[1]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://app.example.test/join?__clerk_ticket=")
    );
    let seven_days =
        created[1]["expires_at"].as_i64().unwrap() - created[1]["created_at"].as_i64().unwrap();
    assert_eq!(seven_days, 7 * 86_400_000);
    let listed = api.ok("GET", "/invitations?status=pending", None).await;
    assert_eq!(ids(&listed), [id(&created[1]), id(&created[0])]);
    assert_eq!(api.emulator.count(ObjectKind::Invitation), 2);

    // One bad item refuses the whole request: nothing is created.
    let refusals = [
        (
            json!([{"email_address": "three@example.test"}, {"email_address": "one@example.test"}]),
            400,
            "duplicate_record",
        ),
        (
            json!([{"email_address": "four@example.test"}, {"email_address": "four@example.test"}]),
            400,
            "duplicate_record",
        ),
        (
            json!([{"email_address": "five@example.test"}, {"email_address": "not-an-address"}]),
            422,
            "form_param_format_invalid",
        ),
        (
            json!([{"email_address": "six@example.test"}, {"notify": false}]),
            422,
            "form_param_missing",
        ),
        (
            json!([{"email_address": "seven@example.test", "role": "admin"}]),
            422,
            "form_param_unknown",
        ),
        (
            json!([{"email_address": "eight@example.test", "expires_in_days": 400}]),
            422,
            "form_param_format_invalid",
        ),
        (json!([]), 422, "form_param_format_invalid"),
        (
            Value::Array(
                (0..11)
                    .map(|i| json!({"email_address": format!("many-{i}@example.test")}))
                    .collect(),
            ),
            422,
            "form_param_format_invalid",
        ),
        (
            json!({"email_address": "object@example.test"}),
            400,
            "request_body_invalid",
        ),
        (json!(["nine@example.test"]), 400, "request_body_invalid"),
    ];
    for (body, status, code) in refusals {
        let refused = api.post("/invitations/bulk", body.clone()).await;
        assert_eq!((refused.status, refused.code()), (status, code), "{body}");
    }
    assert_eq!(api.emulator.count(ObjectKind::Invitation), 2);

    // `ignore_existing` repeats an invitation, but never invites an existing user.
    let again = api
        .ok(
            "POST",
            "/invitations/bulk",
            Some(json!([{"email_address": "one@example.test", "ignore_existing": true}])),
        )
        .await;
    assert_eq!(again[0]["email_address"], "one@example.test");
    api.user("member@example.test").await;
    let member = api
        .post(
            "/invitations/bulk",
            json!([{"email_address": "member@example.test", "ignore_existing": true}]),
        )
        .await;
    assert_eq!(
        (member.status, member.code(), member.param()),
        (422, "form_identifier_exists", "email_address")
    );
    let single = api
        .post(
            "/invitations",
            json!({"email_address": "member@example.test", "ignore_existing": true}),
        )
        .await;
    assert_eq!(
        single.status, 200,
        "a single invitation may still ignore the account"
    );

    // Bulk invitations are ordinary invitations afterwards.
    let revoked = api
        .ok(
            "POST",
            &format!("/invitations/{}/revoke", id(&created[0])),
            None,
        )
        .await;
    assert_eq!(revoked["status"], "revoked");
}
