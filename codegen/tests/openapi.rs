//! The OpenAPI conformance check on an imaginary provider: a conforming pair has no mismatches,
//! and each rule reports its own disagreement, naming both values.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeMap;

use kosmo_codegen::openapi::{Document, Report, check};
use serde_json::{Value, json};

const MANIFEST: &str = r#"provider:
  name: acme
  label: Acme
  description: Test provider.
  category: testing
  docs_url: https://acme.example/docs
  base_url: https://api.acme.example/v1
  version_header: { name: Acme-Version, value: "2030-01-01" }
  auth: { scheme: bearer, credential: token }
  credentials:
    token: { description: Token., required: true, secret: true }
functions:
  - name: raw_get
    slug: acme_raw_get
    title: Raw
    group: raw
    summary: Raw GET.
    description: Raw GET.
    operation: read
    http: { method: GET, path: "{+path}" }
    params:
      path: { in: path, type: string, required: true, description: Path. }
    examples:
      - { title: Raw, lua: 'app.integrations.acme.raw_get({ path = "/widgets" })' }
  - name: list_widgets
    slug: acme_list_widgets
    title: List
    group: widgets
    summary: List widgets.
    description: List widgets.
    operation: read
    http: { method: GET, path: /widgets, query: { kind: widget } }
    params:
      limit: { in: query, type: integer, minimum: 1, maximum: 500, default: 10, description: Size. }
      status: { in: query, type: string, enum: [active, ended], description: Status. }
      ids: { in: query, type: "array<string>", max_items: 100, description: IDs. }
      colors: { in: query, type: "array<string>", enum: [red, blue], description: Colors. }
      min_price: { in: query, type: number, description: Lowest price. }
    examples:
      - { title: List, lua: 'app.integrations.acme.list_widgets({})' }
  - name: update_widget
    slug: acme_update_widget
    title: Update
    group: widgets
    summary: Update a widget.
    description: Update a widget.
    operation: write
    http: { method: PATCH, path: "/widgets/{widget_id}" }
    params:
      widget_id: { in: path, type: string, required: true, description: ID. }
      name: { in: body, type: string, required: true, description: Name. }
      size: { in: body, type: integer, description: Size. }
      shade: { in: body, type: string, enum: [light, dark], description: Shade. }
      note: { in: body, type: string, description: Note. }
      labels: { in: body, type: object, description: Labels. }
      extra: { in: body, type: object, spread: true, description: More fields. }
    examples:
      - { title: Update, lua: 'app.integrations.acme.update_widget({ widget_id = "w", name = "n" })' }
"#;

/// The document the manifest conforms to. It exercises `$ref`s (parameters, request bodies,
/// schemas, chained), `allOf`, path-item parameters, 3.0 `nullable`, 3.1 type arrays and
/// `anyOf` with a null branch.
fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "servers": [{"url": "https://api.acme.example/v1"}],
        "paths": {
            "/widgets": {
                "get": {
                    "parameters": [
                        {"$ref": "#/components/parameters/Limit"},
                        {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["active", "ended"]}},
                        {"name": "ids", "in": "query", "schema": {"type": "array", "maxItems": 100, "items": {"type": "string"}}},
                        {"name": "colors", "in": "query", "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Color"}}},
                        {"name": "min_price", "in": "query", "schema": {"type": "integer"}},
                        {"name": "kind", "in": "query", "required": true, "schema": {"type": "string"}},
                        {"name": "Acme-Version", "in": "header", "required": true, "schema": {"type": "string"}}
                    ]
                },
                "post": {}
            },
            "/widgets/{widget_id}": {
                "parameters": [{"name": "widget_id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "patch": {
                    "deprecated": true,
                    "requestBody": {"$ref": "#/components/requestBodies/WidgetUpdate"}
                }
            }
        },
        "components": {
            "parameters": {
                "Limit": {"$ref": "#/components/parameters/PageLimit"},
                "PageLimit": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500.0, "default": 10}}
            },
            "requestBodies": {
                "WidgetUpdate": {
                    "required": false,
                    "content": {"application/json; charset=utf-8": {"schema": {"$ref": "#/components/schemas/WidgetUpdate"}}}
                }
            },
            "schemas": {
                "Color": {"type": "string", "enum": ["blue", "red"]},
                "WidgetUpdate": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Named"},
                        {
                            "type": "object",
                            "properties": {
                                "size": {"type": ["integer", "null"]},
                                "shade": {"anyOf": [{"type": "string", "enum": ["light", "dark"]}, {"type": "null"}]},
                                "note": {"type": "string", "nullable": true},
                                "labels": {"type": "object", "additionalProperties": {"type": "string"}}
                            }
                        }
                    ]
                },
                "Named": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
            }
        }
    })
}

