//! The email address and phone number functions end to end against the emulator, which keeps
//! both on their user: the exact request each sends, round trips from create to a 404 after
//! delete, what the user object shows after each change, and code verification.

use kosmo_runtime::Error;
use kosmo_tests::{Expect, Harness, assert_clerk_id, assert_request, bare, with_body};
use serde_json::{Value, json};

/// Calls `function` once, asserts the request the emulator received, and returns the answer.
async fn check(harness: &Harness, function: &str, args: Value, expect: Expect<'_>) -> Value {
    let (answer, request) = harness.call_once(function, args).await;
    assert_request(&request, harness.emulator.secret_key(), expect);
    answer
}

/// The status and Clerk code of a call that must fail.
async fn failure(harness: &Harness, function: &str, args: Value) -> (u16, String) {
    match harness.call(function, args).await {
        Err(Error::Api(error)) => (error.status, error.code.unwrap_or_default()),
        other => panic!("{function}: expected a Clerk error, got {other:?}"),
    }
}

async fn user(harness: &Harness, body: Value) -> Value {
    harness.call("create_user", body).await.unwrap()
}

async fn get_user(harness: &Harness, id: &Value) -> Value {
    harness.call("get_user", json!({"id": id})).await.unwrap()
}

fn id(value: &Value) -> &str {
    value["id"].as_str().unwrap()
}

#[tokio::test]
async fn an_email_address_from_create_to_delete() {
    let harness = Harness::start().await;
    let owner = user(
        &harness,
        json!({"email_address": ["e2e-email-owner@example.test"]}),
    )
    .await;
    let created = check(
        &harness,
        "create_email_address",
        json!({"user_id": owner["id"], "email_address": "e2e-work@example.test", "verified": false, "primary": false}),
        with_body(
            "POST",
            "/v1/email_addresses",
            json!({"user_id": owner["id"], "email_address": "e2e-work@example.test", "verified": false, "primary": false}),
        ),
    )
    .await;
    assert_eq!(created["object"], "email_address");
    assert_clerk_id(&created["id"], "idn_");
    assert_eq!(created["email_address"], "e2e-work@example.test");
    assert_eq!(created["verification"], Value::Null);
    let path = format!("/v1/email_addresses/{}", id(&created));

    let fetched = check(
        &harness,
        "get_email_address",
        json!({"email_address_id": created["id"]}),
        bare("GET", &path),
    )
    .await;
    assert_eq!(fetched, created);
    let on_user = get_user(&harness, &owner["id"]).await;
    assert_eq!(on_user["email_addresses"][1], created);

    let updated = check(
        &harness,
        "update_email_address",
        json!({"email_address_id": created["id"], "verified": true, "primary": true, "notify_primary_email_address_changed": false}),
        with_body(
            "PATCH",
            &path,
            json!({"verified": true, "primary": true, "notify_primary_email_address_changed": false}),
        ),
    )
    .await;
    assert_eq!(updated["verification"]["status"], "verified");
    assert_eq!(updated["verification"]["strategy"], "admin");
    let on_user = get_user(&harness, &owner["id"]).await;
    assert_eq!(on_user["primary_email_address_id"], created["id"]);

    let deleted = check(
        &harness,
        "delete_email_address",
        json!({"email_address_id": created["id"]}),
        bare("DELETE", &path),
    )
    .await;
    assert_eq!(
        deleted,
        json!({"object": "email_address", "id": created["id"], "deleted": true})
    );
    let on_user = get_user(&harness, &owner["id"]).await;
    assert_eq!(on_user["email_addresses"].as_array().unwrap().len(), 1);
    assert_eq!(
        on_user["primary_email_address_id"], owner["primary_email_address_id"],
        "the other verified address is primary again"
    );
    assert_eq!(
        failure(
            &harness,
            "get_email_address",
            json!({"email_address_id": created["id"]})
        )
        .await,
        (404, "resource_not_found".to_string())
    );
    // The user's last address stays.
    assert_eq!(
        failure(
            &harness,
            "delete_email_address",
            json!({"email_address_id": owner["primary_email_address_id"]})
        )
        .await,
        (400, "identification_deletion_failed".to_string())
    );
}

