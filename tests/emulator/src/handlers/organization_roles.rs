//! Organization roles: list, create, get, update, delete, and granting or taking away one
//! permission. Also the system objects every instance starts with, which the permission and role
//! set handlers share: Clerk's `org:sys_…` permissions, the roles `org:admin` and `org:member`
//! (those the memberships already use) and the initial role set `role_set:default`.
//!
//! Roles are kept as Clerk renders them except that `permissions` holds permission IDs, so a
//! renamed or deleted permission shows on every role at once.

use serde_json::{Map, Value, json};

use super::organization_permissions::{find_permission, matches_query, sort_key};
use super::{
    Result, Route, data_page, opt_bool, opt_string, page, reject_unknown, required_string,
    sort_by_key,
};
use crate::api::{ApiError, Context};
use crate::store::Store;

pub(crate) const PERMISSIONS: &str = "organization_permissions";
pub(crate) const ROLES: &str = "organization_roles";
pub(crate) const ROLE_SETS: &str = "role_sets";

/// The organization role operations served here.
pub(crate) const ROUTES: &[Route] = &[
    Route::new("GET", "/organization_roles", |store, cx, _| {
        list_roles(store, cx)
    }),
    Route::new("POST", "/organization_roles", |store, cx, _| {
        create_role(store, cx)
    }),
    Route::new(
        "GET",
        "/organization_roles/{organization_role_id}",
        |store, _, p| get_role(store, p.at(0)),
    ),
    Route::new(
        "PATCH",
        "/organization_roles/{organization_role_id}",
        |store, cx, p| update_role(store, cx, p.at(0)),
    ),
    Route::new(
        "DELETE",
        "/organization_roles/{organization_role_id}",
        |store, _, p| delete_role(store, p.at(0)),
    ),
    Route::new(
        "POST",
        "/organization_roles/{organization_role_id}/permissions/{permission_id}",
        |store, _, p| assign_permission(store, p.at(0), p.at(1)),
    ),
    Route::new(
        "DELETE",
        "/organization_roles/{organization_role_id}/permissions/{permission_id}",
        |store, _, p| remove_permission(store, p.at(0), p.at(1)),
    ),
];

/// When the system objects were made: before anything an API call creates.
const SYSTEM_CREATED_AT: i64 = 1_704_067_200_000;

/// Clerk's system permissions: key, name, description.
const SYSTEM_PERMISSIONS: &[(&str, &str, &str)] = &[
    (
        "org:sys_profile:manage",
        "Manage organization",
        "Permission to manage an organization.",
    ),
    (
        "org:sys_profile:delete",
        "Delete organization",
        "Permission to delete an organization.",
    ),
    (
        "org:sys_memberships:read",
        "Read members",
        "Permission to read the members of an organization.",
    ),
    (
        "org:sys_memberships:manage",
        "Manage members",
        "Permission to manage the members of an organization.",
    ),
    (
        "org:sys_domains:read",
        "Read domains",
        "Permission to read the domains of an organization.",
    ),
    (
        "org:sys_domains:manage",
        "Manage domains",
        "Permission to manage the domains of an organization.",
    ),
];

/// The system roles: key, name, description, permission keys (as the memberships show them).
const SYSTEM_ROLES: &[(&str, &str, &str, &[&str])] = &[
    (
        "org:admin",
        "Admin",
        "Role with elevated permissions.",
        &[
            "org:sys_profile:manage",
            "org:sys_profile:delete",
            "org:sys_memberships:read",
            "org:sys_memberships:manage",
            "org:sys_domains:read",
            "org:sys_domains:manage",
        ],
    ),
    (
        "org:member",
        "Member",
        "Role with non-privileged permissions.",
        &["org:sys_memberships:read"],
    ),
];

/// The initial role set's key, the set new organizations use unless another is made initial.
pub(crate) const DEFAULT_ROLE_SET_KEY: &str = "role_set:default";

/// A fixed ID for a system object: its key's letters and digits, padded to Clerk's 27
/// characters. Fixed, so system objects neither use the ID generator nor take pinned IDs.
fn system_id(prefix: &str, key: &str) -> String {
    let mut body: String = key.chars().filter(char::is_ascii_alphanumeric).collect();
    body.truncate(27);
    format!("{prefix}{body:0<27}")
}

