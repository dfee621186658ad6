//! Users: list, count, get, create, update, metadata (merged or replaced), delete, ban/unban
//! (one user or many) and lock/unlock.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::{
    Result, Route, UserFilter, check_email, email_taken, find_user, opt_bool, opt_int, opt_object,
    opt_string, opt_timestamp, page, reject_unknown, sort_by_key, user_sort_key, wrong_type,
};
use crate::api::{ApiError, Context};
use crate::store::{Identification, Store, User, merge_metadata};

/// The user operations served here.
pub(crate) const ROUTES: &[Route] = &[
    Route::new("GET", "/users", |store, cx, _| list_users(store, cx)),
    Route::new("POST", "/users", |store, cx, _| create_user(store, cx)),
    Route::new("GET", "/users/count", |store, cx, _| count_users(store, cx)),
    Route::new("GET", "/users/{user_id}", |store, _, p| {
        get_user(store, p.at(0))
    }),
    Route::new("PATCH", "/users/{user_id}", |store, cx, p| {
        update_user(store, cx, p.at(0))
    }),
    Route::new("DELETE", "/users/{user_id}", |store, _, p| {
        delete_user(store, p.at(0))
    }),
    Route::new("PATCH", "/users/{user_id}/metadata", |store, cx, p| {
        update_user_metadata(store, cx, p.at(0))
    }),
    Route::new("PUT", "/users/{user_id}/metadata", |store, cx, p| {
        replace_user_metadata(store, cx, p.at(0))
    }),
    Route::new("POST", "/users/ban", |store, cx, _| {
        users_action(store, cx, "ban")
    }),
    Route::new("POST", "/users/unban", |store, cx, _| {
        users_action(store, cx, "unban")
    }),
    Route::new("POST", "/users/{user_id}/ban", |store, _, p| {
        user_action(store, p.at(0), "ban")
    }),
    Route::new("POST", "/users/{user_id}/unban", |store, _, p| {
        user_action(store, p.at(0), "unban")
    }),
    Route::new("POST", "/users/{user_id}/lock", |store, _, p| {
        user_action(store, p.at(0), "lock")
    }),
    Route::new("POST", "/users/{user_id}/unlock", |store, _, p| {
        user_action(store, p.at(0), "unlock")
    }),
];

/// An array of strings; a lone string counts as a one-item array.
fn string_list(body: &Map<String, Value>, key: &str) -> Result<Vec<String>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| wrong_type(key, "an array of strings"))
            })
            .collect(),
        Some(_) => Err(wrong_type(key, "an array of strings")),
    }
}

pub(crate) fn check_phone(value: &str) -> Result<()> {
    let digits = value.strip_prefix('+').unwrap_or("");
    if digits.len() >= 7 && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ApiError::format_invalid(
            "phone_number",
            "phone_number must be a valid phone number in E.164 format, for example +15555550100."
                .to_string(),
        ))
    }
}

fn check_password(password: &str, skip_checks: bool) -> Result<()> {
    if skip_checks {
        return Ok(());
    }
    let length = password.chars().count();
    if length < 8 {
        return Err(ApiError::new(
            422,
            "form_password_length_too_short",
            "Passwords must be 8 characters or more.",
            "Passwords must be 8 characters or more.".to_string(),
        )
        .with_param("password"));
    }
    if length > 72 {
        return Err(ApiError::new(
            422,
            "form_password_length_too_long",
            "Passwords must be 72 characters or fewer.",
            "Passwords must be 72 characters or fewer.".to_string(),
        )
        .with_param("password"));
    }
    Ok(())
}

const USER_ORDER_FIELDS: &[&str] = &[
    "created_at",
    "updated_at",
    "email_address",
    "web3wallet",
    "first_name",
    "last_name",
    "phone_number",
    "username",
    "last_active_at",
    "last_sign_in_at",
];

fn user_mut<'a>(store: &'a mut Store, id: &str) -> Result<&'a mut User> {
    store
        .users
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("user", id))
}

