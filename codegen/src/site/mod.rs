//! The static doc site (`cargo xtask site`): HTML pages rendered from the generated markdown docs,
//! a client-side search index, local CSS and JS. No I/O: callers write the returned files.
//!
//! Every link is relative, so the site works from `file://` as well as from any static server,
//! and nothing is loaded from another host. Output depends only on the inputs (no timestamps,
//! manifest order), so two renders are byte-identical.

mod markdown;

use std::collections::BTreeMap;

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, context};
use serde::Serialize;

use markdown::{BadgeInfo, badges_html, to_html};
pub use markdown::{rewrite_link, slug};

use crate::GeneratedFile;
use crate::model::Provider;

const LAYOUT: &str = include_str!("../../site/layout.html.j2");
const HOME: &str = include_str!("../../site/home.html.j2");
const PAGE: &str = include_str!("../../site/page.html.j2");
const CSS: &str = include_str!("../../site/site.css");
const JS: &str = include_str!("../../site/site.js");

/// Why the site could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A template failed: a bug in the site templates.
    #[error("site template: {0:#}")]
    Template(#[from] minijinja::Error),
    /// A page the site needs was not among the generated docs.
    #[error("the generated docs have no {0}")]
    MissingDoc(String),
    /// The search index could not be serialized.
    #[error("search index: {0}")]
    SearchIndex(#[from] serde_json::Error),
}

/// One entry of `assets/search-index.js`.
#[derive(Serialize)]
struct SearchEntry<'a> {
    provider: &'a str,
    name: &'a str,
    title: &'a str,
    summary: &'a str,
    description: &'a str,
    operation: &'a str,
    destructive: bool,
    /// Relative to the site root.
    url: String,
}

/// The site for `providers`, from their generated docs (`<anything>/docs/<provider>/<page>.md`).
/// Paths of the returned files are relative to the site root.
pub fn render(providers: &[Provider], docs: &[GeneratedFile]) -> Result<Vec<GeneratedFile>, Error> {
    let env = environment()?;
    let mut files = vec![
        GeneratedFile {
            path: "assets/site.css".into(),
            contents: CSS.into(),
        },
        GeneratedFile {
            path: "assets/site.js".into(),
            contents: JS.into(),
        },
        GeneratedFile {
            path: "assets/search-index.js".into(),
            contents: search_index(providers)?,
        },
    ];

    let cards: Vec<Value> = providers
        .iter()
        .map(|p| {
            context! {
                name => &p.name,
                label => &p.label,
                description => &p.description,
                category => &p.category,
                functions => p.functions.len(),
            }
        })
        .collect();
    let sources: Vec<String> = providers.iter().map(|p| p.manifest_path.clone()).collect();
    files.push(GeneratedFile {
        path: "index.html".into(),
        contents: env.get_template("home.html")?.render(context! {
            root => "",
            title => "Integrations",
            providers => cards,
            sources => sources,
            provider => Value::from(()),
        })?,
    });

    for provider in providers {
        files.extend(provider_pages(&env, provider, docs)?);
    }
    files.sort();
    Ok(files)
}

/// The one place templates, escaping and filters are set up. Undefined variables are errors.
fn environment() -> Result<Environment<'static>, Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_template("layout.html", LAYOUT)?;
    env.add_template("home.html", HOME)?;
    env.add_template("page.html", PAGE)?;
    env.add_filter("plural", |n: usize, word: String| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    });
    Ok(env)
}

/// The markdown page `name` of `provider` among `docs`, if it was generated.
fn find_doc<'a>(docs: &'a [GeneratedFile], provider: &str, name: &str) -> Option<&'a str> {
    let suffix = format!("docs/{provider}/{name}");
    docs.iter()
        .find(|f| {
            f.path
                .strip_suffix(&suffix)
                .is_some_and(|before| before.is_empty() || before.ends_with('/'))
        })
        .map(|f| f.contents.as_str())
}

