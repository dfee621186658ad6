//! The instance's domains: the primary one, which every instance has, and satellites. List, add a
//! satellite, update either kind, delete a satellite. Domains behave as on a production instance
//! whatever the key (a proxy URL is accepted), with DNS records derived from the name.

use indexmap::IndexMap;
use serde_json::{Value, json};

use super::{Result, Route, data_page, opt_bool, opt_string, reject_unknown, required_string};
use crate::api::{ApiError, Context};
use crate::store::Store;

/// The domain operations served here.
pub(crate) const ROUTES: &[Route] = &[
    Route::new("GET", "/domains", |store, _, _| list_domains(store)),
    Route::new("POST", "/domains", |store, cx, _| add_domain(store, cx)),
    Route::new("DELETE", "/domains/{domain_id}", |store, _, p| {
        delete_domain(store, p.at(0))
    }),
    Route::new("PATCH", "/domains/{domain_id}", |store, cx, p| {
        update_domain(store, cx, p.at(0))
    }),
];

const COLLECTION: &str = "domains";

/// The primary domain exists from the start. Its ID is fixed rather than taken from the store's
/// generator, so that creating it on first use never consumes an ID pinned for a satellite.
pub(crate) const PRIMARY_DOMAIN_ID: &str = "dmn_2EmulatorPrimaryDomain00000";
const PRIMARY_DOMAIN_NAME: &str = "emulator.clerk.test";

/// A domain as Clerk renders it, its URLs and DNS records derived from its name: a proxied
/// domain needs no DNS records.
fn domain_json(id: &str, name: &str, is_satellite: bool, proxy_url: Option<&str>) -> Value {
    let mut cname_targets = vec![json!({
        "host": format!("clerk.{name}"),
        "value": "frontend-api.clerk.services",
        "required": true,
    })];
    if !is_satellite {
        cname_targets.push(json!({
            "host": format!("accounts.{name}"),
            "value": "accounts.clerk.services",
            "required": true,
        }));
        cname_targets.push(json!({
            "host": format!("clkmail.{name}"),
            "value": "mail.clerk.services",
            "required": true,
        }));
    }
    json!({
        "object": "domain",
        "id": id,
        "name": name,
        "is_satellite": is_satellite,
        "frontend_api_url": format!("https://clerk.{name}"),
        "accounts_portal_url": (!is_satellite).then(|| format!("https://accounts.{name}")),
        "proxy_url": proxy_url,
        "development_origin": "",
        "cname_targets": proxy_url.is_none().then_some(cname_targets),
    })
}

/// The instance's domains, the primary one first, made on first use.
fn domains(store: &mut Store) -> &mut IndexMap<String, Value> {
    let domains = store.collection_mut(COLLECTION);
    if !domains.contains_key(PRIMARY_DOMAIN_ID) {
        let primary = domain_json(PRIMARY_DOMAIN_ID, PRIMARY_DOMAIN_NAME, false, None);
        domains.shift_insert(0, PRIMARY_DOMAIN_ID.to_string(), primary);
    }
    domains
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        404,
        "resource_not_found",
        "Domain not found",
        format!("No domain was found with {id}"),
    )
}

/// A host, with an optional port: no scheme, path or whitespace.
fn check_name(name: &str) -> Result<()> {
    let (host, port) = name.split_once(':').unwrap_or((name, ""));
    let host_ok = (host.contains('.') || host == "localhost")
        && !host.starts_with('.')
        && !host.ends_with('.')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    let port_ok = port.is_empty() || (port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()));
    let has_port = name.contains(':');
    if host_ok && port_ok && (!has_port || !port.is_empty()) {
        Ok(())
    } else {
        Err(ApiError::format_invalid(
            "name",
            "name must be a domain name such as example.com (with a port on development \
             instances), without a scheme or a path."
                .to_string(),
        ))
    }
}

fn check_proxy_url(proxy_url: &str) -> Result<()> {
    let rest = proxy_url.strip_prefix("https://").unwrap_or("");
    if rest.is_empty() || proxy_url.chars().any(char::is_whitespace) {
        return Err(ApiError::format_invalid(
            "proxy_url",
            "proxy_url must be a full https:// URL.".to_string(),
        ));
    }
    Ok(())
}