fn user_value(store: &Store, id: &str) -> Result<Value> {
    find_user(store, id).map(|user| store.user_json(user))
}

pub(crate) fn list_users(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let q = cx.query;
    let filter = UserFilter::from_query(q)?;
    let (limit, offset) = q.page()?;
    let (field, descending) = q.order_by("-created_at", USER_ORDER_FIELDS)?;
    let mut users: Vec<&User> = store
        .users
        .values()
        .filter(|u| filter.matches(store, u))
        .collect();
    sort_by_key(
        &mut users,
        descending,
        |u| user_sort_key(u, &field),
        |u| u.created_at,
    );
    let mut skip = offset;
    if let Some(cursor) = q.text("starting_after") {
        if field != "created_at" || offset != 0 {
            return Err(ApiError::format_invalid(
                "starting_after",
                "starting_after can only be used with created_at ordering and without offset."
                    .to_string(),
            ));
        }
        let position = users.iter().position(|u| u.id == cursor).ok_or_else(|| {
            ApiError::format_invalid(
                "starting_after",
                format!("starting_after {cursor} is not a user matching these filters."),
            )
        })?;
        skip = position + 1;
    }
    let page: Vec<Value> = page(users, limit, skip)
        .into_iter()
        .map(|u| store.user_json(u))
        .collect();
    Ok(Value::Array(page))
}

pub(crate) fn count_users(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let filter = UserFilter::from_query(cx.query)?;
    let total = store
        .users
        .values()
        .filter(|u| filter.matches(store, u))
        .count();
    Ok(json!({ "object": "total_count", "total_count": total }))
}

pub(crate) fn get_user(store: &mut Store, id: &str) -> Result<Value> {
    user_value(store, id)
}

const CREATE_USER_FIELDS: &[&str] = &[
    "external_id",
    "first_name",
    "last_name",
    "locale",
    "email_address",
    "email_address_identification_status",
    "phone_number",
    "phone_number_identification_status",
    "web3_wallet",
    "username",
    "password",
    "password_digest",
    "password_hasher",
    "skip_password_checks",
    "skip_password_requirement",
    "totp_secret",
    "backup_codes",
    "public_metadata",
    "private_metadata",
    "unsafe_metadata",
    "delete_self_enabled",
    "legal_accepted_at",
    "skip_legal_checks",
    "skip_user_requirement",
    "create_organization_enabled",
    "create_organizations_limit",
    "created_at",
    "bypass_client_trust",
    "banned",
    "locked",
];

/// Statuses for identifications; missing entries are `verified`.
fn identification_statuses(body: &Map<String, Value>, key: &str) -> Result<Vec<bool>> {
    string_list(body, key)?
        .into_iter()
        .map(|status| match status.as_str() {
            "verified" => Ok(false),
            "reserved" => Ok(true),
            other => Err(ApiError::value_invalid(key, other)),
        })
        .collect()
}

fn check_unique_user_fields(
    store: &Store,
    except_user: Option<&str>,
    username: Option<&str>,
    external_id: Option<&str>,
) -> Result<()> {
    let others = || {
        store
            .users
            .values()
            .filter(move |u| Some(u.id.as_str()) != except_user)
    };
    if let Some(username) = username {
        let wanted = username.to_lowercase();
        if others().any(|u| {
            u.username
                .as_deref()
                .is_some_and(|n| n.to_lowercase() == wanted)
        }) {
            return Err(ApiError::identifier_exists("username", "username"));
        }
    }
    if let Some(external_id) = external_id
        && others().any(|u| u.external_id.as_deref() == Some(external_id))
    {
        return Err(ApiError::identifier_exists("external_id", "external ID"));
    }
    Ok(())
}

/// Builds identifications from values, refusing duplicates in the request and in the store.
fn new_identifications(
    store: &mut Store,
    param: &str,
    what: &str,
    values: &[String],
    reserved: &[bool],
    taken: impl Fn(&Store, &str) -> bool,
) -> Result<Vec<Identification>> {
    let mut seen = HashSet::new();
    for value in values {
        if !seen.insert(value.to_lowercase()) || taken(store, value) {
            return Err(ApiError::identifier_exists(param, what));
        }
    }
    Ok(values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            store.new_identification(value, reserved.get(i).copied().unwrap_or(false))
        })
        .collect())
}

