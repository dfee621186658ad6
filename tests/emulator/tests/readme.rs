//! The README's table of operations is the emulator's: the test computes the table from Clerk's
//! spec and the stateful routes and compares it with the README's block between the markers.
//! When they differ it fails and prints the block to paste; it writes no file. Skipped without
//! the spec, unless `REQUIRE_OPENAPI` is set.

use crate::common;

use clerk_emulator::{Mode, Operation};
use common::load_spec;

const BEGIN: &str = "<!-- operations:begin -->";
const END: &str = "<!-- operations:end -->";

/// The block between the markers: the counts, then one row per operation in the spec's order.
/// Method and path identify an operation; nothing else of the spec is copied.
fn operations_block(operations: &[Operation]) -> String {
    let stateful = operations
        .iter()
        .filter(|o| o.mode == Mode::Stateful)
        .count();
    let deprecated = operations.iter().filter(|o| o.deprecated).count();
    let mut block = format!(
        "{} operations ({deprecated} deprecated): {stateful} stateful, {} mocked.\n\n",
        operations.len(),
        operations.len() - stateful,
    );
    block.push_str("| Method | Path | Mode | |\n|---|---|---|---|\n");
    for operation in operations {
        let note = match (operation.deprecated, operation.operation_id.is_none()) {
            (_, true) => "not in the spec",
            (true, false) => "deprecated",
            (false, false) => "",
        };
        block.push_str(&format!(
            "| {} | `{}` | {} | {note} |\n",
            operation.method,
            operation.path,
            operation.mode.as_str()
        ));
    }
    block
}

#[test]
fn the_readme_table_of_operations_is_the_emulators() {
    let Some(spec) = load_spec() else {
        return;
    };
    let expected = operations_block(&clerk_emulator::operations(&spec));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let found = readme
        .split_once(BEGIN)
        .and_then(|(_, rest)| rest.split_once(END))
        .map(|(block, _)| block.trim_start_matches('\n'));
    assert!(
        found == Some(expected.as_str()),
        "{} does not list the operations as the emulator serves them. Put this between \
         `{BEGIN}` and `{END}`:\n\n{BEGIN}\n{expected}{END}\n",
        path.display()
    );
}