#[tokio::test]
async fn an_email_address_is_verified_with_a_code() {
    let harness = Harness::start().await;
    let owner = user(
        &harness,
        json!({"email_address": ["e2e-code-owner@example.test"]}),
    )
    .await;
    let email = harness
        .call(
            "create_email_address",
            json!({"user_id": owner["id"], "email_address": "e2e-code+clerk_test@example.test"}),
        )
        .await
        .unwrap();
    let path = format!("/v1/email_addresses/{}", id(&email));
    let verification = check(
        &harness,
        "prepare_email_address_verification",
        json!({"email_address_id": email["id"]}),
        bare("POST", &format!("{path}/prepare_verification")),
    )
    .await;
    assert_eq!(verification["object"], "verification_otp");
    assert_clerk_id(&verification["id"], "ver_");
    assert_eq!(verification["status"], "unverified");
    assert_eq!(verification["strategy"], "email_code");
    assert_eq!(verification["attempts"], 0);

    let wrong = check(
        &harness,
        "attempt_email_address_verification",
        json!({"email_address_id": email["id"], "verification_id": verification["id"], "code": "000000"}),
        with_body(
            "POST",
            &format!("{path}/attempt_verification"),
            json!({"verification_id": verification["id"], "code": "000000"}),
        ),
    )
    .await;
    assert_eq!(wrong["status"], "unverified");
    assert_eq!(wrong["attempts"], 1);
    let right = harness
        .call(
            "attempt_email_address_verification",
            json!({"email_address_id": email["id"], "verification_id": verification["id"], "code": "424242"}),
        )
        .await
        .unwrap();
    assert_eq!(right["status"], "verified");
    let verified = harness
        .call(
            "get_email_address",
            json!({"email_address_id": email["id"]}),
        )
        .await
        .unwrap();
    assert_eq!(verified["verification"]["strategy"], "email_code");
    assert_eq!(
        failure(
            &harness,
            "attempt_email_address_verification",
            json!({"email_address_id": email["id"], "verification_id": verification["id"], "code": "424242"}),
        )
        .await,
        (400, "verification_already_verified".to_string())
    );
}

#[tokio::test]
async fn replacing_email_addresses_leaves_one_primary() {
    let harness = Harness::start().await;
    let owner = user(
        &harness,
        json!({"email_address": ["e2e-replace-1@example.test", "e2e-replace-2@example.test"]}),
    )
    .await;
    let path = format!("/v1/users/{}/email_address", id(&owner));
    let replaced = check(
        &harness,
        "replace_user_email_address",
        json!({
            "user_id": owner["id"],
            "email_address": "e2e-replace-new@example.test",
            "identification_status": "reserved",
            "notify_primary_email_address_changed": true,
        }),
        with_body(
            "PUT",
            &path,
            json!({
                "email_address": "e2e-replace-new@example.test",
                "identification_status": "reserved",
                "notify_primary_email_address_changed": true,
            }),
        ),
    )
    .await;
    assert_eq!(replaced["reserved"], true);
    assert_eq!(replaced["verification"], Value::Null);
    let on_user = get_user(&harness, &owner["id"]).await;
    assert_eq!(on_user["email_addresses"], json!([replaced]));
    assert_eq!(on_user["primary_email_address_id"], replaced["id"]);

    // Another user's verified address cannot be taken over.
    let taken = user(
        &harness,
        json!({"email_address": ["e2e-replace-taken@example.test"]}),
    )
    .await;
    assert_eq!(
        failure(
            &harness,
            "replace_user_email_address",
            json!({"user_id": owner["id"], "email_address": "e2e-replace-taken@example.test"}),
        )
        .await,
        (422, "form_identifier_exists".to_string())
    );
    assert_eq!(
        get_user(&harness, &taken["id"]).await["email_addresses"][0]["email_address"],
        "e2e-replace-taken@example.test"
    );
}

