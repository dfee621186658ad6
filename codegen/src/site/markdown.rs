//! Markdown → HTML for the doc site: stable heading ids, `.md` links turned into `.html` pages,
//! tables wrapped so they scroll instead of widening the page, raw HTML passed through.

use std::collections::{BTreeMap, BTreeSet};

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

/// Read/write and destructive flags of a function, for badges beside its heading.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BadgeInfo {
    pub operation: &'static str,
    pub destructive: bool,
}

/// The badges of one function as HTML.
pub(crate) fn badges_html(info: BadgeInfo) -> String {
    let mut out = format!(
        r#"<span class="badge badge-{op}">{op}</span>"#,
        op = info.operation
    );
    if info.destructive {
        out.push_str(r#" <span class="badge badge-destructive">destructive</span>"#);
    }
    out
}

/// Drops the `<!-- @generated ... -->` header: the footer says where a page comes from instead.
pub(crate) fn strip_generated_header(markdown: &str) -> &str {
    let trimmed = markdown.trim_start();
    if trimmed.starts_with("<!-- @generated")
        && let Some(end) = trimmed.find("-->")
    {
        return trimmed[end + 3..].trim_start_matches(['\r', '\n']);
    }
    markdown
}

/// A heading's text as an id: lowercase letters, digits and `_`, words joined by `-`.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() || c == '_' {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else if c.is_whitespace() || c == '-' || c == '.' || c == '/' {
            dash = true;
        }
    }
    if out.is_empty() {
        "section".to_string()
    } else {
        out
    }
}

/// Ids given by raw HTML (`<a id="ban_user"></a>`), so generated heading ids never repeat them.
fn explicit_ids(markdown: &str, into: &mut BTreeSet<String>) {
    let mut rest = markdown;
    while let Some(at) = rest.find(" id=\"") {
        let after = &rest[at + 5..];
        let Some(end) = after.find('"') else { break };
        into.insert(after[..end].to_string());
        rest = &after[end..];
    }
}

/// Whether a link leaves the site's relative files alone: another host, `mailto:`, a fragment of
/// the same page, or an absolute path.
pub(crate) fn is_external(dest: &str) -> bool {
    dest.contains("://")
        || dest.starts_with("mailto:")
        || dest.starts_with('#')
        || dest.starts_with('/')
}

/// Points a link at a sibling `.md` file to the page rendered from it; leaves others alone.
pub fn rewrite_link(dest: &str) -> String {
    if is_external(dest) {
        return dest.to_string();
    }
    let (path, fragment) = match dest.split_once('#') {
        Some((path, fragment)) => (path, Some(fragment)),
        None => (dest, None),
    };
    let Some(stem_path) = path.strip_suffix(".md") else {
        return dest.to_string();
    };
    let (dir, stem) = match stem_path.rsplit_once('/') {
        Some((dir, stem)) => (format!("{dir}/"), stem),
        None => (String::new(), stem_path),
    };
    let page = match stem {
        "integration" => "index",
        "README" => "overview",
        other => other,
    };
    match fragment {
        Some(fragment) => format!("{dir}{page}.html#{fragment}"),
        None => format!("{dir}{page}.html"),
    }
}

/// A rendered page: its HTML, its title (the first level-1 heading) and where its links point.
pub(crate) struct Rendered {
    pub html: String,
    pub title: String,
    /// Every link destination as written in the markdown (before [`rewrite_link`]), in order.
    pub links: Vec<String>,
}

/// What a page says about itself before it is rendered: its title (the text of the first
/// level-1 heading) and its first paragraph as plain text, for indexes and search.
pub(crate) struct Outline {
    pub title: Option<String>,
    pub first_paragraph: Option<String>,
}

