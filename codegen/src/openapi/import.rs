//! Importing operations of an OpenAPI document as manifest function entries: a first draft of
//! each new function, in the manifests' style, that a maintainer then curates (names, summaries,
//! examples). Each draft mirrors the document, so [`check`](super::check) finds nothing in it;
//! where the document asks for something a manifest cannot say, the draft carries a note.
//!
//! An operation the provider already has (same method, same path up to placeholder names) is
//! never imported again: its differences from the document are reported instead, so importing
//! an existing operation changes nothing.
//!
//! Entries are written for a family file (`spec/<provider>/<family>.yaml`, a `functions:` list
//! whose group is the family), and the family is suggested by the operation's first tag;
//! [`family_target`] says which file that is and what the provider manifest still needs to list
//! it. Like the rest of the crate this module does no I/O: it takes the document and the loaded
//! provider and returns texts.

mod yaml;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use heck::ToSnakeCase;
use serde_json::{Map, Value};

use super::{
    BodySchema, Context, DocParam, Document, METHODS, check, is_json, is_raw_helper, route_shape,
    schema_types,
};
use crate::identifiers::{is_lua_identifier, lua_identifier};
use crate::manifest::{BodyFormat, Manifest, Method, ParamLocation, ParamType, ScalarType};
use crate::model::{Function, Provider, number};
use crate::validate::RESERVED_ITERATOR_TABLE;
use yaml::Context as Style;

/// Columns the written entries keep within, like the hand-written manifests.
const WIDTH: usize = 100;
/// Longest summary: one line in a function list.
const SUMMARY_CHARS: usize = 80;
/// Longest function description kept from the document: a paragraph, cut at a sentence.
const DESCRIPTION_CHARS: usize = 600;
/// Longest parameter description kept from the document: a line or two of a parameter table.
const PARAM_DESCRIPTION_CHARS: usize = 300;
/// The schema every family file points editors at, relative to `spec/<provider>/`.
const FAMILY_FILE_HEADER: &str =
    "# yaml-language-server: $schema=../../generated/schema/family.schema.json\n";

/// What to import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// Operations by `operationId`.
    pub operations: Vec<String>,
    /// Every operation carrying one of these tags.
    pub tags: Vec<String>,
    /// The family every new entry goes to, instead of the one its first tag suggests.
    pub family: Option<String>,
}

/// Why nothing could be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("nothing to import: choose operations by operationId or by tag")]
    NothingSelected,
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Unknown(Vec<UnknownName>),
    #[error("the OpenAPI document has no `paths`")]
    NoPaths,
    #[error(
        "family name `{0}` is not a valid identifier (letters, digits and `_`, not starting with a digit, not a Lua keyword)"
    )]
    InvalidFamily(String),
}

/// An operationId or tag the document does not have, with the closest one it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// `operation` or `tag`.
    pub kind: &'static str,
    pub name: String,
    pub suggestion: Option<String>,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no {} `{}` in the OpenAPI document",
            self.kind, self.name
        )?;
        match &self.suggestion {
            Some(suggestion) => write!(f, "; did you mean `{suggestion}`?"),
            None => Ok(()),
        }
    }
}

/// What became of one selected operation, in document order.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Boxed: an entry is much larger than the other outcomes.
    Added(Box<NewFunction>),
    Existing(Existing),
    Unsupported(Unsupported),
}

/// A new manifest entry.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFunction {
    pub operation_id: String,
    pub name: String,
    pub method: Method,
    /// Relative to the provider's base URL, as the entry writes it.
    pub path: String,
    /// The family the entry is meant for.
    pub family: Family,
    /// What needs a maintainer's attention: what the document says that the entry could not,
    /// and anything validation or the conformance check still finds in the entry.
    pub notes: Vec<String>,
    entry: Entry,
}

impl NewFunction {
    /// The entry as one item of a family file's `functions:` list (no `group`: the family is
    /// the group), ending in a newline.
    pub fn yaml(&self) -> String {
        self.entry.render(None)
    }

    /// The entry as one item of a manifest's own `functions:` list, with its `group`.
    pub fn manifest_yaml(&self, group: &str) -> String {
        self.entry.render(Some(group))
    }
}

/// An operation the provider already calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    pub operation_id: String,
    /// The name an import would have given it.
    pub name: String,
    pub method: Method,
    pub path: String,
    /// The function that calls it.
    pub existing: String,
    /// Other functions calling it (a health check asking a list for one item).
    pub also: Vec<String>,
    /// What the conformance check finds in that function (empty: nothing).
    pub differences: Vec<String>,
}

/// A selected operation no manifest function can call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    pub operation_id: String,
    /// As the document writes it (`HEAD`).
    pub method: String,
    pub path: String,
    pub reason: String,
}

/// A group of functions kept in a file of its own, `spec/<provider>/<name>.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    pub name: String,
    pub title: String,
    pub summary: String,
}

impl Family {
    /// The item to add under the provider manifest's `families:` key, for the family `file`
    /// (relative to the manifest, `<provider>/<family>.yaml`).
    pub fn declaration(&self, file: &str) -> String {
        let text = |s: &str| yaml::string(s, Style::Flow);
        format!(
            "  - {{ name: {}, title: {}, summary: {}, file: {} }}",
            text(&self.name),
            text(&self.title),
            text(&self.summary),
            text(file)
        )
    }
}

/// Where the entries of a family go, and what the provider manifest needs for the loader to
/// read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyTarget {
    /// The family file, relative to the repository root like the manifest's path.
    pub file: String,
    /// `None` when the manifest already lists the file.
    pub change: Option<ManifestChange>,
}

/// An edit the provider manifest needs before the loader reads a family file (the importer never
/// edits the manifest itself: the loader refuses a family file no family lists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestChange {
    /// The family is not declared: add `line` under `families:`. A manifest without the key must
    /// then declare the groups its own functions use too (`undeclared_groups`).
    Declare {
        manifest: String,
        line: String,
        undeclared_groups: Vec<String>,
    },
    /// The family is declared without a file: add `file: <file>` to its entry.
    AddFile {
        manifest: String,
        family: String,
        file: String,
    },
}

impl fmt::Display for ManifestChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestChange::Declare {
                manifest,
                line,
                undeclared_groups,
            } if undeclared_groups.is_empty() => write!(
                f,
                "{manifest} does not declare this family yet; add this line under `families:`:\n{line}"
            ),
            ManifestChange::Declare {
                manifest,
                line,
                undeclared_groups,
            } => write!(
                f,
                "{manifest} has no `families:` yet; add the key, with a family for each group its \
                 functions use ({}), and this line:\n{line}",
                undeclared_groups.join(", ")
            ),
            ManifestChange::AddFile {
                manifest,
                family,
                file,
            } => write!(
                f,
                "{manifest} declares the family `{family}` without a file; add `file: {file}` to it"
            ),
        }
    }
}

