//! Conformance of a provider's manifest to the provider's own OpenAPI document: every function's
//! route exists, and every parameter exists in the same place with a compatible type and the same
//! requiredness, default, bounds and enum. The document is input, so nothing here panics on it.
//!
//! Reading the document (YAML or JSON text) and resolving its `$ref`s and `allOf`s is
//! [`Document`]'s job (`document.rs`), shared with tests that validate responses against the
//! same document. `import.rs` goes the other way: it drafts manifest entries from the document's
//! operations, reusing this check's reading of routes, parameters and bodies, so that what it
//! drafts conforms by construction.

mod document;
mod import;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

use crate::manifest::{BodyFormat, ParamLocation, ParamType, ScalarType};
use crate::model::{Function, Param, PathPart, Provider, TemplatePart, parse_template};
use document::is_null_schema;

pub use document::{Document, ParseError};
pub use import::{
    Existing, Family, FamilyTarget, ImportError, ManifestChange, NewFunction, Outcome, Request,
    UnknownName, Unsupported, append_to_family_file, family_target, import, new_family_file,
};

/// The outcome of a check: every disagreement, and what was compared.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub mismatches: Vec<Mismatch>,
    pub functions_checked: usize,
    pub params_checked: usize,
    /// Functions not compared, with the reason, e.g. `api_get (raw path)`.
    pub skipped: Vec<String>,
    /// How much of the document the manifest covers; `None` unless it declares
    /// `excluded_operations`.
    pub coverage: Option<Coverage>,
}

/// The document's operations, each covered by a function or excluded with a reason.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Coverage {
    /// Operations in the document.
    pub operations: usize,
    /// Operations at least one function calls.
    pub covered: usize,
    /// `(operationId, reason)` of the excluded operations found in the document.
    pub excluded: Vec<(String, String)>,
    /// `METHOD path (operationId)` of operations neither covered nor excluded.
    pub uncovered: Vec<String>,
    /// Exclusions that name no operation of the document, or one a function covers.
    pub stale_exclusions: Vec<String>,
}

impl Coverage {
    /// Nothing uncovered and no stale exclusion.
    pub fn is_complete(&self) -> bool {
        self.uncovered.is_empty() && self.stale_exclusions.is_empty()
    }
}

/// One disagreement between the manifest and the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub function: String,
    pub message: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.function, self.message)
    }
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Compares every function of `provider` with the OpenAPI `document`.
pub fn check(provider: &Provider, document: &Document) -> Report {
    let context = Context::new(provider, document);
    let mut report = Report::default();
    for function in &provider.functions {
        if is_raw_helper(function) {
            report.skipped.push(format!("{} (raw path)", function.name));
            continue;
        }
        report.functions_checked += 1;
        let mut found = Vec::new();
        context.check_function(function, &mut found, &mut report.params_checked);
        report
            .mismatches
            .extend(found.into_iter().map(|message| Mismatch {
                function: function.name.clone(),
                message,
            }));
    }
    report.coverage = provider
        .excluded_operations
        .as_ref()
        .map(|excluded| context.coverage(provider, excluded));
    report
}

/// A `{+name}` path takes any relative path, so there is no single operation to compare with.
fn is_raw_helper(function: &Function) -> bool {
    function
        .path_parts
        .iter()
        .any(|p| matches!(p, PathPart::Relative { .. }))
}

/// What every function's check needs from the provider and the document.
struct Context<'a> {
    document: &'a Document,
    /// Path of the manifest's base URL (`/v1`), without a trailing slash.
    base_path: String,
    /// Path of the document's first server URL, which its paths are relative to.
    server_path: String,
    /// The provider-level version header, which functions never declare as a parameter.
    version_header: Option<&'a str>,
}

/// The document's path item a function's route matched.
struct Route<'a> {
    doc_path: &'a str,
    item: &'a Value,
    /// Placeholder names in the document's path, in order.
    names: Vec<String>,
}

/// A path, query or header parameter of the document, resolved.
struct DocParam {
    name: String,
    location: String,
    required: bool,
    schema: Value,
    /// Serialisation, as written (`None` means the default for the location).
    style: Option<String>,
    explode: Option<bool>,
    /// The parameter's own description, for the importer.
    description: Option<String>,
    /// A sample value: the parameter's `example`, the first of its `examples`, or its schema's.
    example: Option<Value>,
    deprecated: bool,
}

