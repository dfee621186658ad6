//! Organization domains: create, list (per organization and across the instance), update,
//! delete and verify ownership. Domains are kept as Clerk renders them, without
//! `public_organization_data`, which is rendered from the organization as it is now.

use serde_json::{Value, json};

use super::{
    Result, Route, SortKey, data_page, opt_bool, opt_string, organization_id, page, reject_unknown,
    required_string, sort_by_key,
};
use crate::api::{ApiError, Context, Query};
use crate::store::Store;

const DOMAINS: &str = "organization_domains";

const ENROLLMENT_MODES: &[&str] = &[
    "manual_invitation",
    "automatic_invitation",
    "automatic_suggestion",
    "enterprise_sso",
];

/// The organization domain operations served here.
pub(crate) const ROUTES: &[Route] = &[
    Route::new(
        "POST",
        "/organizations/{organization_id}/domains",
        |store, cx, p| create_domain(store, cx, p.at(0)),
    ),
    Route::new(
        "GET",
        "/organizations/{organization_id}/domains",
        |store, cx, p| list_domains(store, cx, p.at(0)),
    ),
    Route::new(
        "PATCH",
        "/organizations/{organization_id}/domains/{domain_id}",
        |store, cx, p| update_domain(store, cx, p.at(0), p.at(1)),
    ),
    Route::new(
        "DELETE",
        "/organizations/{organization_id}/domains/{domain_id}",
        |store, _, p| delete_domain(store, p.at(0), p.at(1)),
    ),
    Route::new(
        "POST",
        "/organizations/{organization_id}/domains/{domain_id}/verify_ownership",
        |store, _, p| verify_ownership(store, p.at(0), p.at(1)),
    ),
    Route::new("GET", "/organization_domains", |store, cx, _| {
        list_instance_domains(store, cx)
    }),
];

/// What an administrator's verification looks like (domains the Backend API marks verified).
fn admin_verification() -> Value {
    json!({
        "status": "verified",
        "strategy": "admin",
        "attempts": 0,
        "expire_at": Value::Null,
        "verified_at": Value::Null,
    })
}

fn check_enrollment_mode(mode: &str) -> Result<()> {
    if ENROLLMENT_MODES.contains(&mode) {
        Ok(())
    } else {
        Err(ApiError::value_invalid("enrollment_mode", mode))
    }
}

/// A host name of at least two labels: letters, digits and inner hyphens.
fn check_domain_name(name: &str) -> Result<()> {
    let labels: Vec<&str> = name.split('.').collect();
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if labels.len() >= 2 && labels.iter().all(label_ok) && name.len() <= 253 {
        Ok(())
    } else {
        Err(ApiError::format_invalid(
            "name",
            "name must be a valid domain, for example example.com.".to_string(),
        ))
    }
}

fn render(store: &Store, domain: &Value) -> Value {
    let organization = domain["organization_id"]
        .as_str()
        .and_then(|id| store.organizations.get(id))
        .map(|o| {
            let full = store.organization_json(o);
            json!({
                "id": o.id,
                "name": o.name,
                "slug": o.slug,
                "image_url": full["image_url"],
                "has_image": full["has_image"],
            })
        })
        .unwrap_or(Value::Null);
    let mut value = domain.clone();
    if let Some(map) = value.as_object_mut() {
        map.insert("public_organization_data".into(), organization);
    }
    value
}

/// The domain `domain_id` of the organization, as stored.
fn stored_domain(store: &mut Store, organization_id: &str, domain_id: &str) -> Result<Value> {
    store
        .collection_mut(DOMAINS)
        .get(domain_id)
        .filter(|d| d["organization_id"] == organization_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("organization domain", domain_id))
}

fn create_domain(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    let body = &cx.body;
    let organization_id = organization_id(store, id)?;
    reject_unknown(body, &["name", "enrollment_mode", "verified"])?;
    let name = required_string(body, "name")?.to_lowercase();
    check_domain_name(&name)?;
    let mode = required_string(body, "enrollment_mode")?;
    check_enrollment_mode(&mode)?;
    let verified = opt_bool(body, "verified")?.unwrap_or(true);
    if store
        .collection_mut(DOMAINS)
        .values()
        .any(|d| d["name"] == name.as_str())
    {
        return Err(ApiError::identifier_exists("name", "domain"));
    }
    let now = store.now_ms();
    let domain_id = store.new_id("orgdmn_");
    let domain = json!({
        "object": "organization_domain",
        "id": domain_id,
        "organization_id": organization_id,
        "name": name,
        "enrollment_mode": mode,
        "affiliation_email_address": Value::Null,
        "affiliation_verification": Value::Null,
        "ownership_verification": Value::Null,
        "verification": if verified { admin_verification() } else { Value::Null },
        "total_pending_invitations": 0,
        "total_pending_suggestions": 0,
        "created_at": now,
        "updated_at": now,
    });
    store
        .collection_mut(DOMAINS)
        .insert(domain_id, domain.clone());
    Ok(render(store, &domain))
}

/// The enrollment modes to keep and to leave out, from values that may hold several modes
/// separated by commas, each optionally prefixed with `-`.
fn mode_filter(values: Vec<&str>) -> Result<(Vec<String>, Vec<String>)> {
    let (mut include, mut exclude) = (Vec::new(), Vec::new());
    for mode in values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        match mode.strip_prefix('-') {
            Some(excluded) => {
                check_enrollment_mode(excluded)?;
                exclude.push(excluded.to_string());
            }
            None => {
                check_enrollment_mode(mode)?;
                include.push(mode.to_string());
            }
        }
    }
    Ok((include, exclude))
}

