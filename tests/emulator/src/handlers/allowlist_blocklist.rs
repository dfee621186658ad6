//! Allowlist and blocklist identifiers: list, create and delete. An allowlist identifier created
//! with `notify` for an email address gets an application invitation, which `GET /invitations`
//! lists.

use serde_json::{Map, Value, json};

use super::invitations::create_invitation;
use super::{Result, Route, data_page, is_email, opt_bool, page, reject_unknown, required_string};
use crate::api::{ApiError, Context, Query};
use crate::store::Store;

/// The allowlist and blocklist operations served here.
pub(crate) const ROUTES: &[Route] = &[
    Route::new("GET", "/allowlist_identifiers", |store, cx, _| {
        list_allowlist_identifiers(store, cx)
    }),
    Route::new("POST", "/allowlist_identifiers", |store, cx, _| {
        create_identifier(store, cx, &ALLOWLIST)
    }),
    Route::new(
        "DELETE",
        "/allowlist_identifiers/{identifier_id}",
        |store, _, p| delete_identifier(store, p.at(0), &ALLOWLIST),
    ),
    Route::new("GET", "/blocklist_identifiers", |store, _, _| {
        list_blocklist_identifiers(store)
    }),
    Route::new("POST", "/blocklist_identifiers", |store, cx, _| {
        create_identifier(store, cx, &BLOCKLIST)
    }),
    Route::new(
        "DELETE",
        "/blocklist_identifiers/{identifier_id}",
        |store, _, p| delete_identifier(store, p.at(0), &BLOCKLIST),
    ),
];

/// The emulated instance's ID, which allowlist and blocklist identifiers carry.
pub(crate) const INSTANCE_ID: &str = "ins_2EmulatorInstance0000000000";

/// What differs between the two lists.
struct List {
    /// The store collection and the `object` tag of its identifiers.
    collection: &'static str,
    object: &'static str,
    prefix: &'static str,
    /// `allowlist` or `blocklist`, as Clerk's messages name them.
    name: &'static str,
    /// Body fields the create operation takes (its schema has `additionalProperties: false`).
    fields: &'static [&'static str],
}

const ALLOWLIST: List = List {
    collection: "allowlist_identifiers",
    object: "allowlist_identifier",
    prefix: "alid_",
    name: "allowlist",
    fields: &["identifier", "notify"],
};

const BLOCKLIST: List = List {
    collection: "blocklist_identifiers",
    object: "blocklist_identifier",
    prefix: "blid_",
    name: "blocklist",
    fields: &["identifier"],
};

/// One page of newest-first `items` as the lists with a `paginated` parameter answer: a bare
/// array, or `{data, total_count}` with `paginated=true`.
pub(super) fn bare_or_paginated(items: Vec<Value>, q: Query<'_>) -> Result<Value> {
    let (limit, offset) = q.page()?;
    let paginated = q.bool("paginated")?.unwrap_or(false);
    let total = items.len();
    let data = page(items, limit, offset);
    Ok(if paginated {
        data_page(data, total)
    } else {
        Value::Array(data)
    })
}

/// A collection's objects, newest first (they are kept in creation order).
pub(super) fn newest_first(store: &Store, collection: &str) -> Vec<Value> {
    store
        .collection(collection)
        .map(|objects| objects.values().rev().cloned().collect())
        .unwrap_or_default()
}

/// The kind of identifier, as Clerk infers it; a `*@domain` wildcard is an email address.
fn identifier_type(identifier: &str) -> Result<&'static str> {
    let is_domain = |domain: &str| {
        domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !domain.chars().any(char::is_whitespace)
    };
    let phone_digits = identifier.strip_prefix('+').unwrap_or("");
    let wallet_digits = identifier.strip_prefix("0x").unwrap_or("");
    if identifier.strip_prefix("*@").is_some_and(is_domain) || is_email(identifier) {
        Ok("email_address")
    } else if (7..=15).contains(&phone_digits.len())
        && phone_digits.bytes().all(|b| b.is_ascii_digit())
    {
        Ok("phone_number")
    } else if wallet_digits.len() == 40 && wallet_digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok("web3_wallet")
    } else {
        Err(ApiError::format_invalid(
            "identifier",
            "identifier must be either a valid email address, a valid phone number according to \
             E.164 international standard or a valid web3 wallet."
                .to_string(),
        ))
    }
}