/// The file `family`'s entries go to: the one the manifest (at `manifest_path`) lists for it,
/// else `<manifest folder>/<provider>/<family>.yaml`, with the change the manifest then needs.
pub fn family_target(manifest_path: &str, manifest: &Manifest, family: &Family) -> FamilyTarget {
    let dir = manifest_path.rsplit_once('/').map_or("", |(dir, _)| dir);
    let under_dir = |relative: &str| match dir {
        "" => relative.to_string(),
        dir => format!("{dir}/{relative}"),
    };
    let relative = format!("{}/{}.yaml", manifest.provider.name.value, family.name);
    let declared = manifest
        .families
        .iter()
        .find(|f| f.name.value == family.name);
    match declared {
        Some(declared) => match &declared.file {
            Some(file) => FamilyTarget {
                file: under_dir(&file.value),
                change: None,
            },
            None => FamilyTarget {
                file: under_dir(&relative),
                change: Some(ManifestChange::AddFile {
                    manifest: manifest_path.to_string(),
                    family: family.name.clone(),
                    file: relative,
                }),
            },
        },
        None => {
            // Without `families:`, groups are families implicitly; declaring one means all.
            let mut undeclared_groups = Vec::new();
            if manifest.families.is_empty() {
                for function in &manifest.functions {
                    if let Some(group) = manifest.family_of(function)
                        && !undeclared_groups.iter().any(|g| g == group)
                    {
                        undeclared_groups.push(group.to_string());
                    }
                }
            }
            FamilyTarget {
                file: under_dir(&relative),
                change: Some(ManifestChange::Declare {
                    manifest: manifest_path.to_string(),
                    line: family.declaration(&relative),
                    undeclared_groups,
                }),
            }
        }
    }
}

/// The start of a new family file for `family` of the manifest at `manifest_path`: the schema
/// comment, a line saying whose family it is (as the hand-written family files have), and an
/// empty `functions:` list to append entries to.
pub fn new_family_file(manifest_path: &str, family: &Family) -> String {
    let readme = match manifest_path.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/README.md"),
        None => "README.md".to_string(),
    };
    format!(
        "{FAMILY_FILE_HEADER}# Family `{}` of {manifest_path} ({}). Every key is documented in \
         {readme}.\nfunctions:\n",
        family.name, family.title
    )
}

/// A family file's text with `items` (each from [`NewFunction::yaml`]) appended to its
/// `functions:` list.
pub fn append_to_family_file(text: &str, items: &[String]) -> String {
    // An empty flow list cannot take block items after it.
    let mut text = text
        .lines()
        .map(|line| match line.trim_end() {
            "functions: []" => "functions:",
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    text.push('\n');
    if !text.lines().any(|line| line.trim_end() == "functions:") {
        text.push_str("functions:\n");
    }
    for item in items {
        text.push_str(item);
    }
    text
}

/// Imports the operations `request` selects from `document` for `provider` (loaded with its
/// family files: its functions are the ones that exist).
pub fn import(
    document: &Document,
    provider: &Provider,
    request: &Request,
) -> Result<Vec<Outcome>, ImportError> {
    if let Some(family) = &request.family
        && !is_lua_identifier(family)
    {
        return Err(ImportError::InvalidFamily(family.clone()));
    }
    if request.operations.is_empty() && request.tags.is_empty() {
        return Err(ImportError::NothingSelected);
    }
    let operations = list_operations(document)?;
    let selected = select(document, &operations, request)?;
    let mut importer = Importer {
        context: Context::new(provider, document),
        document,
        provider,
        taken: taken_names(provider),
        tags: document_tags(document),
        family: request.family.as_deref(),
    };
    Ok(selected
        .into_iter()
        .map(|operation| importer.outcome(operation))
        .collect())
}

/// One operation of the document.
struct Listed<'a> {
    /// The `operationId`, or `<method> <path>` for an operation without one.
    id: String,
    has_id: bool,
    /// As the document writes it (lower case).
    method: &'a str,
    doc_path: &'a str,
    item: &'a Value,
    operation: &'a Value,
    tags: Vec<String>,
}

/// Every operation, in document order.
fn list_operations(document: &Document) -> Result<Vec<Listed<'_>>, ImportError> {
    let paths = document
        .root()
        .get("paths")
        .and_then(Value::as_object)
        .ok_or(ImportError::NoPaths)?;
    let mut listed = Vec::new();
    for (doc_path, item) in paths {
        let item = document.resolve(item);
        let Some(methods) = item.as_object() else {
            continue;
        };
        for (method, operation) in methods {
            if !METHODS.contains(&method.as_str()) || !operation.is_object() {
                continue;
            }
            let operation_id = operation.get("operationId").and_then(Value::as_str);
            listed.push(Listed {
                id: operation_id.map_or_else(
                    || format!("{} {doc_path}", method.to_ascii_uppercase()),
                    str::to_string,
                ),
                has_id: operation_id.is_some(),
                method,
                doc_path,
                item,
                operation,
                tags: operation
                    .get("tags")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
            });
        }
    }
    Ok(listed)
}

/// The operations `request` names, in document order, or every name it gets wrong.
fn select<'a>(
    document: &Document,
    operations: &'a [Listed<'a>],
    request: &Request,
) -> Result<Vec<&'a Listed<'a>>, ImportError> {
    let ids: Vec<&str> = operations
        .iter()
        .filter(|o| o.has_id)
        .map(|o| o.id.as_str())
        .collect();
    let mut tags: Vec<String> = operations.iter().flat_map(|o| o.tags.clone()).collect();
    tags.extend(document_tags(document).into_values().map(|t| t.name));
    tags.sort();
    tags.dedup();
    let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
    let mut unknown = Vec::new();
    for (kind, wanted, known) in [
        ("operation", &request.operations, &ids),
        ("tag", &request.tags, &tags),
    ] {
        for name in wanted.iter().filter(|n| !known.contains(&n.as_str())) {
            unknown.push(UnknownName {
                kind,
                name: name.clone(),
                suggestion: closest_ignoring_case(name, known),
            });
        }
    }
    if !unknown.is_empty() {
        return Err(ImportError::Unknown(unknown));
    }
    Ok(operations
        .iter()
        .filter(|o| {
            (o.has_id && request.operations.contains(&o.id))
                || o.tags.iter().any(|t| request.tags.contains(t))
        })
        .collect())
}

