//! `cargo xtask import-openapi` on a copy of the fixture provider in a temporary folder (tests
//! never write into the repository): entries go to the family file named by the tag, the line
//! to declare the family is given, and once it is declared a second run finds every operation
//! there.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};

use kosmo_codegen::openapi::Request;
use xtask::fs;
use xtask::import::plan;

const DOCUMENT: &str = r#"openapi: 3.0.3
servers: [{ url: "https://api.acme.example/v2" }]
tags:
  - { name: Gadget Shop, description: Gadgets for sale. }
paths:
  /gadgets:
    get:
      operationId: ListGadgets
      tags: [Gadget Shop]
      summary: List gadgets
      parameters:
        - { name: limit, in: query, schema: { type: integer, minimum: 1, maximum: 100 } }
        - { name: offset, in: query, schema: { type: integer, minimum: 0 } }
      responses:
        "200": { description: OK, content: { application/json: { schema: { type: array, items: { type: object } } } } }
    post:
      operationId: CreateGadget
      tags: [Gadget Shop]
      requestBody:
        content:
          application/json:
            schema: { type: object, required: [name], properties: { name: { type: string } } }
  /widgets/{widget_id}:
    get:
      operationId: GetWidget
      tags: [Widgets]
      parameters:
        - { name: widget_id, in: path, required: true, schema: { type: string } }
"#;

/// A folder of its own under the system's temporary folder, removed when dropped.
struct TempRoot(PathBuf);

impl TempRoot {
    fn new(name: &str) -> TempRoot {
        let path = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempRoot(path)
    }
}

impl Drop for TempRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A repository root whose spec/ holds the fixture provider, and the document beside it.
fn fixture_root(name: &str) -> (TempRoot, PathBuf) {
    let root = TempRoot::new(name);
    let fixtures = fs::repo_root().join("codegen/tests/fixtures/spec");
    for file in ["acme.yaml", "guides/start.md"] {
        let text = std::fs::read_to_string(fixtures.join(file)).unwrap();
        fs::write_file(&root.0, &format!("spec/{file}"), &text).unwrap();
    }
    let document = root.0.join("openapi.yaml");
    std::fs::write(&document, DOCUMENT).unwrap();
    (root, document)
}

fn request(operations: &[&str], tags: &[&str]) -> Request {
    Request {
        operations: operations.iter().map(|s| s.to_string()).collect(),
        tags: tags.iter().map(|s| s.to_string()).collect(),
        family: None,
    }
}

fn apply(root: &Path, plan: &xtask::import::Plan) {
    for write in &plan.writes {
        fs::write_file(root, &write.path, &write.contents).unwrap();
    }
}

#[test]
fn entries_go_to_the_family_file_and_a_second_run_finds_them() {
    let (root, document) = fixture_root("import-openapi");
    let first = plan(
        &root.0,
        &document,
        &request(&["GetWidget"], &["Gadget Shop"]),
        None,
    )
    .unwrap();
    assert_eq!(
        first.report,
        [
            "added list_gadgets (GET /gadgets) to spec/acme/gadget_shop.yaml",
            "added create_gadget (POST /gadgets) to spec/acme/gadget_shop.yaml",
            "skipped get_widget: already in the manifest as get_widget — no differences",
        ]
    );
    assert_eq!(first.writes.len(), 1);
    let write = &first.writes[0];
    assert!(write.created);
    assert_eq!(write.path, "spec/acme/gadget_shop.yaml");
    assert!(write.contents.starts_with(
        "# yaml-language-server: $schema=../../generated/schema/family.schema.json\n\
         # Family `gadget_shop` of spec/acme.yaml (Gadget Shop). Every key is documented in spec/README.md.\n\
         functions:\n  - name: list_gadgets\n"
    ));
    assert!(write.contents.ends_with(&write.appended));
    assert!(
        write
            .contents
            .contains("    pagination: { page_size: 100 }\n")
    );
    let change = first.changes.first().unwrap().to_string();
    assert_eq!(
        change,
        "spec/acme.yaml has no `families:` yet; add the key, with a family for each group its \
         functions use (raw, widgets, health), and this line:\n  - { name: gadget_shop, title: \
         Gadget Shop, summary: Gadgets for sale., file: acme/gadget_shop.yaml }"
    );
    apply(&root.0, &first);

    // The loader refuses a family file no family lists, and says what to add.
    let error = plan(&root.0, &document, &request(&[], &["Gadget Shop"]), None).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("no family in spec/acme.yaml lists this file"),
        "{error}"
    );

    // Declared, its functions load, and a second run finds every operation there.
    declare_families(
        &root.0,
        &[
            "  - { name: gadget_shop, title: Gadget Shop, summary: Gadgets for sale., file: acme/gadget_shop.yaml }",
        ],
    );
    let spec = fs::read_tree(&root.0, "spec").unwrap();
    assert_eq!(kosmo_codegen::load(&spec).unwrap()[0].functions.len(), 9);
    let second = plan(&root.0, &document, &request(&[], &["Gadget Shop"]), None).unwrap();
    assert_eq!(
        second.report,
        [
            "skipped list_gadgets: already in the manifest as list_gadgets — no differences",
            "skipped create_gadget: already in the manifest as create_gadget — no differences",
        ]
    );
    assert!(second.writes.is_empty());
    assert!(second.changes.is_empty());
}

/// Declares the fixture's groups as families in the copy's manifest, and `more`.
fn declare_families(root: &Path, more: &[&str]) {
    let path = root.join("spec/acme.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let families = [
        "families:",
        "  - { name: raw, title: Raw, summary: Any path. }",
        "  - { name: widgets, title: Widgets, summary: Widgets. }",
        "  - { name: health, title: Health, summary: Connectivity. }",
    ];
    let block = [&families[..], more].concat().join("\n");
    let text = text.replacen("\nfunctions:\n", &format!("\n{block}\nfunctions:\n"), 1);
    std::fs::write(&path, text).unwrap();
}

#[test]
fn a_forced_family_appends_to_its_file_and_errors_name_the_problem() {
    let (root, document) = fixture_root("import-openapi-family");
    let mut forced = request(&["ListGadgets"], &[]);
    forced.family = Some("shop".to_string());
    let first = plan(&root.0, &document, &forced, None).unwrap();
    apply(&root.0, &first);
    declare_families(
        &root.0,
        &["  - { name: shop, title: Shop, summary: Shop., file: acme/shop.yaml }"],
    );
    forced.operations = vec!["CreateGadget".to_string()];
    let second = plan(&root.0, &document, &forced, None).unwrap();
    assert_eq!(
        second.report,
        ["added create_gadget (POST /gadgets) to spec/acme/shop.yaml"]
    );
    let write = &second.writes[0];
    assert!(!write.created);
    assert_eq!(
        write.contents,
        format!("{}{}", first.writes[0].contents, write.appended)
    );

    let error = plan(&root.0, &document, &request(&["ListGadget"], &[]), None).unwrap_err();
    assert_eq!(
        error.to_string(),
        "no operation `ListGadget` in the OpenAPI document; did you mean `ListGadgets`?"
    );
    let error = plan(
        &root.0,
        &document,
        &request(&["ListGadgets"], &[]),
        Some("nope"),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "no manifest in spec/ names the provider `nope`"
    );
}
