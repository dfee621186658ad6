//! File arguments: what a caller passes for a `file` parameter, checked and decoded.
//!
//! Every front-end passes a file the same way, as a table (JSON object) with the bytes and
//! what they are:
//!
//! ```json
//! { "content_base64": "iVBORw0KGgo…", "filename": "logo.png", "content_type": "image/png" }
//! ```
//!
//! - `content`: the bytes themselves. From Lua any string works (Lua strings are byte
//!   strings; the host hands them on as base64, so nothing is lost); in JSON, text, sent as
//!   its UTF-8 bytes.
//! - `content_base64`: the bytes in base64 (standard or URL-safe alphabet, padding optional,
//!   whitespace ignored, or a whole `data:` URL), the way JSON carries binary data.
//!   Exactly one of `content` and `content_base64`.
//! - `filename`: a name such as `logo.png`, without a directory. Optional.
//! - `content_type`: the media type, such as `image/png`. When absent it is guessed from the
//!   filename's extension, then from the first bytes (PNG, JPEG, GIF, WebP, PDF).
//!
//! The manifest may bound a file parameter by size (`max_bytes`) and by media type
//! (`content_types`); [`parse_file`] checks both before anything is sent.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_PAD_INDIFFERENT, URL_SAFE_PAD_INDIFFERENT};
use bytes::Bytes;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};

use crate::ParamMeta;

/// The keys a file table may have.
pub const FILE_KEYS: [&str; 4] = ["content", "content_base64", "filename", "content_type"];

/// Longest filename accepted, in bytes.
const MAX_FILENAME_BYTES: usize = 255;

/// A file ready to send: its bytes, a filename and a media type.
#[derive(Clone, PartialEq, Eq)]
pub struct FileArg {
    pub filename: String,
    /// The media type, such as `image/png` (lower-case type and subtype).
    pub content_type: String,
    pub content: Bytes,
}

/// Shows the file's name, type and size, never its bytes (they may be megabytes).
impl fmt::Debug for FileArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileArg")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("size", &self.content.len())
            .finish()
    }
}

/// Why a value is not a usable file. Each message completes "`<function>: <parameter>` …".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error(
        "must be a file: a table {{ content = <bytes>, filename = \"logo.png\", content_type = \"image/png\" }} (or content_base64 instead of content), got {0}."
    )]
    NotATable(&'static str),
    #[error(
        "has an unknown field `{0}`; a file takes content (or content_base64), filename and content_type."
    )]
    UnknownField(String),
    #[error("field `{0}` must be a string, got {1}.")]
    NotAString(&'static str, &'static str),
    #[error("has no content: give its bytes as `content`, or as base64 text in `content_base64`.")]
    MissingContent,
    #[error("has both `content` and `content_base64`; give only one.")]
    BothContents,
    #[error("is empty (0 bytes); give the file's bytes.")]
    Empty,
    #[error("has `content_base64` that is not valid base64: {0}.")]
    BadBase64(String),
    #[error(
        "has filename {0:?}: give a plain name such as logo.png, without a directory, quotes or control characters, at most 255 bytes."
    )]
    BadFilename(String),
    #[error("has content_type {0:?}, which is not a media type such as image/png.")]
    BadContentType(String),
    #[error(
        "has no content_type, and neither its filename nor its first bytes tell it; give content_type, such as image/png."
    )]
    UnknownType,
    #[error("is {size_text}; at most {max_text} may be sent, so nothing was sent.")]
    TooLarge {
        size: u64,
        size_text: String,
        max: u64,
        max_text: String,
    },
    #[error("has content type {given}, which is not accepted; use one of {allowed}.")]
    UnsupportedType { given: String, allowed: String },
}

impl FileError {
    fn too_large(size: u64, max: u64) -> FileError {
        FileError::TooLarge {
            size,
            size_text: size_with_bytes(size),
            max,
            max_text: size_with_bytes(max),
        }
    }
}

/// `10 MiB`, `1.5 KiB`, `12 bytes`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 3] = ["KiB", "MiB", "GiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let text = format!("{value:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    format!("{text} {}", UNITS[unit])
}

