//! `cargo xtask import-openapi`: which files the importer's entries go to. The entries themselves
//! come from `kosmo_codegen::openapi::import`; this reads the spec folder and the document and
//! says what to write, so that a dry run and a real run print the same thing.

use std::path::Path;

use anyhow::{Context, Result};
use kosmo_codegen::openapi::{self, Document, Outcome, Request};

use crate::fs;

/// What an import would do.
#[derive(Debug, Default)]
pub struct Plan {
    /// One line per selected operation (`added ...`, `skipped ...`), notes indented below.
    pub report: Vec<String>,
    /// Family files to write, in the order they were first needed.
    pub writes: Vec<FamilyWrite>,
    /// Lines to add under the provider manifest's `families:`, with the manifest's path.
    pub declarations: Vec<(String, String)>,
}

/// One family file's new contents.
#[derive(Debug)]
pub struct FamilyWrite {
    /// Relative to the repository root.
    pub path: String,
    pub contents: String,
    /// The entries appended to it.
    pub appended: String,
    /// The file does not exist yet.
    pub created: bool,
}

/// Plans the import of `request`'s operations from the document at `document_path` into the
/// manifests under `<root>/spec`, for `provider` (needed when there are several).
pub fn plan(
    root: &Path,
    document_path: &Path,
    request: &Request,
    provider: Option<&str>,
) -> Result<Plan> {
    let spec = fs::read_tree(root, "spec")?;
    let providers = kosmo_codegen::load(&spec).map_err(|d| anyhow::anyhow!("{d}"))?;
    let provider = match provider {
        Some(name) => providers
            .iter()
            .find(|p| p.name == name)
            .with_context(|| format!("no manifest in spec/ names the provider `{name}`"))?,
        None => match providers.as_slice() {
            [only] => only,
            _ => anyhow::bail!("several manifests; choose one with --provider NAME"),
        },
    };
    let text = std::fs::read_to_string(document_path)
        .with_context(|| format!("reading {}", document_path.display()))?;
    let document = Document::parse(&text)
        .map_err(|e| anyhow::anyhow!("{} is not valid YAML/JSON: {e}", document_path.display()))?;

    // Family files the loader does not read yet still hold functions that exist.
    let family_dir = openapi::family_file_path(provider, "");
    let family_dir = family_dir.trim_end_matches(".yaml");
    let mut pending = Vec::new();
    for (path, text) in &spec {
        let in_family_dir = path
            .strip_prefix(family_dir)
            .is_some_and(|name| name.ends_with(".yaml") && !name.contains('/'));
        if in_family_dir {
            pending.extend(openapi::pending_functions(path, text)?);
        }
    }
    let outcomes = openapi::import(&document, provider, &pending, request)?;

    let manifest_text = spec.get(&provider.manifest_path).map_or("", String::as_str);
    let declared = openapi::declared_families(&provider.manifest_path, manifest_text)?;
    let mut plan = Plan::default();
    let mut items: Vec<(String, Vec<String>)> = Vec::new();
    for outcome in &outcomes {
        match outcome {
            Outcome::Added(added) => {
                let path = openapi::family_file_path(provider, &added.family.name);
                plan.report.push(format!(
                    "added {} ({} {}) to {path}",
                    added.name, added.method, added.path
                ));
                plan.report
                    .extend(added.notes.iter().map(|note| format!("  note: {note}")));
                match items.iter_mut().find(|(p, _)| *p == path) {
                    Some((_, list)) => list.push(added.yaml()),
                    None => items.push((path, vec![added.yaml()])),
                }
                let declaration = added.family.declaration(&provider.name);
                let undeclared = !declared.contains(&added.family.name)
                    && !plan.declarations.iter().any(|(_, d)| *d == declaration);
                if undeclared {
                    plan.declarations
                        .push((provider.manifest_path.clone(), declaration));
                }
            }
            Outcome::Existing(existing) => {
                let place = existing
                    .file
                    .as_deref()
                    .map_or("the manifest".to_string(), str::to_string);
                let differences = match &existing.differences {
                    None => "not compared: the loader does not read family files yet".to_string(),
                    Some(found) if found.is_empty() => "no differences".to_string(),
                    Some(found) => found.join("; "),
                };
                plan.report.push(format!(
                    "skipped {}: already in {place} as {} — {differences}",
                    existing.name, existing.existing
                ));
            }
            Outcome::Unsupported(unsupported) => plan.report.push(format!(
                "skipped {} ({} {}): {}",
                unsupported.operation_id, unsupported.method, unsupported.path, unsupported.reason
            )),
        }
    }
    for (path, entries) in items {
        let existing = spec.get(&path).map(String::as_str);
        plan.writes.push(FamilyWrite {
            contents: openapi::append_to_family_file(existing, &entries),
            appended: entries.concat(),
            created: existing.is_none(),
            path,
        });
    }
    Ok(plan)
}
