//! The checked-in Clerk docs and catalog document every function with its complete parameter
//! table: the reference page's "No parameters." defect cannot come back.

use kosmo_integrations::clerk;
use serde_json::Value;

fn read(path: &str) -> String {
    let root = xtask::fs::repo_root();
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A family page's section for one function: from its heading to the next `## `.
fn section<'a>(doc: &'a str, name: &str) -> &'a str {
    let heading = format!("\n## app.integrations.clerk.{name}(");
    let start = doc
        .find(&heading)
        .unwrap_or_else(|| panic!("no section for {name}"));
    let rest = &doc[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    &rest[..end]
}

/// The integration page's entry for one function: from its anchor to the next one.
fn entry<'a>(page: &'a str, name: &str) -> &'a str {
    let anchor = format!("<a id=\"{name}\"></a>");
    let start = page
        .find(&anchor)
        .unwrap_or_else(|| panic!("no entry for {name}"));
    let rest = &page[start + anchor.len()..];
    let end = rest.find("<a id=").unwrap_or(rest.len());
    &rest[..end]
}

/// Every markdown file under generated/docs/clerk, by path.
fn markdown_pages() -> Vec<(String, String)> {
    let root = xtask::fs::repo_root();
    let mut pages = Vec::new();
    let mut dirs = vec![root.join("generated/docs/clerk")];
    while let Some(dir) = dirs.pop() {
        for item in std::fs::read_dir(&dir).unwrap() {
            let path = item.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                let text = std::fs::read_to_string(&path).unwrap();
                pages.push((path.display().to_string(), text));
            }
        }
    }
    pages.sort();
    pages
}

#[test]
fn no_page_says_no_parameters() {
    let pages = markdown_pages();
    // README, namespace, integration page, one page per function, family and guide.
    assert_eq!(
        pages.len(),
        clerk::meta::PROVIDER.functions.len()
            + 3
            + clerk::meta::PROVIDER.families.len()
            + clerk::docs::DOCS.guide_pages.len()
    );
    for (path, text) in pages {
        assert!(!text.contains("No parameters."), "{path}");
    }
}

#[test]
fn the_namespace_index_has_every_function_on_one_line_under_its_family() {
    let index = read("generated/docs/clerk/namespace.md");
    assert!(index.len() <= kosmo_codegen::NAMESPACE_BUDGET);
    let mut at = 0;
    for family in clerk::meta::PROVIDER.families {
        let heading = format!("\n### {} ({})\n", family.title, family.name);
        at += index[at..]
            .find(&heading)
            .unwrap_or_else(|| panic!("{heading:?} missing or out of order"));
        for function in clerk::meta::PROVIDER.family_functions(family.name) {
            let line = format!("\n- `{}(", function.name);
            assert_eq!(index.matches(&line).count(), 1, "{}", function.name);
            let found = index[at..]
                .find(&line)
                .unwrap_or_else(|| panic!("{} is not under {}", function.name, family.name));
            let end = index[at + found + 1..].find('\n').unwrap() + at + found + 1;
            let text = &index[at + found + 1..end];
            // Whole, or cut at a word and marked `…` when the page says summaries are cut.
            let cut = index.contains("Summaries here are cut short")
                && text
                    .strip_suffix('…')
                    .and_then(|t| t.strip_prefix("- `"))
                    .and_then(|t| t.split_once('`'))
                    .and_then(|(_, marks)| marks.split_once(": "))
                    .is_some_and(|(_, s)| !s.is_empty() && function.summary.starts_with(s));
            let whole = text.ends_with(function.summary.trim_end_matches('.'));
            assert!(whole || cut, "{text}");
            let mark = if function.operation == kosmo_runtime::Operation::Write {
                "` w"
            } else {
                "` r"
            };
            assert!(text.contains(mark), "{text}");
            at += found;
        }
    }
}

