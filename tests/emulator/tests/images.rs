//! Profile images and organization logos: multipart uploads, what the objects show, and
//! Clerk-style refusals.

use crate::common;

use common::{Api, PNG};
use serde_json::{Value, json};

const DEFAULT_IMAGE: &str = "https://img.clerk.com/emulator/default-avatar.png";

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_string()
}

/// An upload's bytes and content type, from the control endpoint.
async fn stored_image(api: &Api, image_url: &str) -> (String, Vec<u8>) {
    let image_id = image_url.rsplit('/').next().unwrap();
    let url = format!(
        "http://{}/__emulator/images/{image_id}",
        api.emulator.addr()
    );
    let response = api.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    (content_type, response.bytes().await.unwrap().to_vec())
}

async fn uploads(api: &Api) -> Value {
    let url = format!("http://{}/__emulator/images", api.emulator.addr());
    let bytes = api
        .client
        .get(url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn a_profile_image_is_stored_shown_and_deleted() {
    let api = Api::start().await;
    let user = api.user("profile-image@example.test").await;
    assert_eq!(
        (user["has_image"].as_bool(), user["image_url"].as_str()),
        (Some(false), Some(DEFAULT_IMAGE))
    );
    let path = format!("/users/{}/profile_image", id(&user));
    // Every byte value after the PNG's own bytes: nothing may be lost or re-encoded.
    let mut bytes = PNG.to_vec();
    bytes.extend(0..=255u8);
    let answer = api
        .upload(
            "POST",
            &path,
            &[],
            &[("file", "avatar.png", Some("image/png"), &bytes)],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let updated = answer.body;
    assert_eq!(updated["has_image"], true);
    let image_url = updated["image_url"].as_str().unwrap().to_string();
    assert!(
        image_url.starts_with("https://img.clerk.com/emulator/uploaded/img_"),
        "{image_url}"
    );
    assert_eq!(updated["profile_image_url"], updated["image_url"]);
    assert!(updated["updated_at"].as_i64() > user["updated_at"].as_i64());
    let fetched = api.ok("GET", &format!("/users/{}", id(&user)), None).await;
    assert_eq!(fetched["image_url"], image_url.as_str());
    assert_eq!(
        stored_image(&api, &image_url).await,
        ("image/png".to_string(), bytes.clone())
    );
    assert_eq!(
        uploads(&api).await,
        json!([{
            "owner_id": user["id"], "id": image_url.rsplit('/').next().unwrap(), "filename": "avatar.png",
            "content_type": "image/png", "size": bytes.len(), "image_url": image_url,
        }])
    );

    let removed = api.ok("DELETE", &path, None).await;
    assert_eq!(
        (
            removed["has_image"].as_bool(),
            removed["image_url"].as_str()
        ),
        (Some(false), Some(DEFAULT_IMAGE))
    );
    assert_eq!(uploads(&api).await, json!([]));
    // Deleting again changes nothing and succeeds.
    let again = api.ok("DELETE", &path, None).await;
    assert_eq!(again["updated_at"], removed["updated_at"]);
}

#[tokio::test]
async fn an_organization_logo_shows_everywhere_the_organization_does() {
    let api = Api::start().await;
    let owner = api.user("logo-owner@example.test").await;
    let org = api.organization("Logo Makers", Some(&id(&owner))).await;
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00,";
    // By slug, crediting a user; a part without a content type is known by its bytes.
    let answer = api
        .upload(
            "PUT",
            "/organizations/logo-makers/logo",
            &[("uploader_user_id", owner["id"].as_str().unwrap())],
            &[("file", "logo", None, gif)],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let uploaded = answer.body;
    assert_eq!(uploaded["id"], org["id"]);
    assert_eq!(uploaded["has_image"], true);
    assert_eq!(uploaded["logo_url"], uploaded["image_url"]);
    let image_url = uploaded["image_url"].as_str().unwrap();
    assert_eq!(
        stored_image(&api, image_url).await,
        ("image/gif".to_string(), gif.to_vec())
    );
    let memberships = api
        .ok(
            "GET",
            &format!("/organizations/{}/memberships", id(&org)),
            None,
        )
        .await;
    assert_eq!(
        memberships["data"][0]["organization"]["image_url"],
        image_url
    );

    let removed = api
        .ok("DELETE", &format!("/organizations/{}/logo", id(&org)), None)
        .await;
    assert_eq!(
        (
            removed["has_image"].as_bool(),
            removed["image_url"].as_str()
        ),
        (Some(false), Some(DEFAULT_IMAGE))
    );
    assert!(removed.get("logo_url").is_none());
}

/// A file part: field name, filename, content type, bytes.
type FilePart<'a> = (&'a str, &'a str, Option<&'a str>, &'a [u8]);

/// A refused upload: method, path, text fields, files, and the status, code and parameter of
/// the answer.
type Refusal<'a> = (
    &'a str,
    &'a str,
    Vec<(&'a str, &'a str)>,
    Vec<FilePart<'a>>,
    u16,
    &'a str,
    &'a str,
);

#[tokio::test]
async fn unusable_uploads_are_refused_as_clerk_refuses_them() {
    let api = Api::start().await;
    let user = api.user("refusals@example.test").await;
    let org = api.organization("Refusals", None).await;
    let profile = format!("/users/{}/profile_image", id(&user));
    let logo = format!("/organizations/{}/logo", id(&org));
    let too_large = vec![0u8; 10 * 1024 * 1024 + 1];
    let cases: Vec<Refusal<'_>> = vec![
        (
            "POST",
            &profile,
            vec![],
            vec![],
            400,
            "form_param_missing",
            "file",
        ),
        (
            "POST",
            &profile,
            vec![],
            vec![("file", "a.txt", Some("text/plain"), b"hello")],
            400,
            "form_param_format_invalid",
            "file",
        ),
        (
            "POST",
            &profile,
            vec![],
            vec![("file", "a.png", Some("image/png"), b"")],
            400,
            "form_param_format_invalid",
            "file",
        ),
        (
            "POST",
            &profile,
            vec![],
            vec![("file", "big.png", Some("image/png"), &too_large)],
            413,
            "request_body_too_large",
            "file",
        ),
        (
            "POST",
            &profile,
            vec![("caption", "x")],
            vec![("file", "a.png", Some("image/png"), PNG)],
            422,
            "form_param_unknown",
            "caption",
        ),
        (
            "POST",
            &profile,
            vec![],
            vec![("image", "a.png", Some("image/png"), PNG)],
            422,
            "form_param_unknown",
            "image",
        ),
        (
            "PUT",
            &logo,
            vec![("uploader_user_id", "user_missing1")],
            vec![("file", "a.png", Some("image/png"), PNG)],
            404,
            "resource_not_found",
            "",
        ),
        (
            "POST",
            "/users/user_missing1/profile_image",
            vec![],
            vec![("file", "a.png", Some("image/png"), PNG)],
            404,
            "resource_not_found",
            "",
        ),
        (
            "PUT",
            "/organizations/org_missing1/logo",
            vec![],
            vec![("file", "a.png", Some("image/png"), PNG)],
            404,
            "resource_not_found",
            "",
        ),
    ];
    for (method, path, fields, files, status, code, param) in cases {
        let answer = api.upload(method, path, &fields, &files).await;
        assert_eq!(
            (answer.status, answer.code(), answer.param()),
            (status, code, param),
            "{method} {path} {fields:?}: {}",
            answer.body
        );
    }
    // A JSON body has no file part; a multipart body cut short is not a body.
    let json_body = api.post(&profile, json!({"file": "avatar.png"})).await;
    assert_eq!(
        (json_body.status, json_body.code(), json_body.param()),
        (400, "form_param_format_invalid", "file")
    );
    let cut = api
        .send(
            api.request("POST", &profile)
                .header("content-type", "multipart/form-data; boundary=abc")
                .body("--abc\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n\u{89}PNG"),
        )
        .await;
    assert_eq!((cut.status, cut.code()), (400, "request_body_invalid"));
    assert_eq!(uploads(&api).await, json!([]), "nothing refused was stored");
    let unchanged = api.ok("GET", &format!("/users/{}", id(&user)), None).await;
    assert_eq!(unchanged["has_image"], false);
}
