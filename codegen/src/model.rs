//! The intermediate model: a validated manifest, resolved into what the emitters need.
//!
//! Emitters read only this model, never the raw manifest, so every naming and mapping decision
//! (Rust identifiers beside wire names, path parts, signatures) is made once, here.

use heck::ToUpperCamelCase;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::identifiers::rust_ident_text;
use crate::manifest::{
    self, BodyFormat, Manifest, Method, Operation, ParamLocation, ParamType, ScalarType,
};

#[derive(Debug, Clone, Serialize)]
pub struct Provider {
    /// Manifest path, relative to the repository root, for generated-file headers.
    pub manifest_path: String,
    pub name: String,
    /// Rust module name (sanitized `name`).
    pub module: String,
    pub label: String,
    pub description: String,
    pub category: String,
    pub docs_url: String,
    pub base_url: String,
    pub version_header: Option<(String, String)>,
    pub bearer_credential: String,
    pub credentials: Vec<Credential>,
    pub errors: ErrorFormat,
    /// The header that says how long to wait after a 429.
    pub retry_after_header: String,
    pub rate_limits: RateLimits,
    pub guides: Vec<Guide>,
    /// Resource families, in display order; each function's `group` names one.
    pub families: Vec<Family>,
    pub functions: Vec<Function>,
    /// `(operationId, reason)` of the document's operations no function covers; `None` when
    /// the manifest makes no claim to cover the whole document.
    pub excluded_operations: Option<Vec<(String, String)>>,
}

/// A group of functions in the docs, the catalog and `integrations:list`.
#[derive(Debug, Clone, Serialize)]
pub struct Family {
    pub name: String,
    pub title: String,
    pub summary: String,
}

/// The declared families, or, for a manifest that declares none, one per `group` in order of
/// first use, titled by its name.
fn families(manifest: &Manifest) -> Vec<Family> {
    if !manifest.families.is_empty() {
        return manifest
            .families
            .iter()
            .map(|f| Family {
                name: f.name.value.clone(),
                title: f.title.clone(),
                summary: f.summary.trim().to_string(),
            })
            .collect();
    }
    let mut found: Vec<Family> = Vec::new();
    for f in &manifest.functions {
        let Some(group) = manifest.family_of(f) else {
            continue;
        };
        if !found.iter().any(|family| family.name == group) {
            found.push(Family {
                name: group.to_string(),
                title: group.to_string(),
                summary: String::new(),
            });
        }
    }
    found
}

/// Where the provider's error answers keep each detail: JSON Pointers into the body, tried in
/// order, and headers for the trace ID.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ErrorFormat {
    pub message: Vec<String>,
    pub code: Vec<String>,
    pub long_message: Vec<String>,
    pub meta: Vec<String>,
    pub trace_id: Vec<String>,
    pub trace_id_headers: Vec<String>,
}

/// The limits calls are paced under.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RateLimits {
    /// The credential that identifies the instance and chooses its tier; empty without tiers.
    pub tier_credential: String,
    pub tiers: Vec<Tier>,
    pub exempt: Vec<Route>,
    pub endpoints: Vec<EndpointLimit>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tier {
    pub name: String,
    pub key_prefix: String,
    pub requests: u32,
    pub window_ms: u64,
    /// As the manifest writes it (`10s`), for the docs.
    pub per: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    pub method: Method,
    pub path: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EndpointLimit {
    pub name: String,
    pub routes: Vec<Route>,
    pub requests: u32,
    pub window_ms: u64,
    pub per: String,
    pub per_resource: bool,
}

/// Limit-and-offset paging of a list function.
#[derive(Debug, Clone, Serialize)]
pub struct Pagination {
    pub limit_param: String,
    pub offset_param: String,
    pub page_size: u64,
    /// JSON Pointer to a page's items; empty for a bare array.
    pub items: String,
    pub with: Vec<(String, Value)>,
    /// JSON Pointer to the total in a page, when pages carry it.
    pub total_pointer: Option<String>,
    /// A counting function and the pointer into its answer.
    pub total_function: Option<(String, String)>,
}

/// `GET /users/{user_id}` as a method and a path template.
pub(crate) fn parse_route(text: &str) -> Result<Route, String> {
    let (method, path) = text
        .split_once(' ')
        .ok_or_else(|| format!("route `{text}` is not `METHOD /path`"))?;
    let method = match method {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "DELETE" => Method::Delete,
        other => return Err(format!("route `{text}`: unknown method `{other}`")),
    };
    if !path.starts_with('/') || path.contains(char::is_whitespace) {
        return Err(format!("route `{text}`: the path must start with `/`"));
    }
    for part in parse_template(path).map_err(|e| format!("route `{text}`: {e}"))? {
        if let TemplatePart::Placeholder { relative: true, .. } = part {
            return Err(format!("route `{text}`: `{{+name}}` cannot be matched"));
        }
    }
    Ok(Route {
        method,
        path: path.to_string(),
    })
}

/// `10s`, `1h`, `500ms` in milliseconds.
pub(crate) fn parse_window(text: &str) -> Result<u64, String> {
    let duration = humantime::parse_duration(text)
        .map_err(|e| format!("`{text}` is not a duration such as `10s` or `1h`: {e}"))?;
    let ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return Err(format!("`{text}` must be at least 1 ms"));
    }
    Ok(ms)
}

