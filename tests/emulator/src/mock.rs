//! Answers for the operations no stateful handler serves, built from Clerk's OpenAPI spec the way
//! Stoplight Prism mocks: the request is checked for the path, query and body values the
//! operation requires, and the answer is the lowest 2xx response the operation declares, from
//! its example or synthesized from its schema.
//!
//! Everything is computed once, when the emulator starts; answering a request only checks it and
//! copies the prepared body (writing the path's ID into it where that is safe). The document is
//! input: a part of it that cannot be understood gives a plainer answer, never a panic.

use kosmo_codegen::openapi::Document;
use serde_json::{Map, Value};

use crate::api::{ApiError, Query};

/// Every `*_at` integer of a synthesized answer: 2023-11-14T22:13:20Z in Unix milliseconds.
pub const MOCK_TIMESTAMP_MS: i64 = 1_700_000_000_000;
/// The same instant for `format: date-time` strings.
const MOCK_DATE_TIME: &str = "2023-11-14T22:13:20Z";
const MOCK_DATE: &str = "2023-11-14";

/// How deeply a synthesized value nests before the synthesizer stops expanding.
const MAX_DEPTH: usize = 24;
/// How often one `$ref` may be open at once while synthesizing: a recursive schema is expanded
/// this many times, then cut short.
const MAX_OPEN_REFS: usize = 2;

/// Which body an operation takes, as far as the mock checks it.
#[derive(Debug)]
pub(crate) enum BodyShape {
    /// A JSON object (`array: false`) or a JSON array of objects, each needing `required_fields`.
    Json {
        required: bool,
        array: bool,
        required_fields: Vec<String>,
    },
    /// `multipart/form-data` with these required form fields.
    Multipart { required_fields: Vec<String> },
}

/// One operation of the document, ready to be answered as a mock.
#[derive(Debug)]
pub(crate) struct MockOperation {
    /// The template's placeholder names, in order.
    path_params: Vec<String>,
    required_query: Vec<String>,
    body: Option<BodyShape>,
    status: u16,
    /// `None` for a response without content (204, 202).
    response: Option<Value>,
    /// Whether the last placeholder's value becomes the answer's `id`.
    echoes_id: bool,
    /// `security: []`: Clerk answers without a key (`GET /public/interstitial`).
    public: bool,
}

/// A request body as the mock sees it, parsed by the API layer for the operation's shape.
pub(crate) enum MockBody {
    Object(Map<String, Value>),
    Array(Vec<Value>),
    /// The names of the fields of a `multipart/form-data` body.
    FormFields(Vec<String>),
}

impl MockOperation {
    /// Prepares `operation`, found under `path` (the spec's template) in `document`.
    pub(crate) fn new(document: &Document, path: &str, operation: &Value) -> MockOperation {
        let parameters = parameters(document, path, operation);
        let path_params = template_params(path);
        let required_query = parameters
            .iter()
            .filter(|p| p["in"] == "query" && p["required"] == Value::Bool(true))
            .filter_map(|p| p["name"].as_str().map(str::to_string))
            .collect();
        let (status, response_schema, response) = success_response(document, operation);
        let echoes_id = response.as_ref().is_some_and(Value::is_object)
            && response_schema.is_some_and(|schema| echoes_path_id(document, path, schema));
        MockOperation {
            path_params,
            required_query,
            body: body_shape(document, operation),
            status,
            response,
            echoes_id,
            public: operation.get("security") == Some(&Value::Array(Vec::new())),
        }
    }

    /// Whether the request must carry the secret key: unless the operation declares
    /// `security: []`, as every stateful route does.
    pub(crate) fn requires_key(&self) -> bool {
        !self.public
    }

    pub(crate) fn body_shape(&self) -> Option<&BodyShape> {
        self.body.as_ref()
    }

