//! Profile images and organization logos: `multipart/form-data` uploads with the image in the
//! `file` part, kept in the store and shown as the object's `image_url` with `has_image`.
//!
//! Clerk accepts JPEG, PNG, GIF and WebP images of at most 10 MB. Its documentation names the
//! statuses (400, 413) but not the codes; the emulator answers a missing or unusable file with
//! 400 `form_param_missing` or `form_param_format_invalid` (meta `param_name: file`), and a
//! file over the limit with 413 `request_body_too_large`.

use serde_json::Value;

use super::{Result, Route, find_user, organization_id, reject_unknown};
use crate::api::{ApiError, Context};
use crate::multipart::Part;
use crate::store::{Image, Store};

pub(crate) const ROUTES: &[Route] = &[
    Route::new("POST", "/users/{user_id}/profile_image", |store, cx, p| {
        set_user_profile_image(store, cx, p.at(0))
    }),
    Route::new("DELETE", "/users/{user_id}/profile_image", |store, _, p| {
        delete_user_profile_image(store, p.at(0))
    }),
    Route::new(
        "PUT",
        "/organizations/{organization_id}/logo",
        |store, cx, p| upload_organization_logo(store, cx, p.at(0)),
    ),
    Route::new(
        "DELETE",
        "/organizations/{organization_id}/logo",
        |store, _, p| delete_organization_logo(store, p.at(0)),
    ),
];

/// The image types Clerk accepts.
pub(crate) const IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];
/// 10 MB, read as 10 MiB.
pub(crate) const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;

/// `POST /users/{user_id}/profile_image`.
pub(crate) fn set_user_profile_image(
    store: &mut Store,
    cx: &Context<'_>,
    user_id: &str,
) -> Result<Value> {
    find_user(store, user_id)?;
    let image = uploaded_image(store, cx, &[])?;
    store.images.insert(user_id.to_string(), image);
    touch_user(store, user_id)
}

/// `DELETE /users/{user_id}/profile_image`: back to the default image (also when there is none).
pub(crate) fn delete_user_profile_image(store: &mut Store, user_id: &str) -> Result<Value> {
    find_user(store, user_id)?;
    if store.images.shift_remove(user_id).is_none() {
        return Ok(store.user_json(find_user(store, user_id)?));
    }
    touch_user(store, user_id)
}

/// `PUT /organizations/{organization_id}/logo`, by ID or slug. Answers with the organization
/// and its deprecated `logo_url`.
pub(crate) fn upload_organization_logo(
    store: &mut Store,
    cx: &Context<'_>,
    id_or_slug: &str,
) -> Result<Value> {
    let organization_id = organization_id(store, id_or_slug)?;
    if let Some(Value::String(uploader)) = cx.body.get("uploader_user_id") {
        find_user(store, uploader)?;
    }
    let image = uploaded_image(store, cx, &["uploader_user_id"])?;
    store.images.insert(organization_id.clone(), image);
    let mut value = touch_organization(store, &organization_id)?;
    if let Some(map) = value.as_object_mut() {
        let logo_url = map.get("image_url").cloned().unwrap_or(Value::Null);
        map.insert("logo_url".into(), logo_url);
    }
    Ok(value)
}

/// `DELETE /organizations/{organization_id}/logo`, by ID or slug.
pub(crate) fn delete_organization_logo(store: &mut Store, id_or_slug: &str) -> Result<Value> {
    let organization_id = organization_id(store, id_or_slug)?;
    if store.images.shift_remove(&organization_id).is_none() {
        return organization_value(store, &organization_id);
    }
    touch_organization(store, &organization_id)
}

/// The `file` part of an upload, checked as Clerk checks it; `fields` are the text fields the
/// endpoint takes besides it.
fn uploaded_image(store: &mut Store, cx: &Context<'_>, fields: &[&str]) -> Result<Image> {
    if cx.body.contains_key("file") {
        return Err(invalid_file(
            "file must be an uploaded file (a multipart/form-data part with a filename), not a text field."
                .to_string(),
        ));
    }
    reject_unknown(&cx.body, fields)?;
    if let Some(other) = cx.files.iter().find(|part| part.name != "file") {
        return Err(ApiError::unknown_param(&other.name));
    }
    let file = cx.files.iter().find(|part| part.name == "file").ok_or_else(|| {
        ApiError::new(
            400,
            "form_param_missing",
            "missing data",
            "file must be included: send the image as the `file` part of a multipart/form-data body."
                .to_string(),
        )
        .with_param("file")
    })?;
    if file.data.is_empty() {
        return Err(invalid_file("file must not be empty.".to_string()));
    }
    if file.data.len() > MAX_IMAGE_BYTES {
        return Err(ApiError::new(
            413,
            "request_body_too_large",
            "File too large",
            format!(
                "The file is {} bytes; images may be at most 10MB ({MAX_IMAGE_BYTES} bytes).",
                file.data.len()
            ),
        )
        .with_param("file"));
    }
    let content_type = image_type(file).ok_or_else(|| {
        invalid_file(format!(
            "file must be an image of type {}; got {}.",
            IMAGE_TYPES.join(", "),
            file.content_type.as_deref().unwrap_or("no content type")
        ))
    })?;
    Ok(Image {
        id: store.new_id("img_"),
        filename: file.filename.clone(),
        content_type,
        data: file.data.clone(),
    })
}

fn invalid_file(long_message: String) -> ApiError {
    ApiError::new(400, "form_param_format_invalid", "is invalid", long_message).with_param("file")
}

/// The part's declared type when it is an accepted image type. A part sent without a type (or
/// as `application/octet-stream`) is recognised by its first bytes, as an image service would.
fn image_type(file: &Part) -> Option<String> {
    let declared = file.content_type.as_deref().map(|t| {
        t.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    });
    match declared.as_deref() {
        Some(t) if IMAGE_TYPES.contains(&t) => declared,
        None | Some("application/octet-stream") => sniff(&file.data).map(str::to_string),
        Some(_) => None,
    }
}

fn sniff(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.starts_with(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if data.len() >= 12 && data.starts_with(b"RIFF") && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

fn touch_user(store: &mut Store, user_id: &str) -> Result<Value> {
    let now = store.now_ms();
    if let Some(user) = store.users.get_mut(user_id) {
        user.updated_at = now;
    }
    Ok(store.user_json(find_user(store, user_id)?))
}

fn touch_organization(store: &mut Store, organization_id: &str) -> Result<Value> {
    let now = store.now_ms();
    if let Some(organization) = store.organizations.get_mut(organization_id) {
        organization.updated_at = now;
    }
    organization_value(store, organization_id)
}

fn organization_value(store: &Store, organization_id: &str) -> Result<Value> {
    store
        .organizations
        .get(organization_id)
        .map(|o| store.organization_json(o))
        .ok_or_else(|| ApiError::not_found("organization", organization_id))
}
