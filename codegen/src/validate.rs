//! The rules a manifest must pass before anything is generated. Each rule reports at the YAML node
//! it is about; every rule has a test with a small bad manifest in `codegen/tests/validation.rs`.

use std::collections::BTreeMap;

use serde_json::Value;
use serde_saphyr::Location;

use crate::diagnostics::{Diagnostic, Reporter};
use crate::doc_examples::{Callables, ParamSig, check_examples, check_lua};
use crate::identifiers::is_lua_identifier;
use crate::manifest::{
    BodyFormat, FunctionSpec, Manifest, Method, Operation, PaginationSpec, ParamLocation,
    ParamSpec, ParamType, RateLimitSpec, ScalarType,
};
use crate::model::{TemplatePart, parse_route, parse_template, parse_window};

/// Checks `manifest`, whose files' texts are `sources` (indexed like `manifest.sources`), reporting its own problems to `reporter` and
/// returning those found in guide files. `guides` maps each guide's path, as written in the
/// manifest, to its full path and markdown, for those that exist.
pub(crate) fn validate(
    reporter: &mut Reporter<'_>,
    sources: &[&str],
    manifest: &Manifest,
    guides: &BTreeMap<String, (String, String)>,
) -> Vec<Diagnostic> {
    let provider = &manifest.provider;
    if !is_lua_identifier(&provider.name.value) {
        reporter.on(
            &provider.name,
            format!(
                "provider name `{}` is not a valid identifier (letters, digits and `_`, not starting with a digit, not a Lua keyword)",
                provider.name.value
            ),
        );
    }
    if provider
        .credentials
        .get(&provider.auth.credential.value)
        .is_none()
    {
        reporter.on(
            &provider.auth.credential,
            format!(
                "auth credential `{}` is not one of the declared credentials",
                provider.auth.credential.value
            ),
        );
    }
    if let Some(errors) = &provider.errors {
        let lists = [
            &errors.message,
            &errors.code,
            &errors.long_message,
            &errors.meta,
            &errors.trace_id,
        ];
        for pointer in lists.into_iter().flatten() {
            if !pointer.value.starts_with('/') {
                reporter.on(
                    pointer,
                    format!(
                        "`{}` is not a JSON Pointer into the error body; write it like `/errors/0/message`",
                        pointer.value
                    ),
                );
            }
        }
    }
    if let Some(limits) = &provider.rate_limits {
        check_rate_limits(reporter, manifest, limits);
    }
    check_families(reporter, manifest);
    check_exclusions(reporter, manifest);
    check_function_names(reporter, manifest);
    for function in &manifest.functions {
        reporter.in_file(function.source);
        for name in std::iter::once(&function.name).chain(function.aliases.iter()) {
            if name.value == RESERVED_ITERATOR_TABLE {
                reporter.on(
                    name,
                    format!(
                        "`{RESERVED_ITERATOR_TABLE}` is reserved: scripts walk pages with `{RESERVED_ITERATOR_TABLE}.<function>`"
                    ),
                );
            }
        }
        check_function(reporter, function);
        if let Some(pagination) = &function.pagination {
            check_pagination(reporter, manifest, function, pagination);
        }
    }
    reporter.in_file(0);

    // Examples may call any function by any of its names.
    let mut callables = Callables::new();
    for f in &manifest.functions {
        let names = std::iter::once(&f.name)
            .chain(std::iter::once(&f.slug))
            .chain(f.aliases.iter());
        let params = || -> Vec<ParamSig<'_>> {
            f.params
                .0
                .iter()
                .map(|(name, p)| ParamSig {
                    name: &name.value,
                    aliases: p.aliases.iter().map(|a| a.value.as_str()).collect(),
                    required: p.required,
                })
                .collect()
        };
        for name in names {
            if f.pagination.is_some() {
                callables.insert(format!("each.{}", name.value).into(), params());
            }
            callables.insert(name.value.as_str().into(), params());
        }
    }
    let namespace = provider.name.value.as_str();
    // Indexed once: looking lines up per example would make validation quadratic in file size.
    let lines: Vec<Vec<&str>> = sources.iter().map(|s| s.lines().collect()).collect();
    for f in &manifest.functions {
        reporter.in_file(f.source);
        let lines = lines.get(f.source).map_or(&[][..], Vec::as_slice);
        if f.examples.is_empty() {
            reporter.on(
                &f.name,
                format!(
                    "function `{}` has no examples; add at least one",
                    f.name.value
                ),
            );
        }
        for example in &f.examples {
            let (line, column) = block_start(lines, example.lua.referenced);
            check_lua(
                reporter,
                &callables,
                namespace,
                &example.lua.value,
                line,
                column,
            );
        }
    }
    reporter.in_file(0);

    // Guides are separate files: their problems are reported against them.
    let namespaces = [(namespace, callables)];
    let mut guide_reports = Vec::new();
    let mut guide_names: BTreeMap<&str, Location> = BTreeMap::new();
    for guide in &manifest.guides {
        check_guide(reporter, guide, &mut guide_names);
        match guides.get(&guide.file.value) {
            None => reporter.on(
                &guide.file,
                format!(
                    "guide file `{}` does not exist beside the manifest",
                    guide.file.value
                ),
            ),
            Some((full_path, markdown)) => {
                let mut guide_reporter = Reporter::new(full_path);
                check_examples(&mut guide_reporter, &namespaces, markdown);
                if let Err(found) = guide_reporter.finish() {
                    guide_reports.extend(found.0);
                }
            }
        }
    }
    guide_reports
}