/// The request body of an operation in the function's format (JSON or multipart), resolved
/// and merged.
struct BodySchema {
    properties: Map<String, Value>,
    required: BTreeSet<String>,
    /// The schema of fields not listed in `properties`, when the body accepts them.
    additional: Option<Value>,
    /// The whole body's merged schema and whether the document requires a body: what the one
    /// parameter of a `json_array` body is compared with.
    whole: (Value, bool),
}

/// What the document says about the operation a function calls.
struct DocOperation {
    /// Path, query and header parameters (the path item's and the operation's own).
    params: Vec<DocParam>,
    /// `None` without a request body; `Err` says why it is not in the function's format.
    body: Option<Result<BodySchema, String>>,
    /// The function's body format.
    body_format: BodyFormat,
    /// Manifest placeholder name → the document's, where they differ.
    renamed: BTreeMap<String, String>,
}

impl DocOperation {
    /// The name the document gives a manifest parameter (path placeholders may be renamed).
    fn name_of<'p>(&'p self, param: &'p Param) -> &'p str {
        match param.location {
            ParamLocation::Path => self
                .renamed
                .get(&param.wire_name)
                .unwrap_or(&param.wire_name),
            ParamLocation::Query | ParamLocation::Body => &param.wire_name,
        }
    }
}

/// What the manifest offers an operation, so that the document's required parameters can be
/// checked against it.
#[derive(Default)]
struct Offered {
    /// `(location, document name)` of every declared parameter.
    named: BTreeSet<(String, String)>,
    /// Locations with a free-form (`spread`) table, which can carry any name.
    spread: BTreeSet<String>,
}

impl<'a> Context<'a> {
    fn new(provider: &'a Provider, document: &'a Document) -> Self {
        let server_url = document
            .root()
            .pointer("/servers/0/url")
            .and_then(Value::as_str)
            .unwrap_or_default();
        Context {
            document,
            base_path: url_path(&provider.base_url),
            server_path: url_path(server_url),
            version_header: provider
                .version_header
                .as_ref()
                .map(|(name, _)| name.as_str()),
        }
    }

