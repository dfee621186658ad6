//! The file-handling half of `cargo xtask`, shared with the workspace drift test so that
//! `cargo test` checks exactly what `cargo xtask gen --check` checks.

pub mod fs;
pub mod import;
mod site;

pub use site::{SITE_MARKER, build_site};

use std::path::Path;

use anyhow::Result;
use kosmo_codegen::GeneratedFile;
use kosmo_codegen::drift::Drift;

/// What `gen` compiles: each spec folder into its output folder and crate.
pub const JOBS: [(&str, &str, &str); 2] = [
    // The product: every manifest in spec/.
    ("spec", "generated", "kosmo-integrations"),
    // An imaginary provider that proves the generator is provider-neutral.
    (
        "codegen/tests/fixtures/spec",
        "tests/fixture-crate",
        "kosmo-fixture-integrations",
    ),
];

/// Hand-written pages whose examples must stay as true as the generated ones.
pub const README_FILES: [&str; 4] = [
    "README.md",
    "cli/README.md",
    "docs/mcp.md",
    "tests/emulator/README.md",
];

/// The folder of hand-written guides: every `*.md` directly in it is a page of the doc site
/// (`guides/<name>.html`). Each must also be in [`README_FILES`], so its examples are checked and
/// run like the READMEs' (a test holds the two lists together).
pub const GUIDE_DIR: &str = "docs";

/// The guide files, relative to `root` with `/` separators, sorted by name: the doc site's guides
/// in the order it lists them.
pub fn guide_files(root: &Path) -> Result<Vec<String>> {
    let dir = root.join(GUIDE_DIR);
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| anyhow::anyhow!("listing {GUIDE_DIR}: {e}"))? {
        let path = entry
            .map_err(|e| anyhow::anyhow!("listing {GUIDE_DIR}: {e}"))?
            .path();
        let is_markdown = path.extension().is_some_and(|e| e == "md");
        if is_markdown
            && path.is_file()
            && let Some(name) = path.file_name().and_then(|n| n.to_str())
        {
            files.push(format!("{GUIDE_DIR}/{name}"));
        }
    }
    files.sort();
    Ok(files)
}

/// The README files' examples, checked like the generated pages' (unknown functions, unknown or
/// missing parameters): a README that drifts from the manifest fails `cargo xtask gen` too.
pub fn check_readme_examples(
    root: &Path,
    providers: &[kosmo_codegen::Provider],
) -> Result<Vec<kosmo_codegen::Diagnostic>> {
    let mut problems = Vec::new();
    for path in README_FILES {
        let text = std::fs::read_to_string(root.join(path))
            .map_err(|e| anyhow::anyhow!("reading {path}: {e}"))?;
        problems.extend(kosmo_codegen::doc_examples::check_markdown(
            providers, path, &text,
        ));
    }
    Ok(problems)
}

/// One job's expected files and how the checked-in tree differs from them.
pub struct Output {
    pub root: &'static str,
    pub files: Vec<GeneratedFile>,
    pub drifts: Vec<Drift>,
}

/// Generates every job in memory and compares it with the files on disk. The inner `Err` is a
/// manifest problem (reported to the user), the outer one an I/O failure.
pub fn generate_all(root: &Path) -> Result<Result<Vec<Output>, kosmo_codegen::Error>> {
    let mut outputs = Vec::new();
    for (spec_dir, output_root, crate_name) in JOBS {
        let spec = fs::read_tree(root, spec_dir)?;
        let target = kosmo_codegen::Target::new(output_root, crate_name);
        let providers = match kosmo_codegen::load(&spec) {
            Ok(providers) => providers,
            Err(problems) => return Ok(Err(problems.into())),
        };
        let files = match kosmo_codegen::emit(&providers, &target) {
            Ok(files) => files,
            Err(error) => return Ok(Err(error)),
        };
        if spec_dir == "spec" {
            let problems = check_readme_examples(root, &providers)?;
            if !problems.is_empty() {
                return Ok(Err(kosmo_codegen::Diagnostics(problems).into()));
            }
        }
        let actual = fs::read_tree(root, output_root)?;
        let drifts = kosmo_codegen::drift::compare(&files, &actual);
        outputs.push(Output {
            root: output_root,
            files,
            drifts,
        });
    }
    Ok(Ok(outputs))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A guide on the site whose examples nobody checks or runs would rot unnoticed.
    #[test]
    fn every_guide_is_checked_like_a_readme() {
        let guides = guide_files(&fs::repo_root()).unwrap();
        assert!(!guides.is_empty(), "no guides in {GUIDE_DIR}/");
        for guide in &guides {
            assert!(
                README_FILES.contains(&guide.as_str()),
                "{guide} is on the doc site but not in README_FILES"
            );
        }
    }
}