fn report(manifest: &str, document: &Value) -> Report {
    let files = BTreeMap::from([("spec/acme.yaml".to_string(), manifest.to_string())]);
    let providers = kosmo_codegen::load(&files).unwrap_or_else(|d| panic!("{d}"));
    check(&providers[0], &Document::from(document.clone()))
}

fn mismatches(manifest: &str, document: &Value) -> Vec<String> {
    let report = report(manifest, document);
    report.mismatches.iter().map(ToString::to_string).collect()
}

/// The manifest with one edit, which must apply exactly once.
fn with(from: &str, to: &str) -> String {
    assert_eq!(
        MANIFEST.matches(from).count(),
        1,
        "`{from}` must occur once"
    );
    MANIFEST.replacen(from, to, 1)
}

/// Asserts that `found` is exactly `expected`, printing both otherwise.
fn assert_found(found: &[String], expected: &[&str], case: &str) {
    assert_eq!(
        found,
        expected,
        "{case}:\nexpected:\n  {}\nfound:\n  {}",
        expected.join("\n  "),
        found.join("\n  ")
    );
}

#[test]
fn a_conforming_manifest_has_no_mismatches_and_raw_helpers_are_skipped() {
    let report = report(MANIFEST, &document());
    assert_eq!(report.mismatches, vec![]);
    assert_eq!(report.functions_checked, 2);
    // Five query parameters, and six in update_widget minus the spread table.
    assert_eq!(report.params_checked, 11);
    assert_eq!(report.skipped, ["raw_get (raw path)"]);
}

