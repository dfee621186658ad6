//! A user's organization memberships and the organization invitations sent to their email
//! addresses.

use crate::common;

use common::{Api, ids};
use serde_json::json;

#[tokio::test]
async fn a_users_memberships_are_listed_newest_first_and_paged() {
    let api = Api::start().await;
    let user = api.user("member@example.test").await;
    let user_id = user["id"].as_str().unwrap();
    let other = api.user("other-member@example.test").await;
    let first = api.organization("First Org", Some(user_id)).await;
    let second = api.organization("Second Org", None).await;
    api.ok(
        "POST",
        &format!(
            "/organizations/{}/memberships",
            second["id"].as_str().unwrap()
        ),
        Some(json!({"user_id": user_id, "role": "org:member"})),
    )
    .await;
    api.organization("Not Theirs", other["id"].as_str()).await;

    let list = api
        .ok(
            "GET",
            &format!("/users/{user_id}/organization_memberships"),
            None,
        )
        .await;
    assert_eq!(list["total_count"], 2);
    let organizations: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["organization"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(organizations, ["Second Org", "First Org"]);
    assert_eq!(list["data"][0]["role"], "org:member");
    assert_eq!(list["data"][1]["role"], "org:admin");
    assert_eq!(list["data"][0]["public_user_data"]["user_id"], user_id);

    let paged = api
        .ok(
            "GET",
            &format!("/users/{user_id}/organization_memberships?limit=1&offset=1"),
            None,
        )
        .await;
    assert_eq!(paged["total_count"], 2);
    assert_eq!(ids(&paged), ids(&json!({"data": [list["data"][1]]})));
    assert_eq!(paged["data"][0]["organization"]["id"], first["id"]);

    let missing = api.get("/users/user_nobody/organization_memberships").await;
    assert_eq!(missing.status, 404);
    let bad_limit = api
        .get(&format!(
            "/users/{user_id}/organization_memberships?limit=0"
        ))
        .await;
    assert_eq!(bad_limit.status, 422);
}

#[tokio::test]
async fn a_users_invitations_follow_their_email_addresses() {
    let api = Api::start().await;
    let admin = api.user("inviter@example.test").await;
    let org = api.organization("Inviting Org", admin["id"].as_str()).await;
    let org_path = format!("/organizations/{}", org["id"].as_str().unwrap());
    let invitee = api.user("invitee@example.test").await;
    let invitee_id = invitee["id"].as_str().unwrap();
    let invite = |email: &str| json!({"email_address": email, "role": "org:member"});
    let first = api
        .ok(
            "POST",
            &format!("{org_path}/invitations"),
            Some(invite("Invitee@example.test")),
        )
        .await;
    api.ok(
        "POST",
        &format!("{org_path}/invitations"),
        Some(invite("someone-else@example.test")),
    )
    .await;
    let path = format!("/users/{invitee_id}/organization_invitations");

    let list = api.ok("GET", &path, None).await;
    assert_eq!(list["total_count"], 1);
    assert_eq!(list["data"][0]["id"], first["id"]);
    assert_eq!(
        list["data"][0]["public_organization_data"],
        json!({
            "id": org["id"],
            "name": "Inviting Org",
            "slug": org["slug"],
            "image_url": org["image_url"],
            "has_image": false,
        })
    );

    // An address added later brings its invitations along.
    let second = api
        .ok(
            "POST",
            &format!("{org_path}/invitations"),
            Some(invite("invitee-work@example.test")),
        )
        .await;
    api.ok(
        "POST",
        "/email_addresses",
        Some(json!({"user_id": invitee_id, "email_address": "invitee-work@example.test"})),
    )
    .await;
    api.ok(
        "POST",
        &format!(
            "{org_path}/invitations/{}/revoke",
            first["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    let list = api.ok("GET", &path, None).await;
    assert_eq!(
        ids(&list),
        [
            second["id"].as_str().unwrap(),
            first["id"].as_str().unwrap()
        ]
    );
    let pending = api.ok("GET", &format!("{path}?status=pending"), None).await;
    assert_eq!(ids(&pending), [second["id"].as_str().unwrap()]);
    let revoked = api
        .ok("GET", &format!("{path}?status=revoked&limit=1"), None)
        .await;
    assert_eq!(ids(&revoked), [first["id"].as_str().unwrap()]);
    let bad = api.get(&format!("{path}?status=lost")).await;
    assert_eq!(bad.code(), "form_param_value_invalid");
    let missing = api.get("/users/user_nobody/organization_invitations").await;
    assert_eq!(missing.status, 404);
}
