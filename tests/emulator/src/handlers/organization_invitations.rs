//! Organization invitations: list (per organization and across the instance), create (one, or
//! up to 10 from a JSON array body, all or none), get and revoke.

use serde_json::{Value, json};

use super::{
    Result, Route, SortKey, check_email, data_page, expires_in_days, find_user, opt_bool,
    opt_object, opt_string, organization_id, page, required_string, sort_by_key,
    statuses_from_query, ticket_url,
};
use crate::api::{ApiError, Context};
use crate::store::{DAY_MS, OrganizationInvitation, Store};

/// The organization invitation operations served here.
pub(crate) const ROUTES: &[Route] = &[
    Route::new(
        "GET",
        "/organizations/{organization_id}/invitations",
        |store, cx, p| list_organization_invitations(store, cx, p.at(0)),
    ),
    Route::new(
        "POST",
        "/organizations/{organization_id}/invitations",
        |store, cx, p| create_organization_invitation(store, cx, p.at(0)),
    ),
    Route::new(
        "POST",
        "/organizations/{organization_id}/invitations/bulk",
        |store, cx, p| create_organization_invitations(store, cx, p.at(0)),
    )
    .with_array_body(),
    Route::new(
        "POST",
        "/organizations/{organization_id}/invitations/{invitation_id}/revoke",
        |store, cx, p| revoke_organization_invitation(store, cx, p.at(0), p.at(1)),
    ),
    Route::new(
        "GET",
        "/organizations/{organization_id}/invitations/{invitation_id}",
        |store, _, p| get_organization_invitation(store, p.at(0), p.at(1)),
    ),
    Route::new("GET", "/organization_invitations", |store, cx, _| {
        list_instance_organization_invitations(store, cx)
    }),
];

pub(crate) fn list_organization_invitations(
    store: &mut Store,
    cx: &Context<'_>,
    id: &str,
) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    let q = cx.query;
    let (limit, offset) = q.page()?;
    let (field, descending) = q.order_by("-created_at", &["created_at", "email_address"])?;
    let statuses = statuses_from_query(q)?;
    let email = q.text("email_address").map(|e| e.to_lowercase());
    let mut invitations: Vec<&OrganizationInvitation> = store
        .organization_invitations
        .values()
        .filter(|i| i.organization_id == organization_id)
        .filter(|i| statuses.is_empty() || statuses.iter().any(|s| s == i.status))
        .filter(|i| {
            email
                .as_ref()
                .is_none_or(|e| i.email_address.to_lowercase() == *e)
        })
        .collect();
    sort_by_key(
        &mut invitations,
        descending,
        |i| match field.as_str() {
            "email_address" => SortKey::Text(Some(i.email_address.to_lowercase())),
            _ => SortKey::Number(Some(i.created_at)),
        },
        |i| i.created_at,
    );
    let total = invitations.len();
    let data = page(invitations, limit, offset)
        .into_iter()
        .map(|i| store.organization_invitation_json(i))
        .collect();
    Ok(data_page(data, total))
}

pub(crate) fn create_organization_invitation(
    store: &mut Store,
    cx: &Context<'_>,
    id: &str,
) -> Result<Value> {
    let body = &cx.body;
    let organization_id = organization_id(store, id)?;
    let email = required_string(body, "email_address")?;
    check_email("email_address", &email)?;
    let role = required_string(body, "role")?;
    let inviter_id = opt_string(body, "inviter_user_id")?.filter(|i| !i.is_empty());
    let redirect_url = opt_string(body, "redirect_url")?;
    let days = expires_in_days(body)?;
    opt_bool(body, "notify")?;
    let public_metadata = opt_object(body, "public_metadata")?;
    let private_metadata = opt_object(body, "private_metadata")?;
    if let Some(inviter) = &inviter_id {
        find_user(store, inviter)?;
    }
    let lower = email.to_lowercase();
    let duplicate = store.organization_invitations.values().any(|i| {
        i.organization_id == organization_id
            && i.status == "pending"
            && i.email_address.to_lowercase() == lower
    });
    if duplicate {
        return Err(ApiError::new(
            400,
            "organization_invitation_not_unique",
            "Duplicate invitation",
            "Organizations cannot have duplicate pending invitations for an email address."
                .to_string(),
        ));
    }
    let now = store.now_ms();
    let ticket = store.random_token(32);
    let invitation = OrganizationInvitation {
        id: store.new_id("orginv_"),
        organization_id,
        email_address: email,
        role,
        inviter_id,
        status: "pending",
        public_metadata: public_metadata.unwrap_or_default(),
        private_metadata: private_metadata.unwrap_or_default(),
        url: Some(ticket_url(
            redirect_url.as_deref(),
            "accept-organization-invitation",
            &ticket,
        )),
        expires_at: Some(now + days * DAY_MS),
        created_at: now,
        updated_at: now,
    };
    store
        .organization_invitations
        .insert(invitation.id.clone(), invitation.clone());
    Ok(store.organization_invitation_json(&invitation))
}

