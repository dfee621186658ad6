//! The generated docs of a registry, as scripts (`docs.list`, `docs.search`, `docs.read`) and
//! command lines (`kosmo integrations:docs`, `integrations:search`) read them.

use kosmo_runtime::Integration;
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

    /// Every page name: each integration, its namespace reference and each function.
    pub fn list(&self) -> Vec<String> {
        let mut pages = Vec::new();
        for integration in self.integrations {
            let name = integration.meta.name;
            pages.push(name.to_string());
            pages.push(format!("app.integrations.{name}"));
            for function in integration.meta.functions {
                pages.push(format!("{name}.{}", function.name));
            }
        }
        pages
    }

    /// The markdown of a page: `<provider>` (the provider page), `app.integrations.<provider>`
    /// or `integrations.<provider>` (the agent-facing namespace reference) or
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
        if let Some((integration, function)) = self.split_qualified(page) {
            if let Some(meta) = integration.function(function)
                && let Some(text) = integration.function_page(meta)
            {
                return Ok(strip_header(text).to_string());
            }
            return Err(format!(
                "Unknown docs page: {page}.{}",
                suggestion(integration, function)
            ));
        }
        Err(format!(
            "Unknown docs page: {page}. Pages: {}, or <provider>.<function>; see docs.list().",
            self.integrations
                .iter()
                .map(|i| i.meta.name)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }

    /// Up to `limit` lines `provider.function - summary`, best matches first. Every word of the
    /// query must appear in the name, slug, title, group, summary or description.
    pub fn search(&self, query: &str, limit: usize) -> Vec<String> {
        let words: Vec<String> = query.split_whitespace().map(|w| w.to_lowercase()).collect();
        let mut scored = Vec::new();
        for (provider_index, integration) in self.integrations.iter().enumerate() {
            let provider = integration.meta.name;
            for (index, function) in integration.meta.functions.iter().enumerate() {
                let name = format!("{provider}.{}", function.name).to_lowercase();
                let haystack = format!(
                    "{name} {} {} {} {} {}",
                    function.slug,
                    function.title,
                    function.group,
                    function.summary,
                    function.description
                )
                .to_lowercase();
                if !words.iter().all(|w| haystack.contains(w.as_str())) {
                    continue;
                }
                let in_name = words.iter().filter(|w| name.contains(w.as_str())).count();
                let summary = function.summary.to_lowercase();
                let in_summary = words
                    .iter()
                    .filter(|w| summary.contains(w.as_str()))
                    .count();
                scored.push((
                    std::cmp::Reverse((in_name, in_summary)),
                    (provider_index, index),
                    format!("{provider}.{} - {}", function.name, function.summary),
                ));
            }
        }
        scored.sort();
        scored
            .into_iter()
            .take(limit)
            .map(|(_, _, line)| line)
            .collect()
    }

    /// The catalog JSON for a provider page, or the catalog entry of one function.
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
        let Some(meta) = integration.function(function) else {
            return Err(format!(
                "Unknown docs page: {page}.{}",
                suggestion(integration, function)
            ));
        };
        integration.catalog_entry(meta).map_err(|e| e.to_string())
    }
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
