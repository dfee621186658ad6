//! Session tokens: JWTs minted for an active session (plain or from a JWT template), and the
//! refresh of an expired one.
//!
//! The tokens are JWT-shaped (base64url header, claims and signature) so scripts can split and
//! decode them, but nothing signs them: the signature is random text.

use std::ops::RangeInclusive;

use serde_json::{Map, Value, json};

use super::{Result, Route, opt_int, opt_object, opt_string, reject_unknown, required_string};
use crate::api::{ApiError, Context};
use crate::store::{Session, Store};

/// The session token operations served here.
pub(crate) const ROUTES: &[Route] = &[
    Route::new("POST", "/sessions/{session_id}/refresh", |store, cx, p| {
        refresh_session(store, cx, p.at(0))
    }),
    Route::new("POST", "/sessions/{session_id}/tokens", |store, cx, p| {
        create_session_token(store, cx, p.at(0))
    }),
    Route::new(
        "POST",
        "/sessions/{session_id}/tokens/{template_name}",
        |store, cx, p| create_session_token_from_template(store, cx, p.at(0), p.at(1)),
    ),
];

/// The `iss` claim: where Clerk's Frontend API for the instance would be.
const ISSUER: &str = "https://clerk.emulator.clerk.test";

/// Clerk's default lifetime of session tokens and of JWT templates' tokens.
const DEFAULT_LIFETIME_SECONDS: i64 = 60;

/// The lifetimes `expires_in_seconds` may ask for, as Clerk's spec bounds them.
const LIFETIME_SECONDS: RangeInclusive<i64> = 30..=315_360_000;

const REFRESH_FIELDS: &[&str] = &[
    "expired_token",
    "refresh_token",
    "request_origin",
    "request_headers",
    "format",
    "request_originating_ip",
];

pub(crate) fn create_session_token(
    store: &mut Store,
    cx: &Context<'_>,
    session_id: &str,
) -> Result<Value> {
    let lifetime = lifetime_seconds(&cx.body)?;
    let session = active_session(store, session_id)?;
    let (user_id, session_id) = (session.user_id.clone(), session.id.clone());
    let jwt = session_jwt(store, &user_id, &session_id, lifetime);
    Ok(json!({ "object": "token", "jwt": jwt }))
}

/// Any template name is accepted: JWT templates are not kept by this module, so the token
/// carries the standard claims and names its template.
pub(crate) fn create_session_token_from_template(
    store: &mut Store,
    cx: &Context<'_>,
    session_id: &str,
    template_name: &str,
) -> Result<Value> {
    let lifetime = lifetime_seconds(&cx.body)?;
    let session = active_session(store, session_id)?;
    let user_id = session.user_id.clone();
    let now = store.now_ms() / 1000;
    let jti = store.random_token(20);
    let claims = json!({
        "iss": ISSUER,
        "sub": user_id,
        "iat": now,
        "nbf": now - 5,
        "exp": now + lifetime,
        "jti": jti,
        "template": template_name,
    });
    let jwt = encode_jwt(store, &claims);
    Ok(json!({ "object": "token", "jwt": jwt }))
}

/// Clerk answers 401 whenever the refresh cannot be honoured (the expired token is not this
/// session's, or the session is no longer active), so SDKs fall back to the handshake; an
/// unknown session is a 404. The refresh token itself is not checked: nothing here issues one.
pub(crate) fn refresh_session(
    store: &mut Store,
    cx: &Context<'_>,
    session_id: &str,
) -> Result<Value> {
    let body = &cx.body;
    reject_unknown(body, REFRESH_FIELDS)?;
    let expired_token = required_string(body, "expired_token")?;
    required_string(body, "refresh_token")?;
    required_string(body, "request_origin")?;
    opt_object(body, "request_headers")?;
    opt_string(body, "request_originating_ip")?;
    let format = opt_string(body, "format")?.unwrap_or_else(|| "token".to_string());
    if format != "token" && format != "cookie" {
        return Err(ApiError::value_invalid("format", &format));
    }
    let session = store
        .sessions
        .get(session_id)
        .ok_or_else(|| ApiError::not_found("session", session_id))?;
    if jwt_session_id(&expired_token).as_deref() != Some(session_id) {
        return Err(refresh_refused(
            "The expired token does not belong to this session.",
        ));
    }
    if session.status != "active" {
        return Err(refresh_refused(&format!(
            "The session is {}, so it cannot be refreshed.",
            session.status
        )));
    }
    let (user_id, session_id) = (session.user_id.clone(), session.id.clone());
    let jwt = session_jwt(store, &user_id, &session_id, DEFAULT_LIFETIME_SECONDS);
    Ok(if format == "cookie" {
        json!({
            "object": "cookies",
            "cookies": [format!("__session={jwt}; Path=/; Secure; SameSite=Lax")],
        })
    } else {
        json!({ "object": "token", "jwt": jwt })
    })
}

