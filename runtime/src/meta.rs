//! Static descriptions of providers, functions and parameters, emitted by the generator.
//!
//! These are plain `'static` data so that a host can list, search and validate without parsing
//! anything at run time. The generator writes only what differs from the defaults: a parameter
//! is `ParamMeta::query("limit", ParamType::Integer).minimum(1.0).doc("…")`, a function a struct
//! literal ending in `..FunctionMeta::DEFAULT`.

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

impl ParamLocation {
    pub fn as_str(self) -> &'static str {
        match self {
            ParamLocation::Path => "path",
            ParamLocation::Query => "query",
            ParamLocation::Body => "body",
        }
    }
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
    /// A file sent as a part of a multipart body: a table with the bytes (`content` or
    /// `content_base64`), `filename` and `content_type` (see [`crate::file`]).
    File,
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
            ParamType::File => f.write_str("file"),
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

#[derive(Debug, Clone, Copy)]
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
    /// For a file: the media types accepted (`image/png`); empty accepts any.
    pub content_types: &'static [&'static str],
    /// For a file: the most bytes it may have.
    pub max_bytes: Option<u64>,
}

/// Const builders: each sets one field that differs from the default, so generated metadata
/// says only what is particular to a parameter.
impl ParamMeta {
    /// An optional parameter sent under its own name, without bounds or description.
    pub const fn new(name: &'static str, location: ParamLocation, ty: ParamType) -> Self {
        ParamMeta {
            name,
            wire_name: name,
            aliases: &[],
            location,
            ty,
            required: false,
            description: "",
            default: None,
            minimum: None,
            maximum: None,
            max_items: None,
            allowed: &[],
            spread: false,
            content_types: &[],
            max_bytes: None,
        }
    }

    /// A path placeholder; always required.
    pub const fn path(name: &'static str, ty: ParamType) -> Self {
        Self::new(name, ParamLocation::Path, ty).required()
    }

    pub const fn query(name: &'static str, ty: ParamType) -> Self {
        Self::new(name, ParamLocation::Query, ty)
    }

    pub const fn body(name: &'static str, ty: ParamType) -> Self {
        Self::new(name, ParamLocation::Body, ty)
    }

    pub const fn wire(mut self, wire_name: &'static str) -> Self {
        self.wire_name = wire_name;
        self
    }

    pub const fn aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }

    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub const fn doc(mut self, description: &'static str) -> Self {
        self.description = description;
        self
    }

    pub const fn default_value(mut self, default: Literal) -> Self {
        self.default = Some(default);
        self
    }

    pub const fn minimum(mut self, minimum: f64) -> Self {
        self.minimum = Some(minimum);
        self
    }

    pub const fn maximum(mut self, maximum: f64) -> Self {
        self.maximum = Some(maximum);
        self
    }

    pub const fn max_items(mut self, max_items: u64) -> Self {
        self.max_items = Some(max_items);
        self
    }

    pub const fn allowed(mut self, allowed: &'static [Literal]) -> Self {
        self.allowed = allowed;
        self
    }

    pub const fn spread(mut self) -> Self {
        self.spread = true;
        self
    }

    pub const fn content_types(mut self, content_types: &'static [&'static str]) -> Self {
        self.content_types = content_types;
        self
    }

    pub const fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = Some(max_bytes);
        self
    }
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
    /// Calling it again with the same arguments changes nothing more (MCP's `idempotentHint`):
    /// declared in the manifest, else what HTTP says of the method.
    pub idempotent: bool,
    pub method: Method,
    /// Path template relative to the base URL, as in the manifest.
    pub path: &'static str,
    pub params: &'static [ParamMeta],
    /// How to walk every page, for list functions that declare it.
    pub pagination: Option<&'static Pagination>,
}