#[test]
fn each_disagreement_is_reported_with_both_values() {
    let doc = document();
    let cases: &[(&str, String, &[&str])] = &[
        (
            "missing path",
            with("path: /widgets,", "path: /gadgets,"),
            &["list_widgets: path /gadgets does not exist in the OpenAPI document"],
        ),
        (
            "wrong method",
            with("method: PATCH", "method: PUT"),
            &[
                "update_widget: PUT /widgets/{widget_id} does not exist in the OpenAPI document (it has PATCH)",
            ],
        ),
        (
            "unknown parameter",
            with("ids: { in: query,", "idz: { in: query,"),
            &["list_widgets: query parameter idz does not exist in the OpenAPI document"],
        ),
        (
            "wrong location",
            with("size: { in: body,", "size: { in: query,"),
            &[
                "update_widget: query parameter size does not exist in the OpenAPI document (it is a body field there)",
            ],
        ),
        (
            "wrong array item type",
            with(
                "type: \"array<string>\", max_items",
                "type: \"array<integer>\", max_items",
            ),
            &[
                "list_widgets: query parameter ids: type is array<integer> in the manifest but array<string> in the OpenAPI document",
            ],
        ),
        (
            "wrong scalar type (through a 3.1 type array)",
            with(
                "size: { in: body, type: integer,",
                "size: { in: body, type: boolean,",
            ),
            &[
                "update_widget: body parameter size: type is boolean in the manifest but integer in the OpenAPI document",
            ],
        ),
        (
            "integer where the document allows fractions",
            with(
                "min_price: { in: query, type: number,",
                "min_price: { in: query, type: boolean,",
            ),
            &[
                "list_widgets: query parameter min_price: type is boolean in the manifest but integer in the OpenAPI document",
            ],
        ),
        (
            "required body field made optional",
            with(
                "name: { in: body, type: string, required: true,",
                "name: { in: body, type: string,",
            ),
            &[
                "update_widget: body parameter name is optional in the manifest but required in the OpenAPI document",
            ],
        ),
        (
            "optional query parameter made required",
            with(
                "status: { in: query, type: string,",
                "status: { in: query, type: string, required: true,",
            )
            .replace("list_widgets({})", "list_widgets({ status = \"active\" })"),
            &[
                "list_widgets: query parameter status is required in the manifest but optional in the OpenAPI document",
            ],
        ),
        (
            "different default",
            with("default: 10,", "default: 20,"),
            &[
                "list_widgets: query parameter limit: default is 20 in the manifest but 10 in the OpenAPI document",
            ],
        ),
        (
            "default on the manifest side only",
            with(
                "note: { in: body, type: string,",
                "note: { in: body, type: string, default: hi,",
            ),
            &[
                "update_widget: body parameter note: default is \"hi\" in the manifest but absent in the OpenAPI document",
            ],
        ),
        (
            "different maximum",
            with("maximum: 500,", "maximum: 100,"),
            &[
                "list_widgets: query parameter limit: maximum is 100 in the manifest but 500 in the OpenAPI document",
            ],
        ),
        (
            "bound on the document side only",
            with("minimum: 1, ", ""),
            &[
                "list_widgets: query parameter limit: minimum is absent in the manifest but 1 in the OpenAPI document",
            ],
        ),
        (
            "different max_items",
            with("max_items: 100,", "max_items: 50,"),
            &[
                "list_widgets: query parameter ids: max_items (maxItems) is 50 in the manifest but 100 in the OpenAPI document",
            ],
        ),
        (
            "different enum",
            with("enum: [active, ended]", "enum: [active, paused]"),
            &[
                "list_widgets: query parameter status: enum is [\"active\", \"paused\"] in the manifest but [\"active\", \"ended\"] in the OpenAPI document (only in the manifest: \"paused\"; only in the OpenAPI document: \"ended\")",
            ],
        ),
        (
            "different item enum (through a schema $ref)",
            with("enum: [red, blue]", "enum: [red]"),
            &[
                "list_widgets: query parameter colors: enum is [\"red\"] in the manifest but [\"blue\", \"red\"] in the OpenAPI document (only in the OpenAPI document: \"blue\")",
            ],
        ),
        (
            "enum on the manifest side only",
            with(
                "note: { in: body, type: string,",
                "note: { in: body, type: string, enum: [a, b],",
            ),
            &[
                "update_widget: body parameter note: enum is [\"a\", \"b\"] in the manifest but absent in the OpenAPI document",
            ],
        ),
        (
            "enum inside an anyOf with a null branch",
            with("enum: [light, dark]", "enum: [light]"),
            &[
                "update_widget: body parameter shade: enum is [\"light\"] in the manifest but [\"dark\", \"light\"] in the OpenAPI document (only in the OpenAPI document: \"dark\")",
            ],
        ),
        (
            "unknown constant query pair",
            with(
                "query: { kind: widget }",
                "query: { kind: widget, sort: name }",
            ),
            &["list_widgets: constant query parameter sort does not exist in the OpenAPI document"],
        ),
        (
            "a required query parameter the manifest does not send",
            with("query: { kind: widget }", "query: {}"),
            &[
                "list_widgets: the OpenAPI document requires query parameter kind, which the manifest does not offer",
            ],
        ),
        (
            "dropping an optional parameter is allowed",
            with(
                "      status: { in: query, type: string, enum: [active, ended], description: Status. }\n",
                "",
            ),
            &[],
        ),
    ];
    for (case, manifest, expected) in cases {
        assert_found(&mismatches(manifest, &doc), expected, case);
    }
}

