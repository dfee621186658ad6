//! Organization memberships: list (per organization and across the instance), create, update
//! the role, merge metadata and delete.

use serde_json::{Value, json};

use super::organization_roles::role_name_and_permissions;
use super::{
    Result, Route, SortKey, UserFilter, data_page, find_organization, find_user, opt_object,
    organization_id, page, reject_unknown, required_string, sort_by_key, user_sort_key,
};
use crate::api::{ApiError, Context};
use crate::store::{Membership, Store, merge_metadata};

/// The organization membership operations served here.
pub(crate) const ROUTES: &[Route] = &[
    Route::new(
        "GET",
        "/organizations/{organization_id}/memberships",
        |store, cx, p| list_memberships(store, cx, p.at(0)),
    ),
    Route::new(
        "POST",
        "/organizations/{organization_id}/memberships",
        |store, cx, p| create_membership(store, cx, p.at(0)),
    ),
    Route::new(
        "PATCH",
        "/organizations/{organization_id}/memberships/{user_id}",
        |store, cx, p| update_membership(store, cx, p.at(0), p.at(1)),
    ),
    Route::new(
        "DELETE",
        "/organizations/{organization_id}/memberships/{user_id}",
        |store, _, p| delete_membership(store, p.at(0), p.at(1)),
    ),
    Route::new(
        "PATCH",
        "/organizations/{organization_id}/memberships/{user_id}/metadata",
        |store, cx, p| update_membership_metadata(store, cx, p.at(0), p.at(1)),
    ),
    Route::new("GET", "/organization_memberships", |store, cx, _| {
        list_instance_memberships(store, cx)
    }),
];

/// The fields a membership can be sorted by: its creation, or its member's.
const MEMBERSHIP_ORDER_FIELDS: &[&str] = &[
    "created_at",
    "phone_number",
    "email_address",
    "first_name",
    "last_name",
    "username",
];

/// Clerk's membership, its role's name and permissions taken from the role itself once the
/// roles have been looked at (custom roles and changed system roles show as they are).
fn membership_value(store: &Store, membership: &Membership) -> Value {
    let mut value = store.membership_json(membership);
    if let Some((name, permissions)) = role_name_and_permissions(store, &membership.role) {
        value["role_name"] = json!(name);
        value["permissions"] = json!(permissions);
    }
    value
}

fn sort_memberships(store: &Store, memberships: &mut [&Membership], field: &str, descending: bool) {
    sort_by_key(
        memberships,
        descending,
        |m| match (field, store.users.get(&m.user_id)) {
            ("created_at", _) | (_, None) => SortKey::Number(Some(m.created_at)),
            (field, Some(user)) => user_sort_key(user, field),
        },
        |m| m.created_at,
    );
}

fn membership_not_found(organization_id: &str, user_id: &str) -> ApiError {
    ApiError::new(
        404,
        "resource_not_found",
        "not found",
        format!("No membership was found for user {user_id} in organization {organization_id}"),
    )
}

pub(crate) fn list_memberships(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    let q = cx.query;
    let (limit, offset) = q.page()?;
    let (field, descending) = q.order_by("-created_at", MEMBERSHIP_ORDER_FIELDS)?;
    let roles = q.all("role");
    let filter = UserFilter::from_query(q)?;
    // The membership's own creation time, not the user's.
    let created_after = q.int("created_at_after")?;
    let created_before = q.int("created_at_before")?;
    let user_filter = UserFilter {
        created_at_after: None,
        created_at_before: None,
        ..filter
    };
    let mut memberships: Vec<&Membership> = store
        .memberships
        .values()
        .filter(|m| m.organization_id == organization_id)
        .filter(|m| roles.is_empty() || roles.contains(&m.role.as_str()))
        .filter(|m| created_after.is_none_or(|t| m.created_at > t))
        .filter(|m| created_before.is_none_or(|t| m.created_at < t))
        .filter(|m| {
            store
                .users
                .get(&m.user_id)
                .is_some_and(|u| user_filter.matches(store, u))
        })
        .collect();
    sort_memberships(store, &mut memberships, &field, descending);
    let total = memberships.len();
    let data = page(memberships, limit, offset)
        .into_iter()
        .map(|m| membership_value(store, m))
        .collect();
    Ok(data_page(data, total))
}