impl FunctionMeta {
    /// What generated metadata leaves unsaid: no aliases, no parameters, a non-destructive,
    /// idempotent read over GET.
    pub const DEFAULT: FunctionMeta = FunctionMeta {
        name: "",
        slug: "",
        aliases: &[],
        title: "",
        group: "",
        summary: "",
        description: "",
        operation: Operation::Read,
        destructive: false,
        idempotent: true,
        method: Method::Get,
        path: "",
        params: &[],
        pagination: None,
    };

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

/// Limit-and-offset paging of a list function, as its manifest declares it.
#[derive(Debug)]
pub struct Pagination {
    /// The parameter that sets the page size.
    pub limit_param: &'static str,
    /// The parameter that skips items.
    pub offset_param: &'static str,
    /// The page size used to walk every page.
    pub page_size: u64,
    /// JSON Pointer to a page's items; empty when the page is the array itself.
    pub items: &'static str,
    /// Arguments set on every page request (`paginated = true`).
    pub with: &'static [(&'static str, Literal)],
    /// Where the number of matching items comes from.
    pub total: Total,
}

/// Where a list's total count comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    /// Nowhere: the end shows when a page comes back short.
    Unknown,
    /// A JSON Pointer into each page (`/total_count`).
    InPage(&'static str),
    /// Another function, called with the list's filters, and a pointer into its answer.
    Function {
        function: &'static str,
        pointer: &'static str,
    },
}

/// The limits a provider applies, which calls are paced under.
#[derive(Debug)]
pub struct RateLimits {
    /// The credential that identifies the instance and whose prefix chooses the tier; empty
    /// when there is no instance limit.
    pub tier_credential: &'static str,
    /// The instance-wide limit of each tier.
    pub tiers: &'static [RateTier],
    /// Requests the instance limit does not count.
    pub exempt: &'static [Route],
    /// Lower limits of particular endpoints, on top of the instance's.
    pub endpoints: &'static [EndpointLimit],
}

impl RateLimits {
    /// No declared limits: nothing is paced.
    pub const NONE: RateLimits = RateLimits {
        tier_credential: "",
        tiers: &[],
        exempt: &[],
        endpoints: &[],
    };

    /// The tier of a key: the first whose prefix it has, else the strictest (fewest requests
    /// per second), so that an unknown key is never paced too fast.
    pub fn tier_for_key(&self, key: &str) -> Option<&'static RateTier> {
        self.tiers
            .iter()
            .find(|t| !t.key_prefix.is_empty() && key.starts_with(t.key_prefix))
            .or_else(|| self.strictest_tier())
    }

    /// The tier called `name`.
    pub fn tier(&self, name: &str) -> Option<&'static RateTier> {
        self.tiers.iter().find(|t| t.name == name)
    }

    fn strictest_tier(&self) -> Option<&'static RateTier> {
        self.tiers.iter().min_by(|a, b| {
            // requests / window, compared without division.
            (u128::from(a.requests) * u128::from(b.window_ms))
                .cmp(&(u128::from(b.requests) * u128::from(a.window_ms)))
        })
    }
}

/// One instance tier: `requests` in any window of `window_ms`.
#[derive(Debug)]
pub struct RateTier {
    pub name: &'static str,
    pub key_prefix: &'static str,
    pub requests: u32,
    pub window_ms: u64,
}

/// A method and a path template; `{name}` matches one segment.
#[derive(Debug)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
}

impl Route {
    /// The placeholder values if `path` (percent-encoded, relative to the base URL) matches.
    pub fn captures<'p>(&self, method: Method, path: &'p str) -> Option<Vec<&'p str>> {
        if method != self.method {
            return None;
        }
        let mut template = self.path.trim_matches('/').split('/');
        let mut actual = path.trim_matches('/').split('/');
        let mut captured = Vec::new();
        loop {
            match (template.next(), actual.next()) {
                (None, None) => return Some(captured),
                (Some(t), Some(a)) if t.starts_with('{') && t.ends_with('}') => {
                    if a.is_empty() {
                        return None;
                    }
                    captured.push(a);
                }
                (Some(t), Some(a)) if t == a => {}
                _ => return None,
            }
        }
    }
}

