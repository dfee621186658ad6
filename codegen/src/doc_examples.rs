//! The examples in markdown docs, found the way a reader copies them, and checked against the
//! functions they call.
//!
//! An example is a fenced ```lua block (one with `file=<name>` in its info string is a file the
//! page's commands use, such as `workflow.lua`) or a `kosmo …` line in a ```sh, ```bash,
//! ```shell or ```console block. Only top-level fences count: a ```lua fence shown inside a
//! ````markdown block is text, not an example. The generator checks every example of every page
//! it writes (and `cargo xtask gen` the README files) statically; `cli/tests/doc_examples.rs`
//! runs them against the emulator with the same extraction.

use std::borrow::Cow;
use std::collections::BTreeMap;

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};
use serde_json::Value;

use crate::diagnostics::{Diagnostic, Reporter};
use crate::lua_calls::find_integration_calls;
use crate::model::Provider;

/// A fenced code block at the top level of a markdown document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeBlock {
    /// 1-based line of the block's first code line.
    pub line: u64,
    /// First word of the info string (`lua`, `sh`, ...), lower-cased.
    pub language: String,
    /// The rest of the info string's words, as `key=value` (or bare) attributes.
    pub attributes: Vec<String>,
    pub code: String,
}

impl CodeBlock {
    /// The value of a `key=value` attribute of the info string.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find_map(|a| a.strip_prefix(key)?.strip_prefix('='))
    }
}

/// One example a reader can copy and run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Example {
    /// A Lua chunk, run with `kosmo integrations:lua`.
    Lua { line: u64, code: String },
    /// A Lua file the page's commands use by name (```lua file=workflow.lua).
    LuaFile {
        line: u64,
        name: String,
        code: String,
    },
    /// A shell command line, continuations joined; `words` as a shell would split it.
    Command {
        line: u64,
        text: String,
        words: Vec<String>,
    },
    /// A shell line that cannot be split (an unclosed quote).
    BrokenCommand {
        line: u64,
        text: String,
        reason: String,
    },
}

impl Example {
    pub fn line(&self) -> u64 {
        match self {
            Example::Lua { line, .. }
            | Example::LuaFile { line, .. }
            | Example::Command { line, .. }
            | Example::BrokenCommand { line, .. } => *line,
        }
    }
}

const SHELL_LANGUAGES: [&str; 4] = ["sh", "bash", "shell", "console"];

/// Every top-level fenced code block of `markdown`, in order.
pub fn code_blocks(markdown: &str) -> Vec<CodeBlock> {
    // Line starts, to turn byte offsets into line numbers.
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(markdown.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |offset: usize| line_starts.partition_point(|&start| start <= offset) as u64;
    let mut blocks = Vec::new();
    let mut current: Option<CodeBlock> = None;
    for (event, range) in Parser::new(markdown).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                let mut words = info.split_whitespace().map(str::to_string);
                current = Some(CodeBlock {
                    // The fence is the first line of the range; code starts on the next.
                    line: line_of(range.start) + 1,
                    language: words.next().unwrap_or_default().to_lowercase(),
                    attributes: words.collect(),
                    code: String::new(),
                });
            }
            Event::Text(text) => {
                if let Some(block) = &mut current {
                    block.code.push_str(&text);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some(block) = current.take() {
                    blocks.push(block);
                }
            }
            _ => {}
        }
    }
    blocks
}

/// The examples of `markdown`: Lua blocks, Lua files and every line of its shell blocks that
/// is not blank or a comment (callers decide what to do with commands other than `kosmo`).
pub fn examples(markdown: &str) -> Vec<Example> {
    let mut found = Vec::new();
    for block in code_blocks(markdown) {
        if block.language == "lua" {
            match block.attribute("file") {
                Some(name) => found.push(Example::LuaFile {
                    line: block.line,
                    name: name.to_string(),
                    code: block.code,
                }),
                None => found.push(Example::Lua {
                    line: block.line,
                    code: block.code,
                }),
            }
        } else if SHELL_LANGUAGES.contains(&block.language.as_str()) {
            found.extend(shell_commands(&block));
        }
    }
    found
}

