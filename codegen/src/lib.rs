//! The integration generator: manifests in, Rust, Lua registrations, docs and catalogs out.
//!
//! It is a library with no I/O of its own: callers (the `xtask` front-end, tests, benchmarks)
//! hand it the spec files' contents and get back the files to write or compare.
//! Pipeline: [`manifest`] (serde types) → [`validate`](crate::load) → [`model`] → `emit`.
//! Nothing here knows about any particular provider.

pub mod diagnostics;
pub mod doc_examples;
pub mod drift;
mod emit;
pub mod identifiers;
pub mod lua_calls;
pub mod manifest;
pub mod model;
pub mod openapi;
pub mod site;
mod validate;

use std::collections::BTreeMap;

pub use diagnostics::{Diagnostic, Diagnostics};
pub use emit::GeneratedFile;
pub use emit::docs::NAMESPACE_BUDGET;
pub use model::Provider;

use diagnostics::Reporter;

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The manifests have problems; each names its file, line and column.
    #[error("{0}")]
    Invalid(#[from] Diagnostics),
    /// An emitter failed (a template error or generated Rust that does not parse): a generator bug.
    #[error("{0}")]
    Emit(String),
}

/// Spec files by path relative to the repository root (`spec/acme.yaml`, `spec/guides/start.md`).
pub type SpecFiles = BTreeMap<String, String>;

/// The manifests among `files`: `*.yaml` directly inside a `spec/` folder.
pub fn manifest_paths(files: &SpecFiles) -> Vec<&str> {
    files
        .keys()
        .filter(|path| {
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
            (dir == "spec" || dir.ends_with("/spec")) && name.ends_with(".yaml")
        })
        .map(String::as_str)
        .collect()
}

/// Parses one manifest. Unknown keys and type errors are reported with line and column.
pub fn parse_manifest(path: &str, text: &str) -> Result<manifest::Manifest, Diagnostics> {
    parse_yaml(path, text)
}

fn parse_yaml<T: serde::de::DeserializeOwned>(path: &str, text: &str) -> Result<T, Diagnostics> {
    // YAML 1.2 booleans only: with YAML 1.1 rules an enum value like `on` or `no` would silently
    // become a boolean. Duplicate keys are errors, never "last one wins".
    let options = serde_saphyr::options! {
        strict_booleans: true,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        // Manifests are our own files, not hostile input; the default node budget (250,000)
        // is too small for the 5,000-function benchmark manifest.
        budget: serde_saphyr::budget! { max_nodes: 50_000_000, max_events: 100_000_000 },
    };
    serde_saphyr::from_str_with_options(text, options).map_err(|error| {
        let location = error.location();
        let message = error.without_snippet().render_with_options(
            serde_saphyr::render_options! { snippets: serde_saphyr::SnippetMode::Off },
        );
        Diagnostics(vec![Diagnostic {
            file: path.to_string(),
            line: location.map_or(0, |l| l.line()),
            column: location.map_or(0, |l| l.column()),
            message: strip_location_suffix(&message),
        }])
    })
}

