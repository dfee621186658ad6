//! Which MCP servers are configured: the files editors and KosmoKrator use, read in order of
//! precedence, and the entries they hold.
//!
//! Files, later ones winning per server name:
//! 1. `$KOSMO_HOME/mcp.json` (default `~/.kosmo/mcp.json`), the user's own: `global`;
//! 2. `.vscode/mcp.json` in the project root: `project-vscode`;
//! 3. `.cursor/mcp.json`: `project-cursor`;
//! 4. `.mcp.json`: `project`.
//!
//! Each file keeps its servers under `mcpServers`, or `servers` when that is missing (VS Code).
//! The project root is the nearest folder with `.git`, else the working directory. Servers
//! from project files need the user's trust before they run ([`Source::needs_trust`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// How long one request to a server may take unless its entry says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where a server's entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// The user's own file under the kosmo home.
    Global,
    /// `.vscode/mcp.json` of the project.
    ProjectVscode,
    /// `.cursor/mcp.json` of the project.
    ProjectCursor,
    /// `.mcp.json` of the project.
    Project,
    /// Added by the embedding program at run time, not read from a file.
    Runtime,
}

impl Source {
    /// The name envelopes and docs show: `global`, `project-vscode`, `project-cursor`,
    /// `project` or `runtime`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Global => "global",
            Source::ProjectVscode => "project-vscode",
            Source::ProjectCursor => "project-cursor",
            Source::Project => "project",
            Source::Runtime => "runtime",
        }
    }

    /// Whether a server from here runs only once the user has trusted its entry: anything a
    /// cloned repository can bring with it.
    pub fn needs_trust(self) -> bool {
        matches!(
            self,
            Source::ProjectVscode | Source::ProjectCursor | Source::Project
        )
    }
}

/// How to reach a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// A child process speaking newline-delimited JSON-RPC on stdin and stdout.
    Stdio {
        /// The program.
        command: String,
        /// Its arguments.
        args: Vec<String>,
        /// Extra environment, values not yet expanded (see [`crate::env`]).
        env: BTreeMap<String, String>,
        /// The folder it runs in, if the entry sets one.
        cwd: Option<String>,
    },
    /// A streamable-HTTP endpoint.
    Http {
        /// The endpoint's URL.
        url: String,
        /// Headers sent with every request, values not yet expanded.
        headers: BTreeMap<String, String>,
    },
}

impl Transport {
    /// `stdio` or `http`.
    pub fn kind(&self) -> &'static str {
        match self {
            Transport::Stdio { .. } => "stdio",
            Transport::Http { .. } => "http",
        }
    }
}

/// One configured server.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Its name, as written: `app.mcp["<name>"]`.
    pub name: String,
    /// Where the entry comes from.
    pub source: Source,
    /// The file it was read from.
    pub path: Option<PathBuf>,
    /// How to reach it.
    pub transport: Transport,
    /// A disabled server is listed but never started.
    pub enabled: bool,
    /// The longest one request (start included) may take.
    pub timeout: Duration,
    /// The entry as written, for its fingerprint and listings.
    pub entry: Value,
}

