//! The bulk functions, whose request body is a JSON array (`http.body: json_array`), end to end
//! against the stateful emulator: the array is sent as the whole body, what they create is kept
//! with the single-created objects, and a refused item creates nothing.

use kosmo_runtime::Error;
use kosmo_tests::{Expect, Harness, assert_request};
use serde_json::{Value, json};

fn api_error(error: &Error) -> (u16, Option<&str>) {
    match error {
        Error::Api(api) => (api.status, api.code.as_deref()),
        other => panic!("not an API error: {other}"),
    }
}

fn post<'a>(path: &'a str, body: Value) -> Expect<'a> {
    Expect {
        method: "POST",
        path,
        query: &[],
        body: Some(body),
    }
}

fn emails(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .map(|i| i["email_address"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn create_invitations_sends_the_array_and_creates_all_or_none() {
    let harness = Harness::start().await;
    let key = harness.emulator.secret_key().to_string();
    let items = json!([
        {"email_address": "bulk-a@example.test", "notify": false},
        {"email_address": "bulk-b@example.test", "expires_in_days": 7},
    ]);
    let (created, request) = harness
        .call_once("create_invitations", json!({"invitations": items.clone()}))
        .await;
    assert_request(&request, &key, post("/v1/invitations/bulk", items));
    let created = created.as_array().unwrap();
    assert_eq!(
        emails(created),
        ["bulk-a@example.test", "bulk-b@example.test"]
    );
    assert!(created.iter().all(|i| i["status"] == "pending"));

    // The second item repeats a pending invitation: nothing of this call is created.
    let refused = harness
        .call(
            "create_invitations",
            json!({"invitations": [
                {"email_address": "bulk-c@example.test"},
                {"email_address": "bulk-a@example.test"},
            ]}),
        )
        .await
        .unwrap_err();
    assert_eq!(api_error(&refused).0, 400, "{refused}");
    let listed = harness
        .call("list_invitations", json!({"status": "pending"}))
        .await
        .unwrap();
    let mut listed = emails(listed.as_array().unwrap());
    listed.sort_unstable();
    assert_eq!(listed, ["bulk-a@example.test", "bulk-b@example.test"]);
}

#[tokio::test]
async fn the_array_is_checked_before_anything_is_sent() {
    let harness = Harness::start().await;
    let eleven: Vec<Value> = (0..11)
        .map(|i| json!({"email_address": format!("many-{i}@example.test")}))
        .collect();
    let refused = harness
        .call("create_invitations", json!({"invitations": eleven}))
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, Error::InvalidArgument { .. }),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("invitations"), "{refused}");
    let missing = harness
        .call("create_invitations", json!({}))
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("invitations"), "{missing}");
    assert!(harness.emulator.requests().is_empty());
}

#[tokio::test]
async fn organization_invitations_in_bulk_are_kept_with_the_organizations_others() {
    let harness = Harness::start().await;
    let key = harness.emulator.secret_key().to_string();
    let org = harness
        .call("create_organization", json!({"name": "Bulk Org"}))
        .await
        .unwrap();
    let org_id = org["id"].as_str().unwrap().to_string();
    let path = format!("/v1/organizations/{org_id}/invitations/bulk");
    let items = json!([
        {"email_address": "member@example.test", "role": "org:member"},
        {"email_address": "admin@example.test", "role": "org:admin", "notify": false},
    ]);
    let (page, request) = harness
        .call_once(
            "create_organization_invitations",
            json!({"organization_id": org_id, "invitations": items.clone()}),
        )
        .await;
    assert_request(&request, &key, post(&path, items));
    assert_eq!(page["total_count"], 2);
    let data = page["data"].as_array().unwrap();
    assert_eq!(emails(data), ["member@example.test", "admin@example.test"]);
    assert_eq!(data[1]["role"], "org:admin");

    // The second item has no role: the first is not kept either.
    let refused = harness
        .call(
            "create_organization_invitations",
            json!({"organization_id": org_id, "invitations": [
                {"email_address": "third@example.test", "role": "org:member"},
                {"email_address": "fourth@example.test"},
            ]}),
        )
        .await
        .unwrap_err();
    assert_eq!(api_error(&refused).0, 422, "{refused}");
    let listed = harness
        .call(
            "list_organization_invitations",
            json!({"organization_id": org_id}),
        )
        .await
        .unwrap();
    assert_eq!(listed["total_count"], 2, "{listed}");
}

#[tokio::test]
async fn waitlist_entries_in_bulk_return_existing_entries_and_refuse_repeats() {
    let harness = Harness::start().await;
    let key = harness.emulator.secret_key().to_string();
    let first = harness
        .call(
            "create_waitlist_entry",
            json!({"email_address": "early@example.test", "notify": false}),
        )
        .await
        .unwrap();
    let items = json!([
        {"email_address": "early@example.test", "notify": false},
        {"email_address": "late@example.test"},
    ]);
    let (entries, request) = harness
        .call_once("create_waitlist_entries", json!({"entries": items.clone()}))
        .await;
    assert_request(&request, &key, post("/v1/waitlist_entries/bulk", items));
    let entries = entries.as_array().unwrap();
    assert_eq!(emails(entries), ["early@example.test", "late@example.test"]);
    assert_eq!(
        entries[0]["id"], first["id"],
        "an existing entry comes back"
    );

    let refused = harness
        .call(
            "create_waitlist_entries",
            json!({"entries": [
                {"email_address": "twice@example.test"},
                {"email_address": "TWICE@example.test"},
            ]}),
        )
        .await
        .unwrap_err();
    assert_eq!(api_error(&refused), (422, Some("duplicate_record")));
    let listed = harness
        .call("list_waitlist_entries", json!({}))
        .await
        .unwrap();
    assert_eq!(listed["total_count"], 2, "{listed}");
}