/// Most characters of a function's or family's summary: one line of the namespace index, which
/// must hold every function within its budget (see `spec/README.md`).
pub const MAX_SUMMARY_CHARS: usize = 80;

/// Most characters of a guide's `essentials`, shown in the namespace index.
pub const MAX_ESSENTIALS_CHARS: usize = 300;

/// A summary is one line of at most [`MAX_SUMMARY_CHARS`] characters; `None` when it is.
fn summary_problem(what: &str, summary: &str) -> Option<String> {
    let summary = summary.trim();
    let chars = summary.chars().count();
    let lines = summary.lines().count();
    if lines > 1 || chars > MAX_SUMMARY_CHARS {
        Some(format!(
            "the summary of {what} must be one line of at most {MAX_SUMMARY_CHARS} characters (it is {chars} characters{}); the namespace index shows it for every function, the description holds the rest",
            if lines > 1 {
                format!(" on {lines} lines")
            } else {
                String::new()
            }
        ))
    } else {
        None
    }
}

/// A guide's file names its page, so the name is a plain word used once; its essentials are
/// short prose for the namespace index.
fn check_guide<'m>(
    reporter: &mut Reporter<'_>,
    guide: &'m crate::manifest::GuideSpec,
    names: &mut BTreeMap<&'m str, Location>,
) {
    let file = &guide.file.value;
    let name = crate::model::guide_name(file);
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !file.ends_with(".md") || !plain {
        reporter.on(
            &guide.file,
            format!(
                "guide file `{file}` must be a `.md` file named with ASCII letters, digits, `-` and `_`: its name is the page `<provider>.guide.<name>`"
            ),
        );
    } else if let Some(first) = names.insert(name, guide.file.referenced) {
        reporter.on(
            &guide.file,
            format!(
                "guide `{file}` has the same page name, `{name}`, as the guide at line {}; rename one file",
                first.line()
            ),
        );
    }
    if let Some(essentials) = &guide.essentials {
        let chars = essentials.value.trim().chars().count();
        if essentials.value.contains("```") || chars > MAX_ESSENTIALS_CHARS {
            reporter.on(
                essentials,
                format!(
                    "the essentials of guide `{file}` must be prose of at most {MAX_ESSENTIALS_CHARS} characters without code blocks (they are {chars} characters); the guide's page holds the rest"
                ),
            );
        }
    }
}

/// The table of paging iterators in every provider namespace (`app.integrations.<p>.each`).
pub const RESERVED_ITERATOR_TABLE: &str = "each";

/// Tiers, windows and routes of the limits calls are paced under.
fn check_rate_limits(reporter: &mut Reporter<'_>, manifest: &Manifest, limits: &RateLimitSpec) {
    let provider = &manifest.provider;
    if let Some(instance) = &limits.instance {
        if provider
            .credentials
            .get(&instance.credential.value)
            .is_none()
        {
            reporter.on(
                &instance.credential,
                format!(
                    "rate limit credential `{}` is not one of the declared credentials",
                    instance.credential.value
                ),
            );
        }
        if instance.tiers.is_empty() {
            reporter.on(
                &instance.credential,
                "the instance limit needs at least one tier",
            );
        }
        let mut names: BTreeMap<&str, Location> = BTreeMap::new();
        for tier in &instance.tiers {
            let name = &tier.name.value;
            let simple = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
            if !simple {
                reporter.on(
                    &tier.name,
                    format!("tier name `{name}` must be lower-case letters, digits, `_` or `-`"),
                );
            }
            if let Some(first) = names.insert(name, tier.name.referenced) {
                reporter.on(
                    &tier.name,
                    format!("duplicate tier `{name}` (first at line {})", first.line()),
                );
            }
            check_window(reporter, &tier.per, tier.requests);
        }
        for route in &instance.exempt {
            if let Err(reason) = parse_route(&route.value) {
                reporter.on(route, reason);
            }
        }
    }
    let mut names: BTreeMap<&str, ()> = BTreeMap::new();
    for endpoint in &limits.endpoints {
        if names.insert(&endpoint.name, ()).is_some() || endpoint.name.trim().is_empty() {
            reporter.on(
                &endpoint.per,
                format!(
                    "endpoint limit name `{}` is empty or used twice",
                    endpoint.name
                ),
            );
        }
        check_window(reporter, &endpoint.per, endpoint.requests);
        if endpoint.routes.is_empty() {
            reporter.on(
                &endpoint.per,
                format!("endpoint limit `{}` has no routes", endpoint.name),
            );
        }
        for route in &endpoint.routes {
            match parse_route(&route.value) {
                Err(reason) => reporter.on(route, reason),
                Ok(parsed) if endpoint.per_resource && !parsed.path.contains('{') => reporter.on(
                    route,
                    format!(
                        "`{}` is limited per resource but has no `{{placeholder}}` to tell resources apart",
                        route.value
                    ),
                ),
                Ok(_) => {}
            }
        }
    }
}

