//! Conformance of a provider's manifest to the provider's own OpenAPI document: every function's
//! route exists, and every parameter exists in the same place with a compatible type and the same
//! requiredness, default, bounds and enum. The document is input, so nothing here panics on it.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Map, Value};

use crate::manifest::{ParamType, ScalarType};
use crate::model::{Function, Param, PathPart, Provider, TemplatePart, parse_template};

/// The outcome of a check: every disagreement, and what was compared.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub mismatches: Vec<Mismatch>,
    pub functions_checked: usize,
    pub params_checked: usize,
    /// Functions not compared, with the reason, e.g. `api_get (raw path)`.
    pub skipped: Vec<String>,
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

/// `$ref` chains deeper than this are treated as unresolvable rather than followed forever.
const MAX_REF_DEPTH: usize = 32;

/// Compares every function of `provider` with the OpenAPI `document`.
pub fn check(provider: &Provider, document: &Value) -> Report {
    let mut report = Report::default();
    let base_path = base_path(&provider.base_url);
    for function in &provider.functions {
        if function
            .path_parts
            .iter()
            .any(|p| matches!(p, PathPart::Relative { .. }))
        {
            report.skipped.push(format!("{} (raw path)", function.name));
            continue;
        }
        report.functions_checked += 1;
        let mut found = Vec::new();
        check_function(
            document,
            &base_path,
            function,
            &mut found,
            &mut report.params_checked,
        );
        report
            .mismatches
            .extend(found.into_iter().map(|message| Mismatch {
                function: function.name.clone(),
                message,
            }));
    }
    report
}

/// The path part of a base URL (`https://api.example/v1` → `/v1`), without a trailing slash.
fn base_path(base_url: &str) -> String {
    let without_scheme = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    match without_scheme.find('/') {
        Some(slash) => without_scheme[slash..].trim_end_matches('/').to_string(),
        None => String::new(),
    }
}