fn refresh_refused(long_message: &str) -> ApiError {
    ApiError::new(
        401,
        "authentication_invalid",
        "Unauthorized request",
        long_message.to_string(),
    )
}

/// The session, which must exist (404) and be active to issue tokens (404 too, as an inactive
/// session is not one Clerk finds to issue for).
fn active_session<'a>(store: &'a Store, session_id: &str) -> Result<&'a Session> {
    store
        .sessions
        .get(session_id)
        .filter(|session| session.status == "active")
        .ok_or_else(|| ApiError::not_found("session", session_id))
}

fn lifetime_seconds(body: &Map<String, Value>) -> Result<i64> {
    let seconds = opt_int(body, "expires_in_seconds")?.unwrap_or(DEFAULT_LIFETIME_SECONDS);
    if LIFETIME_SECONDS.contains(&seconds) {
        Ok(seconds)
    } else {
        Err(ApiError::format_invalid(
            "expires_in_seconds",
            format!(
                "expires_in_seconds must be between {} and {}.",
                LIFETIME_SECONDS.start(),
                LIFETIME_SECONDS.end()
            ),
        ))
    }
}

/// A session token with Clerk's standard claims: `sub` the user, `sid` the session.
fn session_jwt(store: &mut Store, user_id: &str, session_id: &str, lifetime: i64) -> String {
    let now = store.now_ms() / 1000;
    let claims = json!({
        "iss": ISSUER,
        "sub": user_id,
        "sid": session_id,
        "iat": now,
        "nbf": now - 5,
        "exp": now + lifetime,
    });
    encode_jwt(store, &claims)
}

fn encode_jwt(store: &mut Store, claims: &Value) -> String {
    let header = json!({ "alg": "RS256", "kid": "ins_emulator", "typ": "JWT" });
    // Base62 characters are valid base64url, so random text stands in for a signature.
    let signature = store.random_token(43);
    format!(
        "{}.{}.{signature}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes())
    )
}

/// The `sid` claim of a JWT, read without checking its signature.
fn jwt_session_id(jwt: &str) -> Option<String> {
    let mut parts = jwt.split('.');
    let (_header, claims, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let claims: Value = serde_json::from_slice(&base64url_decode(claims)?).ok()?;
    claims.get("sid")?.as_str().map(str::to_string)
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64url without padding, as JWTs write their parts.
fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let block = chunk.iter().enumerate().fold(0u32, |block, (i, byte)| {
            block | (u32::from(*byte) << (16 - 8 * i))
        });
        for sextet in 0..=chunk.len() {
            let index = (block >> (18 - 6 * sextet)) & 0x3f;
            out.push(char::from(BASE64URL[index as usize]));
        }
    }
    out
}

/// Decodes base64url with or without padding; `None` for anything else.
fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut block = 0u32;
    let mut bits = 0;
    for byte in text.bytes() {
        let value = BASE64URL.iter().position(|c| *c == byte)?;
        block = (block << 6) | value as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((block >> bits) as u8);
            block &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{base64url, base64url_decode, jwt_session_id};

    #[test]
    fn base64url_round_trips_every_length_and_byte() {
        let bytes: Vec<u8> = (0..=255).collect();
        for len in 0..bytes.len() {
            assert_eq!(
                base64url_decode(&base64url(&bytes[..len])).as_deref(),
                Some(&bytes[..len])
            );
        }
        assert_eq!(base64url(b"Ma"), "TWE");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url_decode("TWE="), Some(b"Ma".to_vec()));
        assert_eq!(base64url_decode("T+E"), None);
    }

    #[test]
    fn the_session_of_a_jwt_is_its_sid_claim() {
        let claims = base64url(br#"{"sid":"sess_1","sub":"user_1"}"#);
        assert_eq!(
            jwt_session_id(&format!("e30.{claims}.sig")).as_deref(),
            Some("sess_1")
        );
        assert_eq!(jwt_session_id(&format!("e30.{claims}")), None);
        assert_eq!(jwt_session_id(&format!("e30.{claims}.sig.extra")), None);
        assert_eq!(jwt_session_id("e30.e30.sig"), None);
        assert_eq!(jwt_session_id("not a token"), None);
    }
}
