//! The generated docs of a registry, as scripts (`docs.list`, `docs.search`, `docs.read`) and
//! command lines (`kosmo integrations:docs`, `integrations:search`) read them.

use kosmo_runtime::{FunctionMeta, Integration};
use serde_json::Value;

/// The docs of a set of integrations.
#[derive(Debug, Clone, Copy)]
pub struct DocsIndex<'a> {
    integrations: &'a [&'static Integration],
}

impl<'a> DocsIndex<'a> {
    /// The docs of `integrations`.
    pub fn new(integrations: &'a [&'static Integration]) -> Self {
        DocsIndex { integrations }
    }

    fn integration(&self, name: &str) -> Option<&'static Integration> {
        self.integrations
            .iter()
            .copied()
            .find(|i| i.meta.name == name)
    }

    /// Splits `<provider>.<function>` (or `integrations.<provider>.<function>`,
    /// `app.integrations.<provider>.<function>`) into the integration and the function name.
    pub fn split_qualified<'n>(&self, name: &'n str) -> Option<(&'static Integration, &'n str)> {
        let name = name.strip_prefix("app.").unwrap_or(name);
        let name = name.strip_prefix("integrations.").unwrap_or(name);
        let (integration, function) = name.split_once('.')?;
        Some((self.integration(integration)?, function))
    }

    /// Every page name, grouped: per integration its provider page, its namespace index, its
    /// guides (`<provider>.guide.<guide>`), then each family's page (`<provider>.family.<family>`)
    /// followed by the pages of that family's functions.
    pub fn list(&self) -> Vec<String> {
        self.integrations
            .iter()
            .flat_map(|integration| provider_pages(integration))
            .collect()
    }

    /// The pages under `scope`: a provider (`acme`, or its namespace `app.integrations.acme`)
    /// gives every page of that provider, a family page (`acme.family.widgets`) that page and its
    /// functions'. `None` when `scope` is neither.
    pub fn list_under(&self, scope: &str) -> Option<Vec<String>> {
        let scope = scope.trim();
        let bare = scope.strip_prefix("app.").unwrap_or(scope);
        let bare = bare.strip_prefix("integrations.").unwrap_or(bare);
        if let Some(integration) = self.integration(bare) {
            return Some(provider_pages(integration));
        }
        let (integration, rest) = self.split_qualified(scope)?;
        let family = rest.strip_prefix(FAMILY_PAGES)?;
        integration.family_page(family)?;
        let name = integration.meta.name;
        Some(
            std::iter::once(format!("{name}.{FAMILY_PAGES}{family}"))
                .chain(
                    integration
                        .meta
                        .family_functions(family)
                        .map(|f| format!("{name}.{}", f.name)),
                )
                .collect(),
        )
    }

    /// The markdown of a page: `<provider>` (the provider page), `app.integrations.<provider>`
    /// or `integrations.<provider>` (the namespace index), `<provider>.family.<family>` (a
    /// family with its parameter tables), `<provider>.guide.<guide>` (a guide) or
    /// `<provider>.<function>` (by Lua name, full slug or alias).
    pub fn read(&self, page: &str) -> Result<String, String> {
        let page = page.trim();
        if let Some(integration) = self.integration(page) {
            return Ok(strip_header(integration.docs.provider_page).to_string());
        }
        let bare = page.strip_prefix("app.").unwrap_or(page);
        if let Some(name) = bare.strip_prefix("integrations.")
            && let Some(integration) = self.integration(name)
        {
            return Ok(strip_header(integration.docs.namespace).to_string());
        }
        if let Some((integration, rest)) = self.split_qualified(page) {
            if let Some(family) = rest.strip_prefix(FAMILY_PAGES) {
                return integration
                    .family_page(family)
                    .map(|text| strip_header(text).to_string())
                    .ok_or_else(|| {
                        unknown_page(page, family, integration.docs.family_pages, FAMILY_PAGES)
                    });
            }
            if let Some(guide) = rest.strip_prefix(GUIDE_PAGES) {
                return integration
                    .guide_page(guide)
                    .map(|text| strip_header(text).to_string())
                    .ok_or_else(|| {
                        unknown_page(page, guide, integration.docs.guide_pages, GUIDE_PAGES)
                    });
            }
            if let Some(meta) = integration.function(rest)
                && let Some(text) = integration.function_page(meta)
            {
                return Ok(strip_header(text).to_string());
            }
            return Err(format!(
                "Unknown docs page: {page}.{}",
                suggestion(integration, rest)
            ));
        }
        Err(format!(
            "Unknown docs page: {page}. Pages: {}, their namespaces (app.integrations.<provider>), <provider>.family.<family>, <provider>.guide.<guide> or <provider>.<function>; see docs.list().",
            self.integrations
                .iter()
                .map(|i| i.meta.name)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }

    /// Up to `limit` lines `<provider>.<function> - <summary>` (the function's page name and
    /// what it does), best matches first. See [`DocsIndex::search_where`].
    pub fn search(&self, query: &str, limit: usize) -> Vec<String> {
        self.search_where(query, limit, |_, _| true)
    }

    /// [`DocsIndex::search`] among the functions `keep` accepts (the CLI's `--group`).
    ///
    /// Every word of the query must match somewhere, case-insensitively, a plural also matching
    /// its singular: the function's name, full name or an alias, its title, its summary, its
    /// family's name or title, its description or a parameter's name. Results rank by where
    /// their words match, summed over the words: a whole word of the name (`ban` in `ban_user`)
    /// first, then the start of one, then anywhere in a name, then the title or summary, then
    /// the family, then the description or a parameter. Ties keep the manifest's order.
    pub fn search_where(
        &self,
        query: &str,
        limit: usize,
        keep: impl Fn(&Integration, &FunctionMeta) -> bool,
    ) -> Vec<String> {
        let words: Vec<Vec<String>> = query.split_whitespace().map(word_forms).collect();
        if words.is_empty() {
            return Vec::new();
        }
        let mut scored = Vec::new();
        for (provider_index, integration) in self.integrations.iter().enumerate() {
            let meta = integration.meta;
            for (index, function) in meta.functions.iter().enumerate() {
                if !keep(integration, function) {
                    continue;
                }
                let family = meta
                    .families
                    .iter()
                    .find(|f| f.name == function.group)
                    .map_or(String::new(), |f| f.title.to_lowercase());
                let fields = Fields {
                    names: std::iter::once(function.name)
                        .chain(std::iter::once(function.slug))
                        .chain(function.aliases.iter().copied())
                        .map(str::to_lowercase)
                        .collect(),
                    title_summary: format!("{} {}", function.title, function.summary)
                        .to_lowercase(),
                    family: format!(
                        "{} {family}",
                        function.group.replace('_', " ").to_lowercase()
                    ),
                    details: function
                        .params
                        .iter()
                        .flat_map(|p| std::iter::once(p.name).chain(p.aliases.iter().copied()))
                        .fold(function.description.to_lowercase(), |text, name| {
                            text + " " + name
                        }),
                };
                let mut total = 0;
                let mut all = true;
                for forms in &words {
                    match fields.score(forms) {
                        0 => {
                            all = false;
                            break;
                        }
                        score => total += score,
                    }
                }
                if all {
                    scored.push((
                        std::cmp::Reverse(total),
                        (provider_index, index),
                        format!("{}.{} - {}", meta.name, function.name, function.summary),
                    ));
                }
            }
        }
        scored.sort();
        scored
            .into_iter()
            .take(limit)
            .map(|(_, _, line)| line)
            .collect()
    }

    /// The catalog JSON for a provider page, the catalog entry of one function, or for a family
    /// page the catalog's family entry with its functions' entries in place of their names. A
    /// guide page has no JSON form but its markdown: `{"page", "markdown"}`.
    pub fn read_json(&self, page: &str) -> Result<Value, String> {
        let page = page.trim();
        let bare = page.strip_prefix("app.").unwrap_or(page);
        let bare = bare.strip_prefix("integrations.").unwrap_or(bare);
        if let Some(integration) = self.integration(bare) {
            return integration.catalog().map_err(|e| e.to_string());
        }
        let Some((integration, function)) = self.split_qualified(page) else {
            return Err(self.read(page).err().unwrap_or_default());
        };
        if let Some(family) = function.strip_prefix(FAMILY_PAGES) {
            self.read(page)?;
            let mut catalog = integration.catalog().map_err(|e| e.to_string())?;
            let entries = catalog["functions"].take();
            let mut entry = catalog["families"]
                .as_array_mut()
                .and_then(|families| families.iter_mut().find(|f| f["name"] == family))
                .map(Value::take)
                .ok_or_else(|| format!("{page} is missing from the catalog"))?;
            let functions: Vec<Value> = entries
                .as_array()
                .into_iter()
                .flatten()
                .filter(|f| f["group"] == family)
                .cloned()
                .collect();
            entry["functions"] = Value::Array(functions);
            return Ok(entry);
        }
        if function.starts_with(GUIDE_PAGES) {
            let markdown = self.read(page)?;
            return Ok(serde_json::json!({ "page": page, "markdown": markdown }));
        }
        let Some(meta) = integration.function(function) else {
            return Err(format!(
                "Unknown docs page: {page}.{}",
                suggestion(integration, function)
            ));
        };
        integration.catalog_entry(meta).map_err(|e| e.to_string())
    }
}

/// The lower-cased word and the singulars it may stand for (`sessions`: `session`; `entries`:
/// `entry`).
fn word_forms(word: &str) -> Vec<String> {
    let word = word.to_lowercase();
    let mut forms = vec![word.clone()];
    if word.chars().count() > 3 {
        if let Some(stem) = word.strip_suffix("ies") {
            forms.push(format!("{stem}y"));
        }
        if let Some(stem) = word.strip_suffix('s') {
            forms.push(stem.to_string());
        }
    }
    forms
}

/// What a search matches a function on, lower-cased.
struct Fields {
    /// The Lua name, then the full name and the aliases.
    names: Vec<String>,
    title_summary: String,
    /// The family's name (with spaces for `_`) and title.
    family: String,
    /// The description and the parameters' names and aliases.
    details: String,
}

impl Fields {
    /// How well one query word (in its forms) matches: in the Lua name 6 for a whole word
    /// (`ban` in `ban_user`, `user` in `list_users`), 5 for the start of one, 4 anywhere; in the
    /// full name or an alias one less; 3 the title or summary, 2 the family, 1 the description or
    /// a parameter, 0 nowhere.
    fn score(&self, forms: &[String]) -> u32 {
        let mut best = 0;
        for form in forms {
            for (i, name) in self.names.iter().enumerate() {
                let lua_name = u32::from(i == 0);
                let in_name = if name
                    .split('_')
                    .any(|part| part == form || part.strip_suffix('s') == Some(form.as_str()))
                {
                    5
                } else if name.split('_').any(|part| part.starts_with(form.as_str())) {
                    4
                } else if name.contains(form.as_str()) {
                    3
                } else {
                    0
                };
                if in_name > 0 {
                    best = best.max(in_name + lua_name);
                }
            }
            if self.title_summary.contains(form.as_str()) {
                best = best.max(3);
            } else if self.family.contains(form.as_str()) {
                best = best.max(2);
            } else if self.details.contains(form.as_str()) {
                best = best.max(1);
            }
        }
        best
    }
}

/// What a family page's name has after `<provider>.`: `acme.family.widgets`.
pub const FAMILY_PAGES: &str = "family.";

/// What a guide page's name has after `<provider>.`: `acme.guide.start`.
pub const GUIDE_PAGES: &str = "guide.";

/// One provider's pages in [`DocsIndex::list`]'s order.
fn provider_pages(integration: &Integration) -> Vec<String> {
    let meta = integration.meta;
    let name = meta.name;
    let mut pages = vec![name.to_string(), format!("app.integrations.{name}")];
    for (guide, _) in integration.docs.guide_pages {
        pages.push(format!("{name}.{GUIDE_PAGES}{guide}"));
    }
    let mut listed = std::collections::BTreeSet::new();
    for family in meta.families {
        if integration.family_page(family.name).is_some() {
            pages.push(format!("{name}.{FAMILY_PAGES}{}", family.name));
        }
        for function in meta.family_functions(family.name) {
            listed.insert(function.name);
            pages.push(format!("{name}.{}", function.name));
        }
    }
    // A function whose group no family declares (an older registry) still has its page.
    for function in meta.functions {
        if !listed.contains(function.name) {
            pages.push(format!("{name}.{}", function.name));
        }
    }
    pages
}

/// The error for a family or guide page that does not exist, with the closest names and the
/// list of those that do.
fn unknown_page(page: &str, name: &str, pages: &[(&str, &str)], kind: &str) -> String {
    let mut scored: Vec<(usize, &str)> = pages
        .iter()
        .map(|(candidate, _)| {
            (
                kosmo_runtime::args::edit_distance(name, candidate),
                *candidate,
            )
        })
        .filter(|(d, candidate)| *d <= candidate.len().max(name.len()) / 3 + 1)
        .collect();
    scored.sort();
    let close: Vec<&str> = scored.iter().take(3).map(|(_, c)| *c).collect();
    let known: Vec<&str> = pages.iter().map(|(n, _)| *n).collect();
    let kind = kind.trim_end_matches('.');
    format!(
        "Unknown docs page: {page}.{} The {kind} pages: {}.",
        if close.is_empty() {
            String::new()
        } else {
            format!(" Did you mean: {}?", close.join(", "))
        },
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    )
}

/// Drops the "generated, do not edit" comment line the files start with.
fn strip_header(page: &str) -> &str {
    match page.strip_prefix("<!--") {
        Some(_) => page.split_once('\n').map_or("", |(_, rest)| rest),
        None => page,
    }
}

fn suggestion(integration: &Integration, function: &str) -> String {
    match integration.meta.unknown_function(function) {
        kosmo_runtime::Error::UnknownFunction { suggestion, .. } => suggestion,
        _ => String::new(),
    }
}

/// Markdown made plainer for reading in a terminal: no code fences, no inline backticks or
/// emphasis, level-two headings in capitals.
pub fn to_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            continue;
        }
        let line = line.replace('`', "").replace("**", "");
        let line = line
            .strip_prefix("## ")
            .map_or(line.clone(), |rest| rest.to_uppercase());
        let line = line.strip_prefix("# ").map_or(line.clone(), str::to_string);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Fields, word_forms};

    fn fields() -> Fields {
        Fields {
            names: vec![
                "list_widgets".into(),
                "acme_list_widgets".into(),
                "gadgets".into(),
            ],
            title_summary: "list widgets list widgets, newest first.".into(),
            family: "widgets widget catalogue".into(),
            details: "returns a page. color status".into(),
        }
    }

    #[test]
    fn a_word_scores_by_where_it_matches() {
        let score = |word: &str| fields().score(&word_forms(word));
        assert_eq!(score("widget"), 6, "a whole word of the Lua name, singular");
        assert_eq!(score("Widgets"), 6, "case does not matter");
        assert_eq!(score("wid"), 5, "the start of a word of the Lua name");
        assert_eq!(score("idget"), 4, "inside the Lua name");
        assert_eq!(score("gadget"), 5, "a whole word of an alias");
        assert_eq!(score("acme"), 5, "a whole word of the full name");
        assert_eq!(score("newest"), 3, "the summary");
        assert_eq!(score("catalogue"), 2, "the family's title");
        assert_eq!(score("status"), 1, "a parameter");
        assert_eq!(score("colors"), 1, "a parameter, by its plural");
        assert_eq!(score("zebra"), 0);
    }

    #[test]
    fn plurals_stand_for_their_singulars() {
        assert_eq!(word_forms("Entries"), ["entries", "entry", "entrie"]);
        assert_eq!(word_forms("bus"), ["bus"]);
    }
}
