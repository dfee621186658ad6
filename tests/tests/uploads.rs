//! File uploads end to end, against the emulator: bytes from Lua arrive exactly as they were,
//! JSON callers send base64, a file too large is refused before anything is sent, a retry
//! resends the whole body, and a dry run shows files without their bytes.

use clerk_emulator::{Emulator, Fault, FaultKind};
use kosmo_host::{CallOptions, Host, RunOptions};
use kosmo_tests::{host_for, multipart_parts, run_forced};
use serde_json::{Value, json};

async fn start() -> (Emulator, Host, String) {
    let emulator = Emulator::start(kosmo_tests::emulator_config())
        .await
        .unwrap();
    let host = host_for(&emulator);
    let report = run_forced(
        &host,
        r#"return app.integrations.clerk.create_user({ email_address = { "uploads@example.test" } }).id"#,
    )
    .await;
    assert_eq!(report.error, None, "{report:?}");
    let user_id = report.result.unwrap()[0].as_str().unwrap().to_string();
    emulator.take_requests();
    (emulator, host, user_id)
}

/// The PNG signature, then every byte value: what a text encoding would mangle.
fn every_byte() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(0..=255u8);
    bytes
}

#[tokio::test]
async fn bytes_from_lua_reach_the_provider_exactly() {
    let (emulator, host, user_id) = start().await;
    let report = run_forced(
        &host,
        &format!(
            r#"local bytes = {{ "\137PNG\r\n\26\n" }}
            for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
            local user = app.integrations.clerk.set_user_profile_image({{
              user_id = "{user_id}",
              file = {{ content = table.concat(bytes), filename = "every byte.png", content_type = "image/png" }},
            }})
            return user.has_image, user.image_url"#
        ),
    )
    .await;
    assert_eq!(report.error, None, "{report:?}");
    let result = report.result.unwrap();
    assert_eq!(result[0], true);
    let requests = emulator.take_requests();
    assert_eq!(requests.len(), 1);
    let parts = multipart_parts(&requests[0]);
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].name, "file");
    assert_eq!(parts[0].filename.as_deref(), Some("every byte.png"));
    assert_eq!(parts[0].content_type.as_deref(), Some("image/png"));
    assert_eq!(parts[0].data, every_byte());
    // And the emulator kept them: the image behind the new image_url is the same bytes.
    let image_id = result[1].as_str().unwrap().rsplit('/').next().unwrap();
    let url = format!("http://{}/__emulator/images/{image_id}", emulator.addr());
    let stored = reqwest::get(url).await.unwrap().bytes().await.unwrap();
    assert_eq!(stored.to_vec(), every_byte());
}

#[tokio::test]
async fn json_arguments_send_content_base64_and_the_type_is_guessed_from_the_name() {
    let (emulator, host, user_id) = start().await;
    let base64 = kosmo_runtime::file::encode_base64(&every_byte());
    // What `kosmo integrations:call` and MCP tool calls do: JSON arguments through Host::call.
    let org = host
        .call(
            "clerk",
            "create_organization",
            json!({"name": "Base64 Logos"}),
            CallOptions {
                force: true,
                ..CallOptions::default()
            },
        )
        .await
        .result
        .unwrap();
    let org_id = org["id"].as_str().unwrap().to_string();
    emulator.take_requests();
    let uploaded = host
        .call(
            "clerk",
            "upload_organization_logo",
            json!({
                "organization_id": org_id,
                "file": {"content_base64": base64, "filename": "logo.PNG"},
                "uploader_user_id": user_id,
            }),
            CallOptions {
                force: true,
                ..CallOptions::default()
            },
        )
        .await
        .result
        .unwrap();
    assert_eq!(uploaded["has_image"], true);
    let requests = emulator.take_requests();
    let parts = multipart_parts(&requests[0]);
    let file = parts.iter().find(|p| p.name == "file").unwrap();
    assert_eq!(file.content_type.as_deref(), Some("image/png"));
    assert_eq!(file.filename.as_deref(), Some("logo.PNG"));
    assert_eq!(file.data, every_byte());
    let uploader = parts.iter().find(|p| p.name == "uploader_user_id").unwrap();
    assert_eq!(uploader.text(), Some(user_id.as_str()));
}

