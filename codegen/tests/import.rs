//! The OpenAPI importer on the fixture provider `acme`: new operations become entries that load,
//! validate and conform to the document; operations the manifest has are compared, never
//! imported again; wrong names are refused with a suggestion.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeMap;

use kosmo_codegen::openapi::{
    self, Document, ImportError, NewFunction, Outcome, PendingFunction, Request,
};
use kosmo_codegen::{Provider, SpecFiles};
use serde_json::{Value, json};

const FIXTURE: &str = include_str!("fixtures/spec/acme.yaml");
const GUIDE: &str = include_str!("fixtures/spec/guides/start.md");

/// The fixture manifest, with `extra` appended to its `functions:` list (its last key).
fn spec_files(extra: &str) -> SpecFiles {
    BTreeMap::from([
        ("spec/acme.yaml".to_string(), format!("{FIXTURE}{extra}")),
        ("spec/guides/start.md".to_string(), GUIDE.to_string()),
    ])
}

fn provider(extra: &str) -> Provider {
    let mut providers = kosmo_codegen::load(&spec_files(extra)).unwrap_or_else(|d| panic!("{d}"));
    providers.remove(0)
}

/// Acme's API as its OpenAPI document describes it: three operations the fixture manifest has
/// (one with a bound it disagrees on, one with a renamed placeholder, one that conforms) and
/// new ones exercising paths, paging, enums, bounds, defaults, `$ref`s, `allOf`, read-only
/// fields, names that are no Lua identifiers, headers and a method manifests cannot call.
fn document() -> Value {
    json!({
        "openapi": "3.0.3",
        "servers": [{"url": "https://api.acme.example/v2"}],
        "tags": [
            {"name": "Widgets", "description": "Widgets, the core of the catalog."},
            {"name": "Gadget Shop", "description": "Gadgets, sold by [shops](https://acme.example/shops). Each shop has its own stock."}
        ],
        "paths": {
            "/widgets": {
                "get": {
                    "operationId": "ListWidgets",
                    "tags": ["Widgets"],
                    "parameters": [
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 10}},
                        {"name": "color", "in": "query", "schema": {"type": "array", "maxItems": 3, "items": {"type": "string", "enum": ["red", "green", "blue"]}}},
                        {"name": "type", "in": "query", "schema": {"type": "string"}},
                        {"name": "in_stock", "in": "query", "schema": {"type": "boolean"}},
                        {"name": "skip", "in": "query", "schema": {"type": "integer", "minimum": 0}}
                    ]
                }
            },
            "/widgets/{id}": {
                "get": {
                    "operationId": "GetWidget",
                    "tags": ["Widgets"],
                    "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}]
                }
            },
            "/widgets/{widget_id}/versions/{version}": {
                "delete": {
                    "operationId": "DeleteWidget",
                    "tags": ["Widgets"],
                    "parameters": [
                        {"name": "widget_id", "in": "path", "required": true, "schema": {"type": "string"}},
                        {"name": "version", "in": "path", "required": true, "schema": {"type": "integer"}}
                    ]
                }
            },
            "/shops/{shop_id}/gadgets": {
                "parameters": [
                    {"name": "shop_id", "in": "path", "required": true, "description": "The shop's ID.", "example": "shop_123", "schema": {"type": "string"}}
                ],
                "get": {
                    "operationId": "ListShopGadgets",
                    "tags": ["Gadget Shop"],
                    "summary": "List a shop's gadgets.",
                    "description": "Lists the gadgets of one shop, newest first, as `{data, total_count}`.\n\nSee [paging](https://acme.example/docs/paging) for how `limit` and `offset` work. Gadgets that were archived are left out unless `status` asks for them; a gadget archived and restored counts once. The total counts every gadget that matches the filters, not only those in the page. Prices are in the shop's currency, in cents, and include taxes where the shop's country requires it. Sorting by a field the gadget does not have puts it last. This sentence is here to take the description past six hundred characters, so that the importer has to cut it at a sentence boundary.",
                    "parameters": [
                        {"$ref": "#/components/parameters/Limit"},
                        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
                        {"name": "status", "in": "query", "description": "Only gadgets in this state.", "schema": {"type": "string", "enum": ["active", "off", "yes", "-archived"], "default": "active"}},
                        {"name": "order_by", "in": "query", "schema": {"type": "string", "default": "-created_at"}, "example": "-price"},
                        {"name": "price.gte", "in": "query", "description": "Lowest price, in cents.", "schema": {"type": "number", "minimum": 0}, "example": 250},
                        {"name": "end", "in": "query", "description": "Only gadgets whose sale has ended: # not a comment.", "schema": {"type": "boolean"}},
                        {"name": "since", "in": "query", "schema": {"type": "string", "format": "date"}, "example": "2030-01-01"},
                        {"name": "X-Trace", "in": "header", "schema": {"type": "string"}}
                    ],
                    "responses": {"200": {"$ref": "#/components/responses/GadgetPage"}}
                }
            },
            "/gadgets": {
                "post": {
                    "operationId": "CreateGadget",
                    "tags": ["Gadget Shop"],
                    "summary": "Create a gadget",
                    "requestBody": {"$ref": "#/components/requestBodies/NewGadget"}
                },
                "head": {
                    "operationId": "CheckGadgets",
                    "tags": ["Gadget Shop"]
                }
            },
            "/gadgets/{gadgetId}": {
                "patch": {
                    "operationId": "updateGadget",
                    "parameters": [{"name": "gadgetId", "in": "path", "required": true, "schema": {"type": "string"}}],
                    "requestBody": {"content": {"application/json": {"schema": {
                        "type": "object",
                        "properties": {
                            "colorCode": {"type": "string", "nullable": true, "description": "A CSS color, like `#ff0000`."},
                            "gadgetId": {"type": "string", "description": "A new ID, when it changes."},
                            "dimensions": {"anyOf": [{"type": "array", "items": {"type": "number"}}, {"type": "null"}]}
                        }
                    }}}}
                }
            }
        },
        "components": {
            "parameters": {
                "Limit": {"name": "limit", "in": "query", "description": "Page size.", "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 20}}
            },
            "responses": {
                "GadgetPage": {"description": "A page", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GadgetPage"}}}}
            },
            "requestBodies": {
                "NewGadget": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewGadget"}}}}
            },
            "schemas": {
                "GadgetPage": {
                    "type": "object",
                    "properties": {
                        "data": {"type": "array", "items": {"$ref": "#/components/schemas/Gadget"}},
                        "total_count": {"type": "integer"}
                    }
                },
                "Gadget": {"type": "object", "properties": {"id": {"type": "string"}}},
                "Named": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string", "description": "The gadget's name.", "example": "Sprocket: deluxe"}}
                },
                "NewGadget": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Named"},
                        {
                            "type": "object",
                            "required": ["shop_id"],
                            "properties": {
                                "id": {"type": "string", "readOnly": true},
                                "shop_id": {"type": "string", "description": "The shop that sells it."},
                                "price": {"type": "number", "minimum": 0, "example": "not a number"},
                                "tags": {"type": "array", "maxItems": 5, "items": {"type": "string"}, "example": ["new"]},
                                "sizes": {"type": "array", "items": {"type": "integer", "enum": [1, 2, 3]}},
                                "meta": {"type": "object", "additionalProperties": true, "deprecated": true},
                                "release": {"type": "string", "default": "2030-01-01"}
                            }
                        }
                    ]
                }
            }
        }
    })
}

