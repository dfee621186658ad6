//! Writing manifest YAML by hand, in the manifests' own style (block mappings, short flow
//! mappings, `>-` for long prose, `|` for Lua), with the quoting the loader needs: a string that
//! another type could claim (`true`, `10`, `2026-05-12`, `null`), that starts with an indicator
//! (`-`, `*`, `&`, `!`, `[`, ...) or that holds `: ` or ` #` is double-quoted, and so is anything
//! with a character a plain or block scalar cannot carry. The rules err towards quoting: a quoted
//! string is always read back as the same string (the tests round-trip every case through the
//! loader's parser).

use serde_json::Value;

/// Where a scalar is written: flow collections (`{ ... }`, `[ ... ]`) also reserve `,[]{}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    Block,
    Flow,
}

/// Words that some YAML reader (1.1 or 1.2) takes for a boolean or null.
const RESERVED_WORDS: [&str; 11] = [
    "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "",
];

/// A string as a scalar: plain when that is unambiguous, else double-quoted.
pub(crate) fn string(text: &str, context: Context) -> String {
    if plain_is_safe(text, context) {
        text.to_string()
    } else {
        double_quoted(text)
    }
}

/// Whether `text` reads back as the same string when written without quotes.
fn plain_is_safe(text: &str, context: Context) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    // Letters, `_` and `/` start no other type and are no indicator; digits, signs and dots could
    // start a number or a date, everything else is an indicator or rare enough to quote.
    let starts_well = first.is_alphabetic() || first == '_' || first == '/';
    let flow_safe =
        context == Context::Block || !text.contains([',', '[', ']', '{', '}', ':', '#']);
    starts_well
        && flow_safe
        && text == text.trim()
        && text.chars().all(is_printable)
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.ends_with(':')
        && !RESERVED_WORDS.contains(&text.to_ascii_lowercase().as_str())
}

/// Characters YAML can carry outside double quotes: no control characters and no line breaks
/// other than `\n` (which no single-line scalar holds either).
fn is_printable(c: char) -> bool {
    !(c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}'))
}

/// A double-quoted scalar: `\` and `"` escaped, every non-printable character as an escape.
pub(crate) fn double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if !is_printable(c) => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON value in flow style: `[a, b]`, `{ key: value }`, scalars quoted as needed.
pub(crate) fn flow_value(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s, Context::Flow),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(flow_value).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) if map.is_empty() => "{}".to_string(),
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", string(k, Context::Flow), flow_value(v)))
                .collect();
            format!("{{ {} }}", entries.join(", "))
        }
    }
}