pub(crate) fn create_membership(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    let user_id = required_string(&cx.body, "user_id")?;
    let role = required_string(&cx.body, "role")?;
    let public_metadata = opt_object(&cx.body, "public_metadata")?;
    let private_metadata = opt_object(&cx.body, "private_metadata")?;
    find_user(store, &user_id)?;
    if store.membership_of(&organization_id, &user_id).is_some() {
        return Err(ApiError::new(
            400,
            "duplicate_record",
            "duplicate membership",
            format!("User {user_id} is already a member of the organization."),
        ));
    }
    let limit = find_organization(store, &organization_id)?.max_allowed_memberships;
    if limit > 0
        && i64::try_from(store.members_count(&organization_id)).unwrap_or(i64::MAX) >= limit
    {
        return Err(ApiError::new(
            403,
            "organization_membership_quota_exceeded",
            "Membership quota exceeded",
            format!("The organization has reached its limit of {limit} memberships."),
        ));
    }
    let now = store.now_ms();
    let membership = Membership {
        id: store.new_id("orgmem_"),
        organization_id,
        user_id,
        role,
        public_metadata: public_metadata.unwrap_or_default(),
        private_metadata: private_metadata.unwrap_or_default(),
        created_at: now,
        updated_at: now,
    };
    store
        .memberships
        .insert(membership.id.clone(), membership.clone());
    Ok(membership_value(store, &membership))
}

pub(crate) fn update_membership(
    store: &mut Store,
    cx: &Context<'_>,
    id: &str,
    user_id: &str,
) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    let role = required_string(&cx.body, "role")?;
    let membership_id = store
        .membership_of(&organization_id, user_id)
        .map(|m| m.id.clone())
        .ok_or_else(|| membership_not_found(&organization_id, user_id))?;
    let now = store.now_ms();
    let Some(membership) = store.memberships.get_mut(&membership_id) else {
        return Err(membership_not_found(&organization_id, user_id));
    };
    membership.role = role;
    membership.updated_at = now;
    let membership = membership.clone();
    Ok(membership_value(store, &membership))
}

pub(crate) fn delete_membership(store: &mut Store, id: &str, user_id: &str) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    let membership = store
        .membership_of(&organization_id, user_id)
        .cloned()
        .ok_or_else(|| membership_not_found(&organization_id, user_id))?;
    store.memberships.shift_remove(&membership.id);
    Ok(membership_value(store, &membership))
}

pub(crate) fn update_membership_metadata(
    store: &mut Store,
    cx: &Context<'_>,
    id: &str,
    user_id: &str,
) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    reject_unknown(&cx.body, &["public_metadata", "private_metadata"])?;
    let public = opt_object(&cx.body, "public_metadata")?;
    let private = opt_object(&cx.body, "private_metadata")?;
    let membership_id = store
        .membership_of(&organization_id, user_id)
        .map(|m| m.id.clone())
        .ok_or_else(|| membership_not_found(&organization_id, user_id))?;
    let now = store.now_ms();
    let Some(membership) = store.memberships.get_mut(&membership_id) else {
        return Err(membership_not_found(&organization_id, user_id));
    };
    if let Some(patch) = public {
        merge_metadata(&mut membership.public_metadata, &patch);
    }
    if let Some(patch) = private {
        merge_metadata(&mut membership.private_metadata, &patch);
    }
    membership.updated_at = now;
    let membership = membership.clone();
    Ok(membership_value(store, &membership))
}

/// Every organization's memberships, newest first unless `order_by` says otherwise.
pub(crate) fn list_instance_memberships(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let q = cx.query;
    let (limit, offset) = q.page()?;
    let (field, descending) = q.order_by("-created_at", MEMBERSHIP_ORDER_FIELDS)?;
    let mut memberships: Vec<&Membership> = store.memberships.values().collect();
    sort_memberships(store, &mut memberships, &field, descending);
    let total = memberships.len();
    let data = page(memberships, limit, offset)
        .into_iter()
        .map(|m| membership_value(store, m))
        .collect();
    Ok(data_page(data, total))
}