    /// Prism's request validation, reduced to what Clerk reports field by field: a missing
    /// path value, query parameter or body field is Clerk's 422 `form_param_missing`.
    pub(crate) fn check(
        &self,
        params: &[String],
        query: Query<'_>,
        body: &MockBody,
    ) -> Result<(), ApiError> {
        for (name, value) in self.path_params.iter().zip(params) {
            if value.is_empty() {
                return Err(ApiError::missing_param(name));
            }
        }
        if let Some(name) = self
            .required_query
            .iter()
            .find(|name| query.one(name).is_none_or(str::is_empty))
        {
            return Err(ApiError::missing_param(name));
        }
        let required_fields = match &self.body {
            Some(BodyShape::Json {
                required_fields, ..
            })
            | Some(BodyShape::Multipart {
                required_fields, ..
            }) => required_fields.as_slice(),
            None => &[],
        };
        let missing_in = |object: &Map<String, Value>| {
            required_fields
                .iter()
                .find(|field| object.get(field.as_str()).is_none_or(Value::is_null))
        };
        let missing = match body {
            MockBody::Object(object) => missing_in(object),
            MockBody::Array(items) => items.iter().find_map(|item| match item {
                Value::Object(object) => missing_in(object),
                // An item that is no object lacks every field.
                _ => required_fields.first(),
            }),
            MockBody::FormFields(fields) => {
                required_fields.iter().find(|field| !fields.contains(field))
            }
        };
        match missing {
            Some(field) => Err(ApiError::missing_param(field)),
            None => Ok(()),
        }
    }

    /// The status and body to answer with; `params` are the request's placeholder values.
    pub(crate) fn answer(&self, params: &[String]) -> (u16, Option<Value>) {
        let mut body = self.response.clone();
        if self.echoes_id
            && let (Some(Value::Object(object)), Some(id)) = (body.as_mut(), params.last())
        {
            object.insert("id".to_string(), Value::String(id.clone()));
        }
        (self.status, body)
    }
}

/// A value for `schema` as the mock builds one: the schema's `example`, else its `default`,
/// else its first `enum` value, else one made from its type, level by level. See the README's
/// "Stateful and mocked operations" for the rules. Deterministic.
pub fn example_value(document: &Document, schema: &Value) -> Value {
    Synthesizer { document }.value(schema, None, &mut Vec::new())
}

/// The placeholder names of a template, in order: `/users/{user_id}/ban` → `["user_id"]`.
pub(crate) fn template_params(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_string)
        .collect()
}

/// The operation's parameters and its path item's, resolved; the operation's win by name and
/// location, as OpenAPI says.
fn parameters<'d>(document: &'d Document, path: &str, operation: &'d Value) -> Vec<&'d Value> {
    let item_parameters = document
        .root()
        .get("paths")
        .and_then(|paths| paths.get(path))
        .map(|item| document.resolve(item))
        .and_then(|item| item.get("parameters"))
        .and_then(Value::as_array);
    let own: Vec<&Value> = operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| document.resolve(p))
        .collect();
    let mut all = own.clone();
    for inherited in item_parameters.into_iter().flatten() {
        let inherited = document.resolve(inherited);
        let overridden = own
            .iter()
            .any(|p| p["name"] == inherited["name"] && p["in"] == inherited["in"]);
        if !overridden {
            all.push(inherited);
        }
    }
    all
}

fn body_shape(document: &Document, operation: &Value) -> Option<BodyShape> {
    let request_body = document.resolve(operation.get("requestBody")?);
    let required = request_body["required"] == Value::Bool(true);
    let content = request_body.get("content")?.as_object()?;
    if let Some(media) = json_media(content) {
        let schema = document.merged_schema(&media["schema"]);
        let array = schema["type"] == "array";
        let object_schema = if array {
            document.merged_schema(&schema["items"])
        } else {
            schema
        };
        return Some(BodyShape::Json {
            required,
            array,
            required_fields: required_names(&object_schema),
        });
    }
    let form = content
        .get("multipart/form-data")
        .or_else(|| content.get("application/x-www-form-urlencoded"))?;
    Some(BodyShape::Multipart {
        required_fields: required_names(&document.merged_schema(&form["schema"])),
    })
}

fn required_names(schema: &Value) -> Vec<String> {
    schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|name| name.as_str().map(str::to_string))
        .collect()
}

