//! Input schemas as MCP clients take them: a plain object at the root.
//!
//! Some clients refuse a tool whose `inputSchema` has `$ref`, `allOf`, `oneOf` or `anyOf` at its
//! root, and some resolve no `$ref` anywhere. So the schema a function declares is flattened:
//! root combinators are merged into one `properties` and `required`, and every local `$ref`
//! (`#/…`) is replaced by a copy of what it points at.

use serde_json::{Map, Value};

/// How many `$ref`s deep a schema may point before it counts as cyclic.
const MAX_REF_DEPTH: usize = 32;

/// Root keywords that make a schema other than a plain object schema.
const ROOT_COMBINATORS: [&str; 4] = ["$ref", "allOf", "oneOf", "anyOf"];

/// The properties and required names a root schema comes to, merged from its combinators.
#[derive(Default)]
struct Flat {
    properties: Map<String, Value>,
    required: Vec<String>,
    /// `additionalProperties` when every part says the same.
    additional: Option<Value>,
}

/// `schema` as `{"type": "object", "properties": {…}, "required": […]}` (with
/// `additionalProperties` when the schema sets it): root `$ref`, `allOf`, `oneOf` and `anyOf`
/// merged (the properties of every branch; required what every `oneOf`/`anyOf` branch
/// requires), local `$ref`s inlined everywhere, `$defs` dropped. Fails on a root that is not an
/// object schema or on a cyclic or dangling `$ref`.
pub fn plain_object_schema(schema: &Value) -> Result<Map<String, Value>, String> {
    let flat = flatten(schema, schema, 0)?;
    let mut properties = Map::new();
    for (name, property) in flat.properties {
        properties.insert(name, inline_refs(schema, &property, 0)?);
    }
    let mut out = Map::new();
    out.insert("type".into(), "object".into());
    out.insert("properties".into(), Value::Object(properties));
    out.insert(
        "required".into(),
        Value::Array(flat.required.into_iter().map(Value::String).collect()),
    );
    if let Some(additional) = flat.additional {
        out.insert(
            "additionalProperties".into(),
            inline_refs(schema, &additional, 0)?,
        );
    }
    check_plain(&out)?;
    Ok(out)
}

/// Whether `schema` is what [`plain_object_schema`] makes: `type: object`, `properties` an
/// object, no combinator at the root.
pub(crate) fn check_plain(schema: &Map<String, Value>) -> Result<(), String> {
    if schema.get("type") != Some(&Value::String("object".into())) {
        return Err("the root is not `type: object`".into());
    }
    if !schema.get("properties").is_some_and(Value::is_object) {
        return Err("the root has no `properties` object".into());
    }
    match ROOT_COMBINATORS.iter().find(|k| schema.contains_key(**k)) {
        Some(keyword) => Err(format!("the root has `{keyword}`")),
        None => Ok(()),
    }
}

fn flatten(document: &Value, node: &Value, depth: usize) -> Result<Flat, String> {
    if depth > MAX_REF_DEPTH {
        return Err(format!(
            "its `$ref`s point more than {MAX_REF_DEPTH} deep (a cycle?)"
        ));
    }
    let Value::Object(map) = node else {
        return Err("the root is not a JSON object".into());
    };
    match map.get("type") {
        None => {}
        Some(Value::String(t)) if t == "object" => {}
        Some(Value::Array(types)) if types.iter().any(|t| t == "object") => {}
        Some(other) => return Err(format!("the root is of type {other}, not an object")),
    }
    let mut flat = Flat::default();
    if let Some(reference) = map.get("$ref") {
        let target = resolve(document, reference)?;
        merge(&mut flat, flatten(document, target, depth + 1)?);
    }
    if let Some(Value::Array(parts)) = map.get("allOf") {
        for part in parts {
            merge(&mut flat, flatten(document, part, depth + 1)?);
        }
    }
    for keyword in ["oneOf", "anyOf"] {
        if let Some(Value::Array(branches)) = map.get(keyword) {
            merge(&mut flat, alternatives(document, branches, depth)?);
        }
    }
    let own = Flat {
        properties: match map.get("properties") {
            Some(Value::Object(properties)) => properties.clone(),
            _ => Map::new(),
        },
        required: required_names(map),
        additional: map.get("additionalProperties").cloned(),
    };
    merge(&mut flat, own);
    Ok(flat)
}

