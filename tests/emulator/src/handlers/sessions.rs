//! Sessions: create (Clerk's testing endpoint), list, get and revoke.

use serde_json::Value;

use super::{Result, Route, data_page, find_user, opt_string, page, required_string};
use crate::api::{ApiError, Context};
use crate::store::Store;

/// The session operations served here.
pub(crate) const ROUTES: &[Route] = &[
    Route::new("GET", "/sessions", |store, cx, _| list_sessions(store, cx)),
    Route::new("POST", "/sessions", |store, cx, _| {
        create_session(store, cx)
    }),
    Route::new("GET", "/sessions/{session_id}", |store, _, p| {
        get_session(store, p.at(0))
    }),
    Route::new("POST", "/sessions/{session_id}/revoke", |store, _, p| {
        revoke_session(store, p.at(0))
    }),
];

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
