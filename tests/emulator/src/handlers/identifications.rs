//! Email addresses and phone numbers: the identifications (`idn_…`) a user holds, kept on the
//! user. Create, get, update (verified, primary, reserved for second factor), delete, replace
//! all of a user's with one, and code verification: prepare, then attempt with the test code.

use serde_json::{Map, Value, json};

use super::users::check_phone;
use super::{Result, Route, check_email, find_user, opt_bool, reject_unknown, required_string};
use crate::api::{ApiError, Context};
use crate::store::{Identification, Store, User, email_json, phone_json};

/// The email address and phone number operations served here.
pub(crate) const ROUTES: &[Route] = &[
    Route::new("POST", "/email_addresses", |store, cx, _| {
        create(store, cx, Kind::Email)
    }),
    Route::new(
        "GET",
        "/email_addresses/{email_address_id}",
        |store, _, p| get(store, Kind::Email, p.at(0)),
    ),
    Route::new(
        "PATCH",
        "/email_addresses/{email_address_id}",
        |store, cx, p| update(store, cx, Kind::Email, p.at(0)),
    ),
    Route::new(
        "DELETE",
        "/email_addresses/{email_address_id}",
        |store, _, p| delete(store, Kind::Email, p.at(0)),
    ),
    Route::new(
        "POST",
        "/email_addresses/{email_address_id}/prepare_verification",
        |store, cx, p| prepare_verification(store, cx, Kind::Email, p.at(0)),
    ),
    Route::new(
        "POST",
        "/email_addresses/{email_address_id}/attempt_verification",
        |store, cx, p| attempt_verification(store, cx, Kind::Email, p.at(0)),
    ),
    Route::new("PUT", "/users/{user_id}/email_address", |store, cx, p| {
        replace(store, cx, Kind::Email, p.at(0))
    }),
    Route::new("POST", "/phone_numbers", |store, cx, _| {
        create(store, cx, Kind::Phone)
    }),
    Route::new("GET", "/phone_numbers/{phone_number_id}", |store, _, p| {
        get(store, Kind::Phone, p.at(0))
    }),
    Route::new(
        "PATCH",
        "/phone_numbers/{phone_number_id}",
        |store, cx, p| update(store, cx, Kind::Phone, p.at(0)),
    ),
    Route::new(
        "DELETE",
        "/phone_numbers/{phone_number_id}",
        |store, _, p| delete(store, Kind::Phone, p.at(0)),
    ),
    Route::new(
        "POST",
        "/phone_numbers/{phone_number_id}/prepare_verification",
        |store, cx, p| prepare_verification(store, cx, Kind::Phone, p.at(0)),
    ),
    Route::new(
        "POST",
        "/phone_numbers/{phone_number_id}/attempt_verification",
        |store, cx, p| attempt_verification(store, cx, Kind::Phone, p.at(0)),
    ),
    Route::new("PUT", "/users/{user_id}/phone_number", |store, cx, p| {
        replace(store, cx, Kind::Phone, p.at(0))
    }),
];

/// The one code every prepared verification accepts (Clerk's test-mode code): no email or SMS
/// is sent, so a test could not learn a random one.
pub(crate) const TEST_CODE: &str = "424242";
/// How long a prepared code stays valid.
const VERIFICATION_LIFETIME_MS: i64 = 10 * 60 * 1000;
/// Wrong codes a verification takes; the last one fails it.
const MAX_ATTEMPTS: i64 = 3;
/// Where prepared verifications are kept, each `{identification_id, verification}` by its ID.
const VERIFICATIONS: &str = "verifications";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Email,
    Phone,
}

