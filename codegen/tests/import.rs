//! The OpenAPI importer on the fixture provider `acme`: new operations become entries that load,
//! validate and conform to the document; operations the manifest has are compared, never
//! imported again; wrong names are refused with a suggestion.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeMap;

use kosmo_codegen::openapi::{
    self, Document, Family, FamilyTarget, ImportError, ManifestChange, NewFunction, Outcome,
    Request,
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

fn load(files: &SpecFiles) -> Provider {
    let mut providers = kosmo_codegen::load(files).unwrap_or_else(|d| panic!("{d}"));
    providers.remove(0)
}

fn provider(extra: &str) -> Provider {
    load(&spec_files(extra))
}

/// The fixture manifest declaring its groups as families, and then `more` (family lines).
fn with_families(more: &[&str]) -> String {
    let families = [
        "families:",
        "  - { name: raw, title: Raw, summary: Any path. }",
        "  - { name: widgets, title: Widgets, summary: Widgets. }",
        "  - { name: health, title: Health, summary: Connectivity. }",
    ];
    let block = [&families[..], more].concat().join("\n");
    FIXTURE.replacen("\nfunctions:\n", &format!("\n{block}\nfunctions:\n"), 1)
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
    openapi::import(&Document::from(document()), &provider(""), request)
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
                "existing {} as {} (also {:?}): {:?}\n",
                existing.name, existing.existing, existing.also, existing.differences
            )),
            Outcome::Unsupported(unsupported) => out.push_str(&format!(
                "unsupported {}: {}\n",
                unsupported.operation_id, unsupported.reason
            )),
        }
    }
    for new in added(outcomes) {
        let file = format!("acme/{}.yaml", new.family.name);
        out.push_str(&format!("\n# {}\n", new.family.declaration(&file)));
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
            Outcome::Existing(e) => (e.name, e.existing, e.differences),
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
        &by_tags(&["Gadget Shop"]),
    )
    .unwrap();
    for outcome in &again {
        match outcome {
            Outcome::Existing(existing) => {
                assert_eq!(existing.differences, Vec::<String>::new(), "{existing:?}")
            }
            Outcome::Unsupported(_) => {}
            Outcome::Added(new) => panic!("{} imported twice", new.name),
        }
    }
}

#[test]
fn family_files_hold_the_entries_without_a_group_and_load_once_declared() {
    let outcomes = import(&by_tags(&["Gadget Shop"])).unwrap();
    let new = added(&outcomes);
    let items: Vec<String> = new.iter().map(|n| n.yaml()).collect();
    let start = openapi::new_family_file("spec/acme.yaml", &new[0].family);
    let created = openapi::append_to_family_file(&start, &items[..1]);
    assert!(created.starts_with(
        "# yaml-language-server: $schema=../../generated/schema/family.schema.json\n\
         # Family `gadget_shop` of spec/acme.yaml (Gadget Shop). Every key is documented in spec/README.md.\n\
         functions:\n  - name: list_shop_gadgets\n"
    ));
    let file = openapi::append_to_family_file(&created, &items[1..]);
    let parsed: Value = serde_saphyr::from_str(&file).unwrap();
    assert_eq!(parsed.as_object().unwrap().len(), 1);
    let functions = parsed["functions"].as_array().unwrap();
    assert_eq!(functions.len(), new.len());
    for (function, entry) in functions.iter().zip(&new) {
        assert_eq!(function["name"], entry.name.as_str());
        assert!(function.get("group").is_none());
    }
    // An empty list can be appended to.
    let empty = "# a family with nothing yet\nfunctions: []\n";
    let parsed: Value =
        serde_saphyr::from_str(&openapi::append_to_family_file(empty, &items)).unwrap();
    assert_eq!(parsed["functions"].as_array().unwrap().len(), items.len());

    // Where the file goes, and the line that lists it; with it the loader reads the entries.
    let manifest = kosmo_codegen::parse_manifest("spec/acme.yaml", &with_families(&[])).unwrap();
    let target = openapi::family_target("spec/acme.yaml", &manifest, &new[0].family);
    assert_eq!(target.file, "spec/acme/gadget_shop.yaml");
    let Some(ManifestChange::Declare { line, .. }) = &target.change else {
        panic!("{target:?}");
    };
    let files = BTreeMap::from([
        ("spec/acme.yaml".to_string(), with_families(&[line])),
        ("spec/guides/start.md".to_string(), GUIDE.to_string()),
        (target.file.clone(), file),
    ]);
    let provider = load(&files);
    let report = openapi::check(&provider, &Document::from(document()));
    let names: Vec<&str> = new.iter().map(|n| n.name.as_str()).collect();
    assert!(
        report
            .mismatches
            .iter()
            .all(|m| !names.contains(&m.function.as_str())),
        "{:#?}",
        report.mismatches
    );
    let imported = provider
        .functions
        .iter()
        .find(|f| f.name == "list_shop_gadgets")
        .unwrap();
    assert_eq!(imported.group, "gadget_shop");

    // Importing again finds every operation there.
    let again = openapi::import(
        &Document::from(document()),
        &provider,
        &by_tags(&["Gadget Shop"]),
    )
    .unwrap();
    assert!(added(&again).is_empty(), "{again:#?}");
}

