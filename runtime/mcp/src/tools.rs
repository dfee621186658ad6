//! A server's tools as scripts see them: Lua names, read or write, parameters; and what a
//! tool's result becomes.

use serde_json::{Map, Value, json};

/// The Lua name of a tool: lowercased, every run of characters outside `[a-z0-9_]` becomes
/// one `_`, and `_` is trimmed from both ends; `tool` if nothing is left. `Echo-Back` is
/// `echo_back`.
pub fn lua_name(tool: &str) -> String {
    let mut out = String::with_capacity(tool.len());
    let mut in_run = false;
    for c in tool.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    }
    let trimmed = out.trim_matches('_');
    if trimmed.is_empty() {
        "tool".to_string()
    } else {
        trimmed.to_string()
    }
}

/// One tool of one server.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolInfo {
    /// The server's name.
    pub server: String,
    /// The tool's name on the wire.
    pub name: String,
    /// Its name in Lua (see [`lua_name`]); unique within the server.
    pub lua_name: String,
    /// The server's title for it, if any.
    pub title: Option<String>,
    /// The server's description.
    pub description: String,
    /// Whether the server says it changes nothing (`readOnlyHint: true`). Anything else is a
    /// write, for permissions and dry runs.
    pub read_only: bool,
    /// The annotations as the server sent them (`{}` when none).
    pub annotations: Value,
    /// Its input JSON Schema.
    pub input_schema: Value,
    /// Its output JSON Schema, if it declares one.
    pub output_schema: Option<Value>,
}

/// One parameter, read from a tool's input schema.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterInfo {
    /// The property's name.
    pub name: String,
    /// Its JSON type (`string`, `integer`, …, `any`).
    pub kind: String,
    /// Whether the schema requires it.
    pub required: bool,
    /// Its description.
    pub description: String,
}

impl ToolInfo {
    /// Reads a tool from the JSON of `tools/list`. Lua names are made unique by the caller.
    pub fn from_json(server: &str, tool: &Value) -> Option<ToolInfo> {
        let name = tool.get("name")?.as_str()?.to_string();
        let annotations = tool
            .get("annotations")
            .filter(|a| a.is_object())
            .cloned()
            .unwrap_or_else(|| json!({}));
        Some(ToolInfo {
            server: server.to_string(),
            lua_name: lua_name(&name),
            title: tool
                .get("title")
                .or_else(|| annotations.get("title"))
                .and_then(Value::as_str)
                .map(str::to_string),
            description: tool
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            read_only: annotations.get("readOnlyHint") == Some(&Value::Bool(true)),
            annotations,
            input_schema: tool
                .get("inputSchema")
                .cloned()
                .unwrap_or_else(|| json!({"type": "object"})),
            output_schema: tool.get("outputSchema").cloned(),
            name,
        })
    }

    /// `read` or `write`.
    pub fn operation(&self) -> &'static str {
        if self.read_only { "read" } else { "write" }
    }

    /// `<server>.<lua name>`, what `mcp.call` and `docs.read("mcp.…")` take.
    pub fn function(&self) -> String {
        format!("{}.{}", self.server, self.lua_name)
    }

    /// `app.mcp.<server>.<lua name>`, quoting a server name Lua cannot write bare.
    pub fn lua_path(&self) -> String {
        format!("{}.{}", server_path(&self.server), self.lua_name)
    }

    /// The parameters, in the schema's order.
    pub fn parameters(&self) -> Vec<ParameterInfo> {
        let required: Vec<&str> = self
            .input_schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let Some(properties) = self
            .input_schema
            .get("properties")
            .and_then(Value::as_object)
        else {
            return Vec::new();
        };
        properties
            .iter()
            .map(|(name, schema)| ParameterInfo {
                name: name.clone(),
                kind: schema_type(schema),
                required: required.contains(&name.as_str()),
                description: schema
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            })
            .collect()
    }

    /// The tool as `mcp:tools --json`, `mcp:schema` and `mcp.tools()` show it.
    pub fn to_json(&self) -> Value {
        json!({
            "server": self.server,
            "name": self.name,
            "lua_name": self.lua_name,
            "function": self.function(),
            "lua_path": self.lua_path(),
            "title": self.title,
            "description": self.description,
            "operation": self.operation(),
            "annotations": self.annotations,
            "parameters": self.parameters().iter().map(|p| json!({
                "name": p.name,
                "type": p.kind,
                "required": p.required,
                "description": p.description,
            })).collect::<Vec<_>>(),
            "schema": self.input_schema,
            "output_schema": self.output_schema,
        })
    }
}

/// `app.mcp.<server>`, or `app.mcp["<server>"]` when the name is not a Lua identifier.
pub fn server_path(server: &str) -> String {
    let bare = !server.is_empty()
        && !server.starts_with(|c: char| c.is_ascii_digit())
        && server
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if bare {
        format!("app.mcp.{server}")
    } else {
        format!("app.mcp[{}]", Value::String(server.to_string()))
    }
}