/// `application/json`, else any JSON media type (`application/problem+json`, ...).
fn json_media(content: &Map<String, Value>) -> Option<&Value> {
    content.get("application/json").or_else(|| {
        content
            .iter()
            .find(|(media, _)| media.contains("json"))
            .map(|(_, value)| value)
    })
}

/// The lowest 2xx status the operation declares (200 when it declares none), that response's
/// JSON schema, and the body: the media type's `example`, else its first `examples` entry, else
/// one synthesized from the schema; `None` when the response has no content.
fn success_response<'d>(
    document: &'d Document,
    operation: &'d Value,
) -> (u16, Option<&'d Value>, Option<Value>) {
    let responses = operation["responses"].as_object();
    let lowest = responses
        .into_iter()
        .flatten()
        .filter_map(|(status, response)| {
            // `2XX` stands for any success: rank it after every explicit 2xx.
            let rank = match status.as_str() {
                "2XX" | "2xx" => 299,
                explicit => explicit
                    .parse::<u16>()
                    .ok()
                    .filter(|s| (200..300).contains(s))?,
            };
            Some((rank, response))
        })
        .min_by_key(|(rank, _)| *rank);
    let Some((rank, response)) = lowest else {
        return (200, None, None);
    };
    let status = if rank == 299 { 200 } else { rank };
    let response = document.resolve(response);
    let Some(media) = response
        .get("content")
        .and_then(Value::as_object)
        .and_then(json_media)
    else {
        return (status, None, None);
    };
    let schema = media.get("schema");
    let example = media.get("example").cloned().or_else(|| {
        let first = media.get("examples")?.as_object()?.values().next()?;
        document.resolve(first).get("value").cloned()
    });
    let body = example.unwrap_or_else(|| {
        schema.map_or(Value::Object(Map::new()), |schema| {
            example_value(document, schema)
        })
    });
    (status, schema, Some(body))
}

/// Whether the answer is the object the path's last placeholder names, so that placeholder's
/// value belongs in its `id`: `/jwt_templates/{template_id}` answers the `jwt_template` with that
/// ID, `/users/{user_id}/ban` the `user`. Deliberately narrow: the response needs a string `id`
/// and an `object` tag that the placeholder's name (without `_id`) or the collection segment
/// before it names; `/organizations/{organization_id}/memberships/{user_id}` does not qualify.
fn echoes_path_id(document: &Document, path: &str, response_schema: &Value) -> bool {
    let schema = document.merged_schema(response_schema);
    let properties = &schema["properties"];
    let id_type = document.merged_schema(&properties["id"]);
    if id_type["type"] != "string" {
        return false;
    }
    let object = document.merged_schema(&properties["object"]);
    let Some(tag) = object["enum"][0]
        .as_str()
        .or_else(|| object["example"].as_str())
        .or_else(|| object["default"].as_str())
    else {
        return false;
    };
    let segments: Vec<&str> = path.split('/').collect();
    let Some(last) = segments
        .iter()
        .rposition(|s| s.starts_with('{') && s.ends_with('}'))
    else {
        return false;
    };
    let name = segments[last].trim_start_matches('{').trim_end_matches('}');
    let stem = snake_case(
        name.strip_suffix("_id")
            .or_else(|| name.strip_suffix("ID"))
            .or_else(|| name.strip_suffix("Id"))
            .unwrap_or(name),
    );
    let collection = last
        .checked_sub(1)
        .and_then(|i| segments.get(i))
        .map(|s| s.strip_suffix('s').unwrap_or(s));
    tag == stem || tag.ends_with(&format!("_{stem}")) || collection == Some(tag)
}

/// `apiKey` → `api_key`; already snake-cased names stay as they are.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

struct Synthesizer<'d> {
    document: &'d Document,
}

impl<'d> Synthesizer<'d> {
    /// Whether expanding `schema` here would go deeper than the recursion guard allows.
    fn exhausted(&self, schema: &Value, open: &[&str]) -> bool {
        let reference = schema.get("$ref").and_then(Value::as_str);
        let repeats = reference.map_or(0, |r| open.iter().filter(|o| **o == r).count());
        repeats >= MAX_OPEN_REFS || open.len() >= MAX_DEPTH
    }

