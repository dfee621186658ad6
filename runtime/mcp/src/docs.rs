//! Docs pages built from a server's live tool list: `docs.read("mcp.<server>")` and
//! `docs.read("mcp.<server>.<tool>")`. They are made when read, so they never describe tools
//! the server no longer has.

use crate::client::Server;
use crate::tools::{ToolInfo, server_path};

/// Splits `mcp.<server>[.<tool>]` (or `app.mcp.…`) into the server and the tool. A server
/// name may itself hold dots; the longest configured name that matches wins.
pub fn split_page<'a>(page: &'a str, servers: &[Server]) -> Option<(&'a str, Option<&'a str>)> {
    let page = page.trim();
    let rest = page
        .strip_prefix("app.")
        .unwrap_or(page)
        .strip_prefix("mcp.")?;
    let mut best: Option<(&str, Option<&str>)> = None;
    for server in servers {
        let name = server.config.name.as_str();
        if rest == name {
            return Some((&rest[..name.len()], None));
        }
        if let Some(tool) = rest.strip_prefix(name).and_then(|t| t.strip_prefix('.'))
            && best.is_none_or(|(b, _)| b.len() < name.len())
        {
            best = Some((&rest[..name.len()], Some(tool)));
        }
    }
    best.or_else(|| match rest.split_once('.') {
        Some((server, tool)) => Some((server, Some(tool))),
        None => Some((rest, None)),
    })
}

/// The page of a server: how to reach it and one section per tool.
pub fn server_page(server: &Server, tools: &[ToolInfo]) -> String {
    let config = &server.config;
    let mut page = format!("# MCP server `{}`\n\n", config.name);
    page.push_str(&format!(
        "Lua: `{}.<tool>(args)` or `mcp.call(\"{}.<tool>\", args)`. Source: {} ({}), transport: {}. Tools marked read-only by the server are reads; every other tool is a write, under the server's write permission.\n\n",
        server_path(&config.name),
        config.name,
        config.source.as_str(),
        config.path_text(),
        config.transport.kind(),
    ));
    page.push_str(&format!("## Tools ({})\n\n", tools.len()));
    page.push_str("| Lua | Operation | Description |\n| --- | --- | --- |\n");
    for tool in tools {
        page.push_str(&format!(
            "| `{}` | {} | {} |\n",
            tool.lua_name,
            tool.operation(),
            table_cell(first_line(&tool.description))
        ));
    }
    for tool in tools {
        page.push('\n');
        page.push_str(&tool_section(tool, "###"));
    }
    page
}

/// The page of one tool.
pub fn tool_page(tool: &ToolInfo) -> String {
    let mut page = tool_section(tool, "#");
    page.push_str("\nInput schema:\n\n```json\n");
    page.push_str(&serde_json::to_string_pretty(&tool.input_schema).unwrap_or_default());
    page.push_str("\n```\n");
    page
}

fn tool_section(tool: &ToolInfo, heading: &str) -> String {
    let mut out = format!("{heading} `{}`\n\n", tool.function());
    if let Some(title) = &tool.title {
        out.push_str(&format!("{title}. "));
    }
    if !tool.description.is_empty() {
        out.push_str(tool.description.trim());
        out.push_str("\n\n");
    } else if tool.title.is_some() {
        out.push_str("\n\n");
    }
    let wire = if tool.name == tool.lua_name {
        String::new()
    } else {
        format!(" (the server calls it `{}`)", tool.name)
    };
    out.push_str(&format!(
        "Operation: {}{wire}.\n\n```lua\n{}({})\n```\n\n",
        tool.operation(),
        tool.lua_path(),
        example_arguments(tool)
    ));
    let parameters = tool.parameters();
    if parameters.is_empty() {
        out.push_str("Takes no parameters.\n");
    } else {
        out.push_str("| Parameter | Type | Required | Description |\n| --- | --- | --- | --- |\n");
        for p in parameters {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                p.name,
                p.kind,
                if p.required { "yes" } else { "no" },
                table_cell(&p.description)
            ));
        }
    }
    out
}

/// `{ id = "…", name = "…" }` with the required parameters, `{}` when there are none.
fn example_arguments(tool: &ToolInfo) -> String {
    let required: Vec<String> = tool
        .parameters()
        .into_iter()
        .filter(|p| p.required)
        .map(|p| {
            let value = match p.kind.as_str() {
                "integer" | "number" => "1".to_string(),
                "boolean" => "true".to_string(),
                "array" => "{}".to_string(),
                "object" => "{}".to_string(),
                _ => "\"…\"".to_string(),
            };
            let key = if p
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !p.name.starts_with(|c: char| c.is_ascii_digit())
            {
                p.name
            } else {
                format!("[{}]", serde_json::Value::String(p.name))
            };
            format!("{key} = {value}")
        })
        .collect();
    if required.is_empty() {
        "{}".to_string()
    } else {
        format!("{{ {} }}", required.join(", "))
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

fn table_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ServerConfig, Source};
    use serde_json::json;

    fn server(name: &str) -> Server {
        Server {
            config: ServerConfig::from_entry(name, Source::Global, None, &json!({"command": "x"}))
                .unwrap(),
            trusted: true,
        }
    }

    #[test]
    fn pages_split_on_the_longest_server_name() {
        let servers = [server("a"), server("a.b")];
        assert_eq!(split_page("mcp.a", &servers), Some(("a", None)));
        assert_eq!(
            split_page("mcp.a.b.tool", &servers),
            Some(("a.b", Some("tool")))
        );
        assert_eq!(split_page("app.mcp.a.t", &servers), Some(("a", Some("t"))));
        assert_eq!(split_page("acme", &servers), None);
    }

    #[test]
    fn a_tool_page_shows_every_parameter_and_a_call() {
        let tool = ToolInfo::from_json(
            "demo",
            &json!({"name": "Get-Item", "description": "Reads one item.", "annotations": {"readOnlyHint": true},
                    "inputSchema": {"type": "object", "properties": {"id": {"type": "string", "description": "The id"}}, "required": ["id"]}}),
        )
        .unwrap();
        let page = tool_page(&tool);
        assert!(page.contains("# `demo.get_item`"), "{page}");
        assert!(
            page.contains("app.mcp.demo.get_item({ id = \"…\" })"),
            "{page}"
        );
        assert!(page.contains("| `id` | string | yes | The id |"), "{page}");
        assert!(page.contains("the server calls it `Get-Item`"), "{page}");
    }
}
