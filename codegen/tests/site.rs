//! The doc site renderer on the fixture provider (`acme`): links, ids, search index, assets,
//! determinism.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use kosmo_codegen::{GeneratedFile, SpecFiles, Target, site};

fn fixture() -> (Vec<kosmo_codegen::Provider>, Vec<GeneratedFile>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/spec");
    let mut files = SpecFiles::new();
    for (name, path) in [
        ("spec/acme.yaml", format!("{dir}/acme.yaml")),
        ("spec/guides/start.md", format!("{dir}/guides/start.md")),
    ] {
        files.insert(name.to_string(), std::fs::read_to_string(path).unwrap());
    }
    let providers = kosmo_codegen::load(&files).unwrap();
    let docs = kosmo_codegen::emit(&providers, &Target::new("generated", "fixture"))
        .unwrap()
        .into_iter()
        .filter(|f| f.path.ends_with(".md"))
        .collect();
    (providers, docs)
}

fn rendered() -> BTreeMap<String, String> {
    let (providers, docs) = fixture();
    site::render(&providers, &docs)
        .unwrap()
        .into_iter()
        .map(|f| (f.path, f.contents))
        .collect()
}

/// Every value of `attr="..."` in `html`.
fn attribute_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!(" {attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

#[test]
fn every_page_is_there() {
    let site = rendered();
    let (providers, _) = fixture();
    for path in [
        "index.html",
        "assets/site.css",
        "assets/site.js",
        "assets/search-index.js",
        "acme/index.html",
        "acme/overview.html",
        "acme/namespace.html",
    ] {
        assert!(site.contains_key(path), "missing {path}");
    }
    for f in &providers[0].functions {
        assert!(site.contains_key(&format!("acme/functions/{}.html", f.name)));
    }
}

#[test]
fn md_links_point_at_html_pages() {
    assert_eq!(
        site::rewrite_link("../integration.md#get_widget"),
        "../index.html#get_widget"
    );
    assert_eq!(site::rewrite_link("README.md"), "overview.html");
    assert_eq!(site::rewrite_link("functions/a.md"), "functions/a.html");
    assert_eq!(
        site::rewrite_link("https://x.example/a.md"),
        "https://x.example/a.md"
    );
    assert_eq!(site::rewrite_link("#top"), "#top");
    let site = rendered();
    for (path, html) in &site {
        if path.ends_with(".html") {
            for href in attribute_values(html, "href") {
                assert!(
                    href.starts_with("http") || !href.split('#').next().unwrap().ends_with(".md"),
                    "{path} links to markdown: {href}"
                );
            }
        }
    }
    let page = site
        .keys()
        .find(|p| p.starts_with("acme/functions/"))
        .unwrap();
    let name = page
        .trim_start_matches("acme/functions/")
        .trim_end_matches(".html");
    assert!(site[page].contains(&format!("href=\"../index.html#{name}\"")));
    assert!(site["acme/index.html"].contains(&format!("href=\"functions/{name}.html\"")));
}

#[test]
fn headings_get_stable_unique_ids() {
    assert_eq!(site::slug("Call it"), "call-it");
    assert_eq!(site::slug("get_widget (read)"), "get_widget-read");
    let site = rendered();
    for (path, html) in site.iter().filter(|(p, _)| p.ends_with(".html")) {
        let ids = attribute_values(html, "id");
        let mut seen = std::collections::BTreeSet::new();
        for id in ids {
            assert!(seen.insert(id), "{path}: id {id} twice");
        }
        assert!(
            !html.contains("@generated"),
            "{path} keeps the generated header"
        );
    }
    assert!(site["acme/overview.html"].contains("<h1 id="));
    assert!(site["acme/index.html"].contains("acme.yaml</code> by <code>cargo xtask site</code>"));
}

#[test]
fn search_index_lists_every_function() {
    let site = rendered();
    let (providers, _) = fixture();
    let index = &site["assets/search-index.js"];
    let json = index
        .split_once("window.KOSMO_SEARCH_INDEX = ")
        .unwrap()
        .1
        .trim_end()
        .trim_end_matches(';');
    let entries: Vec<serde_json::Value> = serde_json::from_str(json).unwrap();
    assert_eq!(entries.len(), providers[0].functions.len());
    for (entry, f) in entries.iter().zip(&providers[0].functions) {
        assert_eq!(entry["name"], f.name.as_str());
        assert_eq!(entry["summary"], f.summary.as_str());
        assert_eq!(entry["description"], f.description.as_str());
        assert_eq!(
            entry["url"],
            format!("acme/functions/{}.html", f.name).as_str()
        );
    }
}

#[test]
fn assets_are_local() {
    let site = rendered();
    for (path, html) in site.iter().filter(|(p, _)| p.ends_with(".html")) {
        for src in attribute_values(html, "src") {
            assert!(!src.contains("//"), "{path} loads {src}");
        }
        for tag in html.split("<link").skip(1) {
            let tag = &tag[..tag.find('>').unwrap()];
            for href in attribute_values(tag, "href") {
                assert!(!href.contains("//"), "{path} loads {href}");
            }
        }
        assert!(html.contains("<html lang=\"en\""));
        assert!(html.contains("name=\"viewport\""));
    }
    assert!(!site["assets/site.css"].contains("url("));
    assert!(!site["assets/site.js"].contains("fetch("));
}

#[test]
fn rendering_is_deterministic() {
    assert_eq!(rendered(), rendered());
}
