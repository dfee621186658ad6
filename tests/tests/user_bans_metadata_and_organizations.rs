//! Bulk bans, replaced metadata and a user's organization memberships and invitations, end to
//! end against the emulator's stateful handlers: the exact request each function sends, its
//! answer, and what the users show afterwards.

use kosmo_runtime::Error;
use kosmo_tests::{Expect, Harness, assert_request, get, with_body};
use serde_json::{Value, json};

async fn check(harness: &Harness, function: &str, args: Value, expect: Expect<'_>) -> Value {
    let (answer, request) = harness.call_once(function, args).await;
    assert_request(&request, harness.emulator.secret_key(), expect);
    answer
}

async fn create_user(harness: &Harness, email: &str) -> Value {
    harness
        .call("create_user", json!({"email_address": [email]}))
        .await
        .unwrap()
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .or_else(|| list["data"].as_array())
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn users_are_banned_and_unbanned_in_bulk() {
    let harness = Harness::start().await;
    let first = create_user(&harness, "e2e-bulk-1@example.test").await;
    let second = create_user(&harness, "e2e-bulk-2@example.test").await;
    let user_ids = json!([first["id"], second["id"]]);
    let banned = check(
        &harness,
        "ban_users",
        json!({"user_ids": user_ids}),
        with_body("POST", "/v1/users/ban", json!({"user_ids": user_ids})),
    )
    .await;
    assert_eq!(
        ids(&banned),
        [
            first["id"].as_str().unwrap(),
            second["id"].as_str().unwrap()
        ]
    );
    assert!(
        banned
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["banned"] == true)
    );
    let count = harness
        .call("count_users", json!({"banned": true}))
        .await
        .unwrap();
    assert_eq!(count["total_count"], 2);

    let unbanned = check(
        &harness,
        "unban_users",
        json!({"user_ids": [second["id"]]}),
        with_body(
            "POST",
            "/v1/users/unban",
            json!({"user_ids": [second["id"]]}),
        ),
    )
    .await;
    assert_eq!(ids(&unbanned), [second["id"].as_str().unwrap()]);
    assert_eq!(unbanned[0]["banned"], false);
    let count = harness
        .call("count_users", json!({"banned": true}))
        .await
        .unwrap();
    assert_eq!(count["total_count"], 1);

    // More than 50 IDs are refused before anything is sent.
    let too_many: Vec<String> = (0..51).map(|i| format!("user_{i}")).collect();
    harness.emulator.take_requests();
    match harness
        .call("ban_users", json!({"user_ids": too_many}))
        .await
    {
        Err(Error::InvalidArgument { parameter, .. }) => assert_eq!(parameter, "user_ids"),
        other => panic!("expected an argument error, got {other:?}"),
    }
    assert!(harness.emulator.take_requests().is_empty());
}

#[tokio::test]
async fn replacing_metadata_drops_the_keys_not_given() {
    let harness = Harness::start().await;
    let user = harness
        .call(
            "create_user",
            json!({
                "email_address": ["e2e-replace-metadata@example.test"],
                "public_metadata": {"plan": "pro", "seats": 5},
                "private_metadata": {"crm_id": "c-1"},
            }),
        )
        .await
        .unwrap();
    let body = json!({"public_metadata": {"plan": "team"}, "unsafe_metadata": {"theme": "dark"}});
    let mut args = body.clone();
    args["user_id"] = user["id"].clone();
    let replaced = check(
        &harness,
        "replace_user_metadata",
        args,
        with_body(
            "PUT",
            &format!("/v1/users/{}/metadata", user["id"].as_str().unwrap()),
            body,
        ),
    )
    .await;
    assert_eq!(replaced["public_metadata"], json!({"plan": "team"}));
    assert_eq!(replaced["private_metadata"], json!({"crm_id": "c-1"}));
    assert_eq!(replaced["unsafe_metadata"], json!({"theme": "dark"}));
    match harness
        .call("replace_user_metadata", json!({"user_id": "user_2nobody0"}))
        .await
    {
        Err(Error::Api(error)) => assert_eq!(error.status, 404),
        other => panic!("expected a 404, got {other:?}"),
    }
}

#[tokio::test]
async fn a_users_memberships_and_invitations_are_listed_and_paged() {
    let harness = Harness::start().await;
    let admin = create_user(&harness, "e2e-orgs-admin@example.test").await;
    let member = create_user(&harness, "e2e-orgs-member@example.test").await;
    let member_id = member["id"].as_str().unwrap();
    let mut organizations = Vec::new();
    for name in ["E2E First", "E2E Second"] {
        let org = harness
            .call(
                "create_organization",
                json!({"name": name, "created_by": admin["id"]}),
            )
            .await
            .unwrap();
        harness
            .call(
                "create_organization_membership",
                json!({"organization_id": org["id"], "user_id": member_id, "role": "org:member"}),
            )
            .await
            .unwrap();
        organizations.push(org);
    }

    let page = check(
        &harness,
        "list_user_organization_memberships",
        json!({"user_id": member_id, "limit": 1, "offset": 1}),
        get(
            &format!("/v1/users/{member_id}/organization_memberships"),
            &[("limit", "1"), ("offset", "1")],
        ),
    )
    .await;
    assert_eq!(page["total_count"], 2);
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    // Newest first: the second page of one holds the first organization.
    assert_eq!(
        page["data"][0]["organization"]["id"],
        organizations[0]["id"]
    );
    assert_eq!(page["data"][0]["role"], "org:member");
    assert_eq!(page["data"][0]["public_user_data"]["user_id"], member_id);

    // Without paging arguments Clerk's default page (10) holds both.
    let all = harness
        .call(
            "list_user_organization_memberships",
            json!({"user_id": member_id}),
        )
        .await
        .unwrap();
    assert_eq!(all["total_count"], 2);

    let invited = create_user(&harness, "e2e-orgs-invitee@example.test").await;
    let invited_id = invited["id"].as_str().unwrap();
    let mut invitations = Vec::new();
    for org in &organizations {
        invitations.push(
            harness
                .call(
                    "create_organization_invitation",
                    json!({"organization_id": org["id"], "email_address": "e2e-orgs-invitee@example.test", "role": "org:member"}),
                )
                .await
                .unwrap(),
        );
    }
    harness
        .call(
            "revoke_organization_invitation",
            json!({"organization_id": organizations[0]["id"], "invitation_id": invitations[0]["id"]}),
        )
        .await
        .unwrap();
    let pending = check(
        &harness,
        "list_user_organization_invitations",
        json!({"user_id": invited_id, "status": "pending", "limit": 10, "offset": 0}),
        get(
            &format!("/v1/users/{invited_id}/organization_invitations"),
            &[("status", "pending"), ("limit", "10"), ("offset", "0")],
        ),
    )
    .await;
    assert_eq!(pending["total_count"], 1);
    assert_eq!(pending["data"][0]["id"], invitations[1]["id"]);
    assert_eq!(
        pending["data"][0]["public_organization_data"]["name"],
        "E2E Second"
    );
    let every = harness
        .call(
            "list_user_organization_invitations",
            json!({"user_id": invited_id}),
        )
        .await
        .unwrap();
    assert_eq!(
        ids(&every),
        [
            invitations[1]["id"].as_str().unwrap(),
            invitations[0]["id"].as_str().unwrap()
        ]
    );
    assert_eq!(every["data"][1]["status"], "revoked");
}
