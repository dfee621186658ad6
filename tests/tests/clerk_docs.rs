//! The checked-in Clerk docs and catalog document every function with its complete parameter
//! table: the reference page's "No parameters." defect cannot come back.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use kosmo_integrations::clerk;
use serde_json::Value;

fn read(path: &str) -> String {
    let root = xtask::fs::repo_root();
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The namespace doc's section for one function: from its heading to the next `## `.
fn section<'a>(doc: &'a str, name: &str) -> &'a str {
    let heading = format!("\n## app.integrations.clerk.{name}(");
    let start = doc
        .find(&heading)
        .unwrap_or_else(|| panic!("no section for {name}"));
    let rest = &doc[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    &rest[..end]
}

#[test]
fn every_function_has_its_complete_parameter_table() {
    let doc = read("generated/docs/clerk/namespace.md");
    assert!(!doc.contains("No parameters."));
    for function in clerk::meta::PROVIDER.functions {
        let text = section(&doc, function.name);
        if function.params.is_empty() {
            assert!(text.contains("Takes no parameters."), "{}", function.name);
        } else {
            assert!(!text.contains("Takes no parameters."), "{}", function.name);
            for param in function.params {
                let row = format!(
                    "| `{}` | `{}` | {} |",
                    param.name,
                    param.ty,
                    if param.required { "yes" } else { "no" }
                );
                assert!(text.contains(&row), "{}: missing row {row}", function.name);
            }
        }
        let page = read(&format!(
            "generated/docs/clerk/functions/{}.md",
            function.name
        ));
        for param in function.params {
            assert!(
                page.contains(&format!("| `{}` |", param.name)),
                "{} page lacks {}",
                function.name,
                param.name
            );
        }
    }
}

#[test]
fn the_catalog_matches_the_runtime_metadata() {
    let catalog: Value = serde_json::from_str(&read("generated/docs/clerk/catalog.json")).unwrap();
    let functions = catalog["functions"].as_array().unwrap();
    assert_eq!(functions.len(), clerk::meta::PROVIDER.functions.len());
    for (entry, meta) in functions.iter().zip(clerk::meta::PROVIDER.functions) {
        assert_eq!(entry["function_name"], meta.name);
        assert_eq!(entry["slug"], meta.slug);
        assert_eq!(entry["operation"], meta.operation.as_str());
        assert_eq!(entry["destructive"], meta.destructive);
        assert_eq!(entry["parameter_count"], meta.params.len());
        let schema: Value = serde_json::from_str(meta.input_schema).unwrap();
        assert_eq!(entry["input_schema"], schema, "{}", meta.name);
    }
}

#[test]
fn lua_in_the_docs_uses_canonical_names() {
    let doc = read("generated/docs/clerk/namespace.md");
    let mut in_lua = false;
    for line in doc.lines() {
        if line.starts_with("```") {
            in_lua = line == "```lua";
            continue;
        }
        if in_lua {
            for function in clerk::meta::PROVIDER.functions {
                let slug_call = format!(".{}(", function.slug);
                assert!(
                    function.slug == function.name || !line.contains(&slug_call),
                    "example calls the full name: {line}"
                );
            }
        }
    }
}
