//! Markdown docs (through minijinja templates) and the catalog JSON (through serde_json).
//!
//! Per provider: `docs/<name>/namespace.md` (the index an agent reads whole before writing Lua:
//! every function on one line, grouped by family, within [`NAMESPACE_BUDGET`]),
//! `docs/<name>/README.md` (the provider overview `docs.read("<name>")` shows),
//! `docs/<name>/integration.md` (the integration page for people, in the public reference page's shape),
//! `docs/<name>/families/<family>.md` (one page per family, with every parameter table),
//! `docs/<name>/functions/<fn>.md` (one page per function), `docs/<name>/guides/<guide>.md` (one
//! page per guide) and `docs/<name>/catalog.json`.

use minijinja::syntax::SyntaxConfig;
use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior, context};
use serde_json::{Map, Value, json};

use super::GeneratedFile;
use crate::manifest::Operation;
use crate::model::{Function, Param, Provider, number};

const NAMESPACE: &str = include_str!("../../templates/namespace.md.j2");
const FUNCTION: &str = include_str!("../../templates/function.md.j2");
const PROVIDER: &str = include_str!("../../templates/provider.md.j2");
const INTEGRATION: &str = include_str!("../../templates/integration.md.j2");
const FAMILY: &str = include_str!("../../templates/family.md.j2");
const GUIDE: &str = include_str!("../../templates/guide.md.j2");

/// Most bytes of a namespace index (`namespace.md`), which an agent reads whole into its context
/// window: 24 KiB, about 6,000 tokens. `codegen/tests/docs.rs` holds every manifest to it, and a
/// synthetic one of 250 functions in 35 families.
pub const NAMESPACE_BUDGET: usize = 24 * 1024;

/// The namespace index within [`NAMESPACE_BUDGET`]: with whole summaries when they fit, else with
/// every summary cut (at a word, marked `…`) to the longest length that fits; the function and
/// family pages keep them whole. An index that does not fit even without summaries is an error:
/// the manifest has outgrown the budget.
fn fit_to_budget(
    render: impl Fn(Option<usize>) -> Result<String, crate::Error>,
) -> Result<String, crate::Error> {
    let whole = render(None)?;
    if whole.len() <= NAMESPACE_BUDGET {
        return Ok(whole);
    }
    let (mut fits, mut too_long) = (0, crate::validate::MAX_SUMMARY_CHARS + 1);
    let mut best = render(Some(0))?;
    if best.len() > NAMESPACE_BUDGET {
        return Err(crate::Error::Emit(format!(
            "the namespace index is {} bytes without any summary, over its budget of {NAMESPACE_BUDGET}: shorten the guides' essentials or family summaries, or split the provider",
            best.len()
        )));
    }
    while too_long - fits > 1 {
        let cap = (fits + too_long) / 2;
        let page = render(Some(cap))?;
        if page.len() <= NAMESPACE_BUDGET {
            (fits, best) = (cap, page);
        } else {
            too_long = cap;
        }
    }
    Ok(best)
}

/// `summary` cut to at most `cap` characters at a word boundary, marked with `…`; whole when it
/// fits or when there is no cap; empty for a cap of 0.
fn brief(summary: String, cap: Option<usize>) -> String {
    let Some(cap) = cap else { return summary };
    let summary = summary.trim().trim_end_matches('.').to_string();
    if summary.chars().count() <= cap {
        return summary;
    }
    let mut cut = String::new();
    for word in summary.split_whitespace() {
        let next = if cut.is_empty() {
            word.chars().count()
        } else {
            cut.chars().count() + 1 + word.chars().count()
        };
        // Room for the `…`.
        if next + 1 > cap {
            break;
        }
        if !cut.is_empty() {
            cut.push(' ');
        }
        cut.push_str(word);
    }
    // A cut that ends on a little word ("Send a GET request to…") reads worse than one
    // without it ("Send a GET request…").
    const DANGLING: [&str; 14] = [
        "a", "an", "the", "to", "of", "for", "and", "or", "with", "by", "in", "on", "from", "as",
    ];
    let mut words: Vec<&str> = cut.split(' ').collect();
    while words.len() > 1
        && words
            .last()
            .is_some_and(|w| DANGLING.contains(&w.to_ascii_lowercase().as_str()))
    {
        words.pop();
    }
    let cut = words.join(" ");
    let cut = cut.trim_end_matches([',', ';', ':', '.']).to_string();
    if cut.is_empty() {
        String::new()
    } else {
        format!("{cut}…")
    }
}