fn first_verified(identifications: &[Identification]) -> Option<String> {
    identifications
        .iter()
        .find(|i| i.is_verified())
        .map(|i| i.id.clone())
}

pub(crate) fn create_user(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let body = &cx.body;
    reject_unknown(body, CREATE_USER_FIELDS)?;
    let emails = string_list(body, "email_address")?;
    let phones = string_list(body, "phone_number")?;
    let wallets = string_list(body, "web3_wallet")?;
    let email_reserved = identification_statuses(body, "email_address_identification_status")?;
    let phone_reserved = identification_statuses(body, "phone_number_identification_status")?;
    for email in &emails {
        check_email("email_address", email)?;
    }
    for phone in &phones {
        check_phone(phone)?;
    }
    let username = opt_string(body, "username")?.filter(|u| !u.is_empty());
    let external_id = opt_string(body, "external_id")?.filter(|e| !e.is_empty());
    let skip_checks = opt_bool(body, "skip_password_checks")?.unwrap_or(false);
    let password = opt_string(body, "password")?;
    if let Some(password) = &password {
        check_password(password, skip_checks)?;
    }
    let password_digest = opt_string(body, "password_digest")?;
    let password_hasher = opt_string(body, "password_hasher")?;
    if password_digest.is_some() && password_hasher.is_none() {
        return Err(ApiError::missing_param("password_hasher"));
    }
    let totp_secret = opt_string(body, "totp_secret")?;
    let backup_codes = string_list(body, "backup_codes")?;
    let public_metadata = opt_object(body, "public_metadata")?;
    let private_metadata = opt_object(body, "private_metadata")?;
    let unsafe_metadata = opt_object(body, "unsafe_metadata")?;
    let first_name = opt_string(body, "first_name")?;
    let last_name = opt_string(body, "last_name")?;
    let locale = opt_string(body, "locale")?;
    let delete_self_enabled = opt_bool(body, "delete_self_enabled")?;
    let create_organization_enabled = opt_bool(body, "create_organization_enabled")?;
    let create_organizations_limit = opt_int(body, "create_organizations_limit")?;
    let legal_accepted_at = opt_timestamp(body, "legal_accepted_at")?;
    let created_at = opt_timestamp(body, "created_at")?;
    let bypass_client_trust = opt_bool(body, "bypass_client_trust")?;
    let banned = opt_bool(body, "banned")?;
    let locked = opt_bool(body, "locked")?;
    for flag in [
        "skip_password_requirement",
        "skip_legal_checks",
        "skip_user_requirement",
    ] {
        opt_bool(body, flag)?;
    }
    check_unique_user_fields(store, None, username.as_deref(), external_id.as_deref())?;
    let email_ids = new_identifications(
        store,
        "email_address",
        "email address",
        &emails,
        &email_reserved,
        |s, v| email_taken(s, v, None),
    )?;
    let phone_ids = new_identifications(
        store,
        "phone_number",
        "phone number",
        &phones,
        &phone_reserved,
        |s, v| {
            s.users
                .values()
                .any(|u| u.phones.iter().any(|p| p.value == v))
        },
    )?;
    let wallet_ids = new_identifications(
        store,
        "web3_wallet",
        "web3 wallet",
        &wallets,
        &[],
        |s, v| {
            let v = v.to_lowercase();
            s.users
                .values()
                .any(|u| u.web3_wallets.iter().any(|w| w.value.to_lowercase() == v))
        },
    )?;

    let mut user = store.blank_user();
    let now = user.created_at;
    user.primary_email_address_id = first_verified(&email_ids);
    user.primary_phone_number_id = first_verified(&phone_ids);
    user.primary_web3_wallet_id = first_verified(&wallet_ids);
    user.emails = email_ids;
    user.phones = phone_ids;
    user.web3_wallets = wallet_ids;
    user.username = username;
    user.external_id = external_id;
    user.first_name = first_name;
    user.last_name = last_name;
    user.locale = locale;
    user.public_metadata = public_metadata.unwrap_or_default();
    user.private_metadata = private_metadata.unwrap_or_default();
    user.unsafe_metadata = unsafe_metadata.unwrap_or_default();
    if password.is_some() || password_digest.is_some() {
        user.password_enabled = true;
        user.password_last_updated_at = Some(now);
        user.password = password;
    }
    if totp_secret.is_some() {
        user.totp_enabled = true;
    }
    if !backup_codes.is_empty() {
        user.backup_code_enabled = true;
        user.backup_codes = backup_codes;
    }
    if user.totp_enabled || user.backup_code_enabled {
        user.mfa_enabled_at = Some(now);
    }
    user.delete_self_enabled = delete_self_enabled.unwrap_or(true);
    user.create_organization_enabled = create_organization_enabled.unwrap_or(true);
    user.create_organizations_limit = create_organizations_limit;
    user.legal_accepted_at = legal_accepted_at;
    user.bypass_client_trust = bypass_client_trust.unwrap_or(false);
    user.banned = banned.unwrap_or(false);
    user.locked = locked.unwrap_or(false);
    if let Some(created_at) = created_at {
        user.created_at = created_at;
    }
    let value = store.user_json(&user);
    store.users.insert(user.id.clone(), user);
    Ok(value)
}

