//! An OpenAPI document parsed from YAML or JSON text, with the `$ref` and `allOf` resolution that
//! every reader of one shares: [`check`](super::check) here, and tests that validate responses
//! against a provider's document (the emulator's conformance test).
//!
//! Like the rest of this crate it does no I/O: callers read the file and hand over its text. The
//! document is input, so nothing here panics on it: text that does not parse is a [`ParseError`],
//! and a `$ref` that cannot be followed resolves to `null`.

use serde_json::{Map, Value};

/// `$ref` chains longer than this are treated as unresolvable rather than followed forever.
const MAX_REF_DEPTH: usize = 32;

/// An OpenAPI document, parsed from YAML or JSON text.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    root: Value,
}

/// Why a text is not a document: the YAML/JSON parser's message, with its location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    message: String,
}

impl From<Value> for Document {
    /// A document already in memory, e.g. built with `json!` in a test.
    fn from(root: Value) -> Self {
        Document { root }
    }
}

impl Document {
    /// Parses YAML or JSON text (a JSON document is also YAML) with serde-saphyr's default options
    /// and limits.
    pub fn parse(text: &str) -> Result<Document, ParseError> {
        serde_saphyr::from_str(text)
            .map(|root| Document { root })
            .map_err(|error| ParseError {
                message: error.to_string(),
            })
    }

    /// The whole document as JSON.
    pub fn root(&self) -> &Value {
        &self.root
    }

    /// Follows `$ref` pointers within the document; an unresolvable one (external, or a dangling
    /// or endless chain) becomes `null`, which readers treat as "nothing documented". A value
    /// without `$ref` is returned as it is.
    pub fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        self.resolve_chain(value).0
    }

    /// The operation `method` (any case) of the path item `path` (as the document writes it, e.g.
    /// `/users/{user_id}`), following a `$ref`'d path item; `None` when there is none.
    pub fn operation(&self, method: &str, path: &str) -> Option<&Value> {
        let item = self.resolve(self.root.get("paths")?.get(path)?);
        item.get(method.to_ascii_lowercase())
            .filter(|operation| operation.is_object())
    }

    /// A schema with `$ref`s resolved and `allOf` parts merged (properties and required lists
    /// united, other keys kept from the first part that has them), recursively through `items`
    /// and `oneOf`/`anyOf`. Properties stay as written; callers merge the one they compare. A
    /// recursive schema is cut off (as `{}`) where it would repeat, and a one-branch "nullable"
    /// `anyOf`/`oneOf` becomes that branch.
    pub fn merged_schema(&self, schema: &Value) -> Value {
        self.merge(schema, &mut Vec::new())
    }

    /// Like [`resolve`](Self::resolve), also returning the pointers followed (to detect recursive
    /// schemas).
    fn resolve_chain<'a>(&'a self, mut value: &'a Value) -> (&'a Value, Vec<&'a str>) {
        let mut followed = Vec::new();
        while let Some(pointer) = value.get("$ref").and_then(Value::as_str) {
            let target = pointer.strip_prefix('#').and_then(|p| self.root.pointer(p));
            match target {
                Some(target) if followed.len() < MAX_REF_DEPTH => {
                    followed.push(pointer);
                    value = target;
                }
                _ => return (&Value::Null, followed),
            }
        }
        (value, followed)
    }

    /// `expanding` holds the `$ref`s being merged, so a recursive schema stops instead of looping.
    fn merge<'a>(&'a self, schema: &'a Value, expanding: &mut Vec<&'a str>) -> Value {
        let (resolved, followed) = self.resolve_chain(schema);
        if followed.iter().any(|r| expanding.contains(r)) {
            return Value::Object(Map::new());
        }
        let Some(object) = resolved.as_object() else {
            return resolved.clone();
        };
        let depth = expanding.len();
        expanding.extend(followed);
        let mut out = object.clone();
        out.remove("allOf");
        if let Some(parts) = object.get("allOf").and_then(Value::as_array) {
            for part in parts {
                if let Value::Object(part) = self.merge(part, expanding) {
                    merge_part(&mut out, part);
                }
            }
        }
        if let Some(items) = object.get("items") {
            out.insert("items".into(), self.merge(items, expanding));
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(variants) = object.get(key).and_then(Value::as_array) {
                let merged = variants.iter().map(|v| self.merge(v, expanding)).collect();
                out.insert(key.into(), Value::Array(merged));
            }
        }
        expanding.truncate(depth);
        unwrap_nullable(out)
    }
}

/// Adds one `allOf` part to the schema being built.
fn merge_part(out: &mut Map<String, Value>, part: Map<String, Value>) {
    for (key, value) in part {
        match (key.as_str(), out.get_mut(&key), value) {
            ("properties", Some(Value::Object(existing)), Value::Object(more)) => {
                for (name, schema) in more {
                    existing.entry(name).or_insert(schema);
                }
            }
            ("required", Some(Value::Array(existing)), Value::Array(more)) => {
                for name in more {
                    if !existing.contains(&name) {
                        existing.push(name);
                    }
                }
            }
            (_, Some(_), _) => {}
            (_, None, value) => {
                out.insert(key, value);
            }
        }
    }
}