fn check_window(reporter: &mut Reporter<'_>, per: &serde_saphyr::Spanned<String>, requests: u32) {
    if let Err(reason) = parse_window(&per.value) {
        reporter.on(per, reason);
    }
    if requests == 0 {
        reporter.on(per, "a limit must allow at least 1 request");
    }
}

/// The paging parameters exist and fit, and the total comes from somewhere real.
fn check_pagination(
    reporter: &mut Reporter<'_>,
    manifest: &Manifest,
    f: &FunctionSpec,
    pagination: &PaginationSpec,
) {
    let fname = &f.name.value;
    if f.operation.value != Operation::Read {
        reporter.on(
            &pagination.page_size,
            format!("`{fname}` pages but is not a read; only reads can be walked"),
        );
    }
    // `number` too: some providers type their counts so; a walk sends whole
    // numbers, and the walker refuses a caller's limit or offset that is not one.
    let integer_param = |name: &str| {
        f.params.get(name).filter(|p| {
            p.location.value == ParamLocation::Query
                && matches!(
                    p.ty.value,
                    ParamType::Scalar(ScalarType::Integer | ScalarType::Number)
                )
        })
    };
    let mut limit_param = None;
    for (role, declared) in [("limit", &pagination.limit), ("offset", &pagination.offset)] {
        let name = declared.as_ref().map_or(role, |d| d.value.as_str());
        let found = integer_param(name);
        if found.is_none() {
            let message = format!(
                "`{fname}` pages with `{name}`, which is not one of its integer or number query parameters"
            );
            match declared {
                Some(d) => reporter.on(d, message),
                None => reporter.on(&pagination.page_size, message),
            }
        }
        if role == "limit" {
            limit_param = found;
        }
    }
    let size = &pagination.page_size;
    if size.value == 0 {
        reporter.on(size, "page_size must be at least 1");
    }
    if let Some(max) = limit_param.and_then(|p| p.maximum.as_ref())
        && size.value as f64 > max.value
    {
        reporter.on(
            size,
            format!(
                "page_size {} of `{fname}` is above its limit's maximum {}",
                size.value, max.value
            ),
        );
    }
    if let Some(items) = &pagination.items
        && !items.value.is_empty()
        && !items.value.starts_with('/')
    {
        reporter.on(
            items,
            format!(
                "`{}` is not a JSON Pointer; write `/data`, or leave `items` out for a bare array",
                items.value
            ),
        );
    }
    for (key, value) in pagination.with.iter() {
        match f.params.get(&key.value) {
            None => reporter.on(
                key,
                format!("`with` sets `{}`, which `{fname}` does not take", key.value),
            ),
            Some(_) if !is_scalar(value) => reporter.on(
                key,
                format!(
                    "`with` value of `{}` must be a string, number or boolean",
                    key.value
                ),
            ),
            Some(p) => {
                if let Some(problem) = value_problem(p.ty.value, value, p) {
                    reporter.on(key, format!("`with` value of `{}` {problem}", key.value));
                }
            }
        }
    }
    let Some(total) = &pagination.total else {
        return;
    };
    if !total.pointer.value.starts_with('/') {
        reporter.on(
            &total.pointer,
            format!("`{}` is not a JSON Pointer", total.pointer.value),
        );
    }
    let Some(counter) = &total.function else {
        return;
    };
    let Some(count) = manifest
        .functions
        .iter()
        .find(|g| g.name.value == counter.value)
    else {
        reporter.on(
            counter,
            format!(
                "total function `{}` is not a function of this manifest",
                counter.value
            ),
        );
        return;
    };
    if count.operation.value != Operation::Read || count.name.value == *fname {
        reporter.on(
            counter,
            format!(
                "total function `{}` must be another function, and a read",
                counter.value
            ),
        );
    }
    for (name, p) in count.params.iter() {
        if p.required && f.params.get(&name.value).is_none() {
            reporter.on(
                counter,
                format!(
                    "total function `{}` requires `{}`, which `{fname}` does not take",
                    counter.value, name.value
                ),
            );
        }
    }
}

