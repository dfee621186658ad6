//! Redirect URLs allowed for native sign-in flows: list, create, get and delete.

use serde_json::{Value, json};

use super::allowlist_blocklist::{bare_or_paginated, newest_first};
use super::{Result, Route, required_string};
use crate::api::{ApiError, Context};
use crate::store::Store;

/// The redirect URL operations served here.
pub(crate) const ROUTES: &[Route] = &[
    Route::new("GET", "/redirect_urls", |store, cx, _| {
        bare_or_paginated(newest_first(store, COLLECTION), cx.query)
    }),
    Route::new("POST", "/redirect_urls", |store, cx, _| {
        create_redirect_url(store, cx)
    }),
    Route::new("GET", "/redirect_urls/{id}", |store, _, p| {
        find(store, p.at(0)).cloned()
    }),
    Route::new("DELETE", "/redirect_urls/{id}", |store, _, p| {
        delete_redirect_url(store, p.at(0))
    }),
];

const COLLECTION: &str = "redirect_urls";

fn find<'a>(store: &'a Store, id: &str) -> Result<&'a Value> {
    store
        .collection(COLLECTION)
        .and_then(|urls| urls.get(id))
        .ok_or_else(|| {
            ApiError::new(
                404,
                "resource_not_found",
                "Redirect url not found",
                format!("No RedirectURL exists with id: {id}"),
            )
        })
}

/// `scheme://rest`, the scheme as RFC 3986 allows it (`https`, `my-app`, `com.example.app`).
fn is_url(url: &str) -> bool {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                && !rest.is_empty()
                && !url.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

fn create_redirect_url(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let url = required_string(&cx.body, "url")?;
    if !is_url(&url) {
        return Err(ApiError::format_invalid(
            "url",
            "url must be a full URL starting with https:// or a custom scheme, for example \
             my-app://oauth-callback."
                .to_string(),
        ));
    }
    let taken = store
        .collection(COLLECTION)
        .is_some_and(|urls| urls.values().any(|u| u["url"] == json!(url)));
    if taken {
        return Err(ApiError::new(
            400,
            "duplicate_record",
            "duplicate redirect URL",
            format!("the redirect URL {url} already exists"),
        ));
    }
    let now = store.now_ms();
    let id = store.new_id("ru_");
    let redirect = json!({
        "object": "redirect_url",
        "id": id,
        "url": url,
        "created_at": now,
        "updated_at": now,
    });
    store
        .collection_mut(COLLECTION)
        .insert(id, redirect.clone());
    Ok(redirect)
}

fn delete_redirect_url(store: &mut Store, id: &str) -> Result<Value> {
    find(store, id)?;
    store.collection_mut(COLLECTION).shift_remove(id);
    Ok(json!({ "object": "redirect_url", "id": id, "deleted": true }))
}

#[cfg(test)]
mod tests {
    use super::is_url;

    #[test]
    fn urls_need_a_scheme() {
        for url in [
            "https://example.test/callback",
            "my-app://oauth-callback",
            "com.example.app://cb",
        ] {
            assert!(is_url(url), "{url}");
        }
        for url in [
            "example.test/callback",
            "://x",
            "1app://x",
            "https://",
            "my app://x",
        ] {
            assert!(!is_url(url), "{url}");
        }
    }
}
