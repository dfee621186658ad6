//! Users: create, read, update, metadata, ban/lock, delete, and every list filter.

use crate::common;

use clerk_emulator::ObjectKind;
use common::{Api, assert_clerk_id, assert_millis, ids};
use serde_json::{Value, json};

#[tokio::test]
async fn a_created_user_is_a_complete_clerk_user() {
    let api = Api::start().await;
    let user = api
        .ok(
            "POST",
            "/users",
            Some(json!({
                "email_address": ["ada@example.test", "second@example.test"],
                "phone_number": ["+15555550100"],
                "first_name": "Ada",
                "last_name": "Lovelace",
                "username": "ada",
                "external_id": "ext-ada",
                "password": "long enough",
                "public_metadata": {"plan": "pro"},
                "private_metadata": {"secret": 1},
                "unsafe_metadata": {"theme": "dark"},
            })),
        )
        .await;
    assert_eq!(user["object"], "user");
    assert_clerk_id(&user["id"], "user_");
    assert_millis(&user["created_at"]);
    assert_millis(&user["updated_at"]);
    let emails = user["email_addresses"].as_array().unwrap();
    assert_eq!(emails.len(), 2);
    assert_eq!(emails[0]["object"], "email_address");
    assert_clerk_id(&emails[0]["id"], "idn_");
    assert_eq!(emails[0]["email_address"], "ada@example.test");
    assert_eq!(emails[0]["verification"]["status"], "verified");
    assert_eq!(user["primary_email_address_id"], emails[0]["id"]);
    assert_eq!(user["phone_numbers"][0]["object"], "phone_number");
    assert_eq!(
        user["primary_phone_number_id"],
        user["phone_numbers"][0]["id"]
    );
    assert_eq!(user["password_enabled"], true);
    assert_eq!(user["public_metadata"], json!({"plan": "pro"}));
    assert_eq!(user["private_metadata"], json!({"secret": 1}));
    assert_eq!(user["unsafe_metadata"], json!({"theme": "dark"}));
    assert_eq!(user["banned"], false);
    assert_eq!(user["locked"], false);
    assert_eq!(user["last_sign_in_at"], Value::Null);
    for key in [
        "web3_wallets",
        "passkeys",
        "external_accounts",
        "saml_accounts",
        "enterprise_accounts",
    ] {
        assert_eq!(user[key], json!([]), "{key}");
    }

    let fetched = api
        .ok(
            "GET",
            &format!("/users/{}", user["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(fetched, user);
}

#[tokio::test]
async fn create_user_errors_are_clerks() {
    let api = Api::start().await;
    api.user("taken@example.test").await;
    let duplicate = api
        .post("/users", json!({"email_address": ["TAKEN@example.test"]}))
        .await;
    assert_eq!(
        (duplicate.status, duplicate.code(), duplicate.param()),
        (422, "form_identifier_exists", "email_address")
    );

    let unknown = api
        .post("/users", json!({"favourite_colour": "teal"}))
        .await;
    assert_eq!(
        (unknown.status, unknown.code(), unknown.param()),
        (422, "form_param_unknown", "favourite_colour")
    );
    assert_eq!(
        unknown.body["errors"][0]["long_message"],
        "favourite_colour is not a valid parameter for this request."
    );

    let short = api
        .post(
            "/users",
            json!({"email_address": ["pw@example.test"], "password": "short"}),
        )
        .await;
    assert_eq!(
        (short.status, short.code()),
        (422, "form_password_length_too_short")
    );
    let skipped = api
        .post("/users", json!({"email_address": ["pw@example.test"], "password": "short", "skip_password_checks": true}))
        .await;
    assert_eq!(skipped.status, 200);

    let invalid = api
        .post("/users", json!({"email_address": ["not-an-email"]}))
        .await;
    assert_eq!(
        (invalid.status, invalid.code()),
        (422, "form_param_format_invalid")
    );
    let wrong_type = api.post("/users", json!({"first_name": 7})).await;
    assert_eq!((wrong_type.status, wrong_type.param()), (422, "first_name"));

    api.post("/users", json!({"username": "ada"})).await;
    let username = api.post("/users", json!({"username": "ADA"})).await;
    assert_eq!(
        (username.code(), username.param()),
        ("form_identifier_exists", "username")
    );
    assert_eq!(
        api.emulator.count(ObjectKind::User),
        3,
        "no failed create was applied"
    );
}

#[tokio::test]
async fn update_and_metadata_merge() {
    let api = Api::start().await;
    let user = api
        .ok(
            "POST",
            "/users",
            Some(json!({"email_address": ["u@example.test"], "username": "before", "public_metadata": {"plan": "pro", "nested": {"a": 1, "b": 2}}})),
        )
        .await;
    let path = format!("/users/{}", user["id"].as_str().unwrap());
    let updated = api
        .ok(
            "PATCH",
            &path,
            Some(json!({"first_name": "Augusta", "username": null})),
        )
        .await;
    assert_eq!(updated["first_name"], "Augusta");
    assert_eq!(updated["username"], Value::Null);
    assert!(updated["updated_at"].as_i64() > user["updated_at"].as_i64());

    // 2026-05-12 takes metadata only through the metadata endpoint.
    let rejected = api.patch(&path, json!({"public_metadata": {"x": 1}})).await;
    assert_eq!(
        (rejected.status, rejected.code(), rejected.param()),
        (422, "form_param_unknown", "public_metadata")
    );
    let legacy = api
        .send(
            api.client
                .patch(api.url(&path))
                .header(
                    "authorization",
                    format!("Bearer {}", api.emulator.secret_key()),
                )
                .header("clerk-api-version", "2025-11-10")
                .header("content-type", "application/json")
                .body(r#"{"public_metadata": {"replaced": true}}"#),
        )
        .await;
    assert_eq!(legacy.status, 200, "{}", legacy.body);
    assert_eq!(
        legacy.body["public_metadata"],
        json!({"replaced": true}),
        "replaces, not merges"
    );

    api.patch(&path, json!({"public_metadata": {"x": 1}})).await;
    api.ok(
        "PATCH",
        &format!("{path}/metadata"),
        Some(json!({"public_metadata": {"plan": "pro", "nested": {"a": 1, "b": 2}}})),
    )
    .await;
    let merged = api
        .ok(
            "PATCH",
            &format!("{path}/metadata"),
            Some(json!({
                "public_metadata": {"seats": 3, "plan": null, "nested": {"b": null, "c": 3}},
                "private_metadata": {"note": "vip"},
            })),
        )
        .await;
    assert_eq!(
        merged["public_metadata"],
        json!({"replaced": true, "nested": {"a": 1, "c": 3}, "seats": 3})
    );
    assert_eq!(merged["private_metadata"], json!({"note": "vip"}));
    let unknown = api
        .patch(&format!("{path}/metadata"), json!({"nope": {}}))
        .await;
    assert_eq!(unknown.code(), "form_param_unknown");

    let second = api.user("other@example.test").await;
    let clash = api
        .patch(
            &format!("/users/{}", second["id"].as_str().unwrap()),
            json!({"username": "taken"}),
        )
        .await;
    assert_eq!(clash.status, 200);
    let clash = api.patch(&path, json!({"username": "TAKEN"})).await;
    assert_eq!(clash.code(), "form_identifier_exists");
    let missing = api
        .patch("/users/user_missing", json!({"first_name": "x"}))
        .await;
    assert_eq!(
        (missing.status, missing.code()),
        (404, "resource_not_found")
    );
}

#[tokio::test]
async fn ban_unban_lock_unlock_and_banning_revokes_sessions() {
    let api = Api::start().await;
    let user = api.user("ban@example.test").await;
    let id = user["id"].as_str().unwrap();
    let session = api
        .ok("POST", "/sessions", Some(json!({"user_id": id})))
        .await;
    let banned = api.ok("POST", &format!("/users/{id}/ban"), None).await;
    assert_eq!(
        (banned["object"].as_str(), banned["banned"].as_bool()),
        (Some("user"), Some(true))
    );
    let session = api
        .ok(
            "GET",
            &format!("/sessions/{}", session["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(session["status"], "revoked");
    assert_eq!(
        api.ok("POST", &format!("/users/{id}/unban"), None).await["banned"],
        false
    );
    assert_eq!(
        api.ok("POST", &format!("/users/{id}/lock"), None).await["locked"],
        true
    );
    assert_eq!(
        api.ok("POST", &format!("/users/{id}/unlock"), None).await["locked"],
        false
    );
    assert_eq!(
        api.post("/users/user_missing/ban", json!({})).await.status,
        404
    );
}

#[tokio::test]
async fn deleting_a_user_cascades() {
    let api = Api::start().await;
    let user = api.user("gone@example.test").await;
    let id = user["id"].as_str().unwrap();
    let org = api.organization("Cascade", Some(id)).await;
    api.ok("POST", "/sessions", Some(json!({"user_id": id})))
        .await;
    api.ok("POST", "/sign_in_tokens", Some(json!({"user_id": id})))
        .await;
    let deleted = api.ok("DELETE", &format!("/users/{id}"), None).await;
    assert_eq!(
        deleted,
        json!({"object": "user", "id": id, "deleted": true})
    );
    for kind in [
        ObjectKind::User,
        ObjectKind::Session,
        ObjectKind::Membership,
        ObjectKind::SignInToken,
    ] {
        assert_eq!(api.emulator.count(kind), 0, "{kind:?}");
    }
    let org = api
        .ok(
            "GET",
            &format!("/organizations/{}", org["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(org["members_count"], 0);
    let again = api.delete(&format!("/users/{id}")).await;
    assert_eq!(again.status, 404);
    assert_eq!(
        again.body["errors"][0]["long_message"],
        format!("No user was found with id {id}")
    );
}

async fn three_users(api: &Api) -> Vec<Value> {
    let mut users = Vec::new();
    for (email, first, last, username, external) in [
        ("ada@example.test", "Ada", "Lovelace", "ada", "crm-1"),
        ("grace@example.test", "Grace", "Hopper", "grace", "crm-2"),
        ("alan@other.test", "Alan", "Turing", "alan", "crm-3"),
    ] {
        users.push(
            api.ok(
                "POST",
                "/users",
                Some(json!({"email_address": [email], "first_name": first, "last_name": last, "username": username, "external_id": external, "phone_number": [format!("+1555555010{}", users.len())]})),
            )
            .await,
        );
    }
    users
}

fn id_of(user: &Value) -> String {
    user["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn list_users_filters_sorts_and_pages() {
    let api = Api::start().await;
    let users = three_users(&api).await;
    let ids_owned = [id_of(&users[0]), id_of(&users[1]), id_of(&users[2])];
    let [ada, grace, alan] = [0, 1, 2].map(|i| ids_owned[i].as_str());
    let list = |query: &str| {
        let path = format!("/users{query}");
        let api = &api;
        async move { ids(&api.ok("GET", &path, None).await) }
    };
    assert_eq!(
        list("").await,
        [alan, grace, ada],
        "newest first by default"
    );
    assert_eq!(list("?order_by=created_at").await, [ada, grace, alan]);
    assert_eq!(list("?order_by=%2Bfirst_name").await, [ada, alan, grace]);
    assert_eq!(list("?order_by=-last_name").await, [alan, ada, grace]);
    assert_eq!(list("?order_by=email_address").await, [ada, alan, grace]);
    assert_eq!(list("?limit=2").await, [alan, grace]);
    assert_eq!(list("?limit=2&offset=2").await, [ada]);
    assert_eq!(
        list(&format!("?limit=1&starting_after={grace}")).await,
        [ada]
    );
    assert_eq!(
        list("?email_address=ada@example.test&email_address=GRACE@example.test").await,
        [grace, ada]
    );
    assert_eq!(list("?phone_number=%2B15555550101").await, [grace]);
    assert_eq!(list("?username=alan").await, [alan]);
    assert_eq!(list("?external_id=crm-2").await, [grace]);
    assert_eq!(
        list(&format!("?user_id={ada}&user_id={alan}")).await,
        [alan, ada]
    );
    assert_eq!(list(&format!("?user_id=-{ada}")).await, [alan, grace]);
    assert_eq!(list(&format!("?user_id=%2B{ada}")).await, [ada]);
    assert_eq!(list("?query=hop").await, [grace]);
    assert_eq!(list("?query=other.test").await, [alan]);
    assert_eq!(list("?email_address_query=EXAMPLE").await, [grace, ada]);
    assert_eq!(list("?phone_number_query=0102").await, [alan]);
    assert_eq!(list("?username_query=gra").await, [grace]);
    assert_eq!(list("?name_query=ada%20love").await, [ada]);
    assert_eq!(
        list("?email_address=nobody@example.test").await,
        Vec::<&str>::new()
    );

    let created = users[1]["created_at"].as_i64().unwrap();
    assert_eq!(list(&format!("?created_at_after={created}")).await, [alan]);
    assert_eq!(list(&format!("?created_at_before={created}")).await, [ada]);

    api.ok("POST", &format!("/users/{grace}/ban"), None).await;
    assert_eq!(list("?banned=true").await, [grace]);
    assert_eq!(list("?banned=false").await, [alan, ada]);

    let session = api
        .ok("POST", "/sessions", Some(json!({"user_id": ada})))
        .await;
    let active = session["created_at"].as_i64().unwrap();
    assert_eq!(
        list(&format!("?last_active_at_since={active}")).await,
        [ada]
    );
    assert_eq!(
        list(&format!("?last_active_at_after={}", active - 1)).await,
        [ada]
    );
    assert_eq!(
        list(&format!("?last_active_at_before={}", active + 1)).await,
        [ada]
    );
    assert_eq!(
        list(&format!("?last_sign_in_at_after={}", active - 1)).await,
        [ada]
    );
    assert_eq!(list("?order_by=-last_active_at&limit=1").await, [ada]);

    let org = api.organization("Members", Some(alan)).await;
    let org_id = org["id"].as_str().unwrap();
    assert_eq!(list(&format!("?organization_id={org_id}")).await, [alan]);
    assert_eq!(
        list(&format!("?organization_id=-{org_id}")).await,
        [grace, ada]
    );
    assert_eq!(
        list("?provider=oauth_google&provider_user_id=123").await,
        Vec::<&str>::new()
    );

    let count = api
        .ok("GET", "/users/count?email_address_query=example.test", None)
        .await;
    assert_eq!(count, json!({"object": "total_count", "total_count": 2}));
    let count = api.ok("GET", "/users/count?banned=false", None).await;
    assert_eq!(count["total_count"], 2);
}

#[tokio::test]
async fn list_users_rejects_bad_paging_and_ordering() {
    let api = Api::start().await;
    let user = api.user("one@example.test").await;
    for (query, status, code, param) in [
        ("limit=0", 422, "form_param_format_invalid", "limit"),
        ("limit=501", 422, "form_param_format_invalid", "limit"),
        ("offset=-1", 422, "form_param_format_invalid", "offset"),
        ("limit=ten", 400, "malformed_request_parameters", "limit"),
        (
            "banned=maybe",
            400,
            "malformed_request_parameters",
            "banned",
        ),
        (
            "order_by=favourite_colour",
            422,
            "form_param_value_invalid",
            "order_by",
        ),
        (
            "order_by=first_name&starting_after=user_x",
            422,
            "form_param_format_invalid",
            "starting_after",
        ),
    ] {
        let answer = api.get(&format!("/users?{query}")).await;
        assert_eq!(
            (answer.status, answer.code(), answer.param()),
            (status, code, param),
            "{query}"
        );
    }
    assert_eq!(api.get("/users?limit=500").await.status, 200);
    let cursor = format!("/users?starting_after={}", user["id"].as_str().unwrap());
    assert_eq!(api.ok("GET", &cursor, None).await, json!([]));
}

#[tokio::test]
async fn bulk_ban_and_unban_change_the_users_named() {
    let api = Api::start().await;
    let first = api.user("bulk-1@example.test").await;
    let second = api.user("bulk-2@example.test").await;
    let bystander = api.user("bulk-3@example.test").await;
    let first_id = first["id"].as_str().unwrap();
    api.ok("POST", "/sessions", Some(json!({"user_id": first_id})))
        .await;

    let banned = api
        .ok(
            "POST",
            "/users/ban",
            Some(json!({"user_ids": [first["id"], "user_nobody", second["id"], first["id"]]})),
        )
        .await;
    assert_eq!(ids(&banned), [first_id, second["id"].as_str().unwrap()]);
    assert!(
        banned
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["banned"] == true)
    );
    let sessions = api
        .ok("GET", &format!("/sessions?user_id={first_id}"), None)
        .await;
    assert_eq!(sessions[0]["status"], "revoked");
    let still_free = api
        .ok(
            "GET",
            &format!("/users/{}", bystander["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(still_free["banned"], false);

    let unbanned = api
        .ok(
            "POST",
            "/users/unban",
            Some(json!({"user_ids": [second["id"]]})),
        )
        .await;
    assert_eq!(unbanned[0]["banned"], false);
    let count = api.ok("GET", "/users/count?banned=true", None).await;
    assert_eq!(count["total_count"], 1);

    let empty = api.post("/users/ban", json!({"user_ids": []})).await;
    assert_eq!((empty.status, empty.code()), (422, "form_param_missing"));
    let too_many: Vec<String> = (0..51).map(|i| format!("user_{i}")).collect();
    let over = api
        .post("/users/unban", json!({"user_ids": too_many}))
        .await;
    assert_eq!(over.code(), "form_param_format_invalid");
    let wrong = api.post("/users/ban", json!({"user_ids": "user_1"})).await;
    assert_eq!(wrong.code(), "form_param_format_invalid");
}

#[tokio::test]
async fn replacing_metadata_overwrites_only_the_objects_given() {
    let api = Api::start().await;
    let user = api
        .ok(
            "POST",
            "/users",
            Some(json!({
                "email_address": ["replace-metadata@example.test"],
                "public_metadata": {"plan": "pro", "limits": {"seats": 5}},
                "private_metadata": {"crm": "c-1"},
            })),
        )
        .await;
    let path = format!("/users/{}/metadata", user["id"].as_str().unwrap());
    let replaced = api
        .ok(
            "PUT",
            &path,
            Some(json!({"public_metadata": {"limits": {"projects": 2}}, "unsafe_metadata": {}})),
        )
        .await;
    assert_eq!(
        replaced["public_metadata"],
        json!({"limits": {"projects": 2}})
    );
    assert_eq!(replaced["private_metadata"], json!({"crm": "c-1"}));
    assert_eq!(replaced["unsafe_metadata"], json!({}));
    assert!(replaced["updated_at"].as_i64() > user["updated_at"].as_i64());
    let unknown = api.call("PUT", &path, Some(json!({"metadata": {}}))).await;
    assert_eq!(unknown.code(), "form_param_unknown");
    let not_object = api
        .call("PUT", &path, Some(json!({"public_metadata": [1]})))
        .await;
    assert_eq!(not_object.code(), "form_param_format_invalid");
    let missing = api
        .call("PUT", "/users/user_nobody/metadata", Some(json!({})))
        .await;
    assert_eq!(missing.status, 404);
}