fn list_allowlist_identifiers(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    bare_or_paginated(newest_first(store, ALLOWLIST.collection), cx.query)
}

/// Every blocklist identifier: this list takes no paging parameters.
fn list_blocklist_identifiers(store: &mut Store) -> Result<Value> {
    let data = newest_first(store, BLOCKLIST.collection);
    let total = data.len();
    Ok(data_page(data, total))
}

fn create_identifier(store: &mut Store, cx: &Context<'_>, list: &List) -> Result<Value> {
    let body = &cx.body;
    reject_unknown(body, list.fields)?;
    let identifier = required_string(body, "identifier")?.trim().to_string();
    let kind = identifier_type(&identifier)?;
    let notify = opt_bool(body, "notify")?.unwrap_or(false);
    let lower = identifier.to_lowercase();
    let taken = store.collection(list.collection).is_some_and(|objects| {
        objects
            .values()
            .any(|o| o["identifier"].as_str().map(str::to_lowercase) == Some(lower.clone()))
    });
    if taken {
        return Err(ApiError::new(
            400,
            "duplicate_record",
            &format!("duplicate {} identifier", list.name),
            format!("the identifier {identifier} already exists"),
        ));
    }
    // Clerk invites a notified email address; wildcards and wallets get no invitation, and the
    // emulator keeps no SMS invitations for phone numbers.
    let invitation_id = if notify && kind == "email_address" && !identifier.starts_with("*@") {
        Some(invitation_for(store, &identifier)?)
    } else {
        None
    };
    let now = store.now_ms();
    let id = store.new_id(list.prefix);
    let mut object = Map::new();
    object.insert("object".into(), json!(list.object));
    object.insert("id".into(), json!(id));
    if let Some(invitation_id) = invitation_id {
        object.insert("invitation_id".into(), json!(invitation_id));
    }
    object.insert("identifier".into(), json!(identifier));
    object.insert("identifier_type".into(), json!(kind));
    object.insert("instance_id".into(), json!(INSTANCE_ID));
    object.insert("created_at".into(), json!(now));
    object.insert("updated_at".into(), json!(now));
    let object = Value::Object(object);
    store
        .collection_mut(list.collection)
        .insert(id, object.clone());
    Ok(object)
}

/// The ID of the address's pending application invitation, made now if it has none.
fn invitation_for(store: &mut Store, email: &str) -> Result<String> {
    let lower = email.to_lowercase();
    let pending = store
        .invitations
        .values()
        .find(|i| i.status == "pending" && i.email_address.to_lowercase() == lower);
    if let Some(invitation) = pending {
        return Ok(invitation.id.clone());
    }
    let mut body = Map::new();
    body.insert("email_address".into(), json!(email));
    // An allowlisted address may already have an account; Clerk still sends the invitation.
    body.insert("ignore_existing".into(), json!(true));
    let request = Context {
        query: Query(&[]),
        body,
        files: Vec::new(),
        items: Vec::new(),
        legacy_metadata_allowed: false,
    };
    let invitation = create_invitation(store, &request)?;
    Ok(invitation["id"].as_str().unwrap_or_default().to_string())
}

fn delete_identifier(store: &mut Store, id: &str, list: &List) -> Result<Value> {
    let removed = store
        .collection_mut(list.collection)
        .shift_remove(id)
        .is_some();
    if !removed {
        return Err(ApiError::new(
            404,
            "resource_not_found",
            "Identifier not found",
            format!("No identifier was found with id {id}"),
        ));
    }
    Ok(json!({ "object": list.object, "id": id, "deleted": true }))
}

#[cfg(test)]
mod tests {
    use super::identifier_type;

    #[test]
    fn identifier_types_are_inferred_like_clerk() {
        let kind = |value: &str| identifier_type(value).ok();
        assert_eq!(kind("ada@example.test"), Some("email_address"));
        assert_eq!(kind("*@example.test"), Some("email_address"));
        assert_eq!(kind("+15555550100"), Some("phone_number"));
        assert_eq!(
            kind("0x0000000000000000000000000000000000000001"),
            Some("web3_wallet")
        );
        for invalid in [
            "example.test",
            "*@nodot",
            "+1555",
            "0x12",
            "ada",
            "*@a@b.test",
        ] {
            assert_eq!(kind(invalid), None, "{invalid}");
        }
    }
}