/// The closest candidate, compared in lower case (`jwt templates` → `JWT Templates`).
fn closest_ignoring_case(wrong: &str, candidates: &[&str]) -> Option<String> {
    let lowered: Vec<String> = candidates.iter().map(|c| c.to_lowercase()).collect();
    let lowered_refs: Vec<&str> = lowered.iter().map(String::as_str).collect();
    let best = crate::doc_examples::closest(&wrong.to_lowercase(), &lowered_refs)?;
    let index = lowered_refs.iter().position(|c| *c == best)?;
    candidates.get(index).map(|c| c.to_string())
}

/// A tag of the document's `tags` list.
struct Tag {
    name: String,
    description: String,
}

/// The document's tags by family name (`Allow-list / Block-list` → `allow_list_block_list`).
fn document_tags(document: &Document) -> BTreeMap<String, Tag> {
    document
        .root()
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|tag| {
            let name = tag.get("name").and_then(Value::as_str)?;
            let description = tag.get("description").and_then(Value::as_str);
            Some((
                family_name(name),
                Tag {
                    name: name.to_string(),
                    description: description.unwrap_or_default().to_string(),
                },
            ))
        })
        .collect()
}

/// A tag or path segment as a family name: snake case, a valid identifier.
fn family_name(text: &str) -> String {
    lua_identifier(&snake_case(text))
}

/// Snake case that keeps plural acronyms and `OAuth` whole: `ListRedirectURLs` →
/// `list_redirect_urls` and `GetOAuthToken` → `get_oauth_token`, where a plain conversion splits
/// them (`ur_ls`, `o_auth`).
fn snake_case(text: &str) -> String {
    let text = text.replace("OAuth", "Oauth");
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..]
            .iter()
            .take_while(|c| c.is_ascii_uppercase())
            .count();
        // An acronym of two or more capitals, then `s` ending the word: `URLs`, `IDs`.
        let plural = run >= 2
            && chars.get(i + run) == Some(&'s')
            && !chars
                .get(i + run + 1)
                .is_some_and(|c| c.is_ascii_lowercase());
        if plural {
            out.push(chars[i]);
            out.extend(chars[i + 1..i + run].iter().map(char::to_ascii_lowercase));
            i += run;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out.to_snake_case()
}

/// Function names, slugs and aliases in use, which new functions must not reuse.
fn taken_names(provider: &Provider) -> BTreeSet<String> {
    let mut taken = BTreeSet::from([RESERVED_ITERATOR_TABLE.to_string()]);
    for f in &provider.functions {
        taken.insert(f.name.clone());
        taken.insert(f.slug.clone());
        taken.extend(f.aliases.iter().cloned());
    }
    taken
}

struct Importer<'a> {
    context: Context<'a>,
    document: &'a Document,
    provider: &'a Provider,
    taken: BTreeSet<String>,
    tags: BTreeMap<String, Tag>,
    family: Option<&'a str>,
}

