//! Role sets (by key or ID): list, create, get, update, replace (retire into another set), add
//! roles, and replace one role by another. Sets are kept as Clerk renders them except that
//! `roles`, `default_role` and `creator_role` hold role keys; organizations name their set by key
//! (`role_set_key`, none for the initial set).

use serde_json::{Map, Value, json};

use super::organization_permissions::{matches_query, sort_key};
use super::organization_roles::{ROLE_SETS, ensure_system_roles, role_by_key};
use super::{
    Result, Route, data_page, opt_object, opt_string, page, reject_unknown, required_string,
    sort_by_key,
};
use crate::api::{ApiError, Context};
use crate::store::Store;

/// The role set operations served here.
pub(crate) const ROUTES: &[Route] = &[
    Route::new("GET", "/role_sets", |store, cx, _| {
        list_role_sets(store, cx)
    }),
    Route::new("POST", "/role_sets", |store, cx, _| {
        create_role_set(store, cx)
    }),
    Route::new("GET", "/role_sets/{role_set_key_or_id}", |store, _, p| {
        get_role_set(store, p.at(0))
    }),
    Route::new(
        "PATCH",
        "/role_sets/{role_set_key_or_id}",
        |store, cx, p| update_role_set(store, cx, p.at(0)),
    ),
    Route::new(
        "POST",
        "/role_sets/{role_set_key_or_id}/replace",
        |store, cx, p| replace_role_set(store, cx, p.at(0)),
    ),
    Route::new(
        "POST",
        "/role_sets/{role_set_key_or_id}/roles",
        |store, cx, p| add_roles(store, cx, p.at(0)),
    ),
    Route::new(
        "POST",
        "/role_sets/{role_set_key_or_id}/roles/replace",
        |store, cx, p| replace_role(store, cx, p.at(0)),
    ),
];

const MAX_ROLES: usize = 10;

/// The stored set's ID, found by ID or key.
fn role_set_id(store: &mut Store, key_or_id: &str) -> Result<String> {
    ensure_system_roles(store);
    let sets = store.collection_mut(ROLE_SETS);
    if sets.contains_key(key_or_id) {
        return Ok(key_or_id.to_string());
    }
    sets.values()
        .find(|s| s["key"] == key_or_id)
        .and_then(|s| s["id"].as_str().map(str::to_string))
        .ok_or_else(|| ApiError::not_found("role set", key_or_id))
}

fn stored_set(store: &mut Store, id: &str) -> Result<Value> {
    store
        .collection_mut(ROLE_SETS)
        .get(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("role set", id))
}

fn role_keys(set: &Value) -> Vec<String> {
    set["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect()
}

/// The organizations using a set: those naming its key, and for the initial set those naming
/// none.
fn organizations_using(store: &Store, set: &Value) -> Vec<String> {
    let key = set["key"].as_str().unwrap_or_default();
    let initial = set["type"] == "initial";
    store
        .organizations
        .values()
        .filter(|o| match &o.role_set_key {
            Some(k) => k == key,
            None => initial,
        })
        .map(|o| o.id.clone())
        .collect()
}

/// Clerk's RoleSetItem for one role key of a set.
fn item(store: &mut Store, key: &str, organizations: &[String]) -> Value {
    let role = role_by_key(store, key).unwrap_or_else(|| json!({ "key": key, "name": key }));
    let members = store
        .memberships
        .values()
        .filter(|m| m.role == key && organizations.contains(&m.organization_id))
        .count();
    json!({
        "object": "role_set_item",
        "id": role["id"],
        "name": role["name"],
        "key": key,
        "description": role["description"],
        "members_count": members,
        "has_members": members > 0,
        "created_at": role["created_at"],
        "updated_at": role["updated_at"],
    })
}

fn render_set(store: &mut Store, set: &Value) -> Value {
    let organizations = organizations_using(store, set);
    let roles: Vec<Value> = role_keys(set)
        .iter()
        .map(|key| item(store, key, &organizations))
        .collect();
    let pick = |field: &str| {
        roles
            .iter()
            .find(|r| r["key"] == set[field])
            .cloned()
            .unwrap_or(Value::Null)
    };
    let (default_role, creator_role) = (pick("default_role"), pick("creator_role"));
    let mut value = set.clone();
    if let Some(map) = value.as_object_mut() {
        map.insert("roles".into(), Value::Array(roles));
        map.insert("default_role".into(), default_role);
        map.insert("creator_role".into(), creator_role);
        map.insert("role_set_migration".into(), Value::Null);
    }
    value
}

fn list_role_sets(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    ensure_system_roles(store);
    let q = cx.query;
    let (limit, offset) = q.page()?;
    let (field, descending) = q.order_by("-created_at", &["created_at", "name", "key"])?;
    let search = q.text("query").map(|s| s.to_lowercase());
    let sets = store.collection_mut(ROLE_SETS).clone();
    let mut matching: Vec<&Value> = sets
        .values()
        .filter(|s| search.as_deref().is_none_or(|q| matches_query(s, q)))
        .collect();
    sort_by_key(
        &mut matching,
        descending,
        |s| sort_key(s, &field),
        |s| s["created_at"].as_i64().unwrap_or(0),
    );
    let total = matching.len();
    let data = page(matching, limit, offset)
        .into_iter()
        .map(|s| render_set(store, s))
        .collect();
    Ok(data_page(data, total))
}

/// `role_set:` then lower-case letters, digits and underscores.
fn check_set_key(key: &str) -> Result<()> {
    let valid = key.strip_prefix("role_set:").is_some_and(|rest| {
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
            "key must start with role_set: followed by lowercase alphanumeric characters and underscores.".to_string(),
        ))
    }
}