/// `key: value` for prose at `indent` spaces: on the line when it fits within `width` columns,
/// else a folded `>-` block wrapped at `width` (which reads back as the text itself, its lines
/// joined by single spaces). Text a block cannot carry is double-quoted on the line instead.
pub(crate) fn prose(key: &str, text: &str, indent: usize, width: usize) -> String {
    let pad = " ".repeat(indent);
    let inline = format!("{pad}{key}: {}", string(text, Context::Block));
    let foldable = !text.is_empty()
        && text == text.trim()
        && !text.contains("  ")
        && text.chars().all(|c| is_printable(c) && c != '\t');
    if inline.chars().count() <= width || !foldable {
        return inline + "\n";
    }
    let mut out = format!("{pad}{key}: >-\n");
    let content_pad = " ".repeat(indent + 2);
    for line in wrap(text, width.saturating_sub(indent + 2)) {
        out.push_str(&content_pad);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `key: |` and the text as a literal block at `indent + 2` spaces, every line kept as it is.
/// The text must not start with a space (the generated Lua never does).
pub(crate) fn literal(key: &str, text: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let content_pad = " ".repeat(indent + 2);
    let mut out = format!("{pad}{key}: |\n");
    for line in text.lines() {
        if line.is_empty() {
            out.push('\n');
        } else {
            out.push_str(&content_pad);
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Splits single-spaced text into lines of at most `width` characters, breaking at spaces only
/// (a longer word gets a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Reads YAML the way the manifest loader does (YAML 1.2 booleans only).
    fn read(text: &str) -> Value {
        let options = serde_saphyr::options! { strict_booleans: true };
        serde_saphyr::from_str_with_options(text, options)
            .unwrap_or_else(|e| panic!("{text}\ndoes not parse: {e}"))
    }

    const TRICKY: &[&str] = &[
        "plain words",
        "true",
        "False",
        "yes",
        "no",
        "on",
        "Off",
        "y",
        "null",
        "Null",
        "~",
        "",
        " leading space",
        "trailing space ",
        "10",
        "-10",
        "1.5",
        "1e3",
        ".5",
        ".inf",
        "-.inf",
        ".NaN",
        "0x1F",
        "0o17",
        "012",
        "1_000",
        "2026-05-12",
        "2026-05-12T10:00:00Z",
        "12:30",
        "-created_at",
        "+created_at",
        "- item",
        "? key",
        ": value",
        "key: value",
        "a # comment",
        "a#b",
        "ends with colon:",
        "*alias",
        "&anchor",
        "!tag",
        "!!str",
        "%directive",
        "@at",
        "`tick`",
        "|literal",
        ">folded",
        "'single'",
        "\"double\"",
        "back\\slash",
        "[flow]",
        "{flow}",
        "a, b",
        "a[0]",
        "a{b}",
        "http://example.test/a?b=c",
        "/users/{user_id}",
        "/data",
        "line\nbreak",
        "tab\there",
        "bell\u{7}",
        "nel\u{85}",
        "ls\u{2028}ps\u{2029}",
        "bom\u{feff}",
        "é accent",
        "日本語",
        "<<",
        "=",
        "array<string>",
        "100%",
        "#hash",
    ];

    #[test]
    fn every_tricky_string_reads_back_as_itself_in_block_and_flow_context() {
        for text in TRICKY {
            let block = format!("key: {}\n", string(text, Context::Block));
            assert_eq!(read(&block), json!({ "key": text }), "block: {block}");
            let flow = format!(
                "key: {{ a: {}, b: [{}, x] }}\n",
                string(text, Context::Flow),
                string(text, Context::Flow)
            );
            assert_eq!(
                read(&flow),
                json!({ "key": { "a": text, "b": [text, "x"] } }),
                "flow: {flow}"
            );
        }
    }

    #[test]
    fn safe_strings_stay_plain() {
        for text in ["plain words", "/users", "array<string>", "user_2abc", "a#b"] {
            assert_eq!(string(text, Context::Block), *text);
        }
        assert_eq!(string("/users/{id}", Context::Block), "/users/{id}");
        assert_eq!(string("/users/{id}", Context::Flow), "\"/users/{id}\"");
        assert_eq!(string("-created_at", Context::Block), "\"-created_at\"");
        assert_eq!(string("2026-05-12", Context::Block), "\"2026-05-12\"");
    }

    #[test]
    fn flow_values_read_back_as_the_same_json() {
        for value in [
            json!(null),
            json!(true),
            json!(10),
            json!(-1.5),
            json!(1e300),
            json!("yes"),
            json!([]),
            json!({}),
            json!(["a, b", "-x", 3, false, null]),
            json!({"a key": {"nested": ["x: y", "#"]}, "true": 1, "2": "2"}),
        ] {
            let text = format!("key: {}\n", flow_value(&value));
            assert_eq!(read(&text), json!({ "key": value }), "{text}");
        }
    }

    #[test]
    fn long_prose_is_folded_and_reads_back_as_itself() {
        let text =
            "Returns the objects, newest first: `created_at` is in Unix milliseconds. A # is \
                    no comment here, nor is - a list item, and key: value is no mapping. "
                .repeat(3);
        let text = text.trim();
        let written = prose("description", text, 4, 60);
        assert!(written.starts_with("    description: >-\n"), "{written}");
        assert!(
            written
                .lines()
                .all(|l| l.chars().count() <= 60 || !l.contains(' '))
        );
        assert_eq!(read(&written), json!({ "description": text }));

        let short = prose("summary", "- starts like a list", 4, 100);
        assert_eq!(short, "    summary: \"- starts like a list\"\n");
        assert_eq!(read(&short), json!({ "summary": "- starts like a list" }));

        // Text a folded block would change (double spaces, tabs) is quoted on one line.
        let spaced = format!("{text}  and more");
        let written = prose("description", &spaced, 0, 60);
        assert_eq!(read(&written), json!({ "description": spaced }));
    }

    #[test]
    fn literal_blocks_keep_lines() {
        let lua = "local result = f({ a = \"# not a comment\" })\n\nprint(result)\n";
        let written = literal("lua", lua, 4);
        assert_eq!(read(&written), json!({ "lua": lua }));
    }
}