/// A file or entry that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but cannot be read or is not JSON of the right shape.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// One server's entry is wrong.
    #[error("MCP server '{server}' in {path}: {message}")]
    Entry {
        /// The server's name.
        server: String,
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl ServerConfig {
    /// Reads one entry of a config file (`command`/`args`/`env`/`cwd`, or `url`/`headers`;
    /// `type`, `enabled`, `timeout` in seconds).
    pub fn from_entry(
        name: &str,
        source: Source,
        path: Option<&Path>,
        entry: &Value,
    ) -> Result<ServerConfig, String> {
        let Some(fields) = entry.as_object() else {
            return Err("the entry must be a JSON object".into());
        };
        let text = |key: &str| -> Result<Option<String>, String> {
            match fields.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!("`{key}` must be a string")),
            }
        };
        let url = match text("url")? {
            Some(url) => Some(url),
            None => text("serverUrl")?,
        };
        let kind = text("type")?;
        let transport = match kind.as_deref() {
            None | Some("local") if url.is_some() => "http",
            None | Some("local") | Some("stdio") => "stdio",
            Some("http") | Some("streamable-http") | Some("streamableHttp") => "http",
            Some("sse") => {
                return Err(
                    "`type: sse` (the deprecated HTTP+SSE transport) is not supported; use the server's streamable-HTTP endpoint with `type: http`".into(),
                );
            }
            Some(other) => {
                return Err(format!("unknown `type` `{other}`; use `stdio` or `http`"));
            }
        };
        let map = |key: &str| -> Result<BTreeMap<String, String>, String> {
            match fields.get(key) {
                None | Some(Value::Null) => Ok(BTreeMap::new()),
                Some(Value::Object(values)) => values
                    .iter()
                    .map(|(k, v)| match v {
                        Value::String(s) => Ok((k.clone(), s.clone())),
                        Value::Number(n) => Ok((k.clone(), n.to_string())),
                        Value::Bool(b) => Ok((k.clone(), b.to_string())),
                        _ => Err(format!("`{key}.{k}` must be a string")),
                    })
                    .collect(),
                Some(_) => Err(format!("`{key}` must be an object of strings")),
            }
        };
        let transport = if transport == "http" {
            let Some(url) = url else {
                return Err("an `http` server needs a `url`".into());
            };
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!(
                    "`url` must start with http:// or https://, not `{url}`"
                ));
            }
            Transport::Http {
                url,
                headers: map("headers")?,
            }
        } else {
            let Some(command) = text("command")?.filter(|c| !c.trim().is_empty()) else {
                return Err("a `stdio` server needs a `command`".into());
            };
            let args = match fields.get("args") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| match item {
                        Value::String(s) => Ok(s.clone()),
                        Value::Number(n) => Ok(n.to_string()),
                        _ => Err("`args` must be an array of strings".to_string()),
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err("`args` must be an array of strings".into()),
            };
            let env = if fields.contains_key("env") {
                map("env")?
            } else {
                map("environment")?
            };
            Transport::Stdio {
                command,
                args,
                env,
                cwd: text("cwd")?,
            }
        };
        let enabled = match fields.get("enabled").or_else(|| fields.get("disabled")) {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) if fields.contains_key("enabled") => *b,
            Some(Value::Bool(b)) => !*b,
            Some(_) => return Err("`enabled` must be true or false".into()),
        };
        let timeout = match fields
            .get("timeout")
            .or_else(|| fields.get("timeoutSeconds"))
        {
            None | Some(Value::Null) => DEFAULT_TIMEOUT,
            Some(Value::Number(n)) => match n.as_f64() {
                Some(seconds) if seconds > 0.0 && seconds <= 86_400.0 => {
                    Duration::from_secs_f64(seconds)
                }
                _ => return Err("`timeout` must be a number of seconds between 0 and 86400".into()),
            },
            Some(_) => return Err("`timeout` must be a number of seconds".into()),
        };
        Ok(ServerConfig {
            name: name.to_string(),
            source,
            path: path.map(Path::to_path_buf),
            transport,
            enabled,
            timeout,
            entry: entry.clone(),
        })
    }

    /// `sha256:<hex>` of the entry's canonical JSON (keys sorted, no spaces): any edit to the
    /// entry gives another fingerprint, and so revokes the trust given to the old one.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.name, &self.entry)
    }

    /// The file it came from, for messages.
    pub fn path_text(&self) -> String {
        self.path.as_ref().map_or_else(
            || self.source.as_str().to_string(),
            |p| p.display().to_string(),
        )
    }
}