    /// Which operations of the document the functions call, and which are excluded.
    fn coverage(&self, provider: &Provider, excluded: &[(String, String)]) -> Coverage {
        let called: BTreeSet<(String, String)> = provider
            .functions
            .iter()
            .filter(|f| !is_raw_helper(f))
            .filter_map(|f| {
                let route = self.find_route(f).ok()?;
                Some((
                    f.method.as_str().to_ascii_lowercase(),
                    route.doc_path.to_string(),
                ))
            })
            .collect();
        let mut coverage = Coverage::default();
        let mut seen_ids = BTreeSet::new();
        let paths = self.document.root().get("paths").and_then(Value::as_object);
        for (path, item) in paths.into_iter().flatten() {
            for method in METHODS {
                let Some(operation) = item.get(method) else {
                    continue;
                };
                coverage.operations += 1;
                let id = operation
                    .get("operationId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                seen_ids.insert(id);
                let is_called = called.contains(&(method.to_string(), path.clone()));
                let exclusion = excluded.iter().find(|(op, _)| op == id);
                match (is_called, exclusion) {
                    (true, None) => coverage.covered += 1,
                    (true, Some(_)) => {
                        coverage.covered += 1;
                        coverage.stale_exclusions.push(format!(
                            "{id} is excluded but a function calls {} {path}",
                            method.to_ascii_uppercase()
                        ));
                    }
                    (false, Some((op, reason))) => {
                        coverage.excluded.push((op.clone(), reason.clone()));
                    }
                    (false, None) => coverage
                        .uncovered
                        .push(format!("{} {path} ({id})", method.to_ascii_uppercase())),
                }
            }
        }
        for (op, _) in excluded {
            if !seen_ids.contains(op.as_str()) {
                coverage.stale_exclusions.push(format!(
                    "{op} is excluded but the document has no such operation"
                ));
            }
        }
        coverage
    }

    fn check_function(&self, function: &Function, found: &mut Vec<String>, checked: &mut usize) {
        let route = match self.find_route(function) {
            Ok(route) => route,
            Err(problem) => {
                found.push(problem);
                return;
            }
        };
        let renamed = placeholder_renames(function, &route, found);
        let Some(operation) = route
            .item
            .get(function.method.as_str().to_ascii_lowercase())
        else {
            found.push(missing_method(function, route.item));
            return;
        };
        let doc = DocOperation {
            params: self.operation_parameters(route.item, operation),
            body: self.request_body(operation, function.body),
            body_format: function.body,
            renamed,
        };
        // Without body parameters no field reports it: a function that cannot send the body
        // the operation takes is named once.
        if let Some(Err(problem)) = &doc.body
            && !function
                .params
                .iter()
                .any(|p| p.location == ParamLocation::Body)
        {
            found.push(problem.clone());
        }
        let mut offered = Offered::default();
        for param in &function.params {
            if param.spread {
                // A free-form table: its keys are the caller's, not the manifest's.
                offered.spread.insert(param.location.to_string());
                continue;
            }
            *checked += 1;
            let doc_name = doc.name_of(param);
            offered
                .named
                .insert((param.location.to_string(), doc_name.to_string()));
            self.check_param(param, doc_name, &doc, found);
        }
        check_fixed_query(function, &doc.params, found);
        let body = doc.body.as_ref().and_then(|b| b.as_ref().ok());
        self.check_required_are_offered(&doc.params, body, &offered, function, found);
    }

    /// Finds one manifest parameter in the operation and compares it.
    fn check_param(
        &self,
        param: &Param,
        doc_name: &str,
        doc: &DocOperation,
        found: &mut Vec<String>,
    ) {
        let label = format!("{} parameter {}", param.location, param.wire_name);
        let located = match param.location {
            ParamLocation::Body if doc.body_format == BodyFormat::JsonArray => match &doc.body {
                Some(Ok(body)) => Ok(body.whole.clone()),
                Some(Err(problem)) => Err(format!(": {problem}")),
                None => Err(": the operation has no request body in the OpenAPI document".into()),
            },
            ParamLocation::Body => self.body_field(param, &doc.body, &doc.params),
            location @ (ParamLocation::Path | ParamLocation::Query) => {
                let body = doc.body.as_ref().and_then(|b| b.as_ref().ok());
                find_parameter(&doc.params, location.as_str(), doc_name, body).map(|p| {
                    let encoding = array_encoding_problem(param, p);
                    found.extend(encoding.map(|problem| format!("{label}: {problem}")));
                    (p.schema.clone(), p.required)
                })
            }
        };
        match located {
            Ok((schema, doc_required)) => {
                compare_param(param, &label, &schema, doc_required, found)
            }
            Err(problem) => found.push(format!("{label}{problem}")),
        }
    }

    /// The document's path item for the function's path, matching placeholders by position.
    fn find_route(&self, function: &Function) -> Result<Route<'a>, String> {
        let paths = self
            .document
            .root()
            .get("paths")
            .and_then(Value::as_object)
            .ok_or("the OpenAPI document has no `paths`")?;
        let not_found = || {
            format!(
                "path {} does not exist in the OpenAPI document",
                function.path
            )
        };
        let (shape, _) = route_shape(&function.path).ok_or_else(not_found)?;
        paths
            .iter()
            .find_map(|(doc_path, item)| {
                self.relative_candidates(doc_path)
                    .iter()
                    .filter_map(|candidate| route_shape(candidate))
                    .find(|(doc_shape, _)| *doc_shape == shape)
                    .map(|(_, names)| Route {
                        doc_path,
                        item: self.document.resolve(item),
                        names,
                    })
            })
            .ok_or_else(not_found)
    }

    /// A document path as the manifest would write it. The document's paths are relative to its
    /// server URL and the manifest's to its base URL, but documents differ in whether their paths
    /// repeat the version prefix (`/v1/users` vs `/users`), so every plausible reading is tried.
    fn relative_candidates(&self, doc_path: &str) -> Vec<String> {
        let mut candidates = Vec::new();
        for full in [
            format!("{}{doc_path}", self.server_path),
            doc_path.to_string(),
        ] {
            if let Some(rest) = full
                .strip_prefix(&self.base_path)
                .filter(|r| r.starts_with('/'))
            {
                candidates.push(rest.to_string());
            }
        }
        candidates.push(doc_path.to_string());
        candidates.dedup();
        candidates
    }

