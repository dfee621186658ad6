//! The imaginary `acme` provider (codegen/tests/fixtures/spec/acme.yaml), generated into
//! tests/fixture-crate and driven end to end through a recording transport: proof that the
//! generator works for any provider and that its handlers build exactly the requests the
//! manifest describes.

use crate::support;

use std::sync::Arc;

use kosmo_fixture_integrations::acme;
use kosmo_runtime::{BodyFormat, Method};
use serde_json::{Value, json};
use support::Recorder;

fn widget_recorder() -> Recorder {
    Recorder::answering(json!({"object": "widget", "id": "wid_1"}))
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn query_parameters_follow_the_manifest() {
    let recorder = widget_recorder();
    // `widgets` is a manifest alias of list_widgets; `type` is a Rust keyword as a field name.
    acme::call(
        &recorder,
        "widgets",
        json!({"limit": 20, "color": ["red", "blue"], "type": "round", "in_stock": false}),
    )
    .await
    .unwrap();
    let request = recorder.last();
    assert_eq!(request.method, Method::Get);
    assert_eq!(request.path, "/widgets");
    assert_eq!(
        request.query,
        pairs(&[
            ("limit", "20"),
            ("color", "red"),
            ("color", "blue"),
            ("type", "round"),
            ("in_stock", "false")
        ])
    );
    assert_eq!(request.body, None);
}

#[tokio::test]
async fn path_parameters_are_one_encoded_segment_under_their_wire_name() {
    let recorder = widget_recorder();
    acme::call(
        &recorder,
        "get_widget",
        json!({"widget_id": "../admin?x=1"}),
    )
    .await
    .unwrap();
    assert_eq!(recorder.last().path, "/widgets/..%2Fadmin%3Fx%3D1");
    acme::call(
        &recorder,
        "acme_delete_widget",
        json!({"widget_id": "wid_1", "version": 3}),
    )
    .await
    .unwrap();
    let request = recorder.last();
    assert_eq!(
        (request.method, request.path.as_str()),
        (Method::Delete, "/widgets/wid_1/versions/3")
    );
}

#[tokio::test]
async fn declared_body_fields_win_over_the_spread_table() {
    let recorder = widget_recorder();
    acme::call(
        &recorder,
        "create_widget",
        json!({"name": "Sprocket", "weight": 1.5, "body": {"name": "ignored", "note": "kept"}}),
    )
    .await
    .unwrap();
    let body = recorder.last().body.expect("a body");
    assert_eq!(
        Value::Object(body),
        json!({"name": "Sprocket", "weight": 1.5, "note": "kept"})
    );
}

#[tokio::test]
async fn a_multipart_function_sends_text_fields_and_its_file() {
    let recorder = widget_recorder();
    acme::call(
        &recorder,
        "upload_widget_image",
        json!({
            "widget_id": "wid_1",
            "image": {"content_base64": "R0lGODlhAQABAAAAACw=", "filename": "dot.gif"},
            "caption": "Front",
            "position": 2,
        }),
    )
    .await
    .unwrap();
    let request = recorder.last();
    assert_eq!(
        (request.method, request.path.as_str()),
        (Method::Put, "/widgets/wid_1/image")
    );
    assert_eq!(request.format, BodyFormat::Multipart);
    assert_eq!(
        request.text_fields(),
        pairs(&[("caption", "Front"), ("position", "2")])
    );
    let [(name, file)] = &request.files[..] else {
        panic!("one file: {:?}", request.files);
    };
    assert_eq!(name, "image");
    assert_eq!(file.filename, "dot.gif");
    assert_eq!(file.content_type, "image/gif");
    assert_eq!(&file.content[..], b"GIF89a\x01\0\x01\0\0\0\0,");
}

#[tokio::test]
async fn a_file_that_does_not_fit_is_refused_before_sending() {
    let recorder = widget_recorder();
    let big = "A".repeat(2000);
    let cases = [
        (
            json!({"widget_id": "w", "image": {"content": big, "content_type": "image/png"}}),
            "upload_widget_image: image is 2 KiB (2000 bytes); at most 1 KiB (1024 bytes) may be sent, so nothing was sent.",
        ),
        (
            json!({"widget_id": "w", "image": {"content": "hello", "filename": "a.txt"}}),
            "upload_widget_image: image has content type text/plain, which is not accepted; use one of image/png, image/gif.",
        ),
        (
            json!({"widget_id": "w", "image": {"content_base64": "R0lG!!", "filename": "a.gif"}}),
            "upload_widget_image: image has `content_base64` that is not valid base64",
        ),
    ];
    for (args, expected) in cases {
        let error = acme::call(&recorder, "upload_widget_image", args)
            .await
            .unwrap_err();
        assert!(error.to_string().starts_with(expected), "{error}");
    }
    assert_eq!(recorder.count(), 0);
}

#[tokio::test]
async fn response_wrapping_and_constant_query_come_from_the_manifest() {
    let recorder = widget_recorder();
    let result = acme::call(&recorder, "ping", json!({})).await.unwrap();
    assert_eq!(
        result,
        json!({"connected": true, "data": {"object": "widget", "id": "wid_1"}})
    );
    assert_eq!(recorder.last().query, pairs(&[("limit", "1")]));
}

#[tokio::test]
async fn bad_calls_fail_before_anything_is_sent() {
    let recorder = widget_recorder();
    let cases = [
        (
            "get_widgets",
            json!({}),
            "Unknown function: app.integrations.acme.get_widgets. Did you mean: get_widget",
        ),
        ("get_widget", json!({}), "get_widget: id is required."),
        (
            "list_widgets",
            json!({"limit": 0}),
            "list_widgets: limit must be at least 1, got 0.",
        ),
        (
            "list_widgets",
            json!({"color": ["pink"]}),
            "list_widgets: color must be one of \"red\", \"green\", \"blue\", got \"pink\".",
        ),
        (
            "raw_get",
            json!({"path": "https://evil.example/x"}),
            "raw_get: path must be a path relative to the base URL, not a URL to another host.",
        ),
    ];
    for (function, args, expected) in cases {
        let error = acme::call(&recorder, function, args).await.unwrap_err();
        assert!(
            error.to_string().starts_with(expected),
            "{function}: {error}"
        );
    }
    assert_eq!(recorder.count(), 0);
}

#[test]
fn static_metadata_describes_every_function() {
    let provider = &acme::meta::PROVIDER;
    let names: Vec<&str> = provider.functions.iter().map(|f| f.name).collect();
    assert_eq!(
        names,
        [
            "raw_get",
            "list_widgets",
            "get_widget",
            "create_widget",
            "upload_widget_image",
            "delete_widget",
            "ping"
        ]
    );
    assert_eq!(
        provider.version_header,
        Some(("Acme-Version", "2030-01-01"))
    );
    assert_eq!(provider.function("acme_ping").map(|f| f.name), Some("ping"));
    for function in provider.functions {
        let schema: Value = acme::INTEGRATION
            .input_schema(function)
            .expect("the catalog holds the schema");
        assert_eq!(schema["type"], "object", "{}", function.name);
        let required = function.params.iter().filter(|p| p.required).count();
        assert_eq!(
            schema["required"].as_array().map(Vec::len),
            Some(required),
            "{}",
            function.name
        );
    }
    assert!(
        kosmo_fixture_integrations::INTEGRATIONS
            .iter()
            .any(|i| i.meta.name == "acme")
    );
}

#[tokio::test]
async fn lua_scripts_call_functions_by_name_and_slug_and_see_errors() {
    let recorder = Arc::new(widget_recorder());
    let host = kosmo_host::Host::builder()
        .integrations(&kosmo_fixture_integrations::INTEGRATIONS)
        .transports(support::RecordingTransports(recorder.clone()))
        .build()
        .unwrap();
    let report = host
        .run(
            r#"local id = app.integrations.acme.acme_get_widget({ id = "wid_9" }).id
               local ok, err = pcall(app.integrations.acme.list_widgets, { limt = 2 })
               return id, tostring(err)"#,
            kosmo_host::RunOptions::default(),
        )
        .await;
    assert_eq!(report.error, None);
    let result = report.result.unwrap();
    assert_eq!(result[0], "wid_1");
    assert_eq!(recorder.last().path, "/widgets/wid_9");
    let message = result[1].as_str().unwrap();
    assert!(
        message.contains(
            "list_widgets: limt is not a parameter of list_widgets. Did you mean: limit?"
        ),
        "{message}"
    );
}

#[tokio::test]
async fn lua_byte_strings_reach_the_request_whole_and_dry_runs_summarise_files() {
    let recorder = Arc::new(widget_recorder());
    let host = kosmo_host::Host::builder()
        .integrations(&kosmo_fixture_integrations::INTEGRATIONS)
        .transports(support::RecordingTransports(recorder.clone()))
        .build()
        .unwrap();
    // Every byte value, after a PNG signature so the type is known without a name.
    let script = r#"local bytes = { "\137PNG\r\n\26\n" }
        for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
        local image = { content = table.concat(bytes) }
        return app.integrations.acme.upload_widget_image({ widget_id = "wid_1", image = image })"#;
    let forced = kosmo_host::RunOptions {
        force: true,
        ..kosmo_host::RunOptions::default()
    };
    let report = host.run(script, forced).await;
    assert_eq!(report.error, None);
    let request = recorder.last();
    let file = &request.files[0].1;
    let mut expected = b"\x89PNG\r\n\x1a\n".to_vec();
    expected.extend(0..=255u8);
    assert_eq!(&file.content[..], &expected[..]);
    assert_eq!(
        (file.filename.as_str(), file.content_type.as_str()),
        ("file.png", "image/png")
    );

    let dry = kosmo_host::RunOptions {
        dry_run: true,
        ..kosmo_host::RunOptions::default()
    };
    let report = host.run(script, dry).await;
    assert_eq!(report.error, None);
    let shown = &report.result.unwrap()[0];
    assert_eq!(shown["method"], "PUT");
    assert_eq!(shown["headers"]["Content-Type"], "multipart/form-data");
    assert_eq!(
        shown["body"],
        json!({"image": {"filename": "file.png", "content_type": "image/png", "size": 264}})
    );
    assert_eq!(recorder.count(), 1, "a dry run sends nothing");
}