impl Kind {
    /// The body field holding the value, also the `object` of the answer.
    fn param(self) -> &'static str {
        match self {
            Kind::Email => "email_address",
            Kind::Phone => "phone_number",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Kind::Email => "email address",
            Kind::Phone => "phone number",
        }
    }

    fn strategy(self) -> &'static str {
        match self {
            Kind::Email => "email_code",
            Kind::Phone => "phone_code",
        }
    }

    /// The body fields of create and update besides `user_id` and the value.
    fn options(self) -> &'static [&'static str] {
        match self {
            Kind::Email => &[
                "verified",
                "primary",
                "notify_primary_email_address_changed",
            ],
            Kind::Phone => &["verified", "primary", "reserved_for_second_factor"],
        }
    }

    fn check(self, value: &str) -> Result<()> {
        match self {
            Kind::Email => check_email("email_address", value),
            Kind::Phone => check_phone(value),
        }
    }

    /// Email addresses compare without case, phone numbers as written.
    fn same(self, a: &str, b: &str) -> bool {
        match self {
            Kind::Email => a.eq_ignore_ascii_case(b),
            Kind::Phone => a == b,
        }
    }

    fn of(self, user: &User) -> &Vec<Identification> {
        match self {
            Kind::Email => &user.emails,
            Kind::Phone => &user.phones,
        }
    }

    fn of_mut(self, user: &mut User) -> &mut Vec<Identification> {
        match self {
            Kind::Email => &mut user.emails,
            Kind::Phone => &mut user.phones,
        }
    }

    fn primary_mut(self, user: &mut User) -> &mut Option<String> {
        match self {
            Kind::Email => &mut user.primary_email_address_id,
            Kind::Phone => &mut user.primary_phone_number_id,
        }
    }

    fn render(self, identification: &Identification) -> Value {
        match self {
            Kind::Email => email_json(identification),
            Kind::Phone => phone_json(identification),
        }
    }
}

fn user_mut<'a>(store: &'a mut Store, id: &str) -> Result<&'a mut User> {
    store
        .users
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("user", id))
}

/// The user holding an identification of this kind, and its position among them.
fn locate(store: &Store, kind: Kind, id: &str) -> Result<(String, usize)> {
    store
        .users
        .values()
        .find_map(|user| {
            let at = kind.of(user).iter().position(|i| i.id == id)?;
            Some((user.id.clone(), at))
        })
        .ok_or_else(|| ApiError::not_found(kind.what(), id))
}

fn identification<'a>(
    store: &'a mut Store,
    kind: Kind,
    user_id: &str,
    at: usize,
) -> Result<&'a mut Identification> {
    let user = user_mut(store, user_id)?;
    kind.of_mut(user)
        .get_mut(at)
        .ok_or_else(|| ApiError::internal(500))
}

/// Verified and reserved identifications are claimed: no other user may hold the same value
/// claimed. An unverified one claims nothing.
fn check_unclaimed(store: &Store, kind: Kind, value: &str, user_id: &str) -> Result<()> {
    let claimed = store
        .users
        .values()
        .filter(|user| user.id != user_id)
        .flat_map(|user| kind.of(user))
        .any(|i| kind.same(&i.value, value) && (i.is_verified() || i.reserved));
    if claimed {
        Err(ApiError::identifier_exists(kind.param(), kind.what()))
    } else {
        Ok(())
    }
}

/// What Clerk counts as the ways a user can be identified when it refuses to remove the last.
fn identification_count(user: &User) -> usize {
    user.emails.len()
        + user.phones.len()
        + user.web3_wallets.len()
        + usize::from(user.username.is_some())
}

/// Whether the user has any second factor (what `two_factor_enabled` shows).
pub(crate) fn has_second_factor(user: &User) -> bool {
    user.totp_enabled
        || user.backup_code_enabled
        || user.phones.iter().any(|p| p.reserved_for_second_factor)
}

/// After a phone stops being a second factor: another reserved phone becomes the default if
/// none is, and the time MFA went off is noted when nothing is left.
fn settle_second_factors(user: &mut User, had_second_factor: bool, now: i64) {
    let has_default = user
        .phones
        .iter()
        .any(|p| p.reserved_for_second_factor && p.default_second_factor);
    if !has_default
        && let Some(phone) = user
            .phones
            .iter_mut()
            .find(|p| p.reserved_for_second_factor)
    {
        phone.default_second_factor = true;
    }
    match (had_second_factor, has_second_factor(user)) {
        (false, true) => user.mfa_enabled_at = Some(now),
        (true, false) => user.mfa_disabled_at = Some(now),
        _ => {}
    }
}

/// The primary of a kind when the old one went away or lost its verification: the first
/// verified one left, else none.
fn repick_primary(user: &mut User, kind: Kind) {
    let current = kind.primary_mut(user).clone();
    let still_fits = current
        .as_deref()
        .is_some_and(|id| kind.of(user).iter().any(|i| i.id == id && i.is_verified()));
    if !still_fits {
        let next = kind
            .of(user)
            .iter()
            .find(|i| i.is_verified())
            .map(|i| i.id.clone());
        *kind.primary_mut(user) = next;
    }
}

