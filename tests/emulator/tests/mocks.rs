//! Operations no stateful handler serves, answered as mocks built from an OpenAPI document: the
//! answers, the request checks, and the same authentication, limits, faults and recording as
//! every other route. A small document written here keeps these tests independent of Clerk's
//! spec; `conformance.rs` runs every operation of the real one.

use crate::common;

use std::time::Duration;

use clerk_emulator::{
    Config, Document, Fault, FaultKind, MOCK_TIMESTAMP_MS, Mode, ObjectKind, RateLimit,
};
use common::{Answer, Api};
use serde_json::{Value, json};

fn widget_response(status: &str) -> Value {
    json!({ status: {"description": "a widget", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Widget"}
    }}}})
}

/// A widget API, plus `GET /users/{user_id}`, which the emulator serves statefully.
fn document() -> Document {
    Document::from(json!({
        "openapi": "3.0.3",
        "paths": {
            "/users/{user_id}": {"get": {"operationId": "GetUser", "responses": {
                "200": {"description": "a user", "content": {"application/json": {"schema": {"type": "object"}}}}
            }}},
            "/widgets": {
                "get": {
                    "operationId": "ListWidgets",
                    "parameters": [{"name": "owner", "in": "query", "required": true, "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "widgets", "content": {"application/json": {"schema": {
                        "type": "array", "items": {"$ref": "#/components/schemas/Widget"}
                    }}}}}
                },
                "post": {
                    "operationId": "CreateWidget",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["name"],
                        "properties": {"name": {"type": "string"}, "size": {"type": "integer"}}
                    }}}},
                    "responses": widget_response("201")
                }
            },
            "/widgets/bulk": {"post": {
                "operationId": "CreateWidgets",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "array", "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
                }}}},
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"created": {"type": "integer", "minimum": 1}}
                }}}}}
            }},
            "/widgets/{widget_id}": {
                "get": {"operationId": "GetWidget", "responses": widget_response("200")},
                "delete": {"operationId": "DeleteWidget", "deprecated": true, "responses": {"204": {"description": "gone"}}}
            },
            "/widgets/{widget_id}/picture": {"put": {
                "operationId": "UploadWidgetPicture",
                "requestBody": {"content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}
                }}}},
                "responses": widget_response("200")
            }},
            "/public/banner": {"get": {
                "operationId": "GetBanner", "security": [],
                "responses": {"200": {"description": "markup"}}
            }}
        },
        "components": {"schemas": {"Widget": {
            "type": "object",
            "required": ["object", "id", "name", "created_at"],
            "properties": {
                "object": {"type": "string", "enum": ["widget"]},
                "id": {"type": "string"},
                "name": {"type": "string", "example": "Sprocket"},
                "created_at": {"type": "integer", "format": "int64"}
            }
        }}}
    }))
}

async fn start() -> Api {
    Api::start_with(Config::without_limits().with_openapi(document())).await
}

fn is_mock(answer: &Answer) -> bool {
    answer
        .headers
        .get("x-emulator-mock")
        .is_some_and(|value| value == "true")
}

fn multipart(field: &str) -> (String, String) {
    let boundary = "mock-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"w.png\"\r\n\
         Content-Type: image/png\r\n\r\npng\r\n--{boundary}--\r\n"
    );
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn operations_without_a_handler_are_answered_from_the_document() {
    let api = start().await;
    let widget = api.get("/widgets/wid_42").await;
    assert_eq!(widget.status, 200);
    assert!(is_mock(&widget));
    assert_eq!(
        widget.body,
        json!({"object": "widget", "id": "wid_42", "name": "Sprocket", "created_at": MOCK_TIMESTAMP_MS}),
        "the path's ID is the widget's"
    );
    // The same request, the same answer.
    assert_eq!(api.get("/widgets/wid_42").await.body, widget.body);

    let created = api.post("/widgets", json!({"name": "Cog"})).await;
    assert_eq!(
        (created.status, created.body["id"].clone()),
        (201, json!("example_id"))
    );
    let listed = api.get("/widgets?owner=me").await;
    assert_eq!(listed.body, json!([created.body]));
    let bulk = api
        .post("/widgets/bulk", json!([{"name": "a"}, {"name": "b"}]))
        .await;
    assert_eq!((bulk.status, bulk.body), (200, json!({"created": 1})));

    let deleted = api.delete("/widgets/wid_42").await;
    assert_eq!((deleted.status, deleted.body.clone()), (204, Value::Null));
    assert!(is_mock(&deleted));

    let (content_type, form) = multipart("file");
    let uploaded = api
        .send(
            api.request("PUT", "/widgets/wid_7/picture")
                .header("content-type", content_type)
                .body(form),
        )
        .await;
    assert_eq!(
        (uploaded.status, uploaded.body["id"].clone()),
        (200, json!("wid_7"))
    );

    // Nothing is stored, and stateful routes stay stateful.
    assert_eq!(api.emulator.count(ObjectKind::User), 0);
    let user = api.get("/users/user_1").await;
    assert_eq!((user.status, user.code()), (404, "resource_not_found"));
    assert!(!is_mock(&user));
    let unknown = api.get("/gadgets").await;
    assert_eq!((unknown.status, is_mock(&unknown)), (404, false));
}

