//! `cargo xtask import-openapi` on a copy of the fixture provider in a temporary folder (tests
//! never write into the repository): entries go to the family file named by the tag, the line
//! to declare the family is given, and a second run finds every operation already there.

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
        "# yaml-language-server: $schema=../../generated/schema/family.schema.json\nfunctions:\n  - name: list_gadgets\n"
    ));
    assert!(write.contents.ends_with(&write.appended));
    assert!(
        write
            .contents
            .contains("    pagination: { page_size: 100 }\n")
    );
    assert_eq!(
        first.declarations,
        [(
            "spec/acme.yaml".to_string(),
            "  - { name: gadget_shop, title: Gadget Shop, summary: Gadgets for sale., file: acme/gadget_shop.yaml }"
                .to_string()
        )]
    );
    apply(&root.0, &first);

    // The family file is not a manifest yet: generation and the loader ignore it.
    let spec = fs::read_tree(&root.0, "spec").unwrap();
    assert_eq!(kosmo_codegen::load(&spec).unwrap()[0].functions.len(), 6);

    let second = plan(&root.0, &document, &request(&[], &["Gadget Shop"]), None).unwrap();
    assert_eq!(
        second.report,
        [
            "skipped list_gadgets: already in spec/acme/gadget_shop.yaml as list_gadgets — not compared: the loader does not read family files yet",
            "skipped create_gadget: already in spec/acme/gadget_shop.yaml as create_gadget — not compared: the loader does not read family files yet",
        ]
    );
    assert!(second.writes.is_empty());
    assert!(second.declarations.is_empty());
}

#[test]
fn a_forced_family_appends_to_its_file_and_errors_name_the_problem() {
    let (root, document) = fixture_root("import-openapi-family");
    let mut forced = request(&["ListGadgets"], &[]);
    forced.family = Some("shop".to_string());
    let first = plan(&root.0, &document, &forced, None).unwrap();
    apply(&root.0, &first);
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
