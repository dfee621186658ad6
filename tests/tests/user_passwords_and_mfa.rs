//! A user's password and second factors end to end against the emulator, which keeps them:
//! the exact request each function sends, and what the user object or the next call shows.

use kosmo_runtime::Error;
use kosmo_tests::{Expect, Harness, assert_request, bare, with_body};
use serde_json::{Value, json};

const PASSWORD: &str = "correct-horse-battery-staple";

async fn check(harness: &Harness, function: &str, args: Value, expect: Expect<'_>) -> Value {
    let (answer, request) = harness.call_once(function, args).await;
    assert_request(&request, harness.emulator.secret_key(), expect);
    answer
}

async fn failure(harness: &Harness, function: &str, args: Value) -> (u16, String) {
    match harness.call(function, args).await {
        Err(Error::Api(error)) => (error.status, error.code.unwrap_or_default()),
        other => panic!("{function}: expected a Clerk error, got {other:?}"),
    }
}

async fn get_user(harness: &Harness, id: &str) -> Value {
    harness.call("get_user", json!({"id": id})).await.unwrap()
}

async fn active_sessions(harness: &Harness, user_id: &str) -> usize {
    let sessions = harness
        .call(
            "list_sessions",
            json!({"user_id": user_id, "status": "active"}),
        )
        .await
        .unwrap();
    sessions.as_array().unwrap().len()
}

#[tokio::test]
async fn a_password_is_verified_flagged_and_removed() {
    let harness = Harness::start().await;
    let user = harness
        .call(
            "create_user",
            json!({"email_address": ["e2e-password@example.test"], "password": PASSWORD}),
        )
        .await
        .unwrap();
    let user_id = user["id"].as_str().unwrap();
    let base = format!("/v1/users/{user_id}");

    let verified = check(
        &harness,
        "verify_user_password",
        json!({"user_id": user_id, "password": PASSWORD}),
        with_body(
            "POST",
            &format!("{base}/verify_password"),
            json!({"password": PASSWORD}),
        ),
    )
    .await;
    assert_eq!(verified, json!({"verified": true}));
    // The alias Clerk's SDKs suggest reaches the same function.
    assert_eq!(
        failure(
            &harness,
            "verify_password",
            json!({"user_id": user_id, "password": "wrong-password"}),
        )
        .await,
        (422, "incorrect_password".to_string())
    );

    harness
        .call("create_session", json!({"user_id": user_id}))
        .await
        .unwrap();
    let flagged = check(
        &harness,
        "set_user_password_compromised",
        json!({"user_id": user_id, "revoke_all_sessions": true}),
        with_body(
            "POST",
            &format!("{base}/password/set_compromised"),
            json!({"revoke_all_sessions": true}),
        ),
    )
    .await;
    assert_eq!(flagged["id"], user_id);
    assert_eq!(flagged["password_enabled"], true);
    assert_eq!(active_sessions(&harness, user_id).await, 0);
    let cleared = check(
        &harness,
        "unset_user_password_compromised",
        json!({"user_id": user_id}),
        bare("POST", &format!("{base}/password/unset_compromised")),
    )
    .await;
    assert_eq!(cleared["id"], user_id);

    harness
        .call("create_session", json!({"user_id": user_id}))
        .await
        .unwrap();
    let removed = check(
        &harness,
        "remove_user_password",
        json!({"user_id": user_id, "sign_out_of_other_sessions": true}),
        with_body(
            "POST",
            &format!("{base}/remove_password"),
            json!({"sign_out_of_other_sessions": true}),
        ),
    )
    .await;
    assert_eq!(removed["password_enabled"], false);
    assert_eq!(active_sessions(&harness, user_id).await, 0);
    assert_eq!(
        failure(
            &harness,
            "verify_user_password",
            json!({"user_id": user_id, "password": PASSWORD}),
        )
        .await,
        (400, "no_password_set".to_string())
    );
    assert_eq!(
        failure(
            &harness,
            "set_user_password_compromised",
            json!({"user_id": user_id}),
        )
        .await,
        (400, "no_password_set".to_string())
    );
    assert_eq!(
        failure(
            &harness,
            "remove_user_password",
            json!({"user_id": "user_2nobody0"}),
        )
        .await,
        (404, "resource_not_found".to_string())
    );
}