/// Puts the system permissions, roles and initial role set in the store the first time any
/// roles-related handler runs (a reset or restore empties the collections, and the next call
/// brings them back).
pub(crate) fn ensure_system_roles(store: &mut Store) {
    if store
        .collection(ROLES)
        .is_some_and(|roles| !roles.is_empty())
        || store.collection(PERMISSIONS).is_some_and(|p| !p.is_empty())
    {
        return;
    }
    for (key, name, description) in SYSTEM_PERMISSIONS {
        let id = system_id("perm_", key);
        let permission = json!({
            "object": "permission",
            "id": id,
            "name": name,
            "key": key,
            "description": description,
            "type": "system",
            "created_at": SYSTEM_CREATED_AT,
            "updated_at": SYSTEM_CREATED_AT,
        });
        store.collection_mut(PERMISSIONS).insert(id, permission);
    }
    for (key, name, description, permissions) in SYSTEM_ROLES {
        let id = system_id("role_", key);
        let ids: Vec<String> = permissions.iter().map(|p| system_id("perm_", p)).collect();
        let role = json!({
            "object": "role",
            "id": id,
            "name": name,
            "key": key,
            "description": description,
            "permissions": ids,
            "created_at": SYSTEM_CREATED_AT,
            "updated_at": SYSTEM_CREATED_AT,
        });
        store.collection_mut(ROLES).insert(id, role);
    }
    if store
        .collection(ROLE_SETS)
        .is_none_or(|sets| sets.is_empty())
    {
        let id = system_id("rs_", DEFAULT_ROLE_SET_KEY);
        let set = json!({
            "object": "role_set",
            "id": id,
            "name": "Default",
            "key": DEFAULT_ROLE_SET_KEY,
            "description": "The roles every new organization starts with.",
            "roles": ["org:admin", "org:member"],
            "default_role": "org:member",
            "creator_role": "org:admin",
            "type": "initial",
            "created_at": SYSTEM_CREATED_AT,
            "updated_at": SYSTEM_CREATED_AT,
        });
        store.collection_mut(ROLE_SETS).insert(id, set);
    }
}

/// `org:` then lower-case letters, digits and underscores.
fn check_role_key(key: &str) -> Result<()> {
    let valid = key.strip_prefix("org:").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    });
    if valid {
        Ok(())
    } else {
        Err(ApiError::format_invalid(
            "key",
            "key must start with org: followed by lowercase alphanumeric characters and underscores."
                .to_string(),
        ))
    }
}

/// A role as stored, by ID.
fn stored_role(store: &mut Store, id: &str) -> Result<Value> {
    ensure_system_roles(store);
    store
        .collection_mut(ROLES)
        .get(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("organization role", id))
}

/// A role as stored, by key (memberships and role sets name roles by key).
pub(crate) fn role_by_key(store: &mut Store, key: &str) -> Option<Value> {
    ensure_system_roles(store);
    store
        .collection_mut(ROLES)
        .values()
        .find(|r| r["key"] == key)
        .cloned()
}

