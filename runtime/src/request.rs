//! Requests as generated handlers build them: method, encoded path, query pairs, and a JSON
//! or multipart body.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::{Map, Value};

use crate::{Error, FileArg, Method};

/// Everything but RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) is encoded, so a value
/// can never add a segment, a query or a fragment to the path.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A request ready for a [`crate::Transport`]. The path is relative to the provider's base URL
/// and already percent-encoded.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRequest {
    /// Lua name of the function that built it, for error messages.
    pub function: &'static str,
    pub method: Method,
    pub path: String,
    /// Query pairs in the order they are sent; arrays are repeated keys.
    pub query: Vec<(String, String)>,
    /// The body's fields; `None` (and no files or items) sends no body.
    pub body: Option<Map<String, Value>>,
    /// A `JsonArray` body's items, sent as the whole body.
    pub items: Option<Vec<Value>>,
    /// How the body is encoded.
    pub format: BodyFormat,
    /// The files of a multipart body, by field name, in the order they are sent (after the
    /// fields of `body`, which a multipart body sends as text).
    pub files: Vec<(String, FileArg)>,
}

/// How a request's body is encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BodyFormat {
    /// `application/json`: the fields as one object.
    #[default]
    Json,
    /// `multipart/form-data`: each field a text part, each file a part with its filename and
    /// content type.
    Multipart,
    /// `application/json` whose top level is an array: the items (bulk endpoints).
    JsonArray,
}

impl BodyFormat {
    /// The media type of the body.
    pub fn media_type(self) -> &'static str {
        match self {
            BodyFormat::Json | BodyFormat::JsonArray => "application/json",
            BodyFormat::Multipart => "multipart/form-data",
        }
    }
}

impl ApiRequest {
    pub fn new(function: &'static str, method: Method) -> Self {
        ApiRequest {
            function,
            method,
            path: String::new(),
            query: Vec::new(),
            body: None,
            items: None,
            format: BodyFormat::Json,
            files: Vec::new(),
        }
    }

    /// Sends the body as `multipart/form-data`.
    pub fn multipart(mut self) -> Self {
        self.format = BodyFormat::Multipart;
        self
    }

    /// Whether there is a body to send.
    pub fn has_body(&self) -> bool {
        self.body.is_some() || !self.files.is_empty() || self.items.is_some()
    }

    /// Sends `items` (an array) as the whole JSON body; `None` sends none. A value that is not
    /// an array is sent as an array of that one item.
    pub fn set_body_items(&mut self, items: impl BodyValue) {
        self.format = BodyFormat::JsonArray;
        self.items = items.into_body().map(|value| match value {
            Value::Array(items) => items,
            other => vec![other],
        });
    }

    /// The JSON body as sent: the fields' object, or a `JsonArray` body's items; `None` without
    /// one.
    pub fn json_body(&self) -> Option<Value> {
        match self.format {
            BodyFormat::JsonArray => self.items.clone().map(Value::Array),
            _ => self.body.clone().map(Value::Object),
        }
    }

    /// Adds a file part (a multipart body); `None` adds nothing.
    pub fn set_file(&mut self, key: &str, file: impl Into<Option<FileArg>>) {
        if let Some(file) = file.into() {
            self.files.push((key.to_string(), file));
        }
    }

    /// A multipart body's text fields: strings as they are, numbers and booleans as JSON
    /// writes them, anything else as its JSON text.
    pub fn text_fields(&self) -> Vec<(String, String)> {
        self.body
            .iter()
            .flatten()
            .filter(|(_, value)| !value.is_null())
            .map(|(key, value)| {
                let text = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (key.clone(), text)
            })
            .collect()
    }

    /// Appends a literal part of the path template.
    pub fn push_literal(&mut self, literal: &str) {
        self.path.push_str(literal);
    }

    /// Appends a value as exactly one path segment.
    pub fn push_segment(&mut self, param: &str, value: &str) -> Result<(), Error> {
        check_segment(self.function, param, value)?;
        self.path
            .extend(utf8_percent_encode(value, SEGMENT).map(|s| s.to_string()));
        Ok(())
    }