fn shell_commands(block: &CodeBlock) -> Vec<Example> {
    let mut commands = Vec::new();
    let mut pending: Option<(u64, String)> = None;
    for (index, raw) in block.code.lines().enumerate() {
        let line = block.line + index as u64;
        let text = match &pending {
            Some(_) => raw.trim(),
            None => {
                let trimmed = raw.trim();
                let trimmed = trimmed.strip_prefix("$ ").unwrap_or(trimmed);
                if trimmed.is_empty() || trimmed.starts_with('#') {
                    continue;
                }
                trimmed
            }
        };
        let (start, mut joined) = pending.take().unwrap_or((line, String::new()));
        if let Some(head) = text.strip_suffix('\\') {
            joined.push_str(head);
            pending = Some((start, joined));
            continue;
        }
        joined.push_str(text);
        commands.push(command(start, joined));
    }
    if let Some((start, joined)) = pending {
        commands.push(command(start, joined));
    }
    commands
}

fn command(line: u64, text: String) -> Example {
    match shell_words::split(&text) {
        Ok(words) => Example::Command { line, text, words },
        Err(e) => Example::BrokenCommand {
            line,
            text,
            reason: e.to_string(),
        },
    }
}

/// What the checker needs to know about one parameter.
pub(crate) struct ParamSig<'a> {
    pub name: &'a str,
    pub aliases: Vec<&'a str>,
    pub required: bool,
}

/// The functions of one namespace by every name they answer to (Lua name, slug, aliases), and
/// `each.<name>` for those that page.
pub(crate) type Callables<'a> = BTreeMap<Cow<'a, str>, Vec<ParamSig<'a>>>;

fn callables(provider: &Provider) -> Callables<'_> {
    let mut map = Callables::new();
    for f in &provider.functions {
        let names = std::iter::once(&f.name)
            .chain(std::iter::once(&f.slug))
            .chain(f.aliases.iter());
        let params = || {
            f.params
                .iter()
                .map(|p| ParamSig {
                    name: &p.name,
                    aliases: p.aliases.iter().map(String::as_str).collect(),
                    required: p.required,
                })
                .collect::<Vec<_>>()
        };
        for name in names {
            map.insert(Cow::Borrowed(name.as_str()), params());
            if f.pagination.is_some() {
                map.insert(Cow::Owned(format!("each.{name}")), params());
            }
        }
    }
    map
}

/// Checks every example of `markdown` (a file at `path`) against `providers`: Lua that does not
/// parse, calls of unknown functions, unknown parameters, missing required parameters, in Lua
/// blocks, in `--eval` code and in `integrations:call` payloads and flags. To check many pages,
/// index the providers once with [`Checker`].
pub fn check_markdown(providers: &[Provider], path: &str, markdown: &str) -> Vec<Diagnostic> {
    Checker::new(providers).check(path, markdown)
}

/// The functions of every provider, indexed once, to check many pages against.
pub struct Checker<'a> {
    namespaces: Vec<(&'a str, Callables<'a>)>,
}

impl<'a> Checker<'a> {
    pub fn new(providers: &'a [Provider]) -> Self {
        Checker {
            namespaces: providers
                .iter()
                .map(|p| (p.name.as_str(), callables(p)))
                .collect(),
        }
    }

    /// The problems of the examples of `markdown`, a file at `path`; see [`check_markdown`].
    pub fn check(&self, path: &str, markdown: &str) -> Vec<Diagnostic> {
        let mut reporter = Reporter::new(path);
        check_examples(&mut reporter, &self.namespaces, markdown);
        reporter.finish().err().map(|d| d.0).unwrap_or_default()
    }
}