fn verification_needed() -> ApiError {
    ApiError::new(
        422,
        "form_verification_needed",
        "is unverified",
        "This identification needs to be verified before you can perform this action.".to_string(),
    )
}

fn create(store: &mut Store, cx: &Context<'_>, kind: Kind) -> Result<Value> {
    let body = &cx.body;
    let mut allowed = vec!["user_id", kind.param()];
    allowed.extend(kind.options());
    reject_unknown(body, &allowed)?;
    let user_id = required_string(body, "user_id")?;
    let value = required_string(body, kind.param())?;
    kind.check(&value)?;
    let verified = opt_bool(body, "verified")?.unwrap_or(false);
    let primary = opt_bool(body, "primary")?.unwrap_or(false);
    let second_factor = opt_bool(body, "reserved_for_second_factor")?.unwrap_or(false);
    opt_bool(body, "notify_primary_email_address_changed")?;
    let user = find_user(store, &user_id)?;
    if kind.of(user).iter().any(|i| kind.same(&i.value, &value)) {
        return Err(ApiError::identifier_exists(kind.param(), kind.what()));
    }
    if verified {
        check_unclaimed(store, kind, &value, &user_id)?;
    }
    if primary && !verified {
        return Err(verification_needed());
    }
    if second_factor && !verified {
        return Err(ApiError::new(
            400,
            "identification_create_second_factor_unverified",
            "Create failed",
            "Unverified identifications cannot be a second factor".to_string(),
        ));
    }
    let id = store.new_id("idn_");
    let now = store.now_ms();
    let mut created = Identification::new(id.clone(), &value, false, now);
    created.verified_by = verified.then_some("admin");
    created.reserved_for_second_factor = second_factor;
    let answer = kind.render(&created);
    let user = user_mut(store, &user_id)?;
    let had_second_factor = has_second_factor(user);
    kind.of_mut(user).push(created);
    // The first verified one becomes primary on its own (Clerk: "Default: false, unless it is
    // the first").
    if primary || (verified && kind.primary_mut(user).is_none()) {
        *kind.primary_mut(user) = Some(id.clone());
    }
    settle_second_factors(user, had_second_factor, now);
    user.updated_at = now;
    // The default second factor may have been given to the new phone.
    let user = find_user(store, &user_id)?;
    Ok(kind
        .of(user)
        .iter()
        .find(|i| i.id == id)
        .map_or(answer, |i| kind.render(i)))
}

fn get(store: &mut Store, kind: Kind, id: &str) -> Result<Value> {
    let (user_id, at) = locate(store, kind, id)?;
    let user = find_user(store, &user_id)?;
    Ok(kind
        .of(user)
        .get(at)
        .map_or(Value::Null, |i| kind.render(i)))
}

fn update(store: &mut Store, cx: &Context<'_>, kind: Kind, id: &str) -> Result<Value> {
    let body = &cx.body;
    reject_unknown(body, kind.options())?;
    let verified = opt_bool(body, "verified")?;
    let primary = opt_bool(body, "primary")?;
    let second_factor = opt_bool(body, "reserved_for_second_factor")?;
    opt_bool(body, "notify_primary_email_address_changed")?;
    let (user_id, at) = locate(store, kind, id)?;
    let user = find_user(store, &user_id)?;
    let current = kind
        .of(user)
        .get(at)
        .cloned()
        .ok_or_else(|| ApiError::internal(500))?;
    let will_be_verified = verified.unwrap_or(current.is_verified());
    if verified == Some(true) && !current.is_verified() {
        check_unclaimed(store, kind, &current.value, &user_id)?;
    }
    if primary == Some(true) && !will_be_verified {
        return Err(verification_needed());
    }
    if second_factor == Some(true) {
        if !will_be_verified {
            return Err(ApiError::new(
                400,
                "identification_update_second_factor_unverified",
                "Update failed",
                "Cannot update second factor attributes for unverified identification".to_string(),
            ));
        }
        if identification_count(user) <= 1 {
            return Err(ApiError::new(
                400,
                "identification_update_failed",
                "Update failed",
                "You cannot set your last identification as second factor.".to_string(),
            ));
        }
    }

    let now = store.now_ms();
    let user = user_mut(store, &user_id)?;
    let had_second_factor = has_second_factor(user);
    let changed = kind
        .of_mut(user)
        .get_mut(at)
        .ok_or_else(|| ApiError::internal(500))?;
    match verified {
        Some(true) if !changed.is_verified() => {
            changed.verified_by = Some("admin");
            changed.reserved = false;
        }
        Some(false) => {
            changed.verified_by = None;
            // An unverified phone cannot stay a second factor.
            changed.reserved_for_second_factor = false;
            changed.default_second_factor = false;
        }
        _ => {}
    }
    match second_factor {
        Some(true) => changed.reserved_for_second_factor = true,
        Some(false) => {
            changed.reserved_for_second_factor = false;
            changed.default_second_factor = false;
        }
        None => {}
    }
    changed.updated_at = now;
    if primary == Some(true) {
        *kind.primary_mut(user) = Some(id.to_string());
    }
    repick_primary(user, kind);
    settle_second_factors(user, had_second_factor, now);
    user.updated_at = now;
    let user = find_user(store, &user_id)?;
    Ok(kind
        .of(user)
        .get(at)
        .map_or(Value::Null, |i| kind.render(i)))
}