impl Importer<'_> {
    fn outcome(&mut self, listed: &Listed<'_>) -> Outcome {
        let candidates = self.context.relative_candidates(listed.doc_path);
        let path = candidates
            .first()
            .cloned()
            .unwrap_or_else(|| listed.doc_path.to_string());
        let Some(method) = method_of(listed.method) else {
            return Outcome::Unsupported(Unsupported {
                operation_id: listed.id.clone(),
                method: listed.method.to_ascii_uppercase(),
                path,
                reason: format!(
                    "manifests call only GET, POST, PUT, PATCH and DELETE, not {}",
                    listed.method.to_ascii_uppercase()
                ),
            });
        };
        let wanted_name = lua_identifier(&snake_case(&listed.id));
        let shapes: BTreeSet<String> = candidates
            .iter()
            .filter_map(|c| route_shape(c))
            .map(|(shape, _)| shape)
            .collect();
        let same_route = |m: Method, p: &str| {
            m == method && route_shape(p).is_some_and(|(s, _)| shapes.contains(&s))
        };
        let mut callers: Vec<&Function> = self
            .provider
            .functions
            .iter()
            .filter(|f| !is_raw_helper(f) && same_route(f.method, &f.path))
            .collect();
        // Several functions may call one operation (a list, and a health check asking it for
        // one item): the plain call, with the closest name, stands for the operation.
        callers.sort_by_key(|f| {
            let narrowed = !f.fixed_query.is_empty() || f.response.is_some();
            (narrowed, strsim::levenshtein(&f.name, &wanted_name))
        });
        if let Some((function, others)) = callers.split_first() {
            let mut differences = Vec::new();
            self.context
                .check_function(function, &mut differences, &mut 0);
            return Outcome::Existing(Existing {
                operation_id: listed.id.clone(),
                name: wanted_name,
                method,
                path,
                existing: function.name.clone(),
                also: others.iter().map(|f| f.name.clone()).collect(),
                differences,
            });
        }
        Outcome::Added(Box::new(self.new_function(
            listed,
            method,
            path,
            &wanted_name,
        )))
    }

    fn new_function(
        &mut self,
        listed: &Listed<'_>,
        method: Method,
        path: String,
        wanted_name: &str,
    ) -> NewFunction {
        let mut notes = Vec::new();
        let name = self.claim_name(wanted_name);
        if name != wanted_name {
            notes.push(format!(
                "`{wanted_name}` is already a function name here, so this one is `{name}`; rename it"
            ));
        }
        let excluded = self
            .provider
            .excluded_operations
            .iter()
            .flatten()
            .find(|(operation, _)| listed.has_id && *operation == listed.id);
        if let Some((operation, reason)) = excluded {
            notes.push(format!(
                "{} lists `{operation}` under excluded_operations ({reason}); remove it from \
                 there, or drop this entry",
                self.provider.manifest_path
            ));
        }
        if listed
            .operation
            .get("deprecated")
            .and_then(Value::as_bool)
            .unwrap_or(false)
        {
            notes.push("the OpenAPI document marks the operation deprecated".to_string());
        }
        let text_of = |key: &str| {
            listed
                .operation
                .get(key)
                .and_then(Value::as_str)
                .map(plain_text)
                .unwrap_or_default()
        };
        let (doc_summary, doc_description) = (text_of("summary"), text_of("description"));
        let summary = if doc_summary.is_empty() {
            first_sentence(&doc_description)
        } else {
            doc_summary
        };
        let summary = if summary.is_empty() {
            sentence_case(&words_of(&name))
        } else {
            shorten(&summary, SUMMARY_CHARS)
        };
        let description = if doc_description.is_empty() {
            summary.clone()
        } else {
            shorten(&doc_description, DESCRIPTION_CHARS)
        };
        let params = self.params(listed, method, &path, &mut notes);
        let pagination = self.pagination(listed, method, &params, &mut notes);
        let example = Example {
            title: summary.clone(),
            lua: example_lua(&self.provider.name, &name, &params),
        };
        let entry = Entry {
            name: name.clone(),
            slug: format!("{}_{name}", self.provider.name),
            title: title_case(&summary),
            summary,
            description,
            method,
            path: path.clone(),
            params,
            pagination,
            example,
        };
        notes.extend(self.verify(&entry));
        NewFunction {
            operation_id: listed.id.clone(),
            name,
            method,
            path,
            family: self.family_of(listed),
            notes,
            entry,
        }
    }

    /// `wanted`, or `wanted_2`, `wanted_3`, ... whichever is free as a name and as a slug.
    fn claim_name(&mut self, wanted: &str) -> String {
        let provider = &self.provider.name;
        let name = (1..)
            .map(|n| match n {
                1 => wanted.to_string(),
                n => format!("{wanted}_{n}"),
            })
            .find(|name| {
                !self.taken.contains(name) && !self.taken.contains(&format!("{provider}_{name}"))
            })
            .unwrap_or_else(|| wanted.to_string());
        self.taken.insert(name.clone());
        self.taken.insert(format!("{provider}_{name}"));
        name
    }

    /// `--family`, else the first tag's, else the first path segment's.
    fn family_of(&self, listed: &Listed<'_>) -> Family {
        let name = match (self.family, listed.tags.first()) {
            (Some(forced), _) => forced.to_string(),
            (None, Some(tag)) => family_name(tag),
            (None, None) => family_name(
                listed
                    .doc_path
                    .split('/')
                    .find(|s| !s.is_empty() && !s.starts_with('{'))
                    .unwrap_or("functions"),
            ),
        };
        let tag = self.tags.get(&name);
        let title = match (tag, self.family, listed.tags.first()) {
            (Some(tag), _, _) => tag.name.clone(),
            (None, None, Some(tag)) => tag.clone(),
            _ => title_case(&words_of(&name)),
        };
        let summary = tag
            .map(|t| first_sentence(&plain_text(&t.description)))
            .filter(|s| !s.is_empty())
            .map_or_else(|| title.clone(), |s| shorten(&s, SUMMARY_CHARS));
        Family {
            name,
            title,
            summary,
        }
    }

    /// Path parameters in path order, then query parameters, then body fields, each in the
    /// document's order.
    fn params(
        &self,
        listed: &Listed<'_>,
        method: Method,
        path: &str,
        notes: &mut Vec<String>,
    ) -> Vec<ImportedParam> {
        let doc_params = self
            .context
            .operation_parameters(listed.item, listed.operation);
        let mut names = BTreeSet::new();
        let mut params = Vec::new();
        let placeholders = route_shape(path)
            .map(|(_, names)| names)
            .unwrap_or_default();
        for placeholder in &placeholders {
            let found = doc_params
                .iter()
                .find(|d| d.location == "path" && &d.name == placeholder);
            let param = match found {
                Some(doc) => self.param_of(doc, ParamLocation::Path, notes),
                // Validation needs a parameter for every placeholder; the check will say the
                // document does not describe it.
                None => Some(ImportedParam::undocumented_path(placeholder)),
            };
            params.extend(param);
        }
        for doc in &doc_params {
            match doc.location.as_str() {
                "query" => params.extend(self.param_of(doc, ParamLocation::Query, notes)),
                "header" | "cookie" if !self.provided_by_provider(doc) => notes.push(format!(
                    "{} parameter {} is not imported: manifests declare no {0} parameters",
                    doc.location, doc.name
                )),
                _ => {}
            }
        }
        // Drafts take JSON bodies only; a multipart one is named in a note.
        match self
            .context
            .request_body(listed.operation, BodyFormat::Json)
        {
            None => {}
            Some(Err(problem)) => notes.push(format!("{problem}; its fields are not imported")),
            Some(Ok(body)) if method == Method::Get && !body.properties.is_empty() => notes.push(
                "the GET operation has a request body, which manifests cannot send".to_string(),
            ),
            Some(Ok(_)) if method == Method::Get => {}
            Some(Ok(body)) => params.extend(self.body_params(listed.operation, &body, notes)),
        }
        for param in &mut params {
            param.name = unique_param_name(&mut names, &param.name, param.location);
        }
        params
    }

    /// The `Authorization` and version headers are the provider's to send, not the caller's.
    fn provided_by_provider(&self, doc: &DocParam) -> bool {
        doc.location == "header"
            && (doc.name.eq_ignore_ascii_case("authorization")
                || self
                    .context
                    .version_header
                    .is_some_and(|h| doc.name.eq_ignore_ascii_case(h)))
    }

    fn param_of(
        &self,
        doc: &DocParam,
        location: ParamLocation,
        notes: &mut Vec<String>,
    ) -> Option<ImportedParam> {
        let source = Source {
            wire_name: &doc.name,
            location,
            // Path parameters are always required: the path cannot be built without them.
            required: doc.required || location == ParamLocation::Path,
            schema: &doc.schema,
            description: doc.description.as_deref(),
            example: doc.example.clone(),
            deprecated: doc.deprecated,
        };
        let comma_separated = location == ParamLocation::Query
            && doc.style.as_deref().unwrap_or("form") == "form"
            && doc.explode == Some(false);
        imported_param(&source, notes).map(|mut param| {
            param.explode = !(comma_separated && matches!(param.ty, ParamType::Array(_)));
            param
        })
    }

    /// The top-level fields of a JSON request body, except read-only ones (the server's to set).
    fn body_params(
        &self,
        operation: &Value,
        body: &BodySchema,
        notes: &mut Vec<String>,
    ) -> Vec<ImportedParam> {
        let whole = operation
            .get("requestBody")
            .map(|b| self.document.resolve(b))
            .and_then(|b| b.get("content"))
            .and_then(Value::as_object)
            .and_then(|c| c.iter().find(|(media, _)| is_json(media)))
            .and_then(|(_, m)| m.get("schema"))
            .map(|s| self.document.merged_schema(s))
            .unwrap_or(Value::Null);
        let body_types = schema_types(&whole);
        if body.properties.is_empty() && !body_types.is_empty() && !body_types.contains("object") {
            notes.push(format!(
                "the request body is {}, not an object of fields, so no parameter can carry it",
                body_types.into_iter().collect::<Vec<_>>().join(" or ")
            ));
            return Vec::new();
        }
        if body.additional.is_some() {
            notes.push(
                "the request body accepts fields it does not list; add a `spread: true` object \
                 parameter if callers need them"
                    .to_string(),
            );
        }
        let mut params = Vec::new();
        for (wire_name, raw) in &body.properties {
            let schema = self.document.merged_schema(raw);
            if schema.get("readOnly").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let description = raw
                .get("description")
                .or_else(|| schema.get("description"))
                .and_then(Value::as_str);
            let source = Source {
                wire_name,
                location: ParamLocation::Body,
                required: body.required.contains(wire_name),
                schema: &schema,
                description,
                example: super::schema_example(raw).or_else(|| super::schema_example(&schema)),
                deprecated: schema.get("deprecated").and_then(Value::as_bool) == Some(true),
            };
            params.extend(imported_param(&source, notes));
        }
        params
    }

    /// Limit-and-offset paging of a GET, when its first page's shape is known: a bare array, or
    /// `{data: [...], total_count: n}`.
    fn pagination(
        &self,
        listed: &Listed<'_>,
        method: Method,
        params: &[ImportedParam],
        notes: &mut Vec<String>,
    ) -> Option<ImportedPagination> {
        let count_query = |name: &str| {
            params.iter().find(|p| {
                p.name == name
                    && p.location == ParamLocation::Query
                    && matches!(
                        p.ty,
                        ParamType::Scalar(ScalarType::Integer | ScalarType::Number)
                    )
            })
        };
        if method != Method::Get {
            return None;
        }
        let (limit, Some(_)) = (count_query("limit")?, count_query("offset")) else {
            return None;
        };
        let whole = |n: f64| (n >= 1.0 && n.fract() == 0.0).then_some(n as u64);
        let page_size = limit
            .maximum
            .and_then(whole)
            .or_else(|| limit.default.as_ref().and_then(Value::as_u64))
            .filter(|n| *n >= 1);
        let Some(page_size) = page_size else {
            notes.push(
                "the operation pages with `limit` and `offset`, but `limit` has no maximum or \
                 default to choose a page size from; declare `pagination` by hand"
                    .to_string(),
            );
            return None;
        };
        let page = self.success_schema(listed.operation);
        let types = schema_types(&page);
        let property_types = |name: &str| {
            page.get("properties")
                .and_then(|p| p.get(name))
                .map(|s| schema_types(&self.document.merged_schema(s)))
                .unwrap_or_default()
        };
        if types.contains("array") {
            Some(ImportedPagination {
                page_size,
                counted: false,
            })
        } else if property_types("data").contains("array")
            && property_types("total_count").contains("integer")
        {
            Some(ImportedPagination {
                page_size,
                counted: true,
            })
        } else {
            notes.push(
                "the operation pages with `limit` and `offset`, but its 200 answer is neither an \
                 array nor `{data, total_count}`; declare `pagination` by hand"
                    .to_string(),
            );
            None
        }
    }

    /// The merged schema of the operation's 200 JSON answer (`null` when it has none).
    fn success_schema(&self, operation: &Value) -> Value {
        operation
            .get("responses")
            .and_then(|r| r.get("200"))
            .map(|r| self.document.resolve(r))
            .and_then(|r| r.get("content"))
            .and_then(Value::as_object)
            .and_then(|c| c.iter().find(|(media, _)| is_json(media)))
            .and_then(|(_, m)| m.get("schema"))
            .map_or(Value::Null, |s| self.document.merged_schema(s))
    }

    /// What validation and the conformance check find in the entry, loaded as the only function
    /// of a manifest with the provider's base URL and version header. Empty by construction,
    /// except where the document asks for what a manifest cannot say.
    fn verify(&self, entry: &Entry) -> Vec<String> {
        let provider = self.provider;
        let mut manifest = format!(
            "provider:\n  name: {}\n  label: Draft\n  description: Draft.\n  category: draft\n  \
             docs_url: https://example.test\n  base_url: {}\n",
            provider.name,
            yaml::string(&provider.base_url, Style::Block)
        );
        if let Some((name, value)) = &provider.version_header {
            manifest.push_str(&format!(
                "  version_header: {{ name: {}, value: {} }}\n",
                yaml::string(name, Style::Flow),
                yaml::string(value, Style::Flow)
            ));
        }
        manifest.push_str(
            "  auth: { scheme: bearer, credential: token }\n  credentials:\n    \
             token: { description: Token. }\nfunctions:\n",
        );
        manifest.push_str(&entry.render(Some("draft")));
        let path = format!("spec/{}.yaml", provider.name);
        let files = BTreeMap::from([(path, manifest)]);
        match crate::load(&files) {
            Err(problems) => problems
                .0
                .into_iter()
                .map(|d| format!("validation: {}", d.message))
                .collect(),
            Ok(loaded) => loaded
                .first()
                .map(|p| check(p, self.document).mismatches)
                .unwrap_or_default()
                .into_iter()
                .map(|m| format!("check-openapi: {}", m.message))
                .collect(),
        }
    }
}