/// The filters both lists share: `verified` and `enrollment_mode`.
struct DomainFilter {
    verified: Option<bool>,
    include: Vec<String>,
    exclude: Vec<String>,
}

impl DomainFilter {
    fn from_query(q: Query<'_>) -> Result<DomainFilter> {
        let (include, exclude) = mode_filter(q.all("enrollment_mode"))?;
        let verified = match q.text("verified").as_deref() {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => return Err(ApiError::value_invalid("verified", other)),
        };
        Ok(DomainFilter {
            verified,
            include,
            exclude,
        })
    }

    fn matches(&self, domain: &Value) -> bool {
        let mode = domain["enrollment_mode"].as_str().unwrap_or_default();
        let verified = domain["verification"]["status"] == "verified";
        self.verified.is_none_or(|wanted| wanted == verified)
            && (self.include.is_empty() || self.include.iter().any(|m| m == mode))
            && !self.exclude.iter().any(|m| m == mode)
    }
}

fn list_page(
    store: &mut Store,
    q: Query<'_>,
    keep: impl Fn(&Value) -> bool,
    order: (String, bool),
) -> Result<Value> {
    let (limit, offset) = q.page()?;
    let domains = store.collection_mut(DOMAINS).clone();
    let mut matching: Vec<&Value> = domains.values().filter(|d| keep(d)).collect();
    let (field, descending) = order;
    sort_by_key(
        &mut matching,
        descending,
        |d| match field.as_str() {
            "name" => SortKey::Text(d["name"].as_str().map(str::to_string)),
            _ => SortKey::Number(d["created_at"].as_i64()),
        },
        |d| d["created_at"].as_i64().unwrap_or(0),
    );
    let total = matching.len();
    let data = page(matching, limit, offset)
        .into_iter()
        .map(|d| render(store, d))
        .collect();
    Ok(data_page(data, total))
}

fn list_domains(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    let filter = DomainFilter::from_query(cx.query)?;
    list_page(
        store,
        cx.query,
        |d| d["organization_id"] == organization_id.as_str() && filter.matches(d),
        ("created_at".to_string(), true),
    )
}

fn list_instance_domains(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let q = cx.query;
    let filter = DomainFilter::from_query(q)?;
    let order = q.order_by("-created_at", &["created_at", "name"])?;
    let organization = q.text("organization_id");
    let query = match q.one("query") {
        Some(text) if text.trim().is_empty() => {
            return Err(ApiError::format_invalid(
                "query",
                "query must not be empty.".to_string(),
            ));
        }
        other => other.map(str::to_lowercase),
    };
    let names: Vec<String> = q
        .all("domains")
        .into_iter()
        .map(str::to_lowercase)
        .collect();
    list_page(
        store,
        q,
        |d| {
            let name = d["name"].as_str().unwrap_or_default();
            let organization_id = d["organization_id"].as_str().unwrap_or_default();
            let query_ok = query.as_deref().is_none_or(|text| {
                if text.starts_with("org_") {
                    organization_id.to_lowercase() == text
                } else {
                    name.contains(text)
                }
            });
            organization.as_deref().is_none_or(|o| o == organization_id)
                && query_ok
                && (names.is_empty() || names.iter().any(|n| n == name))
                && filter.matches(d)
        },
        order,
    )
}

fn update_domain(store: &mut Store, cx: &Context<'_>, id: &str, domain_id: &str) -> Result<Value> {
    let body = &cx.body;
    let organization_id = organization_id(store, id)?;
    stored_domain(store, &organization_id, domain_id)?;
    reject_unknown(body, &["enrollment_mode", "verified"])?;
    let mode = opt_string(body, "enrollment_mode")?;
    if let Some(mode) = &mode {
        check_enrollment_mode(mode)?;
    }
    let verified = opt_bool(body, "verified")?;
    let now = store.now_ms();
    if let Some(domain) = store.collection_mut(DOMAINS).get_mut(domain_id) {
        if let Some(mode) = mode {
            domain["enrollment_mode"] = json!(mode);
        }
        match verified {
            Some(true) if domain["verification"]["status"] != "verified" => {
                domain["verification"] = admin_verification();
            }
            Some(false) => domain["verification"] = Value::Null,
            _ => {}
        }
        domain["updated_at"] = json!(now);
    }
    let domain = stored_domain(store, &organization_id, domain_id)?;
    Ok(render(store, &domain))
}

fn delete_domain(store: &mut Store, id: &str, domain_id: &str) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    stored_domain(store, &organization_id, domain_id)?;
    store.collection_mut(DOMAINS).shift_remove(domain_id);
    Ok(json!({ "object": "organization_domain", "id": domain_id, "deleted": true }))
}

fn verify_ownership(store: &mut Store, id: &str, domain_id: &str) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    let domain = stored_domain(store, &organization_id, domain_id)?;
    if domain["ownership_verification"]["status"] != "verified" {
        let now = store.now_ms();
        if let Some(domain) = store.collection_mut(DOMAINS).get_mut(domain_id) {
            domain["ownership_verification"] = json!({
                "status": "verified",
                "strategy": "manual_override",
                "attempts": Value::Null,
                "expire_at": Value::Null,
                "verified_at": now,
            });
            domain["updated_at"] = json!(now);
        }
    }
    let domain = stored_domain(store, &organization_id, domain_id)?;
    Ok(render(store, &domain))
}

/// Removes a deleted organization's domains.
pub(crate) fn remove_organization_domains(store: &mut Store, organization_id: &str) {
    if store.collection(DOMAINS).is_some() {
        store
            .collection_mut(DOMAINS)
            .retain(|_, d| d["organization_id"] != organization_id);
    }
}
