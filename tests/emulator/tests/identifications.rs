//! Email addresses and phone numbers: create, get, update, delete and replace, as the user
//! object shows them, and code verification with the test code.

use crate::common;

use common::{Api, assert_clerk_id, assert_millis};
use serde_json::{Value, json};

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_string()
}

fn emails(user: &Value) -> Vec<&str> {
    user["email_addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["email_address"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn an_email_address_round_trip_shows_on_the_user() {
    let api = Api::start().await;
    let user = api.user("round-trip@example.test").await;
    let user_id = id(&user);
    let first_primary = user["primary_email_address_id"].clone();

    let created = api
        .ok(
            "POST",
            "/email_addresses",
            Some(json!({"user_id": user_id, "email_address": "Work@Example.test"})),
        )
        .await;
    assert_eq!(created["object"], "email_address");
    assert_clerk_id(&created["id"], "idn_");
    assert_eq!(created["email_address"], "Work@Example.test");
    assert_eq!(
        created["verification"],
        Value::Null,
        "unverified by default"
    );
    assert_eq!(created["reserved"], false);
    assert_eq!(created["linked_to"], json!([]));
    assert_millis(&created["created_at"]);
    let email_path = format!("/email_addresses/{}", id(&created));

    assert_eq!(api.ok("GET", &email_path, None).await, created);
    let user_now = api.ok("GET", &format!("/users/{user_id}"), None).await;
    assert_eq!(
        emails(&user_now),
        ["round-trip@example.test", "Work@Example.test"]
    );
    assert_eq!(user_now["primary_email_address_id"], first_primary);

    // Primary needs a verified address.
    let refused = api.patch(&email_path, json!({"primary": true})).await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.code(), "form_verification_needed");
    let updated = api
        .ok(
            "PATCH",
            &email_path,
            Some(json!({"verified": true, "primary": true})),
        )
        .await;
    assert_eq!(updated["verification"]["status"], "verified");
    assert_eq!(updated["verification"]["strategy"], "admin");
    let user_now = api.ok("GET", &format!("/users/{user_id}"), None).await;
    assert_eq!(user_now["primary_email_address_id"], created["id"]);
    assert_eq!(user_now["email_addresses"][1], updated);

    // Losing its verification, the primary gives way to the other verified address.
    let unverified = api
        .ok("PATCH", &email_path, Some(json!({"verified": false})))
        .await;
    assert_eq!(unverified["verification"], Value::Null);
    let user_now = api.ok("GET", &format!("/users/{user_id}"), None).await;
    assert_eq!(user_now["primary_email_address_id"], first_primary);

    let deleted = api.ok("DELETE", &email_path, None).await;
    assert_eq!(
        deleted,
        json!({"object": "email_address", "id": created["id"], "deleted": true})
    );
    let missing = api.get(&email_path).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.code(), "resource_not_found");
    let user_now = api.ok("GET", &format!("/users/{user_id}"), None).await;
    assert_eq!(emails(&user_now), ["round-trip@example.test"]);
}

