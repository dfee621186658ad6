//! `multipart/form-data` bodies (RFC 7578), as Clerk's upload endpoints take them.
//!
//! Written here rather than taken from a client library, so that the emulator checks what
//! arrives on the wire instead of agreeing with whichever encoder sent it. Tests use it too, to
//! read the bodies the emulator recorded.

/// One part of a form: a text field, or a file when it has a filename.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The field name (`name=` of `Content-Disposition`).
    pub name: String,
    /// The file's name (`filename=`, or the decoded `filename*=`), for a file.
    pub filename: Option<String>,
    /// The part's `Content-Type`, as sent.
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

impl Part {
    pub fn is_file(&self) -> bool {
        self.filename.is_some()
    }

    /// The data as text, if it is UTF-8.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.data).ok()
    }
}

/// Whether a `Content-Type` header is `multipart/form-data`.
pub fn is_form_data(content_type: &str) -> bool {
    essence(content_type).eq_ignore_ascii_case("multipart/form-data")
}

/// The parts of `body`, whose `Content-Type` is `content_type`; `Err` says what is malformed.
pub fn parse(content_type: &str, body: &[u8]) -> Result<Vec<Part>, String> {
    if !is_form_data(content_type) {
        return Err(format!("{content_type:?} is not multipart/form-data"));
    }
    let boundary = parameters(content_type)
        .into_iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("boundary"))
        .map(|(_, value)| value)
        .filter(|b| !b.is_empty() && b.len() <= 70)
        .ok_or("the Content-Type has no boundary")?;
    let delimiter = format!("--{boundary}").into_bytes();
    // The first delimiter starts the body or a line (anything before it is a preamble).
    let mut at = if body.starts_with(&delimiter) {
        delimiter.len()
    } else {
        let mut with_line = b"\r\n".to_vec();
        with_line.extend_from_slice(&delimiter);
        find(body, &with_line, 0).ok_or("the body has no boundary line")? + with_line.len()
    };
    let mut next_delimiter = b"\r\n".to_vec();
    next_delimiter.extend_from_slice(&delimiter);
    let mut parts = Vec::new();
    loop {
        let rest = &body[at..];
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        // Transport padding may follow a delimiter, then its line ends.
        let line_end = find(body, b"\r\n", at).ok_or("a boundary line does not end")?;
        if body[at..line_end].iter().any(|b| *b != b' ' && *b != b'\t') {
            return Err("a boundary line has text after the boundary".to_string());
        }
        let headers_start = line_end + 2;
        let (headers, data_start) = if body[headers_start..].starts_with(b"\r\n") {
            (&body[headers_start..headers_start], headers_start + 2)
        } else {
            let end =
                find(body, b"\r\n\r\n", headers_start).ok_or("a part's headers do not end")?;
            (&body[headers_start..end], end + 4)
        };
        let data_end = find(body, &next_delimiter, data_start)
            .ok_or("a part is not closed by a boundary (the body is cut short)")?;
        parts.push(part(headers, &body[data_start..data_end])?);
        at = data_end + next_delimiter.len();
    }
}

fn part(headers: &[u8], data: &[u8]) -> Result<Part, String> {
    let headers = std::str::from_utf8(headers).map_err(|_| "a part's headers are not UTF-8")?;
    let mut disposition = None;
    let mut content_type = None;
    for line in headers.split("\r\n") {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("a part's header line {line:?} has no colon"))?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-disposition" => disposition = Some(value.trim().to_string()),
            "content-type" => content_type = Some(value.trim().to_string()),
            _ => {}
        }
    }
    let disposition = disposition.ok_or("a part has no Content-Disposition")?;
    if !essence(&disposition).eq_ignore_ascii_case("form-data") {
        return Err(format!(
            "a part's Content-Disposition is {disposition:?}, not form-data"
        ));
    }
    let params = parameters(&disposition);
    let get = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
    };
    let name = get("name").ok_or("a part has no name")?;
    let filename = match get("filename*") {
        Some(extended) => Some(decode_extended(&extended)?),
        None => get("filename"),
    };
    Ok(Part {
        name,
        filename,
        content_type,
        data: data.to_vec(),
    })
}