#[tokio::test]
async fn mocked_requests_missing_what_the_operation_requires_are_refused_like_clerk_does() {
    let api = start().await;
    let missing = |answer: &Answer| {
        assert!(is_mock(answer));
        (
            answer.status,
            answer.code().to_string(),
            answer.param().to_string(),
        )
    };
    let form_param_missing =
        |param: &str| (422, "form_param_missing".to_string(), param.to_string());
    assert_eq!(
        missing(&api.get("/widgets").await),
        form_param_missing("owner")
    );
    assert_eq!(
        missing(&api.get("/widgets?owner=").await),
        form_param_missing("owner")
    );
    assert_eq!(
        missing(&api.get("/widgets/").await),
        form_param_missing("widget_id")
    );
    assert_eq!(
        missing(&api.post("/widgets", json!({"size": 3})).await),
        form_param_missing("name")
    );
    assert_eq!(
        missing(&api.post("/widgets", json!({"name": null})).await),
        form_param_missing("name")
    );
    assert_eq!(
        missing(&api.call("POST", "/widgets", None).await),
        form_param_missing("name")
    );
    assert_eq!(
        missing(&api.post("/widgets/bulk", json!([{"name": "a"}, {}])).await),
        form_param_missing("name")
    );
    let (content_type, form) = multipart("photo");
    let wrong_field = api
        .send(
            api.request("PUT", "/widgets/w/picture")
                .header("content-type", content_type)
                .body(form),
        )
        .await;
    assert_eq!(missing(&wrong_field), form_param_missing("file"));

    // Bodies that are not what the operation takes: 400, and 415 for another content type.
    let not_an_object = api.post("/widgets", json!(["Cog"])).await;
    assert_eq!(
        (not_an_object.status, not_an_object.code()),
        (400, "request_body_invalid")
    );
    let not_an_array = api.post("/widgets/bulk", json!({"name": "a"})).await;
    assert_eq!(
        (not_an_array.status, not_an_array.code()),
        (400, "request_body_invalid")
    );
    let no_array = api.call("POST", "/widgets/bulk", None).await;
    assert_eq!(
        (no_array.status, no_array.code()),
        (400, "request_body_invalid")
    );
    let text = api
        .send(
            api.request("POST", "/widgets")
                .header("content-type", "text/plain")
                .body("Cog"),
        )
        .await;
    assert_eq!(
        (text.status, text.code()),
        (415, "unsupported_content_type")
    );
    let json_upload = api
        .call("PUT", "/widgets/w/picture", Some(json!({"file": "x"})))
        .await;
    assert_eq!(
        (json_upload.status, json_upload.code()),
        (415, "unsupported_content_type")
    );
}

