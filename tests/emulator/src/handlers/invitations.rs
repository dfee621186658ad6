//! Application invitations: list, create (one, or up to ten at once) and revoke.

use serde_json::{Map, Value};

use super::{
    Result, Route, SortKey, check_email, data_page, email_taken, expires_in_days, opt_bool,
    opt_object, opt_string, page, reject_unknown, required_string, sort_by_key,
    statuses_from_query, ticket_url,
};
use crate::api::{ApiError, Context};
use crate::store::{DAY_MS, Invitation, Store};

/// The application invitation operations served here.
pub(crate) const ROUTES: &[Route] = &[
    Route::new("GET", "/invitations", |store, cx, _| {
        list_invitations(store, cx)
    }),
    Route::new("POST", "/invitations", |store, cx, _| {
        create_invitation(store, cx)
    }),
    Route::new("POST", "/invitations/bulk", |store, cx, _| {
        create_bulk_invitations(store, cx)
    })
    .with_array_body(),
    Route::new(
        "POST",
        "/invitations/{invitation_id}/revoke",
        |store, _, p| revoke_invitation(store, p.at(0)),
    ),
];

const CREATE_INVITATION_FIELDS: &[&str] = &[
    "email_address",
    "public_metadata",
    "redirect_url",
    "notify",
    "ignore_existing",
    "expires_in_days",
    "template_slug",
];

pub(crate) fn list_invitations(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let q = cx.query;
    let (limit, offset) = q.page()?;
    let (field, descending) = q.order_by(
        "-created_at",
        &["created_at", "email_address", "expires_at"],
    )?;
    let statuses = statuses_from_query(q)?;
    let search = q.text("query").map(|s| s.to_lowercase());
    let paginated = q.bool("paginated")?.unwrap_or(false);
    let mut invitations: Vec<&Invitation> = store
        .invitations
        .values()
        // Without a status filter Clerk lists the invitations that are not revoked.
        .filter(|i| {
            if statuses.is_empty() {
                i.status != "revoked"
            } else {
                statuses.iter().any(|s| s == i.status)
            }
        })
        .filter(|i| {
            search.as_ref().is_none_or(|s| {
                i.email_address.to_lowercase().contains(s.as_str()) || i.id.to_lowercase() == *s
            })
        })
        .collect();
    sort_by_key(
        &mut invitations,
        descending,
        |i| match field.as_str() {
            "email_address" => SortKey::Text(Some(i.email_address.to_lowercase())),
            "expires_at" => SortKey::Number(i.expires_at),
            _ => SortKey::Number(Some(i.created_at)),
        },
        |i| i.created_at,
    );
    let total = invitations.len();
    let data: Vec<Value> = page(invitations, limit, offset)
        .into_iter()
        .map(|i| store.invitation_json(i))
        .collect();
    Ok(if paginated {
        data_page(data, total)
    } else {
        Value::Array(data)
    })
}

pub(crate) fn create_invitation(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
    let request = InvitationRequest::parse(&cx.body)?;
    request.check_free(store, &[], ExistingUser::Ignorable)?;
    let invitation = request.create(store);
    Ok(store.invitation_json(&invitation))
}

/// Most invitations one bulk request may create (Clerk's documented limit).
const BULK_INVITATIONS_MAX: usize = 10;

/// All or nothing: every item is checked as a single invitation would be (and against the
/// items before it) before any is created. Clerk's spec says no address may belong to a user,
/// "and this rule cannot be bypassed", so `ignore_existing` only skips the pending-invitation
/// check here.
pub(crate) fn create_bulk_invitations(store: &mut Store, cx: &Context<'_>) -> Result<Value> {
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
    let mut requests: Vec<InvitationRequest> = Vec::with_capacity(cx.items.len());
    for item in &cx.items {
        let Value::Object(fields) = item else {
            return Err(ApiError::new(
                400,
                "request_body_invalid",
                "Request body invalid",
                "The request body is invalid: each invitation must be a JSON object".to_string(),
            ));
        };
        let request = InvitationRequest::parse(fields)?;
        request.check_free(store, &requests, ExistingUser::Refused)?;
        requests.push(request);
    }
    let created: Vec<Value> = requests
        .into_iter()
        .map(|request| {
            let invitation = request.create(store);
            store.invitation_json(&invitation)
        })
        .collect();
    Ok(Value::Array(created))
}