#[test]
fn every_function_has_its_complete_parameter_table() {
    let integration = read("generated/docs/clerk/integration.md");
    for function in clerk::meta::PROVIDER.functions {
        let doc = read(&format!(
            "generated/docs/clerk/families/{}.md",
            function.group
        ));
        let entry = entry(&integration, function.name);
        assert!(
            entry.contains(&format!(
                "| Lua path | `app.integrations.clerk.{}` |",
                function.name
            )),
            "{}",
            function.name
        );
        assert!(
            entry.contains(&format!("| Full name | `clerk.{}` |", function.slug)),
            "{}",
            function.name
        );
        assert!(
            entry.contains(&format!(
                "#### {} ({})",
                function.name,
                function.operation.as_str()
            )),
            "{}",
            function.name
        );
        for text in [section(&doc, function.name), entry] {
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
        assert_eq!(entry["idempotent"], meta.idempotent);
        assert_eq!(entry["parameter_count"], meta.params.len());
        // The input schema is kept once, in the catalog; it must say what the metadata says.
        assert_schema_matches(&entry["input_schema"], meta);
        // The fields KosmoKrator's site renders.
        assert_eq!(entry["name"], meta.title);
        assert_eq!(entry["type"], meta.operation.as_str());
        assert_eq!(entry["short_description"], meta.summary);
        assert!(entry["description"].as_str().is_some_and(|d| !d.is_empty()));
        assert_eq!(
            entry["docs_url"],
            format!("clerk/functions/{}.html", meta.name)
        );
        let names: Vec<&str> = entry["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        let expected: Vec<&str> = meta.params.iter().map(|p| p.name).collect();
        assert_eq!(names, expected, "{}", meta.name);
    }
}

#[test]
fn lua_in_the_docs_uses_canonical_names() {
    let doc: String = markdown_pages().into_iter().map(|(_, text)| text).collect();
    let mut in_lua = false;
    for line in doc.lines() {
        if line.starts_with("```") {
            in_lua = line.starts_with("```lua");
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

/// The catalog's JSON Schema of a function agrees with the runtime metadata: every parameter and
/// alias, the required ones, and each parameter's type, bounds, enum and default.
fn assert_schema_matches(schema: &Value, meta: &kosmo_runtime::FunctionMeta) {
    use kosmo_runtime::{Literal, ParamType};
    let name = meta.name;
    assert_eq!(schema["type"], "object", "{name}");
    assert_eq!(schema["additionalProperties"], false, "{name}");
    let properties = schema["properties"].as_object().unwrap();
    let mut expected: Vec<&str> = Vec::new();
    for param in meta.params {
        expected.push(param.name);
        expected.extend(param.aliases);
    }
    let found: Vec<&str> = properties.keys().map(String::as_str).collect();
    assert_eq!(found, expected, "{name}");
    let required: Vec<&str> = meta
        .params
        .iter()
        .filter(|p| p.required)
        .map(|p| p.name)
        .collect();
    assert_eq!(schema["required"], serde_json::json!(required), "{name}");
    let literal = |l: &Literal| match *l {
        Literal::String(s) => serde_json::json!(s),
        Literal::Integer(i) => serde_json::json!(i),
        Literal::Number(n) => serde_json::json!(n),
        Literal::Boolean(b) => serde_json::json!(b),
    };
    let number = |n: f64| {
        if n.fract() == 0.0 {
            serde_json::json!(n as i64)
        } else {
            serde_json::json!(n)
        }
    };
    for param in meta.params {
        let property = &properties[param.name];
        let context = format!("{name}.{}", param.name);
        let bounded = match param.ty {
            ParamType::Array(item) => {
                assert_eq!(property["type"], "array", "{context}");
                assert_eq!(property["items"]["type"], item.to_string(), "{context}");
                assert_eq!(
                    property.get("maxItems").and_then(Value::as_u64),
                    param.max_items,
                    "{context}"
                );
                &property["items"]
            }
            // A file is a table: its bytes, filename and content type.
            ParamType::File => {
                assert_eq!(property["type"], "object", "{context}");
                let fields = property["properties"].as_object().unwrap();
                assert_eq!(
                    fields.keys().map(String::as_str).collect::<Vec<_>>(),
                    ["content_base64", "content", "filename", "content_type"],
                    "{context}"
                );
                let types: Vec<Value> = param
                    .content_types
                    .iter()
                    .map(|t| serde_json::json!(t))
                    .collect();
                assert_eq!(
                    fields["content_type"]["enum"],
                    Value::Array(types),
                    "{context}"
                );
                property
            }
            other => {
                assert_eq!(property["type"], other.to_string(), "{context}");
                property
            }
        };
        assert_eq!(
            bounded.get("minimum").cloned(),
            param.minimum.map(number),
            "{context}"
        );
        assert_eq!(
            bounded.get("maximum").cloned(),
            param.maximum.map(number),
            "{context}"
        );
        let allowed: Vec<Value> = param.allowed.iter().map(literal).collect();
        assert_eq!(
            bounded
                .get("enum")
                .cloned()
                .unwrap_or(serde_json::json!([])),
            serde_json::json!(allowed),
            "{context}"
        );
        assert_eq!(
            property.get("default").cloned(),
            param.default.as_ref().map(literal),
            "{context}"
        );
        assert_eq!(property["description"], param.description, "{context}");
    }
}

/// `docs.search` finds Clerk functions by what they do, not only by name.
#[test]
fn docs_search_finds_functions_by_what_they_do() {
    let index = kosmo_host::DocsIndex::new(&kosmo_integrations::INTEGRATIONS);
    let first = |query: &str| -> String {
        let lines = index.search(query, 20);
        let line = lines
            .first()
            .unwrap_or_else(|| panic!("nothing for {query:?}"));
        line.split(" - ").next().unwrap().to_string()
    };
    // A whole word of the name ranks first: ban_user before unban_user.
    assert_eq!(first("ban"), "clerk.ban_user");
    let ban = index.search("ban", 20);
    assert!(
        ban.iter()
            .position(|l| l.starts_with("clerk.unban_user - "))
            .unwrap()
            > 0
    );
    assert_eq!(
        ban[0],
        "clerk.ban_user - Ban a user, revoking all their sessions."
    );
    // Words of the summary: "a magic link".
    assert_eq!(first("magic link"), "clerk.create_sign_token");
    // Every word counts, in any order, and plurals match singular names.
    assert_eq!(
        first("metadata organization"),
        "clerk.update_organization_metadata"
    );
    assert_eq!(
        first("organizations metadata"),
        "clerk.update_organization_metadata"
    );
    assert_eq!(first("revoke sessions"), "clerk.revoke_session");
    // A parameter's name: only functions that take `email_address` or say it.
    let by_param = index.search("email_address invitation", 20);
    assert!(
        by_param
            .iter()
            .any(|l| l.starts_with("clerk.create_invitation - ")),
        "{by_param:?}"
    );
    // Case does not matter, and a word that matches nothing gives nothing.
    assert_eq!(first("MAGIC Link"), "clerk.create_sign_token");
    assert!(index.search("ban zebra", 20).is_empty());
    assert!(index.search("", 20).is_empty());
}
