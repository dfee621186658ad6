//! The operations the Clerk manifest leaves out are listed, with the same reasons, in
//! spec/README.md: the table there cannot drift from `excluded_operations`.

#[test]
fn spec_readme_lists_exactly_the_excluded_operations_with_their_reasons() {
    let root = xtask::fs::repo_root();
    let spec = xtask::fs::read_tree(&root, "spec").unwrap();
    let providers = kosmo_codegen::load(&spec).unwrap();
    let clerk = providers.iter().find(|p| p.name == "clerk").unwrap();
    let excluded = clerk
        .excluded_operations
        .as_ref()
        .expect("the Clerk manifest claims coverage of the whole document");
    let expected: Vec<String> = excluded
        .iter()
        .map(|(operation, reason)| format!("| `{operation}` | {reason} |"))
        .collect();
    let readme = &spec["spec/README.md"];
    let section = readme
        .split("\n## Operations left out\n")
        .nth(1)
        .expect("spec/README.md has an `Operations left out` section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let rows: Vec<String> = section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(str::to_string)
        .collect();
    assert_eq!(
        rows,
        expected,
        "spec/README.md's table of left-out operations differs from excluded_operations; it should read:\n{}",
        expected.join("\n")
    );
    assert!(excluded.len() >= 15, "{} exclusions", excluded.len());
}
