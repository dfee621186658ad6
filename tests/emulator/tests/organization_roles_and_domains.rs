//! The organization roles, permissions, role sets and domains handlers, and what the
//! organization handlers gained with them (replaced metadata, membership metadata, the single
//! invitation and the instance-wide lists): Clerk's validation and errors, and the effects one
//! object has on another.

use crate::common;

use common::{Api, assert_clerk_id, assert_millis, ids};
use serde_json::{Value, json};

fn field(list: &Value, name: &str) -> Vec<String> {
    list.as_array()
        .or_else(|| list["data"].as_array())
        .unwrap()
        .iter()
        .map(|item| item[name].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_system_roles_permissions_and_role_set_exist_with_fixed_ids() {
    let api = Api::start().await;
    let roles = api
        .ok("GET", "/organization_roles?order_by=%2Bkey", None)
        .await;
    assert_eq!(field(&roles, "key"), ["org:admin", "org:member"]);
    assert_eq!(roles["total_count"], 2);
    let admin = &roles["data"][0];
    assert_clerk_id(&admin["id"], "role_");
    assert_millis(&admin["created_at"]);
    assert_eq!(admin["is_creator_eligible"], true);
    assert_eq!(admin["permissions"].as_array().unwrap().len(), 6);
    assert_eq!(roles["data"][1]["is_creator_eligible"], false);

    let permissions = api
        .ok("GET", "/organization_permissions?limit=100", None)
        .await;
    assert_eq!(permissions["total_count"], 6);
    assert!(
        permissions["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["type"] == "system")
    );
    let set = api.ok("GET", "/role_sets/role_set:default", None).await;
    assert_eq!(set["type"], "initial");
    assert_eq!(set["default_role"]["key"], "org:member");
    assert_eq!(set["creator_role"]["key"], "org:admin");

    // The same IDs after a reset, and none taken from the generator: a pinned ID still goes to
    // the first role created through the API.
    api.emulator.reset();
    api.emulator.pin_ids(&["role_2abc123"]).unwrap();
    let again = api
        .ok("GET", "/organization_roles?order_by=%2Bkey", None)
        .await;
    assert_eq!(ids(&again), ids(&roles));
    let created = api
        .ok(
            "POST",
            "/organization_roles",
            Some(json!({"name": "Viewer", "key": "org:viewer"})),
        )
        .await;
    assert_eq!(created["id"], "role_2abc123");
}

#[tokio::test]
async fn permissions_are_validated_and_system_ones_cannot_change() {
    let api = Api::start().await;
    let missing = api
        .post("/organization_permissions", json!({"name": "No key"}))
        .await;
    assert_eq!(
        (missing.status, missing.code(), missing.param()),
        (422, "form_param_missing", "key")
    );
    let unknown = api
        .post(
            "/organization_permissions",
            json!({"name": "X", "key": "org:x:y", "colour": "teal"}),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (422, "form_param_unknown")
    );
    for key in [
        "org:x",
        "org:X:read",
        "app:x:read",
        "org:sys_x:read",
        "org:x:read:more",
    ] {
        let bad = api
            .post(
                "/organization_permissions",
                json!({"name": "X", "key": key}),
            )
            .await;
        assert_eq!(
            (bad.status, bad.code()),
            (422, "form_param_format_invalid"),
            "{key}"
        );
    }
    let system = api
        .ok(
            "GET",
            "/organization_permissions?query=org:sys_profile:delete",
            None,
        )
        .await;
    let path = format!(
        "/organization_permissions/{}",
        system["data"][0]["id"].as_str().unwrap()
    );
    let update = api.patch(&path, json!({"name": "Mine"})).await;
    assert_eq!(
        (update.status, update.code()),
        (403, "authorization_invalid")
    );
    let delete = api.delete(&path).await;
    assert_eq!(
        (delete.status, delete.code()),
        (403, "authorization_invalid")
    );
    let gone = api.get("/organization_permissions/perm_missing").await;
    assert_eq!((gone.status, gone.code()), (404, "resource_not_found"));
}

#[tokio::test]
async fn roles_in_use_cannot_be_deleted_and_memberships_show_their_roles() {
    let api = Api::start().await;
    let permission = api
        .ok(
            "POST",
            "/organization_permissions",
            Some(json!({"name": "Read reports", "key": "org:reports:read"})),
        )
        .await;
    let role = api
        .ok(
            "POST",
            "/organization_roles",
            Some(
                json!({"name": "Analyst", "key": "org:analyst", "permissions": [permission["id"]]}),
            ),
        )
        .await;
    let role_path = format!("/organization_roles/{}", role["id"].as_str().unwrap());
    let user = api.user("ada@example.test").await;
    let user_id = user["id"].as_str().unwrap();
    let org = api.organization("Engines", None).await;
    let org_id = org["id"].as_str().unwrap();

    // Offered by a pending invitation, then held by a member.
    let invitation = api
        .ok(
            "POST",
            &format!("/organizations/{org_id}/invitations"),
            Some(json!({"email_address": "babbage@example.test", "role": "org:analyst"})),
        )
        .await;
    let refused = api.delete(&role_path).await;
    assert_eq!(
        (refused.status, refused.code()),
        (400, "organization_role_exists_in_invitations")
    );
    api.ok(
        "POST",
        &format!(
            "/organizations/{org_id}/invitations/{}/revoke",
            invitation["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    let membership = api
        .ok(
            "POST",
            &format!("/organizations/{org_id}/memberships"),
            Some(json!({"user_id": user_id, "role": "org:analyst"})),
        )
        .await;
    assert_eq!(membership["role_name"], "Analyst");
    assert_eq!(membership["permissions"], json!(["org:reports:read"]));
    let refused = api.delete(&role_path).await;
    assert_eq!(
        (refused.status, refused.code()),
        (400, "organization_role_assigned_to_members")
    );

    // A renamed permission shows on the role and the membership.
    api.ok(
        "PATCH",
        &format!(
            "/organization_permissions/{}",
            permission["id"].as_str().unwrap()
        ),
        Some(json!({"key": "org:reports:view"})),
    )
    .await;
    let members = api
        .ok("GET", &format!("/organizations/{org_id}/memberships"), None)
        .await;
    assert_eq!(
        members["data"][0]["permissions"],
        json!(["org:reports:view"])
    );
    let fetched = api.ok("GET", &role_path, None).await;
    assert_eq!(fetched["permissions"][0]["key"], "org:reports:view");

    // The default roles of the initial set cannot go either.
    let member = api
        .ok("GET", "/organization_roles?query=org:member", None)
        .await;
    let refused = api
        .delete(&format!(
            "/organization_roles/{}",
            member["data"][0]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (400, "organization_role_used_as_domain_default_role")
    );

    api.ok(
        "DELETE",
        &format!("/organizations/{org_id}/memberships/{user_id}"),
        None,
    )
    .await;
    let deleted = api.ok("DELETE", &role_path, None).await;
    assert_eq!(deleted["deleted"], true);
    let gone = api.get(&role_path).await;
    assert_eq!((gone.status, gone.code()), (404, "resource_not_found"));
}

#[tokio::test]
async fn role_keys_and_names_are_checked() {
    let api = Api::start().await;
    for (body, code, param) in [
        (json!({"key": "org:x"}), "form_param_missing", "name"),
        (json!({"name": "X"}), "form_param_missing", "key"),
        (
            json!({"name": "X", "key": "x"}),
            "form_param_format_invalid",
            "key",
        ),
        (
            json!({"name": "X", "key": "org:Bad"}),
            "form_param_format_invalid",
            "key",
        ),
        (
            json!({"name": "X", "key": "org:admin"}),
            "form_identifier_exists",
            "key",
        ),
    ] {
        let answer = api.post("/organization_roles", body.clone()).await;
        assert_eq!(
            (answer.status, answer.code(), answer.param()),
            (422, code, param),
            "{body}"
        );
    }
    let orders = api
        .ok(
            "GET",
            "/organization_roles?order_by=-name&limit=1&offset=1",
            None,
        )
        .await;
    assert_eq!(field(&orders, "name"), ["Admin"]);
    let bad_order = api.get("/organization_roles?order_by=colour").await;
    assert_eq!(
        (bad_order.status, bad_order.code()),
        (422, "form_param_value_invalid")
    );
}

#[tokio::test]
async fn domains_belong_to_their_organization_and_go_with_it() {
    let api = Api::start().await;
    let org = api.organization("Engines", None).await;
    let org_path = format!("/organizations/{}", org["id"].as_str().unwrap());
    let slug_path = format!("/organizations/{}", org["slug"].as_str().unwrap());
    let missing = api
        .post(
            &format!("{org_path}/domains"),
            json!({"name": "engines.example"}),
        )
        .await;
    assert_eq!(
        (missing.status, missing.code(), missing.param()),
        (422, "form_param_missing", "enrollment_mode")
    );
    let bad_mode = api
        .post(
            &format!("{org_path}/domains"),
            json!({"name": "engines.example", "enrollment_mode": "whenever"}),
        )
        .await;
    assert_eq!(
        (bad_mode.status, bad_mode.code()),
        (422, "form_param_value_invalid")
    );
    // By slug too; names are kept lower-case.
    let domain = api
        .ok(
            "POST",
            &format!("{slug_path}/domains"),
            Some(json!({"name": "Engines.Example", "enrollment_mode": "automatic_suggestion"})),
        )
        .await;
    assert_eq!(domain["name"], "engines.example");
    assert_eq!(domain["total_pending_invitations"], 0);
    let listed = api
        .ok(
            "GET",
            "/organization_domains?enrollment_mode=-automatic_suggestion",
            None,
        )
        .await;
    assert_eq!(listed["total_count"], 0);
    let bad_filter = api
        .get("/organization_domains?enrollment_mode=sometimes")
        .await;
    assert_eq!(bad_filter.status, 422);
    let renamed = api
        .ok(
            "PATCH",
            &org_path,
            Some(json!({"name": "Difference Engines"})),
        )
        .await;
    assert_eq!(renamed["name"], "Difference Engines");
    let listed = api.ok("GET", &format!("{org_path}/domains"), None).await;
    assert_eq!(
        listed["data"][0]["public_organization_data"]["name"],
        "Difference Engines"
    );

    api.ok("DELETE", &org_path, None).await;
    let all = api.ok("GET", "/organization_domains", None).await;
    assert_eq!(all["total_count"], 0, "deleted with the organization");
    let gone = api.get(&format!("{org_path}/domains")).await;
    assert_eq!((gone.status, gone.code()), (404, "resource_not_found"));
}

#[tokio::test]
async fn role_sets_check_their_roles_and_keys() {
    let api = Api::start().await;
    for (body, code) in [
        (
            json!({"name": "A", "roles": [], "default_role_key": "org:admin", "creator_role_key": "org:admin"}),
            "form_param_format_invalid",
        ),
        (
            json!({"name": "A", "key": "sets:a", "roles": ["org:admin"], "default_role_key": "org:admin", "creator_role_key": "org:admin"}),
            "form_param_format_invalid",
        ),
        (
            json!({"name": "A", "roles": ["org:admin"], "default_role_key": "org:admin"}),
            "form_param_missing",
        ),
        (
            json!({"name": "A", "roles": ["org:admin"], "default_role_key": "org:admin", "creator_role_key": "org:admin", "type": "special"}),
            "form_param_value_invalid",
        ),
    ] {
        let answer = api.post("/role_sets", body.clone()).await;
        assert_eq!((answer.status, answer.code()), (422, code), "{body}");
    }
    let unknown_role = api
        .post(
            "/role_sets",
            json!({"name": "A", "roles": ["org:ghost"], "default_role_key": "org:ghost", "creator_role_key": "org:ghost"}),
        )
        .await;
    assert_eq!(
        (unknown_role.status, unknown_role.code()),
        (404, "resource_not_found")
    );
    let initial = api
        .post(
            "/role_sets/role_set:default/replace",
            json!({"dest_role_set_key": "role_set:default"}),
        )
        .await;
    assert_eq!(initial.status, 422);
    let set = api
        .ok(
            "POST",
            "/role_sets",
            Some(json!({"name": "Made Initial!", "roles": ["org:admin", "org:member"], "default_role_key": "org:member", "creator_role_key": "org:admin", "type": "initial"})),
        )
        .await;
    assert_eq!(set["key"], "role_set:made_initial");
    let default = api.ok("GET", "/role_sets/role_set:default", None).await;
    assert_eq!(default["type"], "custom");
    // A renamed key follows to the organizations on the set.
    let org = api
        .ok(
            "POST",
            "/organizations",
            Some(json!({"name": "Desk", "role_set_key": "role_set:made_initial"})),
        )
        .await;
    api.ok(
        "PATCH",
        &format!("/role_sets/{}", set["id"].as_str().unwrap()),
        Some(json!({"key": "role_set:renamed"})),
    )
    .await;
    let org = api
        .ok(
            "GET",
            &format!("/organizations/{}", org["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(org["role_set_key"], "role_set:renamed");
    let gone = api.get("/role_sets/role_set:made_initial").await;
    assert_eq!((gone.status, gone.code()), (404, "resource_not_found"));
}

#[tokio::test]
async fn organization_metadata_memberships_and_invitations_of_the_instance() {
    let api = Api::start().await;
    let user = api.user("ada@example.test").await;
    let user_id = user["id"].as_str().unwrap();
    let org = api.organization("Engines", Some(user_id)).await;
    let org_path = format!("/organizations/{}", org["id"].as_str().unwrap());
    api.ok(
        "PATCH",
        &format!("{org_path}/metadata"),
        Some(json!({"public_metadata": {"a": {"b": 1}}, "private_metadata": {"c": 2}})),
    )
    .await;
    let replaced = api
        .ok(
            "PUT",
            &format!("{org_path}/metadata"),
            Some(json!({"public_metadata": {"a": {"d": 3}}})),
        )
        .await;
    assert_eq!(replaced["public_metadata"], json!({"a": {"d": 3}}));
    assert_eq!(replaced["private_metadata"], json!({"c": 2}));
    let unknown = api
        .call(
            "PUT",
            &format!("{org_path}/metadata"),
            Some(json!({"unsafe_metadata": {}})),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (422, "form_param_unknown")
    );

    let metadata_path = format!("{org_path}/memberships/{user_id}/metadata");
    api.ok(
        "PATCH",
        &metadata_path,
        Some(json!({"public_metadata": {"team": {"name": "x", "size": 2}}})),
    )
    .await;
    let merged = api
        .ok(
            "PATCH",
            &metadata_path,
            Some(json!({"public_metadata": {"team": {"size": null}}})),
        )
        .await;
    assert_eq!(merged["public_metadata"], json!({"team": {"name": "x"}}));
    let not_member = api
        .patch(
            &format!("{org_path}/memberships/user_missing/metadata"),
            json!({"public_metadata": {}}),
        )
        .await;
    assert_eq!(
        (not_member.status, not_member.code()),
        (404, "resource_not_found")
    );

    let all = api
        .ok(
            "GET",
            "/organization_memberships?order_by=%2Bemail_address",
            None,
        )
        .await;
    assert_eq!(all["total_count"], 1);
    let bad_order = api.get("/organization_memberships?order_by=colour").await;
    assert_eq!(bad_order.status, 422);
    for email in ["b@example.test", "a@example.test"] {
        api.ok(
            "POST",
            &format!("{org_path}/invitations"),
            Some(json!({"email_address": email, "role": "org:member"})),
        )
        .await;
    }
    let invitations = api
        .ok(
            "GET",
            "/organization_invitations?order_by=email_address&status=pending",
            None,
        )
        .await;
    assert_eq!(
        field(&invitations, "email_address"),
        ["a@example.test", "b@example.test"]
    );
    let bad_status = api.get("/organization_invitations?status=lost").await;
    assert_eq!(
        (bad_status.status, bad_status.code()),
        (422, "form_param_value_invalid")
    );
    let missing = api
        .get(&format!("{org_path}/invitations/orginv_missing"))
        .await;
    assert_eq!(
        (missing.status, missing.code()),
        (404, "resource_not_found")
    );
}