/// `17 bytes`, or `10 MiB (10485760 bytes)`.
fn size_with_bytes(bytes: u64) -> String {
    if bytes < 1024 {
        human_size(bytes)
    } else {
        format!("{} ({bytes} bytes)", human_size(bytes))
    }
}

/// Base64 (standard alphabet, padded) of `bytes`: how the host passes a Lua string's bytes on.
pub fn encode_base64(bytes: &[u8]) -> String {
    STANDARD_PAD_INDIFFERENT.encode(bytes)
}

impl FileArg {
    /// Reads a file table (see the module docs) without any parameter's bounds.
    pub fn from_json(value: &Value) -> Result<FileArg, FileError> {
        parse(value, None)
    }

    /// What a dry run shows instead of the bytes: name, type and size.
    pub fn summary(&self) -> Value {
        json!({
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.content.len(),
        })
    }
}

/// Reads a file table and checks it against `param`'s `max_bytes` and `content_types`.
pub fn parse_file(param: &ParamMeta, value: &Value) -> Result<FileArg, FileError> {
    parse(value, Some(param))
}

/// Refuses a file of `size` bytes that is larger than `param` allows.
pub fn check_size(param: &ParamMeta, size: u64) -> Result<(), FileError> {
    match param.max_bytes {
        Some(max) if size > max => Err(FileError::too_large(size, max)),
        _ => Ok(()),
    }
}

fn parse(value: &Value, param: Option<&ParamMeta>) -> Result<FileArg, FileError> {
    let Value::Object(map) = value else {
        return Err(FileError::NotATable(kind(value)));
    };
    if let Some(unknown) = map.keys().find(|k| !FILE_KEYS.contains(&k.as_str())) {
        return Err(FileError::UnknownField(unknown.clone()));
    }
    let text = |key: &'static str| -> Result<Option<&str>, FileError> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(FileError::NotAString(key, kind(other))),
        }
    };
    let (content, encoded) = (text("content")?, text("content_base64")?);
    let mut declared_type = text("content_type")?.map(str::to_string);
    let bytes = match (content, encoded) {
        (Some(_), Some(_)) => return Err(FileError::BothContents),
        (None, None) => return Err(FileError::MissingContent),
        (Some(content), None) => {
            if let Some(param) = param {
                check_size(param, content.len() as u64)?;
            }
            Bytes::copy_from_slice(content.as_bytes())
        }
        (None, Some(encoded)) => {
            let (data_url_type, encoded) = split_data_url(encoded)?;
            if declared_type.is_none() {
                declared_type = data_url_type;
            }
            decode_base64(encoded, param)?
        }
    };
    if bytes.is_empty() {
        return Err(FileError::Empty);
    }
    if let Some(param) = param {
        check_size(param, bytes.len() as u64)?;
    }
    let filename = text("filename")?.map(check_filename).transpose()?;
    let content_type = match declared_type {
        Some(declared) => normalize_content_type(&declared)?,
        None => guess_content_type(filename.as_deref(), &bytes).ok_or(FileError::UnknownType)?,
    };
    if let Some(param) = param
        && !param.content_types.is_empty()
        && !param
            .content_types
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(essence(&content_type)))
    {
        return Err(FileError::UnsupportedType {
            given: content_type,
            allowed: param.content_types.join(", "),
        });
    }
    let filename = filename.unwrap_or_else(|| default_filename(&content_type));
    Ok(FileArg {
        filename,
        content_type,
        content: bytes,
    })
}

