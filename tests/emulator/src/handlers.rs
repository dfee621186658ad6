//! One function per endpoint. Each validates like Clerk, changes the store and renders the answer.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use crate::api::{ApiError, Context, Query};
use crate::store::{
    ACCOUNTS_URL, DAY_MS, Identification, Invitation, Membership, Organization,
    OrganizationInvitation, SignInToken, Store, User, merge_metadata,
};

type Result<T> = std::result::Result<T, ApiError>;

// -------------------------------------------------------------------------------------------
// Body helpers
// -------------------------------------------------------------------------------------------

fn reject_unknown(body: &Map<String, Value>, allowed: &[&str]) -> Result<()> {
    match body.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(unknown) => Err(ApiError::unknown_param(unknown)),
        None => Ok(()),
    }
}

fn wrong_type(param: &str, expected: &str) -> ApiError {
    ApiError::format_invalid(param, format!("{param} must be {expected}."))
}

/// A string field; absent and `null` are `None`.
fn opt_string(body: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(wrong_type(key, "a string")),
    }
}

fn required_string(body: &Map<String, Value>, key: &str) -> Result<String> {
    match opt_string(body, key)? {
        Some(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(ApiError::missing_param(key)),
    }
}

fn opt_bool(body: &Map<String, Value>, key: &str) -> Result<Option<bool>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(wrong_type(key, "a boolean")),
    }
}

fn opt_int(body: &Map<String, Value>, key: &str) -> Result<Option<i64>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_i64()
            .map(Some)
            .ok_or_else(|| wrong_type(key, "an integer")),
    }
}

fn opt_object(body: &Map<String, Value>, key: &str) -> Result<Option<Map<String, Value>>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map.clone())),
        Some(_) => Err(wrong_type(key, "an object")),
    }
}

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

/// An RFC 3339 timestamp field as Unix milliseconds.
fn opt_timestamp(body: &Map<String, Value>, key: &str) -> Result<Option<i64>> {
    match opt_string(body, key)? {
        None => Ok(None),
        Some(text) => parse_rfc3339(&text).map(Some).ok_or_else(|| {
            ApiError::format_invalid(
                key,
                format!("{key} must be a valid RFC 3339 date, for example 2024-01-31T12:00:00Z."),
            )
        }),
    }
}

fn is_email(value: &str) -> bool {
    let mut parts = value.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.chars().any(char::is_whitespace)
        }
        _ => false,
    }
}

fn check_email(param: &str, value: &str) -> Result<()> {
    if is_email(value) {
        Ok(())
    } else {
        Err(ApiError::format_invalid(
            param,
            format!("{param} must be a valid email address."),
        ))
    }
}

