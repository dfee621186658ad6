//! The only file access in the generator pipeline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use kosmo_codegen::GeneratedFile;
use kosmo_codegen::drift::Drift;

/// The workspace root (the parent of the xtask crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Every file under `dir`, keyed by its path relative to `root` with `/` separators.
pub fn read_tree(root: &Path, dir: &str) -> Result<BTreeMap<String, String>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![root.join(dir)];
    while let Some(current) = pending.pop() {
        if !current.exists() {
            continue;
        }
        for entry in
            std::fs::read_dir(&current).with_context(|| format!("listing {}", current.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(root)
                .with_context(|| format!("{} is outside the repository", path.display()))?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            files.insert(relative, text);
        }
    }
    Ok(files)
}

/// Writes stale and missing files and deletes extra ones.
pub fn apply(root: &Path, files: &[GeneratedFile], drifts: &[Drift]) -> Result<()> {
    for drift in drifts {
        match drift {
            Drift::Stale { path, .. } | Drift::Missing { path } => {
                let Some(file) = files.iter().find(|f| &f.path == path) else {
                    continue;
                };
                write_file(root, path, &file.contents)?;
            }
            Drift::Extra { path } => {
                std::fs::remove_file(root.join(path))
                    .with_context(|| format!("removing {path}"))?;
            }
        }
    }
    Ok(())
}

/// Writes one file at `path` relative to `root`, creating its folder.
pub fn write_file(root: &Path, path: &str, contents: &str) -> Result<()> {
    let target = root.join(path);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(&target, contents).with_context(|| format!("writing {path}"))
}