#[tokio::test]
async fn creating_and_deleting_follow_clerks_rules() {
    let api = Api::start().await;
    let holder = api.user("held@example.test").await;
    let user = api.user("other@example.test").await;
    let user_id = id(&user);

    let missing = api
        .post("/email_addresses", json!({"user_id": user_id}))
        .await;
    assert_eq!(
        (missing.status, missing.code()),
        (422, "form_param_missing")
    );
    assert_eq!(missing.param(), "email_address");
    let invalid = api
        .post(
            "/email_addresses",
            json!({"user_id": user_id, "email_address": "not-an-email"}),
        )
        .await;
    assert_eq!(invalid.code(), "form_param_format_invalid");
    let unknown_user = api
        .post(
            "/email_addresses",
            json!({"user_id": "user_nobody", "email_address": "x@example.test"}),
        )
        .await;
    assert_eq!(unknown_user.status, 404);
    let unknown_field = api
        .post(
            "/email_addresses",
            json!({"user_id": user_id, "email_address": "x@example.test", "colour": "teal"}),
        )
        .await;
    assert_eq!(unknown_field.code(), "form_param_unknown");

    // Claimed elsewhere: a verified copy is refused, an unverified one is not.
    let claimed = api
        .post(
            "/email_addresses",
            json!({"user_id": user_id, "email_address": "HELD@example.test", "verified": true}),
        )
        .await;
    assert_eq!(
        (claimed.status, claimed.code()),
        (422, "form_identifier_exists")
    );
    let unclaimed = api
        .ok(
            "POST",
            "/email_addresses",
            Some(json!({"user_id": user_id, "email_address": "held@example.test"})),
        )
        .await;
    let verify = api
        .patch(
            &format!("/email_addresses/{}", id(&unclaimed)),
            json!({"verified": true}),
        )
        .await;
    assert_eq!(verify.code(), "form_identifier_exists");
    // The same user cannot hold an address twice.
    let twice = api
        .post(
            "/email_addresses",
            json!({"user_id": user_id, "email_address": "other@example.test"}),
        )
        .await;
    assert_eq!(twice.code(), "form_identifier_exists");

    // A user's last identification stays.
    let only = holder["email_addresses"][0]["id"].as_str().unwrap();
    let last = api.delete(&format!("/email_addresses/{only}")).await;
    assert_eq!(
        (last.status, last.code()),
        (400, "identification_deletion_failed")
    );

    // A new verified address of a user without a verified one becomes primary.
    let reserved = api
        .ok(
            "POST",
            "/users",
            Some(json!({
                "email_address": ["reserved@example.test"],
                "email_address_identification_status": ["reserved"],
            })),
        )
        .await;
    assert_eq!(reserved["primary_email_address_id"], Value::Null);
    let verified = api
        .ok(
            "POST",
            "/email_addresses",
            Some(json!({"user_id": reserved["id"], "email_address": "verified@example.test", "verified": true})),
        )
        .await;
    let reread = api
        .ok("GET", &format!("/users/{}", id(&reserved)), None)
        .await;
    assert_eq!(reread["primary_email_address_id"], verified["id"]);
}

#[tokio::test]
async fn phone_numbers_become_second_factors() {
    let api = Api::start().await;
    let user = api.user("phones@example.test").await;
    let user_id = id(&user);
    let unverified = api
        .post(
            "/phone_numbers",
            json!({"user_id": user_id, "phone_number": "+15555550110", "reserved_for_second_factor": true}),
        )
        .await;
    assert_eq!(
        (unverified.status, unverified.code()),
        (400, "identification_create_second_factor_unverified")
    );
    let bad = api
        .post(
            "/phone_numbers",
            json!({"user_id": user_id, "phone_number": "555-0110"}),
        )
        .await;
    assert_eq!(bad.code(), "form_param_format_invalid");

    let first = api
        .ok(
            "POST",
            "/phone_numbers",
            Some(json!({
                "user_id": user_id,
                "phone_number": "+15555550110",
                "verified": true,
                "reserved_for_second_factor": true,
            })),
        )
        .await;
    assert_eq!(first["object"], "phone_number");
    assert_eq!(first["reserved_for_second_factor"], true);
    assert_eq!(first["default_second_factor"], true);
    let second = api
        .ok(
            "POST",
            "/phone_numbers",
            Some(json!({"user_id": user_id, "phone_number": "+15555550111", "verified": true})),
        )
        .await;
    assert_eq!(second["reserved_for_second_factor"], false);
    let user_now = api.ok("GET", &format!("/users/{user_id}"), None).await;
    assert_eq!(user_now["primary_phone_number_id"], first["id"]);
    assert_eq!(user_now["two_factor_enabled"], true);
    assert_eq!(user_now["totp_enabled"], false);

    let second_path = format!("/phone_numbers/{}", id(&second));
    let reserved = api
        .ok(
            "PATCH",
            &second_path,
            Some(json!({"reserved_for_second_factor": true, "primary": true})),
        )
        .await;
    assert_eq!(reserved["reserved_for_second_factor"], true);
    assert_eq!(reserved["default_second_factor"], false, "one default");

    // Deleting the default hands the role to the other second factor.
    api.ok("DELETE", &format!("/phone_numbers/{}", id(&first)), None)
        .await;
    let after = api.ok("GET", &second_path, None).await;
    assert_eq!(after["default_second_factor"], true);
    let user_now = api.ok("GET", &format!("/users/{user_id}"), None).await;
    assert_eq!(user_now["primary_phone_number_id"], second["id"]);
    assert_eq!(user_now["phone_numbers"].as_array().unwrap().len(), 1);

    let off = api
        .ok(
            "PATCH",
            &second_path,
            Some(json!({"reserved_for_second_factor": false})),
        )
        .await;
    assert_eq!(off["default_second_factor"], false);
    let user_now = api.ok("GET", &format!("/users/{user_id}"), None).await;
    assert_eq!(user_now["two_factor_enabled"], false);
    assert!(user_now["mfa_disabled_at"].is_i64());

    // A number that is the user's only identification cannot become a second factor.
    let lone = api
        .ok(
            "POST",
            "/users",
            Some(json!({"phone_number": ["+15555550112"]})),
        )
        .await;
    let refused = api
        .patch(
            &format!(
                "/phone_numbers/{}",
                lone["primary_phone_number_id"].as_str().unwrap()
            ),
            json!({"reserved_for_second_factor": true}),
        )
        .await;
    assert_eq!(refused.code(), "identification_update_failed");
}

