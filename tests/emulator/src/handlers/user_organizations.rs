//! A user's side of organizations: the memberships they hold and the organization invitations
//! sent to their email addresses, newest first, paged.

use serde_json::{Value, json};

use super::{Result, Route, SortKey, data_page, find_user, page, sort_by_key, statuses_from_query};
use crate::api::Context;
use crate::store::{Membership, OrganizationInvitation, Store};

/// The operations listing a user's memberships and invitations.
pub(crate) const ROUTES: &[Route] = &[
    Route::new(
        "GET",
        "/users/{user_id}/organization_memberships",
        |store, cx, p| list_user_memberships(store, cx, p.at(0)),
    ),
    Route::new(
        "GET",
        "/users/{user_id}/organization_invitations",
        |store, cx, p| list_user_invitations(store, cx, p.at(0)),
    ),
];

fn list_user_memberships(store: &mut Store, cx: &Context<'_>, user_id: &str) -> Result<Value> {
    find_user(store, user_id)?;
    let (limit, offset) = cx.query.page()?;
    let mut memberships: Vec<&Membership> = store
        .memberships
        .values()
        .filter(|m| m.user_id == user_id)
        .collect();
    sort_by_key(
        &mut memberships,
        true,
        |m| SortKey::Number(Some(m.created_at)),
        |m| m.created_at,
    );
    let total = memberships.len();
    let data = page(memberships, limit, offset)
        .into_iter()
        .map(|m| store.membership_json(m))
        .collect();
    Ok(data_page(data, total))
}

/// Invitations to any of the user's email addresses, each with its organization's public data.
fn list_user_invitations(store: &mut Store, cx: &Context<'_>, user_id: &str) -> Result<Value> {
    let user = find_user(store, user_id)?;
    let q = cx.query;
    let (limit, offset) = q.page()?;
    let statuses = statuses_from_query(q)?;
    let emails: Vec<String> = user.emails.iter().map(|e| e.value.to_lowercase()).collect();
    let mut invitations: Vec<&OrganizationInvitation> = store
        .organization_invitations
        .values()
        .filter(|i| emails.contains(&i.email_address.to_lowercase()))
        .filter(|i| statuses.is_empty() || statuses.iter().any(|s| s == i.status))
        .collect();
    sort_by_key(
        &mut invitations,
        true,
        |i| SortKey::Number(Some(i.created_at)),
        |i| i.created_at,
    );
    let total = invitations.len();
    let data = page(invitations, limit, offset)
        .into_iter()
        .map(|invitation| {
            let mut value = store.organization_invitation_json(invitation);
            let organization = store
                .organizations
                .get(&invitation.organization_id)
                .map(|o| store.organization_json(o));
            if let (Some(fields), Some(organization)) = (value.as_object_mut(), organization) {
                fields.insert(
                    "public_organization_data".into(),
                    json!({
                        "id": organization["id"],
                        "name": organization["name"],
                        "slug": organization["slug"],
                        "image_url": organization["image_url"],
                        "has_image": organization["has_image"],
                    }),
                );
            }
            value
        })
        .collect();
    Ok(data_page(data, total))
}