    /// `name` is the property the value is for, if any (it picks timestamps and placeholders);
    /// `open` the `$ref`s being expanded, to stop recursive schemas.
    fn value(&self, schema: &'d Value, name: Option<&str>, open: &mut Vec<&'d str>) -> Value {
        let reference = schema.get("$ref").and_then(Value::as_str);
        let resolved = self.document.resolve(schema);
        if self.exhausted(schema, open) {
            return cut_short(resolved);
        }
        if let Some(reference) = reference {
            open.push(reference);
        }
        let value = self.expand(resolved, name, open);
        if reference.is_some() {
            open.pop();
        }
        value
    }

    fn expand(&self, schema: &'d Value, name: Option<&str>, open: &mut Vec<&'d str>) -> Value {
        let Some(object) = schema.as_object() else {
            return Value::Null;
        };
        if let Some(example) = object.get("example") {
            return example.clone();
        }
        if let Some(default) = object.get("default") {
            return default.clone();
        }
        if let Some(first) = object
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|values| {
                values
                    .iter()
                    .find(|v| !v.is_null())
                    .or_else(|| values.first())
            })
        {
            return first.clone();
        }
        if let Some(parts) = object.get("allOf").and_then(Value::as_array) {
            return self.all_of(object, parts, name, open);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = object.get(key).and_then(Value::as_array) {
                return self.one_of(object, branches, name, open);
            }
        }
        self.typed(object, name, open)
    }

    /// The parts merged: every part's properties (the first part to write a key wins), and the
    /// schema's own. A part that is not an object (an `allOf` wrapping a string schema to make
    /// it nullable) gives the value.
    fn all_of(
        &self,
        object: &'d Map<String, Value>,
        parts: &'d [Value],
        name: Option<&str>,
        open: &mut Vec<&'d str>,
    ) -> Value {
        let nullable = object.get("nullable") == Some(&Value::Bool(true));
        if nullable && parts.iter().any(|part| self.exhausted(part, open)) {
            return Value::Null;
        }
        let mut merged = Map::new();
        for part in parts {
            match self.value(part, name, open) {
                Value::Object(fields) => absorb(&mut merged, fields),
                other if merged.is_empty() && !object.contains_key("properties") => return other,
                _ => {}
            }
        }
        if let Value::Object(own) = self.properties(object, open) {
            absorb(&mut merged, own);
        }
        Value::Object(merged)
    }

    /// The first branch that is not `{type: "null"}`, with the discriminator property set to
    /// the mapping's name for that branch, plus the schema's own properties.
    fn one_of(
        &self,
        object: &'d Map<String, Value>,
        branches: &'d [Value],
        name: Option<&str>,
        open: &mut Vec<&'d str>,
    ) -> Value {
        let Some(branch) = branches
            .iter()
            .find(|b| b.get("type").and_then(Value::as_str) != Some("null"))
        else {
            return Value::Null;
        };
        let mut value = self.value(branch, name, open);
        if let Value::Object(fields) = &mut value {
            let discriminator = object.get("discriminator");
            let property = discriminator
                .and_then(|d| d.get("propertyName"))
                .and_then(Value::as_str);
            let target = branch.get("$ref").and_then(Value::as_str);
            let tag = discriminator
                .and_then(|d| d.get("mapping"))
                .and_then(Value::as_object)
                .and_then(|mapping| {
                    mapping
                        .iter()
                        .find(|(_, to)| to.as_str().is_some() && to.as_str() == target)
                })
                .map(|(tag, _)| tag.clone());
            if let (Some(property), Some(tag)) = (property, tag) {
                fields.insert(property.to_string(), Value::String(tag));
            }
            if let Value::Object(own) = self.properties(object, open) {
                absorb(fields, own);
            }
        }
        value
    }

    /// Every declared property (required or not), then any required field the schema does not
    /// declare: from `additionalProperties` when that is a schema, else null (any value fits an
    /// undeclared field). `{}` for a schema without either.
    fn properties(&self, object: &'d Map<String, Value>, open: &mut Vec<&'d str>) -> Value {
        let mut fields = Map::new();
        if let Some(properties) = object.get("properties").and_then(Value::as_object) {
            for (key, schema) in properties {
                let value = self.value(schema, Some(key), open);
                fields.insert(key.clone(), value);
            }
        }
        let required = object.get("required").and_then(Value::as_array);
        for key in required.into_iter().flatten().filter_map(Value::as_str) {
            if !fields.contains_key(key) {
                let value = match object.get("additionalProperties") {
                    Some(extra @ Value::Object(_)) => self.value(extra, Some(key), open),
                    _ => Value::Null,
                };
                fields.insert(key.to_string(), value);
            }
        }
        Value::Object(fields)
    }

    fn typed(
        &self,
        object: &'d Map<String, Value>,
        name: Option<&str>,
        open: &mut Vec<&'d str>,
    ) -> Value {
        let declared = object.get("type").and_then(|t| match t {
            Value::String(t) => Some(t.as_str()),
            // OpenAPI 3.1 writes `type: [string, "null"]`: the first real type.
            Value::Array(types) => types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null"),
            _ => None,
        });
        let kind = declared.or_else(|| object.contains_key("properties").then_some("object"));
        match kind {
            Some("object") => self.properties(object, open),
            Some("array") => {
                let empty = object.get("maxItems").and_then(Value::as_u64) == Some(0);
                match object.get("items") {
                    // A recursive item ends the recursion as an empty list.
                    Some(items) if !empty && !self.exhausted(items, open) => {
                        Value::Array(vec![self.value(items, None, open)])
                    }
                    _ => Value::Array(Vec::new()),
                }
            }
            Some("string") => Value::String(string_for(object, name)),
            Some("integer") => Value::from(integer_for(object, name)),
            Some("number") => number_for(object),
            Some("boolean") => Value::Bool(true),
            // Any value fits an untyped schema; an empty object reads best.
            _ if object.get("nullable") == Some(&Value::Bool(true)) => Value::Null,
            _ => Value::Object(Map::new()),
        }
    }
}