/// The keys of the permissions a stored role grants.
fn permission_keys(store: &Store, role: &Value) -> Vec<String> {
    let permissions = store.collection(PERMISSIONS);
    role["permissions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|id| permissions?.get(id.as_str()?))
        .filter_map(|p| p["key"].as_str().map(str::to_string))
        .collect()
}

/// A role's name and permission keys by its key, for memberships; `None` while no role has been
/// looked at (the memberships then use their built-in names and permissions) or for an unknown
/// key.
pub(crate) fn role_name_and_permissions(store: &Store, key: &str) -> Option<(String, Vec<String>)> {
    let role = store
        .collection(ROLES)?
        .values()
        .find(|r| r["key"] == key)?;
    let name = role["name"].as_str().unwrap_or_default().to_string();
    Some((name, permission_keys(store, role)))
}

/// Clerk's Role: the stored role with its permissions as objects.
pub(crate) fn render_role(store: &Store, role: &Value) -> Value {
    let permissions: Vec<Value> = role["permissions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|id| store.collection(PERMISSIONS)?.get(id.as_str()?).cloned())
        .collect();
    let keys = permission_keys(store, role);
    // Creators must be able to run the organization: manage its profile and its members.
    let creator_eligible = ["org:sys_profile:manage", "org:sys_memberships:manage"]
        .iter()
        .all(|needed| keys.iter().any(|k| k == needed));
    let mut value = role.clone();
    if let Some(map) = value.as_object_mut() {
        map.insert("permissions".into(), Value::Array(permissions));
        map.insert("is_creator_eligible".into(), json!(creator_eligible));
    }
    value
}

fn list_roles(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    ensure_system_roles(store);
    let q = cx.query;
    let (limit, offset) = q.page()?;
    let (field, descending) = q.order_by("-created_at", &["created_at", "name", "key"])?;
    let search = q.text("query").map(|s| s.to_lowercase());
    let roles = store.collection_mut(ROLES).clone();
    let mut matching: Vec<&Value> = roles
        .values()
        .filter(|r| search.as_deref().is_none_or(|s| matches_query(r, s)))
        .collect();
    sort_by_key(
        &mut matching,
        descending,
        |r| sort_key(r, &field),
        |r| r["created_at"].as_i64().unwrap_or(0),
    );
    let total = matching.len();
    let data = page(matching, limit, offset)
        .into_iter()
        .map(|r| render_role(store, r))
        .collect();
    Ok(data_page(data, total))
}

/// Permission IDs from a body's `permissions`, each checked to exist.
fn permission_ids(store: &mut Store, body: &Map<String, Value>) -> Result<Option<Vec<String>>> {
    let ids = match body.get("permissions") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().map(str::to_string).ok_or_else(|| {
                    ApiError::format_invalid(
                        "permissions",
                        "permissions must be an array of strings.".to_string(),
                    )
                })
            })
            .collect::<Result<Vec<String>>>()?,
        Some(_) => {
            return Err(ApiError::format_invalid(
                "permissions",
                "permissions must be an array of strings.".to_string(),
            ));
        }
    };
    let mut unique = Vec::new();
    for id in ids {
        find_permission(store, &id)?;
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    Ok(Some(unique))
}

fn role_key_taken(store: &mut Store, key: &str, except_id: Option<&str>) -> bool {
    store
        .collection_mut(ROLES)
        .values()
        .any(|r| r["key"] == key && r["id"].as_str() != except_id)
}

fn create_role(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let body = &cx.body;
    reject_unknown(
        body,
        &[
            "name",
            "key",
            "description",
            "permissions",
            "include_in_initial_role_set",
        ],
    )?;
    let name = required_string(body, "name")?;
    let key = required_string(body, "key")?;
    check_role_key(&key)?;
    let description = opt_string(body, "description")?;
    let in_initial_set = opt_bool(body, "include_in_initial_role_set")?.unwrap_or(false);
    ensure_system_roles(store);
    let permissions = permission_ids(store, body)?.unwrap_or_default();
    if role_key_taken(store, &key, None) {
        return Err(ApiError::identifier_exists("key", "key"));
    }
    let now = store.now_ms();
    let id = store.new_id("role_");
    let role = json!({
        "object": "role",
        "id": id,
        "name": name,
        "key": key,
        "description": description,
        "permissions": permissions,
        "created_at": now,
        "updated_at": now,
    });
    store.collection_mut(ROLES).insert(id, role.clone());
    if in_initial_set
        && let Some(set) = store
            .collection_mut(ROLE_SETS)
            .values_mut()
            .find(|s| s["type"] == "initial")
        && let Some(Value::Array(keys)) = set.get_mut("roles")
    {
        keys.push(json!(key));
    }
    Ok(render_role(store, &role))
}

fn get_role(store: &mut Store, id: &str) -> Result<Value> {
    let role = stored_role(store, id)?;
    Ok(render_role(store, &role))
}

fn update_role(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    let body = &cx.body;
    let existing = stored_role(store, id)?;
    reject_unknown(body, &["name", "key", "description", "permissions"])?;
    let name = opt_string(body, "name")?;
    if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(ApiError::missing_param("name"));
    }
    let key = opt_string(body, "key")?;
    if let Some(key) = &key {
        check_role_key(key)?;
        if role_key_taken(store, key, Some(id)) {
            return Err(ApiError::identifier_exists("key", "key"));
        }
    }
    let description = opt_string(body, "description")?;
    let permissions = permission_ids(store, body)?;
    let now = store.now_ms();
    let Some(Value::Object(role)) = store.collection_mut(ROLES).get_mut(id) else {
        return Err(ApiError::not_found("organization role", id));
    };
    if let Some(name) = name {
        role.insert("name".into(), json!(name));
    }
    if let Some(key) = &key {
        role.insert("key".into(), json!(key));
    }
    if let Some(description) = description {
        role.insert("description".into(), json!(description));
    }
    if let Some(permissions) = permissions {
        role.insert("permissions".into(), json!(permissions));
    }
    role.insert("updated_at".into(), json!(now));
    let old_key = existing["key"].as_str().unwrap_or_default();
    if let Some(new_key) = key.filter(|k| k != old_key) {
        rename_role_key(store, old_key, &new_key);
    }
    get_role(store, id)
}