    /// The path item's shared parameters overlaid by the operation's own.
    fn operation_parameters(&self, item: &Value, operation: &Value) -> Vec<DocParam> {
        let mut params: Vec<DocParam> = Vec::new();
        let lists = [item.get("parameters"), operation.get("parameters")];
        for raw in lists
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
        {
            let Some(entry) = self.doc_param(raw) else {
                continue;
            };
            // An operation parameter overrides a path-item one with the same name and location.
            params.retain(|p| !(p.name == entry.name && p.location == entry.location));
            params.push(entry);
        }
        params
    }

    fn doc_param(&self, raw: &Value) -> Option<DocParam> {
        let param = self.document.resolve(raw);
        let name = param.get("name").and_then(Value::as_str)?;
        let location = param.get("in").and_then(Value::as_str)?;
        // A parameter has either `schema` or a one-entry `content` map holding one.
        let schema = param.get("schema").or_else(|| {
            param
                .get("content")
                .and_then(Value::as_object)
                .and_then(|content| content.values().next())
                .and_then(|media| media.get("schema"))
        });
        Some(DocParam {
            name: name.to_string(),
            location: location.to_string(),
            required: param
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            schema: schema.map_or(Value::Null, |s| self.document.merged_schema(s)),
            style: param
                .get("style")
                .and_then(Value::as_str)
                .map(str::to_string),
            explode: param.get("explode").and_then(Value::as_bool),
            description: param
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
            example: parameter_example(param, schema.map(|s| self.document.resolve(s))),
            deprecated: param
                .get("deprecated")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    /// The operation's body in the function's format (a JSON media type, or
    /// `multipart/form-data`): `None` without a request body, `Err` (naming the media types it
    /// has) when it has none of that format.
    fn request_body(
        &self,
        operation: &Value,
        format: BodyFormat,
    ) -> Option<Result<BodySchema, String>> {
        let body = self.document.resolve(operation.get("requestBody")?);
        let content = body.get("content").and_then(Value::as_object);
        let fits = |media: &str| match format {
            BodyFormat::Json | BodyFormat::JsonArray => is_json(media),
            BodyFormat::Multipart => is_multipart(media),
        };
        let found = content.and_then(|c| {
            c.iter()
                .find(|(media, _)| fits(media))
                .and_then(|(_, m)| m.get("schema"))
        });
        let Some(schema) = found else {
            let types: Vec<&str> = content
                .into_iter()
                .flat_map(|c| c.keys().map(String::as_str))
                .collect();
            let (wanted, hint) = match format {
                BodyFormat::Json if types.iter().any(|t| is_multipart(t)) => {
                    ("JSON", ": declare `http.body: multipart`")
                }
                BodyFormat::Json | BodyFormat::JsonArray => ("JSON", ""),
                BodyFormat::Multipart => ("multipart/form-data", ""),
            };
            return Some(Err(format!(
                "the operation's request body in the OpenAPI document is not {wanted} (it is {}){hint}",
                if types.is_empty() {
                    "untyped".to_string()
                } else {
                    types.join(", ")
                }
            )));
        };
        let merged = self.document.merged_schema(schema);
        let is_array = merged.get("type").and_then(Value::as_str) == Some("array");
        match (format, is_array) {
            (BodyFormat::Json, true) => {
                return Some(Err(
                    "the operation's request body in the OpenAPI document is a JSON array: declare `http.body: json_array` with one array parameter".into(),
                ));
            }
            (BodyFormat::JsonArray, false) => {
                return Some(Err(
                    "the operation's request body in the OpenAPI document is not a JSON array: remove `http.body: json_array`".into(),
                ));
            }
            _ => {}
        }
        let required = body.get("required").and_then(Value::as_bool) == Some(true);
        let mut schema = body_schema(&merged);
        schema.whole = (merged, required);
        Some(Ok(schema))
    }

    /// A body parameter's schema and whether the document requires it.
    fn body_field(
        &self,
        param: &Param,
        body: &Option<Result<BodySchema, String>>,
        doc_params: &[DocParam],
    ) -> Result<(Value, bool), String> {
        let body = match body {
            Some(Ok(body)) => body,
            Some(Err(problem)) => return Err(format!(": {problem}")),
            None => {
                return Err(format!(
                    ": the operation has no request body in the OpenAPI document{}",
                    elsewhere(doc_params, &param.wire_name)
                ));
            }
        };
        match body.properties.get(&param.wire_name) {
            Some(schema) => Ok((
                self.document.merged_schema(schema),
                body.required.contains(&param.wire_name),
            )),
            // A body open to further fields accepts this one, typed by `additionalProperties`.
            None => match &body.additional {
                Some(schema) => Ok((schema.clone(), false)),
                None => Err(format!(
                    " does not exist in the OpenAPI document{}",
                    elsewhere(doc_params, &param.wire_name)
                )),
            },
        }
    }

    /// A parameter the document requires but the manifest cannot send makes every call fail.
    fn check_required_are_offered(
        &self,
        doc_params: &[DocParam],
        body: Option<&BodySchema>,
        offered: &Offered,
        function: &Function,
        found: &mut Vec<String>,
    ) {
        for doc in doc_params.iter().filter(|d| d.required) {
            let provided_by_provider = doc.location == "header"
                && (doc.name.eq_ignore_ascii_case("authorization")
                    || self
                        .version_header
                        .is_some_and(|h| doc.name.eq_ignore_ascii_case(h)));
            let fixed =
                doc.location == "query" && function.fixed_query.iter().any(|(k, _)| k == &doc.name);
            if !provided_by_provider && !fixed && !offered.has(&doc.location, &doc.name) {
                found.push(format!(
                    "the OpenAPI document requires {} parameter {}, which the manifest does not offer",
                    doc.location, doc.name
                ));
            }
        }
        for name in body.iter().flat_map(|b| &b.required) {
            if !offered.has("body", name) {
                found.push(format!(
                    "the OpenAPI document requires body field {name}, which the manifest does not offer"
                ));
            }
        }
    }
}

impl Offered {
    fn has(&self, location: &str, name: &str) -> bool {
        self.spread.contains(location)
            || self
                .named
                .contains(&(location.to_string(), name.to_string()))
    }
}

/// A parameter's sample value: its `example`, else the first value of its `examples` map, else
/// its schema's `example` or first `examples` item (OpenAPI 3.1 schemas list them).
fn parameter_example(param: &Value, schema: Option<&Value>) -> Option<Value> {
    param
        .get("example")
        .cloned()
        .or_else(|| {
            param
                .get("examples")
                .and_then(Value::as_object)
                .and_then(|examples| examples.values().next())
                .and_then(|example| example.get("value"))
                .cloned()
        })
        .or_else(|| schema.and_then(schema_example))
}

/// A schema's `example`, or the first item of its `examples` list.
fn schema_example(schema: &Value) -> Option<Value> {
    schema.get("example").cloned().or_else(|| {
        schema
            .get("examples")
            .and_then(Value::as_array)
            .and_then(|examples| examples.first())
            .cloned()
    })
}

/// The path part of a URL (`https://api.example/v1/` → `/v1`), without a trailing slash.
fn url_path(url: &str) -> String {
    let without_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    match without_scheme.find('/') {
        Some(slash) => without_scheme[slash..].trim_end_matches('/').to_string(),
        None => String::new(),
    }
}

/// A path template with placeholder names erased (`/users/{}`), and the names in order.
fn route_shape(path: &str) -> Option<(String, Vec<String>)> {
    let mut shape = String::new();
    let mut names = Vec::new();
    for part in parse_template(path).ok()? {
        match part {
            TemplatePart::Literal(text) => shape.push_str(&text),
            TemplatePart::Placeholder { name, .. } => {
                shape.push_str("{}");
                names.push(name);
            }
        }
    }
    Some((shape, names))
}

/// Reports placeholders named differently in the document, and maps each manifest name to the
/// document's, so the parameter itself is still compared (and reported once, not three times).
fn placeholder_renames(
    function: &Function,
    route: &Route<'_>,
    found: &mut Vec<String>,
) -> BTreeMap<String, String> {
    let ours = route_shape(&function.path)
        .map(|(_, names)| names)
        .unwrap_or_default();
    let mut renamed = BTreeMap::new();
    for (ours, theirs) in ours.iter().zip(&route.names) {
        if ours != theirs {
            found.push(format!(
                "path placeholder {{{ours}}} is {{{theirs}}} in the OpenAPI document ({})",
                route.doc_path
            ));
            renamed.insert(ours.clone(), theirs.clone());
        }
    }
    renamed
}

fn missing_method(function: &Function, item: &Value) -> String {
    let available: Vec<String> = METHODS
        .iter()
        .filter(|m| item.get(**m).is_some())
        .map(|m| m.to_ascii_uppercase())
        .collect();
    format!(
        "{} {} does not exist in the OpenAPI document (it has {})",
        function.method,
        function.path,
        if available.is_empty() {
            "no operations".to_string()
        } else {
            available.join(", ")
        }
    )
}

/// `application/json`, `application/json; charset=utf-8`, `application/merge-patch+json`, ...
fn is_json(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or_default().trim();
    essence == "application/json" || essence.ends_with("+json")
}

/// `multipart/form-data`, with or without parameters.
fn is_multipart(media_type: &str) -> bool {
    media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .eq_ignore_ascii_case("multipart/form-data")
}

/// A file in a multipart body: `type: string` with `format: binary` (OpenAPI 3.0) or a
/// `contentMediaType` (3.1).
fn is_binary(schema: &Value) -> bool {
    schema_types(schema).contains("string")
        && (schema.get("format").and_then(Value::as_str) == Some("binary")
            || schema.get("contentMediaType").is_some())
}

/// A path or query parameter of the document, or why it cannot be found.
fn find_parameter<'d>(
    doc_params: &'d [DocParam],
    location: &str,
    name: &str,
    body: Option<&BodySchema>,
) -> Result<&'d DocParam, String> {
    if let Some(doc) = doc_params
        .iter()
        .find(|d| d.location == location && d.name == name)
    {
        return Ok(doc);
    }
    let hint = if body.is_some_and(|b| b.properties.contains_key(name)) {
        " (it is a body field there)".to_string()
    } else {
        elsewhere(doc_params, name)
    };
    Err(format!(" does not exist in the OpenAPI document{hint}"))
}

/// The runtime sends a query array as one `key=item` pair per item (OpenAPI's default: style
/// `form`, explode `true`), or as one comma-separated value with `explode: false` (style `form`,
/// explode `false`). A document asking for the other one, or `a|b`, would reject or misread it.
fn array_encoding_problem(param: &Param, doc: &DocParam) -> Option<String> {
    if doc.location != "query" || !matches!(param.ty, ParamType::Array(_)) {
        return None;
    }
    let style = doc.style.as_deref().unwrap_or("form");
    let explode = doc.explode.unwrap_or(style == "form");
    if style == "form" && explode == param.explode {
        return None;
    }
    let sent = if param.explode {
        "repeats the key per item (style form, explode true)"
    } else {
        "sends the items comma-separated (style form, explode false)"
    };
    let hint = match (style == "form", explode) {
        (true, false) => "; declare `explode: false` on the parameter",
        (true, true) => "; remove `explode: false` from the parameter",
        (false, _) => "",
    };
    Some(format!(
        "the OpenAPI document serialises this array with style {style}, explode {explode}, \
         but the generated code {sent}{hint}"
    ))
}

/// ` (it is a query parameter there)` when the name exists in another location.
fn elsewhere(doc_params: &[DocParam], name: &str) -> String {
    doc_params
        .iter()
        .find(|d| d.name == name)
        .map(|d| format!(" (it is a {} parameter there)", d.location))
        .unwrap_or_default()
}

fn check_fixed_query(function: &Function, doc_params: &[DocParam], found: &mut Vec<String>) {
    for (key, _) in &function.fixed_query {
        if !doc_params
            .iter()
            .any(|d| d.location == "query" && &d.name == key)
        {
            found.push(format!(
                "constant query parameter {key} does not exist in the OpenAPI document{}",
                elsewhere(doc_params, key)
            ));
        }
    }
}

/// Compares one parameter's requiredness, type, default, bounds and enum.
fn compare_param(
    param: &Param,
    label: &str,
    schema: &Value,
    doc_required: bool,
    found: &mut Vec<String>,
) {
    let required_in = |b: bool| if b { "required" } else { "optional" };
    match param.openapi_required {
        // A known difference: the document must still say what the manifest expects.
        Some(expected) if expected != doc_required => found.push(format!(
            "{label}: openapi_required is {expected} in the manifest but the OpenAPI document has it {}",
            required_in(doc_required)
        )),
        Some(_) => {}
        None if param.required != doc_required => found.push(format!(
            "{label} is {} in the manifest but {} in the OpenAPI document",
            required_in(param.required),
            required_in(doc_required)
        )),
        None => {}
    }
    if let Some(problem) = type_problem(param.ty, schema) {
        found.push(format!("{label}: {problem}"));
    }
    // Bounds and enums constrain an array's items, as the manifest's own schemas put them.
    let constrained = match param.ty {
        ParamType::Array(_) => schema.get("items").unwrap_or(&Value::Null),
        ParamType::Scalar(_) | ParamType::File => schema,
    };
    let number_of = |s: &Value, key: &str| s.get(key).and_then(Value::as_f64);
    // An empty list as an array's default says what leaving it out says: nothing is sent.
    let document_default = schema.get("default").filter(|d| {
        !(matches!(param.ty, ParamType::Array(_)) && d.as_array().is_some_and(Vec::is_empty))
    });
    let differences = [
        compare_value("default", param.default.as_ref(), document_default),
        compare_number("minimum", param.minimum, number_of(constrained, "minimum")),
        compare_number("maximum", param.maximum, number_of(constrained, "maximum")),
        compare_number(
            "max_items (maxItems)",
            param.max_items.map(|m| m as f64),
            number_of(schema, "maxItems"),
        ),
        compare_enum(&param.allowed, constrained.get("enum")),
    ];
    found.extend(
        differences
            .into_iter()
            .flatten()
            .map(|difference| format!("{label}: {difference}")),
    );
}

fn disagreement(what: &str, ours: &str, theirs: &str) -> String {
    format!("{what} is {ours} in the manifest but {theirs} in the OpenAPI document")
}

/// Values equal as JSON, numbers compared numerically (`10` and `10.0` agree).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn compare_value(what: &str, ours: Option<&Value>, theirs: Option<&Value>) -> Option<String> {
    let same = match (ours, theirs) {
        (None, None) => true,
        (Some(a), Some(b)) => same_value(a, b),
        _ => false,
    };
    let show = |v: Option<&Value>| v.map_or_else(|| "absent".to_string(), Value::to_string);
    (!same).then(|| disagreement(what, &show(ours), &show(theirs)))
}

