//! The discovery commands: `integrations:list`, `integrations:search`, `integrations:docs` and
//! `integrations:schema`, over the generated registry.

use kosmo_host::{DocsIndex, Integration};
use kosmo_integrations::INTEGRATIONS;
use kosmo_runtime::Operation;
use std::collections::BTreeSet;

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

/// What `--group` accepts, for the help of the commands that take it.
pub const GROUP_HELP: &str = "--group NAME selects a family of functions (as `integrations:list` shows them: the name in parentheses); repeat it or separate names with commas (--group users,sessions). A name shared by two providers' families selects both; `<provider>.<family>` selects one. An unknown name is an error that lists the known ones.";

/// The families `--group` selected, as `(provider, family)` pairs; every family when none was
/// given.
pub struct Groups(Option<BTreeSet<(&'static str, &'static str)>>);

impl Groups {
    /// Resolves `names` (`family` or `provider.family`, commas already split) against the
    /// registry; an unknown name is an error naming the closest and every known family.
    pub fn parse(names: &[String]) -> Result<Groups, String> {
        let names: Vec<&str> = names
            .iter()
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
            .collect();
        if names.is_empty() {
            return Ok(Groups(None));
        }
        let families: Vec<(&'static str, &'static str)> = INTEGRATIONS
            .iter()
            .flat_map(|i| i.meta.families.iter().map(|f| (i.meta.name, f.name)))
            .collect();
        let mut selected = BTreeSet::new();
        for name in names {
            let found: Vec<(&'static str, &'static str)> = families
                .iter()
                .copied()
                .filter(|(provider, family)| {
                    *family == name || format!("{provider}.{family}") == name
                })
                .collect();
            if found.is_empty() {
                return Err(unknown_group(name, &families));
            }
            selected.extend(found);
        }
        Ok(Groups(Some(selected)))
    }

    /// Whether the family `family` of `provider` is selected.
    pub fn contains(&self, provider: &str, family: &str) -> bool {
        self.0
            .as_ref()
            .is_none_or(|set| set.contains(&(provider, family)))
    }

    /// Whether some family of `provider` is selected.
    fn any_of(&self, provider: &str) -> bool {
        self.0
            .as_ref()
            .is_none_or(|set| set.iter().any(|(p, _)| *p == provider))
    }

    fn is_all(&self) -> bool {
        self.0.is_none()
    }
}

fn unknown_group(name: &str, families: &[(&str, &str)]) -> String {
    let qualify = INTEGRATIONS.len() > 1;
    let label = |(provider, family): &(&str, &str)| {
        if qualify {
            format!("{provider}.{family}")
        } else {
            (*family).to_string()
        }
    };
    let bare = name.rsplit('.').next().unwrap_or(name);
    let mut close: Vec<(usize, String)> = families
        .iter()
        .map(|f| (kosmo_runtime::args::edit_distance(bare, f.1), label(f)))
        .filter(|(d, candidate)| *d <= candidate.len().max(bare.len()) / 3 + 1)
        .collect();
    close.sort();
    let close: Vec<String> = close.into_iter().take(3).map(|(_, c)| c).collect();
    let known: Vec<String> = families.iter().map(label).collect();
    format!(
        "unknown group `{name}`.{} Groups: {}.",
        if close.is_empty() {
            String::new()
        } else {
            format!(" Did you mean: {}?", close.join(", "))
        },
        known.join(", ")
    )
}

/// `--group`, or the usage error (exit 2) for an unknown name.
fn groups_or_exit(names: &[String]) -> Result<Groups, u8> {
    Groups::parse(names).map_err(|message| {
        eprintln!("Error: {message}");
        EXIT_USAGE
    })
}

