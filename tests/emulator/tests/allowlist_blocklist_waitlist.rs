//! Who may sign up: allowlist and blocklist identifiers, and waitlist entries (with the
//! application invitations that inviting an entry creates).

use crate::common;

use common::{Api, assert_clerk_id, assert_millis, ids};
use serde_json::{Value, json};

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn allowlist_identifiers_are_typed_listed_and_deleted() {
    let api = Api::start().await;
    let mut created = Vec::new();
    for (identifier, kind) in [
        ("ada@example.test", "email_address"),
        ("*@example.test", "email_address"),
        ("+15555550100", "phone_number"),
        ("0x00000000000000000000000000000000000000ff", "web3_wallet"),
    ] {
        let entry = api
            .ok(
                "POST",
                "/allowlist_identifiers",
                Some(json!({ "identifier": identifier })),
            )
            .await;
        assert_eq!(entry["object"], "allowlist_identifier");
        assert_clerk_id(&entry["id"], "alid_");
        assert_eq!(entry["identifier"], identifier);
        assert_eq!(entry["identifier_type"], kind, "{identifier}");
        assert_clerk_id(&entry["instance_id"], "ins_");
        assert!(entry.get("invitation_id").is_none(), "{entry}");
        assert_millis(&entry["created_at"]);
        assert_eq!(entry["created_at"], entry["updated_at"]);
        created.push(id(&entry));
    }

    // Newest first; a bare array unless `paginated=true`, and paged by limit and offset.
    let all = api.ok("GET", "/allowlist_identifiers", None).await;
    assert!(all.is_array());
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    assert_eq!(ids(&all), newest_first);
    let page = api
        .ok(
            "GET",
            "/allowlist_identifiers?paginated=true&limit=2&offset=1",
            None,
        )
        .await;
    assert_eq!(page["total_count"], 4);
    assert_eq!(ids(&page), newest_first[1..3]);

    let deleted = api
        .ok(
            "DELETE",
            &format!("/allowlist_identifiers/{}", created[0]),
            None,
        )
        .await;
    assert_eq!(
        deleted,
        json!({"object": "allowlist_identifier", "id": created[0], "deleted": true})
    );
    let after = api.ok("GET", "/allowlist_identifiers", None).await;
    assert_eq!(ids(&after), newest_first[..3]);
    let again = api
        .delete(&format!("/allowlist_identifiers/{}", created[0]))
        .await;
    assert_eq!(again.status, 404);
    assert_eq!(again.code(), "resource_not_found");
    assert_eq!(again.body["errors"][0]["message"], "Identifier not found");
}

#[tokio::test]
async fn allowlist_and_blocklist_refuse_duplicates_and_malformed_identifiers() {
    let api = Api::start().await;
    for path in ["/allowlist_identifiers", "/blocklist_identifiers"] {
        api.ok(
            "POST",
            path,
            Some(json!({"identifier": "Ada@Example.test"})),
        )
        .await;
        let duplicate = api
            .post(path, json!({"identifier": "ada@example.test"}))
            .await;
        assert_eq!(duplicate.status, 400, "{path}");
        assert_eq!(duplicate.code(), "duplicate_record");
        assert_eq!(
            duplicate.body["errors"][0]["long_message"],
            "the identifier ada@example.test already exists"
        );
        for invalid in ["example.test", "ada", "+12", "0xnothex", "*@nodot"] {
            let answer = api.post(path, json!({"identifier": invalid})).await;
            assert_eq!(answer.status, 422, "{path} {invalid}");
            assert_eq!(answer.code(), "form_param_format_invalid");
            assert_eq!(answer.param(), "identifier");
        }
        let missing = api.post(path, json!({})).await;
        assert_eq!(missing.code(), "form_param_missing");
        assert_eq!(missing.param(), "identifier");
    }
    // The blocklist takes no `notify`; both refuse unknown fields.
    let unknown = api
        .post(
            "/blocklist_identifiers",
            json!({"identifier": "x@example.test", "notify": true}),
        )
        .await;
    assert_eq!(unknown.code(), "form_param_unknown");
    assert_eq!(unknown.param(), "notify");
    // The same identifier may be on both lists.
    let allowed = api.ok("GET", "/allowlist_identifiers", None).await;
    let blocked = api.ok("GET", "/blocklist_identifiers", None).await;
    assert_eq!(allowed[0]["identifier"], blocked["data"][0]["identifier"]);
}