/// `Support teams` → `role_set:support_teams`.
fn key_from_name(name: &str) -> String {
    let mut key = String::from("role_set:");
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            key.push(c);
        } else if !key.ends_with(['_', ':']) {
            key.push('_');
        }
    }
    key.trim_end_matches('_').to_string()
}

fn set_key_taken(store: &mut Store, key: &str, except_id: Option<&str>) -> bool {
    store
        .collection_mut(ROLE_SETS)
        .values()
        .any(|s| s["key"] == key && s["id"].as_str() != except_id)
}

/// A list of role keys from the body: 1 to 10, each an existing role, no repeats.
fn role_key_list(store: &mut Store, body: &Map<String, Value>, param: &str) -> Result<Vec<String>> {
    let Some(Value::Array(items)) = body.get(param) else {
        return match body.get(param) {
            None | Some(Value::Null) => Err(ApiError::missing_param(param)),
            Some(_) => Err(ApiError::format_invalid(
                param,
                format!("{param} must be an array of role keys."),
            )),
        };
    };
    let mut keys: Vec<String> = Vec::new();
    for item in items {
        let key = item.as_str().ok_or_else(|| {
            ApiError::format_invalid(param, format!("{param} must be an array of role keys."))
        })?;
        if role_by_key(store, key).is_none() {
            return Err(ApiError::not_found("organization role", key));
        }
        if !keys.iter().any(|k| k == key) {
            keys.push(key.to_string());
        }
    }
    if keys.is_empty() || keys.len() > MAX_ROLES {
        return Err(ApiError::format_invalid(
            param,
            format!("{param} must contain between 1 and {MAX_ROLES} roles."),
        ));
    }
    Ok(keys)
}

fn must_be_in(param: &str, key: &str, keys: &[String]) -> Result<()> {
    if keys.iter().any(|k| k == key) {
        Ok(())
    } else {
        Err(ApiError::value_invalid(param, key))
    }
}

/// Only one set is initial: the others become custom.
fn demote_other_initial_sets(store: &mut Store, except_id: &str) {
    for set in store.collection_mut(ROLE_SETS).values_mut() {
        if set["id"] != except_id && set["type"] == "initial" {
            set["type"] = json!("custom");
        }
    }
}

fn create_role_set(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let body = &cx.body;
    reject_unknown(
        body,
        &[
            "name",
            "key",
            "description",
            "default_role_key",
            "creator_role_key",
            "type",
            "roles",
        ],
    )?;
    let name = required_string(body, "name")?;
    let default_role = required_string(body, "default_role_key")?;
    let creator_role = required_string(body, "creator_role_key")?;
    let description = opt_string(body, "description")?;
    let kind = opt_string(body, "type")?.unwrap_or_else(|| "custom".to_string());
    if !["initial", "custom"].contains(&kind.as_str()) {
        return Err(ApiError::value_invalid("type", &kind));
    }
    let key = match opt_string(body, "key")? {
        Some(key) => key,
        None => key_from_name(&name),
    };
    check_set_key(&key)?;
    ensure_system_roles(store);
    let roles = role_key_list(store, body, "roles")?;
    must_be_in("default_role_key", &default_role, &roles)?;
    must_be_in("creator_role_key", &creator_role, &roles)?;
    if set_key_taken(store, &key, None) {
        return Err(ApiError::identifier_exists("key", "key"));
    }
    let now = store.now_ms();
    let id = store.new_id("rs_");
    let set = json!({
        "object": "role_set",
        "id": id,
        "name": name,
        "key": key,
        "description": description,
        "roles": roles,
        "default_role": default_role,
        "creator_role": creator_role,
        "type": kind,
        "created_at": now,
        "updated_at": now,
    });
    store.collection_mut(ROLE_SETS).insert(id.clone(), set);
    if kind == "initial" {
        demote_other_initial_sets(store, &id);
    }
    get_role_set(store, &id)
}