fn compare_number(what: &str, ours: Option<f64>, theirs: Option<f64>) -> Option<String> {
    let show = |v: Option<f64>| {
        v.map_or_else(
            || "absent".to_string(),
            |n| crate::model::number(n).to_string(),
        )
    };
    (ours != theirs).then(|| disagreement(what, &show(ours), &show(theirs)))
}

/// Enums compare as sets; `null` (a nullable enum's extra value) is not a choice a caller makes.
fn compare_enum(ours: &[Value], theirs: Option<&Value>) -> Option<String> {
    let as_set = |values: &[Value]| -> BTreeSet<String> {
        values
            .iter()
            .filter(|v| !v.is_null())
            .map(enum_key)
            .collect()
    };
    let ours = (!ours.is_empty()).then(|| as_set(ours));
    let theirs = theirs.and_then(Value::as_array).map(|v| as_set(v));
    if ours == theirs {
        return None;
    }
    let show = |set: &Option<BTreeSet<String>>| match set {
        Some(values) => format!(
            "[{}]",
            values.iter().cloned().collect::<Vec<_>>().join(", ")
        ),
        None => "absent".to_string(),
    };
    let mut message = disagreement("enum", &show(&ours), &show(&theirs));
    // Long enums are hard to compare by eye: name the values on one side only.
    if let (Some(ours), Some(theirs)) = (&ours, &theirs) {
        let only = |a: &BTreeSet<String>, b: &BTreeSet<String>| {
            a.difference(b).cloned().collect::<Vec<_>>().join(", ")
        };
        let parts: Vec<String> = [
            ("only in the manifest", only(ours, theirs)),
            ("only in the OpenAPI document", only(theirs, ours)),
        ]
        .into_iter()
        .filter(|(_, values)| !values.is_empty())
        .map(|(side, values)| format!("{side}: {values}"))
        .collect();
        message.push_str(&format!(" ({})", parts.join("; ")));
    }
    Some(message)
}

