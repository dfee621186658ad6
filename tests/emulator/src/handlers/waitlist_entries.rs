//! Waitlist entries: list, create (one, or up to 50 from a JSON array body), delete, invite and
//! reject. Inviting an entry creates an application invitation, kept with the others
//! (`GET /invitations` lists it), and the entry shows it as it is now.

use serde_json::{Map, Value, json};

use super::invitations::create_invitation;
use super::{
    Result, Route, SortKey, check_email, data_page, opt_bool, page, required_string, sort_by_key,
};
use crate::api::{ApiError, Context, Query};
use crate::store::Store;

/// The waitlist entry operations served here.
pub(crate) const ROUTES: &[Route] = &[
    Route::new("GET", "/waitlist_entries", |store, cx, _| {
        list_waitlist_entries(store, cx)
    }),
    Route::new("POST", "/waitlist_entries", |store, cx, _| {
        create_waitlist_entry(store, cx)
    }),
    Route::new("POST", "/waitlist_entries/bulk", |store, cx, _| {
        create_waitlist_entries(store, cx)
    })
    .with_array_body(),
    Route::new(
        "DELETE",
        "/waitlist_entries/{waitlist_entry_id}",
        |store, _, p| delete_waitlist_entry(store, p.at(0)),
    ),
    Route::new(
        "POST",
        "/waitlist_entries/{waitlist_entry_id}/invite",
        |store, cx, p| invite_waitlist_entry(store, cx, p.at(0)),
    ),
    Route::new(
        "POST",
        "/waitlist_entries/{waitlist_entry_id}/reject",
        |store, _, p| reject_waitlist_entry(store, p.at(0)),
    ),
];

const COLLECTION: &str = "waitlist_entries";
const STATUSES: &[&str] = &["pending", "invited", "completed", "rejected"];

/// Kept with each entry but not part of Clerk's object: the invitation is rendered from the
/// store (so a revoked one shows as revoked), and `invited_at` is only a sort key.
const INVITATION_ID: &str = "invitation_id";
const INVITED_AT: &str = "invited_at";

fn find<'a>(store: &'a Store, id: &str) -> Result<&'a Value> {
    store
        .collection(COLLECTION)
        .and_then(|entries| entries.get(id))
        .ok_or_else(|| ApiError::not_found("waitlist entry", id))
}

/// An entry as Clerk renders it.
fn entry_json(store: &Store, entry: &Value) -> Value {
    let mut rendered = entry.clone();
    let invitation = entry[INVITATION_ID]
        .as_str()
        .and_then(|id| store.invitations.get(id))
        .map(|invitation| store.invitation_json(invitation))
        .unwrap_or(Value::Null);
    if let Some(map) = rendered.as_object_mut() {
        map.remove(INVITATION_ID);
        map.remove(INVITED_AT);
        map.insert("invitation".into(), invitation);
    }
    rendered
}

/// Only a pending entry may be invited, rejected or deleted: Clerk's 409 for the others.
fn check_pending(entry: &Value) -> Result<()> {
    let status = entry["status"].as_str().unwrap_or("pending");
    if status == "pending" {
        return Ok(());
    }
    Err(ApiError::new(
        409,
        match status {
            "invited" => "waitlist_entry_already_invited",
            "rejected" => "waitlist_entry_already_rejected",
            _ => "waitlist_entry_already_completed",
        },
        &format!("Waitlist entry already {status}"),
        format!("The waitlist entry has already been {status}."),
    ))
}

fn list_waitlist_entries(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let q = cx.query;
    let (limit, offset) = q.page()?;
    let (field, descending) = q.order_by(
        "-created_at",
        &["created_at", "email_address", "invited_at"],
    )?;
    let status = match q.text("status") {
        Some(status) if !STATUSES.contains(&status.as_str()) => {
            return Err(ApiError::value_invalid("status", &status));
        }
        status => status,
    };
    let search = q.text("query").map(|s| s.to_lowercase());
    let mut entries: Vec<&Value> = store
        .collection(COLLECTION)
        .map(|entries| entries.values().collect())
        .unwrap_or_default();
    entries.retain(|e| status.as_ref().is_none_or(|s| e["status"] == json!(s)));
    entries.retain(|e| {
        search.as_ref().is_none_or(|s| {
            let email = e["email_address"].as_str().unwrap_or("").to_lowercase();
            email.contains(s.as_str()) || e["id"].as_str().map(str::to_lowercase) == Some(s.clone())
        })
    });
    sort_by_key(
        &mut entries,
        descending,
        |e| match field.as_str() {
            "email_address" => SortKey::Text(e["email_address"].as_str().map(str::to_lowercase)),
            "invited_at" => SortKey::Number(e[INVITED_AT].as_i64()),
            _ => SortKey::Number(e["created_at"].as_i64()),
        },
        |e| e["created_at"].as_i64().unwrap_or(0),
    );
    let total = entries.len();
    let data: Vec<Value> = page(entries, limit, offset)
        .into_iter()
        .map(|e| entry_json(store, e))
        .collect();
    Ok(data_page(data, total))
}

