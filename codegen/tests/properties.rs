//! Property tests of the manifest loader: it never panics, every error it reports carries a
//! `file:line:column` that exists, and a valid manifest round-trips (the same manifest written
//! as YAML or as JSON, in any layout, generates byte-identical output).
//!
//! Each property runs `PROPTEST_CASES` cases (256 unless set, 64 for the round trip, which
//! generates everything each case; CI uses the defaults). A failure prints the minimal input
//! and the seed (`cc …`), and proptest saves it under `proptest-regressions/`, which is
//! committed so the case runs first from then on.
//! `PROPTEST_CASES=10000 cargo test -p kosmo-codegen --test properties` runs many more.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeMap;
use std::path::Path;

use kosmo_codegen::{Diagnostics, GeneratedFile, SpecFiles, Target};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence, RngSeed};
use serde_json::Value;

const MANIFEST: &str = "spec/acme.yaml";
const GUIDE: &str = "spec/guides/start.md";

/// `PROPTEST_CASES`, else `default`: bounded in CI, as many as wanted locally.
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        // Fixed unless PROPTEST_RNG_SEED names another: a run is repeatable, and other inputs
        // are explored on purpose.
        rng_seed: if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
            ProptestConfig::default().rng_seed
        } else {
            RngSeed::Fixed(20_261_130)
        },
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

fn fixture_text(name: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec");
    std::fs::read_to_string(dir.join(name)).unwrap()
}

fn files(manifest: String) -> SpecFiles {
    BTreeMap::from([
        (MANIFEST.to_string(), manifest),
        (GUIDE.to_string(), fixture_text("guides/start.md")),
    ])
}

/// Lines and columns are 1-based: every diagnostic points into a file that was given, at a
/// line that file has.
fn assert_located(files: &SpecFiles, diagnostics: &Diagnostics) -> Result<(), TestCaseError> {
    prop_assert!(!diagnostics.0.is_empty(), "an error without diagnostics");
    for d in &diagnostics.0 {
        let text = files.get(&d.file);
        prop_assert!(text.is_some(), "{} names a file that was not given", d);
        let lines = text.unwrap().split('\n').count() as u64;
        prop_assert!(
            d.line >= 1 && d.column >= 1 && d.line <= lines,
            "{} has no real location (the file has {} lines)",
            d,
            lines
        );
        prop_assert!(!d.message.trim().is_empty(), "{} has no message", d);
        let shown = d.to_string();
        let location = format!("{}:{}:{}: ", d.file, d.line, d.column);
        prop_assert!(shown.starts_with(&location), "{}", shown);
    }
    Ok(())
}

/// YAML's syntax characters, whitespace, and any character at all.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[-:{}\\[\\],'\"|>#&*!%@`?\n\t a-z0-9]{0,6}",
        1 => Just("\n  - ".to_string()),
        1 => Just(": ".to_string()),
        1 => Just("\u{FEFF}".to_string()),
        1 => Just("\r\n".to_string()),
        1 => any::<String>(),
    ]
}

/// An edit of the text: delete a range, insert a fragment, or both (a replacement).
#[derive(Debug, Clone)]
struct Edit {
    at: prop::sample::Index,
    delete: usize,
    insert: String,
}

fn edit() -> impl Strategy<Value = Edit> {
    (any::<prop::sample::Index>(), 0..12usize, fragment()).prop_map(|(at, delete, insert)| Edit {
        at,
        delete,
        insert,
    })
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut text = text.to_string();
    for edit in edits {
        let mut start = edit.at.index(text.len() + 1);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + edit.delete).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        text.replace_range(start..end, &edit.insert);
    }
    text
}

proptest! {
    #![proptest_config(config(256))]

    /// The valid fixture with random edits: the loader returns, never panics, and each problem
    /// it reports has a real `file:line:column`.
    #[test]
    fn an_edited_manifest_never_panics_and_every_error_is_located(
        edits in prop::collection::vec(edit(), 1..4)
    ) {
        let files = files(apply(&fixture_text("acme.yaml"), &edits));
        if let Err(diagnostics) = kosmo_codegen::load(&files) {
            assert_located(&files, &diagnostics)?;
        }
    }

    /// Any text at all as a manifest.
    #[test]
    fn any_text_never_panics_and_every_error_is_located(
        text in prop_oneof![fragment(), any::<String>(), "[-:{}\\[\\] a-z\n]{0,80}"]
    ) {
        let files = files(text);
        if let Err(diagnostics) = kosmo_codegen::load(&files) {
            assert_located(&files, &diagnostics)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Round trip

fn generate(files: &SpecFiles) -> Vec<GeneratedFile> {
    match kosmo_codegen::generate(files, &Target::new("out", "acme-out")) {
        Ok(generated) => generated,
        Err(error) => panic!("a valid manifest was refused:\n{error}"),
    }
}

/// The manifest as data, read the way the loader reads it (YAML 1.2 booleans).
fn manifest_value(text: &str) -> Value {
    let options = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::from_str_with_options(text, options).unwrap()
}

/// How the same data is written out again.
#[derive(Debug, Clone, Copy)]
enum Layout {
    Yaml,
    JsonCompact,
    JsonIndented(usize),
}

fn write(value: &Value, layout: Layout) -> String {
    match layout {
        Layout::Yaml => serde_saphyr::to_string(value).unwrap(),
        Layout::JsonCompact => serde_json::to_string(value).unwrap(),
        Layout::JsonIndented(width) => {
            let indent = " ".repeat(width);
            let formatter = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
            let mut out = Vec::new();
            let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
            serde::Serialize::serialize(value, &mut serializer).unwrap();
            String::from_utf8(out).unwrap()
        }
    }
}

fn layout() -> impl Strategy<Value = Layout> {
    prop_oneof![
        Just(Layout::Yaml),
        Just(Layout::JsonCompact),
        (1..8usize).prop_map(Layout::JsonIndented),
    ]
}

/// Free text as descriptions hold it: words, punctuation, non-ASCII, several lines.
fn prose() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9 ,.;:'()?!/é中-]{0,60}(\n[A-Za-z0-9 ,.é中-]{0,30}){0,2}"
        .prop_map(|s| s.trim_end().to_string())
}

proptest! {
    #![proptest_config(config(64))]

    /// The valid fixture, its descriptions replaced by any prose, written out as YAML or JSON
    /// in any layout: it loads, and every layout generates exactly the same files.
    #[test]
    fn a_valid_manifest_round_trips(
        descriptions in prop::collection::vec(prose(), 16),
        first in layout(),
        second in layout(),
    ) {
        let mut value = manifest_value(&fixture_text("acme.yaml"));
        let functions = value["functions"].as_array_mut().unwrap();
        for (function, description) in functions.iter_mut().zip(&descriptions) {
            function["description"] = Value::String(description.clone());
        }
        let one = generate(&files(write(&value, first)));
        let two = generate(&files(write(&value, second)));
        prop_assert!(one == two, "{:?} and {:?} generate different files", first, second);
    }
}

/// The fixture as written and the fixture read and written out again generate the same files.
#[test]
fn the_fixture_round_trips() {
    let text = fixture_text("acme.yaml");
    let original = generate(&files(text.clone()));
    for layout in [Layout::Yaml, Layout::JsonCompact, Layout::JsonIndented(2)] {
        let again = generate(&files(write(&manifest_value(&text), layout)));
        assert!(original == again, "{layout:?} generates different files");
    }
}