/// [`check_markdown`] with the namespaces already indexed; reports to `reporter`.
pub(crate) fn check_examples(
    reporter: &mut Reporter<'_>,
    namespaces: &[(&str, Callables<'_>)],
    markdown: &str,
) {
    for example in examples(markdown) {
        match &example {
            Example::Lua { line, code } | Example::LuaFile { line, code, .. } => {
                for (namespace, callables) in namespaces {
                    check_lua(reporter, callables, namespace, code, *line, 1);
                }
            }
            Example::Command { line, words, .. } => {
                check_command(reporter, namespaces, words, *line);
            }
            Example::BrokenCommand { line, reason, .. } => {
                reporter.at_line(*line, 1, format!("shell command does not parse: {reason}"));
            }
        }
    }
}

/// Options of `integrations:call` that are not function arguments.
const CALL_OPTIONS: &[&str] = &[
    "json",
    "force",
    "dry-run",
    "account",
    "help",
    "all",
    "no-pacing",
];

/// Options of `integrations:export` that are not function arguments.
const EXPORT_OPTIONS: &[&str] = &[
    "json",
    "force",
    "dry-run",
    "account",
    "help",
    "no-pacing",
    "overwrite",
    "quiet",
    "format",
    "output",
    "columns",
];

/// Options of either command that take a value, which may be the next word.
const VALUE_OPTIONS: &[&str] = &["account", "format", "output", "columns"];

fn check_command(
    reporter: &mut Reporter<'_>,
    namespaces: &[(&str, Callables<'_>)],
    words: &[String],
    line: u64,
) {
    if words.first().map(String::as_str) != Some("kosmo") {
        return;
    }
    let Some(subcommand) = words.get(1) else {
        return;
    };
    let rest = &words[2..];
    match subcommand.as_str() {
        "integrations:lua" => {
            let mut iter = rest.iter();
            while let Some(word) = iter.next() {
                let code = if word == "--eval" || word == "-e" {
                    iter.next()
                } else {
                    None
                };
                let code = code.map(String::as_str).or(word.strip_prefix("--eval="));
                if let Some(code) = code {
                    for (namespace, callables) in namespaces {
                        check_lua(reporter, callables, namespace, code, line, 1);
                    }
                }
            }
        }
        "integrations:call" | "integrations:schema" | "integrations:export" => {
            if let Some(target) = rest.first() {
                let target = target.strip_prefix("app.").unwrap_or(target);
                let target = target.strip_prefix("integrations.").unwrap_or(target);
                match target.split_once('.') {
                    Some((provider, function)) => check_call(
                        reporter,
                        namespaces,
                        provider,
                        function,
                        match subcommand.as_str() {
                            "integrations:call" => Some(CALL_OPTIONS),
                            "integrations:export" => Some(EXPORT_OPTIONS),
                            _ => None,
                        },
                        &rest[1..],
                        line,
                    ),
                    None => reporter.at_line(
                        line,
                        1,
                        format!(
                            "`{subcommand} {target}` names no function (use `provider.function`)"
                        ),
                    ),
                }
            }
        }
        other => {
            if let Some(provider) = other.strip_prefix("integrations:")
                && namespaces.iter().any(|(name, _)| *name == provider)
                && let Some(function) = rest.first()
            {
                check_call(
                    reporter,
                    namespaces,
                    provider,
                    function,
                    Some(CALL_OPTIONS),
                    &rest[1..],
                    line,
                );
            }
        }
    }
}

/// A command-line call: the function must exist; with the command's `options` (which are not
/// arguments), its JSON payload and `--flag` arguments must name known parameters and give
/// every required one.
fn check_call(
    reporter: &mut Reporter<'_>,
    namespaces: &[(&str, Callables<'_>)],
    provider: &str,
    function: &str,
    options: Option<&[&str]>,
    arguments: &[String],
    line: u64,
) {
    let Some((_, callables)) = namespaces.iter().find(|(name, _)| *name == provider) else {
        reporter.at_line(
            line,
            1,
            format!("command names unknown provider `{provider}`"),
        );
        return;
    };
    // `each.<fn>` is a Lua iterator, not something a command can call.
    let found = callables
        .get(function)
        .filter(|_| !function.starts_with("each."));
    let Some(params) = found else {
        let known: Vec<&str> = callables
            .keys()
            .map(|k| k.as_ref())
            .filter(|k| !k.starts_with("each."))
            .collect();
        let hint = closest(function, &known)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        reporter.at_line(
            line,
            1,
            format!("command calls unknown function `{provider}.{function}`{hint}"),
        );
        return;
    };
    let Some(options) = options else {
        return;
    };
    let mut keys = Vec::new();
    let mut iter = arguments.iter();
    while let Some(word) = iter.next() {
        if let Some(flag) = word.strip_prefix("--") {
            let (name, value) = match flag.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (flag, None),
            };
            if options.contains(&name) {
                if VALUE_OPTIONS.contains(&name) && value.is_none() {
                    iter.next();
                }
                continue;
            }
            if name == "arg" {
                let pair = value.map(str::to_string).or_else(|| iter.next().cloned());
                if let Some((key, _)) = pair.as_deref().and_then(|p| p.split_once('=')) {
                    keys.push(key.to_string());
                }
                continue;
            }
            keys.push(name.replace('-', "_"));
        } else if word.trim_start().starts_with('{') {
            match serde_json::from_str::<Value>(word) {
                Ok(Value::Object(map)) => keys.extend(map.keys().cloned()),
                _ => reporter.at_line(
                    line,
                    1,
                    format!("the JSON payload of `{provider}.{function}` is not a JSON object"),
                ),
            }
        }
    }
    check_keys(reporter, function, params, &keys, line, 1);
}

/// Checks the integration calls of a Lua snippet that starts at `line`, `column` of its file.
pub(crate) fn check_lua(
    reporter: &mut Reporter<'_>,
    callables: &Callables<'_>,
    namespace: &str,
    code: &str,
    line: u64,
    column: u64,
) {
    let at = |l: usize, c: usize| {
        (
            line + l as u64 - 1,
            if l == 1 {
                column + c as u64 - 1
            } else {
                c as u64
            },
        )
    };
    let calls = match find_integration_calls(code, namespace) {
        Ok(calls) => calls,
        Err(e) => {
            let (l, c) = at(e.line.max(1), e.column.max(1));
            reporter.at_line(l, c, format!("Lua example does not parse: {}", e.message));
            return;
        }
    };
    for call in calls {
        let (l, c) = at(call.line, call.column);
        let Some(params) = callables.get(call.function.as_str()) else {
            let known: Vec<&str> = callables.keys().map(|k| k.as_ref()).collect();
            let hint = closest(&call.function, &known)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            reporter.at_line(
                l,
                c,
                format!(
                    "example calls unknown function `app.integrations.{namespace}.{}`{hint}",
                    call.function
                ),
            );
            continue;
        };
        if let Some(keys) = call.keys {
            check_keys(reporter, &call.function, params, &keys, l, c);
        }
    }
}

fn check_keys(
    reporter: &mut Reporter<'_>,
    function: &str,
    params: &[ParamSig<'_>],
    keys: &[String],
    line: u64,
    column: u64,
) {
    let answers = |p: &ParamSig<'_>, key: &str| p.name == key || p.aliases.contains(&key);
    for key in keys {
        if !params.iter().any(|p| answers(p, key)) {
            let names: Vec<&str> = params.iter().map(|p| p.name).collect();
            let hint = closest(key, &names)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            reporter.at_line(
                line,
                column,
                format!("example passes unknown parameter `{key}` to `{function}`{hint}"),
            );
        }
    }
    for p in params.iter().filter(|p| p.required) {
        if !keys.iter().any(|k| answers(p, k)) {
            reporter.at_line(
                line,
                column,
                format!(
                    "example calls `{function}` without its required parameter `{}`",
                    p.name
                ),
            );
        }
    }
}

pub(crate) fn closest<'a>(wrong: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::levenshtein(wrong, c), *c))
        .filter(|(d, c)| *d <= c.len().max(wrong.len()) / 3 + 1)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}
