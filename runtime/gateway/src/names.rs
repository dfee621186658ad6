//! Tool names: `integration__<provider>__<function>`, in the characters every MCP client takes.

/// What every integration tool's name starts with.
pub const TOOL_PREFIX: &str = "integration__";

/// What every upstream MCP server's tool name starts with.
pub const UPSTREAM_PREFIX: &str = "mcp__";

/// `name` in lowercase ASCII letters, digits and `_`: each run of other characters becomes one
/// `_`, and `_` at either end is trimmed; an empty result is `tool`.
pub fn sanitize_name(name: &str) -> String {
    // The same rule as MCP tool names in Lua, so a name reads the same everywhere.
    kosmo_host::kosmo_mcp::lua_name(name)
}

/// The tool name of one function: `integration__<provider>__<function>`, each part sanitized.
pub fn tool_name(provider: &str, function: &str) -> String {
    format!(
        "{TOOL_PREFIX}{}__{}",
        sanitize_name(provider),
        sanitize_name(function)
    )
}

/// The tool name of an upstream server's tool: `mcp__<server>__<tool>`, each part sanitized.
pub fn upstream_tool_name(server: &str, tool: &str) -> String {
    format!(
        "{UPSTREAM_PREFIX}{}__{}",
        sanitize_name(server),
        sanitize_name(tool)
    )
}

/// The name in `names` closest to `wanted`, comparing it both with whole names and with their
/// function part (clients sometimes drop the prefix).
pub(crate) fn closest<'a>(
    wanted: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    names
        .into_iter()
        .map(|name| {
            let function = name.rsplit("__").next().unwrap_or(name);
            let distance = kosmo_runtime::args::edit_distance(wanted, name)
                .min(kosmo_runtime::args::edit_distance(wanted, function));
            (distance, name)
        })
        .min()
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lowercase_with_runs_of_other_characters_as_one_underscore() {
        assert_eq!(sanitize_name("list_users"), "list_users");
        assert_eq!(sanitize_name("GetUser"), "getuser");
        assert_eq!(sanitize_name("a-b.c  d"), "a_b_c_d");
        assert_eq!(sanitize_name("__x__"), "x");
        assert_eq!(sanitize_name("--x"), "x");
        assert_eq!(sanitize_name("émoji 🙂 ok"), "moji_ok");
        assert_eq!(sanitize_name(""), "tool");
        assert_eq!(sanitize_name("---"), "tool");
        assert_eq!(sanitize_name("2fa"), "2fa");
    }

    #[test]
    fn tool_names_join_provider_and_function() {
        assert_eq!(
            tool_name("acme", "list_widgets"),
            "integration__acme__list_widgets"
        );
        assert_eq!(tool_name("Acme Co", "!!"), "integration__acme_co__tool");
    }

    #[test]
    fn the_closest_name_matches_whole_names_and_function_parts() {
        let names = [
            "integration__acme__get_widget",
            "integration__acme__list_widgets",
        ];
        assert_eq!(
            closest("integration__acme__get_widgte", names),
            Some("integration__acme__get_widget")
        );
        assert_eq!(
            closest("list_widget", names),
            Some("integration__acme__list_widgets")
        );
        assert_eq!(closest("x", []), None);
    }
}