/// `anyOf: [{type: string, enum: [...]}, {type: "null"}]` is how many generators write "nullable":
/// the one non-null branch is the real schema, so its type, bounds and enum become the schema's.
fn unwrap_nullable(mut schema: Map<String, Value>) -> Value {
    if schema.contains_key("type") {
        return Value::Object(schema);
    }
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Array(variants)) = schema.get(key) else {
            continue;
        };
        let mut real = variants.iter().filter(|v| !is_null_schema(v));
        let (Some(Value::Object(only)), None) = (real.next(), real.next()) else {
            continue;
        };
        let only = only.clone();
        schema.remove(key);
        for (k, v) in only {
            schema.entry(k).or_insert(v);
        }
        break;
    }
    Value::Object(schema)
}

/// `{type: "null"}`: the branch that makes an `anyOf`/`oneOf` nullable.
pub(super) fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn yaml_and_json_text_parse_to_the_same_document() {
        let yaml = Document::parse("openapi: 3.1.0\npaths:\n  /users: {}\n").unwrap();
        let json = Document::parse(r#"{"openapi": "3.1.0", "paths": {"/users": {}}}"#).unwrap();
        assert_eq!(yaml, json);
        assert_eq!(
            yaml.root(),
            &json!({"openapi": "3.1.0", "paths": {"/users": {}}})
        );
    }

    #[test]
    fn text_that_is_not_yaml_is_an_error_not_a_panic() {
        for bad in [
            "paths: [unclosed",
            "openapi: 3.1.0\n  paths: {}\n bad: indentation\n",
            "{\"openapi\": \"3.1.0\",",
            "key: \"unterminated\n",
        ] {
            let error = Document::parse(bad).expect_err(bad);
            assert!(!error.to_string().is_empty(), "{bad}: empty message");
        }
    }

    #[test]
    fn unresolvable_refs_become_null() {
        let document = Document::from(json!({
            "components": {"schemas": {
                "Ok": {"type": "string"},
                "Alias": {"$ref": "#/components/schemas/Ok"},
                "Dangling": {"$ref": "#/components/schemas/Missing"},
                "Loop": {"$ref": "#/components/schemas/Loop"},
                "PingPong": {"$ref": "#/components/schemas/PongPing"},
                "PongPing": {"$ref": "#/components/schemas/PingPong"},
            }}
        }));
        let reference = |to: &str| json!({ "$ref": to });
        let ok = json!({"type": "string"});
        assert_eq!(
            document.resolve(&reference("#/components/schemas/Alias")),
            &ok
        );
        for unresolvable in [
            "#/components/schemas/Missing",
            "#/components/schemas/Dangling",
            "#/components/schemas/Loop",
            "#/components/schemas/PingPong",
            "other.yaml#/components/schemas/Ok",
            "https://example.test/openapi.yaml",
        ] {
            assert_eq!(
                document.resolve(&reference(unresolvable)),
                &Value::Null,
                "{unresolvable}"
            );
        }
        // Values without `$ref` are returned as they are.
        assert_eq!(document.resolve(&ok), &ok);
        assert_eq!(document.resolve(&Value::Null), &Value::Null);
    }

    #[test]
    fn ref_chains_are_followed_up_to_the_depth_limit() {
        // `{"$ref": S1}` → S1 → S2 → ... → S{refs}, an integer: `refs` pointers in all.
        let resolve_chain_of = |refs: usize| {
            let mut schemas = Map::new();
            for i in 1..refs {
                let next = format!("#/components/schemas/S{}", i + 1);
                schemas.insert(format!("S{i}"), json!({ "$ref": next }));
            }
            schemas.insert(format!("S{refs}"), json!({"type": "integer"}));
            let document = Document::from(json!({"components": {"schemas": schemas}}));
            let start = json!({"$ref": "#/components/schemas/S1"});
            document.resolve(&start).clone()
        };
        assert_eq!(resolve_chain_of(1), json!({"type": "integer"}));
        assert_eq!(resolve_chain_of(MAX_REF_DEPTH), json!({"type": "integer"}));
        assert_eq!(resolve_chain_of(MAX_REF_DEPTH + 1), Value::Null);
    }

    #[test]
    fn merged_schemas_stop_at_recursion() {
        let document = Document::from(json!({
            "components": {"schemas": {
                "Node": {
                    "allOf": [{"$ref": "#/components/schemas/Named"}],
                    "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}
                },
                "Named": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
                "Cycle": {"$ref": "#/components/schemas/Cycle"}
            }}
        }));
        let merged = document.merged_schema(&json!({"$ref": "#/components/schemas/Node"}));
        assert_eq!(merged["type"], "object");
        assert_eq!(merged["required"], json!(["name"]));
        assert!(merged["properties"]["name"].is_object());
        assert!(merged["properties"]["children"].is_object());
        assert_eq!(
            document.merged_schema(&json!({"$ref": "#/components/schemas/Cycle"})),
            Value::Null
        );
    }

    #[test]
    fn operations_are_found_by_method_and_documented_path() {
        let document = Document::from(json!({
            "paths": {
                "/users": {"get": {"operationId": "ListUsers"}, "parameters": []},
                "/people": {"$ref": "#/paths/~1users"}
            }
        }));
        let list = json!({"operationId": "ListUsers"});
        assert_eq!(document.operation("get", "/users"), Some(&list));
        assert_eq!(document.operation("GET", "/users"), Some(&list));
        assert_eq!(document.operation("get", "/people"), Some(&list));
        assert_eq!(document.operation("post", "/users"), None);
        assert_eq!(document.operation("parameters", "/users"), None);
        assert_eq!(document.operation("get", "/nowhere"), None);
        assert_eq!(Document::from(json!({})).operation("get", "/users"), None);
    }
}
