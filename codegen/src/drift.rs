//! Comparing what the generator would write with what is checked in.

use std::collections::BTreeMap;

use similar::TextDiff;

use crate::GeneratedFile;

/// How a checked-in file differs from what `cargo xtask gen` would write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// The file exists but its contents are stale; `diff` is a unified diff (checked in → expected).
    Stale { path: String, diff: String },
    /// The generator would write this file but it is not checked in.
    Missing { path: String },
    /// A file under the generated folder that the generator would not write.
    Extra { path: String },
}

/// Compares `expected` output with `actual` files (path → contents) found under the generated
/// folder. Empty means up to date.
pub fn compare(expected: &[GeneratedFile], actual: &BTreeMap<String, String>) -> Vec<Drift> {
    let mut drifts = Vec::new();
    for file in expected {
        match actual.get(&file.path) {
            None => drifts.push(Drift::Missing {
                path: file.path.clone(),
            }),
            Some(current) if current != &file.contents => {
                let diff = TextDiff::from_lines(current.as_str(), file.contents.as_str())
                    .unified_diff()
                    .context_radius(2)
                    .header(
                        &format!("{} (checked in)", file.path),
                        &format!("{} (expected)", file.path),
                    )
                    .to_string();
                drifts.push(Drift::Stale {
                    path: file.path.clone(),
                    diff,
                });
            }
            Some(_) => {}
        }
    }
    for path in actual.keys() {
        if !expected.iter().any(|f| &f.path == path) {
            drifts.push(Drift::Extra { path: path.clone() });
        }
    }
    drifts
}

/// A readable report of `drifts` ending with the command that fixes them.
pub fn report(drifts: &[Drift]) -> String {
    let mut out = String::new();
    for drift in drifts {
        match drift {
            Drift::Stale { path, diff } => {
                out.push_str(&format!("stale: {path}\n{diff}\n"));
            }
            Drift::Missing { path } => out.push_str(&format!("missing: {path}\n")),
            Drift::Extra { path } => out.push_str(&format!(
                "extra: {path} (not produced by any manifest; `cargo xtask gen` deletes it)\n"
            )),
        }
    }
    out.push_str(&format!(
        "\n{} generated file(s) out of date. Run `cargo xtask gen` and commit the result.\n",
        drifts.len()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, contents: &str) -> GeneratedFile {
        GeneratedFile {
            path: path.into(),
            contents: contents.into(),
        }
    }

    #[test]
    fn reports_stale_missing_and_extra_files() {
        let expected = [file("g/a.md", "one\ntwo\n"), file("g/b.md", "b\n")];
        let actual: BTreeMap<String, String> = [("g/a.md", "one\nTWO\n"), ("g/c.md", "c\n")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let drifts = compare(&expected, &actual);
        assert_eq!(drifts.len(), 3);
        let text = report(&drifts);
        assert!(text.contains("stale: g/a.md"), "{text}");
        assert!(text.contains("-TWO\n+two"), "{text}");
        assert!(text.contains("missing: g/b.md"), "{text}");
        assert!(text.contains("extra: g/c.md"), "{text}");
        assert!(text.contains("Run `cargo xtask gen`"), "{text}");
    }

    #[test]
    fn identical_trees_have_no_drift() {
        let expected = [file("g/a.md", "same\n")];
        let actual = BTreeMap::from([("g/a.md".to_string(), "same\n".to_string())]);
        assert!(compare(&expected, &actual).is_empty());
    }
}