/// An enum value as text, with whole numbers spelled one way (`1`, not `1.0`).
fn enum_key(value: &Value) -> String {
    match value.as_f64() {
        Some(n) => crate::model::number(n).to_string(),
        None => value.to_string(),
    }
}

/// The schema's types, ignoring `null` (3.1 type arrays, 3.0 `nullable`, `anyOf` with a null
/// branch). Empty means "unknown": untyped schemas, or alternatives of which one is untyped.
fn schema_types(schema: &Value) -> BTreeSet<String> {
    let mut types = BTreeSet::new();
    match schema.get("type") {
        Some(Value::String(t)) => {
            types.insert(t.clone());
        }
        Some(Value::Array(list)) => {
            types.extend(list.iter().filter_map(Value::as_str).map(str::to_string));
        }
        _ => {
            if schema.get("properties").is_some() || schema.get("additionalProperties").is_some() {
                types.insert("object".to_string());
            } else if let Some(variants) = alternatives(schema) {
                for variant in variants {
                    let variant_types = schema_types(variant);
                    if variant_types.is_empty() && !is_null_schema(variant) {
                        return BTreeSet::new();
                    }
                    types.extend(variant_types);
                }
            }
        }
    }
    types.remove("null");
    types
}

/// The `oneOf` or `anyOf` branches of a schema.
fn alternatives(schema: &Value) -> Option<&Vec<Value>> {
    schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
}