#[tokio::test]
async fn totp_and_backup_codes_are_checked_and_turned_off() {
    let harness = Harness::start().await;
    let user = harness
        .call(
            "create_user",
            json!({
                "email_address": ["e2e-mfa@example.test"],
                "totp_secret": "JBSWY3DPEHPK3PXP",
                "backup_codes": ["a1b2c3d4", "e5f6g7h8"],
            }),
        )
        .await
        .unwrap();
    let user_id = user["id"].as_str().unwrap();
    let base = format!("/v1/users/{user_id}");
    assert_eq!(user["two_factor_enabled"], true);

    let backup = check(
        &harness,
        "verify_user_totp",
        json!({"user_id": user_id, "code": "a1b2c3d4"}),
        with_body(
            "POST",
            &format!("{base}/verify_totp"),
            json!({"code": "a1b2c3d4"}),
        ),
    )
    .await;
    assert_eq!(
        backup,
        json!({"verified": true, "code_type": "backup_code"})
    );
    assert_eq!(
        failure(
            &harness,
            "verify_totp",
            json!({"user_id": user_id, "code": "a1b2c3d4"})
        )
        .await,
        (422, "totp_invalid_length".to_string()),
        "a backup code works once"
    );
    assert_eq!(
        failure(
            &harness,
            "verify_user_totp",
            json!({"user_id": user_id, "code": "123456"})
        )
        .await,
        (422, "totp_incorrect_code".to_string())
    );

    let totp_off = check(
        &harness,
        "delete_user_totp",
        json!({"user_id": user_id}),
        bare("DELETE", &format!("{base}/totp")),
    )
    .await;
    assert_eq!(totp_off, json!({"user_id": user_id}));
    let after = get_user(&harness, user_id).await;
    assert_eq!(after["totp_enabled"], false);
    assert_eq!(after["backup_code_enabled"], true);

    let codes_off = check(
        &harness,
        "delete_user_backup_codes",
        json!({"user_id": user_id}),
        bare("DELETE", &format!("{base}/backup_code")),
    )
    .await;
    assert_eq!(codes_off, json!({"user_id": user_id}));
    let after = get_user(&harness, user_id).await;
    assert_eq!(after["backup_code_enabled"], false);
    assert_eq!(after["two_factor_enabled"], false);
    assert!(after["mfa_disabled_at"].is_i64());
    assert_eq!(
        failure(
            &harness,
            "verify_user_totp",
            json!({"user_id": user_id, "code": "e5f6g7h8"})
        )
        .await,
        (400, "totp_disabled".to_string())
    );
}

#[tokio::test]
async fn disabling_mfa_turns_every_second_factor_off() {
    let harness = Harness::start().await;
    let user = harness
        .call(
            "create_user",
            json!({
                "email_address": ["e2e-disable-mfa@example.test"],
                "phone_number": ["+15555550180"],
                "totp_secret": "JBSWY3DPEHPK3PXP",
            }),
        )
        .await
        .unwrap();
    let user_id = user["id"].as_str().unwrap();
    harness
        .call(
            "update_phone_number",
            json!({"phone_number_id": user["primary_phone_number_id"], "reserved_for_second_factor": true}),
        )
        .await
        .unwrap();
    let answer = check(
        &harness,
        "disable_user_mfa",
        json!({"user_id": user_id}),
        bare("DELETE", &format!("/v1/users/{user_id}/mfa")),
    )
    .await;
    assert_eq!(answer, json!({"user_id": user_id}));
    let after = get_user(&harness, user_id).await;
    assert_eq!(after["totp_enabled"], false);
    assert_eq!(after["two_factor_enabled"], false);
    assert_eq!(
        after["phone_numbers"][0]["reserved_for_second_factor"],
        false
    );
    assert_eq!(
        failure(
            &harness,
            "disable_user_mfa",
            json!({"user_id": "user_2nobody0"})
        )
        .await,
        (404, "resource_not_found".to_string())
    );
}