#[derive(Debug, Clone, Serialize)]
pub struct Credential {
    pub name: String,
    pub description: String,
    pub required: bool,
    pub secret: bool,
    pub env: Option<String>,
    pub prefix: Option<String>,
    pub reject_prefixes: Vec<(String, String)>,
    pub example: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Guide {
    /// The file's name without `.md`: the page is `<provider>.guide.<name>`.
    pub name: String,
    pub title: String,
    /// A sentence or two for the namespace index; empty when the manifest gives none.
    pub essentials: String,
    pub markdown: String,
}

/// The name of a guide's page: its file name without the folder and `.md`.
pub(crate) fn guide_name(file: &str) -> &str {
    let name = file.rsplit('/').next().unwrap_or(file);
    name.strip_suffix(".md").unwrap_or(name)
}

#[derive(Debug, Clone, Serialize)]
pub struct Function {
    pub name: String,
    pub slug: String,
    pub aliases: Vec<String>,
    /// Rust name of the handler (sanitized `name`).
    pub rust_name: String,
    /// Rust name of the parameters struct.
    pub params_type: String,
    /// Rust name of the static metadata item.
    pub meta_static: String,
    pub title: String,
    pub group: String,
    pub summary: String,
    pub description: String,
    pub operation: Operation,
    pub destructive: bool,
    /// Safe to repeat: declared, or what the HTTP method implies.
    pub idempotent: bool,
    pub method: Method,
    pub path: String,
    pub path_parts: Vec<PathPart>,
    pub fixed_query: Vec<(String, Value)>,
    /// How the body parameters are encoded.
    pub body: BodyFormat,
    pub params: Vec<Param>,
    pub response: Option<ResponseWrap>,
    pub pagination: Option<Pagination>,
    pub examples: Vec<Example>,
    /// Lua call signature such as `({user_id, limit?})`.
    pub signature: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PathPart {
    Literal {
        text: String,
    },
    /// One percent-encoded segment from the parameter at `param` (index into `params`).
    Segment {
        param: usize,
    },
    /// A whole relative path (`{+name}`).
    Relative {
        param: usize,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Param {
    /// Script-facing name.
    pub name: String,
    pub wire_name: String,
    /// Rust field name (sanitized `name`; keywords become raw identifiers).
    pub rust_name: String,
    pub aliases: Vec<String>,
    pub location: ParamLocation,
    #[serde(rename = "type")]
    pub ty: ParamType,
    pub required: bool,
    pub description: String,
    pub default: Option<Value>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub max_items: Option<u64>,
    #[serde(rename = "enum")]
    pub allowed: Vec<Value>,
    pub example: Option<Value>,
    pub spread: bool,
    /// For a file: the media types accepted; empty accepts any.
    pub content_types: Vec<String>,
    /// For a file: the most bytes it may have.
    pub max_bytes: Option<u64>,
    /// What the provider's OpenAPI document says of `required`, where the manifest knowingly
    /// differs.
    pub openapi_required: Option<bool>,
    /// A query array's items are sent as one comma-separated value when `false`; repeated keys
    /// otherwise.
    pub explode: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResponseWrap {
    pub nest_under: String,
    pub with_fields: Vec<(String, Value)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Example {
    pub title: String,
    pub lua: String,
}

/// A placeholder in a path template: `{name}` or `{+name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TemplatePart {
    Literal(String),
    Placeholder { name: String, relative: bool },
}

/// Splits a path template into literals and placeholders; `Err` describes a malformed brace.
pub(crate) fn parse_template(template: &str) -> Result<Vec<TemplatePart>, String> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("unbalanced `}` in path".to_string());
        }
        if open > 0 {
            parts.push(TemplatePart::Literal(rest[..open].to_string()));
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| "unclosed `{` in path".to_string())?;
        let inner = &after[..close];
        let (name, relative) = match inner.strip_prefix('+') {
            Some(name) => (name, true),
            None => (inner, false),
        };
        if name.is_empty() || name.contains('{') {
            return Err(format!("malformed placeholder `{{{inner}}}` in path"));
        }
        parts.push(TemplatePart::Placeholder {
            name: name.to_string(),
            relative,
        });
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(TemplatePart::Literal(rest.to_string()));
    }
    Ok(parts)
}

/// The marker a guide puts where the generated table of rate limits belongs.
pub const RATE_LIMITS_MARKER: &str = "<!-- generated: rate limits -->";

/// Builds the model from a manifest that passed validation.
pub(crate) fn build(manifest_path: &str, manifest: &Manifest, guides: Vec<Guide>) -> Provider {
    let mut provider = build_provider(manifest_path, manifest, guides);
    if provider
        .guides
        .iter()
        .any(|g| g.markdown.contains(RATE_LIMITS_MARKER))
    {
        let table = rate_limits_table(&provider);
        for guide in &mut provider.guides {
            guide.markdown = guide.markdown.replace(RATE_LIMITS_MARKER, &table);
        }
    }
    provider
}

/// The declared limits as a markdown table, with the functions each endpoint limit covers.
fn rate_limits_table(provider: &Provider) -> String {
    let limits = &provider.rate_limits;
    let mut rows = vec![
        "| Limit | Requests | Budget | Functions |".to_string(),
        "|---|---|---|---|".to_string(),
    ];
    for tier in &limits.tiers {
        let prefix = if tier.key_prefix.is_empty() {
            String::new()
        } else {
            format!(" (`{}…` keys)", tier.key_prefix)
        };
        rows.push(format!(
            "| {} instance{prefix} | every request of the key | {} per {} | all |",
            tier.name, tier.requests, tier.per
        ));
    }
    for endpoint in &limits.endpoints {
        let routes: Vec<String> = endpoint
            .routes
            .iter()
            .map(|r| format!("`{} {}`", r.method, r.path))
            .collect();
        let functions: Vec<String> = provider
            .functions
            .iter()
            .filter(|f| endpoint.routes.iter().any(|r| same_route(r, f)))
            .map(|f| format!("`{}`", f.name))
            .collect();
        rows.push(format!(
            "| {} | {} | {} per {}{} | {} |",
            endpoint.name,
            routes.join(", "),
            endpoint.requests,
            endpoint.per,
            if endpoint.per_resource {
                " for each resource"
            } else {
                ""
            },
            if functions.is_empty() {
                "raw helpers only".to_string()
            } else {
                functions.join(", ")
            }
        ));
    }
    if !limits.exempt.is_empty() {
        let exempt: Vec<String> = limits
            .exempt
            .iter()
            .map(|r| format!("`{} {}`", r.method, r.path))
            .collect();
        rows.push(format!("| not counted | {} | none | |", exempt.join(", ")));
    }
    rows.join("\n")
}

/// Whether a function's method and path template are the route's (placeholders match
/// placeholders, whatever their names).
fn same_route(route: &Route, f: &Function) -> bool {
    let segments = |path: &str| -> Vec<Option<String>> {
        path.trim_matches('/')
            .split('/')
            .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_string()))
            .collect()
    };
    route.method == f.method && segments(&route.path) == segments(&f.path)
}