#[test]
fn the_family_file_is_the_one_the_manifest_lists() {
    let family = Family {
        name: "gadget_shop".to_string(),
        title: "Gadget Shop".to_string(),
        summary: "Gadgets, sold by shops.".to_string(),
    };
    let target = |text: &str| {
        let manifest = kosmo_codegen::parse_manifest("spec/acme.yaml", text).unwrap();
        openapi::family_target("spec/acme.yaml", &manifest, &family)
    };
    let line = "  - { name: gadget_shop, title: Gadget Shop, summary: \"Gadgets, sold by shops.\", file: acme/gadget_shop.yaml }";

    // A manifest without `families:` must declare its groups too.
    let change = ManifestChange::Declare {
        manifest: "spec/acme.yaml".to_string(),
        line: line.to_string(),
        undeclared_groups: vec!["raw".into(), "widgets".into(), "health".into()],
    };
    assert_eq!(
        target(FIXTURE),
        FamilyTarget {
            file: "spec/acme/gadget_shop.yaml".to_string(),
            change: Some(change.clone()),
        }
    );
    assert_eq!(
        change.to_string(),
        format!(
            "spec/acme.yaml has no `families:` yet; add the key, with a family for each group its functions use (raw, widgets, health), and this line:\n{line}"
        )
    );

    let undeclared = target(&with_families(&[]));
    assert_eq!(
        undeclared.change.unwrap().to_string(),
        format!(
            "spec/acme.yaml does not declare this family yet; add this line under `families:`:\n{line}"
        )
    );

    let elsewhere = target(&with_families(&[
        "  - { name: gadget_shop, title: G, summary: G., file: acme/shop/gadgets.yaml }",
    ]));
    assert_eq!(
        elsewhere,
        FamilyTarget {
            file: "spec/acme/shop/gadgets.yaml".to_string(),
            change: None,
        }
    );

    let without_file = target(&with_families(&[
        "  - { name: gadget_shop, title: G, summary: G. }",
    ]));
    assert_eq!(without_file.file, "spec/acme/gadget_shop.yaml");
    assert_eq!(
        without_file.change.unwrap().to_string(),
        "spec/acme.yaml declares the family `gadget_shop` without a file; add `file: acme/gadget_shop.yaml` to it"
    );
}

#[test]
fn an_excluded_operation_is_drafted_with_a_note() {
    let manifest = format!(
        "{FIXTURE}excluded_operations:\n  - {{ operation: CreateGadget, reason: Not sold yet. }}\n"
    );
    let files = BTreeMap::from([
        ("spec/acme.yaml".to_string(), manifest),
        ("spec/guides/start.md".to_string(), GUIDE.to_string()),
    ]);
    let outcomes = openapi::import(
        &Document::from(document()),
        &load(&files),
        &by_ids(&["CreateGadget"]),
    )
    .unwrap();
    assert_eq!(
        added(&outcomes)[0].notes,
        [
            "spec/acme.yaml lists `CreateGadget` under excluded_operations (Not sold yet.); remove it from there, or drop this entry"
        ]
    );
}

#[test]
fn families_come_from_tags_or_the_request() {
    let outcomes = import(&by_ids(&["CreateGadget", "updateGadget"])).unwrap();
    let new = added(&outcomes);
    assert_eq!(new[0].family.name, "gadget_shop");
    assert_eq!(new[0].family.title, "Gadget Shop");
    assert_eq!(new[0].family.summary, "Gadgets, sold by shops.");
    assert_eq!(
        new[0].family.declaration("acme/gadget_shop.yaml"),
        "  - { name: gadget_shop, title: Gadget Shop, summary: \"Gadgets, sold by shops.\", file: acme/gadget_shop.yaml }"
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