fn name_taken(store: &mut Store, name: &str, except: Option<&str>) -> bool {
    let lower = name.to_lowercase();
    domains(store).values().any(|d| {
        d["name"].as_str().map(str::to_lowercase) == Some(lower.clone())
            && d["id"].as_str() != except
    })
}

fn list_domains(store: &mut Store) -> Result<Value> {
    let data: Vec<Value> = domains(store).values().cloned().collect();
    let total = data.len();
    Ok(data_page(data, total))
}

fn add_domain(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let body = &cx.body;
    let name = required_string(body, "name")?.trim().to_string();
    match opt_bool(body, "is_satellite")? {
        None => return Err(ApiError::missing_param("is_satellite")),
        Some(false) => {
            return Err(ApiError::new(
                422,
                "primary_domain_already_exists",
                "primary domain already exists",
                "Currently, only a single primary domain is supported and the current instance \
                 already has one. All new domains need to be set a satellites."
                    .to_string(),
            ));
        }
        Some(true) => {}
    }
    check_name(&name)?;
    let proxy_url = opt_string(body, "proxy_url")?;
    if let Some(proxy_url) = &proxy_url {
        check_proxy_url(proxy_url)?;
    }
    if name_taken(store, &name, None) {
        return Err(ApiError::identifier_exists("name", "domain"));
    }
    let id = store.new_id("dmn_");
    let domain = domain_json(&id, &name, true, proxy_url.as_deref());
    domains(store).insert(id, domain.clone());
    Ok(domain)
}

/// Changes the name, sets (a string) or clears (`null`) the proxy URL; `is_secondary` is
/// checked but changes nothing the answer shows.
fn update_domain(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    let body = &cx.body;
    reject_unknown(body, &["name", "proxy_url", "is_secondary"])?;
    let current = domains(store)
        .get(id)
        .cloned()
        .ok_or_else(|| not_found(id))?;
    let name = match opt_string(body, "name")? {
        Some(name) => {
            let name = name.trim().to_string();
            check_name(&name)?;
            if name_taken(store, &name, Some(id)) {
                return Err(ApiError::identifier_exists("name", "domain"));
            }
            name
        }
        None => current["name"].as_str().unwrap_or_default().to_string(),
    };
    let proxy_url = match body.get("proxy_url") {
        Some(Value::Null) => None,
        Some(_) => {
            let proxy_url = opt_string(body, "proxy_url")?.unwrap_or_default();
            check_proxy_url(&proxy_url)?;
            Some(proxy_url)
        }
        None => current["proxy_url"].as_str().map(str::to_string),
    };
    opt_bool(body, "is_secondary")?;
    let is_satellite = current["is_satellite"].as_bool().unwrap_or(true);
    let domain = domain_json(id, &name, is_satellite, proxy_url.as_deref());
    domains(store).insert(id.to_string(), domain.clone());
    Ok(domain)
}

fn delete_domain(store: &mut Store, id: &str) -> Result<Value> {
    if id == PRIMARY_DOMAIN_ID {
        return Err(ApiError::new(
            403,
            "operation_not_allowed_on_primary_domain",
            "operation not allowed",
            "This operation is not allowed on a primary domain. Try again with a satellite domain \
             of the instance."
                .to_string(),
        ));
    }
    domains(store)
        .shift_remove(id)
        .ok_or_else(|| not_found(id))?;
    Ok(json!({ "object": "domain", "id": id, "deleted": true }))
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn domain_names_are_hosts_with_an_optional_port() {
        for name in [
            "example.com",
            "shop.example.com",
            "localhost:3000",
            "a-b.example.test:8080",
        ] {
            assert!(check_name(name).is_ok(), "{name}");
        }
        for name in [
            "https://example.com",
            "example.com/path",
            "example",
            ".example.com",
            "example.com:",
            "example.com:port",
            "exa mple.com",
        ] {
            assert!(check_name(name).is_err(), "{name}");
        }
    }
}