    /// Appends a caller-supplied relative path (the `{+name}` form), refusing anything that
    /// could leave the base URL: other hosts, `//host`, backslashes, `..`, control characters,
    /// `?` and `#`. A path that starts with the transport's own `base_url` is accepted and
    /// stripped, so `https://api.example.com/v1/users` and `/users` mean the same thing.
    pub fn push_relative_path(
        &mut self,
        param: &str,
        value: &str,
        base_url: Option<&str>,
    ) -> Result<(), Error> {
        let invalid = |reason: &str| Error::invalid(self.function, param, reason.to_string());
        if value.chars().any(char::is_control) {
            return Err(invalid("must not contain control characters."));
        }
        if value.contains('\\') {
            return Err(invalid("must not contain backslashes."));
        }
        let value = match base_url.and_then(|base| strip_base_url(value, base)) {
            Some(rest) => rest,
            None => value,
        };
        if value.contains("://") || value.starts_with("//") {
            return Err(invalid(
                "must be a path relative to the base URL, not a URL to another host.",
            ));
        }
        if value.contains('#') {
            return Err(invalid("must not contain a fragment (#)."));
        }
        if value.contains('?') {
            return Err(invalid(
                "must not contain a query string; pass query parameters in `query`.",
            ));
        }
        let trimmed = value.trim_start_matches('/');
        if trimmed.is_empty() {
            return Err(invalid(
                "must name a path below the base URL, such as /users.",
            ));
        }
        for segment in trimmed.split('/') {
            // `%2e%2e` is `..` to every URL parser that decodes before resolving.
            let decoded = percent_decode_str(segment).decode_utf8_lossy();
            if decoded == ".." || decoded == "." {
                return Err(invalid("must not contain `.` or `..` segments."));
            }
            self.path.push('/');
            self.path
                .extend(utf8_percent_encode(segment, SEGMENT).map(|s| s.to_string()));
        }
        Ok(())
    }

    /// Adds a query value; arrays become repeated keys, `None` adds nothing. `false` and `0`
    /// are sent.
    pub fn push_query(&mut self, key: &str, value: impl QueryValue) {
        value.append_to(key, &mut self.query);
    }

    /// Adds an array as one value, its items joined by commas (OpenAPI's style `form` with
    /// `explode: false`); an empty array or `None` adds nothing.
    pub fn push_query_joined(&mut self, key: &str, value: impl QueryValue) {
        let mut items = Vec::new();
        value.append_to(key, &mut items);
        if !items.is_empty() {
            let joined: Vec<String> = items.into_iter().map(|(_, v)| v).collect();
            self.query.push((key.to_string(), joined.join(",")));
        }
    }

    /// Merges a free-form query table (if given); keys already set by declared parameters are
    /// kept.
    pub fn merge_query_map(&mut self, map: impl Into<Option<Map<String, Value>>>) {
        let Some(map) = map.into() else {
            return;
        };
        for (key, value) in &map {
            if self.query.iter().any(|(k, _)| k == key) {
                continue;
            }
            append_json_query(key, value, &mut self.query);
        }
    }

    /// Sets one body field (declared parameters always win); `None` sets nothing.
    pub fn set_body_field(&mut self, key: &str, value: impl BodyValue) {
        if let Some(value) = value.into_body() {
            self.body
                .get_or_insert_with(Map::new)
                .insert(key.to_string(), value);
        }
    }

    /// Merges a free-form body table (if given) under the declared fields.
    pub fn merge_body_map(&mut self, map: impl Into<Option<Map<String, Value>>>) {
        let Some(map) = map.into() else {
            return;
        };
        let body = self.body.get_or_insert_with(Map::new);
        for (key, value) in map {
            body.entry(key).or_insert(value);
        }
    }
}

/// The part of `value` after `base` when `value` is `base` itself or a path below it
/// (scheme and host compared case-insensitively, as URLs do).
fn strip_base_url<'a>(value: &'a str, base: &str) -> Option<&'a str> {
    let base = base.trim_end_matches('/');
    let head = value.get(..base.len())?;
    let rest = &value[base.len()..];
    let (base_origin, base_path) = split_origin(base);
    let (head_origin, head_path) = split_origin(head);
    let same = base_origin.eq_ignore_ascii_case(head_origin) && base_path == head_path;
    (same && (rest.is_empty() || rest.starts_with('/'))).then_some(rest)
}

/// `("https://host:port", "/path")` of an absolute URL.
fn split_origin(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => url.split_at(after_scheme + i),
        None => (url, ""),
    }
}

fn check_segment(function: &str, param: &str, value: &str) -> Result<(), Error> {
    match value {
        "" => Err(Error::invalid(function, param, "must not be empty.")),
        "." | ".." => Err(Error::invalid(
            function,
            param,
            format!("must be an ID, not `{value}`."),
        )),
        _ => Ok(()),
    }
}