/// `oneOf`/`anyOf` branches as one: any branch's properties may come, and what every branch
/// requires is required. Extra properties are not refused, since each branch allows others.
fn alternatives(document: &Value, branches: &[Value], depth: usize) -> Result<Flat, String> {
    let mut flat = Flat::default();
    let mut required: Option<Vec<String>> = None;
    for branch in branches {
        let branch = flatten(document, branch, depth + 1)?;
        for (name, property) in branch.properties {
            flat.properties.entry(name).or_insert(property);
        }
        required = Some(match required {
            None => branch.required,
            Some(so_far) => so_far
                .into_iter()
                .filter(|name| branch.required.contains(name))
                .collect(),
        });
    }
    flat.required = required.unwrap_or_default();
    Ok(flat)
}

/// Adds `more` to `flat`: properties declared later refine earlier ones key by key.
fn merge(flat: &mut Flat, more: Flat) {
    for (name, property) in more.properties {
        match (flat.properties.get_mut(&name), property) {
            (Some(Value::Object(existing)), Value::Object(refinement)) => {
                existing.extend(refinement);
            }
            (_, property) => {
                flat.properties.insert(name, property);
            }
        }
    }
    for name in more.required {
        if !flat.required.contains(&name) {
            flat.required.push(name);
        }
    }
    if more.additional.is_some() {
        flat.additional = more.additional;
    }
}

fn required_names(map: &Map<String, Value>) -> Vec<String> {
    match map.get("required") {
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// The node a local `$ref` (`#` followed by a JSON Pointer) points at in `document`.
fn resolve<'a>(document: &'a Value, reference: &Value) -> Result<&'a Value, String> {
    let Some(reference) = reference.as_str() else {
        return Err("a `$ref` is not a string".into());
    };
    let Some(pointer) = reference.strip_prefix('#') else {
        return Err(format!(
            "`$ref: {reference}` points outside the schema, which clients cannot follow"
        ));
    };
    document
        .pointer(pointer)
        .ok_or_else(|| format!("`$ref: {reference}` points at nothing"))
}