/// `data:image/png;base64,iVBOR…` → (`image/png`, `iVBOR…`); anything else is returned as is.
fn split_data_url(text: &str) -> Result<(Option<String>, &str), FileError> {
    let trimmed = text.trim_start();
    let Some(rest) = trimmed
        .get(..5)
        .filter(|head| head.eq_ignore_ascii_case("data:"))
        .map(|_| &trimmed[5..])
    else {
        return Ok((None, text));
    };
    let Some((header, data)) = rest.split_once(',') else {
        return Err(FileError::BadBase64(
            "a data: URL needs a comma before its data".to_string(),
        ));
    };
    let mut parts = header.split(';');
    let media_type = parts.next().unwrap_or_default().trim();
    if !parts.any(|p| p.trim().eq_ignore_ascii_case("base64")) {
        return Err(FileError::BadBase64(
            "a data: URL must say ;base64 before its comma".to_string(),
        ));
    }
    Ok((
        (!media_type.is_empty()).then(|| media_type.to_string()),
        data,
    ))
}

/// Decodes lenient base64: whitespace is ignored, padding is optional, and the URL-safe
/// alphabet (`-`, `_`) is read too. A text that is surely too large is refused before decoding.
fn decode_base64(encoded: &str, param: Option<&ParamMeta>) -> Result<Bytes, FileError> {
    let compact: Vec<u8> = encoded
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if let Some(param) = param {
        // Every 4 characters carry 3 bytes; padding takes at most 2 of the last 4.
        let at_least = (compact.len() / 4 * 3).saturating_sub(2) as u64;
        check_size(param, at_least)?;
    }
    let url_safe = compact.iter().any(|b| *b == b'-' || *b == b'_');
    let engine = if url_safe {
        &URL_SAFE_PAD_INDIFFERENT
    } else {
        &STANDARD_PAD_INDIFFERENT
    };
    engine
        .decode(&compact)
        .map(Bytes::from)
        .map_err(|e| FileError::BadBase64(base64_problem(&e)))
}

fn base64_problem(error: &base64::DecodeError) -> String {
    match error {
        base64::DecodeError::InvalidByte(offset, byte) => format!(
            "{:?} at position {offset} is not a base64 character",
            char::from(*byte)
        ),
        base64::DecodeError::InvalidLength(_) => {
            "its length is not that of base64 text (it looks cut short)".to_string()
        }
        base64::DecodeError::InvalidLastSymbol { offset, .. } => {
            format!("the last character, at position {offset}, does not end base64 text")
        }
        base64::DecodeError::InvalidPadding => "its `=` padding is misplaced".to_string(),
    }
}

fn check_filename(name: &str) -> Result<String, FileError> {
    let bad = name.trim().is_empty()
        || name.len() > MAX_FILENAME_BYTES
        || name
            .chars()
            .any(|c| c.is_control() || matches!(c, '/' | '\\' | '"'));
    if bad {
        Err(FileError::BadFilename(name.to_string()))
    } else {
        Ok(name.to_string())
    }
}

/// `Image/PNG` → `image/png`; parameters (`; charset=utf-8`) are kept as given.
fn normalize_content_type(text: &str) -> Result<String, FileError> {
    let bad = || FileError::BadContentType(text.to_string());
    let trimmed = text.trim();
    if !trimmed.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return Err(bad());
    }
    let (essence, parameters) = match trimmed.split_once(';') {
        Some((essence, parameters)) => (essence.trim(), Some(parameters.trim())),
        None => (trimmed, None),
    };
    let token = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
    };
    match essence.split_once('/') {
        Some((kind, subtype)) if token(kind) && token(subtype) => {
            let essence = essence.to_ascii_lowercase();
            Ok(match parameters {
                Some(parameters) if !parameters.is_empty() => format!("{essence}; {parameters}"),
                _ => essence,
            })
        }
        _ => Err(bad()),
    }
}

/// The media type without parameters.
fn essence(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or_default().trim()
}

/// From the filename's extension, else from the magic numbers of common formats.
fn guess_content_type(filename: Option<&str>, bytes: &[u8]) -> Option<String> {
    let by_name = filename
        .filter(|name| name.contains('.'))
        .and_then(|name| mime_guess::from_path(name).first_raw());
    if let Some(found) = by_name {
        return Some(found.to_string());
    }
    const MAGIC: [(&[u8], &str); 5] = [
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-", "application/pdf"),
    ];
    if let Some((_, found)) = MAGIC.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        return Some((*found).to_string());
    }
    let webp = bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP";
    webp.then(|| "image/webp".to_string())
}

