//! The environment a server gets, and what `${NAME}` in an entry may read.
//!
//! A project file is written by whoever wrote the repository, so it must not be able to copy
//! the user's secrets into a process of its choosing. Expansion therefore reads only variables
//! whose name starts with `KOSMO_MCP_`, or that the user lists in `KOSMO_MCP_ALLOWED_ENV`
//! (comma-separated); anything else is an error, not an empty string.
//!
//! - In `env` values, the whole value must be one reference: `${NAME}`, `${NAME:-default}`,
//!   `${env:NAME}` or `$NAME`. Other values are taken literally.
//! - In `headers` values, `${NAME}` references may appear anywhere (`Bearer ${KOSMO_MCP_TOKEN}`).
//! - An allowed variable that is unset expands to the default, else to the empty string.
//!
//! A child process gets only `PATH`, `HOME`, `USER`, `LOGNAME`, `SHELL`, `TMPDIR`, `TMP`,
//! `TEMP`, `LANG` and `LC_ALL` from ours, plus its entry's `env`; with
//! `KOSMO_MCP_INHERIT_ENV=1` it gets all of ours.

use std::collections::BTreeMap;

/// Variables every child process gets from ours.
pub const PASSED_THROUGH: &[&str] = &[
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "TMP", "TEMP", "LANG", "LC_ALL",
];

/// Reads our environment, so tests can supply their own.
pub trait Environment {
    /// The value of `name`, if set.
    fn var(&self, name: &str) -> Option<String>;
    /// Every variable, for `KOSMO_MCP_INHERIT_ENV=1`.
    fn vars(&self) -> Vec<(String, String)>;
}

/// The process's own environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn vars(&self) -> Vec<(String, String)> {
        std::env::vars().collect()
    }
}

impl Environment for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }

    fn vars(&self) -> Vec<(String, String)> {
        self.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// Whether a reference to `name` may be expanded.
fn allowed(name: &str, environment: &dyn Environment) -> bool {
    name.starts_with("KOSMO_MCP_")
        || environment
            .var("KOSMO_MCP_ALLOWED_ENV")
            .is_some_and(|list| list.split(',').any(|allowed| allowed.trim() == name))
}

fn lookup(
    name: &str,
    default: Option<&str>,
    environment: &dyn Environment,
) -> Result<String, String> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("`{name}` is not a variable name"));
    }
    if !allowed(name, environment) {
        return Err(format!(
            "it reads the environment variable {name}, which MCP entries may not read: only KOSMO_MCP_* variables and those listed in KOSMO_MCP_ALLOWED_ENV (comma-separated) are expanded"
        ));
    }
    Ok(environment
        .var(name)
        .filter(|v| !v.is_empty())
        .or_else(|| default.map(str::to_string))
        .unwrap_or_default())
}

/// Expands an `env` value that is one whole reference; other values are returned as they are.
pub fn expand_env_value(value: &str, environment: &dyn Environment) -> Result<String, String> {
    if value.starts_with("${KOSMO_SECRET:") || value.starts_with("@secret:") {
        return Err(
            "secret-store references are not supported; put the secret in a KOSMO_MCP_* environment variable and write `${KOSMO_MCP_…}`".into(),
        );
    }
    if let Some(inner) = value.strip_prefix("${").and_then(|v| v.strip_suffix('}')) {
        let inner = inner.strip_prefix("env:").unwrap_or(inner);
        let (name, default) = match inner.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (inner, None),
        };
        return lookup(name, default, environment);
    }
    if let Some(name) = value.strip_prefix('$')
        && !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return lookup(name, None, environment);
    }
    Ok(value.to_string())
}

/// Expands every `${NAME}` (or `${NAME:-default}`) in a header value.
pub fn expand_references(value: &str, environment: &dyn Environment) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!("`{value}` has a `${{` without its `}}`"));
        };
        let inner = after[..end].strip_prefix("env:").unwrap_or(&after[..end]);
        let (name, default) = match inner.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (inner, None),
        };
        out.push_str(&lookup(name, default, environment)?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The whole environment of a child process: the pass-through variables (or all of ours with
/// `KOSMO_MCP_INHERIT_ENV=1`) and the entry's `env`, expanded.
pub fn child_environment(
    entry_env: &BTreeMap<String, String>,
    environment: &dyn Environment,
) -> Result<BTreeMap<String, String>, String> {
    let mut vars = BTreeMap::new();
    if environment.var("KOSMO_MCP_INHERIT_ENV").as_deref() == Some("1") {
        vars.extend(environment.vars());
    } else {
        for name in PASSED_THROUGH {
            if let Some(value) = environment.var(name) {
                vars.insert((*name).to_string(), value);
            }
        }
    }
    for (name, value) in entry_env {
        let value = expand_env_value(value, environment).map_err(|e| format!("env.{name}: {e}"))?;
        vars.insert(name.clone(), value);
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn only_kosmo_mcp_and_allowed_variables_expand() {
        let ours = env(&[
            ("KOSMO_MCP_TOKEN", "t"),
            ("GITHUB_TOKEN", "secret"),
            ("OTHER", "o"),
            ("KOSMO_MCP_ALLOWED_ENV", "OTHER, X"),
        ]);
        assert_eq!(expand_env_value("${KOSMO_MCP_TOKEN}", &ours).unwrap(), "t");
        assert_eq!(expand_env_value("$KOSMO_MCP_TOKEN", &ours).unwrap(), "t");
        assert_eq!(expand_env_value("${env:OTHER}", &ours).unwrap(), "o");
        assert_eq!(expand_env_value("${X:-d}", &ours).unwrap(), "d");
        assert_eq!(expand_env_value("${KOSMO_MCP_UNSET}", &ours).unwrap(), "");
        let refused = expand_env_value("${GITHUB_TOKEN}", &ours).unwrap_err();
        assert!(refused.contains("GITHUB_TOKEN"), "{refused}");
        assert!(!refused.contains("secret"), "{refused}");
        // Only whole values are references in `env`.
        assert_eq!(
            expand_env_value("a ${GITHUB_TOKEN}", &ours).unwrap(),
            "a ${GITHUB_TOKEN}"
        );
        assert!(expand_env_value("@secret:mcp.s.k", &ours).is_err());
    }

    #[test]
    fn headers_expand_references_anywhere_under_the_same_rule() {
        let ours = env(&[("KOSMO_MCP_TOKEN", "t"), ("GITHUB_TOKEN", "secret")]);
        assert_eq!(
            expand_references("Bearer ${KOSMO_MCP_TOKEN}!", &ours).unwrap(),
            "Bearer t!"
        );
        assert!(expand_references("Bearer ${GITHUB_TOKEN}", &ours).is_err());
        assert!(expand_references("Bearer ${KOSMO_MCP_TOKEN", &ours).is_err());
    }

    #[test]
    fn a_child_gets_a_minimal_environment_unless_told_otherwise() {
        let ours = env(&[
            ("PATH", "/bin"),
            ("GITHUB_TOKEN", "secret"),
            ("KOSMO_MCP_A", "a"),
        ]);
        let entry = env(&[("A", "${KOSMO_MCP_A}"), ("B", "literal")]);
        let child = child_environment(&entry, &ours).unwrap();
        assert_eq!(
            child,
            env(&[("A", "a"), ("B", "literal"), ("PATH", "/bin")])
        );
        let mut inherit = ours.clone();
        inherit.insert("KOSMO_MCP_INHERIT_ENV".into(), "1".into());
        assert!(
            child_environment(&entry, &inherit)
                .unwrap()
                .contains_key("GITHUB_TOKEN")
        );
    }
}
