//! The static doc site (`cargo xtask site`): HTML pages rendered from the generated markdown docs
//! and from hand-written guides, a client-side search index, local CSS and JS. No I/O: callers
//! read the guides and write the returned files.
//!
//! Every link is relative, so the site works from `file://` as well as from any static server,
//! and nothing is loaded from another host. Output depends only on the inputs (no timestamps,
//! manifest order), so two renders are byte-identical.

mod markdown;

use std::collections::{BTreeMap, BTreeSet};

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, context};
use serde::Serialize;

use markdown::{BadgeInfo, badges_html, is_external, outline, to_html};
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
    /// A hand-written guide cannot become a page: no title, a bad file name, a broken link.
    #[error("guide {path}: {problem}")]
    Guide { path: String, problem: String },
}

/// A hand-written page of the site, `guides/<slug>.html`, that belongs to no provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guide {
    /// The page's file name without `.html`: ASCII letters, digits, `-` and `_`.
    pub slug: String,
    /// The page's title, in the index, the navigation and search.
    pub title: String,
    /// Where the guide comes from, relative to the repository root; the page's footer names it.
    pub source: String,
    /// The guide itself, rendered like the generated pages.
    pub markdown: String,
}

impl Guide {
    /// The guide in the markdown file `source`: `docs/mcp.md` becomes `guides/mcp.html`, titled
    /// with the text of its first `# ` heading (a guide without one is an error: every page of
    /// the site has a title).
    pub fn from_markdown(source: &str, markdown: String) -> Result<Guide, Error> {
        let file_name = source.rsplit('/').next().unwrap_or(source);
        let slug = file_name
            .strip_suffix(".md")
            .ok_or_else(|| guide_error(source, "is not a `.md` file"))?;
        let title = outline(&markdown)
            .title
            .ok_or_else(|| guide_error(source, "has no `# ` heading to take its title from"))?;
        Ok(Guide {
            slug: slug.to_string(),
            title,
            source: source.to_string(),
            markdown,
        })
    }
}

fn guide_error(path: &str, problem: impl Into<String>) -> Error {
    Error::Guide {
        path: path.to_string(),
        problem: problem.into(),
    }
}

/// One entry of `assets/search-index.js`. `kind` tells the search script how to show it; function
/// entries keep the fields they had before guides were added.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum SearchEntry<'a> {
    Function {
        provider: &'a str,
        name: &'a str,
        title: &'a str,
        summary: &'a str,
        description: &'a str,
        /// The family's title, which search matches too.
        family: &'a str,
        /// The parameters' names, space-separated (names only: the search index must not grow
        /// with parameter tables).
        params: String,
        operation: &'a str,
        destructive: bool,
        /// Relative to the site root.
        url: String,
    },
    Guide {
        /// The slug, so that searching a guide's short name ranks it like a function name.
        name: &'a str,
        title: &'a str,
        /// The guide's first paragraph, as plain text.
        summary: &'a str,
        /// Relative to the site root.
        url: String,
    },
}