/// An address already on the waitlist gets its existing entry back, whatever its status.
fn create_waitlist_entry(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let email = required_string(&cx.body, "email_address")?
        .trim()
        .to_string();
    check_email("email_address", &email)?;
    opt_bool(&cx.body, "notify")?;
    let lower = email.to_lowercase();
    let existing = store.collection(COLLECTION).and_then(|entries| {
        entries
            .values()
            .find(|e| e["email_address"].as_str().map(str::to_lowercase) == Some(lower.clone()))
    });
    if let Some(entry) = existing {
        return Ok(entry_json(store, entry));
    }
    let now = store.now_ms();
    let id = store.new_id("wle_");
    let entry = json!({
        "object": "waitlist_entry",
        "id": id,
        "email_address": email,
        "status": "pending",
        "is_locked": false,
        "created_at": now,
        "updated_at": now,
        INVITATION_ID: Value::Null,
        INVITED_AT: Value::Null,
    });
    store.collection_mut(COLLECTION).insert(id, entry.clone());
    Ok(entry_json(store, &entry))
}

/// Most entries one bulk request may add (Clerk's documented limit).
const BULK_ENTRIES_MAX: usize = 50;

/// Every item is checked (an object with a valid `email_address`, no address twice) before any
/// entry is added; an address already on the waitlist gets its existing entry back.
fn create_waitlist_entries(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    if cx.items.is_empty() || cx.items.len() > BULK_ENTRIES_MAX {
        return Err(ApiError::new(
            422,
            "form_param_format_invalid",
            "is invalid",
            format!(
                "Between 1 and {BULK_ENTRIES_MAX} waitlist entries can be created per request; {} were given.",
                cx.items.len()
            ),
        ));
    }
    let mut bodies: Vec<Map<String, Value>> = Vec::with_capacity(cx.items.len());
    let mut seen: Vec<String> = Vec::new();
    for item in &cx.items {
        let Value::Object(fields) = item else {
            return Err(ApiError::new(
                400,
                "request_body_invalid",
                "Request body invalid",
                "The request body is invalid: each waitlist entry must be a JSON object"
                    .to_string(),
            ));
        };
        super::reject_unknown(fields, &["email_address", "notify"])?;
        let email = required_string(fields, "email_address")?
            .trim()
            .to_lowercase();
        check_email("email_address", &email)?;
        opt_bool(fields, "notify")?;
        if seen.contains(&email) {
            return Err(ApiError::new(
                422,
                "duplicate_record",
                "duplicate email address",
                format!("{email} appears more than once in this request."),
            ));
        }
        seen.push(email);
        bodies.push(fields.clone());
    }
    let mut entries = Vec::with_capacity(bodies.len());
    for body in bodies {
        let single = Context {
            query: cx.query,
            body,
            files: Vec::new(),
            items: Vec::new(),
            legacy_metadata_allowed: cx.legacy_metadata_allowed,
        };
        entries.push(create_waitlist_entry(store, &single)?);
    }
    Ok(Value::Array(entries))
}

fn delete_waitlist_entry(store: &mut Store, id: &str) -> Result<Value> {
    check_pending(find(store, id)?)?;
    store.collection_mut(COLLECTION).shift_remove(id);
    Ok(json!({ "object": "waitlist_entry", "id": id, "deleted": true }))
}

/// Sends the entry's address an application invitation (Clerk's `waitlist_invitation` email),
/// with the same checks as `POST /invitations`, and marks the entry invited.
fn invite_waitlist_entry(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    let entry = find(store, id)?;
    check_pending(entry)?;
    let email = entry["email_address"].clone();
    let ignore_existing = opt_bool(&cx.body, "ignore_existing")?.unwrap_or(false);
    let mut body = Map::new();
    body.insert("email_address".into(), email);
    body.insert("ignore_existing".into(), json!(ignore_existing));
    body.insert("template_slug".into(), json!("waitlist_invitation"));
    let request = Context {
        query: Query(&[]),
        body,
        files: Vec::new(),
        items: Vec::new(),
        legacy_metadata_allowed: false,
    };
    let invitation = create_invitation(store, &request)?;
    let now = store.now_ms();
    let Some(entry) = store.collection_mut(COLLECTION).get_mut(id) else {
        return Err(ApiError::not_found("waitlist entry", id));
    };
    entry["status"] = json!("invited");
    entry[INVITATION_ID] = invitation["id"].clone();
    entry[INVITED_AT] = json!(now);
    entry["updated_at"] = json!(now);
    let entry = entry.clone();
    Ok(entry_json(store, &entry))
}

fn reject_waitlist_entry(store: &mut Store, id: &str) -> Result<Value> {
    check_pending(find(store, id)?)?;
    let now = store.now_ms();
    let Some(entry) = store.collection_mut(COLLECTION).get_mut(id) else {
        return Err(ApiError::not_found("waitlist entry", id));
    };
    entry["status"] = json!("rejected");
    entry["updated_at"] = json!(now);
    let entry = entry.clone();
    Ok(entry_json(store, &entry))
}