/// Adds `fields` to `target`: a key it lacks, or holds null for (a required field another `allOf`
/// part declares), takes the new value.
fn absorb(target: &mut Map<String, Value>, fields: Map<String, Value>) {
    for (key, value) in fields {
        match target.get(&key) {
            Some(existing) if !existing.is_null() => {}
            _ => {
                target.insert(key, value);
            }
        }
    }
}

/// What a recursive schema becomes where the synthesizer stops: null when allowed, else an empty
/// value of its type.
fn cut_short(schema: &Value) -> Value {
    if schema.get("nullable") == Some(&Value::Bool(true)) {
        return Value::Null;
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => Value::Array(Vec::new()),
        Some("string") => Value::String(String::new()),
        Some("integer") => Value::from(0),
        Some("number") => Value::from(0.0),
        Some("boolean") => Value::Bool(false),
        _ => Value::Object(Map::new()),
    }
}

/// A string by `format`, else a readable placeholder naming its property, within the length
/// bounds.
fn string_for(schema: &Map<String, Value>, name: Option<&str>) -> String {
    let text = match schema.get("format").and_then(Value::as_str) {
        Some("date-time") => MOCK_DATE_TIME.to_string(),
        Some("date") => MOCK_DATE.to_string(),
        Some("email") => "user@example.com".to_string(),
        Some("uri" | "url") => "https://example.com".to_string(),
        Some("uuid") => "00000000-0000-4000-8000-000000000000".to_string(),
        Some("byte") => "ZXhhbXBsZQ==".to_string(),
        _ => format!("example_{}", name.unwrap_or("string")),
    };
    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0);
    let max = schema.get("maxLength").and_then(Value::as_u64);
    let mut chars: Vec<char> = text.chars().collect();
    let min = usize::try_from(min).unwrap_or(usize::MAX).min(4096);
    while chars.len() < min {
        chars.push('x');
    }
    if let Some(max) = max.and_then(|m| usize::try_from(m).ok()) {
        chars.truncate(max.max(min));
    }
    chars.into_iter().collect()
}