/// A path template with placeholder names erased, for matching routes regardless of names.
fn route_shape(path: &str) -> Option<(String, Vec<String>)> {
    let parts = parse_template(path).ok()?;
    let mut shape = String::new();
    let mut names = Vec::new();
    for part in parts {
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

fn check_function(
    document: &Value,
    base_path: &str,
    function: &Function,
    found: &mut Vec<String>,
    params_checked: &mut usize,
) {
    let paths = document.get("paths").and_then(Value::as_object);
    let Some(paths) = paths else {
        found.push("the OpenAPI document has no `paths`".to_string());
        return;
    };
    let Some((shape, names)) = route_shape(&function.path) else {
        return;
    };
    // Document paths may or may not repeat the base URL's path (`/v1/users` vs `/users`).
    let matching = paths.iter().find_map(|(doc_path, item)| {
        let relative = doc_path
            .strip_prefix(base_path)
            .filter(|r| r.starts_with('/'))
            .unwrap_or(doc_path);
        let (doc_shape, doc_names) = route_shape(relative)?;
        (doc_shape == shape).then_some((doc_path, item, doc_names))
    });
    let Some((doc_path, item, doc_names)) = matching else {
        found.push(format!(
            "path {} does not exist in the OpenAPI document",
            function.path
        ));
        return;
    };
    for (ours, theirs) in names.iter().zip(&doc_names) {
        if ours != theirs {
            found.push(format!(
                "path placeholder {{{ours}}} is {{{theirs}}} in the OpenAPI document ({doc_path})"
            ));
        }
    }
    let method = function.method.to_ascii_lowercase();
    let Some(operation) = item.get(&method) else {
        let available: Vec<String> = ["get", "post", "put", "patch", "delete"]
            .iter()
            .filter(|m| item.get(**m).is_some())
            .map(|m| m.to_ascii_uppercase())
            .collect();
        found.push(format!(
            "{} {} does not exist in the OpenAPI document (it has {})",
            function.method,
            function.path,
            if available.is_empty() {
                "no operations".to_string()
            } else {
                available.join(", ")
            }
        ));
        return;
    };

    let doc_params = operation_parameters(document, item, operation);
    let body = request_body_schema(document, operation);
    let mut offered: BTreeSet<(String, String)> = BTreeSet::new();

    for param in function.params.iter().filter(|p| !p.spread) {
        *params_checked += 1;
        offered.insert((param.location.to_string(), param.wire_name.clone()));
        let label = format!("{} parameter {}", param.location, param.wire_name);
        let (schema, doc_required) = match param.location {
            "body" => {
                let Some(body) = &body else {
                    found.push(format!(
                        "{label}: the operation has no JSON request body in the OpenAPI document"
                    ));
                    continue;
                };
                let Some(schema) = body.properties.get(&param.wire_name) else {
                    found.push(format!(
                        "{label} does not exist in the OpenAPI document{}",
                        elsewhere(&doc_params, &param.wire_name)
                    ));
                    continue;
                };
                (
                    merged_schema(document, schema),
                    body.required.contains(&param.wire_name),
                )
            }
            location => {
                let Some(doc) = doc_params
                    .iter()
                    .find(|d| d.location == location && d.name == param.wire_name)
                else {
                    let in_body = body
                        .as_ref()
                        .is_some_and(|b| b.properties.contains_key(&param.wire_name));
                    let hint = if in_body {
                        " (it is a body field there)".to_string()
                    } else {
                        elsewhere(&doc_params, &param.wire_name)
                    };
                    found.push(format!(
                        "{label} does not exist in the OpenAPI document{hint}"
                    ));
                    continue;
                };
                (doc.schema.clone(), doc.required)
            }
        };
        compare_param(param, &label, &schema, doc_required, found);
    }

    for (key, _) in &function.fixed_query {
        if !doc_params
            .iter()
            .any(|d| d.location == "query" && &d.name == key)
        {
            found.push(format!(
                "constant query parameter {key} does not exist in the OpenAPI document"
            ));
        }
    }
    // A parameter the document requires but the manifest cannot send makes every call fail.
    // Functions with a spread table in that location can still send it.
    for doc in &doc_params {
        let spread = function
            .params
            .iter()
            .any(|p| p.spread && p.location == doc.location);
        let fixed =
            doc.location == "query" && function.fixed_query.iter().any(|(k, _)| k == &doc.name);
        if doc.required
            && !spread
            && !fixed
            && !offered.contains(&(doc.location.clone(), doc.name.clone()))
        {
            found.push(format!(
                "the OpenAPI document requires {} parameter {}, which the manifest does not offer",
                doc.location, doc.name
            ));
        }
    }
    if let Some(body) = &body {
        let spread = function
            .params
            .iter()
            .any(|p| p.spread && p.location == "body");
        for name in &body.required {
            if !spread && !offered.contains(&("body".to_string(), name.clone())) {
                found.push(format!("the OpenAPI document requires body field {name}, which the manifest does not offer"));
            }
        }
    }
}

/// ` (it is a query parameter there)` when the name exists in another location.
fn elsewhere(doc_params: &[DocParam], name: &str) -> String {
    doc_params
        .iter()
        .find(|d| d.name == name)
        .map(|d| format!(" (it is a {} parameter there)", d.location))
        .unwrap_or_default()
}

fn compare_param(
    param: &Param,
    label: &str,
    schema: &Value,
    doc_required: bool,
    found: &mut Vec<String>,
) {
    let required_in = |b: bool| if b { "required" } else { "optional" };
    if param.required != doc_required {
        found.push(format!(
            "{label} is {} in the manifest but {} in the OpenAPI document",
            required_in(param.required),
            required_in(doc_required)
        ));
    }
    if let Some(problem) = type_problem(param.param_type, schema) {
        found.push(format!("{label}: {problem}"));
    }
    let item_schema = match param.param_type {
        ParamType::Array(_) => schema.get("items").cloned().unwrap_or(Value::Null),
        ParamType::Scalar(_) => schema.clone(),
    };
    compare_value(
        label,
        "default",
        param.default.as_ref(),
        schema.get("default"),
        found,
    );
    compare_number(
        label,
        "minimum",
        param.minimum,
        item_schema.get("minimum").and_then(Value::as_f64),
        found,
    );
    compare_number(
        label,
        "maximum",
        param.maximum,
        item_schema.get("maximum").and_then(Value::as_f64),
        found,
    );
    compare_number(
        label,
        "max_items (maxItems)",
        param.max_items.map(|m| m as f64),
        schema.get("maxItems").and_then(Value::as_f64),
        found,
    );
    let doc_enum: Option<BTreeSet<String>> =
        item_schema
            .get("enum")
            .and_then(Value::as_array)
            .map(|values| {
                values
                    .iter()
                    .filter(|v| !v.is_null())
                    .map(Value::to_string)
                    .collect()
            });
    let our_enum: Option<BTreeSet<String>> =
        (!param.allowed.is_empty()).then(|| param.allowed.iter().map(Value::to_string).collect());
    if our_enum != doc_enum {
        let show = |e: &Option<BTreeSet<String>>| match e {
            Some(values) => format!(
                "[{}]",
                values.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            None => "none".to_string(),
        };
        found.push(format!(
            "{label}: enum is {} in the manifest but {} in the OpenAPI document",
            show(&our_enum),
            show(&doc_enum)
        ));
    }
}

fn compare_value(
    label: &str,
    what: &str,
    ours: Option<&Value>,
    theirs: Option<&Value>,
    found: &mut Vec<String>,
) {
    let same = match (ours, theirs) {
        (None, None) => true,
        (Some(a), Some(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
        _ => false,
    };
    if !same {
        let show = |v: Option<&Value>| v.map_or_else(|| "absent".to_string(), Value::to_string);
        found.push(format!(
            "{label}: {what} is {} in the manifest but {} in the OpenAPI document",
            show(ours),
            show(theirs)
        ));
    }
}

fn compare_number(
    label: &str,
    what: &str,
    ours: Option<f64>,
    theirs: Option<f64>,
    found: &mut Vec<String>,
) {
    if ours != theirs {
        let show = |v: Option<f64>| {
            v.map_or_else(
                || "absent".to_string(),
                |n| crate::model::number(n).to_string(),
            )
        };
        found.push(format!(
            "{label}: {what} is {} in the manifest but {} in the OpenAPI document",
            show(ours),
            show(theirs)
        ));
    }
}

/// The schema's types, ignoring `null` (3.1 type arrays and 3.0 `nullable`).
fn schema_types(schema: &Value) -> BTreeSet<String> {
    let mut types = BTreeSet::new();
    match schema.get("type") {
        Some(Value::String(t)) => {
            types.insert(t.clone());
        }
        Some(Value::Array(list)) => {
            types.extend(list.iter().filter_map(Value::as_str).map(str::to_string))
        }
        _ => {
            if schema.get("properties").is_some() || schema.get("additionalProperties").is_some() {
                types.insert("object".to_string());
            }
        }
    }
    types.remove("null");
    types
}

fn scalar_fits(ours: ScalarType, schema: &Value) -> Result<(), String> {
    let types = schema_types(schema);
    if types.is_empty() {
        // Untyped (oneOf/anyOf without a type): nothing to compare.
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
    let mismatch = |theirs: String| {
        format!("type is {ours} in the manifest but {theirs} in the OpenAPI document")
    };
    match ours {
        ParamType::Scalar(t) => scalar_fits(t, schema).err().map(mismatch),
        ParamType::Array(item) => {
            let types = schema_types(schema);
            if !types.is_empty() && !types.contains("array") {
                return Some(mismatch(types.into_iter().collect::<Vec<_>>().join("|")));
            }
            let items = schema.get("items").cloned().unwrap_or(Value::Null);
            scalar_fits(item, &items)
                .err()
                .map(|t| mismatch(format!("array<{t}>")))
        }
    }
}

/// A path or query parameter of the document, resolved.
struct DocParam {
    name: String,
    location: String,
    required: bool,
    schema: Value,
}

/// The path item's shared parameters overlaid by the operation's own.
fn operation_parameters(document: &Value, item: &Value, operation: &Value) -> Vec<DocParam> {
    let mut params: Vec<DocParam> = Vec::new();
    for list in [item.get("parameters"), operation.get("parameters")]
        .into_iter()
        .flatten()
    {
        for raw in list.as_array().into_iter().flatten() {
            let param = resolve(document, raw);
            let (Some(name), Some(location)) = (
                param.get("name").and_then(Value::as_str),
                param.get("in").and_then(Value::as_str),
            ) else {
                continue;
            };
            let schema = param
                .get("schema")
                .map(|s| merged_schema(document, s))
                .unwrap_or(Value::Null);
            let entry = DocParam {
                name: name.to_string(),
                location: location.to_string(),
                required: param
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                schema,
            };
            // An operation parameter overrides a path-item one with the same name and location.
            params.retain(|p| !(p.name == entry.name && p.location == entry.location));
            params.push(entry);
        }
    }
    params
}

struct BodySchema {
    properties: Map<String, Value>,
    required: BTreeSet<String>,
}

fn request_body_schema(document: &Value, operation: &Value) -> Option<BodySchema> {
    let body = resolve(document, operation.get("requestBody")?);
    let schema = body
        .get("content")?
        .get("application/json")?
        .get("schema")?;
    let merged = merged_schema(document, schema);
    Some(BodySchema {
        properties: merged
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        required: merged
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
    })
}

/// Follows `$ref` pointers within the document.
fn resolve<'a>(document: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..MAX_REF_DEPTH {
        let Some(pointer) = value.get("$ref").and_then(Value::as_str) else {
            return value;
        };
        match pointer.strip_prefix('#').and_then(|p| document.pointer(p)) {
            Some(target) => value = target,
            None => return &Value::Null,
        }
    }
    &Value::Null
}

/// A schema with `$ref`s resolved and `allOf` parts merged (properties and required lists
/// united), recursively for `items` and properties one level down.
fn merged_schema(document: &Value, schema: &Value) -> Value {
    merge_at_depth(document, schema, 0)
}

fn merge_at_depth(document: &Value, schema: &Value, depth: usize) -> Value {
    let resolved = resolve(document, schema);
    let Some(object) = resolved.as_object() else {
        return resolved.clone();
    };
    if depth > MAX_REF_DEPTH {
        return resolved.clone();
    }
    let mut out = object.clone();
    out.remove("allOf");
    if let Some(parts) = object.get("allOf").and_then(Value::as_array) {
        for part in parts {
            let part = merge_at_depth(document, part, depth + 1);
            let Some(part) = part.as_object() else {
                continue;
            };
            for (key, value) in part {
                match (key.as_str(), out.get_mut(key)) {
                    ("properties", Some(Value::Object(existing))) => {
                        if let Value::Object(more) = value {
                            for (k, v) in more {
                                existing.entry(k.clone()).or_insert_with(|| v.clone());
                            }
                        }
                    }
                    ("required", Some(Value::Array(existing))) => {
                        if let Value::Array(more) = value {
                            for v in more {
                                if !existing.contains(v) {
                                    existing.push(v.clone());
                                }
                            }
                        }
                    }
                    (_, Some(_)) => {}
                    (_, None) => {
                        out.insert(key.clone(), value.clone());
                    }
                }
            }
        }
    }
    if let Some(items) = out.get("items").cloned() {
        out.insert("items".into(), merge_at_depth(document, &items, depth + 1));
    }
    if let Some(Value::Object(properties)) = out.get("properties").cloned() {
        let resolved: Map<String, Value> = properties
            .iter()
            .map(|(k, v)| (k.clone(), resolve(document, v).clone()))
            .collect();
        out.insert("properties".into(), Value::Object(resolved));
    }
    Value::Object(out)
}