/// Whether `ignore_existing` lets an invitation go to an address that has an account.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExistingUser {
    Ignorable,
    Refused,
}

/// A validated request for one invitation, not created yet.
struct InvitationRequest {
    email_address: String,
    public_metadata: Option<Map<String, Value>>,
    redirect_url: Option<String>,
    ignore_existing: bool,
    expires_in_days: i64,
}

impl InvitationRequest {
    fn parse(body: &Map<String, Value>) -> Result<InvitationRequest> {
        reject_unknown(body, CREATE_INVITATION_FIELDS)?;
        let email_address = required_string(body, "email_address")?;
        check_email("email_address", &email_address)?;
        let public_metadata = opt_object(body, "public_metadata")?;
        let redirect_url = opt_string(body, "redirect_url")?;
        opt_bool(body, "notify")?;
        let ignore_existing = opt_bool(body, "ignore_existing")?.unwrap_or(false);
        let expires_in_days = expires_in_days(body)?;
        if let Some(slug) = opt_string(body, "template_slug")?
            && slug != "invitation"
            && slug != "waitlist_invitation"
        {
            return Err(ApiError::value_invalid("template_slug", &slug));
        }
        Ok(InvitationRequest {
            email_address,
            public_metadata,
            redirect_url,
            ignore_existing,
            expires_in_days,
        })
    }

    /// Refuses an address with a pending invitation (in the store or among `earlier` requests
    /// of the same call) or an account, unless `ignore_existing` allows it.
    fn check_free(
        &self,
        store: &Store,
        earlier: &[InvitationRequest],
        existing_user: ExistingUser,
    ) -> Result<()> {
        let email = &self.email_address;
        if !self.ignore_existing {
            let lower = email.to_lowercase();
            let pending = store
                .invitations
                .values()
                .any(|i| i.status == "pending" && i.email_address.to_lowercase() == lower)
                || earlier
                    .iter()
                    .any(|r| r.email_address.to_lowercase() == lower);
            if pending {
                return Err(ApiError::new(
                    400,
                    "duplicate_record",
                    "duplicate invitation",
                    format!(
                        "There are already pending invitations for the following email addresses: {email}"
                    ),
                ));
            }
        }
        let may_skip_user_check = self.ignore_existing && existing_user == ExistingUser::Ignorable;
        if !may_skip_user_check && email_taken(store, email, None) {
            return Err(ApiError::identifier_exists(
                "email_address",
                "email address",
            ));
        }
        Ok(())
    }

    fn create(self, store: &mut Store) -> Invitation {
        let now = store.now_ms();
        let ticket = store.random_token(32);
        let invitation = Invitation {
            id: store.new_id("inv_"),
            url: ticket_url(self.redirect_url.as_deref(), "sign-up", &ticket),
            email_address: self.email_address,
            public_metadata: self.public_metadata.unwrap_or_default(),
            status: "pending",
            expires_at: Some(now + self.expires_in_days * DAY_MS),
            created_at: now,
            updated_at: now,
        };
        store
            .invitations
            .insert(invitation.id.clone(), invitation.clone());
        invitation
    }
}

pub(crate) fn revoke_invitation(store: &mut Store, id: &str) -> Result<Value> {
    let now = store.now_ms();
    let invitation = store
        .invitations
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("invitation", id))?;
    match invitation.status {
        "revoked" => {
            return Err(ApiError::new(
                400,
                "invitation_already_revoked",
                "Invitation already revoked",
                "This invitation has already been revoked.".to_string(),
            ));
        }
        "accepted" => {
            return Err(ApiError::new(
                400,
                "invitation_already_accepted",
                "Invitation already accepted",
                "This invitation has already been accepted and cannot be revoked.".to_string(),
            ));
        }
        _ => {}
    }
    invitation.status = "revoked";
    invitation.updated_at = now;
    let invitation = invitation.clone();
    Ok(store.invitation_json(&invitation))
}