/// The site for `providers`, from their generated docs (`<anything>/docs/<provider>/<page>.md`),
/// with `guides` as `guides/<slug>.html` in the order given. Paths of the returned files are
/// relative to the site root.
pub fn render(
    providers: &[Provider],
    docs: &[GeneratedFile],
    guides: &[Guide],
) -> Result<Vec<GeneratedFile>, Error> {
    check_guides(guides)?;
    let env = environment()?;
    let summaries: Vec<String> = guides
        .iter()
        .map(|g| outline(&g.markdown).first_paragraph.unwrap_or_default())
        .collect();
    // What every page's navigation lists, so a guide is one click away from anywhere.
    let nav = context! {
        guides => guides
            .iter()
            .map(|g| context! { slug => &g.slug, title => &g.title, url => guide_url(g) })
            .collect::<Vec<_>>(),
        integrations => providers
            .iter()
            .map(|p| context! { name => &p.name, label => &p.label })
            .collect::<Vec<_>>(),
    };
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
            contents: search_index(providers, guides, &summaries)?,
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
    let guide_items: Vec<Value> = guides
        .iter()
        .zip(&summaries)
        .map(|(g, summary)| context! { title => &g.title, url => guide_url(g), summary => summary })
        .collect();
    let sources: Vec<String> = providers
        .iter()
        .map(|p| p.manifest_path.clone())
        .chain(guides.iter().map(|g| g.source.clone()))
        .collect();
    files.push(GeneratedFile {
        path: "index.html".into(),
        contents: env.get_template("home.html")?.render(context! {
            root => "",
            title => "Integrations",
            providers => cards,
            guides => guide_items,
            sources => sources,
            provider => Value::from(()),
            guide => Value::from(()),
            nav => &nav,
        })?,
    });

    for provider in providers {
        files.extend(provider_pages(&env, provider, docs, &nav)?);
    }
    let mut guide_links = Vec::new();
    for guide in guides {
        let (file, links) = guide_page(&env, guide, &nav)?;
        files.push(file);
        guide_links.push((guide, links));
    }
    // Generated pages are tested; a hand-written guide may link to a repository file that is not
    // on the site, which would only show as a dead link in the browser. Fail the build instead.
    let paths: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for (guide, links) in &guide_links {
        for written in links {
            let href = rewrite_link(written);
            if let Some(target) = link_target(GUIDE_PAGES_DIR, &href)
                && !paths.contains(target.as_str())
            {
                let on_site = if href == *written {
                    String::new()
                } else {
                    format!(" (`{href}` on the site)")
                };
                return Err(guide_error(
                    &guide.source,
                    format!("links to `{written}`{on_site}, which is not a page of the doc site"),
                ));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The folder of the guide pages, relative to the site root.
const GUIDE_PAGES_DIR: &str = "guides";

/// A guide's page relative to the site root; templates prefix it with the page's `root`.
fn guide_url(guide: &Guide) -> String {
    format!("{GUIDE_PAGES_DIR}/{}.html", guide.slug)
}

/// Slugs become file names and must not collide; titles are shown everywhere.
fn check_guides(guides: &[Guide]) -> Result<(), Error> {
    let mut seen = BTreeSet::new();
    for guide in guides {
        let valid = !guide.slug.is_empty()
            && guide
                .slug
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(guide_error(
                &guide.source,
                format!(
                    "`{}` cannot name a page: use ASCII letters, digits, `-` and `_`",
                    guide.slug
                ),
            ));
        }
        if !seen.insert(guide.slug.as_str()) {
            return Err(guide_error(
                &guide.source,
                format!("another guide is also named `{}`", guide.slug),
            ));
        }
        if guide.title.trim().is_empty() {
            return Err(guide_error(&guide.source, "has an empty title"));
        }
    }
    Ok(())
}

/// The site path that `href`, on a page in the folder `dir`, points at; `None` for links that
/// are not to a file of the site (see [`is_external`]). A link above the site root comes back
/// starting with `..`, which no site path does.
fn link_target(dir: &str, href: &str) -> Option<String> {
    if is_external(href) {
        return None;
    }
    let path = href.split(['#', '?']).next().unwrap_or(href);
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Some(href.to_string());
                }
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// The page of one guide, and where its links point (checked once every page exists).
fn guide_page(
    env: &Environment<'static>,
    guide: &Guide,
    nav: &Value,
) -> Result<(GeneratedFile, Vec<String>), Error> {
    let rendered = to_html(&guide.markdown, &BTreeMap::new());
    let contents = env.get_template("page.html")?.render(context! {
        root => "../",
        title => &guide.title,
        content => Value::from_safe_string(rendered.html),
        provider => Value::from(()),
        guide => &guide.slug,
        sources => vec![guide.source.clone()],
        function => Value::from(()),
        nav => nav,
    })?;
    let file = GeneratedFile {
        path: guide_url(guide),
        contents,
    };
    Ok((file, rendered.links))
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
    nav: &Value,
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
    // The sidebar: each family (that has a page) with its functions.
    let families: Vec<Value> = provider
        .families
        .iter()
        .filter(|family| find_doc(docs, name, &format!("families/{}.md", family.name)).is_some())
        .map(|family| {
            let functions: Vec<Value> = provider
                .functions
                .iter()
                .filter(|f| f.group == family.name)
                .map(|f| {
                    context! {
                        name => &f.name,
                        badges => Value::from_safe_string(badges_html(badge_info[&f.name])),
                    }
                })
                .collect();
            context! { name => &family.name, title => &family.title, functions => functions }
        })
        .collect();
    let provider_ctx = context! {
        name => name,
        label => &provider.label,
        docs_url => &provider.docs_url,
        families => families,
    };
    let source = &provider.manifest_path;
    let none = BTreeMap::new();
    // `current` is the page the sidebar marks (`index`, `overview`, `namespace`, a function's
    // name or `family:<family>`), `family` the family whose list the sidebar opens.
    let page = |root: &str,
                markdown: &str,
                badges: &BTreeMap<String, BadgeInfo>,
                current: &str,
                family: &str,
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
            guide => Value::from(()),
            current => current,
            current_family => family,
            sources => vec![source.clone()],
            function => extra,
            nav => nav,
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
        contents: page(
            "../",
            integration,
            &badge_info,
            "index",
            "",
            Value::from(()),
        )?,
    });
    for (doc, html_page) in [("README.md", "overview"), ("namespace.md", "namespace")] {
        if let Some(markdown) = find_doc(docs, name, doc) {
            files.push(GeneratedFile {
                path: format!("{name}/{html_page}.html"),
                contents: page("../", markdown, &badge_info, html_page, "", Value::from(()))?,
            });
        }
    }
    for family in &provider.families {
        // A declared family without functions has no page (validation refuses one).
        let doc = format!("families/{}.md", family.name);
        let Some(markdown) = find_doc(docs, name, &doc) else {
            continue;
        };
        files.push(GeneratedFile {
            path: format!("{name}/families/{}.html", family.name),
            contents: page(
                "../../",
                markdown,
                &badge_info,
                &format!("family:{}", family.name),
                &family.name,
                Value::from(()),
            )?,
        });
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
            contents: page(
                "../../",
                markdown,
                &none,
                &function.name,
                &function.group,
                extra,
            )?,
        });
    }
    Ok(files)
}