fn get_role_set(store: &mut Store, key_or_id: &str) -> Result<Value> {
    let id = role_set_id(store, key_or_id)?;
    let set = stored_set(store, &id)?;
    Ok(render_set(store, &set))
}

fn update_role_set(store: &mut Store, cx: &Context<'_>, key_or_id: &str) -> Result<Value> {
    let body = &cx.body;
    let id = role_set_id(store, key_or_id)?;
    let existing = stored_set(store, &id)?;
    reject_unknown(
        body,
        &[
            "name",
            "key",
            "description",
            "type",
            "default_role_key",
            "creator_role_key",
        ],
    )?;
    let name = opt_string(body, "name")?;
    if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(ApiError::missing_param("name"));
    }
    let key = opt_string(body, "key")?;
    if let Some(key) = &key {
        check_set_key(key)?;
        if set_key_taken(store, key, Some(&id)) {
            return Err(ApiError::identifier_exists("key", "key"));
        }
    }
    let description = opt_string(body, "description")?;
    let kind = opt_string(body, "type")?;
    if let Some(kind) = &kind
        && kind != "initial"
    {
        return Err(ApiError::value_invalid("type", kind));
    }
    let roles = role_keys(&existing);
    let default_role = opt_string(body, "default_role_key")?;
    if let Some(role) = &default_role {
        must_be_in("default_role_key", role, &roles)?;
    }
    let creator_role = opt_string(body, "creator_role_key")?;
    if let Some(role) = &creator_role {
        must_be_in("creator_role_key", role, &roles)?;
    }
    let now = store.now_ms();
    let old_key = existing["key"].as_str().unwrap_or_default().to_string();
    let Some(Value::Object(set)) = store.collection_mut(ROLE_SETS).get_mut(&id) else {
        return Err(ApiError::not_found("role set", key_or_id));
    };
    for (field, value) in [
        ("name", name),
        ("key", key.clone()),
        ("description", description),
        ("type", kind.clone()),
        ("default_role", default_role),
        ("creator_role", creator_role),
    ] {
        if let Some(value) = value {
            set.insert(field.into(), json!(value));
        }
    }
    set.insert("updated_at".into(), json!(now));
    if kind.is_some() {
        demote_other_initial_sets(store, &id);
    }
    if let Some(new_key) = key.filter(|k| *k != old_key) {
        for organization in store.organizations.values_mut() {
            if organization.role_set_key.as_deref() == Some(old_key.as_str()) {
                organization.role_set_key = Some(new_key.clone());
            }
        }
    }
    get_role_set(store, &id)
}

/// Gives every member of `organizations` holding `from` the role `to`.
fn reassign_members(store: &mut Store, organizations: &[String], from: &str, to: &str) {
    for membership in store.memberships.values_mut() {
        if membership.role == from && organizations.contains(&membership.organization_id) {
            membership.role = to.to_string();
        }
    }
}