/// The [`Outline`] of `markdown`, read with the same parser as [`to_html`] so that a `#` inside
/// a code block is never mistaken for a heading.
pub(crate) fn outline(markdown: &str) -> Outline {
    let markdown = strip_generated_header(markdown);
    let events: Vec<Event<'_>> = Parser::new_ext(markdown, Options::ENABLE_TABLES).collect();
    let mut title = None;
    let mut first_paragraph = None;
    for (index, event) in events.iter().enumerate() {
        let (is_title, end) = match event {
            Event::Start(Tag::Heading {
                level: HeadingLevel::H1,
                ..
            }) if title.is_none() => (true, TagEnd::Heading(HeadingLevel::H1)),
            Event::Start(Tag::Paragraph) if first_paragraph.is_none() => (false, TagEnd::Paragraph),
            _ => continue,
        };
        let stop = events[index..]
            .iter()
            .position(|e| *e == Event::End(end))
            .map_or(events.len(), |offset| index + offset);
        let text = plain_text(&events[index + 1..stop]);
        if text.is_empty() {
            continue;
        }
        if is_title {
            title = Some(text);
        } else {
            // "… in both directions:" introduces a list; as a summary on its own it reads
            // better without the colon.
            first_paragraph = Some(text.trim_end_matches(':').trim_end().to_string());
        }
        if title.is_some() && first_paragraph.is_some() {
            break;
        }
    }
    Outline {
        title,
        first_paragraph,
    }
}

/// Renders markdown (without its generated header) to HTML. `badges` adds badges to headings
/// whose first word is a function name.
pub(crate) fn to_html(markdown: &str, badges: &BTreeMap<String, BadgeInfo>) -> Rendered {
    let markdown = strip_generated_header(markdown);
    let mut used = BTreeSet::new();
    explicit_ids(markdown, &mut used);
    let events: Vec<Event<'_>> = Parser::new_ext(markdown, Options::ENABLE_TABLES).collect();
    let mut out: Vec<Event<'_>> = Vec::with_capacity(events.len() + 16);
    let mut title = String::new();
    let mut links = Vec::new();
    let mut index = 0;
    while index < events.len() {
        match &events[index] {
            Event::Start(Tag::Heading {
                level,
                classes,
                attrs,
                ..
            }) => {
                let end = events[index..]
                    .iter()
                    .position(|e| matches!(e, Event::End(TagEnd::Heading(_))))
                    .map_or(events.len(), |offset| index + offset);
                let text = plain_text(&events[index + 1..end]);
                if *level == HeadingLevel::H1 && title.is_empty() {
                    title = text.clone();
                }
                let id = unique(slug(&text), &mut used);
                out.push(Event::Start(Tag::Heading {
                    level: *level,
                    id: Some(CowStr::from(id)),
                    classes: classes.clone(),
                    attrs: attrs.clone(),
                }));
                out.extend(
                    events[index + 1..end]
                        .iter()
                        .cloned()
                        .map(|e| rewrite_event(e, &mut links)),
                );
                let first_word = text.split_whitespace().next().unwrap_or_default();
                if *level >= HeadingLevel::H2
                    && let Some(info) = badges.get(first_word)
                {
                    out.push(Event::InlineHtml(CowStr::from(format!(
                        " {}",
                        badges_html(*info)
                    ))));
                }
                if let Some(end_event) = events.get(end) {
                    out.push(end_event.clone());
                }
                index = end + 1;
                continue;
            }
            Event::Start(Tag::Table(_)) => {
                // Wide tables scroll inside this wrapper instead of widening the page.
                out.push(Event::Html(CowStr::from(
                    "<div class=\"table-wrap\" tabindex=\"0\">",
                )));
                out.push(events[index].clone());
            }
            Event::End(TagEnd::Table) => {
                out.push(events[index].clone());
                out.push(Event::Html(CowStr::from("</div>\n")));
            }
            other => out.push(rewrite_event(other.clone(), &mut links)),
        }
        index += 1;
    }
    let mut html_text = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut html_text, out.into_iter());
    Rendered {
        html: html_text,
        title,
        links,
    }
}

/// Rewrites a link's destination (see [`rewrite_link`]) and records the original in `links`.
fn rewrite_event<'a>(event: Event<'a>, links: &mut Vec<String>) -> Event<'a> {
    match event {
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            links.push(dest_url.to_string());
            Event::Start(Tag::Link {
                link_type,
                dest_url: CowStr::from(rewrite_link(&dest_url)),
                title,
                id,
            })
        }
        other => other,
    }
}

/// The text of a heading's or paragraph's events, without markup (code spans keep their text).
fn plain_text(events: &[Event<'_>]) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            _ => {}
        }
    }
    text.trim().to_string()
}

/// `base`, or `base-1`, `base-2`, … when an earlier heading or anchor already has it.
fn unique(base: String, used: &mut BTreeSet<String>) -> String {
    if used.insert(base.clone()) {
        return base;
    }
    let mut n = 1;
    loop {
        let candidate = format!("{base}-{n}");
        if used.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}