#[test]
fn query_arrays_are_sent_the_way_the_document_serialises_them() {
    let mut doc = document();
    doc["paths"]["/widgets"]["get"]["parameters"][2]["explode"] = json!(false);
    assert_found(
        &mismatches(MANIFEST, &doc),
        &[
            "list_widgets: query parameter ids: the OpenAPI document serialises this array with style form, explode false, but the generated code repeats the key per item (style form, explode true); declare `explode: false` on the parameter",
        ],
        "comma-separated array",
    );
    let comma_separated = MANIFEST.replacen(
        "type: \"array<string>\", ",
        "type: \"array<string>\", explode: false, ",
        1,
    );
    assert_ne!(comma_separated, MANIFEST);
    assert_found(
        &mismatches(&comma_separated, &doc),
        &[],
        "declared comma-separated",
    );
    doc["paths"]["/widgets"]["get"]["parameters"][2]["explode"] = json!(true);
    assert_found(&mismatches(MANIFEST, &doc), &[], "explicit defaults");
    assert_found(
        &mismatches(&comma_separated, &doc),
        &[
            "list_widgets: query parameter ids: the OpenAPI document serialises this array with style form, explode true, but the generated code sends the items comma-separated (style form, explode false); remove `explode: false` from the parameter",
        ],
        "declared comma-separated, but the document repeats keys",
    );
    doc["paths"]["/widgets"]["get"]["parameters"][2]["style"] = json!("pipeDelimited");
    assert_found(
        &mismatches(MANIFEST, &doc),
        &[
            "list_widgets: query parameter ids: the OpenAPI document serialises this array with style pipeDelimited, explode true, but the generated code repeats the key per item (style form, explode true)",
        ],
        "pipes",
    );
}

#[test]
fn body_fields_the_document_requires_must_be_offered_unless_a_spread_table_can_carry_them() {
    let mut doc = document();
    doc["components"]["schemas"]["Named"]["required"] = json!(["name", "owner"]);
    doc["components"]["schemas"]["Named"]["properties"]["owner"] = json!({"type": "string"});
    assert_found(&mismatches(MANIFEST, &doc), &[], "spread body table");
    let manifest = with(
        "      extra: { in: body, type: object, spread: true, description: More fields. }\n",
        "",
    );
    assert_found(
        &mismatches(&manifest, &doc),
        &[
            "update_widget: the OpenAPI document requires body field owner, which the manifest does not offer",
        ],
        "no spread table",
    );
}

#[test]
fn renamed_placeholders_are_reported_once() {
    let mut doc = document();
    let paths = doc["paths"].as_object_mut().unwrap();
    let mut item = paths.remove("/widgets/{widget_id}").unwrap();
    item["parameters"][0]["name"] = json!("id");
    paths.insert("/widgets/{id}".into(), item);
    assert_found(
        &mismatches(MANIFEST, &doc),
        &[
            "update_widget: path placeholder {widget_id} is {id} in the OpenAPI document (/widgets/{id})",
        ],
        "renamed placeholder",
    );
}

#[test]
fn paths_may_or_may_not_repeat_the_base_path() {
    // Paths that repeat `/v1` under a server URL without it.
    let mut doc = document();
    doc["servers"] = json!([{"url": "https://api.acme.example"}]);
    let paths = std::mem::take(doc["paths"].as_object_mut().unwrap());
    for (path, item) in paths {
        doc["paths"][format!("/v1{path}")] = item;
    }
    assert_found(&mismatches(MANIFEST, &doc), &[], "paths with /v1");

    // Paths that repeat `/v1` although the server URL has it too (a common slip).
    doc["servers"] = json!([{"url": "https://api.acme.example/v1"}]);
    assert_found(
        &mismatches(MANIFEST, &doc),
        &[],
        "paths and server with /v1",
    );

    // A manifest whose base URL has no path, against a document whose server URL does.
    let manifest = with(
        "base_url: https://api.acme.example/v1",
        "base_url: https://api.acme.example",
    )
    .replace("path: /widgets,", "path: /v1/widgets,")
    .replace(
        "path: \"/widgets/{widget_id}\"",
        "path: \"/v1/widgets/{widget_id}\"",
    );
    assert_found(
        &mismatches(&manifest, &document()),
        &[],
        "paths in the manifest",
    );
}

