//! The stateful endpoint handlers, one module per resource, and the helpers more than one of
//! them uses.
//!
//! Each handler validates like Clerk, changes the store and renders the answer. Each module
//! declares the operations it serves in a `ROUTES` table (method, OpenAPI path template,
//! handler); the router serves exactly those statefully and mocks the rest of the spec. Shared
//! here: the route types, body-argument parsing and validation, ID and user filters, sorting and
//! paging, user and organization lookups, and what both kinds of invitation need. A helper only
//! one resource uses lives in that resource's module.

use serde_json::{Map, Value, json};

use crate::api::{ApiError, Context, Query};
use crate::store::{ACCOUNTS_URL, Organization, Store, User};

type Result<T> = std::result::Result<T, ApiError>;

// The stateful handler modules, one line each. Every file here but this one is one, and must
// declare `pub(crate) const ROUTES: &[Route]`: the build script lists their tables below.
pub(crate) mod allowlist_blocklist;
pub(crate) mod domains;
pub(crate) mod identifications;
pub(crate) mod images;
pub(crate) mod invitations;
pub(crate) mod jwt_templates;
pub(crate) mod memberships;
pub(crate) mod organization_domains;
pub(crate) mod organization_invitations;
pub(crate) mod organization_permissions;
pub(crate) mod organization_roles;
pub(crate) mod organizations;
pub(crate) mod redirect_urls;
pub(crate) mod role_sets;
pub(crate) mod session_tokens;
pub(crate) mod sessions;
pub(crate) mod sign_in_tokens;
pub(crate) mod user_organizations;
pub(crate) mod user_security;
pub(crate) mod users;
pub(crate) mod waitlist_entries;

/// The route table of every module in this folder, by module name (from `build.rs`).
pub(crate) const ROUTE_TABLES: &[&[Route]] = include!(concat!(env!("OUT_DIR"), "/route_tables.rs"));

/// The values of a path's placeholders, in the template's order.
pub(crate) struct Params<'a>(pub &'a [String]);

impl Params<'_> {
    /// The `index`th placeholder's value; the router only calls a handler whose template has
    /// that many, so the empty fallback is never seen.
    pub fn at(&self, index: usize) -> &str {
        self.0.get(index).map_or("", String::as_str)
    }
}

/// How a stateful handler is called: the store, the request, the path's placeholder values.
pub(crate) type Handler = fn(&mut Store, &Context<'_>, &Params<'_>) -> Result<Value>;

/// One operation a stateful handler serves.
pub(crate) struct Route {
    /// Upper-case, as on the wire.
    pub method: &'static str,
    /// As the OpenAPI spec writes it (`/users/{user_id}`, without `/v1`), so the router can
    /// tell which of the spec's operations are served statefully. Placeholder names do not
    /// take part in matching; literal segments win over placeholders.
    pub path: &'static str,
    pub handler: Handler,
    /// The body is a JSON array (Clerk's bulk operations): the handler finds its items in
    /// `Context::items`, and any other body is 400 `request_body_invalid`.
    pub array_body: bool,
}

impl Route {
    pub const fn new(method: &'static str, path: &'static str, handler: Handler) -> Route {
        Route {
            method,
            path,
            handler,
            array_body: false,
        }
    }

    /// The same route, taking a JSON array as its body.
    pub const fn with_array_body(mut self) -> Route {
        self.array_body = true;
        self
    }
}

/// Every stateful route, in the order the modules and their tables declare them.
pub(crate) fn routes() -> impl Iterator<Item = &'static Route> {
    ROUTE_TABLES.iter().flat_map(|table| table.iter())
}

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
// Filters, sorting and paging
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

    fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
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
        if !self.email_address.is_empty() && !emails().any(|e| self.email_address.contains(&e)) {
            return false;
        }
        if !self.phone_number.is_empty()
            && !phones().any(|p| self.phone_number.iter().any(|wanted| wanted == p))
        {
            return false;
        }
        if !self.username.is_empty()
            && !user
                .username
                .as_deref()
                .map(str::to_lowercase)
                .is_some_and(|u| self.username.contains(&u))
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
        // Only with the filter: scanning the memberships for every user would make listing
        // many users quadratic.
        if !self.organization_id.is_empty() {
            let organizations: Vec<&str> = store
                .memberships
                .values()
                .filter(|m| m.user_id == user.id)
                .map(|m| m.organization_id.as_str())
                .collect();
            if !self.organization_id.allows(organizations.iter().copied()) {
                return false;
            }
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
/// either direction. Each key is computed once (text keys are lower-cased copies), so sorting
/// tens of thousands of users by name stays quick.
fn sort_by_key<T>(
    items: &mut [&T],
    descending: bool,
    key: impl Fn(&T) -> SortKey,
    created_at: impl Fn(&T) -> i64,
) {
    let mut keyed: Vec<(SortKey, i64, &T)> = items
        .iter()
        .map(|item| (key(item), created_at(item), *item))
        .collect();
    keyed.sort_by(|(key_a, created_a, _), (key_b, created_b, _)| {
        match (key_a.is_null(), key_b.is_null()) {
            (true, false) => return std::cmp::Ordering::Greater,
            (false, true) => return std::cmp::Ordering::Less,
            _ => {}
        }
        let order = key_a.cmp(key_b).then_with(|| created_a.cmp(created_b));
        if descending { order.reverse() } else { order }
    });
    for (slot, (_, _, item)) in items.iter_mut().zip(keyed) {
        *slot = item;
    }
}

fn page<T: Clone>(items: Vec<T>, limit: usize, offset: usize) -> Vec<T> {
    items.into_iter().skip(offset).take(limit).collect()
}

fn data_page(data: Vec<Value>, total_count: usize) -> Value {
    json!({ "data": data, "total_count": total_count })
}

// -------------------------------------------------------------------------------------------
// Lookups
// -------------------------------------------------------------------------------------------

fn find_user<'a>(store: &'a Store, id: &str) -> Result<&'a User> {
    store
        .users
        .get(id)
        .ok_or_else(|| ApiError::not_found("user", id))
}

fn email_taken(store: &Store, email: &str, except_user: Option<&str>) -> bool {
    let email = email.to_lowercase();
    store.users.values().any(|u| {
        Some(u.id.as_str()) != except_user
            && u.emails.iter().any(|e| e.value.to_lowercase() == email)
    })
}

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

// -------------------------------------------------------------------------------------------
// Invitations of both kinds
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
