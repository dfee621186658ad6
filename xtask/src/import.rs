//! `cargo xtask import-openapi`: which files the importer's entries go to. The entries themselves
//! come from `kosmo_codegen::openapi::import`; this reads the spec folder and the document and
//! says what to write, so that a dry run and a real run print the same thing.

use std::path::Path;

use anyhow::{Context, Result};
use kosmo_codegen::openapi::{self, Document, ManifestChange, Outcome, Request};

use crate::fs;

/// What an import would do.
#[derive(Debug, Default)]
pub struct Plan {
    /// One line per selected operation (`added ...`, `skipped ...`), notes indented below.
    pub report: Vec<String>,
    /// Family files to write, in the order they were first needed.
    pub writes: Vec<FamilyWrite>,
    /// What the provider manifest needs before the loader reads the family files written.
    pub changes: Vec<ManifestChange>,
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

    let outcomes = openapi::import(&document, provider, request)?;

    let manifest_text = spec.get(&provider.manifest_path).map_or("", String::as_str);
    let manifest = kosmo_codegen::parse_manifest(&provider.manifest_path, manifest_text)
        .map_err(|d| anyhow::anyhow!("{d}"))?;
    let mut plan = Plan::default();
    let mut items: Vec<(String, &openapi::Family, Vec<String>)> = Vec::new();
    for outcome in &outcomes {
        match outcome {
            Outcome::Added(added) => {
                let target =
                    openapi::family_target(&provider.manifest_path, &manifest, &added.family);
                plan.report.push(format!(
                    "added {} ({} {}) to {}",
                    added.name, added.method, added.path, target.file
                ));
                plan.report
                    .extend(added.notes.iter().map(|note| format!("  note: {note}")));
                match items.iter_mut().find(|(p, _, _)| *p == target.file) {
                    Some((_, _, list)) => list.push(added.yaml()),
                    None => items.push((target.file, &added.family, vec![added.yaml()])),
                }
                if let Some(change) = target.change
                    && !plan.changes.contains(&change)
                {
                    plan.changes.push(change);
                }
            }
            Outcome::Existing(existing) => {
                let differences = match existing.differences.as_slice() {
                    [] => "no differences".to_string(),
                    found => found.join("; "),
                };
                let also = match existing.also.as_slice() {
                    [] => String::new(),
                    others => format!(" (also {})", others.join(", ")),
                };
                plan.report.push(format!(
                    "skipped {}: already in the manifest as {}{also} — {differences}",
                    existing.name, existing.existing
                ));
            }
            Outcome::Unsupported(unsupported) => plan.report.push(format!(
                "skipped {} ({} {}): {}",
                unsupported.operation_id, unsupported.method, unsupported.path, unsupported.reason
            )),
        }
    }
    for (path, family, entries) in items {
        let existing = spec.get(&path);
        let start = existing.map_or_else(
            || openapi::new_family_file(&provider.manifest_path, family),
            String::clone,
        );
        plan.writes.push(FamilyWrite {
            contents: openapi::append_to_family_file(&start, &entries),
            appended: entries.concat(),
            created: existing.is_none(),
            path,
        });
    }
    Ok(plan)
}