fn import(request: &Request) -> Result<Vec<Outcome>, ImportError> {
    openapi::import(&Document::from(document()), &provider(""), &[], request)
}

fn by_tags(tags: &[&str]) -> Request {
    Request {
        tags: tags.iter().map(|t| t.to_string()).collect(),
        ..Request::default()
    }
}

fn by_ids(ids: &[&str]) -> Request {
    Request {
        operations: ids.iter().map(|t| t.to_string()).collect(),
        ..Request::default()
    }
}

fn added(outcomes: &[Outcome]) -> Vec<&NewFunction> {
    outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Added(new) => Some(new.as_ref()),
            _ => None,
        })
        .collect()
}

/// What `cargo xtask import-openapi` would say of each outcome, and every entry's YAML.
fn describe(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    for outcome in outcomes {
        match outcome {
            Outcome::Added(new) => {
                out.push_str(&format!(
                    "added {} ({} {}) [{}] for family {}\n",
                    new.name, new.method, new.path, new.operation_id, new.family.name
                ));
                for note in &new.notes {
                    out.push_str(&format!("  note: {note}\n"));
                }
            }
            Outcome::Existing(existing) => out.push_str(&format!(
                "existing {} as {}: {:?}\n",
                existing.name, existing.existing, existing.differences
            )),
            Outcome::Unsupported(unsupported) => out.push_str(&format!(
                "unsupported {}: {}\n",
                unsupported.operation_id, unsupported.reason
            )),
        }
    }
    for new in added(outcomes) {
        out.push_str(&format!("\n# {}\n", new.family.declaration("acme")));
        out.push_str(&new.yaml());
    }
    out
}

