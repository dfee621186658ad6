//! Organizations (by ID or slug): list, create, get, update, metadata (merged or replaced) and
//! delete.

use serde_json::{Map, Value, json};

use super::{
    IdFilter, Result, Route, SortKey, data_page, find_organization, find_user, opt_bool, opt_int,
    opt_object, opt_string, opt_timestamp, organization_id, page, reject_unknown, required_string,
    sort_by_key,
};
use crate::api::{ApiError, Context};
use crate::store::{Membership, Organization, Store, merge_metadata};

/// The organization operations served here.
pub(crate) const ROUTES: &[Route] = &[
    Route::new("GET", "/organizations", |store, cx, _| {
        list_organizations(store, cx)
    }),
    Route::new("POST", "/organizations", |store, cx, _| {
        create_organization(store, cx)
    }),
    Route::new("GET", "/organizations/{organization_id}", |store, cx, p| {
        get_organization(store, cx, p.at(0))
    }),
    Route::new(
        "PATCH",
        "/organizations/{organization_id}",
        |store, cx, p| update_organization(store, cx, p.at(0)),
    ),
    Route::new(
        "DELETE",
        "/organizations/{organization_id}",
        |store, _, p| delete_organization(store, p.at(0)),
    ),
    Route::new(
        "PATCH",
        "/organizations/{organization_id}/metadata",
        |store, cx, p| update_organization_metadata(store, cx, p.at(0)),
    ),
    Route::new(
        "PUT",
        "/organizations/{organization_id}/metadata",
        |store, cx, p| replace_organization_metadata(store, cx, p.at(0)),
    ),
];

fn organization_value(
    store: &Store,
    organization: &Organization,
    cx: &Context<'_>,
) -> Result<Value> {
    let mut value = store.organization_json(organization);
    if cx
        .query
        .bool("include_missing_member_with_elevated_permissions")?
        .unwrap_or(false)
        && let Some(map) = value.as_object_mut()
    {
        map.insert(
            "missing_member_with_elevated_permissions".into(),
            json!(store.missing_admin(&organization.id)),
        );
    }
    Ok(value)
}

fn check_slug(slug: &str) -> Result<()> {
    let valid = !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(ApiError::format_invalid(
            "slug",
            "slug must contain only lowercase alphanumeric characters, hyphens and underscores."
                .to_string(),
        ))
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.chars().count() > 256 {
        return Err(ApiError::format_invalid(
            "name",
            "name must be at most 256 characters long.".to_string(),
        ));
    }
    Ok(())
}

fn check_max_memberships(value: Option<i64>) -> Result<()> {
    if value.is_some_and(|v| v < 0) {
        return Err(ApiError::format_invalid(
            "max_allowed_memberships",
            "max_allowed_memberships must be greater than or equal to 0.".to_string(),
        ));
    }
    Ok(())
}

pub(crate) fn list_organizations(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let q = cx.query;
    let (limit, offset) = q.page()?;
    let (field, descending) =
        q.order_by("-created_at", &["created_at", "name", "members_count"])?;
    let search = q.text("query").map(|s| s.to_lowercase());
    let users = IdFilter::from_values(q.all("user_id"));
    let ids = IdFilter::from_values(q.all("organization_id"));
    let mut organizations: Vec<&Organization> = store
        .organizations
        .values()
        .filter(|o| {
            search.as_ref().is_none_or(|s| {
                o.id.to_lowercase() == *s
                    || o.name.to_lowercase().contains(s.as_str())
                    || o.slug.to_lowercase().contains(s.as_str())
            })
        })
        .filter(|o| ids.allows(std::iter::once(o.id.as_str())))
        .filter(|o| {
            let members: Vec<&str> = store
                .memberships
                .values()
                .filter(|m| m.organization_id == o.id)
                .map(|m| m.user_id.as_str())
                .collect();
            users.allows(members.iter().copied())
        })
        .collect();
    sort_by_key(
        &mut organizations,
        descending,
        |o| match field.as_str() {
            "name" => SortKey::Text(Some(o.name.to_lowercase())),
            "members_count" => {
                SortKey::Number(Some(i64::try_from(store.members_count(&o.id)).unwrap_or(0)))
            }
            _ => SortKey::Number(Some(o.created_at)),
        },
        |o| o.created_at,
    );
    let total = organizations.len();
    let data = page(organizations, limit, offset)
        .into_iter()
        .map(|o| organization_value(store, o, cx))
        .collect::<Result<Vec<_>>>()?;
    Ok(data_page(data, total))
}

pub(crate) fn create_organization(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let body = &cx.body;
    let name = required_string(body, "name")?;
    check_name(&name)?;
    let created_by = opt_string(body, "created_by")?.filter(|c| !c.is_empty());
    let slug = opt_string(body, "slug")?.filter(|s| !s.is_empty());
    let max_allowed_memberships = opt_int(body, "max_allowed_memberships")?;
    check_max_memberships(max_allowed_memberships)?;
    let public_metadata = opt_object(body, "public_metadata")?;
    let private_metadata = opt_object(body, "private_metadata")?;
    let role_set_key = opt_string(body, "role_set_key")?;
    let created_at = opt_timestamp(body, "created_at")?;
    if let Some(slug) = &slug {
        check_slug(slug)?;
        if store.is_slug_taken(slug, None) {
            return Err(ApiError::identifier_exists("slug", "slug"));
        }
    }
    if let Some(user_id) = &created_by {
        find_user(store, user_id)?;
    }
    let slug = match slug {
        Some(slug) => slug,
        None => store.slug_from_name(&name),
    };
    let now = store.now_ms();
    let organization = Organization {
        id: store.new_id("org_"),
        name,
        slug,
        max_allowed_memberships: max_allowed_memberships.unwrap_or(0),
        admin_delete_enabled: true,
        public_metadata: public_metadata.unwrap_or_default(),
        private_metadata: private_metadata.unwrap_or_default(),
        created_by: created_by.clone(),
        role_set_key,
        created_at: created_at.unwrap_or(now),
        updated_at: now,
    };
    let organization_id = organization.id.clone();
    store
        .organizations
        .insert(organization_id.clone(), organization);
    if let Some(user_id) = created_by {
        let membership = Membership {
            id: store.new_id("orgmem_"),
            organization_id: organization_id.clone(),
            user_id,
            role: "org:admin".to_string(),
            public_metadata: Map::new(),
            private_metadata: Map::new(),
            created_at: now,
            updated_at: now,
        };
        store.memberships.insert(membership.id.clone(), membership);
    }
    let organization = find_organization(store, &organization_id)?;
    organization_value(store, organization, cx)
}