/// Names, slugs and aliases share one namespace: each may be used once across all functions.
fn check_function_names(reporter: &mut Reporter<'_>, manifest: &Manifest) {
    let mut seen: BTreeMap<&str, (&str, &str, Location, usize)> = BTreeMap::new();
    for f in &manifest.functions {
        reporter.in_file(f.source);
        let named = std::iter::once(("name", &f.name))
            .chain(std::iter::once(("slug", &f.slug)))
            .chain(f.aliases.iter().map(|a| ("alias", a)));
        for (kind, name) in named {
            if !is_lua_identifier(&name.value) {
                reporter.on(
                    name,
                    format!(
                        "function {kind} `{}` is not a valid identifier (letters, digits and `_`, not starting with a digit, not a Lua keyword)",
                        name.value
                    ),
                );
            }
            match seen.get(name.value.as_str()) {
                Some((first_kind, owner, at, source)) => {
                    let place = manifest
                        .sources
                        .get(*source)
                        .filter(|_| *source != f.source)
                        .map_or_else(String::new, |s| format!(" of {}", s.path));
                    reporter.on(
                        name,
                        format!(
                            "duplicate function name `{}`: already used as the {first_kind} of `{owner}` at line {}{place}",
                            name.value,
                            at.line()
                        ),
                    )
                }
                None => {
                    seen.insert(
                        &name.value,
                        (kind, &f.name.value, name.referenced, f.source),
                    );
                }
            }
        }
    }
    reporter.in_file(0);
}

/// Each excluded operation is named once, with a reason.
fn check_exclusions(reporter: &mut Reporter<'_>, manifest: &Manifest) {
    let mut seen: BTreeMap<&str, Location> = BTreeMap::new();
    for excluded in manifest.excluded_operations.iter().flatten() {
        let operation = &excluded.operation;
        if let Some(first) = seen.insert(&operation.value, operation.referenced) {
            reporter.on(
                operation,
                format!(
                    "operation `{}` is already excluded at line {}",
                    operation.value,
                    first.line()
                ),
            );
        }
        if excluded.reason.trim().is_empty() {
            reporter.on(
                operation,
                format!("say why `{}` is excluded in `reason`", operation.value),
            );
        }
    }
}

/// Families have identifier names used once; every function belongs to exactly one declared
/// family (its file's, or the one its `group` names), and every family has functions.
fn check_families(reporter: &mut Reporter<'_>, manifest: &Manifest) {
    let mut declared: BTreeMap<&str, Location> = BTreeMap::new();
    for family in &manifest.families {
        let name = &family.name;
        if !is_lua_identifier(&name.value) {
            reporter.on(
                name,
                format!(
                    "family name `{}` is not a valid identifier (letters, digits and `_`, not starting with a digit, not a Lua keyword)",
                    name.value
                ),
            );
        }
        if let Some(first) = declared.insert(&name.value, name.referenced) {
            reporter.on(
                name,
                format!(
                    "duplicate family `{}`: already declared at line {}",
                    name.value,
                    first.line()
                ),
            );
        }
        if let Some(problem) = summary_problem(&format!("family `{}`", name.value), &family.summary)
        {
            reporter.on(name, problem);
        }
    }
    let mut used: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &manifest.functions {
        reporter.in_file(f.source);
        let from_file = manifest
            .sources
            .get(f.source)
            .and_then(|s| s.family.as_deref());
        match (&f.group, from_file) {
            (Some(group), Some(family)) => reporter.on(
                group,
                format!(
                    "`group` is implied in a family file: `{}` belongs to `{family}`; remove `group`",
                    f.name.value
                ),
            ),
            (None, None) => reporter.on(
                &f.name,
                format!(
                    "function `{}` has no `group`: name the family it belongs to",
                    f.name.value
                ),
            ),
            (Some(group), None) => {
                if !manifest.families.is_empty() && !declared.contains_key(group.value.as_str()) {
                    reporter.on(
                        group,
                        format!(
                            "group `{}` is not a declared family ({})",
                            group.value,
                            declared.keys().copied().collect::<Vec<_>>().join(", ")
                        ),
                    );
                }
            }
            (None, Some(_)) => {}
        }
        if let Some(family) = manifest.family_of(f) {
            *used.entry(family).or_default() += 1;
        }
    }
    reporter.in_file(0);
    for family in &manifest.families {
        if !used.contains_key(family.name.value.as_str()) {
            reporter.on(
                &family.name,
                format!(
                    "family `{}` has no functions; give it some or remove it",
                    family.name.value
                ),
            );
        }
    }
}