fn replace_role_set(store: &mut Store, cx: &Context<'_>, key_or_id: &str) -> Result<Value> {
    let body = &cx.body;
    reject_unknown(body, &["dest_role_set_key", "reassignment_mappings"])?;
    let id = role_set_id(store, key_or_id)?;
    let source = stored_set(store, &id)?;
    let dest_key = required_string(body, "dest_role_set_key")?;
    let mappings = opt_object(body, "reassignment_mappings")?.unwrap_or_default();
    let dest_id = role_set_id(store, &dest_key)?;
    if dest_id == id {
        return Err(ApiError::value_invalid("dest_role_set_key", &dest_key));
    }
    if source["type"] == "initial" {
        return Err(ApiError::new(
            422,
            "form_param_value_invalid",
            "is invalid",
            "The initial role set cannot be replaced; make another set initial first.".to_string(),
        ));
    }
    let dest = stored_set(store, &dest_id)?;
    let dest_roles = role_keys(&dest);
    let organizations = organizations_using(store, &source);
    // Every role members hold that the destination lacks needs a mapping into it.
    let mut moves: Vec<(String, String)> = Vec::new();
    for membership in store.memberships.values() {
        if !organizations.contains(&membership.organization_id)
            || dest_roles.contains(&membership.role)
            || moves.iter().any(|(from, _)| *from == membership.role)
        {
            continue;
        }
        let target = mappings
            .get(&membership.role)
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ApiError::new(
                    422,
                    "form_param_missing",
                    "missing data",
                    format!(
                        "reassignment_mappings must map role {} to a role of {dest_key}.",
                        membership.role
                    ),
                )
                .with_param("reassignment_mappings")
            })?;
        must_be_in("reassignment_mappings", target, &dest_roles)?;
        moves.push((membership.role.clone(), target.to_string()));
    }
    for (from, to) in &moves {
        reassign_members(store, &organizations, from, to);
    }
    let dest_key = dest["key"].as_str().unwrap_or_default().to_string();
    for organization in store.organizations.values_mut() {
        if organizations.contains(&organization.id) {
            organization.role_set_key = Some(dest_key.clone());
        }
    }
    store.collection_mut(ROLE_SETS).shift_remove(&id);
    Ok(json!({ "object": "role_set", "id": id, "deleted": true }))
}

fn add_roles(store: &mut Store, cx: &Context<'_>, key_or_id: &str) -> Result<Value> {
    let body = &cx.body;
    reject_unknown(body, &["role_keys", "default_role_key", "creator_role_key"])?;
    let id = role_set_id(store, key_or_id)?;
    let existing = stored_set(store, &id)?;
    let added = role_key_list(store, body, "role_keys")?;
    let mut roles = role_keys(&existing);
    if let Some(already) = added.iter().find(|k| roles.contains(k)) {
        return Err(ApiError::new(
            422,
            "form_param_value_invalid",
            "is invalid",
            format!("Role {already} is already in the role set."),
        )
        .with_param("role_keys"));
    }
    roles.extend(added.iter().cloned());
    if roles.len() > MAX_ROLES {
        return Err(ApiError::format_invalid(
            "role_keys",
            format!("A role set holds at most {MAX_ROLES} roles."),
        ));
    }
    let default_role = opt_string(body, "default_role_key")?;
    if let Some(role) = &default_role {
        must_be_in("default_role_key", role, &added)?;
    }
    let creator_role = opt_string(body, "creator_role_key")?;
    if let Some(role) = &creator_role {
        must_be_in("creator_role_key", role, &added)?;
    }
    let now = store.now_ms();
    if let Some(set) = store.collection_mut(ROLE_SETS).get_mut(&id) {
        set["roles"] = json!(roles);
        if let Some(role) = default_role {
            set["default_role"] = json!(role);
        }
        if let Some(role) = creator_role {
            set["creator_role"] = json!(role);
        }
        set["updated_at"] = json!(now);
    }
    get_role_set(store, &id)
}

fn replace_role(store: &mut Store, cx: &Context<'_>, key_or_id: &str) -> Result<Value> {
    let body = &cx.body;
    reject_unknown(body, &["role_key", "to_role_key"])?;
    let id = role_set_id(store, key_or_id)?;
    let existing = stored_set(store, &id)?;
    let role_key = required_string(body, "role_key")?;
    let to_role_key = required_string(body, "to_role_key")?;
    let mut roles = role_keys(&existing);
    must_be_in("role_key", &role_key, &roles)?;
    must_be_in("to_role_key", &to_role_key, &roles)?;
    if role_key == to_role_key {
        return Err(ApiError::value_invalid("to_role_key", &to_role_key));
    }
    let organizations = organizations_using(store, &existing);
    reassign_members(store, &organizations, &role_key, &to_role_key);
    roles.retain(|k| *k != role_key);
    let now = store.now_ms();
    if let Some(set) = store.collection_mut(ROLE_SETS).get_mut(&id) {
        set["roles"] = json!(roles);
        for field in ["default_role", "creator_role"] {
            if set[field] == role_key.as_str() {
                set[field] = json!(to_role_key);
            }
        }
        set["updated_at"] = json!(now);
    }
    get_role_set(store, &id)
}