#[test]
fn a_missing_request_body_or_a_non_json_one_is_named() {
    let mut doc = document();
    doc["components"]["requestBodies"]["WidgetUpdate"]["content"] =
        json!({"multipart/form-data": {"schema": {"type": "object"}}});
    let found = mismatches(MANIFEST, &doc);
    assert!(
        found.contains(
            &"update_widget: body parameter name: the operation's request body in the OpenAPI document is not JSON (it is multipart/form-data): declare `http.body: multipart`"
                .to_string()
        ),
        "{found:#?}"
    );

    doc["paths"]["/widgets/{widget_id}"]["patch"] = json!({});
    let found = mismatches(MANIFEST, &doc);
    assert!(
        found.contains(
            &"update_widget: body parameter name: the operation has no request body in the OpenAPI document"
                .to_string()
        ),
        "{found:#?}"
    );
}

#[test]
fn broken_or_recursive_documents_give_mismatches_not_panics() {
    // Recursive schemas (a tree whose items are trees) terminate.
    let mut doc = document();
    doc["components"]["schemas"]["Named"]["properties"]["children"] =
        json!({"type": "array", "items": {"$ref": "#/components/schemas/WidgetUpdate"}});
    doc["components"]["schemas"]["Loop"] = json!({"$ref": "#/components/schemas/Loop"});
    doc["paths"]["/widgets"]["get"]["parameters"][4]["schema"] =
        json!({"$ref": "#/components/schemas/Loop"});
    assert_found(&mismatches(MANIFEST, &doc), &[], "recursive schemas");

    // A dangling reference reads as an undocumented parameter.
    let mut doc = document();
    doc["components"]["parameters"]["Limit"] = json!({"$ref": "#/components/parameters/Nope"});
    assert_found(
        &mismatches(MANIFEST, &doc),
        &["list_widgets: query parameter limit does not exist in the OpenAPI document"],
        "dangling $ref",
    );

    // Not an OpenAPI document at all.
    let report = report(MANIFEST, &json!(["not", "a", "document"]));
    assert_eq!(report.mismatches.len(), 2);
    assert_eq!(
        report.mismatches[0].to_string(),
        "list_widgets: the OpenAPI document has no `paths`"
    );
}

/// The document with operation IDs: `ListWidgets`, `CreateWidget`, `UpdateWidget`.
fn document_with_ids() -> Value {
    let mut document = document();
    for (path, method, id) in [
        ("/widgets", "get", "ListWidgets"),
        ("/widgets", "post", "CreateWidget"),
        ("/widgets/{widget_id}", "patch", "UpdateWidget"),
    ] {
        document["paths"][path][method]["operationId"] = json!(id);
    }
    document
}

#[test]
fn coverage_is_claimed_only_by_declaring_exclusions() {
    assert_eq!(report(MANIFEST, &document_with_ids()).coverage, None);
}

#[test]
fn coverage_lists_operations_neither_covered_nor_excluded_and_stale_exclusions() {
    let declared = format!("{MANIFEST}excluded_operations: []\n");
    let coverage = report(&declared, &document_with_ids()).coverage.unwrap();
    assert_eq!(coverage.operations, 3);
    assert_eq!(coverage.covered, 2);
    assert_eq!(coverage.uncovered, ["POST /widgets (CreateWidget)"]);
    assert!(!coverage.is_complete());

    let excluded = format!(
        "{MANIFEST}excluded_operations:\n  - {{ operation: CreateWidget, reason: Needs a browser. }}\n"
    );
    let coverage = report(&excluded, &document_with_ids()).coverage.unwrap();
    assert_eq!(
        coverage.excluded,
        [("CreateWidget".to_string(), "Needs a browser.".to_string())]
    );
    assert!(coverage.is_complete(), "{coverage:?}");

    let stale = format!(
        "{MANIFEST}excluded_operations:\n  - {{ operation: CreateWidget, reason: Old. }}\n  - {{ operation: ListWidgets, reason: Covered anyway. }}\n  - {{ operation: DeleteWidget, reason: Gone. }}\n"
    );
    let coverage = report(&stale, &document_with_ids()).coverage.unwrap();
    assert_eq!(
        coverage.stale_exclusions,
        [
            "ListWidgets is excluded but a function calls GET /widgets",
            "DeleteWidget is excluded but the document has no such operation",
        ]
    );
}

