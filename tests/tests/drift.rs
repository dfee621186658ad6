//! `cargo test` fails when any generated file is stale, missing or extra, exactly as
//! `cargo xtask gen --check` does (both call `xtask::generate_all`). This test only reads.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[test]
fn generated_files_match_the_manifests() {
    let root = xtask::fs::repo_root();
    let outputs = match xtask::generate_all(&root) {
        Ok(Ok(outputs)) => outputs,
        Ok(Err(manifest_error)) => panic!("the manifests do not generate:\n{manifest_error}"),
        Err(io_error) => panic!("cannot read the repository: {io_error:#}"),
    };
    let drifts: Vec<_> = outputs.into_iter().flat_map(|o| o.drifts).collect();
    assert!(
        drifts.is_empty(),
        "{}",
        kosmo_codegen::drift::report(&drifts)
    );
}