const UPDATE_USER_FIELDS: &[&str] = &[
    "external_id",
    "first_name",
    "last_name",
    "locale",
    "primary_email_address_id",
    "notify_primary_email_address_changed",
    "primary_phone_number_id",
    "primary_web3_wallet_id",
    "username",
    "profile_image_id",
    "password",
    "password_digest",
    "password_hasher",
    "skip_password_checks",
    "sign_out_of_other_sessions",
    "totp_secret",
    "backup_codes",
    "delete_self_enabled",
    "create_organization_enabled",
    "legal_accepted_at",
    "skip_legal_checks",
    "create_organizations_limit",
    "created_at",
    "bypass_client_trust",
];

const USER_METADATA_FIELDS: &[&str] = &["public_metadata", "private_metadata", "unsafe_metadata"];

fn check_primary(
    identifications: &[Identification],
    body: &Map<String, Value>,
    key: &str,
) -> Result<Option<String>> {
    let Some(id) = opt_string(body, key)? else {
        return Ok(None);
    };
    if identifications
        .iter()
        .any(|i| i.id == id && i.is_verified())
    {
        Ok(Some(id))
    } else {
        Err(ApiError::format_invalid(
            key,
            format!("{key} must be the ID of one of this user's verified identifications."),
        ))
    }
}