#[tokio::test]
async fn a_file_too_large_or_of_the_wrong_type_is_refused_before_sending() {
    let (emulator, host, user_id) = start().await;
    let report = run_forced(
        &host,
        &format!(
            r#"local big = "\137PNG\r\n\26\n" .. string.rep("x", 10 * 1024 * 1024)
            local ok, err = pcall(app.integrations.clerk.set_user_profile_image, {{
              user_id = "{user_id}", file = {{ content = big, filename = "big.png" }},
            }})
            local ok2, err2 = pcall(app.integrations.clerk.set_user_profile_image, {{
              user_id = "{user_id}", file = {{ content = "plain text", filename = "notes.txt" }},
            }})
            local ok3, err3 = pcall(app.integrations.clerk.set_user_profile_image, {{
              user_id = "{user_id}", file = {{ content = "x", content_base64 = "eA==" }},
            }})
            return ok, err.message, err.kind, ok2, err2.message, ok3, err3.message"#
        ),
    )
    .await;
    assert_eq!(report.error, None, "{report:?}");
    let result = report.result.unwrap();
    assert_eq!(
        Value::Array(result),
        json!([
            false,
            "set_user_profile_image: file is 10 MiB (10485768 bytes); at most 10 MiB (10485760 bytes) may be sent, so nothing was sent.",
            "invalid_argument",
            false,
            "set_user_profile_image: file has content type text/plain, which is not accepted; use one of image/jpeg, image/png, image/gif, image/webp.",
            false,
            "set_user_profile_image: file has both `content` and `content_base64`; give only one.",
        ])
    );
    // The same limit for JSON callers, before the base64 is even decoded.
    let big = "A".repeat(14 * 1024 * 1024);
    let error = host
        .call(
            "clerk",
            "set_user_profile_image",
            json!({"user_id": user_id, "file": {"content_base64": big, "filename": "big.png"}}),
            CallOptions {
                force: true,
                ..CallOptions::default()
            },
        )
        .await
        .result
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("may be sent, so nothing was sent."),
        "{error}"
    );
    assert!(
        emulator.take_requests().is_empty(),
        "nothing reached the provider"
    );
}

#[tokio::test]
async fn a_retried_upload_sends_the_whole_body_again() {
    let (emulator, host, _) = start().await;
    let report = run_forced(
        &host,
        r#"return app.integrations.clerk.create_organization({ name = "Retry Logos" }).id"#,
    )
    .await;
    let org_id = report.result.unwrap()[0].as_str().unwrap().to_string();
    let path = format!("/v1/organizations/{org_id}/logo");
    emulator.take_requests();
    // PUT is idempotent, so a 503 is retried; the body is a stream, built anew for the retry.
    emulator.inject(
        Fault::new(FaultKind::ServerError { status: 503 })
            .on("PUT", &path)
            .times(1),
    );
    let report = run_forced(
        &host,
        &format!(
            r#"local png = "\137PNG\r\n\26\n\0\1\2\3"
            return app.integrations.clerk.upload_organization_logo({{
              organization_id = "{org_id}", file = {{ content = png, filename = "logo.png" }},
            }}).has_image"#
        ),
    )
    .await;
    assert_eq!(report.error, None, "{report:?}");
    assert_eq!(report.result.unwrap(), vec![json!(true)]);
    let requests = emulator.take_requests();
    assert_eq!(requests.len(), 2, "the first attempt and its retry");
    let (first, second) = (multipart_parts(&requests[0]), multipart_parts(&requests[1]));
    assert_eq!(first, second);
    assert_eq!(first[0].data, b"\x89PNG\r\n\x1a\n\0\x01\x02\x03");
}

#[tokio::test]
async fn a_dry_run_shows_the_upload_without_its_bytes() {
    let (emulator, host, user_id) = start().await;
    let report = host
        .run(
            &format!(
                r#"return app.integrations.clerk.set_user_profile_image({{
                  user_id = "{user_id}", file = {{ content = "\137PNG\r\n\26\nbytes", filename = "a.png" }},
                }})"#
            ),
            RunOptions {
                dry_run: true,
                ..RunOptions::default()
            },
        )
        .await;
    assert_eq!(report.error, None, "{report:?}");
    let shown: Value = report.result.unwrap()[0].clone();
    assert_eq!(shown["method"], "POST");
    assert_eq!(shown["headers"]["Content-Type"], "multipart/form-data");
    assert_eq!(
        shown["body"],
        json!({"file": {"filename": "a.png", "content_type": "image/png", "size": 13}})
    );
    assert!(emulator.take_requests().is_empty());
}
