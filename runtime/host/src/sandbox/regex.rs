//! `regex.match`, `regex.match_all` and `regex.gsub` for scripts, on the `regex` crate: matching
//! takes time linear in the subject, so no pattern can hang the host. Patterns may be written
//! PCRE-style with delimiters and flags (`"/x(\\d+)/i"`); a bare pattern is used as is.

use std::cell::RefCell;
use std::collections::HashMap;

use mlua::{Function, Lua, Table, Value as LuaValue};
use regex::{Captures, Regex, RegexBuilder};

use super::render::scalar;

/// Compiled-program size limit: refuses patterns like `(a{1000}){1000}` instead of building
/// them.
const SIZE_LIMIT: usize = 4 << 20;
const CACHE_LIMIT: usize = 64;

thread_local! {
    static CACHE: RefCell<HashMap<String, Regex>> = RefCell::new(HashMap::new());
}

fn compile(pattern: &str) -> Result<Regex, String> {
    if let Some(found) = CACHE.with(|c| c.borrow().get(pattern).cloned()) {
        return Ok(found);
    }
    let (body, flags) = split_delimited(pattern);
    let mut builder = RegexBuilder::new(body);
    builder.size_limit(SIZE_LIMIT).dfa_size_limit(SIZE_LIMIT);
    for flag in flags.chars() {
        match flag {
            'i' => builder.case_insensitive(true),
            'm' => builder.multi_line(true),
            's' => builder.dot_matches_new_line(true),
            'x' => builder.ignore_whitespace(true),
            'U' => builder.swap_greed(true),
            'u' | 'D' => &mut builder,
            other => return Err(format!("unsupported regex flag `{other}`")),
        };
    }
    let regex = builder.build().map_err(|e| format!("invalid regex: {e}"))?;
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(pattern.to_string(), regex.clone());
    });
    Ok(regex)
}

/// `("x(\d+)", "i")` for `/x(\d+)/i`; `(pattern, "")` when it is not delimited.
fn split_delimited(pattern: &str) -> (&str, &str) {
    let mut chars = pattern.chars();
    let Some(open) = chars.next() else {
        return (pattern, "");
    };
    // Same-character delimiters only, and none that means something at the start of a bare
    // pattern (`(`, `[`, `^`, `\\`, ...), so a bare pattern is never mistaken for a delimited one.
    if !"/#~!@%,;:='\"&`".contains(open) {
        return (pattern, "");
    }
    let close = open;
    let Some(end) = pattern.rfind(close) else {
        return (pattern, "");
    };
    if end == 0 {
        return (pattern, "");
    }
    let flags = &pattern[end + close.len_utf8()..];
    if !flags.chars().all(|c| c.is_ascii_alphabetic()) {
        return (pattern, "");
    }
    (&pattern[open.len_utf8()..end], flags)
}

/// A match as a table: `[0]` the whole match, `[1]`… the groups (`""` when a group did not
/// take part), named groups also by name.
fn captures_table(lua: &Lua, regex: &Regex, caps: &Captures) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    for i in 0..caps.len() {
        let text = caps.get(i).map_or("", |m| m.as_str());
        table.raw_set(i, text)?;
    }
    for name in regex.capture_names().flatten() {
        let text = caps.name(name).map_or("", |m| m.as_str());
        table.raw_set(name, text)?;
    }
    Ok(table)
}

fn lua_err(function: &str, message: String) -> mlua::Error {
    mlua::Error::runtime(format!("regex.{function}: {message}"))
}

/// The raw functions, raising mlua errors; `max_output` bounds the string `gsub` builds (it is
/// built in Rust, outside the Lua memory limit).
pub(crate) fn create(lua: &Lua, max_output: usize) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    table.raw_set(
        "match",
        lua.create_function(|lua, (subject, pattern): (mlua::LuaString, String)| {
            let regex = compile(&pattern).map_err(|e| lua_err("match", e))?;
            let subject = subject.to_str()?;
            match regex.captures(&subject) {
                Some(caps) => Ok(LuaValue::Table(captures_table(lua, &regex, &caps)?)),
                None => Ok(LuaValue::Nil),
            }
        })?,
    )?;
    table.raw_set(
        "match_all",
        lua.create_function(|lua, (subject, pattern): (mlua::LuaString, String)| {
            let regex = compile(&pattern).map_err(|e| lua_err("match_all", e))?;
            let subject = subject.to_str()?;
            let out = lua.create_table()?;
            for (i, caps) in regex.captures_iter(&subject).enumerate() {
                out.raw_set(i + 1, captures_table(lua, &regex, &caps)?)?;
            }
            Ok(out)
        })?,
    )?;
    table.raw_set(
        "gsub",
        lua.create_function(
            move |lua,
                  (subject, pattern, replacement, limit): (
                mlua::LuaString,
                String,
                LuaValue,
                Option<i64>,
            )| {
                let regex = compile(&pattern).map_err(|e| lua_err("gsub", e))?;
                let subject = subject.to_str()?;
                let limit = match limit {
                    Some(n) if n >= 0 => Some(n as usize),
                    _ => None,
                };
                let replacer = match replacement {
                    LuaValue::String(s) => Replacer::Template(php_template(&s.to_str()?)),
                    LuaValue::Integer(_) | LuaValue::Number(_) => {
                        Replacer::Literal(scalar(&replacement))
                    }
                    LuaValue::Function(f) => Replacer::Function(f),
                    LuaValue::Table(t) => Replacer::Table(t),
                    other => {
                        return Err(lua_err(
                            "gsub",
                            format!(
                                "the replacement must be a string, function or table, not {}",
                                other.type_name()
                            ),
                        ));
                    }
                };
                let mut out = String::with_capacity(subject.len());
                let mut last = 0;
                let mut count = 0i64;
                for caps in regex.captures_iter(&subject) {
                    if limit.is_some_and(|l| count as usize >= l) {
                        break;
                    }
                    let Some(whole) = caps.get(0) else { continue };
                    out.push_str(&subject[last..whole.start()]);
                    replacer.append(lua, &regex, &caps, &mut out)?;
                    if out.len() > max_output {
                        return Err(lua_err(
                            "gsub",
                            format!("the result would exceed {max_output} bytes"),
                        ));
                    }
                    last = whole.end();
                    count += 1;
                }
                out.push_str(&subject[last..]);
                Ok((out, count))
            },
        )?,
    )?;
    Ok(table)
}

