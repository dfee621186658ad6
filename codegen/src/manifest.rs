//! The manifest as written: serde types for one spec file, nothing more.
//!
//! Every struct refuses unknown keys, so a typo in a spec file is an error with a line and column,
//! never a silently ignored setting. Values that later checks must point at are kept as
//! [`Spanned`], which carries the location of the YAML node they came from.
//! `spec/README.md` documents every key; `cargo xtask gen` writes a JSON Schema of these types.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_saphyr::Spanned;

/// One spec file: a provider, its guide pages and its functions.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Provider-level facts shared by every function.
    pub provider: ProviderSpec,
    /// Prose guide pages (markdown files beside the manifest), stitched into the docs in this order.
    #[serde(default)]
    pub guides: Vec<GuideSpec>,
    /// Resource families the functions are grouped by, in the order the docs list them. A family
    /// with a `file` keeps its functions there, so no one file holds the whole API.
    #[serde(default)]
    pub families: Vec<FamilySpec>,
    /// Functions written in this file, listed before those of the family files. Each names its
    /// family in `group`.
    #[serde(default)]
    pub functions: Vec<FunctionSpec>,
    /// The operations of the provider's OpenAPI document that no function covers, each with the
    /// reason. Declared (even empty), it claims every other operation is covered, and
    /// `cargo xtask check-openapi` reports any that is not.
    #[serde(default)]
    pub excluded_operations: Option<Vec<ExcludedOperationSpec>>,
    /// The files the manifest was read from: the provider manifest first, then each family
    /// file. Filled by the loader; [`FunctionSpec::source`] indexes it.
    #[serde(skip)]
    #[schemars(skip)]
    pub sources: Vec<SourceFile>,
}

/// A file a manifest was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the repository root.
    pub path: String,
    /// The family whose functions the file holds; `None` for the provider manifest.
    pub family: Option<String>,
}

impl Manifest {
    /// The family a function belongs to: its family file's, else its own `group`.
    pub fn family_of<'m>(&'m self, function: &'m FunctionSpec) -> Option<&'m str> {
        self.sources
            .get(function.source)
            .and_then(|s| s.family.as_deref())
            .or(function.group.as_ref().map(|g| g.value.as_str()))
    }
}

/// An operation left out on purpose.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExcludedOperationSpec {
    /// The document's `operationId`.
    #[schemars(with = "String")]
    pub operation: Spanned<String>,
    /// Why no function covers it (deprecated, needs something other than the API key, ...).
    pub reason: String,
}

/// One resource family: a group in the docs, the catalog and `integrations:list`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FamilySpec {
    /// Identifier used in `group`, in `--group` filters and in doc page names (`users`).
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// Heading in the docs (`Users`).
    pub title: String,
    /// One line: what the family's functions manage.
    pub summary: String,
    /// File of the family's functions, relative to the manifest (`acme/widgets.yaml`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub file: Option<Spanned<String>>,
}

/// A family file: the functions of one family, without `group` (the file says which).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FamilyFile {
    /// The family's functions, in the order the docs list them.
    pub functions: Vec<FunctionSpec>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderSpec {
    /// Lua namespace and crate module name: `app.integrations.<name>`. A Lua identifier.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// Human name, for headings.
    pub label: String,
    /// One-paragraph description of the namespace, shown at the top of the agent docs.
    pub description: String,
    /// Catalog category (for example `productivity`).
    pub category: String,
    /// Link to the provider's own API documentation.
    pub docs_url: String,
    /// Default base URL every function path is relative to; the `url` credential may override it.
    pub base_url: String,
    /// A header pinning the provider's API version on every request.
    #[serde(default)]
    pub version_header: Option<VersionHeaderSpec>,
    /// How requests authenticate.
    pub auth: AuthSpec,
    /// Credential fields a user configures, in display order.
    #[schemars(with = "std::collections::BTreeMap<String, CredentialSpec>")]
    pub credentials: OrderedMap<CredentialSpec>,
    /// Where the provider's error answers keep their message, code, long message, meta and
    /// trace ID. Without it, an error's raw body is its message.
    #[serde(default)]
    pub errors: Option<ErrorFormatSpec>,
    /// How the provider says to slow down.
    #[serde(default)]
    pub rate_limits: Option<RateLimitSpec>,
}