fn build_provider(manifest_path: &str, manifest: &Manifest, guides: Vec<Guide>) -> Provider {
    let p = &manifest.provider;
    Provider {
        manifest_path: manifest_path.to_string(),
        name: p.name.value.clone(),
        module: rust_ident_text(&p.name.value),
        label: p.label.clone(),
        description: p.description.trim().to_string(),
        category: p.category.clone(),
        docs_url: p.docs_url.clone(),
        base_url: p.base_url.clone(),
        version_header: p
            .version_header
            .as_ref()
            .map(|h| (h.name.clone(), h.value.clone())),
        bearer_credential: p.auth.credential.value.clone(),
        credentials: p
            .credentials
            .iter()
            .map(|(name, c)| Credential {
                name: name.value.clone(),
                description: c.description.trim().to_string(),
                required: c.required,
                secret: c.secret,
                env: c.env.clone(),
                prefix: c.prefix.clone(),
                reject_prefixes: c
                    .reject_prefixes
                    .iter()
                    .map(|r| (r.prefix.clone(), r.reason.clone()))
                    .collect(),
                example: c.example.clone(),
            })
            .collect(),
        errors: p.errors.as_ref().map(error_format).unwrap_or_default(),
        retry_after_header: p
            .rate_limits
            .as_ref()
            .and_then(|r| r.retry_after_header.clone())
            .unwrap_or_else(|| DEFAULT_RETRY_AFTER_HEADER.to_string()),
        rate_limits: p.rate_limits.as_ref().map(rate_limits).unwrap_or_default(),
        guides,
        families: families(manifest),
        excluded_operations: manifest.excluded_operations.as_ref().map(|list| {
            list.iter()
                .map(|e| (e.operation.value.clone(), e.reason.trim().to_string()))
                .collect()
        }),
        functions: manifest
            .functions
            .iter()
            .map(|f| build_function(f, manifest.family_of(f).unwrap_or_default()))
            .collect(),
    }
}

