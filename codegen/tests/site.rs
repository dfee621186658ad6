//! The doc site renderer on the fixture provider (`acme`) and two hand-written guides: links, ids,
//! search index, assets, determinism.
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

/// A guide's markdown as a repository would hold it: a title, a first paragraph that introduces a
/// list, a repeated heading, code, a table and links to the other guide and to a provider page.
const TOUR: &str = "# A tour of the widgets

Everything here works with the `acme` integration:

- list widgets,
- read one.

## Call it

```lua
local widgets = app.integrations.acme.list_widgets({ limit = 5 })
```

| what | where |
| --- | --- |
| functions | [the integration page](../acme/index.html#list_widgets) |

## Call it

See [the other guide](setup.md#before-you-start) and [below](#call-it-1).
";

const SETUP: &str = "Set-up notes.\n\n# Set up\n\n## Before you start\n\nNothing to install.\n";

fn guides() -> Vec<site::Guide> {
    vec![
        site::Guide::from_markdown("docs/tour.md", TOUR.to_string()).unwrap(),
        site::Guide::from_markdown("docs/setup.md", SETUP.to_string()).unwrap(),
    ]
}

fn rendered() -> BTreeMap<String, String> {
    let (providers, docs) = fixture();
    site::render(&providers, &docs, &guides())
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

/// `html` with the entities the templates' escaping writes for `/` and `&` decoded, as a browser
/// reads it (`../` is written `..&#x2f;` by the templates, but not by the markdown renderer).
fn decoded(html: &str) -> String {
    html.replace("&#x2f;", "/").replace("&amp;", "&")
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
        "guides/tour.html",
        "guides/setup.html",
    ] {
        assert!(site.contains_key(path), "missing {path}");
    }
    for f in &providers[0].functions {
        assert!(site.contains_key(&format!("acme/functions/{}.html", f.name)));
    }
    for family in &providers[0].families {
        assert!(site.contains_key(&format!("acme/families/{}.html", family.name)));
    }
}

#[test]
fn the_sidebar_groups_functions_by_family() {
    let site = rendered();
    let (providers, _) = fixture();
    let provider = &providers[0];
    // On a function's page its family's list is open and the function marked; the other
    // families are closed.
    let page = decoded(&site["acme/functions/get_widget.html"]);
    let mut at = 0;
    for family in &provider.families {
        let open = if family.name == "widgets" {
            " open"
        } else {
            ""
        };
        let details = format!("<details class=\"sidebar-family\"{open}>");
        at += page[at..]
            .find(&details)
            .unwrap_or_else(|| panic!("{details} missing or out of order"));
        let count = provider
            .functions
            .iter()
            .filter(|f| f.group == family.name)
            .count();
        assert!(page[at..].contains(&format!(
            "<summary>{} <span class=\"sidebar-count\">{count}</span></summary>",
            family.title
        )));
        assert!(page[at..].contains(&format!(
            "href=\"../../acme/families/{}.html\">All, with parameters</a>",
            family.name
        )));
        for f in provider.functions.iter().filter(|f| f.group == family.name) {
            let link = format!("href=\"../../acme/functions/{}.html\"", f.name);
            let found = page[at..].find(&link).unwrap_or_else(|| panic!("{link}"));
            assert!(
                page[at..at + found].matches("<details").count() <= 1,
                "{} outside its family",
                f.name
            );
        }
    }
    assert!(page.contains("href=\"../../acme/functions/get_widget.html\" aria-current=\"page\""));
    // On a family's page its list is open and its page marked.
    let family = decoded(&site["acme/families/health.html"]);
    assert!(family.contains("<details class=\"sidebar-family\" open>\n        <summary>health "));
    assert!(family.contains("href=\"../../acme/families/health.html\" aria-current=\"page\""));
    assert!(
        family.contains("<h2 id=\"app-integrations-acme-ping\""),
        "{family}"
    );
    // On the provider's pages every family is closed, and the integration page has a section
    // per family.
    let index = decoded(&site["acme/index.html"]);
    assert!(!index.contains("<details class=\"sidebar-family\" open>"));
    for family in &provider.families {
        assert!(
            index.contains(&format!("<h3 id=\"{}\">", family.name)),
            "{}",
            family.name
        );
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
    let (functions, guides): (Vec<_>, Vec<_>) =
        entries.iter().partition(|e| e["kind"] == "function");
    assert_eq!(functions.len(), providers[0].functions.len());
    // Functions first: on equal scores the search keeps index order.
    assert_eq!(
        entries[..functions.len()],
        functions.into_iter().cloned().collect::<Vec<_>>()[..]
    );
    assert_eq!(
        guides,
        [
            &serde_json::json!({
                "kind": "guide",
                "name": "tour",
                "title": "A tour of the widgets",
                "summary": "Everything here works with the acme integration",
                "url": "guides/tour.html",
            }),
            &serde_json::json!({
                "kind": "guide",
                "name": "setup",
                "title": "Set up",
                "summary": "Set-up notes.",
                "url": "guides/setup.html",
            }),
        ]
    );
    let functions = &entries[..providers[0].functions.len()];
    for (entry, f) in functions.iter().zip(&providers[0].functions) {
        assert_eq!(entry["name"], f.name.as_str());
        assert_eq!(entry["summary"], f.summary.as_str());
        assert_eq!(entry["description"], f.description.as_str());
        // The family's title and the parameters' names only: no parameter tables, so the index
        // grows with names and summaries, not with parameter descriptions.
        let family = &providers[0]
            .families
            .iter()
            .find(|x| x.name == f.group)
            .unwrap();
        assert_eq!(entry["family"], family.title.as_str());
        let params: Vec<&str> = f.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(entry["params"], params.join(" "));
        let mut keys: Vec<&str> = entry
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "description",
                "destructive",
                "family",
                "kind",
                "name",
                "operation",
                "params",
                "provider",
                "summary",
                "title",
                "url"
            ]
        );
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

/// `page` is a path relative to the site root; `href` a link on it. The site path it points at.
fn resolve(page: &str, href: &str) -> String {
    let mut parts: Vec<&str> = page.split('/').collect();
    parts.pop();
    for part in href.split('#').next().unwrap().split('/') {
        match part {
            "" | "." => {}
            ".." => {
                assert!(parts.pop().is_some(), "{page}: {href} leaves the site");
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        page.to_string()
    } else {
        parts.join("/")
    }
}

#[test]
fn every_relative_link_resolves_to_a_page_and_anchor() {
    let site = rendered();
    let mut checked = 0;
    for (path, html) in site.iter().filter(|(p, _)| p.ends_with(".html")) {
        let html = decoded(html);
        for href in attribute_values(&html, "href") {
            if href.contains("://") || href.starts_with("mailto:") {
                continue;
            }
            let target = if href.starts_with('#') {
                path.clone()
            } else {
                resolve(path, href)
            };
            let Some(target_html) = site.get(&target) else {
                panic!("{path}: broken link {href}");
            };
            if let Some((_, fragment)) = href.split_once('#') {
                assert!(
                    attribute_values(target_html, "id").contains(&fragment),
                    "{path}: {href} has no #{fragment}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} links checked");
}

#[test]
fn guides_are_pages_with_anchors() {
    let site = rendered();
    let tour = &decoded(&site["guides/tour.html"]);
    // Title from the first `# ` heading, in <title> and as the page's h1.
    assert!(tour.contains("<title>A tour of the widgets · KosmoKrator integrations</title>"));
    assert!(tour.contains("<h1 id=\"a-tour-of-the-widgets\">A tour of the widgets</h1>"));
    // The same markdown path as generated pages: unique heading ids, tables, code.
    assert!(tour.contains("<h2 id=\"call-it\">"));
    assert!(tour.contains("<h2 id=\"call-it-1\">"));
    assert!(tour.contains("<div class=\"table-wrap\""));
    assert!(tour.contains("<pre><code class=\"language-lua\">"));
    // `.md` links to another guide become its page; links stay relative.
    assert!(tour.contains("href=\"setup.html#before-you-start\""));
    assert!(tour.contains("href=\"../assets/site.css\""));
    // Its own sidebar: the guides (this one current) and the integrations.
    assert!(tour.contains(
        "<a href=\"../guides/tour.html\" aria-current=\"page\">A tour of the widgets</a>"
    ));
    assert!(tour.contains("<a href=\"../guides/setup.html\">Set up</a>"));
    assert!(tour.contains("<a href=\"../acme/index.html\">Acme Widgets</a>"));
    // The footer names the guide's file, not a manifest.
    assert!(tour.contains("Generated from <code>docs/tour.md</code> by"));
    assert!(!tour.contains("acme.yaml"));
    // A title taken from a heading after a first paragraph.
    assert!(site["guides/setup.html"].contains("<title>Set up · "));
}

#[test]
fn guides_are_linked_from_the_index_and_the_sidebars() {
    let site = rendered();
    let index = &decoded(&site["index.html"]);
    assert!(index.contains("<h2 id=\"guides\">Guides</h2>"));
    // In the order given.
    let tour = index
        .find("<a href=\"guides/tour.html\">A tour of the widgets</a>")
        .unwrap();
    let setup = index
        .find("<a href=\"guides/setup.html\">Set up</a>")
        .unwrap();
    assert!(tour < setup);
    assert!(index.contains("Everything here works with the acme integration</span>"));
    assert!(index.contains("<code>docs/tour.md</code>"));
    assert!(index.contains("placeholder=\"Search functions and guides…\""));
    for page in ["acme/index.html", "acme/overview.html"] {
        assert!(
            decoded(&site[page])
                .contains("<a href=\"../guides/tour.html\">A tour of the widgets</a>")
        );
    }
    let function_page = site
        .keys()
        .find(|p| p.starts_with("acme/functions/"))
        .unwrap();
    assert!(
        decoded(&site[function_page]).contains("<a href=\"../../guides/setup.html\">Set up</a>")
    );
}

#[test]
fn without_guides_the_site_is_as_before() {
    let (providers, docs) = fixture();
    let site: BTreeMap<String, String> = site::render(&providers, &docs, &[])
        .unwrap()
        .into_iter()
        .map(|f| (f.path, f.contents))
        .collect();
    assert!(!site.keys().any(|p| p.starts_with("guides/")));
    assert!(!site["index.html"].contains("Guides"));
    assert!(site["index.html"].contains("placeholder=\"Search functions…\""));
    assert!(!site["acme/index.html"].contains("sidebar-guides"));
}

#[test]
fn bad_guides_are_errors() {
    let (providers, docs) = fixture();
    let error = |guide: site::Guide| {
        site::render(&providers, &docs, &[guide])
            .unwrap_err()
            .to_string()
    };
    let untitled = site::Guide::from_markdown("docs/x.md", "## Only a section\n".into());
    assert!(
        untitled
            .unwrap_err()
            .to_string()
            .contains("docs/x.md: has no `# ` heading"),
    );
    let text = site::Guide::from_markdown("docs/x.txt", "# X\n".into());
    assert!(text.unwrap_err().to_string().contains("not a `.md` file"));
    // A `#` in a code block is not a title.
    let fenced = site::Guide::from_markdown("docs/x.md", "```sh\n# comment\n```\n".into());
    assert!(fenced.is_err());

    // A link to a repository file that is not on the site fails the build.
    let guide =
        site::Guide::from_markdown("docs/x.md", "# X\n\nSee [it](../README.md).\n".into()).unwrap();
    let message = error(guide);
    assert!(
        message.contains(
            "docs/x.md: links to `../README.md` (`../overview.html` on the site), which is not a page"
        ),
        "{message}"
    );
    let guide =
        site::Guide::from_markdown("docs/x.md", "# X\n\n[up](../../x.html)\n".into()).unwrap();
    assert!(error(guide).contains("not a page of the doc site"));

    let mut guide = site::Guide::from_markdown("docs/x.md", "# X\n".into()).unwrap();
    guide.slug = "../x".into();
    assert!(error(guide.clone()).contains("cannot name a page"));
    guide.slug = "x".into();
    let twice = site::render(&providers, &docs, &[guide.clone(), guide])
        .unwrap_err()
        .to_string();
    assert!(twice.contains("another guide is also named `x`"), "{twice}");
}