/// A limit of particular routes: `requests` in any window of `window_ms`, shared by all its
/// routes, for each resource when `per_resource`.
#[derive(Debug)]
pub struct EndpointLimit {
    pub name: &'static str,
    pub routes: &'static [Route],
    pub requests: u32,
    pub window_ms: u64,
    pub per_resource: bool,
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

impl CredentialMeta {
    /// An optional, non-secret field with no environment variable or prefix rules.
    pub const DEFAULT: CredentialMeta = CredentialMeta {
        name: "",
        description: "",
        required: false,
        secret: false,
        env: None,
        prefix: None,
        reject_prefixes: &[],
    };
}

/// Where a provider's error answers keep what a script needs, as the manifest declares it.
/// Body locations are JSON Pointers (RFC 6901), tried in order; the first that holds a value
/// wins.
#[derive(Debug)]
pub struct ErrorFormat {
    /// The short message; without one, the raw body (or the status's reason) is the message.
    pub message: &'static [&'static str],
    /// A machine-readable code.
    pub code: &'static [&'static str],
    /// A longer explanation.
    pub long_message: &'static [&'static str],
    /// Extra structured detail, kept as JSON.
    pub meta: &'static [&'static str],
    /// The trace or request ID to quote to the provider's support.
    pub trace_id: &'static [&'static str],
    /// Response headers that carry the trace ID, tried after the body.
    pub trace_id_headers: &'static [&'static str],
}

impl ErrorFormat {
    /// Nothing declared: the body is the message.
    pub const NONE: ErrorFormat = ErrorFormat {
        message: &[],
        code: &[],
        long_message: &[],
        meta: &[],
        trace_id: &[],
        trace_id_headers: &[],
    };
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
    /// Where error answers keep their message, code, long message, meta and trace ID.
    pub errors: ErrorFormat,
    /// The response header that says how long to wait after a rate-limited answer.
    pub retry_after_header: &'static str,
    /// The limits calls are paced under.
    pub rate_limits: RateLimits,
    /// Resource families, in display order; each function's `group` names one.
    pub families: &'static [FamilyMeta],
    pub functions: &'static [&'static FunctionMeta],
}

/// A group of functions: a section of the docs, the catalog and `integrations:list`.
#[derive(Debug)]
pub struct FamilyMeta {
    /// Identifier, as in [`FunctionMeta::group`] and `--group` filters.
    pub name: &'static str,
    pub title: &'static str,
    /// One line: what the family's functions manage.
    pub summary: &'static str,
}

impl ProviderMeta {
    /// The functions of one family, in display order.
    pub fn family_functions(&self, family: &str) -> impl Iterator<Item = &'static FunctionMeta> {
        let family = family.to_string();
        self.functions
            .iter()
            .copied()
            .filter(move |f| f.group == family)
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_capture_one_segment_per_placeholder_and_match_exactly() {
        let route = Route {
            method: Method::Patch,
            path: "/users/{user_id}/metadata",
        };
        assert_eq!(
            route.captures(Method::Patch, "/users/user_1/metadata"),
            Some(vec!["user_1"])
        );
        assert_eq!(route.captures(Method::Put, "/users/user_1/metadata"), None);
        assert_eq!(route.captures(Method::Patch, "/users/user_1"), None);
        assert_eq!(route.captures(Method::Patch, "/users//metadata"), None);
        assert_eq!(
            route.captures(Method::Patch, "/users/user_1/metadata/extra"),
            None
        );
        // Percent-encoded segments stay one segment.
        assert_eq!(
            route.captures(Method::Patch, "/users/a%2Fb/metadata"),
            Some(vec!["a%2Fb"])
        );
    }

    #[test]
    fn a_key_gets_its_prefix_tier_or_else_the_strictest() {
        static TIERS: [RateTier; 2] = [
            RateTier {
                name: "fast",
                key_prefix: "live_",
                requests: 1000,
                window_ms: 10_000,
            },
            RateTier {
                name: "slow",
                key_prefix: "test_",
                requests: 100,
                window_ms: 10_000,
            },
        ];
        let limits = RateLimits {
            tiers: &TIERS,
            ..RateLimits::NONE
        };
        let tier = |key: &str| limits.tier_for_key(key).map(|t| t.name);
        assert_eq!(tier("live_abc"), Some("fast"));
        assert_eq!(tier("test_abc"), Some("slow"));
        assert_eq!(tier("other"), Some("slow"));
        assert_eq!(limits.tier("fast").map(|t| t.requests), Some(1000));
        assert_eq!(
            RateLimits::NONE.tier_for_key("live_abc").map(|t| t.name),
            None
        );
    }
}
