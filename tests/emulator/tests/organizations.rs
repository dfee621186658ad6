//! Organizations, their memberships and their invitations.

use crate::common;

use clerk_emulator::ObjectKind;
use common::{Api, assert_clerk_id, assert_millis, ids};
use serde_json::{Value, json};

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn create_get_update_and_delete_an_organization() {
    let api = Api::start().await;
    let owner = api.user("owner@example.test").await;
    let org = api
        .ok(
            "POST",
            "/organizations",
            Some(json!({"name": "Analytical Engines", "created_by": owner["id"], "max_allowed_memberships": 5, "public_metadata": {"tier": "gold"}, "private_metadata": {"crm": 1}})),
        )
        .await;
    assert_eq!(org["object"], "organization");
    assert_clerk_id(&org["id"], "org_");
    assert_millis(&org["created_at"]);
    assert_eq!(org["slug"], "analytical-engines", "derived from the name");
    assert_eq!(org["members_count"], 1, "created_by is a member");
    assert_eq!(org["created_by"], owner["id"]);
    assert_eq!(org["max_allowed_memberships"], 5);
    assert_eq!(org["admin_delete_enabled"], true);
    assert_eq!(org["public_metadata"], json!({"tier": "gold"}));

    let org_id = id(&org);
    let by_slug = api
        .ok("GET", "/organizations/analytical-engines", None)
        .await;
    assert_eq!(by_slug["id"], org["id"]);
    let members = api
        .ok("GET", &format!("/organizations/{org_id}/memberships"), None)
        .await;
    assert_eq!(members["total_count"], 1);
    assert_eq!(members["data"][0]["role"], "org:admin");
    assert_eq!(
        members["data"][0]["public_user_data"]["user_id"],
        owner["id"]
    );
    assert_eq!(
        members["data"][0]["public_user_data"]["identifier"],
        "owner@example.test"
    );

    let renamed = api
        .ok(
            "PATCH",
            &format!("/organizations/{org_id}"),
            Some(json!({"name": "Difference Engines", "slug": "difference", "admin_delete_enabled": false})),
        )
        .await;
    assert_eq!(
        (renamed["name"].as_str(), renamed["slug"].as_str()),
        (Some("Difference Engines"), Some("difference"))
    );
    assert_eq!(renamed["admin_delete_enabled"], false);
    let unknown = api
        .patch(
            &format!("/organizations/{org_id}"),
            json!({"public_metadata": {}}),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.code(), unknown.param()),
        (422, "form_param_unknown", "public_metadata")
    );

    let merged = api
        .ok(
            "PATCH",
            &format!("/organizations/{org_id}/metadata"),
            Some(json!({"public_metadata": {"tier": null, "seats": 9}, "private_metadata": {"crm": {"id": 2}}})),
        )
        .await;
    assert_eq!(merged["public_metadata"], json!({"seats": 9}));
    assert_eq!(merged["private_metadata"], json!({"crm": {"id": 2}}));

    api.ok(
        "POST",
        &format!("/organizations/{org_id}/invitations"),
        Some(json!({"email_address": "guest@example.test", "role": "org:member"})),
    )
    .await;
    let deleted = api.ok("DELETE", "/organizations/difference", None).await;
    assert_eq!(
        deleted,
        json!({"object": "organization", "id": org_id, "slug": "difference", "deleted": true})
    );
    for kind in [
        ObjectKind::Organization,
        ObjectKind::Membership,
        ObjectKind::OrganizationInvitation,
    ] {
        assert_eq!(api.emulator.count(kind), 0, "{kind:?}");
    }
    assert_eq!(
        api.get(&format!("/organizations/{org_id}")).await.status,
        404
    );
}