#[tokio::test]
async fn mocked_routes_share_authentication_versions_limits_faults_and_recording() {
    let api = start().await;
    let anonymous = api.send(api.client.get(api.url("/widgets/w_1"))).await;
    assert_eq!(
        (anonymous.status, anonymous.code(), is_mock(&anonymous)),
        (401, "authorization_header_format_invalid", true)
    );
    let wrong_key = api
        .send(
            api.client
                .get(api.url("/widgets/w_1"))
                .header("authorization", "Bearer sk_test_wrong"),
        )
        .await;
    assert_eq!(
        (wrong_key.status, wrong_key.code()),
        (401, "clerk_key_invalid")
    );
    // Only an operation declaring `security: []` answers without a key.
    let banner = api.send(api.client.get(api.url("/public/banner"))).await;
    assert_eq!((banner.status, banner.body), (200, Value::Null));
    let key = format!("Bearer {}", api.emulator.secret_key());
    let old_version = api
        .send(
            api.client
                .get(api.url("/widgets/w_1"))
                .header("authorization", key)
                .header("clerk-api-version", "1999-01-01"),
        )
        .await;
    assert_eq!(
        (old_version.status, old_version.code()),
        (400, "api_version_invalid")
    );

    api.emulator
        .inject(Fault::new(FaultKind::ServerError { status: 503 }).on("GET", "/v1/widgets/w_1"));
    let faulted = api.get("/widgets/w_1").await;
    assert_eq!(
        (faulted.status, faulted.code()),
        (503, "internal_clerk_error")
    );
    assert_eq!(
        api.get("/widgets/w_1").await.status,
        200,
        "the fault was used up"
    );

    api.emulator.set_rate_limit(RateLimit {
        method: Some("POST".into()),
        path: Some("/v1/widgets".into()),
        max_requests: 1,
        window: Duration::from_secs(60),
    });
    assert_eq!(api.post("/widgets", json!({"name": "a"})).await.status, 201);
    let limited = api.post("/widgets", json!({"name": "b"})).await;
    assert_eq!((limited.status, limited.code()), (429, "too_many_requests"));

    // Every request was recorded and counted, refused ones too.
    let recorded = api.emulator.take_requests();
    assert_eq!(recorded.len(), 8);
    assert_eq!(
        (recorded[7].method.as_str(), recorded[7].path.as_str()),
        ("POST", "/v1/widgets")
    );
    assert_eq!(recorded[7].json, Some(json!({"name": "b"})));
    assert_eq!(api.stats().requests, 8);
    assert_eq!(api.stats().rate_limit_429s, 1);
}

#[tokio::test]
async fn clerks_limits_count_mocked_requests() {
    let api = Api::start_with(Config::default().with_openapi(document())).await;
    for _ in 0..100 {
        assert_eq!(api.get("/widgets/w_1").await.status, 200);
    }
    let refused = api.get("/widgets/w_1").await;
    assert_eq!((refused.status, refused.code()), (429, "too_many_requests"));
    assert_eq!(api.stats().clerk_limit_429s, 1);
}

#[tokio::test]
async fn without_a_document_other_routes_are_404s() {
    let api = Api::start().await;
    let widget = api.get("/widgets/w_1").await;
    assert_eq!(
        (widget.status, widget.code(), is_mock(&widget)),
        (404, "resource_not_found", false)
    );
    let operations = api.emulator.operations();
    assert!(!operations.is_empty());
    assert!(
        operations
            .iter()
            .all(|o| o.mode == Mode::Stateful && o.operation_id.is_none())
    );
}

#[tokio::test]
async fn every_operation_is_listed_with_its_mode_in_rust_and_over_http() {
    let api = start().await;
    let operations = api.emulator.operations();
    assert_eq!(operations, clerk_emulator::operations(&document()));
    let listed: Vec<(&str, &str, Option<&str>, bool, Mode)> = operations
        .iter()
        .take(8)
        .map(|o| {
            (
                o.method.as_str(),
                o.path.as_str(),
                o.operation_id.as_deref(),
                o.deprecated,
                o.mode,
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (
                "GET",
                "/users/{user_id}",
                Some("GetUser"),
                false,
                Mode::Stateful
            ),
            ("GET", "/widgets", Some("ListWidgets"), false, Mode::Mocked),
            (
                "POST",
                "/widgets",
                Some("CreateWidget"),
                false,
                Mode::Mocked
            ),
            (
                "POST",
                "/widgets/bulk",
                Some("CreateWidgets"),
                false,
                Mode::Mocked
            ),
            (
                "GET",
                "/widgets/{widget_id}",
                Some("GetWidget"),
                false,
                Mode::Mocked
            ),
            (
                "DELETE",
                "/widgets/{widget_id}",
                Some("DeleteWidget"),
                true,
                Mode::Mocked
            ),
            (
                "PUT",
                "/widgets/{widget_id}/picture",
                Some("UploadWidgetPicture"),
                false,
                Mode::Mocked
            ),
            (
                "GET",
                "/public/banner",
                Some("GetBanner"),
                false,
                Mode::Mocked
            ),
        ]
    );
    // Then the stateful routes this document lacks.
    assert!(
        operations[8..]
            .iter()
            .all(|o| o.mode == Mode::Stateful && o.operation_id.is_none())
    );

    let url = format!("http://{}/__emulator/operations", api.emulator.addr());
    let over_http = api.send(api.client.get(url)).await.body;
    assert_eq!(over_http, serde_json::to_value(&operations).unwrap());
    assert_eq!(
        over_http[1],
        json!({"method": "GET", "path": "/widgets", "operation_id": "ListWidgets", "deprecated": false, "mode": "mocked"})
    );
}
