//! Organization permissions: list, create, get, update and delete. Clerk's system permissions
//! (`org:sys_…`) exist from the start and cannot be changed; deleting a custom permission takes
//! it off every role.

use serde_json::{Map, Value, json};

use super::organization_roles::{PERMISSIONS, ROLES, ensure_system_roles};
use super::{Result, Route, SortKey, data_page, opt_string, page, reject_unknown, sort_by_key};
use crate::api::{ApiError, Context};
use crate::store::Store;

/// The organization permission operations served here.
pub(crate) const ROUTES: &[Route] = &[
    Route::new("GET", "/organization_permissions", |store, cx, _| {
        list_permissions(store, cx)
    }),
    Route::new("POST", "/organization_permissions", |store, cx, _| {
        create_permission(store, cx)
    }),
    Route::new(
        "GET",
        "/organization_permissions/{permission_id}",
        |store, _, p| get_permission(store, p.at(0)),
    ),
    Route::new(
        "PATCH",
        "/organization_permissions/{permission_id}",
        |store, cx, p| update_permission(store, cx, p.at(0)),
    ),
    Route::new(
        "DELETE",
        "/organization_permissions/{permission_id}",
        |store, _, p| delete_permission(store, p.at(0)),
    ),
];

const PERMISSION_FIELDS: &[&str] = &["name", "key", "description"];

/// A permission by ID, as stored (which is how Clerk renders it).
pub(crate) fn find_permission(store: &mut Store, id: &str) -> Result<Value> {
    ensure_system_roles(store);
    store
        .collection_mut(PERMISSIONS)
        .get(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("permission", id))
}

/// `org:<feature>:<action>`, each part lower-case letters, digits or underscores.
fn check_permission_key(key: &str) -> Result<()> {
    let part_ok = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    let parts: Vec<&str> = key.split(':').collect();
    let well_formed =
        parts.len() == 3 && parts[0] == "org" && part_ok(parts[1]) && part_ok(parts[2]);
    if !well_formed {
        return Err(ApiError::format_invalid(
            "key",
            "key must have the format org:<feature>:<action>, using lowercase letters, digits and underscores.".to_string(),
        ));
    }
    if key.starts_with("org:sys_") {
        return Err(ApiError::format_invalid(
            "key",
            "key cannot begin with org:sys_, which is reserved for system permissions.".to_string(),
        ));
    }
    Ok(())
}

fn key_taken(store: &mut Store, key: &str, except_id: Option<&str>) -> bool {
    store
        .collection_mut(PERMISSIONS)
        .values()
        .any(|p| p["key"] == key && p["id"].as_str() != except_id)
}

fn is_system(permission: &Value) -> bool {
    permission["type"] == "system"
}

fn system_permission_refused(action: &str) -> ApiError {
    ApiError::new(
        403,
        "authorization_invalid",
        "Unauthorized request",
        format!("System permissions cannot be {action}."),
    )
}

fn list_permissions(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    ensure_system_roles(store);
    let q = cx.query;
    let (limit, offset) = q.page()?;
    let (field, descending) = q.order_by("-created_at", &["created_at", "name", "key"])?;
    let search = q.text("query").map(|s| s.to_lowercase());
    let permissions = store.collection_mut(PERMISSIONS).clone();
    let mut matching: Vec<&Value> = permissions
        .values()
        .filter(|p| search.as_deref().is_none_or(|s| matches_query(p, s)))
        .collect();
    sort_by_key(
        &mut matching,
        descending,
        |p| sort_key(p, &field),
        |p| p["created_at"].as_i64().unwrap_or(0),
    );
    let total = matching.len();
    let data = page(matching, limit, offset).into_iter().cloned().collect();
    Ok(data_page(data, total))
}

/// Clerk's list search: the ID exactly, or part of the name or key.
pub(super) fn matches_query(object: &Value, lowered: &str) -> bool {
    let contains = |field: &str| {
        object[field]
            .as_str()
            .is_some_and(|v| v.to_lowercase().contains(lowered))
    };
    object["id"]
        .as_str()
        .is_some_and(|id| id.to_lowercase() == lowered)
        || contains("name")
        || contains("key")
}

/// Sorting by `name`, `key` or `created_at`, for permissions, roles and role sets alike.
pub(super) fn sort_key(object: &Value, field: &str) -> SortKey {
    match field {
        "name" | "key" => SortKey::Text(object[field].as_str().map(str::to_lowercase)),
        _ => SortKey::Number(object["created_at"].as_i64()),
    }
}

fn create_permission(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let body = &cx.body;
    reject_unknown(body, PERMISSION_FIELDS)?;
    let name = super::required_string(body, "name")?;
    let key = super::required_string(body, "key")?;
    let description = opt_string(body, "description")?;
    check_permission_key(&key)?;
    ensure_system_roles(store);
    if key_taken(store, &key, None) {
        return Err(ApiError::identifier_exists("key", "key"));
    }
    let now = store.now_ms();
    let id = store.new_id("perm_");
    let permission = json!({
        "object": "permission",
        "id": id,
        "name": name,
        "key": key,
        "description": description.unwrap_or_default(),
        "type": "user",
        "created_at": now,
        "updated_at": now,
    });
    store
        .collection_mut(PERMISSIONS)
        .insert(id, permission.clone());
    Ok(permission)
}

fn get_permission(store: &mut Store, id: &str) -> Result<Value> {
    find_permission(store, id)
}

fn update_permission(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    let body = &cx.body;
    let existing = find_permission(store, id)?;
    if is_system(&existing) {
        return Err(system_permission_refused("updated"));
    }
    reject_unknown(body, PERMISSION_FIELDS)?;
    let name = opt_string(body, "name")?;
    let key = opt_string(body, "key")?;
    let description = opt_string(body, "description")?;
    if let Some(name) = &name
        && name.trim().is_empty()
    {
        return Err(ApiError::missing_param("name"));
    }
    if let Some(key) = &key {
        check_permission_key(key)?;
        if key_taken(store, key, Some(id)) {
            return Err(ApiError::identifier_exists("key", "key"));
        }
    }
    let now = store.now_ms();
    let mut changes = Map::new();
    if let Some(name) = name {
        changes.insert("name".into(), json!(name));
    }
    if let Some(key) = key {
        changes.insert("key".into(), json!(key));
    }
    if let Some(description) = description {
        changes.insert("description".into(), json!(description));
    }
    changes.insert("updated_at".into(), json!(now));
    let Some(Value::Object(permission)) = store.collection_mut(PERMISSIONS).get_mut(id) else {
        return Err(ApiError::not_found("permission", id));
    };
    permission.extend(changes);
    find_permission(store, id)
}

fn delete_permission(store: &mut Store, id: &str) -> Result<Value> {
    let existing = find_permission(store, id)?;
    if is_system(&existing) {
        return Err(system_permission_refused("deleted"));
    }
    store.collection_mut(PERMISSIONS).shift_remove(id);
    // Roles keep permission IDs: the deleted one goes from each.
    for role in store.collection_mut(ROLES).values_mut() {
        if let Some(Value::Array(ids)) = role.get_mut("permissions") {
            ids.retain(|p| p != id);
        }
    }
    Ok(json!({ "object": "permission", "id": id, "deleted": true }))
}