#[tokio::test]
async fn notifying_an_allowlisted_address_invites_it() {
    let api = Api::start().await;
    let entry = api
        .ok(
            "POST",
            "/allowlist_identifiers",
            Some(json!({"identifier": "invitee@example.test", "notify": true})),
        )
        .await;
    assert_clerk_id(&entry["invitation_id"], "inv_");
    let invitations = api.ok("GET", "/invitations", None).await;
    assert_eq!(
        ids(&invitations),
        [entry["invitation_id"].as_str().unwrap()]
    );
    assert_eq!(invitations[0]["email_address"], "invitee@example.test");
    assert_eq!(invitations[0]["status"], "pending");

    // An address with a pending invitation keeps it; wildcards, phones and wallets get none.
    let pending = api
        .ok(
            "POST",
            "/invitations",
            Some(json!({"email_address": "pending@example.test"})),
        )
        .await;
    let again = api
        .ok(
            "POST",
            "/allowlist_identifiers",
            Some(json!({"identifier": "pending@example.test", "notify": true})),
        )
        .await;
    assert_eq!(again["invitation_id"], pending["id"]);
    for identifier in ["*@example.test", "+15555550100"] {
        let entry = api
            .ok(
                "POST",
                "/allowlist_identifiers",
                Some(json!({"identifier": identifier, "notify": true})),
            )
            .await;
        assert!(entry.get("invitation_id").is_none(), "{entry}");
    }
    let invitations = api.ok("GET", "/invitations", None).await;
    assert_eq!(invitations.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn blocklist_identifiers_are_listed_with_a_total_and_deleted() {
    let api = Api::start().await;
    let first = api
        .ok(
            "POST",
            "/blocklist_identifiers",
            Some(json!({"identifier": "spam@example.test"})),
        )
        .await;
    assert_eq!(first["object"], "blocklist_identifier");
    assert_clerk_id(&first["id"], "blid_");
    assert_eq!(first["identifier_type"], "email_address");
    let second = api
        .ok(
            "POST",
            "/blocklist_identifiers",
            Some(json!({"identifier": "*@spam.example.test"})),
        )
        .await;
    let list = api.ok("GET", "/blocklist_identifiers", None).await;
    assert_eq!(list["total_count"], 2);
    assert_eq!(ids(&list), [id(&second), id(&first)]);
    let deleted = api
        .ok(
            "DELETE",
            &format!("/blocklist_identifiers/{}", id(&first)),
            None,
        )
        .await;
    assert_eq!(deleted["object"], "blocklist_identifier");
    assert_eq!(deleted["deleted"], true);
    let list = api.ok("GET", "/blocklist_identifiers", None).await;
    assert_eq!(ids(&list), [id(&second)]);
    // An allowlist ID is not a blocklist ID.
    let allowed = api
        .ok(
            "POST",
            "/allowlist_identifiers",
            Some(json!({"identifier": "ok@example.test"})),
        )
        .await;
    let wrong_list = api
        .delete(&format!("/blocklist_identifiers/{}", id(&allowed)))
        .await;
    assert_eq!(wrong_list.status, 404);
}

async fn join(api: &Api, email: &str) -> Value {
    api.ok(
        "POST",
        "/waitlist_entries",
        Some(json!({"email_address": email, "notify": false})),
    )
    .await
}

#[tokio::test]
async fn waitlist_entries_are_created_once_per_address_and_listed_with_filters() {
    let api = Api::start().await;
    let ada = join(&api, "ada@example.test").await;
    assert_eq!(ada["object"], "waitlist_entry");
    assert_clerk_id(&ada["id"], "wle_");
    assert_eq!(ada["status"], "pending");
    assert_eq!(ada["is_locked"], false);
    assert_eq!(ada["invitation"], Value::Null);
    assert_millis(&ada["created_at"]);
    assert!(ada.get("invited_at").is_none(), "{ada}");
    // The same address (in any case) gets the existing entry back.
    let again = join(&api, "ADA@example.test").await;
    assert_eq!(again, ada);
    let grace = join(&api, "grace@example.test").await;
    let linus = join(&api, "linus@other.test").await;

    let all = api.ok("GET", "/waitlist_entries", None).await;
    assert_eq!(all["total_count"], 3);
    assert_eq!(ids(&all), [id(&linus), id(&grace), id(&ada)]);
    let by_email = api
        .ok(
            "GET",
            "/waitlist_entries?query=example.test&order_by=%2Bemail_address",
            None,
        )
        .await;
    assert_eq!(ids(&by_email), [id(&ada), id(&grace)]);
    let by_id = api
        .ok(
            "GET",
            &format!("/waitlist_entries?query={}", id(&linus)),
            None,
        )
        .await;
    assert_eq!(ids(&by_id), [id(&linus)]);
    let paged = api
        .ok(
            "GET",
            "/waitlist_entries?order_by=created_at&limit=1&offset=1",
            None,
        )
        .await;
    assert_eq!(paged["total_count"], 3);
    assert_eq!(ids(&paged), [id(&grace)]);

    api.ok(
        "POST",
        &format!("/waitlist_entries/{}/reject", id(&grace)),
        None,
    )
    .await;
    let pending = api
        .ok("GET", "/waitlist_entries?status=pending", None)
        .await;
    assert_eq!(ids(&pending), [id(&linus), id(&ada)]);
    let rejected = api
        .ok("GET", "/waitlist_entries?status=rejected", None)
        .await;
    assert_eq!(ids(&rejected), [id(&grace)]);

    let bad_status = api.get("/waitlist_entries?status=waiting").await;
    assert_eq!(bad_status.code(), "form_param_value_invalid");
    let bad_order = api.get("/waitlist_entries?order_by=status").await;
    assert_eq!(bad_order.code(), "form_param_value_invalid");
    let bad_email = api
        .post(
            "/waitlist_entries",
            json!({"email_address": "not-an-email"}),
        )
        .await;
    assert_eq!(bad_email.status, 422);
    assert_eq!(bad_email.code(), "form_param_format_invalid");
    let missing = api.post("/waitlist_entries", json!({})).await;
    assert_eq!(missing.code(), "form_param_missing");
}

#[tokio::test]
async fn inviting_an_entry_creates_an_application_invitation() {
    let api = Api::start().await;
    let entry = join(&api, "invitee@example.test").await;
    let invited = api
        .ok(
            "POST",
            &format!("/waitlist_entries/{}/invite", id(&entry)),
            Some(json!({})),
        )
        .await;
    assert_eq!(invited["id"], entry["id"]);
    assert_eq!(invited["status"], "invited");
    let invitation = &invited["invitation"];
    assert_clerk_id(&invitation["id"], "inv_");
    assert_eq!(invitation["object"], "invitation");
    assert_eq!(invitation["email_address"], "invitee@example.test");
    assert_eq!(invitation["status"], "pending");
    assert!(
        invitation["url"]
            .as_str()
            .unwrap()
            .contains("__clerk_ticket=")
    );

    // The invitation is an application invitation like any other.
    let invitations = api.ok("GET", "/invitations", None).await;
    assert_eq!(ids(&invitations), [id(invitation)]);
    // The entry shows the invitation as it is now.
    api.ok(
        "POST",
        &format!("/invitations/{}/revoke", id(invitation)),
        None,
    )
    .await;
    let listed = api.ok("GET", "/waitlist_entries", None).await;
    assert_eq!(listed["data"][0]["invitation"]["status"], "revoked");

    // Invited entries cannot be invited, rejected or deleted again.
    let entry_path = format!("/waitlist_entries/{}", id(&entry));
    for (method, path) in [
        ("POST", format!("{entry_path}/invite")),
        ("POST", format!("{entry_path}/reject")),
        ("DELETE", entry_path.clone()),
    ] {
        let answer = api.call(method, &path, None).await;
        assert_eq!(answer.status, 409, "{method} {path}");
        assert_eq!(answer.code(), "waitlist_entry_already_invited");
    }
    let sorted = api
        .ok("GET", "/waitlist_entries?order_by=-invited_at", None)
        .await;
    assert_eq!(ids(&sorted), [id(&entry)]);
}

#[tokio::test]
async fn inviting_an_address_with_an_account_needs_ignore_existing() {
    let api = Api::start().await;
    api.user("member@example.test").await;
    let entry = join(&api, "member@example.test").await;
    let invite = format!("/waitlist_entries/{}/invite", id(&entry));
    let refused = api.post(&invite, json!({})).await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.code(), "form_identifier_exists");
    let still_pending = api.ok("GET", "/waitlist_entries", None).await;
    assert_eq!(still_pending["data"][0]["status"], "pending");
    let invited = api
        .ok("POST", &invite, Some(json!({"ignore_existing": true})))
        .await;
    assert_eq!(invited["status"], "invited");

    // A pending invitation for the address is refused the same way.
    api.ok(
        "POST",
        "/invitations",
        Some(json!({"email_address": "twice@example.test"})),
    )
    .await;
    let twice = join(&api, "twice@example.test").await;
    let duplicate = api
        .post(
            &format!("/waitlist_entries/{}/invite", id(&twice)),
            json!({}),
        )
        .await;
    assert_eq!(duplicate.status, 400);
    assert_eq!(duplicate.code(), "duplicate_record");
}

#[tokio::test]
async fn rejected_entries_stay_rejected_and_only_pending_ones_are_deleted() {
    let api = Api::start().await;
    let entry = join(&api, "no@example.test").await;
    let path = format!("/waitlist_entries/{}", id(&entry));
    let rejected = api.ok("POST", &format!("{path}/reject"), None).await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["invitation"], Value::Null);
    for (method, suffix) in [("POST", "/invite"), ("POST", "/reject"), ("DELETE", "")] {
        let answer = api.call(method, &format!("{path}{suffix}"), None).await;
        assert_eq!(answer.status, 409, "{method} {suffix}");
        assert_eq!(answer.code(), "waitlist_entry_already_rejected");
    }
    // Joining again returns the rejected entry.
    assert_eq!(join(&api, "no@example.test").await["status"], "rejected");

    let pending = join(&api, "maybe@example.test").await;
    let deleted = api
        .ok(
            "DELETE",
            &format!("/waitlist_entries/{}", id(&pending)),
            None,
        )
        .await;
    assert_eq!(
        deleted,
        json!({"object": "waitlist_entry", "id": id(&pending), "deleted": true})
    );
    // A deleted address can join again, as a new entry.
    let rejoined = join(&api, "maybe@example.test").await;
    assert_ne!(rejoined["id"], pending["id"]);
    let missing = api
        .delete(&format!("/waitlist_entries/{}", id(&pending)))
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.code(), "resource_not_found");
}

#[tokio::test]
async fn pinned_ids_are_used_for_every_kind() {
    let api = Api::start().await;
    api.emulator
        .pin_ids(&["alid_2abc123", "blid_2abc123", "wle_2abc123"])
        .unwrap();
    let allowed = api
        .ok(
            "POST",
            "/allowlist_identifiers",
            Some(json!({"identifier": "a@example.test"})),
        )
        .await;
    let blocked = api
        .ok(
            "POST",
            "/blocklist_identifiers",
            Some(json!({"identifier": "b@example.test"})),
        )
        .await;
    let entry = join(&api, "c@example.test").await;
    assert_eq!(
        [id(&allowed), id(&blocked), id(&entry)],
        ["alid_2abc123", "blid_2abc123", "wle_2abc123"]
    );
    // Objects kept as JSON count as used: their IDs cannot be pinned again.
    assert!(api.emulator.pin_ids(&["wle_2abc123"]).is_err());
}