fn missing(provider: &str, page: &str) -> Error {
    Error::MissingDoc(format!("docs/{provider}/{page}"))
}

/// `assets/search-index.js`: a script that sets a global, because `fetch()` of a JSON file fails
/// on `file://` pages. Functions come first: on equal scores the search keeps index order.
fn search_index(
    providers: &[Provider],
    guides: &[Guide],
    summaries: &[String],
) -> Result<String, Error> {
    let functions = providers.iter().flat_map(|p| {
        p.functions.iter().map(move |f| SearchEntry::Function {
            provider: &p.name,
            name: &f.name,
            title: &f.title,
            summary: &f.summary,
            description: &f.description,
            family: p
                .families
                .iter()
                .find(|family| family.name == f.group)
                .map_or(f.group.as_str(), |family| family.title.as_str()),
            params: f
                .params
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            operation: f.operation.as_str(),
            destructive: f.destructive,
            url: format!("{}/functions/{}.html", p.name, f.name),
        })
    });
    let guide_entries = guides
        .iter()
        .zip(summaries)
        .map(|(g, summary)| SearchEntry::Guide {
            name: &g.slug,
            title: &g.title,
            summary,
            url: guide_url(g),
        });
    let entries: Vec<SearchEntry<'_>> = functions.chain(guide_entries).collect();
    let json = serde_json::to_string(&entries)?;
    Ok(format!(
        "// Search index of the doc site: every function of every integration, then every guide.\nwindow.KOSMO_SEARCH_INDEX = {json};\n"
    ))
}