/// Locations in an error answer. Body locations are lists of JSON Pointers (RFC 6901), such as
/// `[/errors/0/message]`, tried in order; the first that holds a value wins.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorFormatSpec {
    /// The short, human-readable message.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub message: Vec<Spanned<String>>,
    /// A machine-readable error code.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub code: Vec<Spanned<String>>,
    /// A longer explanation.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub long_message: Vec<Spanned<String>>,
    /// Structured detail kept as it is (for example the offending parameter).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub meta: Vec<Spanned<String>>,
    /// The trace or request ID to quote to the provider's support.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub trace_id: Vec<Spanned<String>>,
    /// Response headers that carry the trace ID, tried after the body.
    #[serde(default)]
    pub trace_id_header: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSpec {
    /// The response header giving the seconds (or HTTP date) to wait after a 429; `Retry-After`
    /// when not given.
    #[serde(default)]
    pub retry_after_header: Option<String>,
    /// The limit every request of one key shares, by the key's tier. Calls are paced to stay
    /// under it.
    #[serde(default)]
    pub instance: Option<InstanceLimitSpec>,
    /// Lower limits of particular endpoints, on top of the instance's.
    #[serde(default)]
    pub endpoints: Vec<EndpointLimitSpec>,
}

/// The instance-wide limit: one budget per key, whose size depends on the key's tier.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceLimitSpec {
    /// The credential whose value identifies the instance and chooses its tier by prefix.
    #[schemars(with = "String")]
    pub credential: Spanned<String>,
    /// Tiers, each chosen by a key prefix. A key that matches none gets the strictest tier.
    pub tiers: Vec<TierSpec>,
    /// Routes the instance limit does not count (`GET /jwks`).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub exempt: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    /// The tier's name, as configuration overrides it (`production`).
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// Keys starting with this prefix belong to the tier (`sk_live_`).
    pub key_prefix: String,
    /// Requests allowed in any window of `per`.
    pub requests: u32,
    /// The window, such as `10s` or `1h`.
    #[schemars(with = "String")]
    pub per: Spanned<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointLimitSpec {
    /// A short name for messages and the docs (`user updates`).
    pub name: String,
    /// `METHOD /path` routes sharing the limit; `{name}` matches one path segment.
    #[schemars(with = "Vec<String>")]
    pub routes: Vec<Spanned<String>>,
    /// Requests allowed in any window of `per`.
    pub requests: u32,
    /// The window, such as `10s` or `1h`.
    #[schemars(with = "String")]
    pub per: Spanned<String>,
    /// One budget per resource (the values of the route's placeholders, such as one user),
    /// instead of one for all.
    #[serde(default)]
    pub per_resource: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionHeaderSpec {
    /// Header name, for example `Acme-Version`.
    pub name: String,
    /// Header value, for example `2030-01-01`.
    pub value: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    pub scheme: AuthScheme,
    /// The credential field whose value is sent.
    #[schemars(with = "String")]
    pub credential: Spanned<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthScheme {
    /// `Authorization: Bearer <credential>`.
    Bearer,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialSpec {
    pub description: String,
    /// Whether a value must be configured before any call.
    #[serde(default)]
    pub required: bool,
    /// Secret values are never printed, logged or echoed in errors.
    #[serde(default)]
    pub secret: bool,
    /// Environment variable that supplies the value headlessly.
    #[serde(default)]
    pub env: Option<String>,
    /// A value must start with this prefix.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Prefixes refused with a specific explanation (checked before `prefix`).
    #[serde(default)]
    pub reject_prefixes: Vec<RejectedPrefixSpec>,
    /// A value shown in docs (never a real secret).
    #[serde(default)]
    pub example: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectedPrefixSpec {
    pub prefix: String,
    /// Why such a value is refused, shown to the user.
    pub reason: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuideSpec {
    /// Section heading in the docs.
    pub title: String,
    /// Markdown file, relative to the manifest. Its ```lua blocks are checked like examples.
    /// Its name without `.md` names its page (`docs.read("<provider>.guide.<name>")`).
    #[schemars(with = "String")]
    pub file: Spanned<String>,
    /// What an agent must know of the guide, in a sentence or two of markdown without code
    /// blocks: the namespace index shows it beside a pointer to the guide's page.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub essentials: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FunctionSpec {
    /// Canonical Lua name: `app.integrations.<provider>.<name>`. A Lua identifier.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// Full name that also resolves (for example `acme_list_widgets`).
    #[schemars(with = "String")]
    pub slug: Spanned<String>,
    /// Further names that resolve to this function.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub aliases: Vec<Spanned<String>>,
    /// Title shown in catalogs (for example `List Users`).
    pub title: String,
    /// Family the function is listed under (for example `users`). Required in the provider
    /// manifest, left out in a family file, whose family it is.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub group: Option<Spanned<String>>,
    /// One line, no trailing period required.
    pub summary: String,
    /// Longer description: behaviour, response shape, caveats.
    pub description: String,
    #[schemars(with = "Operation")]
    pub operation: Spanned<Operation>,
    /// Why `operation` disagrees with the HTTP method (a read over POST, a write over GET).
    /// Without it, such a disagreement is an error.
    #[serde(default)]
    pub operation_override: Option<String>,
    /// Irreversible: deletes or revokes something.
    #[serde(default)]
    pub destructive: bool,
    /// Calling it again with the same arguments changes nothing more: safe to retry. Defaults to
    /// what HTTP says of the method (GET, PUT and DELETE are idempotent, POST and PATCH are not);
    /// declare `true` on a POST or PATCH that is idempotent in fact (ban, revoke, set a field).
    #[serde(default)]
    pub idempotent: Option<bool>,
    pub http: HttpSpec,
    /// Parameters by name, in display order.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, ParamSpec>")]
    pub params: OrderedMap<ParamSpec>,
    #[serde(default)]
    pub response: Option<ResponseSpec>,
    /// How a list function pages: declared, every page can be walked for the caller
    /// (`each.<name>` in Lua, `--all` and `integrations:export` in the CLI).
    #[serde(default)]
    pub pagination: Option<PaginationSpec>,
    /// Runnable Lua examples; at least one.
    pub examples: Vec<ExampleSpec>,
    /// Which file the entry was read from (an index into the loader's file list; 0 is the
    /// provider manifest), so diagnostics name the right file.
    #[serde(skip)]
    #[schemars(skip)]
    pub source: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
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

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpSpec {
    #[schemars(with = "Method")]
    pub method: Spanned<Method>,
    /// Path relative to the base URL. `{name}` is a path parameter sent as one percent-encoded
    /// segment; `{+name}` (RFC 6570 reserved expansion) is a whole relative path, as the raw helpers take.
    #[schemars(with = "String")]
    pub path: Spanned<String>,
    /// Constant query pairs sent on every call (for example `limit: 1`).
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, Value>")]
    pub query: OrderedMap<Value>,
    /// How the body parameters are encoded: `json` (the default), `multipart`
    /// (`multipart/form-data`, which `file` parameters need) or `json_array` (the one body
    /// parameter, an array, is the whole body).
    #[serde(default)]
    #[schemars(with = "Option<BodyFormat>")]
    pub body: Option<Spanned<BodyFormat>>,
}

impl HttpSpec {
    /// The declared body format, `json` when none is written.
    pub fn body_format(&self) -> BodyFormat {
        self.body.as_ref().map_or(BodyFormat::Json, |b| b.value)
    }
}

/// How a request's body is encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BodyFormat {
    /// `application/json`: one object of the body parameters.
    #[default]
    Json,
    /// `multipart/form-data`: each body parameter a part, `file` parameters as files.
    Multipart,
    /// `application/json` whose top level is an array: the function's one body parameter, an
    /// array, is sent as the whole body (bulk endpoints).
    JsonArray,
}

impl BodyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            BodyFormat::Json => "json",
            BodyFormat::Multipart => "multipart",
            BodyFormat::JsonArray => "json_array",
        }
    }
}

impl fmt::Display for BodyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum Method {
    #[serde(rename = "GET")]
    Get,
    #[serde(rename = "POST")]
    Post,
    #[serde(rename = "PUT")]
    Put,
    #[serde(rename = "PATCH")]
    Patch,
    #[serde(rename = "DELETE")]
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

    /// Whether HTTP defines the method as idempotent (RFC 9110, 9.2.2): what a function is
    /// unless its manifest entry says otherwise.
    pub fn idempotent(self) -> bool {
        matches!(self, Method::Get | Method::Put | Method::Delete)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    /// Where the value goes.
    #[serde(rename = "in")]
    #[schemars(with = "ParamLocation")]
    pub location: Spanned<ParamLocation>,
    /// `string`, `integer`, `number`, `boolean`, `object`, `array<T>` of one of those, or
    /// `file` (a body parameter of a `multipart` function).
    #[serde(rename = "type")]
    #[schemars(with = "ParamType")]
    pub ty: Spanned<ParamType>,
    #[serde(default)]
    pub required: bool,
    /// Name on the wire when it differs from the script-facing name (path placeholder, query key
    /// or body field).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub wire_name: Option<Spanned<String>>,
    /// Further names scripts may use for this parameter.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub aliases: Vec<Spanned<String>>,
    pub description: String,
    /// The provider's default, documented (the provider applies it; it is not sent).
    #[serde(default)]
    #[schemars(with = "Option<Value>")]
    pub default: Option<Spanned<Value>>,
    /// Inclusive lower bound for numbers.
    #[serde(default)]
    #[schemars(with = "Option<f64>")]
    pub minimum: Option<Spanned<f64>>,
    /// Inclusive upper bound for numbers.
    #[serde(default)]
    #[schemars(with = "Option<f64>")]
    pub maximum: Option<Spanned<f64>>,
    /// Largest number of items an array may hold.
    #[serde(default)]
    #[schemars(with = "Option<u64>")]
    pub max_items: Option<Spanned<u64>>,
    /// Allowed values (for arrays: allowed items).
    #[serde(default, rename = "enum")]
    #[schemars(with = "Option<Vec<Value>>")]
    pub allowed: Option<Spanned<Vec<Value>>>,
    /// A realistic value, used in generated samples.
    #[serde(default)]
    #[schemars(with = "Option<Value>")]
    pub example: Option<Spanned<Value>>,
    /// For an `object` parameter in `query` or `body`: its keys are merged into the query or body
    /// instead of being sent under the parameter's own name. Declared parameters win on conflict.
    #[serde(default)]
    pub spread: bool,
    /// For a `file`: the media types the provider accepts (`image/png`); any when not given.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub content_types: Option<Spanned<Vec<String>>>,
    /// For a `file`: the most bytes it may have, checked before anything is sent.
    #[serde(default)]
    #[schemars(with = "Option<u64>")]
    pub max_bytes: Option<Spanned<u64>>,
    /// What the provider's OpenAPI document says of `required`, where the manifest knowingly
    /// differs (say why in a comment): `cargo xtask check-openapi` then expects this value.
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub openapi_required: Option<Spanned<bool>>,
    /// For a query array: `false` sends its items as one comma-separated value (`a,b`) instead
    /// of repeating the key (`k=a&k=b`, the default).
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub explode: Option<Spanned<bool>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
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

impl fmt::Display for ParamLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parameter's type, written as a string in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum ParamType {
    Scalar(ScalarType),
    Array(ScalarType),
    /// A file in a multipart body: a table with its bytes, filename and content type.
    File,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ScalarType {
    String,
    Integer,
    Number,
    Boolean,
    Object,
}

impl ScalarType {
    pub const ALL: [ScalarType; 5] = [
        ScalarType::String,
        ScalarType::Integer,
        ScalarType::Number,
        ScalarType::Boolean,
        ScalarType::Object,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ScalarType::String => "string",
            ScalarType::Integer => "integer",
            ScalarType::Number => "number",
            ScalarType::Boolean => "boolean",
            ScalarType::Object => "object",
        }
    }
}

impl FromStr for ScalarType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ScalarType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown type `{s}`"))
    }
}

impl TryFrom<String> for ParamType {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        let parsed = match s.strip_prefix("array<").and_then(|r| r.strip_suffix('>')) {
            Some(item) => item.parse().map(ParamType::Array),
            None if s == FILE_TYPE => Ok(ParamType::File),
            None => s.parse().map(ParamType::Scalar),
        };
        parsed.map_err(|_| {
            format!(
                "unknown type `{s}`, expected one of {}",
                ParamType::all_spellings().join(", ")
            )
        })
    }
}

