//! The tool table: one MCP tool per function of each integration served, and one per tool of
//! each upstream MCP server.

use std::collections::HashMap;
use std::sync::Arc;

use kosmo_host::kosmo_mcp::ToolInfo;
use kosmo_host::{DEFAULT_ACCOUNT, Host, Integration};
use kosmo_runtime::{FunctionMeta, Operation};
use rmcp::model::{Tool, ToolAnnotations};
use serde_json::{Map, Value, json};

use crate::GatewayError;
use crate::names::{tool_name, upstream_tool_name};
use crate::schema::{check_plain, plain_object_schema};

/// The argument every tool takes besides the function's own: the named account to call with.
/// It is taken out of the arguments before the call.
pub const ACCOUNT_ARGUMENT: &str = "_account";

/// What a tool calls.
pub(crate) enum Target {
    /// A function of an integration.
    Function {
        integration: &'static Integration,
        function: &'static FunctionMeta,
    },
    /// A tool of an upstream MCP server.
    Upstream(Box<ToolInfo>),
}

/// One function, or one upstream tool, as a tool.
pub(crate) struct ToolEntry {
    pub tool: Tool,
    pub target: Target,
}

impl ToolEntry {
    pub fn is_write(&self) -> bool {
        match &self.target {
            Target::Function { function, .. } => function.operation == Operation::Write,
            Target::Upstream(info) => !info.read_only,
        }
    }

    /// `<provider>.<function>` or `mcp.<server>.<tool>`, for messages.
    pub fn qualified(&self) -> String {
        match &self.target {
            Target::Function {
                integration,
                function,
            } => qualified(integration, function),
            Target::Upstream(info) => format!("mcp.{}", info.function()),
        }
    }
}

/// Every function of `integrations` and every upstream tool as a tool, sorted by name, and an
/// index by name.
pub(crate) fn build(
    host: &Host,
    integrations: &[&'static Integration],
    upstream: Vec<ToolInfo>,
) -> Result<(Vec<ToolEntry>, HashMap<String, usize>), GatewayError> {
    let mut entries = Vec::new();
    for &integration in integrations {
        let accounts = host.accounts(integration);
        for &function in integration.meta.functions {
            entries.push(ToolEntry {
                tool: tool(integration, function, &accounts)?,
                target: Target::Function {
                    integration,
                    function,
                },
            });
        }
    }
    for info in upstream {
        entries.push(ToolEntry {
            tool: upstream_tool(&info)?,
            target: Target::Upstream(Box::new(info)),
        });
    }
    entries.sort_by(|a, b| a.tool.name.cmp(&b.tool.name));
    let mut index = HashMap::with_capacity(entries.len());
    for (position, entry) in entries.iter().enumerate() {
        if let Some(&earlier) = index.get(entry.tool.name.as_ref()) {
            let first: &ToolEntry = &entries[earlier];
            return Err(GatewayError::DuplicateTool {
                tool: entry.tool.name.to_string(),
                first: first.qualified(),
                second: entry.qualified(),
            });
        }
        index.insert(entry.tool.name.to_string(), position);
    }
    Ok((entries, index))
}

/// An upstream server's tool: its own description, schema (as a plain object schema) and
/// annotations, under the name `mcp__<server>__<tool>`.
fn upstream_tool(info: &ToolInfo) -> Result<Tool, GatewayError> {
    let schema =
        plain_object_schema(&info.input_schema).map_err(|reason| GatewayError::InputSchema {
            function: format!("mcp.{}", info.function()),
            reason,
        })?;
    let mut description = info.description.trim().to_string();
    if !description.is_empty() {
        description.push_str("\n\n");
    }
    description.push_str(&format!(
        "The tool `{}` of the MCP server `{}`, through the kosmo gateway.",
        info.name, info.server
    ));
    // The server's annotations as it sent them; a server that sends none leaves the client
    // to assume the worst, as MCP says.
    let annotations: Option<ToolAnnotations> =
        serde_json::from_value(info.annotations.clone()).ok();
    let mut tool = Tool::new(
        upstream_tool_name(&info.server, &info.name),
        description,
        Arc::new(schema),
    );
    if let Some(title) = &info.title {
        tool = tool.with_title(title.clone());
    }
    if let Some(annotations) = annotations.filter(|_| {
        info.annotations
            .as_object()
            .is_some_and(|fields| !fields.is_empty())
    }) {
        tool = tool.with_annotations(annotations);
    }
    Ok(tool)
}

pub(crate) fn qualified(integration: &Integration, function: &FunctionMeta) -> String {
    format!("{}.{}", integration.meta.name, function.name)
}

fn tool(
    integration: &'static Integration,
    function: &'static FunctionMeta,
    accounts: &[String],
) -> Result<Tool, GatewayError> {
    let schema_error = |reason: String| GatewayError::InputSchema {
        function: qualified(integration, function),
        reason,
    };
    let declared = integration
        .input_schema(function)
        .map_err(|error| schema_error(error.to_string()))?;
    let mut schema = plain_object_schema(&declared).map_err(schema_error)?;
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        properties.insert(
            ACCOUNT_ARGUMENT.into(),
            account_property(integration, accounts),
        );
    }
    check_plain(&schema).map_err(schema_error)?;

    let read = function.operation == Operation::Read;
    let annotations = ToolAnnotations::with_title(function.title)
        .read_only(read)
        .destructive(function.destructive && !read)
        .idempotent(function.idempotent)
        // Every call reaches the provider's API, outside this machine.
        .open_world(true);
    Ok(Tool::new(
        tool_name(integration.meta.name, function.name),
        description(integration, function, accounts),
        Arc::new(schema),
    )
    .with_title(function.title)
    .with_annotations(annotations))
}

fn account_property(integration: &Integration, accounts: &[String]) -> Value {
    let mut property = Map::new();
    property.insert("type".into(), "string".into());
    property.insert(
        "description".into(),
        format!(
            "The named {} account to call with; `{DEFAULT_ACCOUNT}` when left out.",
            integration.meta.label
        )
        .into(),
    );
    property.insert("enum".into(), json!(accounts));
    Value::Object(property)
}

fn description(integration: &Integration, function: &FunctionMeta, accounts: &[String]) -> String {
    let mut text = function.summary.to_string();
    if !function.description.is_empty() {
        text.push_str("\n\n");
        text.push_str(function.description);
    }
    text.push_str(&format!(
        "\n\nRuns `{}.{}` ({} {}, a {}). Optional `{ACCOUNT_ARGUMENT}`: the {} account to call with ({}); `{DEFAULT_ACCOUNT}` when left out.",
        integration.meta.name,
        function.name,
        function.method,
        function.path,
        function.operation,
        integration.meta.label,
        accounts.join(", "),
    ));
    text
}