/// A family with its functions, in manifest order, for the templates.
#[derive(serde::Serialize)]
struct FamilyView<'a> {
    name: &'a str,
    title: &'a str,
    summary: &'a str,
    functions: Vec<&'a Function>,
}

/// The provider's families in display order, each with its functions. A function whose group no
/// family declares (which validation prevents) would get a family of its own at the end.
fn family_views(provider: &Provider) -> Vec<FamilyView<'_>> {
    let mut views: Vec<FamilyView<'_>> = provider
        .families
        .iter()
        .map(|f| FamilyView {
            name: &f.name,
            title: &f.title,
            summary: &f.summary,
            functions: Vec::new(),
        })
        .collect();
    for function in &provider.functions {
        match views.iter_mut().find(|v| v.name == function.group) {
            Some(view) => view.functions.push(function),
            None => views.push(FamilyView {
                name: &function.group,
                title: &function.group,
                summary: "",
                functions: vec![function],
            }),
        }
    }
    views.retain(|v| !v.functions.is_empty());
    views
}

/// What the per-function filters print, computed once per function: a filter that parsed its
/// argument back into a function on every call was a third of docs generation.
struct Derived {
    param_table: String,
    short_signature: String,
    lua_sample: String,
    json_sample: String,
    flag_sample: String,
}

type DerivedByName = Arc<BTreeMap<String, Derived>>;

fn derive(provider: &Provider) -> DerivedByName {
    Arc::new(
        provider
            .functions
            .iter()
            .map(|f| {
                let derived = Derived {
                    param_table: param_table(&f.params),
                    short_signature: short_signature(f),
                    lua_sample: lua_sample(&f.params),
                    json_sample: json_sample(&f.params),
                    flag_sample: flag_sample(&f.params),
                };
                (f.name.clone(), derived)
            })
            .collect(),
    )
}

/// A per-function filter: the template passes a function; the text comes from `derived`.
fn function_filter(
    derived: &DerivedByName,
    pick: fn(&Derived) -> &String,
) -> impl Fn(minijinja::Value) -> Result<String, minijinja::Error> + Send + Sync + 'static {
    let derived = derived.clone();
    move |function: minijinja::Value| {
        let name = function.get_attr("name")?;
        name.as_str()
            .and_then(|name| derived.get(name))
            .map(|d| pick(d).clone())
            .ok_or_else(|| {
                minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    format!("not a function of this provider: {name}"),
                )
            })
    }
}

/// The one place templates and filters are registered. Undefined variables are errors, so a
/// typo in a template fails generation instead of printing nothing.
fn environment(derived: &DerivedByName) -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()?,
    );
    env.add_template("namespace.md", NAMESPACE)?;
    env.add_template("function.md", FUNCTION)?;
    env.add_template("provider.md", PROVIDER)?;
    env.add_template("integration.md", INTEGRATION)?;
    env.add_template("family.md", FAMILY)?;
    env.add_template("guide.md", GUIDE)?;
    env.add_filter("md_cell", md_cell);
    env.add_filter("one_line", one_line);
    env.add_filter("brief", brief);
    env.add_filter("shell", shell_in_single_quotes);
    env.add_filter("first_sentence", first_sentence);
    env.add_filter("after_first_sentence", after_first_sentence);
    env.add_filter("demote_headings", demote_headings);
    env.add_filter("promote_headings", promote_headings);
    env.add_filter("anchor", |name: String| name.to_lowercase());
    env.add_filter("yes_no", |b: bool| if b { "yes" } else { "no" });
    env.add_filter("pad", |s: String, width: usize| format!("{s:<width$}"));
    env.add_filter("param_table", function_filter(derived, |d| &d.param_table));
    env.add_filter(
        "short_signature",
        function_filter(derived, |d| &d.short_signature),
    );
    env.add_filter("lua_sample", function_filter(derived, |d| &d.lua_sample));
    env.add_filter("json_sample", function_filter(derived, |d| &d.json_sample));
    env.add_filter("flag_sample", function_filter(derived, |d| &d.flag_sample));
    Ok(env)
}