/// Most invitations one bulk request may create (Clerk's documented limit).
const BULK_INVITATIONS_MAX: usize = 10;

/// All or nothing: each item is created as a single invitation would be (so a later item is
/// checked against the earlier ones); if one is refused, those made before it are removed.
fn create_organization_invitations(store: &mut Store, cx: &Context<'_>, id: &str) -> Result<Value> {
    organization_id(store, id)?;
    if cx.items.is_empty() || cx.items.len() > BULK_INVITATIONS_MAX {
        return Err(ApiError::new(
            422,
            "form_param_format_invalid",
            "is invalid",
            format!(
                "Between 1 and {BULK_INVITATIONS_MAX} invitations can be created per request; {} were given.",
                cx.items.len()
            ),
        ));
    }
    let before = store.organization_invitations.clone();
    let mut created = Vec::with_capacity(cx.items.len());
    for item in &cx.items {
        let Value::Object(fields) = item else {
            store.organization_invitations = before;
            return Err(ApiError::new(
                400,
                "request_body_invalid",
                "Request body invalid",
                "The request body is invalid: each invitation must be a JSON object".to_string(),
            ));
        };
        let single = Context {
            query: cx.query,
            body: fields.clone(),
            files: Vec::new(),
            items: Vec::new(),
            legacy_metadata_allowed: cx.legacy_metadata_allowed,
        };
        match create_organization_invitation(store, &single, id) {
            Ok(invitation) => created.push(invitation),
            Err(error) => {
                store.organization_invitations = before;
                return Err(error);
            }
        }
    }
    let total = created.len();
    Ok(data_page(created, total))
}

pub(crate) fn revoke_organization_invitation(
    store: &mut Store,
    cx: &Context<'_>,
    id: &str,
    invitation_id: &str,
) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    if let Some(requester) = opt_string(&cx.body, "requesting_user_id")?.filter(|r| !r.is_empty()) {
        find_user(store, &requester)?;
    }
    let now = store.now_ms();
    let invitation = store
        .organization_invitations
        .get_mut(invitation_id)
        .filter(|i| i.organization_id == organization_id)
        .ok_or_else(|| ApiError::not_found("organization invitation", invitation_id))?;
    if invitation.status != "pending" {
        return Err(ApiError::new(
            404,
            "organization_invitation_not_pending",
            "Invitation not pending",
            "The organization invitation is not in the 'pending' status.".to_string(),
        ));
    }
    invitation.status = "revoked";
    invitation.updated_at = now;
    let invitation = invitation.clone();
    Ok(store.organization_invitation_json(&invitation))
}

pub(crate) fn get_organization_invitation(
    store: &mut Store,
    id: &str,
    invitation_id: &str,
) -> Result<Value> {
    let organization_id = organization_id(store, id)?;
    store
        .organization_invitations
        .get(invitation_id)
        .filter(|i| i.organization_id == organization_id)
        .map(|i| store.organization_invitation_json(i))
        .ok_or_else(|| ApiError::not_found("organization invitation", invitation_id))
}

/// Every organization's invitations, each with its organization's public data.
pub(crate) fn list_instance_organization_invitations(
    store: &mut Store,
    cx: &Context<'_>,
) -> Result<Value> {
    let q = cx.query;
    let (limit, offset) = q.page()?;
    let (field, descending) = q.order_by("-created_at", &["created_at", "email_address"])?;
    let statuses = statuses_from_query(q)?;
    let search = q.text("query").map(|e| e.to_lowercase());
    let mut invitations: Vec<&OrganizationInvitation> = store
        .organization_invitations
        .values()
        .filter(|i| statuses.is_empty() || statuses.iter().any(|s| s == i.status))
        .filter(|i| {
            search
                .as_ref()
                .is_none_or(|s| i.email_address.to_lowercase().contains(s.as_str()))
        })
        .collect();
    sort_by_key(
        &mut invitations,
        descending,
        |i| match field.as_str() {
            "email_address" => SortKey::Text(Some(i.email_address.to_lowercase())),
            _ => SortKey::Number(Some(i.created_at)),
        },
        |i| i.created_at,
    );
    let total = invitations.len();
    let data = page(invitations, limit, offset)
        .into_iter()
        .map(|i| {
            let mut value = store.organization_invitation_json(i);
            let organization = store.organizations.get(&i.organization_id).map(|o| {
                let full = store.organization_json(o);
                json!({
                    "id": o.id,
                    "name": o.name,
                    "slug": o.slug,
                    "image_url": full["image_url"],
                    "has_image": full["has_image"],
                })
            });
            value["public_organization_data"] = organization.unwrap_or(Value::Null);
            value
        })
        .collect();
    Ok(data_page(data, total))
}