/// The fingerprint of a server entry, see [`ServerConfig::fingerprint`]. The name is part of it,
/// so trusting `a` does not trust the same entry renamed `b`.
pub fn fingerprint(name: &str, entry: &Value) -> String {
    let mut canonical = String::new();
    write_canonical(
        &serde_json::json!({ "name": name, "entry": entry }),
        &mut canonical,
    );
    let digest = Sha256::digest(canonical.as_bytes());
    let mut hex = String::with_capacity(7 + 64);
    hex.push_str("sha256:");
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Where the config files are.
#[derive(Debug, Clone)]
pub struct ConfigLocations {
    /// The kosmo home (`$KOSMO_HOME`, default `~/.kosmo`).
    pub home: PathBuf,
    /// The project root.
    pub project_root: PathBuf,
}

impl ConfigLocations {
    /// The project root for `cwd`: the nearest folder with `.git`, else `cwd` itself.
    pub fn project_root_of(cwd: &Path) -> PathBuf {
        cwd.ancestors()
            .find(|dir| dir.join(".git").exists())
            .unwrap_or(cwd)
            .to_path_buf()
    }

    /// The user's own file.
    pub fn global_file(&self) -> PathBuf {
        self.home.join("mcp.json")
    }

    /// The project's `.mcp.json`, where `mcp:add --project` writes.
    pub fn project_file(&self) -> PathBuf {
        self.project_root.join(".mcp.json")
    }

    /// Every file, lowest precedence first.
    pub fn files(&self) -> Vec<(Source, PathBuf)> {
        vec![
            (Source::Global, self.global_file()),
            (
                Source::ProjectVscode,
                self.project_root.join(".vscode").join("mcp.json"),
            ),
            (
                Source::ProjectCursor,
                self.project_root.join(".cursor").join("mcp.json"),
            ),
            (Source::Project, self.project_file()),
        ]
    }
}

/// One config file that exists.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFile {
    /// Which one it is.
    pub source: Source,
    /// Where.
    pub path: PathBuf,
    /// The key its servers are under: `mcpServers` or `servers`.
    pub schema: &'static str,
    /// The servers it names, in its order.
    pub servers: Vec<String>,
}

/// Every configured server, after precedence.
#[derive(Debug, Clone, Default)]
pub struct McpConfig {
    /// By name.
    pub servers: Vec<ServerConfig>,
    /// The files that exist.
    pub sources: Vec<SourceFile>,
    /// Entries that could not be used; the servers they name are left out.
    pub problems: Vec<ConfigError>,
}

impl McpConfig {
    /// Reads every file. A file that is not JSON is an error naming it; a bad entry is left
    /// out and reported in [`McpConfig::problems`], with any entry of the same name from a
    /// file of lower precedence (which it meant to replace).
    pub fn load(locations: &ConfigLocations) -> Result<McpConfig, ConfigError> {
        let mut by_name: BTreeMap<String, Result<ServerConfig, ConfigError>> = BTreeMap::new();
        let mut sources = Vec::new();
        for (source, path) in locations.files() {
            let Some((schema, servers)) = read_servers(&path)? else {
                continue;
            };
            let mut names = Vec::new();
            for (name, entry) in servers {
                names.push(name.clone());
                let server = ServerConfig::from_entry(&name, source, Some(&path), &entry).map_err(
                    |message| ConfigError::Entry {
                        server: name.clone(),
                        path: path.display().to_string(),
                        message,
                    },
                );
                by_name.insert(name, server);
            }
            sources.push(SourceFile {
                source,
                path,
                schema,
                servers: names,
            });
        }
        let mut config = McpConfig {
            sources,
            ..McpConfig::default()
        };
        for (_, server) in by_name {
            match server {
                Ok(server) => config.servers.push(server),
                Err(problem) => config.problems.push(problem),
            }
        }
        Ok(config)
    }

    /// The server called `name`.
    pub fn server(&self, name: &str) -> Option<&ServerConfig> {
        self.servers.iter().find(|s| s.name == name)
    }