/// How the manifest spells [`ParamType::File`].
const FILE_TYPE: &str = "file";

impl ParamType {
    pub fn all_spellings() -> Vec<String> {
        let scalars = ScalarType::ALL.iter().map(|t| t.as_str().to_string());
        let arrays = ScalarType::ALL
            .iter()
            .map(|t| format!("array<{}>", t.as_str()));
        scalars
            .chain(arrays)
            .chain(std::iter::once(FILE_TYPE.to_string()))
            .collect()
    }

    /// The scalar a value (or each item) has; `None` for a file.
    pub fn scalar(self) -> Option<ScalarType> {
        match self {
            ParamType::Scalar(t) | ParamType::Array(t) => Some(t),
            ParamType::File => None,
        }
    }
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamType::Scalar(t) => f.write_str(t.as_str()),
            ParamType::Array(t) => write!(f, "array<{}>", t.as_str()),
            ParamType::File => f.write_str(FILE_TYPE),
        }
    }
}

/// Written as the manifest spells it (`array<string>`), for templates and JSON.
impl Serialize for ParamType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl JsonSchema for ParamType {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ParamType".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "enum": ParamType::all_spellings() })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseSpec {
    /// Return `{<nest_under> = <response>, ...with_fields}` instead of the response itself.
    pub nest_under: String,
    /// Constant fields added beside the nested response.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, Value>")]
    pub with_fields: OrderedMap<Value>,
}