enum Replacer {
    Template(String),
    Literal(String),
    Function(Function),
    Table(Table),
}

impl Replacer {
    fn append(
        &self,
        lua: &Lua,
        regex: &Regex,
        caps: &Captures,
        out: &mut String,
    ) -> mlua::Result<()> {
        let whole = caps.get(0).map_or("", |m| m.as_str());
        match self {
            Replacer::Template(template) => caps.expand(template, out),
            Replacer::Literal(text) => out.push_str(text),
            Replacer::Function(f) => {
                let value: LuaValue = f.call(captures_table(lua, regex, caps)?)?;
                push_replacement(&value, whole, out)?;
            }
            Replacer::Table(t) => {
                let value: LuaValue = t.get(whole)?;
                push_replacement(&value, whole, out)?;
            }
        }
        Ok(())
    }
}

/// A function's or table's answer: `nil`/`false` keep the match, strings and numbers replace it.
fn push_replacement(value: &LuaValue, whole: &str, out: &mut String) -> mlua::Result<()> {
    match value {
        LuaValue::Nil | LuaValue::Boolean(false) => out.push_str(whole),
        LuaValue::String(s) => out.push_str(&s.to_str()?),
        LuaValue::Integer(_) | LuaValue::Number(_) => out.push_str(&scalar(value)),
        other => {
            return Err(lua_err(
                "gsub",
                format!("the replacement returned a {}", other.type_name()),
            ));
        }
    }
    Ok(())
}

/// PHP/PCRE replacement syntax (`$1`, `${1}`, `\1`, `${name}`) in the `regex` crate's syntax
/// (`${1}`, `${name}`, `$$` for a dollar).
fn php_template(replacement: &str) -> String {
    let mut out = String::with_capacity(replacement.len() + 8);
    let chars: Vec<char> = replacement.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if (c == '$' || c == '\\') && next.is_some_and(|n| n.is_ascii_digit()) {
            let mut j = i + 1;
            let mut digits = String::new();
            while j < chars.len() && chars[j].is_ascii_digit() && digits.len() < 2 {
                digits.push(chars[j]);
                j += 1;
            }
            out.push_str(&format!("${{{digits}}}"));
            i = j;
        } else if c == '$' && next == Some('{') {
            match chars[i..].iter().position(|&ch| ch == '}') {
                Some(end) => {
                    let name: String = chars[i + 2..i + end].iter().collect();
                    out.push_str(&format!("${{{name}}}"));
                    i += end + 1;
                }
                None => {
                    out.push_str("$$");
                    i += 1;
                }
            }
        } else if c == '$' {
            out.push_str("$$");
            i += 1;
        } else if c == '\\' && next == Some('\\') {
            out.push('\\');
            i += 2;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn delimiters_and_flags_are_understood() {
        assert_eq!(split_delimited("/x(\\d+)/i"), ("x(\\d+)", "i"));
        assert_eq!(split_delimited("#a/b#"), ("a/b", ""));
        assert_eq!(split_delimited("~a~ms"), ("a", "ms"));
        assert_eq!(split_delimited("(\\d+)-(\\d+)"), ("(\\d+)-(\\d+)", ""));
        assert_eq!(split_delimited("abc"), ("abc", ""));
        assert_eq!(split_delimited("^a$"), ("^a$", ""));
        assert!(compile("/a/q").unwrap_err().contains("flag"));
        assert!(compile("/ABC/i").unwrap().is_match("xabcx"));
    }

    #[test]
    fn php_replacements_become_regex_templates() {
        assert_eq!(php_template("$1-\\2 ${name} $"), "${1}-${2} ${name} $$");
    }

    #[test]
    fn huge_repetitions_are_refused_not_built() {
        assert!(compile("(a{1000}){1000}").is_err());
    }

    #[test]
    fn gsub_results_stop_at_their_bound() {
        let lua = Lua::new();
        let regex = create(&lua, 1000).unwrap();
        let gsub: Function = regex.get("gsub").unwrap();
        let (text, count): (String, i64) = gsub.call(("abc", "b", "x")).unwrap();
        assert_eq!((text.as_str(), count), ("axc", 1));
        let error = gsub
            .call::<(String, i64)>((".".repeat(100), ".", "0123456789abcdef"))
            .unwrap_err();
        assert!(error.to_string().contains("exceed 1000 bytes"), "{error}");
    }
}
