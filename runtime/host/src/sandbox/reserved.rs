//! The check that refuses, before a script runs, code that assigns a global whose name starts
//! with `__` (KosmoKrator reserves them). The environment's `__newindex` refuses what this
//! text-level check misses.

/// Refuses code that assigns a global whose name starts with `__`, before it runs.
pub(crate) fn reserved_assignment(code: &str) -> Option<String> {
    let stripped = strip_strings_and_comments(code);
    let bytes = stripped.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i + 1 < bytes.len() {
        let at_word_start = i == 0 || !is_word(bytes[i - 1]);
        if !(at_word_start && bytes[i] == b'_' && bytes[i + 1] == b'_') {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i;
        while end < bytes.len() && is_word(bytes[end]) {
            end += 1;
        }
        let name = &stripped[start..end];
        i = end;
        // Skip field and method names (`t.__index = ...`) and table constructor fields
        // (`{ __index = ... }`); the run-time guard covers what this misses.
        let before = stripped[..start].trim_end();
        if before.ends_with('.') && !before.ends_with("..") || before.ends_with(':') {
            continue;
        }
        let depth = before.matches('{').count() as i64 - before.matches('}').count() as i64;
        if depth > 0 {
            continue;
        }
        let previous_word = before
            .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("");
        if previous_word == "local" {
            continue;
        }
        if previous_word == "function" && before.ends_with("function") {
            return Some(name.to_string());
        }
        let after = stripped[end..].trim_start();
        let after = ["..=", "+=", "-=", "*=", "//=", "/=", "%=", "^="]
            .iter()
            .find_map(|op| after.strip_prefix(op).map(|rest| ("=", rest)))
            .map(|(_, rest)| format!("={rest}"))
            .unwrap_or_else(|| after.to_string());
        if after.starts_with('=') && !after.starts_with("==") {
            return Some(name.to_string());
        }
    }
    None
}

/// The code with string contents and comments blanked out, same length and line breaks.
fn strip_strings_and_comments(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    let long_bracket = |at: usize| -> Option<usize> {
        // `[`, zero or more `=`, `[`: returns the level.
        if chars.get(at) != Some(&'[') {
            return None;
        }
        let mut level = 0;
        while chars.get(at + 1 + level) == Some(&'=') {
            level += 1;
        }
        (chars.get(at + 1 + level) == Some(&'[')).then_some(level)
    };
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let c = chars[i];
        if c == '-' && chars.get(i + 1) == Some(&'-') {
            if let Some(level) = long_bracket(i + 2) {
                let close: String = std::iter::once(']')
                    .chain(std::iter::repeat_n('=', level))
                    .chain(std::iter::once(']'))
                    .collect();
                let rest: String = chars[i..].iter().collect();
                let end = rest.find(&close).map_or(chars.len(), |p| {
                    i + rest[..p].chars().count() + close.chars().count()
                });
                out.extend(chars[i..end].iter().map(|&c| blank(c)));
                i = end;
            } else {
                while i < chars.len() && chars[i] != '\n' {
                    out.push(' ');
                    i += 1;
                }
            }
        } else if let Some(level) = long_bracket(i) {
            let close: String = std::iter::once(']')
                .chain(std::iter::repeat_n('=', level))
                .chain(std::iter::once(']'))
                .collect();
            let rest: String = chars[i..].iter().collect();
            let end = rest.find(&close).map_or(chars.len(), |p| {
                i + rest[..p].chars().count() + close.chars().count()
            });
            out.push('"');
            out.extend(
                chars[i + 1..end.saturating_sub(1)]
                    .iter()
                    .map(|&c| blank(c)),
            );
            out.push('"');
            i = end.max(i + 2);
        } else if c == '"' || c == '\'' || c == '`' {
            out.push(c);
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    out.push(' ');
                    i += 1;
                }
                out.push(blank(chars[i]));
                i += 1;
            }
            if i < chars.len() {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}