#[tokio::test]
async fn a_phone_number_from_create_to_delete_as_a_second_factor() {
    let harness = Harness::start().await;
    let owner = user(
        &harness,
        json!({"email_address": ["e2e-phone-owner@example.test"]}),
    )
    .await;
    let created = check(
        &harness,
        "create_phone_number",
        json!({
            "user_id": owner["id"],
            "phone_number": "+15555550160",
            "verified": true,
            "primary": true,
            "reserved_for_second_factor": true,
        }),
        with_body(
            "POST",
            "/v1/phone_numbers",
            json!({
                "user_id": owner["id"],
                "phone_number": "+15555550160",
                "verified": true,
                "primary": true,
                "reserved_for_second_factor": true,
            }),
        ),
    )
    .await;
    assert_eq!(created["object"], "phone_number");
    assert_clerk_id(&created["id"], "idn_");
    assert_eq!(created["reserved_for_second_factor"], true);
    assert_eq!(created["default_second_factor"], true);
    let on_user = get_user(&harness, &owner["id"]).await;
    assert_eq!(on_user["primary_phone_number_id"], created["id"]);
    assert_eq!(on_user["two_factor_enabled"], true);
    let path = format!("/v1/phone_numbers/{}", id(&created));

    let fetched = check(
        &harness,
        "get_phone_number",
        json!({"phone_number_id": created["id"]}),
        bare("GET", &path),
    )
    .await;
    assert_eq!(fetched, created);
    let updated = check(
        &harness,
        "update_phone_number",
        json!({"phone_number_id": created["id"], "reserved_for_second_factor": false, "verified": true, "primary": true}),
        with_body(
            "PATCH",
            &path,
            json!({"reserved_for_second_factor": false, "verified": true, "primary": true}),
        ),
    )
    .await;
    assert_eq!(updated["reserved_for_second_factor"], false);
    assert_eq!(updated["default_second_factor"], false);
    assert_eq!(
        get_user(&harness, &owner["id"]).await["two_factor_enabled"],
        false
    );

    // An unverified number cannot become a second factor.
    let unverified = harness
        .call(
            "create_phone_number",
            json!({"user_id": owner["id"], "phone_number": "+15555550161"}),
        )
        .await
        .unwrap();
    assert_eq!(unverified["verification"], Value::Null);
    assert_eq!(
        failure(
            &harness,
            "update_phone_number",
            json!({"phone_number_id": unverified["id"], "reserved_for_second_factor": true}),
        )
        .await,
        (
            400,
            "identification_update_second_factor_unverified".to_string()
        )
    );

    let deleted = check(
        &harness,
        "delete_phone_number",
        json!({"phone_number_id": created["id"]}),
        bare("DELETE", &path),
    )
    .await;
    assert_eq!(
        deleted,
        json!({"object": "phone_number", "id": created["id"], "deleted": true})
    );
    let on_user = get_user(&harness, &owner["id"]).await;
    assert_eq!(on_user["phone_numbers"], json!([unverified]));
    assert_eq!(on_user["primary_phone_number_id"], Value::Null);
    assert_eq!(
        failure(
            &harness,
            "get_phone_number",
            json!({"phone_number_id": created["id"]})
        )
        .await,
        (404, "resource_not_found".to_string())
    );
}

#[tokio::test]
async fn a_phone_number_is_verified_with_a_code_then_replaced() {
    let harness = Harness::start().await;
    let owner = user(
        &harness,
        json!({"email_address": ["e2e-sms-owner@example.test"], "totp_secret": "JBSWY3DPEHPK3PXP"}),
    )
    .await;
    let phone = harness
        .call(
            "create_phone_number",
            json!({"user_id": owner["id"], "phone_number": "+15555550170"}),
        )
        .await
        .unwrap();
    let path = format!("/v1/phone_numbers/{}", id(&phone));
    let verification = check(
        &harness,
        "prepare_phone_number_verification",
        json!({"phone_number_id": phone["id"]}),
        bare("POST", &format!("{path}/prepare_verification")),
    )
    .await;
    assert_eq!(verification["strategy"], "phone_code");
    assert_eq!(verification["channel"], "sms");
    let attempt = json!({"verification_id": verification["id"], "code": "424242"});
    let mut args = attempt.clone();
    args["phone_number_id"] = phone["id"].clone();
    let verified = check(
        &harness,
        "attempt_phone_number_verification",
        args,
        with_body("POST", &format!("{path}/attempt_verification"), attempt),
    )
    .await;
    assert_eq!(verified["status"], "verified");
    assert_eq!(verified["attempts"], 1);
    let on_user = get_user(&harness, &owner["id"]).await;
    assert_eq!(on_user["primary_phone_number_id"], phone["id"]);
    assert_eq!(
        on_user["phone_numbers"][0]["verification"]["strategy"],
        "phone_code"
    );

    // A second factor among the replaced numbers turns MFA off.
    harness
        .call(
            "update_phone_number",
            json!({"phone_number_id": phone["id"], "reserved_for_second_factor": true}),
        )
        .await
        .unwrap();
    let replaced = check(
        &harness,
        "replace_user_phone_number",
        json!({"user_id": owner["id"], "phone_number": "+15555550171", "identification_status": "verified"}),
        with_body(
            "PUT",
            &format!("/v1/users/{}/phone_number", id(&owner)),
            json!({"phone_number": "+15555550171", "identification_status": "verified"}),
        ),
    )
    .await;
    assert_eq!(replaced["phone_number"], "+15555550171");
    assert_eq!(replaced["reserved_for_second_factor"], false);
    let on_user = get_user(&harness, &owner["id"]).await;
    assert_eq!(on_user["phone_numbers"], json!([replaced]));
    assert_eq!(on_user["primary_phone_number_id"], replaced["id"]);
    assert_eq!(on_user["totp_enabled"], false);
    assert_eq!(on_user["two_factor_enabled"], false);
}