/// The standard header (RFC 9110 §10.2.3), used unless the manifest names another.
pub const DEFAULT_RETRY_AFTER_HEADER: &str = "Retry-After";

fn rate_limits(spec: &manifest::RateLimitSpec) -> RateLimits {
    let routes = |list: &[serde_saphyr::Spanned<String>]| -> Vec<Route> {
        list.iter()
            .filter_map(|r| parse_route(&r.value).ok())
            .collect()
    };
    let (tier_credential, tiers, exempt) = match &spec.instance {
        Some(instance) => (
            instance.credential.value.clone(),
            instance
                .tiers
                .iter()
                .map(|t| Tier {
                    name: t.name.value.clone(),
                    key_prefix: t.key_prefix.clone(),
                    requests: t.requests,
                    window_ms: parse_window(&t.per.value).unwrap_or(1),
                    per: t.per.value.clone(),
                })
                .collect(),
            routes(&instance.exempt),
        ),
        None => (String::new(), Vec::new(), Vec::new()),
    };
    RateLimits {
        tier_credential,
        tiers,
        exempt,
        endpoints: spec
            .endpoints
            .iter()
            .map(|e| EndpointLimit {
                name: e.name.clone(),
                routes: routes(&e.routes),
                requests: e.requests,
                window_ms: parse_window(&e.per.value).unwrap_or(1),
                per: e.per.value.clone(),
                per_resource: e.per_resource,
            })
            .collect(),
    }
}

fn pagination(spec: &manifest::PaginationSpec) -> Pagination {
    let total = spec.total.as_ref();
    Pagination {
        limit_param: spec
            .limit
            .as_ref()
            .map_or_else(|| "limit".to_string(), |l| l.value.clone()),
        offset_param: spec
            .offset
            .as_ref()
            .map_or_else(|| "offset".to_string(), |o| o.value.clone()),
        page_size: spec.page_size.value,
        items: spec
            .items
            .as_ref()
            .map(|i| i.value.clone())
            .unwrap_or_default(),
        with: spec
            .with
            .iter()
            .map(|(k, v)| (k.value.clone(), v.clone()))
            .collect(),
        total_pointer: total
            .filter(|t| t.function.is_none())
            .map(|t| t.pointer.value.clone()),
        total_function: total.and_then(|t| {
            t.function
                .as_ref()
                .map(|f| (f.value.clone(), t.pointer.value.clone()))
        }),
    }
}

