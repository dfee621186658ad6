//! The manifests are the only place that knows a provider: no hand-written crate names one.
//! For every manifest in spec/, its provider's name and label must not appear in the sources of
//! the runtime, the host, the CLI or the generator. (The fixture provider `acme` is the
//! placeholder name examples and unit tests use, as `example.com` is for domains.)

use std::path::{Path, PathBuf};

/// Hand-written source folders, relative to the repository root.
const HAND_WRITTEN: [&str; 6] = [
    "runtime/src",
    "runtime/host/src",
    "runtime/gateway/src",
    "runtime/mcp/src",
    "cli/src",
    "codegen/src",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn no_hand_written_source_names_a_provider() {
    let mut names = Vec::new();
    let spec = xtask::fs::read_tree(&root(), "spec").unwrap();
    for provider in kosmo_codegen::load(&spec).unwrap() {
        names.push(provider.name.to_lowercase());
        names.push(provider.label.to_lowercase());
    }
    assert!(names.contains(&"clerk".to_string()), "{names:?}");
    let mut files = Vec::new();
    for dir in HAND_WRITTEN {
        files_under(&root().join(dir), &mut files);
    }
    assert!(files.len() > 20, "found only {} files", files.len());
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap().to_lowercase();
        for name in &names {
            if text.contains(name.as_str()) {
                found.push(format!("{} names `{name}`", file.display()));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