pub(crate) fn emit_docs(provider: &Provider) -> Result<Vec<GeneratedFile>, crate::Error> {
    let fail = |e: minijinja::Error| crate::Error::Emit(format!("docs template: {e:#}"));
    let env = environment(&derive(provider)).map_err(fail)?;
    let header = super::header_comment("", &provider.manifest_path)
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    let dir = format!("generated/docs/{}", provider.name);
    let render = |template: &str, ctx: minijinja::Value| -> Result<String, crate::Error> {
        let text = env
            .get_template(template)
            .and_then(|t| t.render(ctx))
            .map_err(fail)?;
        Ok(tidy(&text))
    };

    let families = family_views(provider);
    let width = provider
        .functions
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(0);
    // The README's "try it" call: the first read function that needs no arguments, else the
    // first read function (then any function) with sample values for its required parameters.
    let needs_nothing = |f: &&Function| f.params.iter().all(|p| !p.required);
    let first_read = provider
        .functions
        .iter()
        .filter(|f| f.operation == Operation::Read)
        .find(needs_nothing)
        .or_else(|| {
            provider
                .functions
                .iter()
                .find(|f| f.operation == Operation::Read)
        })
        .or(provider.functions.first());

    let mut files = Vec::new();
    let index = |summary_cap: Option<usize>| {
        render(
            "namespace.md",
            context! {
                p => Serde(provider),
                header => &header,
                families => Serde(&families),
                first_read => first_read.map(Serde),
                summary_cap => summary_cap,
            },
        )
    };
    files.push(GeneratedFile {
        path: format!("{dir}/namespace.md"),
        contents: fit_to_budget(index)?,
    });
    files.push(GeneratedFile {
        path: format!("{dir}/README.md"),
        contents: render(
            "provider.md",
            context! { p => Serde(provider), header => &header, width => width, first_read => first_read.map(Serde) },
        )?,
    });
    // The integration page: the reference page's shape, for people and KosmoKrator's site.
    if let Some(first_read) = first_read {
        let renamed: Vec<&Function> = provider
            .functions
            .iter()
            .filter(|f| f.slug != format!("{}_{}", provider.name, f.name))
            .collect();
        let reads = provider
            .functions
            .iter()
            .filter(|f| f.operation == Operation::Read)
            .count();
        files.push(GeneratedFile {
            path: format!("{dir}/integration.md"),
            contents: render(
                "integration.md",
                context! {
                    p => Serde(provider),
                    header => &header,
                    first_read => Serde(first_read),
                    renamed => Serde(renamed),
                    reads => reads,
                    writes => provider.functions.len() - reads,
                    families => Serde(&families),
                },
            )?,
        });
    }
    // Family and guide pages need only the provider's name, like function pages.
    let summary = context! { name => &provider.name };
    for family in &families {
        files.push(GeneratedFile {
            path: format!("{dir}/families/{}.md", family.name),
            contents: render(
                "family.md",
                context! { p => &summary, fam => Serde(family), header => &header },
            )?,
        });
    }
    for guide in &provider.guides {
        files.push(GeneratedFile {
            path: format!("{dir}/guides/{}.md", guide.name),
            contents: render(
                "guide.md",
                context! { p => &summary, g => Serde(guide), header => &header },
            )?,
        });
    }
    // A function page needs only the provider's name and its family's; passing the whole
    // provider would make rendering quadratic in the number of functions.
    // The pages are rendered on every core, in contiguous chunks, beside the catalog.
    let page = |function: &Function| -> Result<GeneratedFile, crate::Error> {
        let family = families
            .iter()
            .find(|f| f.name == function.group)
            .map_or_else(
                || context! { name => &function.group, title => &function.group },
                |f| context! { name => f.name, title => f.title },
            );
        Ok(GeneratedFile {
            path: format!("{dir}/functions/{}.md", function.name),
            contents: render(
                "function.md",
                context! { p => &summary, f => Serde(function), fam => family, header => &header },
            )?,
        })
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, provider.functions.len().max(1));
    let chunk = provider.functions.len().div_ceil(threads).max(1);
    let (pages, catalog) = std::thread::scope(|scope| {
        let workers: Vec<_> = provider
            .functions
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(page).collect::<Result<Vec<_>, _>>()))
            .collect();
        let catalog = catalog(provider, &header);
        let pages: Vec<Result<Vec<GeneratedFile>, crate::Error>> = workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(crate::Error::Emit("a docs thread panicked".into())))
            })
            .collect();
        (pages, catalog)
    });
    for part in pages {
        files.extend(part?);
    }
    files.push(GeneratedFile {
        path: format!("{dir}/catalog.json"),
        contents: catalog,
    });
    Ok(files)
}