fn error_format(spec: &manifest::ErrorFormatSpec) -> ErrorFormat {
    let pointers = |list: &[serde_saphyr::Spanned<String>]| -> Vec<String> {
        list.iter().map(|p| p.value.clone()).collect()
    };
    ErrorFormat {
        message: pointers(&spec.message),
        code: pointers(&spec.code),
        long_message: pointers(&spec.long_message),
        meta: pointers(&spec.meta),
        trace_id: pointers(&spec.trace_id),
        trace_id_headers: spec.trace_id_header.clone(),
    }
}

fn build_function(f: &manifest::FunctionSpec, family: &str) -> Function {
    let params: Vec<Param> = f
        .params
        .iter()
        .map(|(name, p)| build_param(&name.value, p))
        .collect();
    let path_parts = parse_template(&f.http.path.value)
        .unwrap_or_default()
        .into_iter()
        .map(|part| match part {
            TemplatePart::Literal(text) => PathPart::Literal { text },
            TemplatePart::Placeholder { name, relative } => {
                let param = params
                    .iter()
                    .position(|p| p.location == ParamLocation::Path && p.wire_name == name)
                    .unwrap_or_default();
                if relative {
                    PathPart::Relative { param }
                } else {
                    PathPart::Segment { param }
                }
            }
        })
        .collect();
    let signature = signature(&params);
    Function {
        name: f.name.value.clone(),
        slug: f.slug.value.clone(),
        aliases: f.aliases.iter().map(|a| a.value.clone()).collect(),
        rust_name: rust_ident_text(&f.name.value),
        params_type: format!("{}Params", f.name.value.to_upper_camel_case()),
        meta_static: f.name.value.to_uppercase(),
        title: f.title.clone(),
        group: family.to_string(),
        summary: f.summary.trim().to_string(),
        description: f.description.trim().to_string(),
        operation: f.operation.value,
        destructive: f.destructive,
        idempotent: f
            .idempotent
            .unwrap_or_else(|| f.http.method.value.idempotent()),
        method: f.http.method.value,
        path: f.http.path.value.clone(),
        path_parts,
        fixed_query: f
            .http
            .query
            .iter()
            .map(|(k, v)| (k.value.clone(), v.clone()))
            .collect(),
        body: f.http.body_format(),
        params,
        pagination: f.pagination.as_ref().map(pagination),
        response: f.response.as_ref().map(|r| ResponseWrap {
            nest_under: r.nest_under.clone(),
            with_fields: r
                .with_fields
                .iter()
                .map(|(k, v)| (k.value.clone(), v.clone()))
                .collect(),
        }),
        examples: f
            .examples
            .iter()
            .map(|e| Example {
                title: e.title.clone(),
                lua: e.lua.value.trim_end().to_string(),
            })
            .collect(),
        signature,
    }
}

fn build_param(name: &str, p: &manifest::ParamSpec) -> Param {
    Param {
        name: name.to_string(),
        wire_name: p
            .wire_name
            .as_ref()
            .map_or_else(|| name.to_string(), |w| w.value.clone()),
        rust_name: rust_ident_text(name),
        aliases: p.aliases.iter().map(|a| a.value.clone()).collect(),
        location: p.location.value,
        ty: p.ty.value,
        required: p.required,
        description: p.description.trim().to_string(),
        default: p.default.as_ref().map(|d| d.value.clone()),
        minimum: p.minimum.as_ref().map(|m| m.value),
        maximum: p.maximum.as_ref().map(|m| m.value),
        max_items: p.max_items.as_ref().map(|m| m.value),
        allowed: p
            .allowed
            .as_ref()
            .map(|a| a.value.clone())
            .unwrap_or_default(),
        example: p.example.as_ref().map(|e| e.value.clone()),
        spread: p.spread,
        content_types: p
            .content_types
            .as_ref()
            .map(|c| c.value.clone())
            .unwrap_or_default(),
        max_bytes: p.max_bytes.as_ref().map(|m| m.value),
        openapi_required: p.openapi_required.as_ref().map(|r| r.value),
        explode: p.explode.as_ref().is_none_or(|e| e.value),
    }
}