/// `file.png` for `image/png`; `file` when the type has no usual extension.
fn default_filename(content_type: &str) -> String {
    let extension = mime_guess::get_mime_extensions_str(essence(content_type))
        .and_then(|extensions| extensions.first());
    match extension {
        Some(extension) => format!("file.{extension}"),
        None => "file".to_string(),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nil",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a table",
    }
}

/// Reads a file table as [`FileArg::from_json`] does; the bounds were checked with the
/// arguments (`crate::args`).
impl<'de> Deserialize<'de> for FileArg {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        FileArg::from_json(&value).map_err(serde::de::Error::custom)
    }
}

/// A copy of a file table with its bytes left out, for approvals and logs: `content` and
/// `content_base64` become `size` (the byte count, or the base64 text's length when it cannot
/// be decoded).
pub fn redact(value: &Value) -> Value {
    let Value::Object(map) = value else {
        return value.clone();
    };
    let mut out = Map::new();
    for (key, item) in map {
        match (key.as_str(), item) {
            ("content", Value::String(text)) => {
                out.insert("size".into(), Value::from(text.len()));
            }
            ("content_base64", Value::String(text)) => {
                let size = split_data_url(text)
                    .ok()
                    .and_then(|(_, data)| decode_base64(data, None).ok())
                    .map_or(text.len(), |bytes| bytes.len());
                out.insert("size".into(), Value::from(size));
            }
            _ => {
                out.insert(key.clone(), item.clone());
            }
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ParamType;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    static IMAGE: ParamMeta = ParamMeta::body("file", ParamType::File)
        .content_types(&["image/png", "image/jpeg"])
        .max_bytes(16);

    fn message(value: Value) -> String {
        parse_file(&IMAGE, &value).unwrap_err().to_string()
    }

    #[test]
    fn base64_and_text_content_decode_to_the_same_bytes() {
        let all: Vec<u8> = (0..=255).collect();
        let encoded = encode_base64(&all);
        let file = FileArg::from_json(&json!({
            "content_base64": encoded, "filename": "bytes.bin"
        }))
        .unwrap();
        assert_eq!(&file.content[..], &all[..]);
        assert_eq!(file.content_type, "application/octet-stream");
        let text = FileArg::from_json(&json!({"content": "héllo", "filename": "a.txt"})).unwrap();
        assert_eq!(&text.content[..], "héllo".as_bytes());
        assert_eq!(text.content_type, "text/plain");
    }

    #[test]
    fn lenient_base64_is_read() {
        let want = b"any carnal pleasure".to_vec();
        for given in [
            "YW55IGNhcm5hbCBwbGVhc3VyZQ==",
            "YW55IGNhcm5hbCBwbGVhc3VyZQ",
            "YW55IGNh\ncm5hbCBw\r\nbGVhc3VyZQ==",
            "data:text/plain;base64,YW55IGNhcm5hbCBwbGVhc3VyZQ==",
        ] {
            let file = FileArg::from_json(&json!({"content_base64": given, "filename": "a.txt"}));
            assert_eq!(file.unwrap().content.to_vec(), want, "{given:?}");
        }
        // URL-safe alphabet: 0xfb 0xff is `-_8` there and `+/8` in the standard one.
        let url = FileArg::from_json(&json!({"content_base64": "-_8", "content_type": "x/y"}));
        assert_eq!(url.unwrap().content.to_vec(), vec![0xfb, 0xff]);
        let data_url =
            FileArg::from_json(&json!({"content_base64": "data:image/gif;base64,R0lGODlh"}));
        assert_eq!(data_url.unwrap().content_type, "image/gif");
    }

    #[test]
    fn the_type_comes_from_the_name_then_the_bytes_and_the_name_from_the_type() {
        let png = encode_base64(PNG);
        let by_name = FileArg::from_json(&json!({"content_base64": png, "filename": "a.JPG"}));
        assert_eq!(by_name.unwrap().content_type, "image/jpeg");
        let sniffed = FileArg::from_json(&json!({"content_base64": png})).unwrap();
        assert_eq!(sniffed.content_type, "image/png");
        assert_eq!(sniffed.filename, "file.png");
        let declared =
            FileArg::from_json(&json!({"content_base64": png, "content_type": "Image/PNG"}));
        assert_eq!(declared.unwrap().content_type, "image/png");
        let webp = encode_base64(b"RIFF\0\0\0\0WEBPVP8 ");
        let file = FileArg::from_json(&json!({"content_base64": webp, "filename": "noext"}));
        assert_eq!(file.unwrap().content_type, "image/webp");
    }

    #[test]
    fn each_problem_has_its_own_message() {
        let png = encode_base64(PNG);
        assert_eq!(
            message(json!("logo.png")),
            "must be a file: a table { content = <bytes>, filename = \"logo.png\", content_type = \"image/png\" } (or content_base64 instead of content), got a string."
        );
        assert_eq!(
            message(json!({"filename": "a.png"})),
            "has no content: give its bytes as `content`, or as base64 text in `content_base64`."
        );
        assert_eq!(
            message(json!({"content": "", "filename": "a.png"})),
            "is empty (0 bytes); give the file's bytes."
        );
        assert_eq!(
            message(json!({"content": "x", "content_base64": png})),
            "has both `content` and `content_base64`; give only one."
        );
        assert_eq!(
            message(json!({"content_base64": "iVBOR*w0", "filename": "a.png"})),
            "has `content_base64` that is not valid base64: '*' at position 5 is not a base64 character."
        );
        assert_eq!(
            message(json!({"content_base64": png, "name": "a.png"})),
            "has an unknown field `name`; a file takes content (or content_base64), filename and content_type."
        );
        assert_eq!(
            message(json!({"content_base64": png, "filename": 5})),
            "field `filename` must be a string, got a number."
        );
        assert_eq!(
            message(json!({"content_base64": png, "filename": "../a.png"})),
            "has filename \"../a.png\": give a plain name such as logo.png, without a directory, quotes or control characters, at most 255 bytes."
        );
        assert_eq!(
            message(json!({"content_base64": png, "content_type": "png"})),
            "has content_type \"png\", which is not a media type such as image/png."
        );
        assert_eq!(
            message(json!({"content": "plain words", "filename": "notes.txt"})),
            "has content type text/plain, which is not accepted; use one of image/png, image/jpeg."
        );
        assert_eq!(
            message(json!({"content": "plain words"})),
            "has no content_type, and neither its filename nor its first bytes tell it; give content_type, such as image/png."
        );
        assert_eq!(
            message(json!({"content": "seventeen bytes!!", "content_type": "image/png"})),
            "is 17 bytes; at most 16 bytes may be sent, so nothing was sent."
        );
    }

    #[test]
    fn too_large_base64_is_refused_before_decoding() {
        static SMALL: ParamMeta = ParamMeta::body("file", ParamType::File).max_bytes(1024);
        // Not valid base64 at the end, but long enough to be refused on its length alone.
        let mut text = "A".repeat(4 * 1024);
        text.push('*');
        let error = parse_file(&SMALL, &json!({"content_base64": text})).unwrap_err();
        assert!(
            matches!(error, FileError::TooLarge { max: 1024, .. }),
            "{error}"
        );
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human_size(12), "12 bytes");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(10 * 1024 * 1024), "10 MiB");
        assert_eq!(size_with_bytes(10 * 1024 * 1024), "10 MiB (10485760 bytes)");
    }

    #[test]
    fn debug_and_redaction_never_show_the_bytes() {
        let file =
            FileArg::from_json(&json!({"content": "secret bytes", "content_type": "text/plain"}))
                .unwrap();
        let shown = format!("{file:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("size: 12"), "{shown}");
        let redacted =
            redact(&json!({"content_base64": encode_base64(b"secret"), "filename": "a"}));
        assert_eq!(redacted, json!({"size": 6, "filename": "a"}));
    }
}