/// `Err` names the document's types when the manifest's scalar type does not fit them.
fn scalar_fits(ours: ScalarType, schema: &Value) -> Result<(), String> {
    let types = schema_types(schema);
    if types.is_empty() {
        // Untyped (free-form, or `oneOf` without types): nothing to compare.
        return Ok(());
    }
    let fits = match ours {
        ScalarType::String => types.contains("string"),
        ScalarType::Integer => types.contains("integer"),
        ScalarType::Number => types.contains("number") || types.contains("integer"),
        ScalarType::Boolean => types.contains("boolean"),
        ScalarType::Object => types.contains("object"),
    };
    if fits {
        Ok(())
    } else {
        Err(types.into_iter().collect::<Vec<_>>().join("|"))
    }
}

fn type_problem(ours: ParamType, schema: &Value) -> Option<String> {
    let mismatch = |theirs: String| disagreement("type", &ours.to_string(), &theirs);
    match ours {
        ParamType::File if is_binary(schema) => None,
        ParamType::File => {
            let types = schema_types(schema);
            Some(mismatch(if types.is_empty() {
                "untyped".to_string()
            } else {
                types.into_iter().collect::<Vec<_>>().join("|")
            }))
        }
        // A string where the document takes a file would be sent as a text part.
        ParamType::Scalar(_) if is_binary(schema) => {
            Some(mismatch("file (string, format binary)".to_string()))
        }
        ParamType::Scalar(t) => scalar_fits(t, schema).err().map(mismatch),
        ParamType::Array(item) => {
            let types = schema_types(schema);
            if !types.is_empty() && !types.contains("array") {
                return Some(mismatch(types.into_iter().collect::<Vec<_>>().join("|")));
            }
            let items = schema.get("items").unwrap_or(&Value::Null);
            scalar_fits(item, items)
                .err()
                .map(|t| mismatch(format!("array<{t}>")))
        }
    }
}