pub(crate) fn get_organization(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    let organization = find_organization(store, id)?;
    organization_value(store, organization, cx)
}

const UPDATE_ORGANIZATION_FIELDS: &[&str] = &[
    "name",
    "slug",
    "max_allowed_memberships",
    "admin_delete_enabled",
    "created_at",
    "role_set_key",
];

const ORGANIZATION_METADATA_FIELDS: &[&str] = &["public_metadata", "private_metadata"];

pub(crate) fn update_organization(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    let body = &cx.body;
    let organization_id = organization_id(store, id)?;
    if cx.legacy_metadata_allowed {
        let allowed: Vec<&str> = UPDATE_ORGANIZATION_FIELDS
            .iter()
            .chain(ORGANIZATION_METADATA_FIELDS)
            .copied()
            .collect();
        reject_unknown(body, &allowed)?;
    } else {
        reject_unknown(body, UPDATE_ORGANIZATION_FIELDS)?;
    }
    let name = opt_string(body, "name")?;
    if let Some(name) = &name {
        if name.trim().is_empty() {
            return Err(ApiError::missing_param("name"));
        }
        check_name(name)?;
    }
    let slug = opt_string(body, "slug")?;
    if let Some(slug) = &slug {
        check_slug(slug)?;
        if store.is_slug_taken(slug, Some(&organization_id)) {
            return Err(ApiError::identifier_exists("slug", "slug"));
        }
    }
    let max_allowed_memberships = opt_int(body, "max_allowed_memberships")?;
    check_max_memberships(max_allowed_memberships)?;
    let admin_delete_enabled = opt_bool(body, "admin_delete_enabled")?;
    let created_at = opt_timestamp(body, "created_at")?;
    let role_set_key = opt_string(body, "role_set_key")?;
    let mut public = None;
    let mut private = None;
    if cx.legacy_metadata_allowed {
        public = opt_object(body, "public_metadata")?;
        private = opt_object(body, "private_metadata")?;
    }
    let now = store.now_ms();
    let Some(organization) = store.organizations.get_mut(&organization_id) else {
        return Err(ApiError::not_found("organization", id));
    };
    if let Some(name) = name {
        organization.name = name;
    }
    if let Some(slug) = slug {
        organization.slug = slug;
    }
    if let Some(value) = max_allowed_memberships {
        organization.max_allowed_memberships = value;
    }
    if let Some(value) = admin_delete_enabled {
        organization.admin_delete_enabled = value;
    }
    if let Some(value) = created_at {
        organization.created_at = value;
    }
    if role_set_key.is_some() {
        organization.role_set_key = role_set_key;
    }
    if let Some(value) = public {
        organization.public_metadata = value;
    }
    if let Some(value) = private {
        organization.private_metadata = value;
    }
    organization.updated_at = now;
    let organization = find_organization(store, &organization_id)?;
    organization_value(store, organization, cx)
}

pub(crate) fn update_organization_metadata(
    store: &mut Store,
    cx: &Context<'_>,
    id: &str,
) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    reject_unknown(&cx.body, ORGANIZATION_METADATA_FIELDS)?;
    let public = opt_object(&cx.body, "public_metadata")?;
    let private = opt_object(&cx.body, "private_metadata")?;
    let now = store.now_ms();
    if let Some(organization) = store.organizations.get_mut(&organization_id) {
        if let Some(patch) = public {
            merge_metadata(&mut organization.public_metadata, &patch);
        }
        if let Some(patch) = private {
            merge_metadata(&mut organization.private_metadata, &patch);
        }
        organization.updated_at = now;
    }
    let organization = find_organization(store, &organization_id)?;
    organization_value(store, organization, cx)
}

/// Each metadata object given replaces the old one whole; one left out stays as it is.
pub(crate) fn replace_organization_metadata(
    store: &mut Store,
    cx: &Context<'_>,
    id: &str,
) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    reject_unknown(&cx.body, ORGANIZATION_METADATA_FIELDS)?;
    let public = opt_object(&cx.body, "public_metadata")?;
    let private = opt_object(&cx.body, "private_metadata")?;
    let now = store.now_ms();
    if let Some(organization) = store.organizations.get_mut(&organization_id) {
        if let Some(value) = public {
            organization.public_metadata = value;
        }
        if let Some(value) = private {
            organization.private_metadata = value;
        }
        organization.updated_at = now;
    }
    let organization = find_organization(store, &organization_id)?;
    organization_value(store, organization, cx)
}

pub(crate) fn delete_organization(store: &mut Store, id: &str) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    super::organization_domains::remove_organization_domains(store, &organization_id);
    let organization = store
        .delete_organization(&organization_id)
        .ok_or_else(|| ApiError::not_found("organization", id))?;
    Ok(json!({
        "object": "organization",
        "id": organization.id,
        "slug": organization.slug,
        "deleted": true,
    }))
}