fn check_function(reporter: &mut Reporter<'_>, f: &FunctionSpec) {
    let fname = &f.name.value;
    let method = f.http.method.value;
    if let Some(problem) = summary_problem(&format!("`{fname}`"), &f.summary) {
        reporter.on(&f.name, problem);
    }

    let expected = if method == Method::Get {
        Operation::Read
    } else {
        Operation::Write
    };
    if f.operation.value != expected && f.operation_override.is_none() {
        let (op, verb) = match f.operation.value {
            Operation::Read => ("read", "changes nothing"),
            Operation::Write => ("write", "changes something"),
        };
        reporter.on(
            &f.operation,
            format!(
                "`{fname}` is declared `{op}` but uses {}; if it really {verb}, say why in `operation_override`",
                method
            ),
        );
    }

    let body = f.http.body_format();
    if let Some(declared) = &f.http.body
        && declared.value != BodyFormat::Json
        && method == Method::Get
    {
        reporter.on(
            declared,
            format!(
                "`{fname}` declares a {} body, but GET sends no body",
                declared.value
            ),
        );
    }
    if let Some(declared) = &f.http.body
        && declared.value == BodyFormat::JsonArray
    {
        check_json_array_body(reporter, fname, declared, f);
    }

    // Parameter names and aliases share the function's argument namespace.
    let mut arg_names: BTreeMap<&str, Location> = BTreeMap::new();
    let mut wire_names: BTreeMap<(u8, &str), Location> = BTreeMap::new();
    let mut spreads: BTreeMap<u8, Location> = BTreeMap::new();
    for (name, p) in f.params.iter() {
        for n in std::iter::once(name).chain(p.aliases.iter()) {
            if !is_lua_identifier(&n.value) {
                reporter.on(
                    n,
                    format!(
                        "parameter name `{}` of `{fname}` is not a valid identifier (letters, digits and `_`, not starting with a digit, not a Lua keyword)",
                        n.value
                    ),
                );
            }
            if let Some(first) = arg_names.insert(&n.value, n.referenced) {
                reporter.on(
                    n,
                    format!(
                        "duplicate parameter name `{}` in `{fname}` (first used at line {})",
                        n.value,
                        first.line()
                    ),
                );
            }
        }
        let wire = p
            .wire_name
            .as_ref()
            .map_or(name.value.as_str(), |w| w.value.as_str());
        let slot = p.location.value as u8;
        if !p.spread
            && let Some(first) = wire_names.insert((slot, wire), name.referenced)
        {
            reporter.on(
                name,
                format!(
                    "parameter `{}` of `{fname}` sends `{wire}` which line {} already sends",
                    name.value,
                    first.line()
                ),
            );
        }
        check_param(reporter, fname, method, body, &name.value, p);
        if p.spread && spreads.insert(slot, name.referenced).is_some() {
            reporter.on(
                name,
                format!("`{fname}` has more than one spread parameter in the same location"),
            );
        }
    }

    // Path template against path parameters.
    match parse_template(&f.http.path.value) {
        Err(reason) => reporter.on(&f.http.path, format!("{reason} of `{fname}`")),
        Ok(parts) => {
            let placeholders: Vec<&str> = parts
                .iter()
                .filter_map(|part| match part {
                    TemplatePart::Placeholder { name, .. } => Some(name.as_str()),
                    TemplatePart::Literal(_) => None,
                })
                .collect();
            for placeholder in &placeholders {
                let found = f.params.iter().any(|(name, p)| {
                    p.location.value == ParamLocation::Path
                        && p.wire_name.as_ref().map_or(&name.value, |w| &w.value) == placeholder
                });
                if !found {
                    reporter.on(
                        &f.http.path,
                        format!(
                            "path placeholder `{{{placeholder}}}` of `{fname}` has no path parameter; add one with `in: path` (or `wire_name: {placeholder}`)"
                        ),
                    );
                }
            }
            for (name, p) in f
                .params
                .iter()
                .filter(|(_, p)| p.location.value == ParamLocation::Path)
            {
                let wire = p.wire_name.as_ref().map_or(&name.value, |w| &w.value);
                if !placeholders.contains(&wire.as_str()) {
                    reporter.on(
                        &p.location,
                        format!(
                            "path parameter `{}` of `{fname}` has no `{{{wire}}}` placeholder in `{}`",
                            name.value, f.http.path.value
                        ),
                    );
                }
            }
        }
    }

    for (key, _) in f.http.query.iter() {
        let clash = f.params.iter().any(|(name, p)| {
            p.location.value == ParamLocation::Query
                && p.wire_name.as_ref().map_or(&name.value, |w| &w.value) == &key.value
        });
        if clash {
            reporter.on(
                key,
                format!(
                    "constant query `{}` of `{fname}` is also a query parameter",
                    key.value
                ),
            );
        }
    }
}