fn append_json_query(key: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null => {}
        Value::String(s) => out.push((key.to_string(), s.clone())),
        Value::Array(items) => items
            .iter()
            .for_each(|item| append_json_query(key, item, out)),
        other => out.push((key.to_string(), other.to_string())),
    }
}

/// Values a declared query parameter can hold.
pub trait QueryValue {
    fn append_to(self, key: &str, out: &mut Vec<(String, String)>);
}

impl QueryValue for String {
    fn append_to(self, key: &str, out: &mut Vec<(String, String)>) {
        out.push((key.to_string(), self));
    }
}

impl QueryValue for &str {
    fn append_to(self, key: &str, out: &mut Vec<(String, String)>) {
        out.push((key.to_string(), self.to_string()));
    }
}

impl QueryValue for i64 {
    fn append_to(self, key: &str, out: &mut Vec<(String, String)>) {
        out.push((key.to_string(), self.to_string()));
    }
}

impl QueryValue for f64 {
    fn append_to(self, key: &str, out: &mut Vec<(String, String)>) {
        out.push((key.to_string(), self.to_string()));
    }
}

impl QueryValue for bool {
    fn append_to(self, key: &str, out: &mut Vec<(String, String)>) {
        out.push((key.to_string(), self.to_string()));
    }
}

impl<T: QueryValue> QueryValue for Vec<T> {
    fn append_to(self, key: &str, out: &mut Vec<(String, String)>) {
        for item in self {
            item.append_to(key, out);
        }
    }
}

/// An optional parameter: sent only when given.
impl<T: QueryValue> QueryValue for Option<T> {
    fn append_to(self, key: &str, out: &mut Vec<(String, String)>) {
        if let Some(value) = self {
            value.append_to(key, out);
        }
    }
}

/// Values a declared body parameter can hold; `None` is not sent.
pub trait BodyValue {
    fn into_body(self) -> Option<Value>;
}

macro_rules! body_value {
    ($($ty:ty),*) => {$(
        impl BodyValue for $ty {
            fn into_body(self) -> Option<Value> {
                Some(Value::from(self))
            }
        }
    )*};
}

body_value!(
    String,
    &str,
    i64,
    bool,
    Map<String, Value>,
    Vec<String>,
    Vec<i64>,
    Vec<bool>,
    Vec<Map<String, Value>>
);

/// A whole number in a `number` parameter is sent as an integer (`3600`, not `3600.0`), as
/// the caller wrote it: Lua and JSON callers cannot tell the two apart, and some servers refuse
/// a fraction where they count seconds or items.
fn number_value(n: f64) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53: larger floats are not exact integers
    if n.fract() == 0.0 && n.abs() <= EXACT {
        Value::from(n as i64)
    } else {
        Value::from(n)
    }
}

impl BodyValue for f64 {
    fn into_body(self) -> Option<Value> {
        Some(number_value(self))
    }
}

impl BodyValue for Vec<f64> {
    fn into_body(self) -> Option<Value> {
        Some(Value::Array(self.into_iter().map(number_value).collect()))
    }
}

