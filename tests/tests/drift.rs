//! `cargo test` fails when any generated file is stale, missing or extra, exactly as
//! `cargo xtask gen --check` does (both call `xtask::generate_all`). This test only reads.

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

#[test]
fn a_broken_readme_example_is_an_error() {
    let root = xtask::fs::repo_root();
    let spec = xtask::fs::read_tree(&root, "spec").unwrap();
    let providers = kosmo_codegen::load(&spec).unwrap();
    // The real README files pass...
    assert_eq!(
        xtask::check_readme_examples(&root, &providers).unwrap(),
        vec![]
    );
    // ...and the same check fails on a copy where one example lost its required parameter.
    let copy = tempfile::tempdir().unwrap();
    for path in xtask::README_FILES {
        let target = copy.path().join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(root.join(path), target).unwrap();
    }
    let readme = copy.path().join("README.md");
    let text = std::fs::read_to_string(&readme).unwrap()
        + "\n```sh\nkosmo integrations:call clerk.get_user --json\n```\n";
    std::fs::write(&readme, text).unwrap();
    let problems: Vec<String> = xtask::check_readme_examples(copy.path(), &providers)
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("README.md:")
            && problems[0]
                .ends_with("example calls `get_user` without its required parameter `id`"),
        "{problems:?}"
    );
}