fn delete(store: &mut Store, kind: Kind, id: &str) -> Result<Value> {
    let (user_id, at) = locate(store, kind, id)?;
    if identification_count(find_user(store, &user_id)?) <= 1 {
        return Err(ApiError::new(
            400,
            "identification_deletion_failed",
            "Deletion failed",
            "You cannot delete your last identification.".to_string(),
        ));
    }
    let now = store.now_ms();
    let user = user_mut(store, &user_id)?;
    let had_second_factor = has_second_factor(user);
    kind.of_mut(user).remove(at);
    repick_primary(user, kind);
    settle_second_factors(user, had_second_factor, now);
    user.updated_at = now;
    forget_verifications(store, &[id.to_string()]);
    Ok(json!({ "object": kind.param(), "id": id, "deleted": true }))
}

/// Replaces all of a user's identifications of a kind with one, which becomes the primary.
fn replace(store: &mut Store, cx: &Context<'_>, kind: Kind, user_id: &str) -> Result<Value> {
    let body = &cx.body;
    let mut allowed = vec![kind.param(), "identification_status"];
    if kind == Kind::Email {
        allowed.push("notify_primary_email_address_changed");
    }
    reject_unknown(body, &allowed)?;
    find_user(store, user_id)?;
    let value = required_string(body, kind.param())?;
    kind.check(&value)?;
    let status = match body.get("identification_status") {
        None | Some(Value::Null) => "verified".to_string(),
        Some(Value::String(status)) => status.clone(),
        Some(_) => {
            return Err(ApiError::format_invalid(
                "identification_status",
                "identification_status must be a string.".to_string(),
            ));
        }
    };
    if !["verified", "reserved", "unverified"].contains(&status.as_str()) {
        return Err(ApiError::value_invalid("identification_status", &status));
    }
    opt_bool(body, "notify_primary_email_address_changed")?;
    if status != "unverified" {
        check_unclaimed(store, kind, &value, user_id)?;
    }
    // The user's own identification with this value stays (with its ID); the others go.
    let kept = kind
        .of(find_user(store, user_id)?)
        .iter()
        .find(|i| kind.same(&i.value, &value))
        .map(|i| i.id.clone());
    let id = match kept {
        Some(id) => id,
        None => store.new_id("idn_"),
    };
    let now = store.now_ms();
    let user = user_mut(store, user_id)?;
    let had_second_factor = has_second_factor(user);
    let mut replacement = kind
        .of(user)
        .iter()
        .find(|i| i.id == id)
        .cloned()
        .unwrap_or_else(|| Identification::new(id.clone(), &value, false, now));
    let removed: Vec<String> = kind
        .of(user)
        .iter()
        .filter(|i| i.id != id)
        .map(|i| i.id.clone())
        .collect();
    // Clerk: replacing a phone number reserved for second factor disables the user's MFA.
    if kind == Kind::Phone && user.phones.iter().any(|p| p.reserved_for_second_factor) {
        user.totp_enabled = false;
        user.backup_code_enabled = false;
        user.backup_codes.clear();
    }
    match status.as_str() {
        "verified" => {
            replacement.verified_by = replacement.verified_by.or(Some("admin"));
            replacement.reserved = false;
        }
        "reserved" => {
            replacement.verified_by = None;
            replacement.reserved = true;
        }
        _ => {
            replacement.verified_by = None;
            replacement.reserved = false;
        }
    }
    replacement.reserved_for_second_factor = false;
    replacement.default_second_factor = false;
    replacement.updated_at = now;
    let answer = kind.render(&replacement);
    *kind.of_mut(user) = vec![replacement];
    *kind.primary_mut(user) = Some(id);
    settle_second_factors(user, had_second_factor, now);
    user.updated_at = now;
    forget_verifications(store, &removed);
    Ok(answer)
}