/// serde-saphyr appends " at line L, column C" to plain messages; we print the location first.
fn strip_location_suffix(message: &str) -> String {
    let message = message.lines().next().unwrap_or(message);
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// Parses and validates every manifest in `files` and builds the model, sorted by provider name.
pub fn load(files: &SpecFiles) -> Result<Vec<Provider>, Diagnostics> {
    let mut providers = Vec::new();
    let mut problems = Vec::new();
    for path in manifest_paths(files) {
        let text = &files[path];
        let mut manifest = match parse_manifest(path, text) {
            Ok(m) => m,
            Err(d) => {
                problems.extend(d.0);
                continue;
            }
        };
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        let texts = match read_families(path, dir, &mut manifest, files) {
            Ok(texts) => texts,
            Err(found) => {
                problems.extend(found);
                continue;
            }
        };
        let guides: BTreeMap<String, (String, String)> = manifest
            .guides
            .iter()
            .filter_map(|g| {
                let full = format!("{dir}/{}", g.file.value);
                files
                    .get(&full)
                    .map(|text| (g.file.value.clone(), (full, text.clone())))
            })
            .collect();
        let source_paths: Vec<&str> = manifest.sources.iter().map(|s| s.path.as_str()).collect();
        let mut reporter = Reporter::for_files(source_paths);
        let guide_problems = validate::validate(&mut reporter, &texts, &manifest, &guides);
        let own = reporter.finish();
        if own.is_err() || !guide_problems.is_empty() {
            if let Err(d) = own {
                problems.extend(d.0);
            }
            problems.extend(guide_problems);
            continue;
        }
        let guides = manifest
            .guides
            .iter()
            .filter_map(|g| {
                guides.get(&g.file.value).map(|(_, markdown)| model::Guide {
                    name: model::guide_name(&g.file.value).to_string(),
                    title: g.title.clone(),
                    essentials: g
                        .essentials
                        .as_ref()
                        .map(|e| e.value.split_whitespace().collect::<Vec<_>>().join(" "))
                        .unwrap_or_default(),
                    markdown: markdown.trim_end().to_string(),
                })
            })
            .collect();
        providers.push(model::build(path, &manifest, guides));
    }
    if !problems.is_empty() {
        return Err(Diagnostics(problems));
    }
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    for p in &providers {
        if let Some(first) = names.insert(&p.name, &p.manifest_path) {
            problems.push(Diagnostic {
                file: p.manifest_path.clone(),
                line: 1,
                column: 1,
                message: format!("provider `{}` is also defined in {first}", p.name),
            });
        }
    }
    if !problems.is_empty() {
        return Err(Diagnostics(problems));
    }
    providers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(providers)
}

/// Reads the family files `manifest` names, appending their functions to it (each marked with
/// the file it came from), and returns the text of every source file by index. A family file
/// that is missing or does not parse, and a file beside the family files that no family lists,
/// is reported.
fn read_families<'f>(
    path: &str,
    dir: &str,
    manifest: &mut manifest::Manifest,
    files: &'f SpecFiles,
) -> Result<Vec<&'f str>, Vec<Diagnostic>> {
    let mut texts = vec![files[path].as_str()];
    manifest.sources = vec![manifest::SourceFile {
        path: path.to_string(),
        family: None,
    }];
    let mut problems = Vec::new();
    let mut listed = std::collections::BTreeSet::new();
    for family in &manifest.families {
        let Some(file) = &family.file else { continue };
        let full = format!("{dir}/{}", file.value);
        listed.insert(full.clone());
        let Some(text) = files.get(&full) else {
            problems.push(Diagnostic {
                file: path.to_string(),
                line: file.referenced.line(),
                column: file.referenced.column(),
                message: format!(
                    "family file `{}` does not exist (looked for {full})",
                    file.value
                ),
            });
            continue;
        };
        match parse_family_file(&full, text) {
            Ok(parsed) => {
                let index = texts.len();
                texts.push(text.as_str());
                manifest.sources.push(manifest::SourceFile {
                    path: full,
                    family: Some(family.name.value.clone()),
                });
                for mut function in parsed.functions {
                    function.source = index;
                    manifest.functions.push(function);
                }
            }
            Err(found) => problems.extend(found.0),
        }
    }
    // Family files sit in a folder named after the provider; one that no family lists would
    // be silently left out of the API.
    let provider_dir = format!("{dir}/{}/", manifest.provider.name.value);
    for other in files.keys() {
        if let Some(name) = other.strip_prefix(&provider_dir)
            && name.ends_with(".yaml")
            && !name.contains('/')
            && !listed.contains(other)
        {
            problems.push(Diagnostic {
                file: other.clone(),
                line: 1,
                column: 1,
                message: format!(
                    "no family in {path} lists this file; add `- {{ name: …, title: …, summary: …, file: {}{name} }}` under `families:`",
                    provider_dir.strip_prefix(&format!("{dir}/")).unwrap_or(&provider_dir)
                ),
            });
        }
    }
    if problems.is_empty() {
        Ok(texts)
    } else {
        Err(problems)
    }
}

/// Parses one family file, with the same YAML rules as a manifest.
pub fn parse_family_file(path: &str, text: &str) -> Result<manifest::FamilyFile, Diagnostics> {
    parse_yaml(path, text)
}

/// Where generated files go and what the generated crate is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Folder relative to the repository root, for example `generated`.
    pub output_root: String,
    /// Package name of the generated crate.
    pub crate_name: String,
}

impl Target {
    pub fn new(output_root: &str, crate_name: &str) -> Self {
        Target {
            output_root: output_root.trim_end_matches('/').to_string(),
            crate_name: crate_name.to_string(),
        }
    }
}

/// Every generated file for the manifests in `files`, sorted by path.
pub fn generate(files: &SpecFiles, target: &Target) -> Result<Vec<GeneratedFile>, Error> {
    let providers = load(files)?;
    emit::emit_all(&providers, target)
}

/// Generates from already-loaded providers.
pub fn emit(providers: &[Provider], target: &Target) -> Result<Vec<GeneratedFile>, Error> {
    emit::emit_all(providers, target)
}

/// JSON Schema of the manifest format, for editors (`# yaml-language-server: $schema=...`).
pub fn manifest_schema() -> String {
    schema_text(schemars::schema_for!(manifest::Manifest))
}

/// JSON Schema of a family file (`spec/<provider>/<family>.yaml`), for editors.
pub fn family_schema() -> String {
    schema_text(schemars::schema_for!(manifest::FamilyFile))
}

fn schema_text(schema: schemars::Schema) -> String {
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