fn method_of(method: &str) -> Option<Method> {
    match method {
        "get" => Some(Method::Get),
        "post" => Some(Method::Post),
        "put" => Some(Method::Put),
        "patch" => Some(Method::Patch),
        "delete" => Some(Method::Delete),
        _ => None,
    }
}

/// A parameter or body field as the document describes it.
struct Source<'a> {
    wire_name: &'a str,
    location: ParamLocation,
    required: bool,
    /// Merged (`$ref`s resolved, `allOf`s united).
    schema: &'a Value,
    description: Option<&'a str>,
    example: Option<Value>,
    deprecated: bool,
}

/// A parameter of the new entry.
#[derive(Debug, Clone, PartialEq)]
struct ImportedParam {
    /// Script-facing name (snake case, a Lua identifier).
    name: String,
    wire_name: String,
    location: ParamLocation,
    ty: ParamType,
    required: bool,
    description: String,
    default: Option<Value>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    max_items: Option<u64>,
    allowed: Vec<Value>,
    example: Option<Value>,
    /// A query array the document serialises comma-separated (style `form`, explode `false`).
    explode: bool,
}

impl ImportedParam {
    /// A placeholder the document has no parameter for.
    fn undocumented_path(placeholder: &str) -> ImportedParam {
        ImportedParam {
            name: param_name(placeholder),
            wire_name: placeholder.to_string(),
            location: ParamLocation::Path,
            ty: ParamType::Scalar(ScalarType::String),
            required: true,
            description: described_by_name(placeholder),
            default: None,
            minimum: None,
            maximum: None,
            max_items: None,
            explode: true,
            allowed: Vec::new(),
            example: None,
        }
    }
}