fn provider_pages(
    env: &Environment<'static>,
    provider: &Provider,
    docs: &[GeneratedFile],
) -> Result<Vec<GeneratedFile>, Error> {
    let name = &provider.name;
    let badge_info: BTreeMap<String, BadgeInfo> = provider
        .functions
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                BadgeInfo {
                    operation: f.operation.as_str(),
                    destructive: f.destructive,
                },
            )
        })
        .collect();
    // The sidebar's function list.
    let functions: Vec<Value> = provider
        .functions
        .iter()
        .map(|f| {
            context! {
                name => &f.name,
                summary => &f.summary,
                badges => Value::from_safe_string(badges_html(badge_info[&f.name])),
            }
        })
        .collect();
    let provider_ctx = context! {
        name => name,
        label => &provider.label,
        docs_url => &provider.docs_url,
        functions => functions,
    };
    let source = &provider.manifest_path;
    let none = BTreeMap::new();
    let page = |root: &str,
                markdown: &str,
                badges: &BTreeMap<String, BadgeInfo>,
                current: &str,
                extra: Value|
     -> Result<String, Error> {
        let rendered = to_html(markdown, badges);
        let title = if rendered.title.is_empty() {
            provider.label.clone()
        } else {
            rendered.title
        };
        Ok(env.get_template("page.html")?.render(context! {
            root => root,
            title => title,
            content => Value::from_safe_string(rendered.html),
            provider => &provider_ctx,
            current => current,
            sources => vec![source.clone()],
            function => extra,
        })?)
    };

    let mut files = Vec::new();
    // The integration page is `integration.md`; providers generated before it existed fall back
    // to the overview, so the site always has a page per provider.
    let integration = find_doc(docs, name, "integration.md")
        .or_else(|| find_doc(docs, name, "README.md"))
        .ok_or_else(|| missing(name, "integration.md or README.md"))?;
    files.push(GeneratedFile {
        path: format!("{name}/index.html"),
        contents: page("../", integration, &badge_info, "index", Value::from(()))?,
    });
    for (doc, html_page) in [("README.md", "overview"), ("namespace.md", "namespace")] {
        if let Some(markdown) = find_doc(docs, name, doc) {
            files.push(GeneratedFile {
                path: format!("{name}/{html_page}.html"),
                contents: page("../", markdown, &badge_info, html_page, Value::from(()))?,
            });
        }
    }
    for function in &provider.functions {
        let doc = format!("functions/{}.md", function.name);
        let markdown = find_doc(docs, name, &doc).ok_or_else(|| missing(name, &doc))?;
        let extra = context! {
            name => &function.name,
            badges => Value::from_safe_string(badges_html(badge_info[&function.name])),
        };
        files.push(GeneratedFile {
            path: format!("{name}/functions/{}.html", function.name),
            contents: page("../../", markdown, &none, &function.name, extra)?,
        });
    }
    Ok(files)
}

fn missing(provider: &str, page: &str) -> Error {
    Error::MissingDoc(format!("docs/{provider}/{page}"))
}

/// `assets/search-index.js`: a script that sets a global, because `fetch()` of a JSON file fails
/// on `file://` pages.
fn search_index(providers: &[Provider]) -> Result<String, Error> {
    let entries: Vec<SearchEntry<'_>> = providers
        .iter()
        .flat_map(|p| {
            p.functions.iter().map(move |f| SearchEntry {
                provider: &p.name,
                name: &f.name,
                title: &f.title,
                summary: &f.summary,
                description: &f.description,
                operation: f.operation.as_str(),
                destructive: f.destructive,
                url: format!("{}/functions/{}.html", p.name, f.name),
            })
        })
        .collect();
    let json = serde_json::to_string(&entries)?;
    Ok(format!(
        "// Search index of the doc site: every function of every integration.\nwindow.KOSMO_SEARCH_INDEX = {json};\n"
    ))
}