#[tokio::test]
async fn replacing_leaves_one_primary_identification() {
    let api = Api::start().await;
    let user = api
        .ok(
            "POST",
            "/users",
            Some(json!({
                "email_address": ["one@example.test", "two@example.test"],
                "phone_number": ["+15555550120", "+15555550121"],
                "totp_secret": "JBSWY3DPEHPK3PXP",
                "backup_codes": ["a1b2c3d4"],
            })),
        )
        .await;
    let user_id = id(&user);
    let kept_id = user["email_addresses"][1]["id"].clone();

    // The user's own address keeps its ID.
    let kept = api
        .ok(
            "PUT",
            &format!("/users/{user_id}/email_address"),
            Some(json!({"email_address": "TWO@example.test"})),
        )
        .await;
    assert_eq!(kept["id"], kept_id);
    let user_now = api.ok("GET", &format!("/users/{user_id}"), None).await;
    assert_eq!(emails(&user_now), ["two@example.test"]);
    assert_eq!(user_now["primary_email_address_id"], kept_id);

    let reserved = api
        .ok(
            "PUT",
            &format!("/users/{user_id}/email_address"),
            Some(json!({"email_address": "new@example.test", "identification_status": "reserved"})),
        )
        .await;
    assert_eq!(reserved["reserved"], true);
    assert_eq!(reserved["verification"], Value::Null);
    let user_now = api.ok("GET", &format!("/users/{user_id}"), None).await;
    assert_eq!(emails(&user_now), ["new@example.test"]);
    assert_eq!(user_now["primary_email_address_id"], reserved["id"]);

    let bad_status = api
        .call(
            "PUT",
            &format!("/users/{user_id}/email_address"),
            Some(json!({"email_address": "x@example.test", "identification_status": "maybe"})),
        )
        .await;
    assert_eq!(bad_status.code(), "form_param_value_invalid");
    let taken = api.user("taken@example.test").await;
    let clash = api
        .call(
            "PUT",
            &format!("/users/{user_id}/email_address"),
            Some(json!({"email_address": "taken@example.test"})),
        )
        .await;
    assert_eq!(clash.code(), "form_identifier_exists");
    let unknown = api
        .call(
            "PUT",
            "/users/user_nobody/email_address",
            Some(json!({"email_address": "x@example.test"})),
        )
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        taken["email_addresses"][0]["email_address"],
        "taken@example.test"
    );

    // Replacing a phone number that is a second factor turns MFA off.
    let second_factor = user["phone_numbers"][0]["id"].as_str().unwrap();
    api.ok(
        "PATCH",
        &format!("/phone_numbers/{second_factor}"),
        Some(json!({"reserved_for_second_factor": true})),
    )
    .await;
    let phone = api
        .ok(
            "PUT",
            &format!("/users/{user_id}/phone_number"),
            Some(json!({"phone_number": "+15555550122", "identification_status": "unverified"})),
        )
        .await;
    assert_eq!(phone["reserved"], false);
    assert_eq!(phone["verification"], Value::Null);
    assert_eq!(phone["reserved_for_second_factor"], false);
    let user_now = api.ok("GET", &format!("/users/{user_id}"), None).await;
    assert_eq!(user_now["phone_numbers"].as_array().unwrap().len(), 1);
    assert_eq!(user_now["primary_phone_number_id"], phone["id"]);
    assert_eq!(user_now["totp_enabled"], false);
    assert_eq!(user_now["backup_code_enabled"], false);
    assert_eq!(user_now["two_factor_enabled"], false);
}