    /// Adds (or replaces) a server that no file holds, for an embedding program.
    pub fn add_runtime_server(&mut self, server: ServerConfig) {
        self.servers.retain(|s| s.name != server.name);
        self.servers.push(server);
        self.servers.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

/// The key a file's servers are under (`mcpServers` or `servers`), and the servers.
type FileServers = (&'static str, Map<String, Value>);

/// The servers of one file and the key they are under, or `None` when it does not exist.
fn read_servers(path: &Path) -> Result<Option<FileServers>, ConfigError> {
    let file_error = |message: String| ConfigError::File {
        path: path.display().to_string(),
        message,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(file_error(format!("cannot read it: {e}"))),
    };
    if text.trim().is_empty() {
        return Ok(Some(("mcpServers", Map::new())));
    }
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        file_error(format!(
            "not valid JSON at line {} column {}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let Value::Object(mut root) = value else {
        return Err(file_error("the file must hold a JSON object".into()));
    };
    let (schema, servers) = match root.remove("mcpServers") {
        Some(servers) => ("mcpServers", servers),
        None => ("servers", root.remove("servers").unwrap_or(Value::Null)),
    };
    match servers {
        Value::Null => Ok(Some((schema, Map::new()))),
        Value::Object(servers) => Ok(Some((schema, servers))),
        _ => Err(file_error(format!("`{schema}` must be an object"))),
    }
}

/// Adds or replaces the entry `name` under `mcpServers` of the file at `path`, keeping
/// everything else in it; creates the file if needed. Written through a temporary file so a
/// crash never leaves half a file.
pub fn write_server(path: &Path, name: &str, entry: Value) -> Result<(), ConfigError> {
    edit_file(path, |servers| {
        servers.insert(name.to_string(), entry);
        true
    })
    .map(|_| ())
}

/// Removes the entry `name` from the file at `path`; `false` when it held none.
pub fn remove_server(path: &Path, name: &str) -> Result<bool, ConfigError> {
    edit_file(path, |servers| servers.remove(name).is_some())
}

fn edit_file(
    path: &Path,
    edit: impl FnOnce(&mut Map<String, Value>) -> bool,
) -> Result<bool, ConfigError> {
    let file_error = |message: String| ConfigError::File {
        path: path.display().to_string(),
        message,
    };
    let mut root = match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Map::new(),
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(root)) => root,
            Ok(_) => return Err(file_error("the file must hold a JSON object".into())),
            Err(e) => return Err(file_error(format!("not valid JSON: {e}"))),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Map::new(),
        Err(e) => return Err(file_error(format!("cannot read it: {e}"))),
    };
    let key = if !root.contains_key("mcpServers") && root.contains_key("servers") {
        "servers"
    } else {
        "mcpServers"
    };
    let servers = root.entry(key).or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(servers) = servers else {
        return Err(file_error(format!("`{key}` must be an object")));
    };
    if !edit(servers) {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| file_error(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut text = serde_json::to_string_pretty(&Value::Object(root))
        .map_err(|e| file_error(e.to_string()))?;
    text.push('\n');
    let tmp = path.with_extension("json.tmp");
    write_keeping_mode(&tmp, path, text.as_bytes())
        .map_err(|e| file_error(format!("cannot write it: {e}")))?;
    std::fs::rename(&tmp, path).map_err(|e| file_error(format!("cannot write it: {e}")))?;
    Ok(true)
}

/// Writes `tmp` with the permissions `path` has, or readable by its owner only when `path` is
/// new: entries can hold tokens (`env`, `headers`), and an edit must not widen who reads them.
#[cfg(unix)]
fn write_keeping_mode(tmp: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mode = std::fs::metadata(path).map_or(0o600, |m| m.permissions().mode() & 0o777);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(tmp)?;
    file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_keeping_mode(tmp: &Path, _path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(tmp, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn locations(dir: &Path) -> ConfigLocations {
        ConfigLocations {
            home: dir.join("home"),
            project_root: dir.join("project"),
        }
    }

    fn write(path: &Path, value: Value) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, value.to_string()).unwrap();
    }

    #[test]
    fn later_files_win_per_name_and_vscode_files_use_servers() {
        let dir = tempfile::tempdir().unwrap();
        let at = locations(dir.path());
        write(
            &at.global_file(),
            json!({"mcpServers": {"a": {"command": "global-a"}, "b": {"command": "global-b"}}}),
        );
        write(
            &at.project_root.join(".vscode/mcp.json"),
            json!({"servers": {"b": {"type": "http", "url": "http://127.0.0.1:1/mcp"}}}),
        );
        write(
            &at.project_file(),
            json!({"mcpServers": {"c": {"command": "c", "args": ["x"], "timeout": 2}}}),
        );
        let config = McpConfig::load(&at).unwrap();
        let names: Vec<_> = config.servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        let b = config.server("b").unwrap();
        assert_eq!(b.source, Source::ProjectVscode);
        assert_eq!(b.transport.kind(), "http");
        let c = config.server("c").unwrap();
        assert_eq!(c.timeout, Duration::from_secs(2));
        assert!(c.source.needs_trust());
        assert!(!config.server("a").unwrap().source.needs_trust());
        assert_eq!(config.sources[1].schema, "servers");
    }

    #[test]
    fn a_bad_entry_is_reported_and_hides_the_entry_it_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let at = locations(dir.path());
        write(
            &at.global_file(),
            json!({"mcpServers": {"a": {"command": "ok"}}}),
        );
        write(
            &at.project_file(),
            json!({"mcpServers": {"a": {"args": []}}}),
        );
        let config = McpConfig::load(&at).unwrap();
        assert!(config.servers.is_empty());
        let problem = config.problems[0].to_string();
        assert!(problem.contains("MCP server 'a'"), "{problem}");
        assert!(problem.contains("needs a `command`"), "{problem}");
    }

    #[test]
    fn a_file_that_is_not_json_is_an_error_naming_it_and_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let at = locations(dir.path());
        std::fs::create_dir_all(&at.project_root).unwrap();
        std::fs::write(at.project_file(), "{\n  \"mcpServers\": {,}\n}").unwrap();
        let error = McpConfig::load(&at).unwrap_err().to_string();
        assert!(error.contains(".mcp.json"), "{error}");
        assert!(error.contains("line 2"), "{error}");
    }

    #[test]
    fn any_edit_changes_the_fingerprint_and_key_order_does_not() {
        let one = fingerprint("s", &json!({"command": "x", "args": ["a"]}));
        let same = fingerprint("s", &json!({"args": ["a"], "command": "x"}));
        let edited = fingerprint("s", &json!({"command": "x", "args": ["b"]}));
        let renamed = fingerprint("t", &json!({"command": "x", "args": ["a"]}));
        assert_eq!(one, same);
        assert_ne!(one, edited);
        assert_ne!(one, renamed);
        assert!(one.starts_with("sha256:") && one.len() == 71, "{one}");
    }

    #[test]
    fn writing_keeps_the_rest_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".mcp.json");
        write(
            &path,
            json!({"other": 1, "mcpServers": {"a": {"command": "a"}}}),
        );
        write_server(&path, "b", json!({"command": "b"})).unwrap();
        assert!(remove_server(&path, "a").unwrap());
        assert!(!remove_server(&path, "a").unwrap());
        let value: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            value,
            json!({"other": 1, "mcpServers": {"b": {"command": "b"}}})
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_new_file_is_private_and_an_edit_keeps_the_files_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let new = dir.path().join("mcp.json");
        write_server(&new, "a", json!({"command": "a"})).unwrap();
        assert_eq!(mode(&new), 0o600);
        let shared = dir.path().join(".mcp.json");
        write(&shared, json!({"mcpServers": {}}));
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_server(&shared, "b", json!({"command": "b"})).unwrap();
        assert_eq!(mode(&shared), 0o644);
    }

    #[test]
    fn entries_are_checked() {
        let check = |entry: Value| ServerConfig::from_entry("s", Source::Global, None, &entry);
        assert!(check(json!({"type": "sse", "url": "http://x"})).is_err());
        assert!(check(json!({"url": "ftp://x"})).is_err());
        assert!(check(json!({"command": "x", "timeout": -1})).is_err());
        assert!(check(json!({"command": "x", "args": [{}]})).is_err());
        let disabled = check(json!({"command": "x", "enabled": false})).unwrap();
        assert!(!disabled.enabled);
        let http = check(json!({"serverUrl": "https://x/mcp", "headers": {"A": "b"}})).unwrap();
        assert_eq!(http.transport.kind(), "http");
    }
}
