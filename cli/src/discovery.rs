//! The discovery commands: `integrations:list`, `integrations:search`, `integrations:docs` and
//! `integrations:schema`, over the generated registry.

use kosmo_host::{DocsIndex, Integration};
use kosmo_integrations::INTEGRATIONS;
use kosmo_runtime::Operation;
use serde_json::{Value, json};

use crate::config::{self, Settings};
use crate::{DocsFormat, EXIT_FAILURE, EXIT_USAGE, print_json};

fn index() -> DocsIndex<'static> {
    DocsIndex::new(&INTEGRATIONS)
}

/// `list_users({})`: the call of the integration's first read function that needs no
/// arguments, for examples in help texts.
pub fn listing_example(integration: &Integration) -> Option<String> {
    integration
        .meta
        .functions
        .iter()
        .find(|f| f.operation == Operation::Read && f.params.iter().all(|p| !p.required))
        .map(|f| format!("{}({{}})", f.name))
}

pub fn search(query: &[String], limit: usize, as_json: bool) -> anyhow::Result<u8> {
    let query = query.join(" ");
    let lines = index().search(&query, limit);
    if as_json {
        print_json(&json!(lines));
    } else if lines.is_empty() {
        eprintln!("No functions match \"{query}\".");
        return Ok(EXIT_FAILURE);
    } else {
        outln!("{}", lines.join("\n"));
    }
    Ok(0)
}

pub fn schema(function: &str) -> anyhow::Result<u8> {
    let Some((integration, name)) = index().split_qualified(function) else {
        eprintln!(
            "Error: name a function as <provider>.<function>, e.g. {}",
            INTEGRATIONS
                .first()
                .and_then(|i| i
                    .meta
                    .functions
                    .first()
                    .map(|f| format!("{}.{}", i.meta.name, f.name)))
                .unwrap_or_default()
        );
        return Ok(EXIT_USAGE);
    };
    let Some(meta) = integration.function(name) else {
        eprintln!("Error: {}", integration.meta.unknown_function(name));
        return Ok(EXIT_FAILURE);
    };
    let schema = integration.input_schema(meta)?;
    print_json(&schema);
    Ok(0)
}

pub fn list(as_json: bool) -> anyhow::Result<u8> {
    let settings = Settings::load()?;
    settings.print_warnings();
    let mut entries = Vec::new();
    for integration in INTEGRATIONS.iter() {
        let meta = integration.meta;
        let mut accounts = Vec::new();
        for account in settings.accounts(meta.name) {
            let sources = settings.credential_sources(meta, &account);
            let credentials = settings.credentials(meta, &account);
            let configured = credentials.check(meta).is_ok();
            let values: serde_json::Map<String, Value> = sources
                .iter()
                .map(|(name, (value, source))| {
                    (
                        name.clone(),
                        json!({
                            "value": config::display_value(meta, name, value),
                            "source": source,
                        }),
                    )
                })
                .collect();
            accounts.push(json!({
                "name": account,
                "configured": configured,
                "credentials": values,
                "permissions": {
                    "read": settings.policy(meta.name, &account, Operation::Read).as_str(),
                    "write": settings.policy(meta.name, &account, Operation::Write).as_str(),
                },
            }));
        }
        let functions: Vec<Value> = meta
            .functions
            .iter()
            .map(|f| {
                json!({
                    "name": f.name,
                    "slug": f.slug,
                    "operation": f.operation.as_str(),
                    "summary": f.summary,
                })
            })
            .collect();
        entries.push(json!({
            "name": meta.name,
            "label": meta.label,
            "category": meta.category,
            "description": meta.description,
            "enabled": settings.enabled(meta.name),
            "accounts": accounts,
            "functions": functions,
        }));
    }
    if as_json {
        print_json(&json!({ "integrations": entries }));
        return Ok(0);
    }
    for entry in &entries {
        let enabled = entry["enabled"].as_bool().unwrap_or(true);
        outln!(
            "{} ({}) - {}, {} functions",
            entry["name"].as_str().unwrap_or_default(),
            entry["label"].as_str().unwrap_or_default(),
            if enabled { "enabled" } else { "disabled" },
            entry["functions"].as_array().map_or(0, Vec::len)
        );
        for account in entry["accounts"].as_array().into_iter().flatten() {
            let creds: Vec<String> = account["credentials"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, v)| {
                    format!(
                        "{name}={} ({})",
                        v["value"].as_str().unwrap_or_default(),
                        v["source"].as_str().unwrap_or_default()
                    )
                })
                .collect();
            outln!(
                "  account {}: {}; read={} write={}{}",
                account["name"].as_str().unwrap_or_default(),
                if account["configured"].as_bool() == Some(true) {
                    "configured"
                } else {
                    "not configured"
                },
                account["permissions"]["read"].as_str().unwrap_or_default(),
                account["permissions"]["write"].as_str().unwrap_or_default(),
                if creds.is_empty() {
                    String::new()
                } else {
                    format!("; {}", creds.join(", "))
                }
            );
        }
        for function in entry["functions"].as_array().into_iter().flatten() {
            outln!(
                "  {:<32} {:<6} {}",
                function["name"].as_str().unwrap_or_default(),
                function["operation"].as_str().unwrap_or_default(),
                function["summary"].as_str().unwrap_or_default()
            );
        }
    }
    Ok(0)
}

pub fn docs(page: Option<&str>, format: DocsFormat) -> anyhow::Result<u8> {
    let Some(page) = page else {
        let pages = index().list();
        match format {
            DocsFormat::Json => print_json(&json!(pages)),
            _ => outln!("{}", pages.join("\n")),
        }
        return Ok(0);
    };
    match format {
        DocsFormat::Json => match index().read_json(page) {
            Ok(value) => {
                print_json(&value);
                Ok(0)
            }
            Err(message) => {
                eprintln!("Error: {message}");
                Ok(EXIT_FAILURE)
            }
        },
        DocsFormat::Markdown | DocsFormat::Text => match index().read(page) {
            Ok(markdown) => {
                let text = match format {
                    DocsFormat::Text => kosmo_host::docs::to_text(&markdown),
                    _ => markdown,
                };
                out!("{text}");
                if !text.ends_with('\n') {
                    outln!();
                }
                Ok(0)
            }
            Err(message) => {
                eprintln!("Error: {message}");
                Ok(EXIT_FAILURE)
            }
        },
    }
}
