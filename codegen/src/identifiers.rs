//! Turning manifest names into identifiers that are valid in Lua and in Rust.

/// Lua reserved words (Lua 5.1 and Luau) cannot be table keys in `{ name = value }` form.
const LUA_KEYWORDS: &[&str] = &[
    "and", "break", "continue", "do", "else", "elseif", "end", "false", "for", "function", "goto",
    "if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
];

/// Rust keywords, strict and reserved, in every edition up to 2024.
const RUST_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot even be raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Whether `name` can be written bare as a Lua table key and a function name: ASCII letters,
/// digits and `_`, not starting with a digit, not a keyword.
pub fn is_lua_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !LUA_KEYWORDS.contains(&name)
}

/// A Lua identifier for an arbitrary name (an operation ID or a wire name already in snake case):
/// characters other than ASCII letters, digits and `_` become `_`, a leading digit gets a leading
/// `_` (`2fa` → `_2fa`) and a keyword a trailing one (`end` → `end_`). The result always passes
/// [`is_lua_identifier`].
pub fn lua_identifier(name: &str) -> String {
    let mut ident: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if ident.is_empty() || ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert(0, '_');
    }
    if LUA_KEYWORDS.contains(&ident.as_str()) {
        ident.push('_');
    }
    ident
}

/// The Rust spelling of a (Lua-valid) name: keywords become raw identifiers (`r#type`), names that
/// cannot be raw get a trailing `_`, a leading digit gets a leading `_`.
pub fn rust_ident_text(name: &str) -> String {
    let mut ident: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if ident.is_empty() || ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert(0, '_');
    }
    if NOT_RAW.contains(&ident.as_str()) {
        ident.push('_');
    } else if RUST_KEYWORDS.contains(&ident.as_str()) {
        ident.insert_str(0, "r#");
    }
    ident
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lua_identifiers() {
        assert!(is_lua_identifier("user_id"));
        assert!(is_lua_identifier("_x1"));
        assert!(!is_lua_identifier("1st"));
        assert!(!is_lua_identifier("user-id"));
        assert!(!is_lua_identifier("end"));
        assert!(!is_lua_identifier(""));
    }

    #[test]
    fn any_name_becomes_a_lua_identifier() {
        for (name, expected) in [
            ("user_id", "user_id"),
            ("2fa", "_2fa"),
            ("end", "end_"),
            ("x-y.z", "x_y_z"),
            ("", "_"),
            ("é", "_"),
        ] {
            assert_eq!(lua_identifier(name), expected, "{name}");
            assert!(is_lua_identifier(&lua_identifier(name)), "{name}");
        }
    }

    #[test]
    fn rust_identifiers_are_sanitized() {
        assert_eq!(rust_ident_text("user_id"), "user_id");
        assert_eq!(rust_ident_text("type"), "r#type");
        assert_eq!(rust_ident_text("self"), "self_");
        assert_eq!(rust_ident_text("2fa"), "_2fa");
        assert_eq!(rust_ident_text("x-y"), "x_y");
    }
}