pub(crate) fn update_user(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    let body = &cx.body;
    find_user(store, id)?;
    if cx.legacy_metadata_allowed {
        let allowed: Vec<&str> = UPDATE_USER_FIELDS
            .iter()
            .chain(USER_METADATA_FIELDS)
            .copied()
            .collect();
        reject_unknown(body, &allowed)?;
    } else {
        reject_unknown(body, UPDATE_USER_FIELDS)?;
    }
    let user = find_user(store, id)?;
    let primary_email = check_primary(&user.emails, body, "primary_email_address_id")?;
    let primary_phone = check_primary(&user.phones, body, "primary_phone_number_id")?;
    let primary_wallet = check_primary(&user.web3_wallets, body, "primary_web3_wallet_id")?;
    // `null` or "" removes the username; absent leaves it.
    let username = match body.get("username") {
        None => None,
        Some(_) => Some(opt_string(body, "username")?.filter(|u| !u.is_empty())),
    };
    let external_id = match body.get("external_id") {
        None => None,
        Some(_) => Some(opt_string(body, "external_id")?.filter(|e| !e.is_empty())),
    };
    check_unique_user_fields(
        store,
        Some(id),
        username.as_ref().and_then(|u| u.as_deref()),
        external_id.as_ref().and_then(|e| e.as_deref()),
    )?;
    let skip_checks = opt_bool(body, "skip_password_checks")?.unwrap_or(false);
    let password = opt_string(body, "password")?;
    if let Some(password) = &password {
        check_password(password, skip_checks)?;
    }
    let password_digest = opt_string(body, "password_digest")?;
    if password_digest.is_some() && opt_string(body, "password_hasher")?.is_none() {
        return Err(ApiError::missing_param("password_hasher"));
    }
    let first_name = body
        .get("first_name")
        .map(|_| opt_string(body, "first_name"))
        .transpose()?;
    let last_name = body
        .get("last_name")
        .map(|_| opt_string(body, "last_name"))
        .transpose()?;
    let locale = body
        .get("locale")
        .map(|_| opt_string(body, "locale"))
        .transpose()?;
    let totp_secret = opt_string(body, "totp_secret")?;
    let backup_codes = string_list(body, "backup_codes")?;
    let delete_self_enabled = opt_bool(body, "delete_self_enabled")?;
    let create_organization_enabled = opt_bool(body, "create_organization_enabled")?;
    let create_organizations_limit = opt_int(body, "create_organizations_limit")?;
    let legal_accepted_at = opt_timestamp(body, "legal_accepted_at")?;
    let created_at = opt_timestamp(body, "created_at")?;
    let bypass_client_trust = opt_bool(body, "bypass_client_trust")?;
    let sign_out = opt_bool(body, "sign_out_of_other_sessions")?.unwrap_or(false);
    for flag in ["notify_primary_email_address_changed", "skip_legal_checks"] {
        opt_bool(body, flag)?;
    }
    for text in ["profile_image_id", "password_hasher"] {
        opt_string(body, text)?;
    }
    let mut metadata = Vec::new();
    if cx.legacy_metadata_allowed {
        for key in USER_METADATA_FIELDS {
            if let Some(map) = opt_object(body, key)? {
                metadata.push((*key, map));
            }
        }
    }

    let now = store.now_ms();
    let user = user_mut(store, id)?;
    if let Some(value) = primary_email {
        user.primary_email_address_id = Some(value);
    }
    if let Some(value) = primary_phone {
        user.primary_phone_number_id = Some(value);
    }
    if let Some(value) = primary_wallet {
        user.primary_web3_wallet_id = Some(value);
    }
    if let Some(value) = username {
        user.username = value;
    }
    if let Some(value) = external_id {
        user.external_id = value;
    }
    if let Some(value) = first_name {
        user.first_name = value;
    }
    if let Some(value) = last_name {
        user.last_name = value;
    }
    if let Some(value) = locale {
        user.locale = value;
    }
    if password.is_some() || password_digest.is_some() {
        user.password_enabled = true;
        user.password_last_updated_at = Some(now);
        user.password = password;
        user.password_compromised = false;
    }
    if totp_secret.is_some() {
        user.totp_enabled = true;
        user.mfa_enabled_at = Some(now);
    }
    if !backup_codes.is_empty() {
        user.backup_code_enabled = true;
        user.backup_codes = backup_codes;
        user.mfa_enabled_at = Some(now);
    }
    if let Some(value) = delete_self_enabled {
        user.delete_self_enabled = value;
    }
    if let Some(value) = create_organization_enabled {
        user.create_organization_enabled = value;
    }
    if body.contains_key("create_organizations_limit") {
        user.create_organizations_limit = create_organizations_limit;
    }
    if let Some(value) = legal_accepted_at {
        user.legal_accepted_at = Some(value);
    }
    if let Some(value) = created_at {
        user.created_at = value;
    }
    if let Some(value) = bypass_client_trust {
        user.bypass_client_trust = value;
    }
    for (key, map) in metadata {
        match key {
            "public_metadata" => user.public_metadata = map,
            "private_metadata" => user.private_metadata = map,
            _ => user.unsafe_metadata = map,
        }
    }
    user.updated_at = now;
    if sign_out {
        revoke_sessions_of(store, id, now);
    }
    user_value(store, id)
}

