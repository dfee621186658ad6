//! JWT templates: list, create, get, update and delete. A custom signing key is checked for but
//! never kept, since Clerk never returns it.

use serde_json::{Map, Value, json};

use super::allowlist_blocklist::{bare_or_paginated, newest_first};
use super::{Result, Route, opt_bool, opt_int, opt_object, opt_string, required_string};
use crate::api::{ApiError, Context};
use crate::store::Store;

/// The JWT template operations served here.
pub(crate) const ROUTES: &[Route] = &[
    Route::new("GET", "/jwt_templates", |store, cx, _| {
        bare_or_paginated(newest_first(store, COLLECTION), cx.query)
    }),
    Route::new("POST", "/jwt_templates", |store, cx, _| {
        create_jwt_template(store, cx)
    }),
    Route::new("GET", "/jwt_templates/{template_id}", |store, _, p| {
        find(store, p.at(0)).cloned()
    }),
    Route::new("PATCH", "/jwt_templates/{template_id}", |store, cx, p| {
        update_jwt_template(store, cx, p.at(0))
    }),
    Route::new("DELETE", "/jwt_templates/{template_id}", |store, _, p| {
        delete_jwt_template(store, p.at(0))
    }),
];

const COLLECTION: &str = "jwt_templates";

/// Clerk's defaults for a template's `lifetime` and `allowed_clock_skew`, in seconds.
const DEFAULT_LIFETIME: i64 = 60;
const DEFAULT_CLOCK_SKEW: i64 = 5;
/// The algorithm of the instance's own signing key.
const INSTANCE_ALGORITHM: &str = "RS256";

/// Claims Clerk adds to every token it mints from a template, which a template cannot set.
const RESERVED_CLAIMS: &[&str] = &["azp", "exp", "iat", "iss", "jti", "nbf", "sub"];

fn find<'a>(store: &'a Store, id: &str) -> Result<&'a Value> {
    store
        .collection(COLLECTION)
        .and_then(|templates| templates.get(id))
        .ok_or_else(|| {
            ApiError::new(
                404,
                "resource_not_found",
                "JWT template not found",
                format!("No JWT template exists with id: {id}"),
            )
        })
}

/// An integer field within inclusive bounds.
fn bounded(body: &Map<String, Value>, key: &str, min: i64, max: i64) -> Result<Option<i64>> {
    match opt_int(body, key)? {
        Some(value) if !(min..=max).contains(&value) => Err(ApiError::format_invalid(
            key,
            format!("{key} must be between {min} and {max}."),
        )),
        value => Ok(value),
    }
}

/// The fields both create and update require and check the same way: name and claims.
fn name_and_claims(
    store: &Store,
    body: &Map<String, Value>,
    except: Option<&str>,
) -> Result<(String, Map<String, Value>)> {
    let name = required_string(body, "name")?;
    let claims = opt_object(body, "claims")?.ok_or_else(|| ApiError::missing_param("claims"))?;
    if let Some(claim) = RESERVED_CLAIMS.iter().find(|c| claims.contains_key(**c)) {
        return Err(ApiError::new(
            400,
            "jwt_template_reserved_claim",
            "reserved claim used",
            format!("You can't use the reserved claim: '{claim}'"),
        ));
    }
    let taken = store.collection(COLLECTION).is_some_and(|templates| {
        templates
            .values()
            .any(|t| t["name"] == json!(name) && Some(t["id"].as_str().unwrap_or("")) != except)
    });
    if taken {
        return Err(ApiError::identifier_exists("name", "JWT template name"));
    }
    Ok((name, claims))
}

/// The signing algorithm to record: the custom one (with its key) when `custom_signing_key` is
/// true, the instance's when it is false, `None` (unchanged) when it is not given.
fn signing(body: &Map<String, Value>) -> Result<Option<(bool, String)>> {
    match opt_bool(body, "custom_signing_key")? {
        Some(true) => {
            let algorithm = required_string(body, "signing_algorithm")?;
            required_string(body, "signing_key")?;
            Ok(Some((true, algorithm)))
        }
        Some(false) => Ok(Some((false, INSTANCE_ALGORITHM.to_string()))),
        None => {
            // Checked for type even when they take no effect.
            opt_string(body, "signing_algorithm")?;
            opt_string(body, "signing_key")?;
            Ok(None)
        }
    }
}

fn create_jwt_template(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let body = &cx.body;
    let (name, claims) = name_and_claims(store, body, None)?;
    let lifetime = bounded(body, "lifetime", 30, 315_360_000)?.unwrap_or(DEFAULT_LIFETIME);
    let skew = bounded(body, "allowed_clock_skew", 0, 300)?.unwrap_or(DEFAULT_CLOCK_SKEW);
    let (custom, algorithm) = signing(body)?.unwrap_or((false, INSTANCE_ALGORITHM.to_string()));
    let now = store.now_ms();
    let id = store.new_id("jtmp_");
    let template = json!({
        "object": "jwt_template",
        "id": id,
        "name": name,
        "claims": claims,
        "lifetime": lifetime,
        "allowed_clock_skew": skew,
        "custom_signing_key": custom,
        "signing_algorithm": algorithm,
        "created_at": now,
        "updated_at": now,
    });
    store
        .collection_mut(COLLECTION)
        .insert(id, template.clone());
    Ok(template)
}

/// Name and claims are required (and replaced); the other fields change only when given.
fn update_jwt_template(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    let body = &cx.body;
    find(store, id)?;
    let (name, claims) = name_and_claims(store, body, Some(id))?;
    let lifetime = bounded(body, "lifetime", 30, 315_360_000)?;
    let skew = bounded(body, "allowed_clock_skew", 0, 300)?;
    let signing = signing(body)?;
    let now = store.now_ms();
    let Some(template) = store.collection_mut(COLLECTION).get_mut(id) else {
        return Err(ApiError::not_found("JWT template", id));
    };
    template["name"] = json!(name);
    template["claims"] = Value::Object(claims);
    if let Some(lifetime) = lifetime {
        template["lifetime"] = json!(lifetime);
    }
    if let Some(skew) = skew {
        template["allowed_clock_skew"] = json!(skew);
    }
    if let Some((custom, algorithm)) = signing {
        template["custom_signing_key"] = json!(custom);
        template["signing_algorithm"] = json!(algorithm);
    }
    template["updated_at"] = json!(now);
    Ok(template.clone())
}

fn delete_jwt_template(store: &mut Store, id: &str) -> Result<Value> {
    find(store, id)?;
    store.collection_mut(COLLECTION).shift_remove(id);
    Ok(json!({ "object": "jwt_template", "id": id, "deleted": true }))
}