/// The parameter for `source`, or `None` (with a note) for an optional one no manifest type can
/// carry. Bounds, enums and defaults are kept only where validation accepts them; the check then
/// reports what was left out.
fn imported_param(source: &Source<'_>, notes: &mut Vec<String>) -> Option<ImportedParam> {
    let label = format!("{} parameter {}", source.location, source.wire_name);
    let (ty, problem) = manifest_type(source.schema, source.location);
    if let Some(problem) = problem {
        if !source.required {
            notes.push(format!("{label} is not imported: {problem}"));
            return None;
        }
        notes.push(format!("{label} is {ty} here, but {problem}"));
    }
    let (item_type, array) = match ty {
        ParamType::Scalar(t) => (t, false),
        ParamType::Array(t) => (t, true),
        // Not drafted: `manifest_type` makes no files.
        ParamType::File => (ScalarType::Object, false),
    };
    let constrained = if array {
        source.schema.get("items").unwrap_or(&Value::Null)
    } else {
        source.schema
    };
    let numeric = matches!(item_type, ScalarType::Integer | ScalarType::Number);
    let bound = |key: &str| {
        constrained
            .get(key)
            .and_then(Value::as_f64)
            .filter(|_| numeric)
    };
    let mut param = ImportedParam {
        name: param_name(source.wire_name),
        wire_name: source.wire_name.to_string(),
        location: source.location,
        ty,
        required: source.required,
        description: String::new(),
        default: None,
        minimum: bound("minimum"),
        maximum: bound("maximum"),
        max_items: source
            .schema
            .get("maxItems")
            .and_then(Value::as_u64)
            .filter(|_| array),
        allowed: Vec::new(),
        example: None,
        explode: true,
    };
    if let (Some(min), Some(max)) = (param.minimum, param.maximum)
        && min > max
    {
        (param.minimum, param.maximum) = (None, None);
    }
    let allowed: Vec<Value> = constrained
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| !v.is_null())
        .cloned()
        .collect();
    if allowed.iter().all(|v| scalar_fits(item_type, v, &param)) {
        param.allowed = allowed;
    }
    param.default = source
        .schema
        .get("default")
        .filter(|d| !source.required && is_scalar(d) && value_fits(&param, d))
        .cloned();
    param.example = source.example.clone().filter(|e| value_fits(&param, e));
    let described = source
        .description
        .map(plain_text)
        .filter(|d| !d.is_empty())
        .map_or_else(
            || described_by_name(source.wire_name),
            |d| shorten(&d, PARAM_DESCRIPTION_CHARS),
        );
    param.description = if source.deprecated {
        format!("Deprecated. {described}")
    } else {
        described
    };
    Some(param)
}

/// The manifest type for a schema in `location`, and why it does not fit when no type does
/// (then the type is the closest one that validates).
fn manifest_type(schema: &Value, location: ParamLocation) -> (ParamType, Option<String>) {
    let types = schema_types(schema);
    if types.contains("array") && location != ParamLocation::Path {
        let items = schema.get("items").unwrap_or(&Value::Null);
        let item_types = schema_types(items);
        let (item, problem) = pick_scalar(&item_types, location);
        let problem = problem.or_else(|| {
            item_types
                .contains("array")
                .then(|| "the items are arrays, which manifests cannot type".to_string())
        });
        return (ParamType::Array(item), problem);
    }
    let (scalar, problem) = pick_scalar(&types, location);
    if location == ParamLocation::Path
        && !matches!(scalar, ScalarType::String | ScalarType::Integer)
    {
        let problem = format!("a path parameter must be a string or an integer, not {scalar:?}");
        return (ParamType::Scalar(ScalarType::String), Some(problem));
    }
    (ParamType::Scalar(scalar), problem)
}

/// The scalar type for a schema's types: any type the document allows (a string first, as
/// every query value is one on the wire); untyped values are objects in a body and strings
/// elsewhere. Objects cannot go in a path or query.
fn pick_scalar(types: &BTreeSet<String>, location: ParamLocation) -> (ScalarType, Option<String>) {
    let untyped = match location {
        ParamLocation::Body => ScalarType::Object,
        ParamLocation::Path | ParamLocation::Query => ScalarType::String,
    };
    if types.is_empty() {
        return (untyped, None);
    }
    let preference = [
        ("string", ScalarType::String),
        ("number", ScalarType::Number),
        ("integer", ScalarType::Integer),
        ("boolean", ScalarType::Boolean),
        ("object", ScalarType::Object),
    ];
    let found = preference
        .into_iter()
        .find(|(name, _)| types.contains(*name))
        .map(|(_, t)| t);
    let listed = || types.iter().cloned().collect::<Vec<_>>().join("|");
    match found {
        Some(ScalarType::Object) if location != ParamLocation::Body => (
            ScalarType::String,
            Some(format!(
                "it is an object, which only a `spread: true` table can send in the {location}"
            )),
        ),
        Some(t) => (t, None),
        None => (
            untyped,
            Some(format!("its type {} has no manifest equivalent", listed())),
        ),
    }
}

fn is_scalar(value: &Value) -> bool {
    value.is_string() || value.is_number() || value.is_boolean()
}

/// Whether validation accepts `value` as the parameter's default or example: of its type, within
/// its bounds, `max_items` and enum.
fn value_fits(param: &ImportedParam, value: &Value) -> bool {
    match param.ty {
        ParamType::Scalar(t) => scalar_fits(t, value, param) && in_enum(param, value),
        ParamType::Array(t) => value.as_array().is_some_and(|items| {
            param.max_items.is_none_or(|max| items.len() as u64 <= max)
                && items
                    .iter()
                    .all(|item| scalar_fits(t, item, param) && in_enum(param, item))
        }),
        ParamType::File => false,
    }
}

fn in_enum(param: &ImportedParam, value: &Value) -> bool {
    param.allowed.is_empty() || param.allowed.contains(value)
}

fn scalar_fits(t: ScalarType, value: &Value, param: &ImportedParam) -> bool {
    let typed = match t {
        ScalarType::String => value.is_string(),
        ScalarType::Integer => value.is_i64() || value.is_u64(),
        ScalarType::Number => value.is_number(),
        ScalarType::Boolean => value.is_boolean(),
        ScalarType::Object => value.is_object(),
    };
    let n = value.as_f64();
    typed
        && param.minimum.is_none_or(|min| n.is_none_or(|n| n >= min))
        && param.maximum.is_none_or(|max| n.is_none_or(|n| n <= max))
}

/// A wire name as a script-facing name: snake case, a Lua identifier.
fn param_name(wire_name: &str) -> String {
    lua_identifier(&snake_case(wire_name))
}