/// Trailing spaces removed, runs of blank lines collapsed, exactly one final newline.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    let mut in_code = false;
    for line in text.lines() {
        let line = line.trim_end();
        if line.starts_with("```") {
            in_code = !in_code;
        }
        if line.is_empty() && !in_code {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    let trimmed = out.trim_end_matches('\n').trim_start_matches('\n');
    format!("{trimmed}\n")
}

fn md_cell(text: String) -> String {
    one_line(text).replace('|', "\\|")
}

/// Markdown headings one level deeper (outside code blocks), to nest a guide under a heading.
fn demote_headings(text: String) -> String {
    let mut in_code = false;
    text.lines()
        .map(|line| {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            if !in_code && line.starts_with('#') {
                format!("#{line}")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Up to the first period that ends a sentence, for headings.
fn first_sentence(text: String) -> String {
    let text = one_line(text);
    match text.find(". ") {
        Some(end) => text[..end].to_string(),
        None => text.trim_end_matches('.').to_string(),
    }
}

/// What follows the first sentence ([`first_sentence`]), empty when there is one sentence.
fn after_first_sentence(text: String) -> String {
    let text = one_line(text);
    match text.find(". ") {
        Some(end) => text[end + 2..].to_string(),
        None => String::new(),
    }
}

/// Headings of level three and deeper one level up (outside code blocks): a guide written to sit
/// under a `##` heading, as a page of its own under its `#` title.
fn promote_headings(text: String) -> String {
    let mut in_code = false;
    text.lines()
        .map(|line| {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            match line.strip_prefix('#') {
                Some(rest) if !in_code && rest.starts_with("##") => rest.to_string(),
                _ => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The call shape of the namespace index: `get_user({user_id})`, `list_users({…})`,
/// `update_user({user_id, …})`, `health_check({})`. Required parameters by name, in order; `…`
/// when there are optional ones, whose names are on the function's page.
fn short_signature(f: &Function) -> String {
    let mut parts: Vec<&str> = f
        .params
        .iter()
        .filter(|p| p.required)
        .map(|p| p.name.as_str())
        .collect();
    if f.params.iter().any(|p| !p.required) {
        parts.push("…");
    }
    format!("{}({{{}}})", f.name, parts.join(", "))
}

/// Text to put between single quotes in a shell command: each `'` becomes `'\''`.
fn shell_in_single_quotes(text: String) -> String {
    text.replace('\'', "'\\''")
}

fn one_line(text: String) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("`{s:?}`"),
        other => format!("`{other}`"),
    }
}

/// The full parameter table, or a sentence when the function truly takes none.
fn param_table(params: &[Param]) -> String {
    if params.is_empty() {
        return "Takes no parameters.".to_string();
    }
    let mut out = String::from(
        "| Parameter | Type | Required | Default | Description |\n|---|---|---|---|---|\n",
    );
    for p in params {
        let default = p.default.as_ref().map(show).unwrap_or_default();
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} |\n",
            p.name,
            p.ty,
            if p.required { "yes" } else { "no" },
            default,
            md_cell(notes(p))
        ));
    }
    out.trim_end().to_string()
}

/// The description followed by every constraint a caller must respect.
fn notes(p: &Param) -> String {
    let mut notes = vec![p.description.trim().to_string()];
    match (p.minimum, p.maximum) {
        (Some(min), Some(max)) => notes.push(format!("Range {}–{}.", number(min), number(max))),
        (Some(min), None) => notes.push(format!("At least {}.", number(min))),
        (None, Some(max)) => notes.push(format!("At most {}.", number(max))),
        (None, None) => {}
    }
    if let Some(max) = p.max_items {
        notes.push(format!("At most {max} items."));
    }
    if !p.allowed.is_empty() {
        let values: Vec<String> = p.allowed.iter().map(show).collect();
        notes.push(format!("One of: {}.", values.join(", ")));
    }
    if !p.aliases.is_empty() {
        let aliases: Vec<String> = p.aliases.iter().map(|a| format!("`{a}`")).collect();
        notes.push(format!("Alias: {}.", aliases.join(", ")));
    }
    notes.push(if p.spread {
        format!(
            "Its keys are merged into the {} (declared parameters win).",
            p.location
        )
    } else {
        format!("Sent in the {}.", p.location)
    });
    notes.join(" ")
}

/// Required parameters with their example values (a placeholder where there is none).
fn sample_args(params: &[Param]) -> Vec<(&str, Value)> {
    params
        .iter()
        .filter(|p| p.required)
        .map(|p| {
            let value = p
                .example
                .clone()
                .unwrap_or_else(|| Value::String(format!("<{}>", p.name)));
            (p.name.as_str(), value)
        })
        .collect()
}

fn lua_literal(value: &Value) -> String {
    match value {
        Value::Null => "nil".to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(lua_literal).collect();
            format!("{{ {} }}", items.join(", "))
        }
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{} = {}", lua_key(k), lua_literal(v)))
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
        other => other.to_string(),
    }
}

/// A table key: bare when it is a Lua identifier, else `["key"]`.
fn lua_key(key: &str) -> String {
    if crate::identifiers::is_lua_identifier(key) {
        key.to_string()
    } else {
        format!("[{key:?}]")
    }
}

fn lua_sample(params: &[Param]) -> String {
    let args = sample_args(params);
    if args.is_empty() {
        return "{}".to_string();
    }
    let fields: Vec<String> = args
        .iter()
        .map(|(k, v)| format!("{k} = {}", lua_literal(v)))
        .collect();
    format!("{{ {} }}", fields.join(", "))
}

fn json_sample(params: &[Param]) -> String {
    let map: Map<String, Value> = sample_args(params)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    Value::Object(map).to_string()
}

fn flag_sample(params: &[Param]) -> String {
    sample_args(params)
        .iter()
        .map(|(k, v)| {
            let flag = k.replace('_', "-");
            // A string flag carries the text itself; anything else its JSON.
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.@:/+".contains(c))
            {
                format!(" --{flag}={text}")
            } else {
                format!(" --{flag}='{}'", shell_in_single_quotes(text))
            }
        })
        .collect()
}

/// KosmoKrator's catalog entry, so its site renders from the same manifest as the runtime.
fn catalog(provider: &Provider, header: &str) -> String {
    // Each entry is built and written in turn: the whole catalog as one JSON value was the
    // largest allocation of a big generation.
    struct Entries<'a>(&'a Provider);
    impl serde::Serialize for Entries<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(self.0.functions.iter().map(|f| catalog_function(self.0, f)))
        }
    }
    #[derive(serde::Serialize)]
    struct Catalog<'a> {
        #[serde(rename = "_generated")]
        generated: &'a str,
        provider: Value,
        families: Vec<Value>,
        functions: Entries<'a>,
    }
    let families = family_views(provider)
        .iter()
        .map(|f| {
            json!({
                "name": f.name,
                "title": f.title,
                "summary": f.summary,
                "functions": f.functions.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
                // Relative to the doc site's root, like each function's `docs_url`.
                "docs_url": format!("{}/families/{}.html", provider.name, f.name),
                // The page `docs.read` and `kosmo integrations:docs` show.
                "docs_page": format!("{}.family.{}", provider.name, f.name),
            })
        })
        .collect();
    let catalog = Catalog {
        generated: header,
        provider: json!({
            "name": provider.name,
            "label": provider.label,
            "description": provider.description,
            "category": provider.category,
            "docs_url": provider.docs_url,
            "base_url": provider.base_url,
        }),
        families,
        functions: Entries(provider),
    };
    let mut text = serde_json::to_string_pretty(&catalog).unwrap_or_default();
    text.push('\n');
    text
}