/// A role's key changed: whatever names the role by key follows.
fn rename_role_key(store: &mut Store, old: &str, new: &str) {
    for membership in store.memberships.values_mut() {
        if membership.role == old {
            membership.role = new.to_string();
        }
    }
    for invitation in store.organization_invitations.values_mut() {
        if invitation.role == old {
            invitation.role = new.to_string();
        }
    }
    for set in store.collection_mut(ROLE_SETS).values_mut() {
        for field in ["default_role", "creator_role"] {
            if set[field] == old {
                set[field] = json!(new);
            }
        }
        if let Some(Value::Array(keys)) = set.get_mut("roles") {
            for key in keys.iter_mut().filter(|k| *k == old) {
                *key = json!(new);
            }
        }
    }
}

fn role_in_use(code: &'static str, long_message: &str) -> ApiError {
    ApiError::new(400, code, "Role in use", long_message.to_string())
}

fn delete_role(store: &mut Store, id: &str) -> Result<Value> {
    let role = stored_role(store, id)?;
    let key = role["key"].as_str().unwrap_or_default();
    let sets = store.collection_mut(ROLE_SETS);
    if sets.values().any(|s| s["creator_role"] == key) {
        return Err(role_in_use(
            "organization_role_used_as_default_creator_role",
            "The role is the default role of organization creators and cannot be deleted.",
        ));
    }
    if sets.values().any(|s| s["default_role"] == key) {
        return Err(role_in_use(
            "organization_role_used_as_domain_default_role",
            "The role is the default role of new members and cannot be deleted.",
        ));
    }
    if store.memberships.values().any(|m| m.role == key) {
        return Err(role_in_use(
            "organization_role_assigned_to_members",
            "The role is assigned to organization members and cannot be deleted.",
        ));
    }
    if store
        .organization_invitations
        .values()
        .any(|i| i.role == key && i.status == "pending")
    {
        return Err(role_in_use(
            "organization_role_exists_in_invitations",
            "The role is offered by pending organization invitations and cannot be deleted.",
        ));
    }
    let key = key.to_string();
    store.collection_mut(ROLES).shift_remove(id);
    for set in store.collection_mut(ROLE_SETS).values_mut() {
        if let Some(Value::Array(keys)) = set.get_mut("roles") {
            keys.retain(|k| *k != key.as_str());
        }
    }
    Ok(json!({ "object": "role", "id": id, "deleted": true }))
}

fn role_permissions_mut<'a>(store: &'a mut Store, role_id: &str) -> Result<&'a mut Vec<Value>> {
    match store
        .collection_mut(ROLES)
        .get_mut(role_id)
        .and_then(|role| role.get_mut("permissions"))
    {
        Some(Value::Array(ids)) => Ok(ids),
        _ => Err(ApiError::not_found("organization role", role_id)),
    }
}

fn assign_permission(store: &mut Store, role_id: &str, permission_id: &str) -> Result<Value> {
    stored_role(store, role_id)?;
    find_permission(store, permission_id)?;
    let now = store.now_ms();
    let ids = role_permissions_mut(store, role_id)?;
    if ids.iter().any(|p| p == permission_id) {
        return Err(ApiError::new(
            409,
            "duplicate_record",
            "duplicate permission",
            format!("The role already has permission {permission_id}."),
        ));
    }
    ids.push(json!(permission_id));
    touch(store, role_id, now);
    get_role(store, role_id)
}

fn remove_permission(store: &mut Store, role_id: &str, permission_id: &str) -> Result<Value> {
    stored_role(store, role_id)?;
    find_permission(store, permission_id)?;
    let now = store.now_ms();
    let ids = role_permissions_mut(store, role_id)?;
    let before = ids.len();
    ids.retain(|p| p != permission_id);
    if ids.len() == before {
        return Err(ApiError::new(
            404,
            "resource_not_found",
            "not found",
            format!("The role does not have permission {permission_id}"),
        ));
    }
    touch(store, role_id, now);
    get_role(store, role_id)
}

fn touch(store: &mut Store, role_id: &str, now: i64) {
    if let Some(role) = store.collection_mut(ROLES).get_mut(role_id) {
        role["updated_at"] = json!(now);
    }
}