/// `name`, or `name_<location>`, `name_<location>_2`, ... whichever no other parameter of the
/// function has taken.
fn unique_param_name(taken: &mut BTreeSet<String>, name: &str, location: ParamLocation) -> String {
    let with_location = format!("{name}_{location}");
    let unique = std::iter::once(name.to_string())
        .chain(std::iter::once(with_location.clone()))
        .chain((2..).map(|n| format!("{with_location}_{n}")))
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or_else(|| name.to_string());
    taken.insert(unique.clone());
    unique
}

/// A description for a parameter the document does not describe: its name as words.
fn described_by_name(wire_name: &str) -> String {
    format!("{}.", sentence_case(&words_of(&snake_case(wire_name))))
}

/// Snake case as words, with `id`, `url`, ... in capitals.
fn words_of(snake: &str) -> String {
    snake
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| match w {
            "id" | "url" | "uri" | "api" | "jwt" | "saml" => w.to_ascii_uppercase(),
            "ids" | "urls" | "uris" | "apis" | "jwts" => {
                format!("{}s", w.trim_end_matches('s').to_ascii_uppercase())
            }
            "oauth" => "OAuth".to_string(),
            _ => w.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn sentence_case(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Title Case as catalogs show it: every word capitalised except short function words, and
/// words already in capitals (`JWT`) kept; a trailing period dropped.
fn title_case(text: &str) -> String {
    const SMALL: [&str; 17] = [
        "a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the",
        "to", "via", "with",
    ];
    text.trim_end_matches('.')
        .split(' ')
        .enumerate()
        .map(|(i, word)| {
            if i > 0 && SMALL.contains(&word) {
                word.to_string()
            } else {
                sentence_case(word)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Markdown prose as one line: whitespace collapsed, links and images reduced to their text.
fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut rest = markdown;
    while let Some(open) = rest.find('[') {
        let (before, from_bracket) = rest.split_at(open);
        let link = from_bracket.find("](").and_then(|close| {
            let text = &from_bracket[1..close];
            let after = &from_bracket[close + 2..];
            // A link's text has no brackets of its own and its URL no spaces.
            let end = after.find(')')?;
            let url = &after[..end];
            (!text.contains(['[', ']']) && !url.contains(char::is_whitespace))
                .then_some((text, &after[end + 1..]))
        });
        match link {
            Some((text, after)) => {
                out.push_str(before.strip_suffix('!').unwrap_or(before));
                out.push_str(text);
                rest = after;
            }
            None => {
                out.push_str(before);
                out.push('[');
                rest = &from_bracket[1..];
            }
        }
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first sentence of one-line text (all of it when it has one only).
fn first_sentence(text: &str) -> String {
    match sentence_ends(text).next() {
        Some(end) => text[..end].to_string(),
        None => text.to_string(),
    }
}

/// Byte offsets just after each sentence's closing `.`, `!` or `?` (followed by a space or the
/// end of the text).
fn sentence_ends(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.char_indices().filter_map(|(i, c)| {
        let end = i + c.len_utf8();
        (matches!(c, '.' | '!' | '?') && (end == text.len() || text[end..].starts_with(' ')))
            .then_some(end)
    })
}

/// One-line text of at most about `limit` characters: whole when short enough, else cut after
/// the last sentence that fits, else at the last space that fits, with `…`.
fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let limit_byte = text
        .char_indices()
        .nth(limit)
        .map_or(text.len(), |(i, _)| i);
    if let Some(end) = sentence_ends(text)
        .take_while(|end| *end <= limit_byte)
        .last()
    {
        return text[..end].to_string();
    }
    let cut = text[..limit_byte].rfind(' ').unwrap_or(limit_byte);
    format!(
        "{}…",
        text[..cut].trim_end_matches([' ', ',', ';', ':', '.'])
    )
}

/// Limit-and-offset paging of an imported list.
#[derive(Debug, Clone, PartialEq)]
struct ImportedPagination {
    page_size: u64,
    /// Pages are `{data, total_count}` rather than bare arrays.
    counted: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct Example {
    title: String,
    lua: String,
}

/// A new function, ready to write.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    name: String,
    slug: String,
    title: String,
    summary: String,
    description: String,
    method: Method,
    path: String,
    params: Vec<ImportedParam>,
    pagination: Option<ImportedPagination>,
    example: Example,
}

impl Entry {
    /// One item of a `functions:` list, indented for it, with a `group` when given.
    fn render(&self, group: Option<&str>) -> String {
        let text = |s: &str| yaml::string(s, Style::Block);
        let mut out = format!("  - name: {}\n", text(&self.name));
        out.push_str(&format!("    slug: {}\n", text(&self.slug)));
        out.push_str(&format!("    title: {}\n", text(&self.title)));
        if let Some(group) = group {
            out.push_str(&format!("    group: {}\n", text(group)));
        }
        out.push_str(&yaml::prose("summary", &self.summary, 4, WIDTH));
        out.push_str(&yaml::prose("description", &self.description, 4, WIDTH));
        let operation = if self.method == Method::Get {
            "read"
        } else {
            "write"
        };
        out.push_str(&format!("    operation: {operation}\n"));
        if self.method == Method::Delete {
            out.push_str("    destructive: true\n");
        }
        out.push_str(&format!(
            "    http: {{ method: {}, path: {} }}\n",
            self.method,
            yaml::string(&self.path, Style::Flow)
        ));
        if !self.params.is_empty() {
            out.push_str("    params:\n");
            for param in &self.params {
                out.push_str(&render_param(param));
            }
        }
        if let Some(pagination) = &self.pagination {
            let counted = if pagination.counted {
                ", items: /data, total: { pointer: /total_count }"
            } else {
                ""
            };
            out.push_str(&format!(
                "    pagination: {{ page_size: {}{counted} }}\n",
                pagination.page_size
            ));
        }
        out.push_str("    examples:\n");
        out.push_str(&format!(
            "      - title: {}\n",
            yaml::string(&self.example.title, Style::Block)
        ));
        out.push_str(&yaml::literal("lua", &self.example.lua, 8));
        out
    }
}

/// `name: { in: ..., ... }` on one line when it fits, else a block mapping.
fn render_param(param: &ImportedParam) -> String {
    let mut fields: Vec<(&str, String)> = vec![
        ("in", param.location.to_string()),
        ("type", param.ty.to_string()),
    ];
    if param.required {
        fields.push(("required", "true".to_string()));
    }
    if param.wire_name != param.name {
        fields.push(("wire_name", yaml::string(&param.wire_name, Style::Flow)));
    }
    if let Some(default) = &param.default {
        fields.push(("default", yaml::flow_value(default)));
    }
    for (key, bound) in [("minimum", param.minimum), ("maximum", param.maximum)] {
        if let Some(bound) = bound {
            fields.push((key, number(bound).to_string()));
        }
    }
    if let Some(max_items) = param.max_items {
        fields.push(("max_items", max_items.to_string()));
    }
    if !param.explode {
        fields.push(("explode", "false".to_string()));
    }
    if !param.allowed.is_empty() {
        fields.push((
            "enum",
            yaml::flow_value(&Value::Array(param.allowed.clone())),
        ));
    }
    let example = param.example.as_ref().map(yaml::flow_value);
    let name = yaml::string(&param.name, Style::Block);
    let mut flow: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    flow.push(format!(
        "description: {}",
        yaml::string(&param.description, Style::Flow)
    ));
    flow.extend(example.iter().map(|e| format!("example: {e}")));
    let line = format!("      {name}: {{ {} }}\n", flow.join(", "));
    if line.chars().count() <= WIDTH + 1 {
        return line;
    }
    let mut out = format!("      {name}:\n");
    for (key, value) in &fields {
        let line = format!("        {key}: {value}\n");
        match (key, &param.allowed) {
            // A long enum reads better as a block list, one value a line.
            (&"enum", values) if line.chars().count() > WIDTH + 1 => {
                out.push_str("        enum:\n");
                for value in values {
                    let text = match value {
                        Value::String(s) => yaml::string(s, Style::Block),
                        other => yaml::flow_value(other),
                    };
                    out.push_str(&format!("          - {text}\n"));
                }
            }
            _ => out.push_str(&line),
        }
    }
    out.push_str(&yaml::prose("description", &param.description, 8, WIDTH));
    if let Some(example) = example {
        out.push_str(&format!("        example: {example}\n"));
    }
    out
}

/// A call with every required parameter (its example, or a placeholder of its type), printed.
fn example_lua(provider: &str, name: &str, params: &[ImportedParam]) -> String {
    let arguments: Vec<String> = params
        .iter()
        .filter(|p| p.required)
        .map(|p| {
            let value = p.example.clone().unwrap_or_else(|| placeholder(p));
            format!("{} = {}", p.name, lua_value(&value))
        })
        .collect();
    let call = format!("local result = app.integrations.{provider}.{name}(");
    let one_line = if arguments.is_empty() {
        format!("{call}{{}})")
    } else {
        format!("{call}{{ {} }})", arguments.join(", "))
    };
    let call = if one_line.chars().count() <= WIDTH - 10 {
        one_line
    } else {
        let lines: Vec<String> = arguments.iter().map(|a| format!("  {a},\n")).collect();
        format!("{call}{{\n{}}})", lines.concat())
    };
    format!("{call}\nprint(result)\n")
}

/// A value of the parameter's type for the example, to be replaced by a real one.
fn placeholder(param: &ImportedParam) -> Value {
    if let Some(first) = param.allowed.first() {
        return match param.ty {
            ParamType::Array(_) => Value::Array(vec![first.clone()]),
            ParamType::Scalar(_) | ParamType::File => first.clone(),
        };
    }
    let low = param.minimum.unwrap_or(1.0);
    let low = param.maximum.map_or(low, |max| low.min(max));
    match param.ty {
        ParamType::Scalar(ScalarType::String) => Value::String(format!("<{}>", param.name)),
        ParamType::Scalar(ScalarType::Integer | ScalarType::Number) => number(low.ceil()),
        ParamType::Scalar(ScalarType::Boolean) => Value::Bool(true),
        ParamType::Scalar(ScalarType::Object) => Value::Object(Map::new()),
        ParamType::Array(_) => Value::Array(Vec::new()),
        ParamType::File => Value::Object(Map::new()),
    }
}

/// A JSON value as a Lua literal.
fn lua_value(value: &Value) -> String {
    match value {
        Value::Null => "nil".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => lua_string(s),
        Value::Array(items) if items.is_empty() => "{}".to_string(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(lua_value).collect();
            format!("{{ {} }}", items.join(", "))
        }
        Value::Object(map) if map.is_empty() => "{}".to_string(),
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    let key = if is_lua_identifier(k) {
                        k.clone()
                    } else {
                        format!("[{}]", lua_string(k))
                    };
                    format!("{key} = {}", lua_value(v))
                })
                .collect();
            format!("{{ {} }}", entries.join(", "))
        }
    }
}

fn lua_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_one_line_of_plain_text() {
        assert_eq!(
            plain_text("See [the docs](https://x.test/a) and\n\n![logo](l.png)  now.\n"),
            "See the docs and logo now."
        );
        assert_eq!(
            plain_text("Keep [brackets] and [a link](https://x.test)."),
            "Keep [brackets] and a link."
        );
        assert_eq!(plain_text("[not](a link)"), "[not](a link)");
    }

    #[test]
    fn long_text_is_cut_at_a_sentence_else_a_word() {
        let text = "One sentence here. Another one, longer than the rest of it. A third.";
        assert_eq!(shorten(text, 100), text);
        assert_eq!(shorten(text, 40), "One sentence here.");
        assert_eq!(shorten("no sentence end in this text", 12), "no sentence…");
        assert_eq!(first_sentence("Hi there. More"), "Hi there.");
        assert_eq!(first_sentence("e.g.no end"), "e.g.no end");
    }

    #[test]
    fn names_keep_acronyms_whole() {
        for (id, name) in [
            ("ListRedirectURLs", "list_redirect_urls"),
            ("GetOAuthAccessToken", "get_oauth_access_token"),
            ("GetUserIDs", "get_user_ids"),
            ("ListJWTTemplates", "list_jwt_templates"),
            ("getUsersCount", "get_users_count"),
            ("users.list", "users_list"),
            ("Allow-list / Block-list", "allow_list_block_list"),
        ] {
            assert_eq!(snake_case(id), name, "{id}");
        }
    }

    #[test]
    fn titles_keep_capitals_and_small_words() {
        assert_eq!(
            title_case("Create a JWT template."),
            "Create a JWT Template"
        );
        assert_eq!(title_case("list all of the users"), "List All of the Users");
        assert_eq!(described_by_name("templateId"), "Template ID.");
        assert_eq!(described_by_name("redirect_urls"), "Redirect URLs.");
    }

    #[test]
    fn lua_literals() {
        let value = serde_json::json!({"a": [1, "x\"y"], "not-ident": true, "end": null});
        assert_eq!(
            lua_value(&value),
            r#"{ a = { 1, "x\"y" }, ["not-ident"] = true, ["end"] = nil }"#
        );
    }
}
