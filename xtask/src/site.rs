//! `cargo xtask site`: the static doc site, rendered from the product's docs in memory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use kosmo_codegen::site::Guide;

use crate::fs;

/// Marks a folder as built by [`build_site`], so that a rebuild may replace it.
pub const SITE_MARKER: &str = ".kosmo-site";

/// The spec folder, output root and crate of the product (not the test fixture).
const PRODUCT_JOB: (&str, &str, &str) = crate::JOBS[0];

/// The hand-written guides ([`crate::guide_files`]), read and titled for the site.
fn guides(root: &Path) -> Result<Vec<Guide>> {
    crate::guide_files(root)?
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(root.join(&path))
                .with_context(|| format!("reading {path}"))?;
            Ok(Guide::from_markdown(&path, text)?)
        })
        .collect()
}

/// Generates the docs from `root/spec` in memory, renders the site and writes it to `out`,
/// replacing whatever was there. Returns the path of the site's `index.html`.
pub fn build_site(root: &Path, out: &Path) -> Result<PathBuf> {
    let (spec_dir, output_root, crate_name) = PRODUCT_JOB;
    let spec = fs::read_tree(root, spec_dir)?;
    let providers = kosmo_codegen::load(&spec).map_err(|problems| anyhow::anyhow!("{problems}"))?;
    let target = kosmo_codegen::Target::new(output_root, crate_name);
    let generated = kosmo_codegen::emit(&providers, &target)?;
    let docs: Vec<_> = generated
        .into_iter()
        .filter(|file| file.path.ends_with(".md"))
        .collect();
    let site = kosmo_codegen::site::render(&providers, &docs, &guides(root)?)?;
    // A stale page from an earlier build (a removed function) must not survive, but only a
    // folder this command built (it carries the marker) or an empty one is ever replaced:
    // `--out` pointing at the wrong folder must not delete it.
    if out.exists() {
        let empty = std::fs::read_dir(out)
            .with_context(|| format!("reading {}", out.display()))?
            .next()
            .is_none();
        if !empty && !out.join(SITE_MARKER).is_file() {
            anyhow::bail!(
                "refusing to replace {}: it is not empty and was not built by `cargo xtask site` (no {SITE_MARKER} file); choose a new or empty folder",
                out.display()
            );
        }
        std::fs::remove_dir_all(out).with_context(|| format!("removing {}", out.display()))?;
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    std::fs::write(
        out.join(SITE_MARKER),
        "Built by `cargo xtask site`; the whole folder is replaced on the next build.\n",
    )
    .with_context(|| format!("writing {}", out.join(SITE_MARKER).display()))?;
    for file in &site {
        let path = out.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, &file.contents)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(out.join("index.html"))
}