/// Properties and required fields of a merged body schema. A body offered as alternatives
/// (`oneOf`/`anyOf`) accepts any alternative's fields and requires only what all of them require.
fn body_schema(merged: &Value) -> BodySchema {
    let mut properties = object_of(merged, "properties");
    let mut required = string_set(merged, "required");
    if let Some(variants) = alternatives(merged) {
        let mut common: Option<BTreeSet<String>> = None;
        for variant in variants {
            for (name, schema) in object_of(variant, "properties") {
                properties.entry(name).or_insert(schema);
            }
            let needed = string_set(variant, "required");
            common = Some(match common {
                Some(c) => c.intersection(&needed).cloned().collect(),
                None => needed,
            });
        }
        required.extend(common.unwrap_or_default());
    }
    let additional = match merged.get("additionalProperties") {
        Some(Value::Bool(true)) => Some(Value::Object(Map::new())),
        Some(schema @ Value::Object(_)) => Some(schema.clone()),
        _ => None,
    };
    BodySchema {
        properties,
        required,
        additional,
        whole: (merged.clone(), false),
    }
}

fn object_of(schema: &Value, key: &str) -> Map<String, Value> {
    schema
        .get(key)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn string_set(schema: &Value, key: &str) -> BTreeSet<String> {
    schema
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}