#[tokio::test]
async fn organization_errors() {
    let api = Api::start().await;
    let missing_name = api.post("/organizations", json!({"slug": "x"})).await;
    assert_eq!(
        (
            missing_name.status,
            missing_name.code(),
            missing_name.param()
        ),
        (422, "form_param_missing", "name")
    );
    let unknown_creator = api
        .post(
            "/organizations",
            json!({"name": "X", "created_by": "user_missing"}),
        )
        .await;
    assert_eq!(
        (unknown_creator.status, unknown_creator.code()),
        (404, "resource_not_found")
    );
    api.ok(
        "POST",
        "/organizations",
        Some(json!({"name": "First", "slug": "taken"})),
    )
    .await;
    let taken = api
        .post("/organizations", json!({"name": "Second", "slug": "taken"}))
        .await;
    assert_eq!(
        (taken.status, taken.code(), taken.param()),
        (422, "form_identifier_exists", "slug")
    );
    let bad_slug = api
        .post(
            "/organizations",
            json!({"name": "Bad", "slug": "Not A Slug"}),
        )
        .await;
    assert_eq!(
        (bad_slug.status, bad_slug.code()),
        (422, "form_param_format_invalid")
    );
    // A derived slug that is taken gets a suffix instead of an error.
    let twin = api
        .ok("POST", "/organizations", Some(json!({"name": "Taken"})))
        .await;
    assert_eq!(twin["slug"], "taken-1");
    assert_eq!(api.emulator.count(ObjectKind::Organization), 2);
}

#[tokio::test]
async fn list_organizations_filters_sorts_and_pages() {
    let api = Api::start().await;
    let member = api.user("member@example.test").await;
    let acme = api
        .organization("Acme", Some(member["id"].as_str().unwrap()))
        .await;
    let zeta = api.organization("Zeta Labs", None).await;
    let beta = api.organization("Beta", None).await;
    let (acme, zeta, beta) = (id(&acme), id(&zeta), id(&beta));
    let list = |query: &str| {
        let path = format!("/organizations{query}");
        let api = &api;
        async move { api.ok("GET", &path, None).await }
    };
    let all = list("").await;
    assert_eq!(all["total_count"], 3);
    assert_eq!(ids(&all), [beta.as_str(), zeta.as_str(), acme.as_str()]);
    assert_eq!(
        ids(&list("?order_by=name").await),
        [acme.as_str(), beta.as_str(), zeta.as_str()]
    );
    assert_eq!(
        ids(&list("?order_by=-members_count&limit=1").await),
        [acme.as_str()]
    );
    let paged = list("?limit=1&offset=1").await;
    assert_eq!(
        (ids(&paged), paged["total_count"].as_i64()),
        (vec![zeta.clone()], Some(3))
    );
    assert_eq!(ids(&list("?query=labs").await), [zeta.as_str()]);
    assert_eq!(ids(&list(&format!("?query={acme}")).await), [acme.as_str()]);
    assert_eq!(
        ids(&list(&format!("?organization_id={beta}&organization_id={acme}")).await),
        [beta.as_str(), acme.as_str()]
    );
    assert_eq!(
        ids(&list(&format!("?organization_id=-{beta}")).await),
        [zeta.as_str(), acme.as_str()]
    );
    assert_eq!(
        ids(&list(&format!("?user_id={}", member["id"].as_str().unwrap())).await),
        [acme.as_str()]
    );
    let flagged =
        list("?include_missing_member_with_elevated_permissions=true&order_by=created_at").await;
    assert_eq!(
        flagged["data"][0]["missing_member_with_elevated_permissions"],
        false
    );
    assert_eq!(
        flagged["data"][1]["missing_member_with_elevated_permissions"],
        true
    );
    assert_eq!(
        list("?include_members_count=true").await["data"][2]["members_count"],
        1
    );
    let bad = api.get("/organizations?order_by=slug").await;
    assert_eq!((bad.status, bad.code()), (422, "form_param_value_invalid"));
}