fn check_param(
    reporter: &mut Reporter<'_>,
    fname: &str,
    method: Method,
    body: BodyFormat,
    name: &str,
    p: &ParamSpec,
) {
    let ty = p.ty.value;
    let location = p.location.value;
    check_file_param(reporter, fname, body, name, p);
    if location == ParamLocation::Body && method == Method::Get {
        reporter.on(
            &p.location,
            format!("body parameter `{name}` of `{fname}` on a GET request; GET sends no body (use `in: query`)"),
        );
    }
    if location == ParamLocation::Path {
        if !p.required {
            reporter.on(
                &p.location,
                format!("path parameter `{name}` of `{fname}` must be `required: true`"),
            );
        }
        if ty != ParamType::Scalar(ScalarType::String)
            && ty != ParamType::Scalar(ScalarType::Integer)
        {
            reporter.on(
                &p.ty,
                format!(
                    "path parameter `{name}` of `{fname}` must be a string or integer, not {ty}"
                ),
            );
        }
    }
    if location == ParamLocation::Query
        && !p.spread
        && matches!(
            ty,
            ParamType::Scalar(ScalarType::Object) | ParamType::Array(ScalarType::Object)
        )
    {
        reporter.on(
            &p.ty,
            format!("query parameter `{name}` of `{fname}` cannot be {ty}; only a `spread: true` object can go in the query"),
        );
    }
    if p.spread && (ty != ParamType::Scalar(ScalarType::Object) || location == ParamLocation::Path)
    {
        reporter.on(
            &p.ty,
            format!("`spread` parameter `{name}` of `{fname}` must be an object in query or body"),
        );
    }
    if p.required
        && let Some(default) = &p.default
    {
        reporter.on(
            default,
            format!("required parameter `{name}` of `{fname}` has a default; a default only makes sense for an optional parameter"),
        );
    }
    let numeric = matches!(
        ty,
        ParamType::Scalar(ScalarType::Integer | ScalarType::Number)
            | ParamType::Array(ScalarType::Integer | ScalarType::Number)
    );
    for bound in [&p.minimum, &p.maximum].into_iter().flatten() {
        if !numeric {
            reporter.on(
                bound,
                format!(
                    "`minimum`/`maximum` on `{name}` of `{fname}`, which is {ty}, not a number"
                ),
            );
        }
    }
    if let (Some(min), Some(max)) = (&p.minimum, &p.maximum)
        && min.value > max.value
    {
        reporter.on(
            max,
            format!(
                "maximum {} of `{name}` in `{fname}` is below its minimum {}",
                max.value, min.value
            ),
        );
    }
    if let Some(max_items) = &p.max_items
        && !matches!(ty, ParamType::Array(_))
    {
        reporter.on(
            max_items,
            format!("`max_items` on `{name}` of `{fname}`, which is {ty}, not an array"),
        );
    }
    // Defaults and enum values are carried into the runtime metadata as scalar literals; an
    // object or array there could not be represented and would be silently dropped.
    if let Some(default) = &p.default
        && !is_scalar(&default.value)
    {
        reporter.on(
            default,
            format!("default of `{name}` in `{fname}` must be a string, number or boolean"),
        );
    }
    if let Some(allowed) = &p.allowed
        && allowed.value.iter().any(|v| !is_scalar(v))
    {
        reporter.on(
            allowed,
            format!("enum values of `{name}` in `{fname}` must be strings, numbers or booleans"),
        );
    }
    if let Some(allowed) = &p.allowed {
        if allowed.value.is_empty() {
            reporter.on(allowed, format!("`enum` of `{name}` in `{fname}` is empty"));
        }
        // A file's enum is refused on its own (`check_file_param`).
        let item = ty.scalar().unwrap_or(ScalarType::String);
        for value in allowed.value.iter().filter(|_| ty != ParamType::File) {
            if let Some(problem) = scalar_problem(item, value, p) {
                reporter.on(
                    allowed,
                    format!("enum value {value} of `{name}` in `{fname}` {problem}"),
                );
            }
        }
    }
    for (what, value) in [("default", &p.default), ("example", &p.example)] {
        if let Some(value) = value
            && let Some(problem) = value_problem(ty, &value.value, p)
        {
            reporter.on(
                value,
                format!("{what} {} of `{name}` in `{fname}` {problem}", value.value),
            );
        }
    }
}