/// Timestamps (`*_at`) are [`MOCK_TIMESTAMP_MS`]; other integers are 0 moved into their bounds.
fn integer_for(schema: &Map<String, Value>, name: Option<&str>) -> i64 {
    if name.is_some_and(|n| n.ends_with("_at")) {
        return MOCK_TIMESTAMP_MS;
    }
    let (low, high) = bounds(schema);
    let low = low.map(|l| l.ceil() as i64);
    let high = high.map(|h| h.floor() as i64);
    let mut value = 0;
    if let Some(low) = low {
        value = value.max(low);
    }
    if let Some(high) = high {
        value = value.min(high);
    }
    value
}

fn number_for(schema: &Map<String, Value>) -> Value {
    let (low, high) = bounds(schema);
    let mut value = 0.0_f64;
    if let Some(low) = low {
        value = value.max(low);
    }
    if let Some(high) = high {
        value = value.min(high);
    }
    Value::from(value)
}

/// The inclusive bounds, with exclusive ones (OpenAPI 3.0's boolean form and 3.1's number form)
/// moved inwards by one.
fn bounds(schema: &Map<String, Value>) -> (Option<f64>, Option<f64>) {
    let number = |key: &str| schema.get(key).and_then(Value::as_f64);
    let flag = |key: &str| schema.get(key) == Some(&Value::Bool(true));
    let low = match (number("minimum"), number("exclusiveMinimum")) {
        (_, Some(exclusive)) => Some(exclusive + 1.0),
        (Some(minimum), None) if flag("exclusiveMinimum") => Some(minimum + 1.0),
        (minimum, None) => minimum,
    };
    let high = match (number("maximum"), number("exclusiveMaximum")) {
        (_, Some(exclusive)) => Some(exclusive - 1.0),
        (Some(maximum), None) if flag("exclusiveMaximum") => Some(maximum - 1.0),
        (maximum, None) => maximum,
    };
    (low, high)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn document(schemas: Value) -> Document {
        Document::from(json!({ "components": { "schemas": schemas } }))
    }

    #[test]
    fn examples_defaults_and_enums_come_first_at_every_level() {
        let doc = document(json!({}));
        let schema = json!({
            "type": "object",
            "properties": {
                "named": {"type": "string", "example": "Ada"},
                "defaulted": {"type": "integer", "default": 7},
                "status": {"type": "string", "enum": ["active", "ended"]},
                "nested": {"type": "object", "example": {"given": true}},
            }
        });
        assert_eq!(
            example_value(&doc, &schema),
            json!({"named": "Ada", "defaulted": 7, "status": "active", "nested": {"given": true}})
        );
    }

    #[test]
    fn types_formats_bounds_and_timestamps() {
        let doc = document(json!({}));
        let schema = json!({
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string"},
                "email": {"type": "string", "format": "email"},
                "when": {"type": "string", "format": "date-time"},
                "site": {"type": "string", "format": "uri"},
                "key": {"type": "string", "format": "uuid"},
                "code": {"type": "string", "minLength": 20, "maxLength": 20},
                "short": {"type": "string", "maxLength": 3},
                "created_at": {"type": "integer", "format": "int64"},
                "limit": {"type": "integer", "minimum": 1, "maximum": 500},
                "below": {"type": "integer", "maximum": -5},
                "strictly_positive": {"type": "integer", "minimum": 0, "exclusiveMinimum": true},
                "ratio": {"type": "number", "minimum": 0.5},
                "flag": {"type": "boolean"},
                "maybe": {"type": "string", "nullable": true},
                "tags": {"type": "array", "items": {"type": "string"}},
                "none": {"type": "array", "maxItems": 0, "items": {"type": "string"}},
                "metadata": {"type": "object", "additionalProperties": true},
                "anything": {},
            }
        });
        assert_eq!(
            example_value(&doc, &schema),
            json!({
                "id": "example_id",
                "email": "user@example.com",
                "when": "2023-11-14T22:13:20Z",
                "site": "https://example.com",
                "key": "00000000-0000-4000-8000-000000000000",
                "code": "example_codexxxxxxxx",
                "short": "exa",
                "created_at": MOCK_TIMESTAMP_MS,
                "limit": 1,
                "below": -5,
                "strictly_positive": 1,
                "ratio": 0.5,
                "flag": true,
                "maybe": "example_maybe",
                "tags": ["example_string"],
                "none": [],
                "metadata": {},
                "anything": {},
            })
        );
    }

    #[test]
    fn all_of_merges_and_one_of_takes_the_first_branch_with_its_discriminator() {
        let doc = document(json!({
            "Named": {"type": "object", "properties": {"name": {"type": "string"}}},
            "Dated": {"type": "object", "properties": {"created_at": {"type": "integer"}}},
            "Otp": {"type": "object", "properties": {"status": {"type": "string", "enum": ["verified"]}}},
            "Admin": {"type": "object", "properties": {"strategy": {"type": "string"}}},
            "Wrapped": {"type": "string", "example": "inner"},
        }));
        let merged = json!({"allOf": [
            {"$ref": "#/components/schemas/Named"},
            {"$ref": "#/components/schemas/Dated"},
        ], "properties": {"extra": {"type": "boolean"}}});
        assert_eq!(
            example_value(&doc, &merged),
            json!({"name": "example_name", "created_at": MOCK_TIMESTAMP_MS, "extra": true})
        );
        // A part requiring a field another part declares gets that part's value.
        let split = json!({"allOf": [
            {"type": "object", "required": ["name", "undeclared"]},
            {"$ref": "#/components/schemas/Named"},
        ]});
        assert_eq!(
            example_value(&doc, &split),
            json!({"name": "example_name", "undeclared": null})
        );
        let nullable_wrapper =
            json!({"allOf": [{"$ref": "#/components/schemas/Wrapped"}], "nullable": true});
        assert_eq!(example_value(&doc, &nullable_wrapper), json!("inner"));
        let tagged = json!({
            "oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Otp"}, {"$ref": "#/components/schemas/Admin"}],
            "discriminator": {"propertyName": "object", "mapping": {
                "verification_admin": "#/components/schemas/Admin",
                "verification_otp": "#/components/schemas/Otp",
            }}
        });
        assert_eq!(
            example_value(&doc, &tagged),
            json!({"status": "verified", "object": "verification_otp"})
        );
    }

    #[test]
    fn recursive_schemas_stop() {
        let doc = document(json!({
            "Node": {"type": "object", "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                "parent": {"allOf": [{"$ref": "#/components/schemas/Node"}], "nullable": true},
            }},
            "Loop": {"$ref": "#/components/schemas/Loop"},
        }));
        let node = example_value(&doc, &json!({"$ref": "#/components/schemas/Node"}));
        assert_eq!(node["name"], "example_name");
        // Expanded twice, then cut: an empty list, and null where allowed.
        assert_eq!(node["children"][0]["children"], json!([]));
        assert_eq!(node["children"][0]["parent"], Value::Null);
        assert_eq!(node["parent"]["name"], "example_name");
        assert_eq!(
            example_value(&doc, &json!({"$ref": "#/components/schemas/Loop"})),
            Value::Null
        );
    }

    fn operation_document(response_schema: Value, path: &str) -> (Document, Value) {
        let operation = json!({
            "parameters": [{"name": "limit", "in": "query", "required": true, "schema": {"type": "integer"}}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {
                "type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}
            }}}},
            "responses": {
                "201": {"description": "made", "content": {"application/json": {"schema": response_schema}}},
                "400": {"description": "bad"},
            }
        });
        let doc = Document::from(json!({"paths": {path: {"post": operation.clone()}}}));
        (doc, operation)
    }

    #[test]
    fn the_path_id_goes_into_the_object_it_names_only() {
        let template = json!({"type": "object", "properties": {
            "object": {"type": "string", "enum": ["jwt_template"]},
            "id": {"type": "string"},
        }});
        for (path, echoes) in [
            ("/jwt_templates/{template_id}", true),
            ("/jwt_templates/{template_id}/rotate", true),
            ("/users/{user_id}/jwt_templates/{jwtTemplateID}", true),
            ("/organizations/{organization_id}/things/{user_id}", false),
            ("/jwt_templates", false),
        ] {
            let (doc, operation) = operation_document(template.clone(), path);
            let mock = MockOperation::new(&doc, path, &operation);
            let params: Vec<String> = template_params(path)
                .iter()
                .map(|name| format!("value_of_{name}"))
                .collect();
            let (status, body) = mock.answer(&params);
            assert_eq!(status, 201);
            let body = body.unwrap_or_default();
            let expected = match params.last() {
                Some(last) if echoes => json!(last),
                _ => json!("example_id"),
            };
            assert_eq!(body["id"], expected, "{path}");
        }
    }

    #[test]
    fn missing_path_query_and_body_values_are_form_param_missing() {
        let path = "/things/{thing_id}";
        let (doc, operation) = operation_document(json!({"type": "object"}), path);
        let mock = MockOperation::new(&doc, path, &operation);
        let pairs = vec![("limit".to_string(), "10".to_string())];
        let named = |name: &str| {
            let mut body = Map::new();
            body.insert("name".into(), json!(name));
            MockBody::Object(body)
        };
        let id = vec!["thing_1".to_string()];
        let param_of = |result: Result<(), ApiError>| match result {
            Ok(()) => None,
            Err(error) => {
                let response = crate::api::ApiResponse::error(error, "trace".into());
                let body: Value = serde_json::from_slice(&response.body).unwrap_or_default();
                assert_eq!(response.status, 422);
                assert_eq!(body["errors"][0]["code"], "form_param_missing");
                body["errors"][0]["meta"]["param_name"]
                    .as_str()
                    .map(str::to_string)
            }
        };
        assert_eq!(param_of(mock.check(&id, Query(&pairs), &named("x"))), None);
        assert_eq!(
            param_of(mock.check(&[String::new()], Query(&pairs), &named("x"))),
            Some("thing_id".into())
        );
        assert_eq!(
            param_of(mock.check(&id, Query(&[]), &named("x"))),
            Some("limit".into())
        );
        assert_eq!(
            param_of(mock.check(&id, Query(&pairs), &MockBody::Object(Map::new()))),
            Some("name".into())
        );
        let items = MockBody::Array(vec![json!({"name": "a"}), json!({"other": 1})]);
        assert_eq!(
            param_of(mock.check(&id, Query(&pairs), &items)),
            Some("name".into())
        );
    }

    #[test]
    fn responses_without_content_have_no_body_and_examples_win() {
        let doc = Document::from(json!({
            "components": {"examples": {"One": {"value": {"from": "examples"}}}},
        }));
        let no_content = json!({"responses": {"204": {"description": "gone"}}});
        assert_eq!(
            MockOperation::new(&doc, "/x", &no_content).answer(&[]),
            (204, None)
        );
        let example = json!({"responses": {"200": {"description": "ok", "content": {"application/json": {
            "schema": {"type": "object", "properties": {"from": {"type": "string"}}},
            "example": {"from": "example"},
        }}}}});
        assert_eq!(
            MockOperation::new(&doc, "/x", &example).answer(&[]),
            (200, Some(json!({"from": "example"})))
        );
        let examples = json!({"responses": {"200": {"description": "ok", "content": {"application/json": {
            "schema": {"type": "object", "properties": {"from": {"type": "string"}}},
            "examples": {"first": {"$ref": "#/components/examples/One"}, "second": {"value": 2}},
        }}}}});
        assert_eq!(
            MockOperation::new(&doc, "/x", &examples).answer(&[]),
            (200, Some(json!({"from": "examples"})))
        );
        let nothing_declared = json!({"responses": {"default": {"description": "error"}}});
        assert_eq!(
            MockOperation::new(&doc, "/x", &nothing_declared).answer(&[]),
            (200, None)
        );
    }
}