fn schema_type(schema: &Value) -> String {
    match schema.get("type") {
        Some(Value::String(kind)) => kind.clone(),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .filter(|k| *k != "null")
            .collect::<Vec<_>>()
            .join(" | "),
        _ if schema.get("enum").is_some() => "enum".into(),
        _ => "any".into(),
    }
}

/// Gives each tool a Lua name no other tool of the server has: a second `echo_back` becomes
/// `echo_back_2`.
pub fn make_lua_names_unique(tools: &mut [ToolInfo]) {
    let mut taken: Vec<String> = Vec::with_capacity(tools.len());
    for tool in tools.iter_mut() {
        let base = tool.lua_name.clone();
        let mut candidate = base.clone();
        let mut n = 2;
        while taken.contains(&candidate) {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        tool.lua_name = candidate.clone();
        taken.push(candidate);
    }
}

/// What a successful (`isError` false) tool result becomes: its `structuredContent` when the
/// server sent one; else the JSON in its single text item, or the text itself if that is not
/// JSON; else its `content` array; else the whole result.
pub fn result_value(result: &Map<String, Value>) -> Value {
    if let Some(structured) = result.get("structuredContent").filter(|v| !v.is_null()) {
        return structured.clone();
    }
    match result.get("content") {
        Some(Value::Array(items)) if items.len() == 1 => match single_text(&items[0]) {
            Some(text) => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into())),
            None => Value::Array(items.clone()),
        },
        Some(Value::Array(items)) if !items.is_empty() => Value::Array(items.clone()),
        _ => Value::Object(result.clone()),
    }
}

fn single_text(item: &Value) -> Option<&str> {
    (item.get("type")?.as_str()? == "text")
        .then(|| item.get("text")?.as_str())
        .flatten()
}

/// The text of an `isError` result: its text items joined by new lines, else a JSON rendering
/// of its content.
pub fn error_text(result: &Map<String, Value>) -> String {
    let items = result
        .get("content")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let texts: Vec<&str> = items.iter().filter_map(single_text).collect();
    if !texts.is_empty() {
        return texts.join("\n");
    }
    if let Some(structured) = result.get("structuredContent").filter(|v| !v.is_null()) {
        return structured.to_string();
    }
    "the tool reported an error without a message".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lua_names_follow_the_contract() {
        assert_eq!(lua_name("Echo-Back"), "echo_back");
        assert_eq!(lua_name("get.item--now"), "get_item_now");
        assert_eq!(lua_name("__x__"), "x");
        assert_eq!(lua_name("--"), "tool");
        assert_eq!(lua_name("Ünïcode"), "n_code");
    }

    #[test]
    fn clashing_lua_names_get_a_number() {
        let tool = |name: &str| {
            ToolInfo::from_json(
                "s",
                &json!({"name": name, "inputSchema": {"type": "object"}}),
            )
            .unwrap()
        };
        let mut tools = vec![tool("a-b"), tool("a_b"), tool("A B")];
        make_lua_names_unique(&mut tools);
        let names: Vec<_> = tools.iter().map(|t| t.lua_name.as_str()).collect();
        assert_eq!(names, ["a_b", "a_b_2", "a_b_3"]);
    }

    #[test]
    fn only_read_only_hint_true_makes_a_read() {
        let read = ToolInfo::from_json(
            "s",
            &json!({"name": "r", "annotations": {"readOnlyHint": true}}),
        )
        .unwrap();
        let write = ToolInfo::from_json(
            "s",
            &json!({"name": "w", "annotations": {"readOnlyHint": "yes"}}),
        )
        .unwrap();
        let plain = ToolInfo::from_json("s", &json!({"name": "p"})).unwrap();
        assert_eq!(read.operation(), "read");
        assert_eq!(write.operation(), "write");
        assert_eq!(plain.operation(), "write");
    }

    #[test]
    fn results_prefer_structured_content_then_single_json_text() {
        let object = |v: Value| v.as_object().unwrap().clone();
        let structured = object(
            json!({"content": [{"type": "text", "text": "x"}], "structuredContent": {"a": 1}}),
        );
        assert_eq!(result_value(&structured), json!({"a": 1}));
        let json_text = object(json!({"content": [{"type": "text", "text": "[1,2]"}]}));
        assert_eq!(result_value(&json_text), json!([1, 2]));
        let plain = object(json!({"content": [{"type": "text", "text": "echo: hi"}]}));
        assert_eq!(result_value(&plain), json!("echo: hi"));
        let two = object(
            json!({"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}),
        );
        assert_eq!(result_value(&two)[1]["text"], "b");
        let failed =
            object(json!({"isError": true, "content": [{"type": "text", "text": "closed"}]}));
        assert_eq!(error_text(&failed), "closed");
    }

    #[test]
    fn server_paths_quote_names_lua_cannot_write_bare() {
        assert_eq!(server_path("demo"), "app.mcp.demo");
        assert_eq!(server_path("my-server"), "app.mcp[\"my-server\"]");
    }
}