pub(crate) fn update_user_metadata(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    find_user(store, id)?;
    let body = &cx.body;
    reject_unknown(body, USER_METADATA_FIELDS)?;
    let public = opt_object(body, "public_metadata")?;
    let private = opt_object(body, "private_metadata")?;
    let unsafe_ = opt_object(body, "unsafe_metadata")?;
    let now = store.now_ms();
    let user = user_mut(store, id)?;
    if let Some(patch) = public {
        merge_metadata(&mut user.public_metadata, &patch);
    }
    if let Some(patch) = private {
        merge_metadata(&mut user.private_metadata, &patch);
    }
    if let Some(patch) = unsafe_ {
        merge_metadata(&mut user.unsafe_metadata, &patch);
    }
    user.updated_at = now;
    user_value(store, id)
}

/// Each metadata field given replaces the user's whole field; fields left out are kept.
pub(crate) fn replace_user_metadata(
    store: &mut Store,
    cx: &Context<'_>,
    id: &str,
) -> Result<Value> {
    find_user(store, id)?;
    let body = &cx.body;
    reject_unknown(body, USER_METADATA_FIELDS)?;
    let public = opt_object(body, "public_metadata")?;
    let private = opt_object(body, "private_metadata")?;
    let unsafe_ = opt_object(body, "unsafe_metadata")?;
    let now = store.now_ms();
    let user = user_mut(store, id)?;
    if let Some(map) = public {
        user.public_metadata = map;
    }
    if let Some(map) = private {
        user.private_metadata = map;
    }
    if let Some(map) = unsafe_ {
        user.unsafe_metadata = map;
    }
    user.updated_at = now;
    user_value(store, id)
}

pub(crate) fn delete_user(store: &mut Store, id: &str) -> Result<Value> {
    let user = store
        .delete_user(id)
        .ok_or_else(|| ApiError::not_found("user", id))?;
    Ok(json!({ "object": "user", "id": user.id, "deleted": true }))
}

pub(crate) fn revoke_sessions_of(store: &mut Store, user_id: &str, now: i64) {
    for session in store.sessions.values_mut() {
        if session.user_id == user_id && session.status == "active" {
            session.status = "revoked";
            session.updated_at = now;
        }
    }
}

/// Clerk's limit on the users one bulk ban or unban takes.
const BULK_USER_IDS: usize = 50;

/// Bans or unbans several users: `{"user_ids": [...]}`, 1 to 50 IDs. IDs of no user are
/// skipped; the answer is the users changed, in the order asked.
pub(crate) fn users_action(store: &mut Store, cx: &Context<'_>, action: &str) -> Result<Value> {
    let body = &cx.body;
    reject_unknown(body, &["user_ids"])?;
    let user_ids = match body.get("user_ids") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| wrong_type("user_ids", "an array of strings"))
            })
            .collect::<Result<Vec<_>>>()?,
        Some(_) => return Err(wrong_type("user_ids", "an array of strings")),
    };
    if user_ids.is_empty() {
        return Err(ApiError::missing_param("user_ids"));
    }
    if user_ids.len() > BULK_USER_IDS {
        return Err(ApiError::format_invalid(
            "user_ids",
            format!("user_ids accepts at most {BULK_USER_IDS} values."),
        ));
    }
    let mut seen = HashSet::new();
    let mut users = Vec::new();
    for id in user_ids {
        if seen.insert(id.clone()) && store.users.contains_key(&id) {
            users.push(user_action(store, &id, action)?);
        }
    }
    Ok(Value::Array(users))
}

pub(crate) fn user_action(store: &mut Store, id: &str, action: &str) -> Result<Value> {
    find_user(store, id)?;
    let now = store.now_ms();
    let user = user_mut(store, id)?;
    match action {
        "ban" => user.banned = true,
        "unban" => user.banned = false,
        "lock" => user.locked = true,
        _ => user.locked = false,
    }
    user.updated_at = now;
    if action == "ban" {
        revoke_sessions_of(store, id, now);
    }
    user_value(store, id)
}