/// `node` with every local `$ref` replaced by a copy of its target, the `$ref`'s sibling keys
/// (a description, say) kept over the target's.
fn inline_refs(document: &Value, node: &Value, depth: usize) -> Result<Value, String> {
    if depth > MAX_REF_DEPTH {
        return Err(format!(
            "its `$ref`s point more than {MAX_REF_DEPTH} deep (a cycle?)"
        ));
    }
    match node {
        Value::Object(map) => {
            let mut out = match map.get("$ref") {
                Some(reference) => {
                    match inline_refs(document, resolve(document, reference)?, depth + 1)? {
                        Value::Object(target) => target,
                        other => return Ok(other),
                    }
                }
                None => Map::new(),
            };
            for (key, value) in map {
                if key == "$ref" || key == "$defs" || key == "definitions" {
                    continue;
                }
                out.insert(key.clone(), inline_refs(document, value, depth)?);
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items
            .iter()
            .map(|item| inline_refs(document, item, depth))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn plain(schema: Value) -> Value {
        Value::Object(plain_object_schema(&schema).unwrap())
    }

    #[test]
    fn a_plain_schema_keeps_its_properties_and_loses_title_and_description() {
        let schema = json!({
            "type": "object",
            "title": "Get Widget",
            "description": "Get one widget.",
            "properties": { "id": { "type": "string", "description": "Widget ID." } },
            "required": ["id"],
            "additionalProperties": false,
        });
        assert_eq!(
            plain(schema),
            json!({
                "type": "object",
                "properties": { "id": { "type": "string", "description": "Widget ID." } },
                "required": ["id"],
                "additionalProperties": false,
            })
        );
    }

    #[test]
    fn alias_refs_to_sibling_properties_are_inlined_with_their_own_description() {
        // What the generator writes for an alias.
        let schema = json!({
            "type": "object",
            "properties": {
                "id": { "type": "string", "description": "Widget ID.", "examples": ["wid_1"] },
                "widget_id": { "$ref": "#/properties/id", "description": "Alias of `id`." },
            },
            "required": ["id"],
        });
        assert_eq!(
            plain(schema)["properties"]["widget_id"],
            json!({ "type": "string", "description": "Alias of `id`.", "examples": ["wid_1"] })
        );
    }

    #[test]
    fn root_ref_all_of_and_one_of_are_merged() {
        let schema = json!({
            "$ref": "#/$defs/base",
            "allOf": [
                { "properties": { "limit": { "$ref": "#/$defs/count" } }, "required": ["limit"] },
            ],
            "oneOf": [
                { "properties": { "email": { "type": "string" } }, "required": ["email", "tenant"] },
                { "properties": { "phone": { "type": "string" } }, "required": ["phone", "tenant"] },
            ],
            "$defs": {
                "base": {
                    "type": "object",
                    "properties": { "tenant": { "type": "string" } },
                },
                "count": { "type": "integer", "minimum": 1 },
            },
        });
        let flat = plain(schema);
        assert_eq!(
            flat,
            json!({
                "type": "object",
                "properties": {
                    "tenant": { "type": "string" },
                    "limit": { "type": "integer", "minimum": 1 },
                    "email": { "type": "string" },
                    "phone": { "type": "string" },
                },
                "required": ["limit", "tenant"],
            })
        );
        check_plain(flat.as_object().unwrap()).unwrap();
    }

    #[test]
    fn nested_refs_are_inlined_and_defs_dropped() {
        let schema = json!({
            "type": "object",
            "properties": {
                "filter": {
                    "type": "object",
                    "properties": { "status": { "$ref": "#/definitions/status" } },
                },
                "statuses": { "type": "array", "items": { "$ref": "#/definitions/status" } },
            },
            "definitions": { "status": { "type": "string", "enum": ["active", "ended"] } },
        });
        let flat = plain(schema);
        let text = flat.to_string();
        assert!(
            !text.contains("$ref") && !text.contains("definitions"),
            "{text}"
        );
        assert_eq!(
            flat["properties"]["statuses"]["items"]["enum"],
            json!(["active", "ended"])
        );
        assert_eq!(flat["required"], json!([]));
    }

    #[test]
    fn what_cannot_be_flattened_is_refused() {
        let refused = |schema: Value| plain_object_schema(&schema).unwrap_err();
        assert!(refused(json!({ "type": "array" })).contains("not an object"));
        assert!(refused(json!("object")).contains("not a JSON object"));
        assert!(refused(json!({ "$ref": "#/$defs/nothing" })).contains("points at nothing"));
        assert!(refused(json!({ "$ref": "https://example.com/s.json" })).contains("outside"));
        let cycle = json!({
            "type": "object",
            "properties": { "node": { "$ref": "#/$defs/node" } },
            "$defs": { "node": { "type": "object", "properties": { "next": { "$ref": "#/$defs/node" } } } },
        });
        assert!(refused(cycle).contains("cycle"));
        assert!(refused(json!({ "$ref": "#" })).contains("cycle"));
    }

    #[test]
    fn check_plain_names_the_root_combinator() {
        let with_any_of = json!({ "type": "object", "properties": {}, "anyOf": [] });
        assert_eq!(
            check_plain(with_any_of.as_object().unwrap()).unwrap_err(),
            "the root has `anyOf`"
        );
    }
}