fn check_phone(value: &str) -> Result<()> {
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

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` to Unix milliseconds.
fn parse_rfc3339(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() < 20 || !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if bytes[4] != b'-' || bytes[7] != b'-' || bytes[13] != b':' || bytes[16] != b':' {
        return None;
    }
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded = format!("{:0<3}", &fraction[..digits.min(3)]);
        millis = padded.parse::<i64>().ok()?;
        rest = &fraction[digits..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) => {
            let hours: i64 = rest.get(1..3)?.parse().ok()?;
            let minutes: i64 = rest.get(4..6)?.parse().ok()?;
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (hours * 60 + minutes)
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

// -------------------------------------------------------------------------------------------
// Filters
// -------------------------------------------------------------------------------------------

/// An ID filter whose values may carry `+` (include) or `-` (exclude).
#[derive(Default)]
struct IdFilter {
    include: Vec<String>,
    exclude: Vec<String>,
}

impl IdFilter {
    fn from_values(values: Vec<&str>) -> IdFilter {
        let mut filter = IdFilter::default();
        for value in values {
            if let Some(id) = value.strip_prefix('-') {
                filter.exclude.push(id.to_string());
            } else {
                // An unencoded `+` arrives as a space.
                let id = value.strip_prefix(['+', ' ']).unwrap_or(value);
                filter.include.push(id.to_string());
            }
        }
        filter
    }

    /// Whether something holding these IDs passes.
    fn allows<'a>(&self, mut ids: impl Iterator<Item = &'a str> + Clone) -> bool {
        let included = self.include.is_empty()
            || ids
                .clone()
                .any(|id| self.include.iter().any(|wanted| wanted == id));
        included && !ids.any(|id| self.exclude.iter().any(|unwanted| unwanted == id))
    }
}

fn lower_all(values: Vec<&str>) -> Vec<String> {
    values.into_iter().map(str::to_lowercase).collect()
}

fn contains_ci(haystack: Option<&str>, needle: &str) -> bool {
    haystack.is_some_and(|h| h.to_lowercase().contains(needle))
}

/// The user filters shared by list_users, count_users and the membership list.
struct UserFilter {
    email_address: Vec<String>,
    phone_number: Vec<String>,
    username: Vec<String>,
    web3_wallet: Vec<String>,
    external_id: IdFilter,
    user_id: IdFilter,
    organization_id: IdFilter,
    query: Option<String>,
    email_address_query: Option<String>,
    phone_number_query: Option<String>,
    username_query: Option<String>,
    name_query: Option<String>,
    banned: Option<bool>,
    last_active_at_after: Option<i64>,
    last_active_at_before: Option<i64>,
    last_active_at_since: Option<i64>,
    created_at_after: Option<i64>,
    created_at_before: Option<i64>,
    last_sign_in_at_after: Option<i64>,
    last_sign_in_at_before: Option<i64>,
    provider_user_id: Vec<String>,
}

impl UserFilter {
    fn from_query(q: Query<'_>) -> Result<UserFilter> {
        let lower = |key: &str| q.text(key).map(|v| v.to_lowercase());
        let filter = UserFilter {
            email_address: lower_all(q.all("email_address")),
            phone_number: q
                .all("phone_number")
                .into_iter()
                .map(str::to_string)
                .collect(),
            username: lower_all(q.all("username")),
            web3_wallet: lower_all(q.all("web3_wallet")),
            external_id: IdFilter::from_values(q.all("external_id")),
            user_id: IdFilter::from_values(q.all("user_id")),
            organization_id: IdFilter::from_values(q.all("organization_id")),
            query: lower("query"),
            email_address_query: lower("email_address_query"),
            phone_number_query: lower("phone_number_query"),
            username_query: lower("username_query"),
            name_query: lower("name_query"),
            banned: q.bool("banned")?,
            last_active_at_after: q.int("last_active_at_after")?,
            last_active_at_before: q.int("last_active_at_before")?,
            last_active_at_since: q.int("last_active_at_since")?,
            created_at_after: q.int("created_at_after")?,
            created_at_before: q.int("created_at_before")?,
            last_sign_in_at_after: q.int("last_sign_in_at_after")?,
            last_sign_in_at_before: q.int("last_sign_in_at_before")?,
            provider_user_id: q
                .all("provider_user_id")
                .into_iter()
                .map(str::to_string)
                .collect(),
        };
        if !filter.provider_user_id.is_empty() && q.text("provider").is_none() {
            return Err(ApiError::missing_param("provider"));
        }
        for key in [
            "email_address",
            "phone_number",
            "username",
            "web3_wallet",
            "external_id",
            "user_id",
            "organization_id",
            "provider_user_id",
        ] {
            if q.all(key).len() > 100 {
                return Err(ApiError::format_invalid(
                    key,
                    format!("{key} accepts at most 100 values."),
                ));
            }
        }
        Ok(filter)
    }

    fn matches(&self, store: &Store, user: &User) -> bool {
        let emails = || user.emails.iter().map(|e| e.value.to_lowercase());
        let phones = || user.phones.iter().map(|p| p.value.as_str());
        let wallets = || user.web3_wallets.iter().map(|w| w.value.to_lowercase());
        let username = user.username.as_deref().map(str::to_lowercase);
        if !self.email_address.is_empty() && !emails().any(|e| self.email_address.contains(&e)) {
            return false;
        }
        if !self.phone_number.is_empty()
            && !phones().any(|p| self.phone_number.iter().any(|wanted| wanted == p))
        {
            return false;
        }
        if !self.username.is_empty()
            && !username.as_ref().is_some_and(|u| self.username.contains(u))
        {
            return false;
        }
        if !self.web3_wallet.is_empty() && !wallets().any(|w| self.web3_wallet.contains(&w)) {
            return false;
        }
        if !self
            .external_id
            .allows(user.external_id.as_deref().into_iter())
            || !self.user_id.allows(std::iter::once(user.id.as_str()))
        {
            return false;
        }
        let organizations: Vec<&str> = store
            .memberships
            .values()
            .filter(|m| m.user_id == user.id)
            .map(|m| m.organization_id.as_str())
            .collect();
        if !self.organization_id.allows(organizations.iter().copied()) {
            return false;
        }
        if let Some(q) = &self.query {
            let hit = user.id.to_lowercase().contains(q.as_str())
                || emails().any(|e| e.contains(q.as_str()))
                || phones().any(|p| p.contains(q.as_str()))
                || wallets().any(|w| w.contains(q.as_str()))
                || contains_ci(user.username.as_deref(), q)
                || contains_ci(user.first_name.as_deref(), q)
                || contains_ci(user.last_name.as_deref(), q);
            if !hit {
                return false;
            }
        }
        if let Some(q) = &self.email_address_query
            && !emails().any(|e| e.contains(q.as_str()))
        {
            return false;
        }
        if let Some(q) = &self.phone_number_query
            && !phones().any(|p| p.to_lowercase().contains(q.as_str()))
        {
            return false;
        }
        if let Some(q) = &self.username_query
            && !contains_ci(user.username.as_deref(), q)
        {
            return false;
        }
        if let Some(q) = &self.name_query {
            let full = format!(
                "{} {}",
                user.first_name.as_deref().unwrap_or(""),
                user.last_name.as_deref().unwrap_or("")
            );
            if !full.to_lowercase().contains(q.as_str()) {
                return false;
            }
        }
        if self.banned.is_some_and(|banned| banned != user.banned) {
            return false;
        }
        let after = |value: Option<i64>, bound: Option<i64>| {
            bound.is_none_or(|b| value.is_some_and(|v| v > b))
        };
        let before = |value: Option<i64>, bound: Option<i64>| {
            bound.is_none_or(|b| value.is_some_and(|v| v < b))
        };
        let since = |value: Option<i64>, bound: Option<i64>| {
            bound.is_none_or(|b| value.is_some_and(|v| v >= b))
        };
        after(Some(user.created_at), self.created_at_after)
            && before(Some(user.created_at), self.created_at_before)
            && after(user.last_active_at, self.last_active_at_after)
            && before(user.last_active_at, self.last_active_at_before)
            && since(user.last_active_at, self.last_active_at_since)
            && after(user.last_sign_in_at, self.last_sign_in_at_after)
            && before(user.last_sign_in_at, self.last_sign_in_at_before)
            // External accounts are not emulated, so no user has a provider ID.
            && self.provider_user_id.is_empty()
    }
}

/// A sortable field value; each field yields one variant, so the derived order is per field.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Number(Option<i64>),
    Text(Option<String>),
}

fn user_sort_key(user: &User, field: &str) -> SortKey {
    let text = |value: Option<&str>| SortKey::Text(value.map(str::to_lowercase));
    match field {
        "updated_at" => SortKey::Number(Some(user.updated_at)),
        "email_address" => text(user.primary_email()),
        "phone_number" => text(user.primary_phone()),
        "web3wallet" => text(user.primary_web3_wallet()),
        "first_name" => text(user.first_name.as_deref()),
        "last_name" => text(user.last_name.as_deref()),
        "username" => text(user.username.as_deref()),
        "last_active_at" => SortKey::Number(user.last_active_at),
        "last_sign_in_at" => SortKey::Number(user.last_sign_in_at),
        _ => SortKey::Number(Some(user.created_at)),
    }
}

impl SortKey {
    fn is_null(&self) -> bool {
        matches!(self, SortKey::Number(None) | SortKey::Text(None))
    }
}

/// Sorts by a field, then by creation; objects without a value for the field come last in
/// either direction.
fn sort_by_key<T>(
    items: &mut [&T],
    descending: bool,
    key: impl Fn(&T) -> SortKey,
    created_at: impl Fn(&T) -> i64,
) {
    items.sort_by(|a, b| {
        let (key_a, key_b) = (key(a), key(b));
        match (key_a.is_null(), key_b.is_null()) {
            (true, false) => return std::cmp::Ordering::Greater,
            (false, true) => return std::cmp::Ordering::Less,
            _ => {}
        }
        let order = key_a
            .cmp(&key_b)
            .then_with(|| created_at(a).cmp(&created_at(b)));
        if descending { order.reverse() } else { order }
    });
}

fn page<T: Clone>(items: Vec<T>, limit: usize, offset: usize) -> Vec<T> {
    items.into_iter().skip(offset).take(limit).collect()
}

fn data_page(data: Vec<Value>, total_count: usize) -> Value {
    json!({ "data": data, "total_count": total_count })
}

// -------------------------------------------------------------------------------------------
// Users
// -------------------------------------------------------------------------------------------

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

fn find_user<'a>(store: &'a Store, id: &str) -> Result<&'a User> {
    store
        .users
        .get(id)
        .ok_or_else(|| ApiError::not_found("user", id))
}

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

fn email_taken(store: &Store, email: &str, except_user: Option<&str>) -> bool {
    let email = email.to_lowercase();
    store.users.values().any(|u| {
        Some(u.id.as_str()) != except_user
            && u.emails.iter().any(|e| e.value.to_lowercase() == email)
    })
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
        .find(|i| !i.reserved)
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
    }
    if totp_secret.is_some() {
        user.totp_enabled = true;
    }
    if !backup_codes.is_empty() {
        user.backup_code_enabled = true;
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
    if identifications.iter().any(|i| i.id == id && !i.reserved) {
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
    }
    if totp_secret.is_some() {
        user.totp_enabled = true;
        user.mfa_enabled_at = Some(now);
    }
    if !backup_codes.is_empty() {
        user.backup_code_enabled = true;
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

pub(crate) fn delete_user(store: &mut Store, id: &str) -> Result<Value> {
    let user = store
        .delete_user(id)
        .ok_or_else(|| ApiError::not_found("user", id))?;
    Ok(json!({ "object": "user", "id": user.id, "deleted": true }))
}

fn revoke_sessions_of(store: &mut Store, user_id: &str, now: i64) {
    for session in store.sessions.values_mut() {
        if session.user_id == user_id && session.status == "active" {
            session.status = "revoked";
            session.updated_at = now;
        }
    }
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

// -------------------------------------------------------------------------------------------
// Sessions
// -------------------------------------------------------------------------------------------

const SESSION_STATUSES: &[&str] = &[
    "abandoned",
    "active",
    "ended",
    "expired",
    "removed",
    "replaced",
    "revoked",
];

pub(crate) fn create_session(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let user_id = required_string(&cx.body, "user_id")?;
    let organization_id = opt_string(&cx.body, "active_organization_id")?;
    find_user(store, &user_id)?;
    if let Some(org) = &organization_id
        && !store.organizations.contains_key(org)
    {
        return Err(ApiError::not_found("organization", org));
    }
    let session = store.new_session(&user_id, organization_id);
    if let Some(user) = store.users.get_mut(&user_id) {
        user.last_sign_in_at = Some(session.created_at);
        user.last_active_at = Some(session.created_at);
    }
    let value = store.session_json(&session);
    store.sessions.insert(session.id.clone(), session);
    Ok(value)
}

pub(crate) fn list_sessions(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let q = cx.query;
    let (limit, offset) = q.page()?;
    let status = q.text("status");
    if let Some(status) = &status
        && !SESSION_STATUSES.contains(&status.as_str())
    {
        return Err(ApiError::value_invalid("status", status));
    }
    let user_id = q.text("user_id");
    let client_id = q.text("client_id");
    let paginated = q.bool("paginated")?.unwrap_or(false);
    let mut sessions: Vec<_> = store
        .sessions
        .values()
        .filter(|s| user_id.as_ref().is_none_or(|u| &s.user_id == u))
        .filter(|s| client_id.as_ref().is_none_or(|c| &s.client_id == c))
        .filter(|s| status.as_ref().is_none_or(|st| s.status == st))
        .collect();
    sessions.sort_by_key(|s| std::cmp::Reverse(s.created_at));
    let total = sessions.len();
    let data: Vec<Value> = page(sessions, limit, offset)
        .into_iter()
        .map(|s| store.session_json(s))
        .collect();
    Ok(if paginated {
        data_page(data, total)
    } else {
        Value::Array(data)
    })
}

pub(crate) fn get_session(store: &mut Store, id: &str) -> Result<Value> {
    store
        .sessions
        .get(id)
        .map(|s| store.session_json(s))
        .ok_or_else(|| ApiError::not_found("session", id))
}

pub(crate) fn revoke_session(store: &mut Store, id: &str) -> Result<Value> {
    let now = store.now_ms();
    let session = store
        .sessions
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("session", id))?;
    if session.status == "active" {
        session.status = "revoked";
        session.updated_at = now;
    }
    let session = session.clone();
    Ok(store.session_json(&session))
}

// -------------------------------------------------------------------------------------------
// Organizations
// -------------------------------------------------------------------------------------------

/// By ID or by slug, as Clerk accepts both in the path.
fn find_organization<'a>(store: &'a Store, id_or_slug: &str) -> Result<&'a Organization> {
    store
        .organizations
        .get(id_or_slug)
        .or_else(|| store.organizations.values().find(|o| o.slug == id_or_slug))
        .ok_or_else(|| ApiError::not_found("organization", id_or_slug))
}

fn organization_id(store: &Store, id_or_slug: &str) -> Result<String> {
    find_organization(store, id_or_slug).map(|o| o.id.clone())
}

fn organization_value(
    store: &Store,
    organization: &Organization,
    cx: &Context<'_>,
) -> Result<Value> {
    let mut value = store.organization_json(organization);
    if cx
        .query
        .bool("include_missing_member_with_elevated_permissions")?
        .unwrap_or(false)
        && let Some(map) = value.as_object_mut()
    {
        map.insert(
            "missing_member_with_elevated_permissions".into(),
            json!(store.missing_admin(&organization.id)),
        );
    }
    Ok(value)
}

fn check_slug(slug: &str) -> Result<()> {
    let valid = !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(ApiError::format_invalid(
            "slug",
            "slug must contain only lowercase alphanumeric characters, hyphens and underscores."
                .to_string(),
        ))
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.chars().count() > 256 {
        return Err(ApiError::format_invalid(
            "name",
            "name must be at most 256 characters long.".to_string(),
        ));
    }
    Ok(())
}

fn check_max_memberships(value: Option<i64>) -> Result<()> {
    if value.is_some_and(|v| v < 0) {
        return Err(ApiError::format_invalid(
            "max_allowed_memberships",
            "max_allowed_memberships must be greater than or equal to 0.".to_string(),
        ));
    }
    Ok(())
}

pub(crate) fn list_organizations(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let q = cx.query;
    let (limit, offset) = q.page()?;
    let (field, descending) =
        q.order_by("-created_at", &["created_at", "name", "members_count"])?;
    let search = q.text("query").map(|s| s.to_lowercase());
    let users = IdFilter::from_values(q.all("user_id"));
    let ids = IdFilter::from_values(q.all("organization_id"));
    let mut organizations: Vec<&Organization> = store
        .organizations
        .values()
        .filter(|o| {
            search.as_ref().is_none_or(|s| {
                o.id.to_lowercase() == *s
                    || o.name.to_lowercase().contains(s.as_str())
                    || o.slug.to_lowercase().contains(s.as_str())
            })
        })
        .filter(|o| ids.allows(std::iter::once(o.id.as_str())))
        .filter(|o| {
            let members: Vec<&str> = store
                .memberships
                .values()
                .filter(|m| m.organization_id == o.id)
                .map(|m| m.user_id.as_str())
                .collect();
            users.allows(members.iter().copied())
        })
        .collect();
    sort_by_key(
        &mut organizations,
        descending,
        |o| match field.as_str() {
            "name" => SortKey::Text(Some(o.name.to_lowercase())),
            "members_count" => {
                SortKey::Number(Some(i64::try_from(store.members_count(&o.id)).unwrap_or(0)))
            }
            _ => SortKey::Number(Some(o.created_at)),
        },
        |o| o.created_at,
    );
    let total = organizations.len();
    let data = page(organizations, limit, offset)
        .into_iter()
        .map(|o| organization_value(store, o, cx))
        .collect::<Result<Vec<_>>>()?;
    Ok(data_page(data, total))
}

pub(crate) fn create_organization(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let body = &cx.body;
    let name = required_string(body, "name")?;
    check_name(&name)?;
    let created_by = opt_string(body, "created_by")?.filter(|c| !c.is_empty());
    let slug = opt_string(body, "slug")?.filter(|s| !s.is_empty());
    let max_allowed_memberships = opt_int(body, "max_allowed_memberships")?;
    check_max_memberships(max_allowed_memberships)?;
    let public_metadata = opt_object(body, "public_metadata")?;
    let private_metadata = opt_object(body, "private_metadata")?;
    let role_set_key = opt_string(body, "role_set_key")?;
    let created_at = opt_timestamp(body, "created_at")?;
    if let Some(slug) = &slug {
        check_slug(slug)?;
        if store.is_slug_taken(slug, None) {
            return Err(ApiError::identifier_exists("slug", "slug"));
        }
    }
    if let Some(user_id) = &created_by {
        find_user(store, user_id)?;
    }
    let slug = match slug {
        Some(slug) => slug,
        None => store.slug_from_name(&name),
    };
    let now = store.now_ms();
    let organization = Organization {
        id: store.new_id("org_"),
        name,
        slug,
        max_allowed_memberships: max_allowed_memberships.unwrap_or(0),
        admin_delete_enabled: true,
        public_metadata: public_metadata.unwrap_or_default(),
        private_metadata: private_metadata.unwrap_or_default(),
        created_by: created_by.clone(),
        role_set_key,
        created_at: created_at.unwrap_or(now),
        updated_at: now,
    };
    let organization_id = organization.id.clone();
    store
        .organizations
        .insert(organization_id.clone(), organization);
    if let Some(user_id) = created_by {
        let membership = Membership {
            id: store.new_id("orgmem_"),
            organization_id: organization_id.clone(),
            user_id,
            role: "org:admin".to_string(),
            public_metadata: Map::new(),
            private_metadata: Map::new(),
            created_at: now,
            updated_at: now,
        };
        store.memberships.insert(membership.id.clone(), membership);
    }
    let organization = find_organization(store, &organization_id)?;
    organization_value(store, organization, cx)
}

pub(crate) fn get_organization(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    let organization = find_organization(store, id)?;
    organization_value(store, organization, cx)
}

const UPDATE_ORGANIZATION_FIELDS: &[&str] = &[
    "name",
    "slug",
    "max_allowed_memberships",
    "admin_delete_enabled",
    "created_at",
    "role_set_key",
];

const ORGANIZATION_METADATA_FIELDS: &[&str] = &["public_metadata", "private_metadata"];

pub(crate) fn update_organization(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    let body = &cx.body;
    let organization_id = organization_id(store, id)?;
    if cx.legacy_metadata_allowed {
        let allowed: Vec<&str> = UPDATE_ORGANIZATION_FIELDS
            .iter()
            .chain(ORGANIZATION_METADATA_FIELDS)
            .copied()
            .collect();
        reject_unknown(body, &allowed)?;
    } else {
        reject_unknown(body, UPDATE_ORGANIZATION_FIELDS)?;
    }
    let name = opt_string(body, "name")?;
    if let Some(name) = &name {
        if name.trim().is_empty() {
            return Err(ApiError::missing_param("name"));
        }
        check_name(name)?;
    }
    let slug = opt_string(body, "slug")?;
    if let Some(slug) = &slug {
        check_slug(slug)?;
        if store.is_slug_taken(slug, Some(&organization_id)) {
            return Err(ApiError::identifier_exists("slug", "slug"));
        }
    }
    let max_allowed_memberships = opt_int(body, "max_allowed_memberships")?;
    check_max_memberships(max_allowed_memberships)?;
    let admin_delete_enabled = opt_bool(body, "admin_delete_enabled")?;
    let created_at = opt_timestamp(body, "created_at")?;
    let role_set_key = opt_string(body, "role_set_key")?;
    let mut public = None;
    let mut private = None;
    if cx.legacy_metadata_allowed {
        public = opt_object(body, "public_metadata")?;
        private = opt_object(body, "private_metadata")?;
    }
    let now = store.now_ms();
    let Some(organization) = store.organizations.get_mut(&organization_id) else {
        return Err(ApiError::not_found("organization", id));
    };
    if let Some(name) = name {
        organization.name = name;
    }
    if let Some(slug) = slug {
        organization.slug = slug;
    }
    if let Some(value) = max_allowed_memberships {
        organization.max_allowed_memberships = value;
    }
    if let Some(value) = admin_delete_enabled {
        organization.admin_delete_enabled = value;
    }
    if let Some(value) = created_at {
        organization.created_at = value;
    }
    if role_set_key.is_some() {
        organization.role_set_key = role_set_key;
    }
    if let Some(value) = public {
        organization.public_metadata = value;
    }
    if let Some(value) = private {
        organization.private_metadata = value;
    }
    organization.updated_at = now;
    let organization = find_organization(store, &organization_id)?;
    organization_value(store, organization, cx)
}

pub(crate) fn update_organization_metadata(
    store: &mut Store,
    cx: &Context<'_>,
    id: &str,
) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    reject_unknown(&cx.body, ORGANIZATION_METADATA_FIELDS)?;
    let public = opt_object(&cx.body, "public_metadata")?;
    let private = opt_object(&cx.body, "private_metadata")?;
    let now = store.now_ms();
    if let Some(organization) = store.organizations.get_mut(&organization_id) {
        if let Some(patch) = public {
            merge_metadata(&mut organization.public_metadata, &patch);
        }
        if let Some(patch) = private {
            merge_metadata(&mut organization.private_metadata, &patch);
        }
        organization.updated_at = now;
    }
    let organization = find_organization(store, &organization_id)?;
    organization_value(store, organization, cx)
}

pub(crate) fn delete_organization(store: &mut Store, id: &str) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    let organization = store
        .delete_organization(&organization_id)
        .ok_or_else(|| ApiError::not_found("organization", id))?;
    Ok(json!({
        "object": "organization",
        "id": organization.id,
        "slug": organization.slug,
        "deleted": true,
    }))
}

// -------------------------------------------------------------------------------------------
// Memberships
// -------------------------------------------------------------------------------------------

fn membership_not_found(organization_id: &str, user_id: &str) -> ApiError {
    ApiError::new(
        404,
        "resource_not_found",
        "not found",
        format!("No membership was found for user {user_id} in organization {organization_id}"),
    )
}

pub(crate) fn list_memberships(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    let q = cx.query;
    let (limit, offset) = q.page()?;
    let (field, descending) = q.order_by(
        "-created_at",
        &[
            "created_at",
            "phone_number",
            "email_address",
            "first_name",
            "last_name",
            "username",
        ],
    )?;
    let roles = q.all("role");
    let filter = UserFilter::from_query(q)?;
    // The membership's own creation time, not the user's.
    let created_after = q.int("created_at_after")?;
    let created_before = q.int("created_at_before")?;
    let user_filter = UserFilter {
        created_at_after: None,
        created_at_before: None,
        ..filter
    };
    let mut memberships: Vec<&Membership> = store
        .memberships
        .values()
        .filter(|m| m.organization_id == organization_id)
        .filter(|m| roles.is_empty() || roles.contains(&m.role.as_str()))
        .filter(|m| created_after.is_none_or(|t| m.created_at > t))
        .filter(|m| created_before.is_none_or(|t| m.created_at < t))
        .filter(|m| {
            store
                .users
                .get(&m.user_id)
                .is_some_and(|u| user_filter.matches(store, u))
        })
        .collect();
    sort_by_key(
        &mut memberships,
        descending,
        |m| match (field.as_str(), store.users.get(&m.user_id)) {
            ("created_at", _) | (_, None) => SortKey::Number(Some(m.created_at)),
            (field, Some(user)) => user_sort_key(user, field),
        },
        |m| m.created_at,
    );
    let total = memberships.len();
    let data = page(memberships, limit, offset)
        .into_iter()
        .map(|m| store.membership_json(m))
        .collect();
    Ok(data_page(data, total))
}

pub(crate) fn create_membership(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    let user_id = required_string(&cx.body, "user_id")?;
    let role = required_string(&cx.body, "role")?;
    let public_metadata = opt_object(&cx.body, "public_metadata")?;
    let private_metadata = opt_object(&cx.body, "private_metadata")?;
    find_user(store, &user_id)?;
    if store.membership_of(&organization_id, &user_id).is_some() {
        return Err(ApiError::new(
            400,
            "duplicate_record",
            "duplicate membership",
            format!("User {user_id} is already a member of the organization."),
        ));
    }
    let limit = find_organization(store, &organization_id)?.max_allowed_memberships;
    if limit > 0
        && i64::try_from(store.members_count(&organization_id)).unwrap_or(i64::MAX) >= limit
    {
        return Err(ApiError::new(
            403,
            "organization_membership_quota_exceeded",
            "Membership quota exceeded",
            format!("The organization has reached its limit of {limit} memberships."),
        ));
    }
    let now = store.now_ms();
    let membership = Membership {
        id: store.new_id("orgmem_"),
        organization_id,
        user_id,
        role,
        public_metadata: public_metadata.unwrap_or_default(),
        private_metadata: private_metadata.unwrap_or_default(),
        created_at: now,
        updated_at: now,
    };
    store
        .memberships
        .insert(membership.id.clone(), membership.clone());
    Ok(store.membership_json(&membership))
}

pub(crate) fn update_membership(
    store: &mut Store,
    cx: &Context<'_>,
    id: &str,
    user_id: &str,
) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    let role = required_string(&cx.body, "role")?;
    let membership_id = store
        .membership_of(&organization_id, user_id)
        .map(|m| m.id.clone())
        .ok_or_else(|| membership_not_found(&organization_id, user_id))?;
    let now = store.now_ms();
    let Some(membership) = store.memberships.get_mut(&membership_id) else {
        return Err(membership_not_found(&organization_id, user_id));
    };
    membership.role = role;
    membership.updated_at = now;
    let membership = membership.clone();
    Ok(store.membership_json(&membership))
}

pub(crate) fn delete_membership(store: &mut Store, id: &str, user_id: &str) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    let membership = store
        .membership_of(&organization_id, user_id)
        .cloned()
        .ok_or_else(|| membership_not_found(&organization_id, user_id))?;
    store.memberships.shift_remove(&membership.id);
    Ok(store.membership_json(&membership))
}

// -------------------------------------------------------------------------------------------
// Organization invitations
// -------------------------------------------------------------------------------------------

const INVITATION_STATUSES: &[&str] = &["pending", "accepted", "revoked", "expired"];

fn expires_in_days(body: &Map<String, Value>) -> Result<i64> {
    let days = opt_int(body, "expires_in_days")?.unwrap_or(30);
    if (1..=365).contains(&days) {
        Ok(days)
    } else {
        Err(ApiError::format_invalid(
            "expires_in_days",
            "expires_in_days must be between 1 and 365.".to_string(),
        ))
    }
}

/// The link an invitee follows: the redirect URL (or Clerk's hosted page) with a ticket.
fn ticket_url(redirect_url: Option<&str>, default_page: &str, ticket: &str) -> String {
    let base = redirect_url
        .map(str::to_string)
        .unwrap_or_else(|| format!("{ACCOUNTS_URL}/{default_page}"));
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}__clerk_ticket={ticket}")
}

fn statuses_from_query(q: Query<'_>) -> Result<Vec<String>> {
    let mut statuses = Vec::new();
    for value in q.all("status") {
        for status in value.split(',').filter(|s| !s.is_empty()) {
            if !INVITATION_STATUSES.contains(&status) {
                return Err(ApiError::value_invalid("status", status));
            }
            statuses.push(status.to_string());
        }
    }
    Ok(statuses)
}

pub(crate) fn list_organization_invitations(
    store: &mut Store,
    cx: &Context<'_>,
    id: &str,
) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    let q = cx.query;
    let (limit, offset) = q.page()?;
    let (field, descending) = q.order_by("-created_at", &["created_at", "email_address"])?;
    let statuses = statuses_from_query(q)?;
    let email = q.text("email_address").map(|e| e.to_lowercase());
    let mut invitations: Vec<&OrganizationInvitation> = store
        .organization_invitations
        .values()
        .filter(|i| i.organization_id == organization_id)
        .filter(|i| statuses.is_empty() || statuses.iter().any(|s| s == i.status))
        .filter(|i| {
            email
                .as_ref()
                .is_none_or(|e| i.email_address.to_lowercase() == *e)
        })
        .collect();
    sort_by_key(
        &mut invitations,
        descending,
        |i| match field.as_str() {
            "email_address" => SortKey::Text(Some(i.email_address.to_lowercase())),
            _ => SortKey::Number(Some(i.created_at)),
        },
        |i| i.created_at,
    );
    let total = invitations.len();
    let data = page(invitations, limit, offset)
        .into_iter()
        .map(|i| store.organization_invitation_json(i))
        .collect();
    Ok(data_page(data, total))
}

pub(crate) fn create_organization_invitation(
    store: &mut Store,
    cx: &Context<'_>,
    id: &str,
) -> Result<Value> {
    let body = &cx.body;
    let organization_id = organization_id(store, id)?;
    let email = required_string(body, "email_address")?;
    check_email("email_address", &email)?;
    let role = required_string(body, "role")?;
    let inviter_id = opt_string(body, "inviter_user_id")?.filter(|i| !i.is_empty());
    let redirect_url = opt_string(body, "redirect_url")?;
    let days = expires_in_days(body)?;
    opt_bool(body, "notify")?;
    let public_metadata = opt_object(body, "public_metadata")?;
    let private_metadata = opt_object(body, "private_metadata")?;
    if let Some(inviter) = &inviter_id {
        find_user(store, inviter)?;
    }
    let lower = email.to_lowercase();
    let duplicate = store.organization_invitations.values().any(|i| {
        i.organization_id == organization_id
            && i.status == "pending"
            && i.email_address.to_lowercase() == lower
    });
    if duplicate {
        return Err(ApiError::new(
            400,
            "organization_invitation_not_unique",
            "Duplicate invitation",
            "Organizations cannot have duplicate pending invitations for an email address."
                .to_string(),
        ));
    }
    let now = store.now_ms();
    let ticket = store.random_token(32);
    let invitation = OrganizationInvitation {
        id: store.new_id("orginv_"),
        organization_id,
        email_address: email,
        role,
        inviter_id,
        status: "pending",
        public_metadata: public_metadata.unwrap_or_default(),
        private_metadata: private_metadata.unwrap_or_default(),
        url: Some(ticket_url(
            redirect_url.as_deref(),
            "accept-organization-invitation",
            &ticket,
        )),
        expires_at: Some(now + days * DAY_MS),
        created_at: now,
        updated_at: now,
    };
    store
        .organization_invitations
        .insert(invitation.id.clone(), invitation.clone());
    Ok(store.organization_invitation_json(&invitation))
}

pub(crate) fn revoke_organization_invitation(
    store: &mut Store,
    cx: &Context<'_>,
    id: &str,
    invitation_id: &str,
) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    if let Some(requester) = opt_string(&cx.body, "requesting_user_id")?.filter(|r| !r.is_empty()) {
        find_user(store, &requester)?;
    }
    let now = store.now_ms();
    let invitation = store
        .organization_invitations
        .get_mut(invitation_id)
        .filter(|i| i.organization_id == organization_id)
        .ok_or_else(|| ApiError::not_found("organization invitation", invitation_id))?;
    if invitation.status != "pending" {
        return Err(ApiError::new(
            404,
            "organization_invitation_not_pending",
            "Invitation not pending",
            "The organization invitation is not in the 'pending' status.".to_string(),
        ));
    }
    invitation.status = "revoked";
    invitation.updated_at = now;
    let invitation = invitation.clone();
    Ok(store.organization_invitation_json(&invitation))
}

// -------------------------------------------------------------------------------------------
// Application invitations
// -------------------------------------------------------------------------------------------

const CREATE_INVITATION_FIELDS: &[&str] = &[
    "email_address",
    "public_metadata",
    "redirect_url",
    "notify",
    "ignore_existing",
    "expires_in_days",
    "template_slug",
];

pub(crate) fn list_invitations(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let q = cx.query;
    let (limit, offset) = q.page()?;
    let (field, descending) = q.order_by(
        "-created_at",
        &["created_at", "email_address", "expires_at"],
    )?;
    let statuses = statuses_from_query(q)?;
    let search = q.text("query").map(|s| s.to_lowercase());
    let paginated = q.bool("paginated")?.unwrap_or(false);
    let mut invitations: Vec<&Invitation> = store
        .invitations
        .values()
        // Without a status filter Clerk lists the invitations that are not revoked.
        .filter(|i| {
            if statuses.is_empty() {
                i.status != "revoked"
            } else {
                statuses.iter().any(|s| s == i.status)
            }
        })
        .filter(|i| {
            search.as_ref().is_none_or(|s| {
                i.email_address.to_lowercase().contains(s.as_str()) || i.id.to_lowercase() == *s
            })
        })
        .collect();
    sort_by_key(
        &mut invitations,
        descending,
        |i| match field.as_str() {
            "email_address" => SortKey::Text(Some(i.email_address.to_lowercase())),
            "expires_at" => SortKey::Number(i.expires_at),
            _ => SortKey::Number(Some(i.created_at)),
        },
        |i| i.created_at,
    );
    let total = invitations.len();
    let data: Vec<Value> = page(invitations, limit, offset)
        .into_iter()
        .map(|i| store.invitation_json(i))
        .collect();
    Ok(if paginated {
        data_page(data, total)
    } else {
        Value::Array(data)
    })
}

pub(crate) fn create_invitation(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let body = &cx.body;
    reject_unknown(body, CREATE_INVITATION_FIELDS)?;
    let email = required_string(body, "email_address")?;
    check_email("email_address", &email)?;
    let public_metadata = opt_object(body, "public_metadata")?;
    let redirect_url = opt_string(body, "redirect_url")?;
    opt_bool(body, "notify")?;
    let ignore_existing = opt_bool(body, "ignore_existing")?.unwrap_or(false);
    let days = expires_in_days(body)?;
    if let Some(slug) = opt_string(body, "template_slug")?
        && slug != "invitation"
        && slug != "waitlist_invitation"
    {
        return Err(ApiError::value_invalid("template_slug", &slug));
    }
    if !ignore_existing {
        let lower = email.to_lowercase();
        let pending = store
            .invitations
            .values()
            .any(|i| i.status == "pending" && i.email_address.to_lowercase() == lower);
        if pending {
            return Err(ApiError::new(
                400,
                "duplicate_record",
                "duplicate invitation",
                format!(
                    "There are already pending invitations for the following email addresses: {email}"
                ),
            ));
        }
        if email_taken(store, &email, None) {
            return Err(ApiError::identifier_exists(
                "email_address",
                "email address",
            ));
        }
    }
    let now = store.now_ms();
    let ticket = store.random_token(32);
    let invitation = Invitation {
        id: store.new_id("inv_"),
        email_address: email,
        public_metadata: public_metadata.unwrap_or_default(),
        status: "pending",
        url: ticket_url(redirect_url.as_deref(), "sign-up", &ticket),
        expires_at: Some(now + days * DAY_MS),
        created_at: now,
        updated_at: now,
    };
    store
        .invitations
        .insert(invitation.id.clone(), invitation.clone());
    Ok(store.invitation_json(&invitation))
}

pub(crate) fn revoke_invitation(store: &mut Store, id: &str) -> Result<Value> {
    let now = store.now_ms();
    let invitation = store
        .invitations
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("invitation", id))?;
    match invitation.status {
        "revoked" => {
            return Err(ApiError::new(
                400,
                "invitation_already_revoked",
                "Invitation already revoked",
                "This invitation has already been revoked.".to_string(),
            ));
        }
        "accepted" => {
            return Err(ApiError::new(
                400,
                "invitation_already_accepted",
                "Invitation already accepted",
                "This invitation has already been accepted and cannot be revoked.".to_string(),
            ));
        }
        _ => {}
    }
    invitation.status = "revoked";
    invitation.updated_at = now;
    let invitation = invitation.clone();
    Ok(store.invitation_json(&invitation))
}

// -------------------------------------------------------------------------------------------
// Sign-in tokens
// -------------------------------------------------------------------------------------------

pub(crate) fn create_sign_in_token(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let body = &cx.body;
    let user_id = required_string(body, "user_id")?;
    let expires_in_seconds = opt_int(body, "expires_in_seconds")?.unwrap_or(2_592_000);
    if expires_in_seconds < 1 {
        return Err(ApiError::format_invalid(
            "expires_in_seconds",
            "expires_in_seconds must be at least 1.".to_string(),
        ));
    }
    let org_id = opt_string(body, "org_id")?.filter(|o| !o.is_empty());
    find_user(store, &user_id)?;
    if let Some(org) = &org_id {
        let organization_id = organization_id(store, org)?;
        if store.membership_of(&organization_id, &user_id).is_none() {
            return Err(ApiError::format_invalid(
                "org_id",
                format!("User {user_id} is not a member of organization {org}."),
            ));
        }
    }
    let now = store.now_ms();
    let token = store.random_token(48);
    let sign_in_token = SignInToken {
        id: store.new_id("sit_"),
        user_id,
        status: "pending",
        url: format!("{ACCOUNTS_URL}/v1/tickets/accept?ticket={token}"),
        token,
        created_at: now,
        updated_at: now,
    };
    store
        .sign_in_tokens
        .insert(sign_in_token.id.clone(), sign_in_token.clone());
    Ok(store.sign_in_token_json(&sign_in_token))
}

pub(crate) fn revoke_sign_in_token(store: &mut Store, id: &str) -> Result<Value> {
    let now = store.now_ms();
    let token = store
        .sign_in_tokens
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("sign in token", id))?;
    if token.status != "pending" {
        return Err(ApiError::new(
            400,
            "sign_in_token_cannot_be_revoked_code",
            "Sign in token cannot be revoked",
            format!(
                "Sign in token cannot be revoked because its status is {}. Only pending tokens can be revoked.",
                token.status
            ),
        ));
    }
    token.status = "revoked";
    token.updated_at = now;
    let token = token.clone();
    Ok(store.sign_in_token_json(&token))
}

#[cfg(test)]
mod tests {
    use super::parse_rfc3339;

    #[test]
    fn rfc3339_timestamps_become_unix_milliseconds() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2024-01-31T12:00:00.250Z"),
            Some(1_706_702_400_250)
        );
        assert_eq!(
            parse_rfc3339("2024-01-31T14:00:00+02:00"),
            Some(1_706_702_400_000)
        );
        assert_eq!(parse_rfc3339("2024-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