/// The value before the first `;`.
fn essence(header: &str) -> &str {
    header.split(';').next().unwrap_or_default().trim()
}

/// The `key=value` parameters after a header's first `;`, quoted strings unquoted (a `;`
/// inside quotes stays in the value).
fn parameters(header: &str) -> Vec<(String, String)> {
    let Some((_, rest)) = header.split_once(';') else {
        return Vec::new();
    };
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ';').is_some() {}
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ';')).collect();
        if key.trim().is_empty() {
            if chars.peek().is_none() {
                return params;
            }
            chars.next();
            continue;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'=').is_some() {
            if chars.next_if_eq(&'"').is_some() {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => value.extend(chars.next()),
                        other => value.push(other),
                    }
                }
                while chars.next_if(|c| *c != ';').is_some() {}
            } else {
                value = std::iter::from_fn(|| chars.next_if(|c| *c != ';')).collect();
                value = value.trim().to_string();
            }
        }
        params.push((key.trim().to_string(), value));
    }
}

/// `UTF-8''na%C3%AFve.png` (RFC 8187) to `naïve.png`.
fn decode_extended(value: &str) -> Result<String, String> {
    let mut pieces = value.splitn(3, '\'');
    let (charset, _language, encoded) = (pieces.next(), pieces.next(), pieces.next());
    let encoded = encoded.ok_or_else(|| format!("filename* {value:?} is not charset''value"))?;
    if !charset.is_some_and(|c| c.eq_ignore_ascii_case("utf-8")) {
        return Err(format!("filename* {value:?} is not UTF-8"));
    }
    percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| format!("filename* {value:?} is not UTF-8"))
}

/// The first position of `needle` in `haystack` at or after `from`.
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut at = from;
    while at + needle.len() <= haystack.len() {
        let offset = haystack[at..].iter().position(|b| *b == first)?;
        at += offset;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        at += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPE: &str = "multipart/form-data; boundary=XyZ";

    #[test]
    fn fields_and_files_are_read_with_their_exact_bytes() {
        let mut body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"uploader_user_id\"\r\n\r\nuser_1\r\n--XyZ  \r\nContent-Disposition: form-data; name=\"file\"; filename=\"a;b \\\"c\\\".png\"\r\nContent-Type: image/png\r\n\r\n".to_vec();
        let bytes: Vec<u8> = (0..=255).chain(b"\r\n--Xy".iter().copied()).collect();
        body.extend(&bytes);
        body.extend(b"\r\n--XyZ--\r\nepilogue");
        let parts = parse(TYPE, &body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "uploader_user_id");
        assert_eq!(parts[0].text(), Some("user_1"));
        assert!(!parts[0].is_file());
        assert_eq!(parts[1].filename.as_deref(), Some("a;b \"c\".png"));
        assert_eq!(parts[1].content_type.as_deref(), Some("image/png"));
        assert_eq!(parts[1].data, bytes);
    }

    #[test]
    fn extended_filenames_and_quoted_boundaries_are_understood() {
        let body = b"--a b\r\ncontent-disposition: form-data; name=file; filename*=UTF-8''na%C3%AFve.png\r\n\r\nx\r\n--a b--";
        let parts = parse("Multipart/Form-Data; boundary=\"a b\"", body).unwrap();
        assert_eq!(parts[0].filename.as_deref(), Some("naïve.png"));
        assert_eq!(parts[0].content_type, None);
    }

    #[test]
    fn malformed_bodies_are_refused_with_a_reason() {
        let cases: [(&str, &[u8], &str); 5] = [
            ("application/json", b"{}", "is not multipart/form-data"),
            ("multipart/form-data", b"--x--", "no boundary"),
            (TYPE, b"nothing here", "has no boundary line"),
            (
                TYPE,
                b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\ncut short",
                "cut short",
            ),
            (
                TYPE,
                b"--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--",
                "no Content-Disposition",
            ),
        ];
        for (content_type, body, reason) in cases {
            let error = parse(content_type, body).unwrap_err();
            assert!(error.contains(reason), "{error}");
        }
    }
}