/// Limit-and-offset paging.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaginationSpec {
    /// The integer parameter that sets the page size; `limit` when not given.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub limit: Option<Spanned<String>>,
    /// The integer parameter that skips items; `offset` when not given.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub offset: Option<Spanned<String>>,
    /// The page size asked for when walking every page, at most the limit parameter's maximum.
    #[schemars(with = "u64")]
    pub page_size: Spanned<u64>,
    /// JSON Pointer to the items in a page (`/data`); empty when the page is the array itself.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub items: Option<Spanned<String>>,
    /// Arguments set on every page request, such as `paginated: true` for a counted shape.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, Value>")]
    pub with: OrderedMap<Value>,
    /// Where the number of matching items comes from, if anywhere.
    #[serde(default)]
    pub total: Option<TotalSpec>,
}

/// The total count: a JSON Pointer into each page, or a counting function called with the
/// same filters and a pointer into its answer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TotalSpec {
    /// A function of this manifest that counts with the list's filters (`count_users`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub function: Option<Spanned<String>>,
    /// JSON Pointer to the count in a page (or in the counting function's answer).
    #[schemars(with = "String")]
    pub pointer: Spanned<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExampleSpec {
    pub title: String,
    /// A complete Lua chunk; it must call only known functions with known parameters.
    #[schemars(with = "String")]
    pub lua: Spanned<String>,
}

/// A YAML mapping that keeps its order and the location of each key, so docs list entries as
/// written and errors point at the key.
#[derive(Debug)]
pub struct OrderedMap<T>(pub Vec<(Spanned<String>, T)>);

impl<T> Default for OrderedMap<T> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<T> OrderedMap<T> {
    pub fn iter(&self) -> impl Iterator<Item = (&Spanned<String>, &T)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn get(&self, key: &str) -> Option<&T> {
        self.0.iter().find(|(k, _)| k.value == key).map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OrderedMap<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for EntriesVisitor<T> {
            type Value = OrderedMap<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<Spanned<String>, T>()? {
                    entries.push(entry);
                }
                Ok(OrderedMap(entries))
            }
        }

        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}
