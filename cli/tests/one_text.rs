//! One text everywhere: the generated markdown files on disk, `docs.read(...)` in Lua and
//! `kosmo integrations:docs` print the same page, byte for byte (less the files' first line,
//! the "generated, do not edit" comment).

use crate::common;

use std::path::Path;

use common::Kosmo;
use kosmo_integrations::clerk::docs::DOCS;
use kosmo_integrations::clerk::meta::PROVIDER;

/// Every docs page with the generated file it must equal.
fn pages() -> Vec<(String, String)> {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated/docs/clerk");
    let mut pages = vec![
        ("clerk".to_string(), docs.join("README.md")),
        (
            "app.integrations.clerk".to_string(),
            docs.join("namespace.md"),
        ),
    ];
    for function in PROVIDER.functions {
        pages.push((
            format!("clerk.{}", function.name),
            docs.join(format!("functions/{}.md", function.name)),
        ));
    }
    for (family, _) in DOCS.family_pages {
        pages.push((
            format!("clerk.family.{family}"),
            docs.join(format!("families/{family}.md")),
        ));
    }
    for (guide, _) in DOCS.guide_pages {
        pages.push((
            format!("clerk.guide.{guide}"),
            docs.join(format!("guides/{guide}.md")),
        ));
    }
    pages
        .into_iter()
        .map(|(page, path)| {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let (header, body) = text.split_once('\n').unwrap();
            assert!(header.starts_with("<!-- @generated"), "{}", path.display());
            (page, body.to_string())
        })
        .collect()
}

#[test]
fn docs_read_returns_the_generated_files() {
    let pages = pages();
    assert_eq!(
        pages.len(),
        PROVIDER.functions.len() + 2 + PROVIDER.families.len() + DOCS.guide_pages.len()
    );
    let names: Vec<String> = pages.iter().map(|(p, _)| format!("{p:?}")).collect();
    let script = format!(
        "local pages = {{}}\nfor _, name in ipairs({{ {} }}) do table.insert(pages, docs.read(name)) end\nreturn pages",
        names.join(", ")
    );
    let (code, envelope) = Kosmo::new().lua(&script, &[]);
    assert_eq!(code, 0, "{envelope:#}");
    let read = envelope["result"][0].as_array().unwrap();
    assert_eq!(read.len(), pages.len());
    for ((page, file), text) in pages.iter().zip(read) {
        assert_eq!(text.as_str().unwrap(), file, "docs.read({page:?})");
    }
    // Every page `docs.list()` offers is one of these.
    let (_, envelope) = Kosmo::new().lua("return docs.list()", &[]);
    let mut listed: Vec<&str> = envelope["result"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = pages.iter().map(|(p, _)| p.as_str()).collect();
    listed.sort_unstable();
    expected.sort_unstable();
    assert_eq!(listed, expected);
}

#[test]
fn the_docs_command_prints_the_generated_files() {
    let kosmo = Kosmo::new();
    for (page, file) in pages() {
        let run = kosmo.run(&["integrations:docs", &page]);
        assert_eq!(run.code, 0, "{page}: {}", run.stderr);
        assert_eq!(
            run.stdout.trim_end(),
            file.trim_end(),
            "integrations:docs {page}"
        );
        let run = kosmo.run(&["integrations:docs", &page, "--format", "markdown"]);
        assert_eq!(
            run.stdout.trim_end(),
            file.trim_end(),
            "--format markdown {page}"
        );
    }
}

#[test]
fn the_json_format_prints_the_generated_catalog() {
    let catalog_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated/docs/clerk/catalog.json");
    let catalog: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(catalog_path).unwrap()).unwrap();
    let kosmo = Kosmo::new();
    let run = kosmo.run(&["integrations:docs", "clerk", "--format", "json"]);
    assert_eq!(run.json(), catalog);
    for entry in catalog["functions"].as_array().unwrap() {
        let page = format!("clerk.{}", entry["function_name"].as_str().unwrap());
        let run = kosmo.run(&["integrations:docs", &page, "--format", "json"]);
        assert_eq!(&run.json(), entry, "{page}");
    }
}