fn catalog_function(provider: &Provider, f: &Function) -> Value {
    let parameters: Vec<Value> = f
        .params
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "wire_name": p.wire_name,
                "in": p.location,
                "type": p.ty,
                "required": p.required,
                "default": p.default,
                "minimum": p.minimum.map(number),
                "maximum": p.maximum.map(number),
                "max_items": p.max_items,
                "enum": p.allowed,
                "aliases": p.aliases,
                "description": p.description,
                "example": p.example,
            })
        })
        .collect();
    let examples: Vec<Value> = f
        .examples
        .iter()
        .map(|e| json!({ "title": e.title, "lua": e.lua }))
        .collect();
    json!({
        "slug": f.slug,
        "function_name": f.name,
        "lua_path": format!("app.integrations.{}.{}", provider.name, f.name),
        "name": f.title,
        "type": f.operation,
        "operation": f.operation,
        "destructive": f.destructive,
        "idempotent": f.idempotent,
        "group": f.group,
        "short_description": f.summary,
        "description": f.description,
        "http": { "method": f.method, "path": f.path },
        "parameters": parameters,
        "parameter_count": f.params.len(),
        "input_schema": f.input_schema(),
        "examples": examples,
        // Relative to the doc site's root (`cargo xtask site`), where the function has its page.
        "docs_url": format!("{}/functions/{}.html", provider.name, f.name),
        "docs_page": format!("{}.{}", provider.name, f.name),
        "api_docs_url": provider.docs_url,
    })
}