pub fn search(
    query: &[String],
    limit: usize,
    groups: &[String],
    as_json: bool,
) -> anyhow::Result<u8> {
    let groups = match groups_or_exit(groups) {
        Ok(groups) => groups,
        Err(code) => return Ok(code),
    };
    let query = query.join(" ");
    let lines = index().search_where(&query, limit, |integration, function| {
        groups.contains(integration.meta.name, function.group)
    });
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

pub fn list(groups: &[String], as_json: bool) -> anyhow::Result<u8> {
    let groups = match groups_or_exit(groups) {
        Ok(groups) => groups,
        Err(code) => return Ok(code),
    };
    let settings = Settings::load()?;
    settings.print_warnings();
    let mut entries = Vec::new();
    for integration in INTEGRATIONS.iter() {
        let meta = integration.meta;
        if !groups.any_of(meta.name) {
            continue;
        }
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
        let families: Vec<Value> = meta
            .families
            .iter()
            .filter(|f| groups.contains(meta.name, f.name))
            .map(|f| {
                json!({
                    "name": f.name,
                    "title": f.title,
                    "summary": f.summary,
                    "functions": meta.family_functions(f.name).map(|f| f.name).collect::<Vec<_>>(),
                })
            })
            .collect();
        let functions: Vec<Value> = meta
            .functions
            .iter()
            .filter(|f| groups.contains(meta.name, f.group))
            .map(|f| {
                json!({
                    "name": f.name,
                    "slug": f.slug,
                    "group": f.group,
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
            "function_count": meta.functions.len(),
            "families": families,
            "functions": functions,
        }));
    }
    if as_json {
        print_json(&json!({ "integrations": entries }));
        return Ok(0);
    }
    for entry in &entries {
        let enabled = entry["enabled"].as_bool().unwrap_or(true);
        let shown = entry["functions"].as_array().map_or(0, Vec::len);
        let total = entry["function_count"].as_u64().unwrap_or_default();
        let families = entry["families"].as_array().map_or(0, Vec::len);
        outln!(
            "{} ({}) - {}, {}",
            entry["name"].as_str().unwrap_or_default(),
            entry["label"].as_str().unwrap_or_default(),
            if enabled { "enabled" } else { "disabled" },
            if groups.is_all() {
                format!("{total} functions in {families} families")
            } else {
                format!(
                    "{shown} of {total} functions, in {families} of {} families",
                    INTEGRATIONS
                        .iter()
                        .find(|i| entry["name"] == i.meta.name)
                        .map_or(0, |i| i.meta.families.len())
                )
            }
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
        let functions: Vec<&Value> = entry["functions"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        let width = functions
            .iter()
            .map(|f| f["name"].as_str().unwrap_or_default().len())
            .max()
            .unwrap_or(0);
        for family in entry["families"].as_array().into_iter().flatten() {
            let name = family["name"].as_str().unwrap_or_default();
            let summary = family["summary"].as_str().unwrap_or_default();
            outln!(
                "  {} ({name}){}",
                family["title"].as_str().unwrap_or_default(),
                if summary.is_empty() {
                    String::new()
                } else {
                    format!(": {summary}")
                }
            );
            for function in functions.iter().filter(|f| f["group"] == name) {
                outln!(
                    "    {:<width$}  {:<5}  {}",
                    function["name"].as_str().unwrap_or_default(),
                    function["operation"].as_str().unwrap_or_default(),
                    function["summary"].as_str().unwrap_or_default()
                );
            }
        }
    }
    Ok(0)
}

pub fn docs(page: Option<&str>, format: DocsFormat, groups: &[String]) -> anyhow::Result<u8> {
    let filter = match groups_or_exit(groups) {
        Ok(groups) => groups,
        Err(code) => return Ok(code),
    };
    let Some(page) = page else {
        let pages = page_list(&filter);
        match format {
            DocsFormat::Json => print_json(&json!(pages)),
            _ => {
                // Functions indented under their family's page.
                for page in &pages {
                    let indent = if is_function_page(page) { "  " } else { "" };
                    outln!("{indent}{page}");
                }
            }
        }
        return Ok(0);
    };
    if !filter.is_all() {
        let bare = page.trim();
        let bare = bare.strip_prefix("app.").unwrap_or(bare);
        let bare = bare.strip_prefix("integrations.").unwrap_or(bare);
        let provider = INTEGRATIONS.iter().any(|i| i.meta.name == bare);
        if !matches!(format, DocsFormat::Json) || !provider {
            eprintln!(
                "Error: --group filters the list of pages and a provider's catalog (`integrations:docs <provider> --format json`), not the page {page}"
            );
            return Ok(EXIT_USAGE);
        }
    }
    match format {
        DocsFormat::Json => match index().read_json(page) {
            Ok(mut value) => {
                if !filter.is_all() {
                    filter_catalog(&mut value, &filter);
                }
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

/// Every page, or with `--group` each selected family's page and its functions', in the
/// registry's grouped order.
fn page_list(groups: &Groups) -> Vec<String> {
    if groups.is_all() {
        return index().list();
    }
    let mut pages = Vec::new();
    for integration in INTEGRATIONS.iter() {
        for family in integration.meta.families {
            if groups.contains(integration.meta.name, family.name) {
                let page = format!("{}.family.{}", integration.meta.name, family.name);
                pages.extend(index().list_under(&page).unwrap_or_default());
            }
        }
    }
    pages
}

/// Whether a listed page is a function's (`<provider>.<function>`), not a provider's, a
/// namespace's, a family's or a guide's.
fn is_function_page(page: &str) -> bool {
    match page.split_once('.') {
        Some((provider, rest)) => {
            provider != "app"
                && !rest.contains('.')
                && INTEGRATIONS.iter().any(|i| i.meta.name == provider)
        }
        None => false,
    }
}

/// A provider's catalog with only the selected families and their functions.
fn filter_catalog(catalog: &mut Value, groups: &Groups) {
    let provider = catalog["provider"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for (key, field) in [("families", "name"), ("functions", "group")] {
        if let Some(items) = catalog.get_mut(key).and_then(Value::as_array_mut) {
            items.retain(|item| {
                groups.contains(&provider, item[field].as_str().unwrap_or_default())
            });
        }
    }
}
