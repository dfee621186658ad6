//! Static descriptions of providers, functions and parameters, emitted by the generator.
//!
//! These are plain `'static` data so that a host can list, search and validate without parsing
//! anything at run time.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Read,
    Write,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Write => "write",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamLocation {
    Path,
    Query,
    Body,
}

/// A parameter's type as the manifest declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    String,
    Integer,
    Number,
    Boolean,
    Object,
    Array(&'static ParamType),
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamType::String => f.write_str("string"),
            ParamType::Integer => f.write_str("integer"),
            ParamType::Number => f.write_str("number"),
            ParamType::Boolean => f.write_str("boolean"),
            ParamType::Object => f.write_str("object"),
            ParamType::Array(item) => write!(f, "array<{item}>"),
        }
    }
}

/// A constant from the manifest: an enum value or a documented default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Literal {
    String(&'static str),
    Integer(i64),
    Number(f64),
    Boolean(bool),
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::String(s) => write!(f, "{s:?}"),
            Literal::Integer(i) => write!(f, "{i}"),
            Literal::Number(n) => write!(f, "{n}"),
            Literal::Boolean(b) => write!(f, "{b}"),
        }
    }
}

#[derive(Debug)]
pub struct ParamMeta {
    /// Script-facing name.
    pub name: &'static str,
    /// Name on the wire (path placeholder, query key or body field).
    pub wire_name: &'static str,
    pub aliases: &'static [&'static str],
    pub location: ParamLocation,
    pub ty: ParamType,
    pub required: bool,
    pub description: &'static str,
    pub default: Option<Literal>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub max_items: Option<u64>,
    /// Allowed values; empty when any value of the type is allowed.
    pub allowed: &'static [Literal],
    /// Keys of this object are merged into the query or body instead of sent under its name.
    pub spread: bool,
}

#[derive(Debug)]
pub struct FunctionMeta {
    /// Canonical Lua name.
    pub name: &'static str,
    /// Full name that resolves too.
    pub slug: &'static str,
    pub aliases: &'static [&'static str],
    pub title: &'static str,
    pub group: &'static str,
    pub summary: &'static str,
    pub description: &'static str,
    pub operation: Operation,
    pub destructive: bool,
    pub method: Method,
    /// Path template relative to the base URL, as in the manifest.
    pub path: &'static str,
    pub params: &'static [ParamMeta],
    /// JSON Schema of the argument table, as JSON text.
    pub input_schema: &'static str,
}

impl FunctionMeta {
    /// Whether `name` is this function's name, slug or one of its aliases.
    pub fn answers_to(&self, name: &str) -> bool {
        self.name == name || self.slug == name || self.aliases.contains(&name)
    }

    /// The parameter that `name` refers to, by its name or an alias.
    pub fn param(&self, name: &str) -> Option<&'static ParamMeta> {
        self.params
            .iter()
            .find(|p| p.name == name || p.aliases.contains(&name))
    }
}

#[derive(Debug)]
pub struct CredentialMeta {
    pub name: &'static str,
    pub description: &'static str,
    pub required: bool,
    pub secret: bool,
    pub env: Option<&'static str>,
    pub prefix: Option<&'static str>,
    /// `(prefix, reason)` pairs refused before any request.
    pub reject_prefixes: &'static [(&'static str, &'static str)],
}

#[derive(Debug)]
pub struct ProviderMeta {
    pub name: &'static str,
    pub label: &'static str,
    pub description: &'static str,
    pub category: &'static str,
    pub docs_url: &'static str,
    pub base_url: &'static str,
    /// `(header, value)` pinning the provider's API version.
    pub version_header: Option<(&'static str, &'static str)>,
    /// Credential whose value is sent as a bearer token.
    pub bearer_credential: &'static str,
    pub credentials: &'static [CredentialMeta],
    pub functions: &'static [&'static FunctionMeta],
}

impl ProviderMeta {
    /// The function `name` resolves to: its Lua name, full slug or an alias.
    pub fn function(&self, name: &str) -> Option<&'static FunctionMeta> {
        self.functions.iter().copied().find(|f| f.answers_to(name))
    }

    /// The error for a name no function answers to, suggesting the closest names.
    pub fn unknown_function(&self, name: &str) -> crate::Error {
        let mut scored: Vec<(usize, &str)> = self
            .functions
            .iter()
            .flat_map(|f| [f.name, f.slug])
            .map(|candidate| (crate::args::edit_distance(name, candidate), candidate))
            .filter(|(d, candidate)| *d <= candidate.len().max(name.len()) / 3 + 1)
            .collect();
        scored.sort();
        let close: Vec<&str> = scored.iter().take(3).map(|(_, c)| *c).collect();
        crate::Error::UnknownFunction {
            namespace: format!("app.integrations.{}", self.name),
            name: name.to_string(),
            suggestion: if close.is_empty() {
                String::new()
            } else {
                format!(" Did you mean: {}", close.join(", "))
            },
        }
    }
}
