//! A user's password and second factors: verify and remove the password, the compromised
//! mark, TOTP and backup codes, and turning second factors off.

use crate::common;

use common::Api;
use serde_json::{Value, json};

const PASSWORD: &str = "correct-horse-battery-staple";

async fn user_with_password(api: &Api, email: &str) -> String {
    let user = api
        .ok(
            "POST",
            "/users",
            Some(json!({"email_address": [email], "password": PASSWORD})),
        )
        .await;
    user["id"].as_str().unwrap().to_string()
}

async fn active_sessions(api: &Api, user_id: &str) -> usize {
    let sessions = api
        .ok(
            "GET",
            &format!("/sessions?user_id={user_id}&status=active"),
            None,
        )
        .await;
    sessions.as_array().unwrap().len()
}

#[tokio::test]
async fn passwords_are_verified_never_shown_and_can_be_removed() {
    let api = Api::start().await;
    let user_id = user_with_password(&api, "password@example.test").await;
    let user = api.ok("GET", &format!("/users/{user_id}"), None).await;
    assert!(!user.to_string().contains(PASSWORD), "never rendered");
    let verify = format!("/users/{user_id}/verify_password");

    let right = api
        .ok("POST", &verify, Some(json!({"password": PASSWORD})))
        .await;
    assert_eq!(right, json!({"verified": true}));
    let wrong = api
        .post(&verify, json!({"password": "nope-nope-nope"}))
        .await;
    assert_eq!((wrong.status, wrong.code()), (422, "incorrect_password"));
    let missing = api.post(&verify, json!({})).await;
    assert_eq!(missing.param(), "password");
    let unknown = api
        .post(
            "/users/user_nobody/verify_password",
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(unknown.status, 404);

    // A new password replaces the old one.
    api.ok(
        "PATCH",
        &format!("/users/{user_id}"),
        Some(json!({"password": "another-long-password"})),
    )
    .await;
    assert_eq!(
        api.post(&verify, json!({"password": PASSWORD}))
            .await
            .status,
        422
    );
    api.ok(
        "POST",
        &verify,
        Some(json!({"password": "another-long-password"})),
    )
    .await;

    api.ok("POST", "/sessions", Some(json!({"user_id": user_id})))
        .await;
    let removed = api
        .ok(
            "POST",
            &format!("/users/{user_id}/remove_password"),
            Some(json!({"sign_out_of_other_sessions": true})),
        )
        .await;
    assert_eq!(removed["password_enabled"], false);
    assert_eq!(active_sessions(&api, &user_id).await, 0);
    let no_password = api.post(&verify, json!({"password": PASSWORD})).await;
    assert_eq!(
        (no_password.status, no_password.code()),
        (400, "no_password_set")
    );
    // Removing a password that is not there returns the user unchanged.
    let again = api
        .ok("POST", &format!("/users/{user_id}/remove_password"), None)
        .await;
    assert_eq!(again["updated_at"], removed["updated_at"]);

    // A password set from a digest cannot be checked by the emulator.
    let digest = api
        .ok(
            "POST",
            "/users",
            Some(json!({
                "email_address": ["digest@example.test"],
                "password_digest": "$2a$10$abcdefghijklmnopqrstuu0123456789abcdefghijklmnopqrstu",
                "password_hasher": "bcrypt",
            })),
        )
        .await;
    let digest_verify = api
        .post(
            &format!("/users/{}/verify_password", digest["id"].as_str().unwrap()),
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(digest_verify.code(), "incorrect_password");
}

#[tokio::test]
async fn the_compromised_mark_needs_a_password_and_can_sign_out() {
    let api = Api::start().await;
    let user_id = user_with_password(&api, "compromised@example.test").await;
    api.ok("POST", "/sessions", Some(json!({"user_id": user_id})))
        .await;
    let set = format!("/users/{user_id}/password/set_compromised");
    let unset = format!("/users/{user_id}/password/unset_compromised");

    let flagged = api
        .ok("POST", &set, Some(json!({"revoke_all_sessions": false})))
        .await;
    assert_eq!(flagged["id"], user_id.as_str());
    assert_eq!(active_sessions(&api, &user_id).await, 1);
    api.ok("POST", &set, Some(json!({"revoke_all_sessions": true})))
        .await;
    assert_eq!(active_sessions(&api, &user_id).await, 0);
    let cleared = api.ok("POST", &unset, None).await;
    assert_eq!(cleared["password_enabled"], true);
    let unknown_field = api.post(&unset, json!({"revoke_all_sessions": true})).await;
    assert_eq!(unknown_field.code(), "form_param_unknown");

    let plain = api.user("no-password@example.test").await;
    let plain_id = plain["id"].as_str().unwrap();
    let refused = api
        .post(
            &format!("/users/{plain_id}/password/set_compromised"),
            json!({}),
        )
        .await;
    assert_eq!((refused.status, refused.code()), (400, "no_password_set"));
    api.ok(
        "POST",
        &format!("/users/{plain_id}/password/unset_compromised"),
        None,
    )
    .await;
}

#[tokio::test]
async fn totp_and_backup_codes_verify_and_turn_off() {
    let api = Api::start().await;
    let user = api
        .ok(
            "POST",
            "/users",
            Some(json!({
                "email_address": ["mfa@example.test"],
                "totp_secret": "JBSWY3DPEHPK3PXP",
                "backup_codes": ["a1b2c3d4", "e5f6g7h8"],
            })),
        )
        .await;
    let user_id = user["id"].as_str().unwrap();
    assert_eq!(user["two_factor_enabled"], true);
    let verify = format!("/users/{user_id}/verify_totp");

    let backup = api
        .ok("POST", &verify, Some(json!({"code": "a1b2c3d4"})))
        .await;
    assert_eq!(
        backup,
        json!({"verified": true, "code_type": "backup_code"})
    );
    let used = api.post(&verify, json!({"code": "a1b2c3d4"})).await;
    assert_eq!((used.status, used.code()), (422, "totp_invalid_length"));
    let totp = api
        .ok("POST", &verify, Some(json!({"code": "424242"})))
        .await;
    assert_eq!(totp, json!({"verified": true, "code_type": "totp"}));
    let wrong = api.post(&verify, json!({"code": "123456"})).await;
    assert_eq!((wrong.status, wrong.code()), (422, "totp_incorrect_code"));

    let answer = api
        .ok("DELETE", &format!("/users/{user_id}/totp"), None)
        .await;
    assert_eq!(answer, json!({"user_id": user_id}));
    let user_now = api.ok("GET", &format!("/users/{user_id}"), None).await;
    assert_eq!(user_now["totp_enabled"], false);
    assert_eq!(user_now["backup_code_enabled"], true);
    assert_eq!(user_now["two_factor_enabled"], true);
    // Without TOTP only the remaining backup code is accepted.
    assert_eq!(
        api.post(&verify, json!({"code": "424242"})).await.code(),
        "totp_incorrect_code"
    );
    api.ok("POST", &verify, Some(json!({"code": "e5f6g7h8"})))
        .await;

    api.ok("DELETE", &format!("/users/{user_id}/backup_code"), None)
        .await;
    let user_now = api.ok("GET", &format!("/users/{user_id}"), None).await;
    assert_eq!(user_now["backup_code_enabled"], false);
    assert_eq!(user_now["two_factor_enabled"], false);
    assert!(user_now["mfa_disabled_at"].is_i64());
    let disabled = api.post(&verify, json!({"code": "424242"})).await;
    assert_eq!((disabled.status, disabled.code()), (400, "totp_disabled"));
}

#[tokio::test]
async fn disabling_mfa_clears_every_second_factor() {
    let api = Api::start().await;
    let user = api
        .ok(
            "POST",
            "/users",
            Some(json!({
                "email_address": ["all-mfa@example.test"],
                "phone_number": ["+15555550140"],
                "totp_secret": "JBSWY3DPEHPK3PXP",
                "backup_codes": ["a1b2c3d4"],
            })),
        )
        .await;
    let user_id = user["id"].as_str().unwrap();
    let phone_id = user["primary_phone_number_id"].as_str().unwrap();
    api.ok(
        "PATCH",
        &format!("/phone_numbers/{phone_id}"),
        Some(json!({"reserved_for_second_factor": true})),
    )
    .await;
    let answer = api
        .ok("DELETE", &format!("/users/{user_id}/mfa"), None)
        .await;
    assert_eq!(answer, json!({"user_id": user_id}));
    let user_now = api.ok("GET", &format!("/users/{user_id}"), None).await;
    for flag in ["totp_enabled", "backup_code_enabled", "two_factor_enabled"] {
        assert_eq!(user_now[flag], false, "{flag}");
    }
    assert_eq!(
        user_now["phone_numbers"][0]["reserved_for_second_factor"],
        false
    );
    assert_eq!(user_now["phone_numbers"][0]["phone_number"], "+15555550140");
    let missing = api.delete("/users/user_nobody/mfa").await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body["errors"][0]["code"],
        Value::from("resource_not_found")
    );
}