#[tokio::test]
async fn memberships_add_update_list_and_remove() {
    let api = Api::start().await;
    let owner = api.user("owner@example.test").await;
    let org = api
        .organization("Team", Some(owner["id"].as_str().unwrap()))
        .await;
    let org_id = id(&org);
    let path = format!("/organizations/{org_id}/memberships");
    let mut members = Vec::new();
    for (email, first) in [("b@example.test", "Bea"), ("c@example.test", "Cy")] {
        let user = api
            .ok(
                "POST",
                "/users",
                Some(json!({"email_address": [email], "first_name": first})),
            )
            .await;
        let membership = api
            .ok("POST", &path, Some(json!({"user_id": user["id"], "role": "org:member", "public_metadata": {"team": "x"}})))
            .await;
        assert_eq!(membership["object"], "organization_membership");
        assert_clerk_id(&membership["id"], "orgmem_");
        assert_eq!(membership["organization"]["id"], org_id.as_str());
        assert_eq!(membership["public_user_data"]["first_name"], first);
        assert_eq!(membership["public_metadata"], json!({"team": "x"}));
        members.push(id(&user));
    }
    assert_eq!(
        api.ok("GET", &format!("/organizations/{org_id}"), None)
            .await["members_count"],
        3
    );

    let duplicate = api
        .post(&path, json!({"user_id": members[0], "role": "org:member"}))
        .await;
    assert_eq!(
        (duplicate.status, duplicate.code()),
        (400, "duplicate_record")
    );
    let unknown_user = api
        .post(
            &path,
            json!({"user_id": "user_missing", "role": "org:member"}),
        )
        .await;
    assert_eq!(unknown_user.status, 404);
    let unknown_org = api
        .post(
            "/organizations/org_missing/memberships",
            json!({"user_id": members[0], "role": "org:member"}),
        )
        .await;
    assert_eq!(unknown_org.status, 404);
    let no_role = api.post(&path, json!({"user_id": id(&owner)})).await;
    assert_eq!(
        (no_role.status, no_role.code(), no_role.param()),
        (422, "form_param_missing", "role")
    );

    let list = |query: &str| {
        let path = format!("{path}{query}");
        let api = &api;
        async move { api.ok("GET", &path, None).await }
    };
    let user_ids = |list: &Value| -> Vec<String> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                m["public_user_data"]["user_id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let owner_id = id(&owner);
    assert_eq!(
        user_ids(&list("").await),
        [members[1].as_str(), members[0].as_str(), owner_id.as_str()]
    );
    assert_eq!(
        user_ids(&list("?order_by=first_name&limit=2").await),
        [members[0].as_str(), members[1].as_str()]
    );
    assert_eq!(
        user_ids(&list("?role=org:admin").await),
        [owner_id.as_str()]
    );
    assert_eq!(
        user_ids(&list(&format!("?user_id=-{owner_id}")).await),
        [members[1].as_str(), members[0].as_str()]
    );
    assert_eq!(
        user_ids(&list("?email_address=c@example.test").await),
        [members[1].as_str()]
    );
    assert_eq!(user_ids(&list("?query=bea").await), [members[0].as_str()]);
    assert_eq!(
        user_ids(&list("?name_query=cy").await),
        [members[1].as_str()]
    );
    let page = list("?limit=1&offset=2").await;
    assert_eq!(
        (user_ids(&page), page["total_count"].as_i64()),
        (vec![owner_id.clone()], Some(3))
    );

    let promoted = api
        .ok(
            "PATCH",
            &format!("{path}/{}", members[0]),
            Some(json!({"role": "org:admin"})),
        )
        .await;
    assert_eq!(
        (promoted["role"].as_str(), promoted["role_name"].as_str()),
        (Some("org:admin"), Some("Admin"))
    );
    assert_eq!(user_ids(&list("?role=org:admin").await).len(), 2);

    let removed = api
        .ok("DELETE", &format!("{path}/{}", members[1]), None)
        .await;
    assert_eq!(removed["object"], "organization_membership");
    assert_eq!(removed["public_user_data"]["user_id"], members[1].as_str());
    assert_eq!(
        api.ok("GET", &format!("/organizations/{org_id}"), None)
            .await["members_count"],
        2
    );
    assert_eq!(
        api.delete(&format!("{path}/{}", members[1])).await.status,
        404
    );
    assert_eq!(
        api.patch(
            &format!("{path}/user_missing"),
            json!({"role": "org:admin"})
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn max_allowed_memberships_is_enforced() {
    let api = Api::start().await;
    let org = api
        .ok(
            "POST",
            "/organizations",
            Some(json!({"name": "Small", "max_allowed_memberships": 1})),
        )
        .await;
    let path = format!("/organizations/{}/memberships", id(&org));
    let first = api.user("first@example.test").await;
    let second = api.user("second@example.test").await;
    api.ok(
        "POST",
        &path,
        Some(json!({"user_id": first["id"], "role": "org:member"})),
    )
    .await;
    let full = api
        .post(
            &path,
            json!({"user_id": second["id"], "role": "org:member"}),
        )
        .await;
    assert_eq!(
        (full.status, full.code()),
        (403, "organization_membership_quota_exceeded")
    );
}

#[tokio::test]
async fn organization_invitations_create_list_and_revoke() {
    let api = Api::start().await;
    let owner = api
        .ok(
            "POST",
            "/users",
            Some(json!({"email_address": ["owner@example.test"], "first_name": "Olive"})),
        )
        .await;
    let org = api
        .organization("Invites", Some(owner["id"].as_str().unwrap()))
        .await;
    let path = format!("/organizations/{}/invitations", id(&org));
    let invitation = api
        .ok(
            "POST",
            &path,
            Some(json!({"email_address": "guest@example.test", "role": "org:member", "inviter_user_id": owner["id"], "redirect_url": "https://app.example.test/join", "expires_in_days": 7, "public_metadata": {"a": 1}, "private_metadata": {"b": 2}})),
        )
        .await;
    assert_eq!(invitation["object"], "organization_invitation");
    assert_clerk_id(&invitation["id"], "orginv_");
    assert_eq!(invitation["status"], "pending");
    assert_eq!(invitation["organization_id"], org["id"]);
    assert_eq!(invitation["role_name"], "Member");
    assert_eq!(invitation["inviter_id"], owner["id"]);
    assert_eq!(invitation["public_inviter_data"]["first_name"], "Olive");
    assert!(
        invitation["url"]
            .as_str()
            .unwrap()
            .starts_with("https://app.example.test/join?__clerk_ticket=")
    );
    let week =
        invitation["expires_at"].as_i64().unwrap() - invitation["created_at"].as_i64().unwrap();
    assert_eq!(week, 7 * 86_400_000);
    assert_eq!(
        api.ok("GET", &format!("/organizations/{}", id(&org)), None)
            .await["pending_invitations_count"],
        1
    );

    let duplicate = api
        .post(
            &path,
            json!({"email_address": "GUEST@example.test", "role": "org:member"}),
        )
        .await;
    assert_eq!(
        (duplicate.status, duplicate.code()),
        (400, "organization_invitation_not_unique")
    );
    let missing_role = api
        .post(&path, json!({"email_address": "x@example.test"}))
        .await;
    assert_eq!(
        (missing_role.code(), missing_role.param()),
        ("form_param_missing", "role")
    );
    let bad_days = api.post(&path, json!({"email_address": "x@example.test", "role": "org:member", "expires_in_days": 400})).await;
    assert_eq!(bad_days.status, 422);
    let unknown_inviter = api
        .post(&path, json!({"email_address": "x@example.test", "role": "org:member", "inviter_user_id": "user_missing"}))
        .await;
    assert_eq!(unknown_inviter.status, 404);
    let second = api
        .ok(
            "POST",
            &path,
            Some(json!({"email_address": "another@example.test", "role": "org:admin"})),
        )
        .await;
    assert_eq!(second["public_inviter_data"], Value::Null);

    let revoked = api
        .ok(
            "POST",
            &format!("{path}/{}/revoke", id(&invitation)),
            Some(json!({"requesting_user_id": owner["id"]})),
        )
        .await;
    assert_eq!(revoked["status"], "revoked");
    let again = api
        .post(&format!("{path}/{}/revoke", id(&invitation)), json!({}))
        .await;
    assert_eq!(again.code(), "organization_invitation_not_pending");
    assert_eq!(
        api.post(&format!("{path}/orginv_missing/revoke"), json!({}))
            .await
            .status,
        404
    );

    let list = |query: &str| {
        let path = format!("{path}{query}");
        let api = &api;
        async move { api.ok("GET", &path, None).await }
    };
    let all = list("").await;
    assert_eq!(
        (ids(&all), all["total_count"].as_i64()),
        (vec![id(&second), id(&invitation)], Some(2))
    );
    assert_eq!(ids(&list("?status=pending").await), [id(&second)]);
    assert_eq!(ids(&list("?status=revoked").await), [id(&invitation)]);
    assert_eq!(
        ids(&list("?email_address=guest@example.test").await),
        [id(&invitation)]
    );
    assert_eq!(
        ids(&list("?order_by=email_address").await),
        [id(&second), id(&invitation)]
    );
    assert_eq!(ids(&list("?limit=1&offset=1").await), [id(&invitation)]);
    assert_eq!(
        api.get(&format!("{path}?status=lost")).await.code(),
        "form_param_value_invalid"
    );
}