/// A function with a multipart body, added to [`MANIFEST`].
const UPLOAD: &str = r#"  - name: upload_logo
    slug: acme_upload_logo
    title: Upload
    group: widgets
    summary: Upload a logo.
    description: Upload a logo.
    operation: write
    http: { method: PUT, path: "/widgets/{widget_id}/logo", body: multipart }
    params:
      widget_id: { in: path, type: string, required: true, description: ID. }
      file: { in: body, type: file, required: true, content_types: [image/png], description: Logo. }
      uploader_id: { in: body, type: string, description: Who. }
    examples:
      - { title: Upload, lua: 'app.integrations.acme.upload_logo({ widget_id = "w", file = { content = "x", filename = "a.png" } })' }
"#;

/// [`document`] with the upload operation: a multipart body whose `file` is a binary string.
fn document_with_upload() -> Value {
    let mut doc = document();
    doc["paths"]["/widgets/{widget_id}/logo"] = json!({
        "parameters": [{"name": "widget_id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "put": {
            "requestBody": {
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "file": {"type": "string", "format": "binary"},
                                "uploader_id": {"type": "string"}
                            },
                            "required": ["file"]
                        }
                    }
                }
            }
        }
    });
    doc
}

/// [`MANIFEST`] and [`UPLOAD`] with one edit to the upload function, which must apply once.
fn upload_with(from: &str, to: &str) -> String {
    let upload = if from.is_empty() {
        UPLOAD.to_string()
    } else {
        assert_eq!(UPLOAD.matches(from).count(), 1, "`{from}` must occur once");
        UPLOAD.replacen(from, to, 1)
    };
    format!("{MANIFEST}{upload}")
}

#[test]
fn multipart_bodies_are_compared_like_json_ones() {
    let doc = document_with_upload();
    let report = report(&upload_with("", ""), &doc);
    assert_eq!(report.mismatches, vec![]);
    assert_eq!(report.functions_checked, 3);
    assert_eq!(report.params_checked, 14);

    let cases: &[(&str, String, &[&str])] = &[
        (
            "a text field where the document takes a file",
            upload_with(
                "file: { in: body, type: file, required: true, content_types: [image/png],",
                "file: { in: body, type: string, required: true,",
            )
            .replace(
                "file = { content = \"x\", filename = \"a.png\" }",
                "file = \"x\"",
            ),
            &[
                "upload_logo: body parameter file: type is string in the manifest but file (string, format binary) in the OpenAPI document",
            ],
        ),
        (
            "a file where the document takes text",
            upload_with(
                "uploader_id: { in: body, type: string,",
                "uploader_id: { in: body, type: file,",
            ),
            &[
                "upload_logo: body parameter uploader_id: type is file in the manifest but string in the OpenAPI document",
            ],
        ),
        (
            "a file made optional",
            upload_with("type: file, required: true,", "type: file,"),
            &[
                "upload_logo: body parameter file is optional in the manifest but required in the OpenAPI document",
            ],
        ),
        (
            "a known difference in requiredness, as declared",
            upload_with(
                "type: file, required: true,",
                "type: file, required: false, openapi_required: true,",
            ),
            &[],
        ),
        (
            "a known difference the document no longer has",
            upload_with(
                "type: file, required: true,",
                "type: file, required: true, openapi_required: false,",
            ),
            &[
                "upload_logo: body parameter file: openapi_required is false in the manifest but the OpenAPI document has it required",
            ],
        ),
        (
            "a field the document does not have",
            upload_with("uploader_id: { in: body,", "uploader: { in: body,"),
            &["upload_logo: body parameter uploader does not exist in the OpenAPI document"],
        ),
    ];
    for (case, manifest, expected) in cases {
        assert_found(&mismatches(manifest, &doc), expected, case);
    }
}