#[test]
fn imported_entries_are_written_in_the_manifest_style() {
    let outcomes = import(&by_tags(&["Widgets", "Gadget Shop"])).unwrap();
    let more = import(&by_ids(&["updateGadget"])).unwrap();
    insta::assert_snapshot!(describe(&[outcomes, more].concat()));
}

#[test]
fn operations_the_manifest_has_are_compared_and_not_imported() {
    let outcomes = import(&by_tags(&["Widgets"])).unwrap();
    assert!(added(&outcomes).is_empty(), "{outcomes:#?}");
    let reports: Vec<(String, String, Vec<String>)> = outcomes
        .into_iter()
        .map(|o| match o {
            Outcome::Existing(e) => (e.name, e.existing, e.differences.unwrap()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        reports,
        [
            (
                "list_widgets".to_string(),
                "list_widgets".to_string(),
                vec![
                    "query parameter limit: maximum is 100 in the manifest but 200 in the OpenAPI document"
                        .to_string()
                ]
            ),
            (
                "get_widget".to_string(),
                "get_widget".to_string(),
                vec!["path placeholder {widget_id} is {id} in the OpenAPI document (/widgets/{id})".to_string()]
            ),
            ("delete_widget".to_string(), "delete_widget".to_string(), vec![]),
        ]
    );
}

/// The manifest with every new entry added (with a group, as the loader wants it today).
fn with_entries(entries: &[&NewFunction]) -> String {
    entries
        .iter()
        .map(|new| new.manifest_yaml(&new.family.name))
        .collect()
}

#[test]
fn imported_entries_load_validate_and_conform_to_the_document() {
    let outcomes = import(&by_tags(&["Gadget Shop"])).unwrap();
    let more = import(&by_ids(&["updateGadget"])).unwrap();
    let outcomes = [outcomes, more].concat();
    let new = added(&outcomes);
    assert_eq!(new.len(), 3);
    for entry in &new {
        // Only what the document asks for and a manifest cannot say is left as a note.
        assert!(
            entry
                .notes
                .iter()
                .all(|n| !n.starts_with("validation:") && !n.starts_with("check-openapi:")),
            "{}: {:#?}",
            entry.name,
            entry.notes
        );
    }

    let extra = with_entries(&new);
    let provider = provider(&extra);
    let report = openapi::check(&provider, &Document::from(document()));
    let names: Vec<&str> = new.iter().map(|n| n.name.as_str()).collect();
    let theirs: Vec<String> = report
        .mismatches
        .iter()
        .filter(|m| names.contains(&m.function.as_str()))
        .map(ToString::to_string)
        .collect();
    assert_eq!(theirs, Vec::<String>::new());

    // Importing again now changes nothing: every operation exists, without differences.
    let again = openapi::import(
        &Document::from(document()),
        &provider,
        &[],
        &by_tags(&["Gadget Shop"]),
    )
    .unwrap();
    for outcome in &again {
        match outcome {
            Outcome::Existing(existing) => {
                assert_eq!(existing.differences, Some(vec![]), "{existing:?}")
            }
            Outcome::Unsupported(_) => {}
            Outcome::Added(new) => panic!("{} imported twice", new.name),
        }
    }
}

#[test]
fn family_files_hold_the_entries_without_a_group_and_count_as_existing() {
    let outcomes = import(&by_tags(&["Gadget Shop"])).unwrap();
    let new = added(&outcomes);
    let items: Vec<String> = new.iter().map(|n| n.yaml()).collect();
    let created = openapi::append_to_family_file(None, &items[..1]);
    assert!(created.starts_with(
        "# yaml-language-server: $schema=../../generated/schema/family.schema.json\nfunctions:\n  - name: list_shop_gadgets\n"
    ));
    let file = openapi::append_to_family_file(Some(&created), &items[1..]);
    let parsed: Value = serde_saphyr::from_str(&file).unwrap();
    let functions = parsed["functions"].as_array().unwrap();
    assert_eq!(parsed.as_object().unwrap().len(), 1);
    assert_eq!(functions.len(), new.len());
    for (function, entry) in functions.iter().zip(&new) {
        assert_eq!(function["name"], entry.name.as_str());
        assert!(function.get("group").is_none());
    }
    // An empty list can be appended to.
    let empty = "# a family with nothing yet\nfunctions: []\n";
    let parsed: Value =
        serde_saphyr::from_str(&openapi::append_to_family_file(Some(empty), &items)).unwrap();
    assert_eq!(parsed["functions"].as_array().unwrap().len(), items.len());

    let provider = provider("");
    let path = openapi::family_file_path(&provider, &new[0].family.name);
    assert_eq!(path, "spec/acme/gadget_shop.yaml");
    let pending = openapi::pending_functions(&path, &file).unwrap();
    assert_eq!(
        pending[0],
        PendingFunction {
            file: path.clone(),
            name: "list_shop_gadgets".to_string(),
            slug: Some("acme_list_shop_gadgets".to_string()),
            aliases: vec![],
            method: kosmo_codegen::manifest::Method::Get,
            path: "/shops/{shop_id}/gadgets".to_string(),
        }
    );
    let again = openapi::import(
        &Document::from(document()),
        &provider,
        &pending,
        &by_tags(&["Gadget Shop"]),
    )
    .unwrap();
    assert!(added(&again).is_empty());
    match &again[0] {
        Outcome::Existing(existing) => {
            assert_eq!(existing.file.as_deref(), Some(path.as_str()));
            assert_eq!(existing.differences, None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn families_come_from_tags_or_the_request() {
    let outcomes = import(&by_ids(&["CreateGadget", "updateGadget"])).unwrap();
    let new = added(&outcomes);
    assert_eq!(new[0].family.name, "gadget_shop");
    assert_eq!(new[0].family.title, "Gadget Shop");
    assert_eq!(new[0].family.summary, "Gadgets, sold by shops.");
    assert_eq!(
        new[0].family.declaration("acme"),
        "  - { name: gadget_shop, title: Gadget Shop, summary: Gadgets, sold by shops., file: acme/gadget_shop.yaml }"
            .replace("Gadgets, sold by shops.", "\"Gadgets, sold by shops.\"")
    );
    // Without a tag, the first path segment names the family.
    assert_eq!(new[1].family.name, "gadgets");

    let forced = Request {
        family: Some("shop".to_string()),
        ..by_ids(&["CreateGadget"])
    };
    let outcomes = import(&forced).unwrap();
    assert_eq!(added(&outcomes)[0].family.name, "shop");
    assert_eq!(added(&outcomes)[0].family.title, "Shop");

    let declared = "provider: {}\nfamilies:\n  - { name: shop, title: Shop, summary: S, file: acme/shop.yaml }\nfunctions: []\n";
    assert_eq!(
        openapi::declared_families("spec/acme.yaml", declared).unwrap(),
        ["shop"]
    );
    assert_eq!(
        openapi::declared_families("spec/acme.yaml", FIXTURE).unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn unknown_operations_and_tags_are_refused_with_a_suggestion() {
    let request = Request {
        operations: vec!["CreateGadgets".to_string(), "Nothing".to_string()],
        tags: vec!["gadget shop".to_string()],
        family: None,
    };
    let error = import(&request).unwrap_err();
    assert_eq!(
        error.to_string(),
        "no operation `CreateGadgets` in the OpenAPI document; did you mean `CreateGadget`?\n\
         no operation `Nothing` in the OpenAPI document\n\
         no tag `gadget shop` in the OpenAPI document; did you mean `Gadget Shop`?"
    );
    assert_eq!(
        import(&Request::default()).unwrap_err(),
        ImportError::NothingSelected
    );
    let bad_family = Request {
        family: Some("2nd-family".to_string()),
        ..by_ids(&["CreateGadget"])
    };
    assert_eq!(
        import(&bad_family).unwrap_err(),
        ImportError::InvalidFamily("2nd-family".to_string())
    );
    let no_paths = openapi::import(
        &Document::from(json!({"openapi": "3.1.0"})),
        &provider(""),
        &[],
        &by_ids(&["CreateGadget"]),
    );
    assert_eq!(no_paths.unwrap_err(), ImportError::NoPaths);
}

#[test]
fn names_already_taken_get_a_suffix_and_a_note() {
    let mut doc = document();
    // An operation whose name is taken by a function with another route.
    doc["paths"]["/gadgets"]["post"]["operationId"] = json!("CreateWidget");
    let outcomes = openapi::import(
        &Document::from(doc),
        &provider(""),
        &[],
        &by_ids(&["CreateWidget"]),
    )
    .unwrap();
    let new = added(&outcomes);
    assert_eq!(new[0].name, "create_widget_2");
    assert!(
        new[0].notes[0].contains("`create_widget` is already a function name here"),
        "{:?}",
        new[0].notes
    );
}
