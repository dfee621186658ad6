//! Sign-in tokens: create and revoke.

use serde_json::Value;

use super::{Result, Route, find_user, opt_int, opt_string, organization_id, required_string};
use crate::api::{ApiError, Context};
use crate::store::{ACCOUNTS_URL, SignInToken, Store};

/// The sign-in token operations served here.
pub(crate) const ROUTES: &[Route] = &[
    Route::new("POST", "/sign_in_tokens", |store, cx, _| {
        create_sign_in_token(store, cx)
    }),
    Route::new(
        "POST",
        "/sign_in_tokens/{sign_in_token_id}/revoke",
        |store, _, p| revoke_sign_in_token(store, p.at(0)),
    ),
];

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