/// A `json_array` body is one required array parameter, sent as the whole body.
fn check_json_array_body(
    reporter: &mut Reporter<'_>,
    fname: &str,
    declared: &serde_saphyr::Spanned<BodyFormat>,
    f: &FunctionSpec,
) {
    let body_params: Vec<(&str, &ParamSpec)> = f
        .params
        .iter()
        .filter(|(_, p)| p.location.value == ParamLocation::Body)
        .map(|(name, p)| (name.value.as_str(), p))
        .collect();
    let [(name, p)] = body_params[..] else {
        reporter.on(
            declared,
            format!(
                "`{fname}` declares a json_array body, which needs exactly one body parameter (the array), not {}",
                body_params.len()
            ),
        );
        return;
    };
    if !matches!(p.ty.value, ParamType::Array(_)) {
        reporter.on(
            &p.ty,
            format!("body parameter `{name}` of `{fname}` is the whole json_array body, so it must be an array, not {}", p.ty.value),
        );
    }
    if !p.required {
        reporter.on(
            &p.location,
            format!("body parameter `{name}` of `{fname}` is the whole json_array body, so it must be `required: true`"),
        );
    }
    if p.spread {
        reporter.on(
            &p.location,
            format!("body parameter `{name}` of `{fname}` is the whole json_array body; `spread` does not apply"),
        );
    }
}

/// Where a file parameter may be, what may bound it, and what a multipart body may carry.
fn check_file_param(
    reporter: &mut Reporter<'_>,
    fname: &str,
    body: BodyFormat,
    name: &str,
    p: &ParamSpec,
) {
    let ty = p.ty.value;
    let location = p.location.value;
    if ty == ParamType::File {
        // A file in the path is refused with the path's own rule.
        if location == ParamLocation::Query {
            reporter.on(
                &p.location,
                format!("file parameter `{name}` of `{fname}` must be `in: body`: a file is a part of a multipart body"),
            );
        } else if location == ParamLocation::Body && body != BodyFormat::Multipart {
            reporter.on(
                &p.ty,
                format!("file parameter `{name}` of `{fname}` needs `http.body: multipart`; a JSON body cannot carry a file"),
            );
        }
        if let Some(default) = &p.default {
            reporter.on(
                default,
                format!("file parameter `{name}` of `{fname}` cannot have a default"),
            );
        }
        if let Some(allowed) = &p.allowed {
            reporter.on(
                allowed,
                format!("file parameter `{name}` of `{fname}` cannot have an `enum`; use `content_types`"),
            );
        }
    } else {
        if let Some(types) = &p.content_types {
            reporter.on(
                types,
                format!("`content_types` on `{name}` of `{fname}`, which is {ty}, not a file"),
            );
        }
        if let Some(max) = &p.max_bytes {
            reporter.on(
                max,
                format!("`max_bytes` on `{name}` of `{fname}`, which is {ty}, not a file"),
            );
        }
    }
    if body == BodyFormat::Multipart && location == ParamLocation::Body && ty != ParamType::File {
        if p.spread {
            reporter.on(
                &p.ty,
                format!("`spread` parameter `{name}` of `{fname}` in a multipart body: each part needs a name of its own"),
            );
        } else if matches!(
            ty,
            ParamType::Scalar(ScalarType::Object) | ParamType::Array(_)
        ) {
            reporter.on(
                &p.ty,
                format!("body parameter `{name}` of `{fname}` is {ty}, but a multipart body sends text fields and files: use string, integer, number or boolean"),
            );
        }
    }
    if let Some(types) = &p.content_types {
        if types.value.is_empty() {
            reporter.on(
                types,
                format!("`content_types` of `{name}` in `{fname}` is empty; leave it out to accept any type"),
            );
        }
        for media_type in &types.value {
            if !is_media_type(media_type) {
                reporter.on(
                    types,
                    format!("`{media_type}` in `content_types` of `{name}` in `{fname}` is not a lower-case media type such as image/png"),
                );
            }
        }
    }
    if let Some(max) = &p.max_bytes
        && max.value == 0
    {
        reporter.on(
            max,
            format!("`max_bytes` of `{name}` in `{fname}` must be at least 1"),
        );
    }
    if let Some(explode) = &p.explode {
        let query_array =
            p.location.value == ParamLocation::Query && matches!(p.ty.value, ParamType::Array(_));
        if !query_array {
            reporter.on(
                explode,
                format!("`explode` of `{name}` in `{fname}` is only for query arrays (`in: query`, `type: array<…>`)"),
            );
        } else if explode.value {
            reporter.on(
                explode,
                format!("`explode: true` of `{name}` in `{fname}` is the default; remove it"),
            );
        }
    }
    if let Some(openapi) = &p.openapi_required
        && openapi.value == p.required
    {
        reporter.on(
            openapi,
            format!(
                "`openapi_required` of `{name}` in `{fname}` is the same as `required`; remove it"
            ),
        );
    }
}

/// `type/subtype`, lower case, without parameters.
fn is_media_type(text: &str) -> bool {
    let token = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "!#$&^_.+-".contains(c))
    };
    text.split_once('/')
        .is_some_and(|(kind, subtype)| token(kind) && token(subtype))
}