#[tokio::test]
async fn codes_verify_with_the_test_code_and_fail_after_three_wrong_ones() {
    let api = Api::start().await;
    let user = api.user("codes@example.test").await;
    let user_id = id(&user);
    let email = api
        .ok(
            "POST",
            "/email_addresses",
            Some(json!({"user_id": user_id, "email_address": "codes+clerk_test@example.test"})),
        )
        .await;
    let email_path = format!("/email_addresses/{}", id(&email));
    let verification = api
        .ok("POST", &format!("{email_path}/prepare_verification"), None)
        .await;
    assert_eq!(verification["object"], "verification_otp");
    assert_clerk_id(&verification["id"], "ver_");
    assert_eq!(verification["status"], "unverified");
    assert_eq!(verification["strategy"], "email_code");
    assert_eq!(verification["attempts"], 0);
    assert_millis(&verification["expire_at"]);
    let attempt = |code: &str| json!({"verification_id": verification["id"], "code": code});

    let wrong = api
        .ok(
            "POST",
            &format!("{email_path}/attempt_verification"),
            Some(attempt("000000")),
        )
        .await;
    assert_eq!(
        (wrong["status"].as_str(), wrong["attempts"].as_i64()),
        (Some("unverified"), Some(1))
    );
    assert_eq!(
        api.ok("GET", &email_path, None).await["verification"],
        Value::Null
    );
    let right = api
        .ok(
            "POST",
            &format!("{email_path}/attempt_verification"),
            Some(attempt("424242")),
        )
        .await;
    assert_eq!(
        (right["status"].as_str(), right["attempts"].as_i64()),
        (Some("verified"), Some(2))
    );
    let verified = api.ok("GET", &email_path, None).await;
    assert_eq!(verified["verification"]["status"], "verified");
    assert_eq!(verified["verification"]["strategy"], "email_code");
    assert_eq!(verified["verification"]["object"], "verification_otp");
    let again = api
        .post(
            &format!("{email_path}/attempt_verification"),
            attempt("424242"),
        )
        .await;
    assert_eq!(
        (again.status, again.code()),
        (400, "verification_already_verified")
    );

    // A phone verification fails on the third wrong code, then refuses more.
    let phone = api
        .ok(
            "POST",
            "/phone_numbers",
            Some(json!({"user_id": user_id, "phone_number": "+15555550130"})),
        )
        .await;
    let phone_path = format!("/phone_numbers/{}", id(&phone));
    let verification = api
        .ok("POST", &format!("{phone_path}/prepare_verification"), None)
        .await;
    assert_eq!(verification["strategy"], "phone_code");
    assert_eq!(verification["channel"], "sms");
    let attempt = json!({"verification_id": verification["id"], "code": "111111"});
    let mut last = Value::Null;
    for _ in 0..3 {
        last = api
            .ok(
                "POST",
                &format!("{phone_path}/attempt_verification"),
                Some(attempt.clone()),
            )
            .await;
    }
    assert_eq!(last["status"], "failed");
    let refused = api
        .post(&format!("{phone_path}/attempt_verification"), attempt)
        .await;
    assert_eq!(refused.code(), "verification_failed");

    // A verification belongs to its identification.
    let elsewhere = api
        .post(
            &format!("{email_path}/attempt_verification"),
            json!({"verification_id": verification["id"], "code": "424242"}),
        )
        .await;
    assert_eq!(elsewhere.status, 404);
    let missing = api
        .post(
            &format!("{phone_path}/attempt_verification"),
            json!({"code": "424242"}),
        )
        .await;
    assert_eq!(missing.param(), "verification_id");
    // An email ID is not a phone number.
    let crossed = api.get(&format!("/phone_numbers/{}", id(&email))).await;
    assert_eq!(crossed.status, 404);
}

#[tokio::test]
async fn pinned_ids_go_to_identifications_created_on_their_own() {
    let api = Api::start().await;
    api.emulator
        .pin_ids(&["idn_2abc123", "ver_2abc123"])
        .unwrap();
    let user = api.user("pinned@example.test").await;
    assert_ne!(user["email_addresses"][0]["id"], "idn_2abc123");
    let email = api
        .ok(
            "POST",
            "/email_addresses",
            Some(json!({"user_id": user["id"], "email_address": "pinned-2@example.test"})),
        )
        .await;
    assert_eq!(email["id"], "idn_2abc123");
    let verification = api
        .ok(
            "POST",
            "/email_addresses/idn_2abc123/prepare_verification",
            None,
        )
        .await;
    assert_eq!(verification["id"], "ver_2abc123");
    // An identification's ID cannot be pinned again.
    assert!(api.emulator.pin_ids(&["idn_2abc123"]).is_err());
}
