//! The OpenAPI conformance check on an imaginary provider: a conforming pair has no mismatches,
//! and each rule reports its own disagreement.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeMap;

use serde_json::{Value, json};

const MANIFEST: &str = r#"provider:
  name: acme
  label: Acme
  description: Test provider.
  category: testing
  docs_url: https://acme.example/docs
  base_url: https://api.acme.example/v1
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
    http: { method: GET, path: /widgets }
    params:
      limit: { in: query, type: integer, minimum: 1, maximum: 500, default: 10, description: Size. }
      status: { in: query, type: string, enum: [active, ended], description: Status. }
      ids: { in: query, type: "array<string>", description: IDs. }
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
    examples:
      - { title: Update, lua: 'app.integrations.acme.update_widget({ widget_id = "w", name = "n" })' }
"#;

fn document() -> Value {
    json!({
        "openapi": "3.0.3",
        "servers": [{"url": "https://api.acme.example/v1"}],
        "paths": {
            "/widgets": {
                "get": {
                    "parameters": [
                        {"$ref": "#/components/parameters/Limit"},
                        {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["active", "ended"]}},
                        {"name": "ids", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}}
                    ]
                }
            },
            "/widgets/{widget_id}": {
                "parameters": [{"name": "widget_id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "patch": {
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/WidgetUpdate"}}}}
                }
            }
        },
        "components": {
            "parameters": {
                "Limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 10}}
            },
            "schemas": {
                "WidgetUpdate": {
                    "allOf": [
                        {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
                        {"type": "object", "properties": {"size": {"type": ["integer", "null"]}}}
                    ]
                }
            }
        }
    })
}

fn mismatches(manifest: &str, document: &Value) -> Vec<String> {
    let files = BTreeMap::from([("spec/acme.yaml".to_string(), manifest.to_string())]);
    let providers = kosmo_codegen::load(&files).unwrap_or_else(|d| panic!("{d}"));
    let report = kosmo_codegen::openapi::check(&providers[0], document);
    report.mismatches.iter().map(ToString::to_string).collect()
}

fn with(from: &str, to: &str) -> String {
    assert_eq!(
        MANIFEST.matches(from).count(),
        1,
        "`{from}` must occur once"
    );
    MANIFEST.replacen(from, to, 1)
}

#[test]
fn a_conforming_manifest_has_no_mismatches_and_raw_helpers_are_skipped() {
    let files = BTreeMap::from([("spec/acme.yaml".to_string(), MANIFEST.to_string())]);
    let providers = kosmo_codegen::load(&files).unwrap();
    let report = kosmo_codegen::openapi::check(&providers[0], &document());
    assert_eq!(report.mismatches, vec![]);
    assert_eq!(report.functions_checked, 2);
    assert_eq!(report.params_checked, 6);
    assert_eq!(report.skipped, ["raw_get (raw path)"]);
}

#[test]
fn each_disagreement_is_reported() {
    let doc = document();
    let cases = [
        (
            with("path: /widgets }", "path: /gadgets }"),
            "list_widgets: path /gadgets does not exist in the OpenAPI document",
        ),
        (
            with("method: PATCH", "method: PUT"),
            "update_widget: PUT /widgets/{widget_id} does not exist in the OpenAPI document (it has PATCH)",
        ),
        (
            with("ids: { in: query,", "idz: { in: query,"),
            "list_widgets: query parameter idz does not exist in the OpenAPI document",
        ),
        (
            with("size: { in: body,", "size: { in: query,"),
            "update_widget: query parameter size does not exist in the OpenAPI document (it is a body field there)",
        ),
        (
            with("type: \"array<string>\"", "type: \"array<integer>\""),
            "list_widgets: query parameter ids: type is array<integer> in the manifest but array<string> in the OpenAPI document",
        ),
        (
            with(
                "size: { in: body, type: integer,",
                "size: { in: body, type: boolean,",
            ),
            "update_widget: body parameter size: type is boolean in the manifest but integer in the OpenAPI document",
        ),
        (
            with(
                "name: { in: body, type: string, required: true,",
                "name: { in: body, type: string,",
            ),
            "update_widget: body parameter name is optional in the manifest but required in the OpenAPI document",
        ),
        (
            with("default: 10,", "default: 20,"),
            "list_widgets: query parameter limit: default is 20 in the manifest but 10 in the OpenAPI document",
        ),
        (
            with("maximum: 500,", "maximum: 100,"),
            "list_widgets: query parameter limit: maximum is 100 in the manifest but 500 in the OpenAPI document",
        ),
        (
            with("enum: [active, ended]", "enum: [active]"),
            "list_widgets: query parameter status: enum is [\"active\"] in the manifest but [\"active\", \"ended\"] in the OpenAPI document",
        ),
        (
            with(
                "      status: { in: query, type: string, enum: [active, ended], description: Status. }\n",
                "",
            ),
            "",
        ),
    ];
    for (manifest, expected) in cases {
        let found = mismatches(&manifest, &doc);
        if expected.is_empty() {
            assert_eq!(
                found,
                Vec::<String>::new(),
                "dropping an optional parameter is allowed"
            );
        } else {
            assert!(
                found.iter().any(|m| m == expected),
                "expected:\n  {expected}\nfound:\n  {}",
                found.join("\n  ")
            );
        }
    }
}

#[test]
fn parameters_the_document_requires_must_be_offered() {
    let mut doc = document();
    doc["components"]["parameters"]["Limit"]["required"] = json!(true);
    doc["components"]["parameters"]["Limit"]["schema"]
        .as_object_mut()
        .unwrap()
        .remove("default");
    let manifest = with(
        "      limit: { in: query, type: integer, minimum: 1, maximum: 500, default: 10, description: Size. }\n",
        "",
    );
    let found = mismatches(&manifest, &doc);
    assert_eq!(
        found,
        [
            "list_widgets: the OpenAPI document requires query parameter limit, which the manifest does not offer"
        ]
    );
}

#[test]
fn placeholder_names_must_match() {
    let mut doc = document();
    let paths = doc["paths"].as_object_mut().unwrap();
    let item = paths.remove("/widgets/{widget_id}").unwrap();
    paths.insert("/widgets/{id}".into(), item);
    let found = mismatches(MANIFEST, &doc);
    assert!(
        found.contains(&"update_widget: path placeholder {widget_id} is {id} in the OpenAPI document (/widgets/{id})".to_string()),
        "{found:?}"
    );
}

#[test]
fn documents_whose_paths_repeat_the_base_path_match_too() {
    let mut doc = document();
    let paths = std::mem::take(doc["paths"].as_object_mut().unwrap());
    for (path, item) in paths {
        doc["paths"][format!("/v1{path}")] = item;
    }
    assert_eq!(mismatches(MANIFEST, &doc), Vec::<String>::new());
}
