//! A user's password and second factors: remove or verify the password, mark it compromised,
//! verify a TOTP or backup code, and turn off TOTP, backup codes or every second factor.

use serde_json::{Value, json};

use super::identifications::{TEST_CODE, has_second_factor};
use super::users::revoke_sessions_of;
use super::{Result, Route, find_user, opt_bool, reject_unknown, required_string};
use crate::api::{ApiError, Context};
use crate::store::{Store, User};

/// The password and second-factor operations served here.
pub(crate) const ROUTES: &[Route] = &[
    Route::new(
        "POST",
        "/users/{user_id}/remove_password",
        |store, cx, p| remove_password(store, cx, p.at(0)),
    ),
    Route::new(
        "POST",
        "/users/{user_id}/verify_password",
        |store, cx, p| verify_password(store, cx, p.at(0)),
    ),
    Route::new(
        "POST",
        "/users/{user_id}/password/set_compromised",
        |store, cx, p| set_password_compromised(store, cx, p.at(0), true),
    ),
    Route::new(
        "POST",
        "/users/{user_id}/password/unset_compromised",
        |store, cx, p| set_password_compromised(store, cx, p.at(0), false),
    ),
    Route::new("POST", "/users/{user_id}/verify_totp", |store, cx, p| {
        verify_totp(store, cx, p.at(0))
    }),
    Route::new("DELETE", "/users/{user_id}/mfa", |store, _, p| {
        turn_off(store, p.at(0), SecondFactors::All)
    }),
    Route::new("DELETE", "/users/{user_id}/backup_code", |store, _, p| {
        turn_off(store, p.at(0), SecondFactors::BackupCodes)
    }),
    Route::new("DELETE", "/users/{user_id}/totp", |store, _, p| {
        turn_off(store, p.at(0), SecondFactors::Totp)
    }),
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

fn no_password_set() -> ApiError {
    ApiError::new(
        400,
        "no_password_set",
        "no password set",
        "This user does not have a password set for their account".to_string(),
    )
}

/// A user without a password is returned unchanged.
fn remove_password(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    let body = &cx.body;
    reject_unknown(body, &["sign_out_of_other_sessions"])?;
    let sign_out = opt_bool(body, "sign_out_of_other_sessions")?.unwrap_or(false);
    if !find_user(store, id)?.password_enabled {
        return user_value(store, id);
    }
    let now = store.now_ms();
    let user = user_mut(store, id)?;
    user.password_enabled = false;
    user.password = None;
    user.password_compromised = false;
    user.updated_at = now;
    if sign_out {
        revoke_sessions_of(store, id, now);
    }
    user_value(store, id)
}

/// `{"verified": true}`, or 422 `incorrect_password`. A password set from a digest cannot be
/// checked here, so no password matches it.
fn verify_password(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    let body = &cx.body;
    reject_unknown(body, &["password"])?;
    let password = required_string(body, "password")?;
    let user = find_user(store, id)?;
    if !user.password_enabled {
        return Err(no_password_set());
    }
    if user.password.as_deref() == Some(password.as_str()) {
        Ok(json!({ "verified": true }))
    } else {
        Err(ApiError::new(
            422,
            "incorrect_password",
            "incorrect password",
            "The provided password is not the one the user has set".to_string(),
        ))
    }
}

/// The mark is kept, though Clerk's user object of this API version has no field showing it.
fn set_password_compromised(
    store: &mut Store,
    cx: &Context<'_>,
    id: &str,
    compromised: bool,
) -> Result<Value> {
    let body = &cx.body;
    let revoke = if compromised {
        reject_unknown(body, &["revoke_all_sessions"])?;
        opt_bool(body, "revoke_all_sessions")?.unwrap_or(false)
    } else {
        reject_unknown(body, &[])?;
        false
    };
    let user = find_user(store, id)?;
    if !user.password_enabled {
        if compromised {
            return Err(no_password_set());
        }
        return user_value(store, id);
    }
    let now = store.now_ms();
    let user = user_mut(store, id)?;
    if user.password_compromised != compromised {
        user.password_compromised = compromised;
        user.updated_at = now;
    }
    if revoke {
        revoke_sessions_of(store, id, now);
    }
    user_value(store, id)
}

/// An unused backup code is consumed; a TOTP code is right when it is [`TEST_CODE`] (the
/// emulator does not compute codes from the secret). Wrong codes are 422s.
fn verify_totp(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    let body = &cx.body;
    reject_unknown(body, &["code"])?;
    let code = required_string(body, "code")?;
    let user = find_user(store, id)?;
    if !user.totp_enabled && user.backup_codes.is_empty() {
        return Err(ApiError::new(
            400,
            "totp_disabled",
            "TOTP is disabled",
            "This user does not have TOTP enabled in their account".to_string(),
        ));
    }
    if let Some(at) = user.backup_codes.iter().position(|c| *c == code) {
        let now = store.now_ms();
        let user = user_mut(store, id)?;
        user.backup_codes.remove(at);
        user.updated_at = now;
        return Ok(json!({ "verified": true, "code_type": "backup_code" }));
    }
    if user.totp_enabled && code.chars().count() != 6 {
        return Err(ApiError::new(
            422,
            "totp_invalid_length",
            "invalid length",
            "The provided TOTP code must be 6 characters long.".to_string(),
        ));
    }
    if user.totp_enabled && code == TEST_CODE {
        return Ok(json!({ "verified": true, "code_type": "totp" }));
    }
    Err(ApiError::new(
        422,
        "totp_incorrect_code",
        "incorrect TOTP",
        "The provided TOTP code is incorrect".to_string(),
    ))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SecondFactors {
    Totp,
    BackupCodes,
    /// TOTP, backup codes and phone numbers reserved for second factor.
    All,
}

/// Answers `{"user_id": ...}`, as Clerk does, whether or not anything was on.
fn turn_off(store: &mut Store, id: &str, which: SecondFactors) -> Result<Value> {
    find_user(store, id)?;
    let now = store.now_ms();
    let user = user_mut(store, id)?;
    let had_second_factor = has_second_factor(user);
    if matches!(which, SecondFactors::Totp | SecondFactors::All) {
        user.totp_enabled = false;
    }
    if matches!(which, SecondFactors::BackupCodes | SecondFactors::All) {
        user.backup_code_enabled = false;
        user.backup_codes.clear();
    }
    if which == SecondFactors::All {
        for phone in &mut user.phones {
            phone.reserved_for_second_factor = false;
            phone.default_second_factor = false;
        }
    }
    if had_second_factor && !has_second_factor(user) {
        user.mfa_disabled_at = Some(now);
    }
    user.updated_at = now;
    Ok(json!({ "user_id": id }))
}
