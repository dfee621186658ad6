//! The generated docs as scripts and the CLI see them: `docs.list`, `docs.search`, `docs.read`,
//! `integrations:docs`, `integrations:search`.

use serde_json::Value;

use crate::providers::{PROVIDERS, Provider, split_qualified};

/// Every page name: each provider, its namespace reference and each function.
pub fn list() -> Vec<String> {
    let mut pages = Vec::new();
    for provider in PROVIDERS {
        let name = provider.meta.name;
        pages.push(name.to_string());
        pages.push(format!("app.integrations.{name}"));
        for function in provider.meta.functions {
            pages.push(format!("{name}.{}", function.name));
        }
    }
    pages
}

/// Drops the "generated, do not edit" comment line the files start with.
fn strip_header(page: &str) -> &str {
    match page.strip_prefix("<!--") {
        Some(_) => page.split_once('\n').map_or("", |(_, rest)| rest),
        None => page,
    }
}

/// The markdown of a page: `clerk` (the provider page), `app.integrations.clerk` or
/// `integrations.clerk` (the agent-facing namespace reference) or `clerk.<function>` (by Lua
/// name, full slug or alias).
pub fn read(page: &str) -> Result<String, String> {
    let page = page.trim();
    if let Some(provider) = crate::providers::provider(page) {
        return Ok(strip_header(provider.page).to_string());
    }
    let bare = page.strip_prefix("app.").unwrap_or(page);
    if let Some(name) = bare.strip_prefix("integrations.")
        && let Some(provider) = crate::providers::provider(name)
    {
        return Ok(strip_header(provider.namespace).to_string());
    }
    if let Some((provider, function)) = split_qualified(page) {
        if let Some(meta) = provider.meta.function(function)
            && let Some(text) = provider.function_page(meta)
        {
            return Ok(strip_header(text).to_string());
        }
        return Err(format!(
            "Unknown docs page: {page}.{}",
            suggestion(provider, function)
        ));
    }
    Err(format!(
        "Unknown docs page: {page}. Pages: {}, or <provider>.<function>; see docs.list().",
        PROVIDERS
            .iter()
            .map(|p| p.meta.name)
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

fn suggestion(provider: &Provider, function: &str) -> String {
    match provider.meta.unknown_function(function) {
        kosmo_runtime::Error::UnknownFunction { suggestion, .. } => suggestion,
        _ => String::new(),
    }
}

/// Up to `limit` lines `provider.function - summary`, best matches first. Every word of the
/// query must appear in the name, slug, title, group, summary or description.
pub fn search(query: &str, limit: usize) -> Vec<String> {
    let words: Vec<String> = query.split_whitespace().map(|w| w.to_lowercase()).collect();
    let mut scored = Vec::new();
    for provider in PROVIDERS {
        for (index, function) in provider.meta.functions.iter().enumerate() {
            let name = format!("{}.{}", provider.meta.name, function.name).to_lowercase();
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
            let in_summary = words
                .iter()
                .filter(|w| function.summary.to_lowercase().contains(w.as_str()))
                .count();
            scored.push((
                std::cmp::Reverse((in_name, in_summary)),
                index,
                format!(
                    "{}.{} - {}",
                    provider.meta.name, function.name, function.summary
                ),
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

/// Markdown made plainer for `--format text`: no code fences, no inline backticks or emphasis.
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

/// The catalog JSON for a provider page, or the catalog entry of one function.
pub fn read_json(page: &str) -> Result<Value, String> {
    let page = page.trim();
    let bare = page.strip_prefix("app.").unwrap_or(page);
    let bare = bare.strip_prefix("integrations.").unwrap_or(bare);
    if let Some(provider) = crate::providers::provider(bare) {
        return serde_json::from_str(provider.catalog).map_err(|e| e.to_string());
    }
    let Some((provider, function)) = split_qualified(page) else {
        return Err(read(page).err().unwrap_or_default());
    };
    let Some(meta) = provider.meta.function(function) else {
        return Err(format!(
            "Unknown docs page: {page}.{}",
            suggestion(provider, function)
        ));
    };
    let catalog: Value = serde_json::from_str(provider.catalog).map_err(|e| e.to_string())?;
    catalog["functions"]
        .as_array()
        .and_then(|fs| {
            fs.iter()
                .find(|f| f["function_name"].as_str() == Some(meta.name))
                .cloned()
        })
        .ok_or_else(|| format!("{page} is missing from the catalog"))
}
