//! Each crate's test files are modules of one binary (`autotests = false`), so a file that its
//! `main.rs` does not declare would never compile or run. This test finds any such file.

use std::collections::BTreeSet;
use std::path::Path;

/// The `.rs` files directly in `dir` that are not `main.rs`, without the extension.
fn test_files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .filter_map(|path| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|stem| stem != "main")
        .collect()
}

/// The modules `main.rs` declares with `mod name;`.
fn declared_modules(main: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(main)
        .unwrap()
        .lines()
        .filter_map(|line| line.trim().strip_prefix("mod "))
        .filter_map(|rest| rest.strip_suffix(';'))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_test_file_is_declared_by_its_binary() {
    let root = xtask::fs::repo_root();
    // The files with a `[[test]]` target of their own, which main.rs must not declare.
    let own_binaries = BTreeSet::from(["soak".to_string()]);
    for dir in ["tests/tests", "tests/emulator/tests", "cli/tests"] {
        let dir = root.join(dir);
        let files = test_files(&dir);
        let declared = declared_modules(&dir.join("main.rs"));
        let undeclared: Vec<_> = files
            .iter()
            .filter(|f| !declared.contains(*f) && !own_binaries.contains(*f))
            .collect();
        assert!(
            undeclared.is_empty(),
            "{}: add `mod <name>;` to main.rs for {undeclared:?}, or they never run",
            dir.display()
        );
        let missing: Vec<_> = declared
            .iter()
            .filter(|m| !files.contains(*m) && !dir.join(m.as_str()).join("mod.rs").exists())
            .collect();
        assert!(
            missing.is_empty(),
            "{}: main.rs declares {missing:?}",
            dir.display()
        );
    }
    // The soak is a target of its own in tests/Cargo.toml, not a forgotten file.
    let manifest = std::fs::read_to_string(root.join("tests/Cargo.toml")).unwrap();
    assert!(manifest.contains("path = \"tests/soak.rs\""));
}