/// Why an example is not a file table that fits the parameter, if it is not.
fn file_problem(value: &Value, p: &ParamSpec) -> Option<String> {
    const KEYS: [&str; 4] = ["content", "content_base64", "filename", "content_type"];
    let Value::Object(map) = value else {
        return Some("is not a file table { content_base64, filename, content_type }".to_string());
    };
    if let Some(unknown) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Some(format!(
            "has an unknown field `{unknown}`; a file takes content or content_base64, filename and content_type"
        ));
    }
    if let Some((key, _)) = map.iter().find(|(_, v)| !v.is_string()) {
        return Some(format!("has `{key}` that is not a string"));
    }
    let text = |key: &str| map.get(key).and_then(Value::as_str);
    let size = match (text("content"), text("content_base64")) {
        (Some(_), Some(_)) | (None, None) => {
            return Some("must have exactly one of `content` and `content_base64`".to_string());
        }
        (Some(content), None) => content.len(),
        (None, Some(encoded)) => {
            use base64::Engine;
            let compact: String = encoded.split_ascii_whitespace().collect();
            match base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT.decode(compact) {
                Ok(bytes) => bytes.len(),
                Err(e) => return Some(format!("has `content_base64` that is not base64: {e}")),
            }
        }
    };
    if size == 0 {
        return Some("is empty".to_string());
    }
    if let Some(max) = &p.max_bytes
        && size as u64 > max.value
    {
        return Some(format!(
            "is {size} bytes, more than max_bytes {}",
            max.value
        ));
    }
    let allowed = p.content_types.as_ref().map(|t| &t.value);
    if let (Some(given), Some(allowed)) = (text("content_type"), allowed)
        && !allowed.iter().any(|a| a == given)
    {
        return Some(format!(
            "has content_type {given}, not one of content_types {}",
            allowed.join(", ")
        ));
    }
    None
}

fn is_scalar(value: &Value) -> bool {
    value.is_string() || value.is_number() || value.is_boolean()
}

/// Why `value` does not fit `ty` and the parameter's bounds and enum, if it does not.
fn value_problem(ty: ParamType, value: &Value, p: &ParamSpec) -> Option<String> {
    match ty {
        ParamType::Scalar(t) => scalar_problem(t, value, p).or_else(|| enum_problem(value, p)),
        ParamType::Array(t) => {
            let Value::Array(items) = value else {
                return Some(format!("is not an array of {}", t.as_str()));
            };
            if let Some(max) = &p.max_items
                && items.len() as u64 > max.value
            {
                return Some(format!(
                    "has {} items, more than max_items {}",
                    items.len(),
                    max.value
                ));
            }
            items
                .iter()
                .find_map(|item| scalar_problem(t, item, p).or_else(|| enum_problem(item, p)))
        }
        ParamType::File => file_problem(value, p),
    }
}

fn scalar_problem(t: ScalarType, value: &Value, p: &ParamSpec) -> Option<String> {
    let fits = match t {
        ScalarType::String => value.is_string(),
        ScalarType::Integer => value.is_i64() || value.is_u64(),
        ScalarType::Number => value.is_number(),
        ScalarType::Boolean => value.is_boolean(),
        ScalarType::Object => value.is_object(),
    };
    if !fits {
        return Some(format!("is not of type {}", t.as_str()));
    }
    let n = value.as_f64()?;
    if let Some(min) = &p.minimum
        && n < min.value
    {
        return Some(format!("is below the minimum {}", min.value));
    }
    if let Some(max) = &p.maximum
        && n > max.value
    {
        return Some(format!("is above the maximum {}", max.value));
    }
    None
}

fn enum_problem(value: &Value, p: &ParamSpec) -> Option<String> {
    let allowed = &p.allowed.as_ref()?.value;
    (!allowed.contains(value)).then(|| {
        let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
        format!("is not one of the enum values {}", list.join(", "))
    })
}

/// Where a scalar's content starts: a block scalar (`|`, `>`) starts on the next line, indented.
fn block_start(lines: &[&str], location: Location) -> (u64, u64) {
    let line = location.line();
    let Some(text) = lines.get(line.saturating_sub(1) as usize) else {
        return (line, location.column());
    };
    let from = (location.column().saturating_sub(1) as usize).min(text.len());
    let head = text.get(from..).unwrap_or("").trim();
    if head.starts_with('|') || head.starts_with('>') {
        let next = lines.get(line as usize).copied().unwrap_or("");
        let indent = next.len() - next.trim_start().len();
        (line + 1, indent as u64 + 1)
    } else {
        (
            line,
            location.column() + u64::from(head.starts_with(['"', '\''])),
        )
    }
}