/// `({user_id, limit?})`: required names first as declared, optional ones marked `?`.
fn signature(params: &[Param]) -> String {
    let names: Vec<String> = params
        .iter()
        .map(|p| {
            if p.required {
                p.name.clone()
            } else {
                format!("{}?", p.name)
            }
        })
        .collect();
    if names.is_empty() {
        "()".to_string()
    } else {
        format!("({{{}}})", names.join(", "))
    }
}

fn scalar_schema(t: ScalarType) -> Value {
    json!({ "type": t.as_str() })
}

impl Param {
    /// JSON Schema of this parameter's value.
    pub fn schema(&self) -> Value {
        let mut schema = match self.ty {
            ParamType::Scalar(t) => scalar_schema(t),
            ParamType::Array(t) => json!({ "type": "array", "items": scalar_schema(t) }),
            ParamType::File => self.file_schema(),
        };
        let Value::Object(map) = &mut schema else {
            return schema;
        };
        map.insert(
            "description".into(),
            Value::String(self.description.clone()),
        );
        let bounded = match map.get_mut("items") {
            Some(Value::Object(items)) => items,
            _ => map,
        };
        if let Some(min) = self.minimum {
            bounded.insert("minimum".into(), number(min));
        }
        if let Some(max) = self.maximum {
            bounded.insert("maximum".into(), number(max));
        }
        if !self.allowed.is_empty() {
            bounded.insert("enum".into(), Value::Array(self.allowed.clone()));
        }
        if let Some(max_items) = self.max_items {
            map.insert("maxItems".into(), Value::from(max_items));
        }
        if let Some(default) = &self.default {
            map.insert("default".into(), default.clone());
        }
        if let Some(example) = &self.example {
            map.insert("examples".into(), Value::Array(vec![example.clone()]));
        }
        schema
    }
}

impl Param {
    /// A file table: its bytes (`content_base64` for JSON callers, `content` for text or Lua
    /// byte strings), filename and content type.
    fn file_schema(&self) -> Value {
        let mut content_type = json!({
            "type": "string",
            "description": "Media type, such as image/png. Guessed from the filename (then the first bytes) when absent.",
        });
        if !self.content_types.is_empty()
            && let Some(map) = content_type.as_object_mut()
        {
            map.insert("enum".into(), json!(self.content_types));
        }
        json!({
            "type": "object",
            "properties": {
                "content_base64": {
                    "type": "string",
                    "contentEncoding": "base64",
                    "description": "The file's bytes in base64 (a data: URL is accepted too). Give this or `content`.",
                },
                "content": {
                    "type": "string",
                    "description": "The file's bytes as a string: from Lua any byte string, from JSON text sent as UTF-8. Give this or `content_base64`.",
                },
                "filename": {
                    "type": "string",
                    "description": "A file name such as logo.png, without a directory.",
                },
                "content_type": content_type,
            },
            "additionalProperties": false,
        })
    }
}

/// Whole bounds print as integers in schemas and docs.
pub(crate) fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

impl Function {
    /// JSON Schema of the argument table: names, aliases (as extra properties), required names.
    pub fn input_schema(&self) -> Value {
        let mut properties = Map::new();
        for p in &self.params {
            properties.insert(p.name.clone(), p.schema());
            for alias in &p.aliases {
                properties.insert(
                    alias.clone(),
                    json!({ "$ref": format!("#/properties/{}", p.name), "description": format!("Alias of `{}`.", p.name) }),
                );
            }
        }
        let required: Vec<&str> = self
            .params
            .iter()
            .filter(|p| p.required)
            .map(|p| p.name.as_str())
            .collect();
        json!({
            "type": "object",
            "title": self.title,
            "description": self.summary,
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        })
    }
}
