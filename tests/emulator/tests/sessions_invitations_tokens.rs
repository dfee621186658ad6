//! Sessions, application invitations and sign-in tokens.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

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