fn forget_verifications(store: &mut Store, identification_ids: &[String]) {
    store.collection_mut(VERIFICATIONS).retain(|_, record| {
        !identification_ids
            .iter()
            .any(|id| record["identification_id"] == id.as_str())
    });
}

/// Starts a code verification: Clerk would send the code; here it is always [`TEST_CODE`].
fn prepare_verification(
    store: &mut Store,
    cx: &Context<'_>,
    kind: Kind,
    id: &str,
) -> Result<Value> {
    reject_unknown(&cx.body, &[])?;
    locate(store, kind, id)?;
    let verification_id = store.new_id("ver_");
    let now = store.now_ms();
    let verification = json!({
        "object": "verification_otp",
        "id": verification_id,
        "status": "unverified",
        "strategy": kind.strategy(),
        "attempts": 0,
        "expire_at": now + VERIFICATION_LIFETIME_MS,
        "channel": if kind == Kind::Phone { json!("sms") } else { Value::Null },
    });
    store.collection_mut(VERIFICATIONS).insert(
        verification_id,
        json!({ "identification_id": id, "verification": verification }),
    );
    Ok(verification)
}

/// Checks a code. A wrong or late code shows in the verification's status (`unverified` with
/// one more attempt, `failed` after the last, `expired`); a verified or failed verification
/// cannot be attempted again. The right code also verifies the identification.
fn attempt_verification(
    store: &mut Store,
    cx: &Context<'_>,
    kind: Kind,
    id: &str,
) -> Result<Value> {
    let body = &cx.body;
    reject_unknown(body, &["verification_id", "code"])?;
    let verification_id = required_string(body, "verification_id")?;
    let code = required_string(body, "code")?;
    let (user_id, at) = locate(store, kind, id)?;
    let mut verification = store
        .collection(VERIFICATIONS)
        .and_then(|records| records.get(&verification_id))
        .filter(|record| record["identification_id"] == id)
        .map(|record| record["verification"].clone())
        .ok_or_else(|| ApiError::not_found("verification", &verification_id))?;
    match verification["status"].as_str() {
        Some("verified") => {
            return Err(ApiError::new(
                400,
                "verification_already_verified",
                "already verified",
                "This verification has already been verified.".to_string(),
            ));
        }
        Some("failed") => {
            return Err(ApiError::new(
                400,
                "verification_failed",
                "failed",
                "Too many failed attempts. You have to try again with the same or another method."
                    .to_string(),
            ));
        }
        Some("expired") => return Ok(verification),
        _ => {}
    }
    let now = store.now_ms();
    let attempts = verification["attempts"].as_i64().unwrap_or(0) + 1;
    let status = if verification["expire_at"]
        .as_i64()
        .is_some_and(|at| now > at)
    {
        "expired"
    } else if code == TEST_CODE {
        "verified"
    } else if attempts >= MAX_ATTEMPTS {
        "failed"
    } else {
        "unverified"
    };
    if status == "verified" {
        let current = identification(store, kind, &user_id, at)?.clone();
        if !current.is_verified() {
            check_unclaimed(store, kind, &current.value, &user_id)?;
            let verified = identification(store, kind, &user_id, at)?;
            verified.verified_by = Some(kind.strategy());
            verified.reserved = false;
            verified.updated_at = now;
            let user = user_mut(store, &user_id)?;
            repick_primary(user, kind);
            user.updated_at = now;
        }
    }
    if let Some(fields) = verification.as_object_mut() {
        fields.insert("status".into(), json!(status));
        if status != "expired" {
            fields.insert("attempts".into(), json!(attempts));
        }
    }
    let mut record = Map::new();
    record.insert("identification_id".into(), json!(id));
    record.insert("verification".into(), verification.clone());
    store
        .collection_mut(VERIFICATIONS)
        .insert(verification_id, Value::Object(record));
    Ok(verification)
}