#[test]
fn a_body_in_the_wrong_format_is_named() {
    let doc = document_with_upload();
    // The manifest sends the text field as JSON, which cannot carry the file the document requires.
    let json_body = upload_with(", body: multipart }", " }")
        .replace("      file: { in: body, type: file, required: true, content_types: [image/png], description: Logo. }\n", "")
        .replace(", file = { content = \"x\", filename = \"a.png\" }", "");
    assert_found(
        &mismatches(&json_body, &doc),
        &[
            "upload_logo: body parameter uploader_id: the operation's request body in the OpenAPI document is not JSON (it is multipart/form-data): declare `http.body: multipart`",
        ],
        "json body for a multipart operation",
    );
    // Without body parameters, the body it cannot send is named once.
    let no_body = json_body.replace(
        "      uploader_id: { in: body, type: string, description: Who. }\n",
        "",
    );
    assert_found(
        &mismatches(&no_body, &doc),
        &[
            "upload_logo: the operation's request body in the OpenAPI document is not JSON (it is multipart/form-data): declare `http.body: multipart`",
        ],
        "no body for a multipart operation",
    );
    // A multipart body where the document takes JSON.
    let mut json_doc = doc.clone();
    json_doc["paths"]["/widgets/{widget_id}/logo"]["put"]["requestBody"]["content"] = json!({
        "application/json": {"schema": {"type": "object", "properties": {"uploader_id": {"type": "string"}}}}
    });
    assert_found(
        &mismatches(&upload_with("", ""), &json_doc),
        &[
            "upload_logo: body parameter file: the operation's request body in the OpenAPI document is not multipart/form-data (it is application/json)",
            "upload_logo: body parameter uploader_id: the operation's request body in the OpenAPI document is not multipart/form-data (it is application/json)",
        ],
        "multipart body for a JSON operation",
    );
}

const BULK_FUNCTION: &str = r#"  - name: make_widgets
    slug: acme_make_widgets
    title: Make Widgets
    group: widgets
    summary: Make widgets in bulk.
    description: Make widgets in bulk.
    operation: write
    http: { method: POST, path: /widgets/bulk, body: json_array }
    params:
      widgets: { in: body, type: "array<object>", required: true, max_items: 10, description: Widgets. }
    examples:
      - { title: Bulk, lua: 'app.integrations.acme.make_widgets({ widgets = { { name = "a" } } })' }
"#;

fn with_bulk_operation(body_schema: Value) -> Value {
    let mut doc = document();
    doc["paths"]["/widgets/bulk"] = json!({
        "post": {
            "requestBody": {
                "required": true,
                "content": {"application/json": {"schema": body_schema}}
            }
        }
    });
    doc
}

#[test]
fn a_json_array_body_is_compared_whole_with_its_one_parameter() {
    let array = json!({"type": "array", "minItems": 1, "maxItems": 10, "items": {"type": "object", "properties": {"name": {"type": "string"}}}});
    let manifest = format!("{MANIFEST}{BULK_FUNCTION}");
    assert_found(
        &mismatches(&manifest, &with_bulk_operation(array.clone())),
        &[],
        "conforming json_array body",
    );

    let as_object_body = manifest.replacen(", body: json_array }", " }", 1);
    assert_found(
        &mismatches(&as_object_body, &with_bulk_operation(array.clone())),
        &[
            "make_widgets: body parameter widgets: the operation's request body in the OpenAPI document is a JSON array: declare `http.body: json_array` with one array parameter",
        ],
        "an array body declared as an object",
    );

    let object = json!({"type": "object", "properties": {"widgets": {"type": "array", "items": {"type": "object"}}}});
    assert_found(
        &mismatches(&manifest, &with_bulk_operation(object)),
        &[
            "make_widgets: body parameter widgets: the operation's request body in the OpenAPI document is not a JSON array: remove `http.body: json_array`",
        ],
        "an object body declared as an array",
    );

    let larger = manifest.replacen(
        "max_items: 10, description: Widgets.",
        "max_items: 20, description: Widgets.",
        1,
    );
    let found = mismatches(&larger, &with_bulk_operation(array));
    assert!(
        found.len() == 1
            && found[0].starts_with("make_widgets: body parameter widgets: ")
            && found[0].contains("20")
            && found[0].contains("10"),
        "{found:?}"
    );
}