impl<T: BodyValue> BodyValue for Option<T> {
    fn into_body(self) -> Option<Value> {
        self.and_then(BodyValue::into_body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_sent_as_integers() {
        let mut r = ApiRequest::new("test_fn", Method::Post);
        r.set_body_field("seconds", 3600.0);
        r.set_body_field("ratio", 0.5);
        r.set_body_field("huge", 1e300);
        r.set_body_field("list", vec![1.0, 2.5]);
        let body = serde_json::to_string(&r.body).unwrap();
        assert_eq!(
            body,
            r#"{"seconds":3600,"ratio":0.5,"huge":1e+300,"list":[1,2.5]}"#
        );
    }

    #[test]
    fn a_json_array_body_is_its_items() {
        let mut r = ApiRequest::new("test_fn", Method::Post);
        assert!(!r.has_body());
        r.set_body_items(Some(vec![json_map("a"), json_map("b")]));
        assert!(r.has_body());
        assert_eq!(r.format, BodyFormat::JsonArray);
        assert_eq!(r.format.media_type(), "application/json");
        assert_eq!(
            r.json_body(),
            Some(serde_json::json!([{"email_address": "a"}, {"email_address": "b"}]))
        );
        let mut none = ApiRequest::new("test_fn", Method::Post);
        none.set_body_items(None::<Vec<Map<String, Value>>>);
        assert!(!none.has_body());
        assert_eq!(none.json_body(), None);
    }

    fn json_map(email: &str) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("email_address".into(), Value::from(email));
        map
    }

    fn request() -> ApiRequest {
        ApiRequest::new("test_fn", Method::Get)
    }

    #[test]
    fn a_segment_cannot_escape_its_place_in_the_path() {
        let mut r = request();
        r.push_literal("/users/");
        r.push_segment("user_id", "../organizations/org_1").unwrap();
        assert_eq!(r.path, "/users/..%2Forganizations%2Forg_1");
        let mut r = request();
        r.push_segment("user_id", "user_1?x=1#y").unwrap();
        assert_eq!(r.path, "user_1%3Fx%3D1%23y");
    }

    #[test]
    fn empty_and_dot_segments_are_refused() {
        for bad in ["", ".", ".."] {
            let err = request().push_segment("user_id", bad).unwrap_err();
            assert!(
                err.to_string().starts_with("test_fn: user_id must"),
                "{err}"
            );
        }
    }

    #[test]
    fn relative_paths_stay_below_the_base_url() {
        let mut r = request();
        r.push_relative_path("path", "/users/user 1", None).unwrap();
        assert_eq!(r.path, "/users/user%201");
        for bad in [
            "https://evil.example/x",
            "//evil.example/x",
            "/users/../x",
            "\\users",
            "/users#x",
            "/users?limit=1",
            "/users\n",
            "/users\r\nX-Injected: 1",
            "/",
            "/users/%2e%2e/organizations",
            "/users/%2E./x",
            "https://api.example.com/v2/users",
            "https://api.example.com/v1/../x",
            "https://api.example.com.evil.test/v1/users",
            "https://api.example.com/v1",
        ] {
            assert!(
                request()
                    .push_relative_path("path", bad, Some("https://api.example.com/v1"))
                    .is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_base_url_itself_is_stripped_from_raw_paths() {
        let base = Some("https://api.example.com/v1");
        for given in [
            "https://api.example.com/v1/users/user_1",
            "HTTPS://API.EXAMPLE.COM/v1/users/user_1",
            "/users/user_1",
            "users/user_1",
        ] {
            let mut r = request();
            r.push_relative_path("path", given, base).unwrap();
            assert_eq!(r.path, "/users/user_1", "{given}");
        }
        // Without a base URL to compare with, every absolute URL is refused.
        assert!(
            request()
                .push_relative_path("path", "https://api.example.com/v1/users", None)
                .is_err()
        );
    }

    #[test]
    fn query_arrays_repeat_keys_and_falsy_values_are_sent() {
        let mut r = request();
        r.push_query("user_id", vec!["a".to_string(), "b".to_string()]);
        r.push_query("banned", false);
        r.push_query("offset", 0i64);
        r.push_query("skipped", None::<String>);
        r.set_body_field("absent", None::<i64>);
        assert_eq!(r.body, None);
        assert_eq!(
            r.query,
            [
                ("user_id", "a"),
                ("user_id", "b"),
                ("banned", "false"),
                ("offset", "0")
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }

    #[test]
    fn multipart_bodies_keep_text_fields_and_files() {
        let mut r = request().multipart();
        assert_eq!(r.format, BodyFormat::Multipart);
        assert!(!r.has_body());
        r.set_file("absent", None::<FileArg>);
        assert!(!r.has_body());
        r.set_body_field("uploader_user_id", "user_1");
        r.set_body_field("count", 3i64);
        r.set_body_field("public", true);
        let file =
            FileArg::from_json(&serde_json::json!({"content": "x", "content_type": "text/plain"}))
                .unwrap();
        r.set_file("file", file.clone());
        assert!(r.has_body());
        assert_eq!(r.files, [("file".to_string(), file)]);
        assert_eq!(
            r.text_fields(),
            [
                ("uploader_user_id", "user_1"),
                ("count", "3"),
                ("public", "true")
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }

    #[test]
    fn declared_fields_win_over_free_form_tables() {
        let mut r = request();
        r.push_query("limit", 5i64);
        r.set_body_field("name", "declared");
        let extra: Map<String, Value> =
            serde_json::from_str(r#"{"limit": 99, "order_by": "-created_at", "tags": ["a", "b"]}"#)
                .unwrap();
        r.merge_query_map(extra);
        let body: Map<String, Value> =
            serde_json::from_str(r#"{"name": "raw", "slug": "raw-slug"}"#).unwrap();
        r.merge_body_map(body);
        assert_eq!(
            r.query,
            [
                ("limit", "5"),
                ("order_by", "-created_at"),
                ("tags", "a"),
                ("tags", "b")
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        let body = r.body.unwrap();
        assert_eq!(body["name"], "declared");
        assert_eq!(body["slug"], "raw-slug");
    }
}
