//! Every example in the docs runs. Each ```` ```lua ```` block and each `kosmo …` line of every
//! generated page (`generated/docs/`) and README is run, unchanged and with writes forced,
//! through the real `kosmo` binary against the emulator, and must succeed.
//!
//! Examples are found exactly as the generator's static check finds them
//! (`kosmo_codegen::doc_examples`). Each starts from a freshly reset emulator holding the
//! fixture: the objects whose IDs the generated samples name (`user_2abc123`, ...), created
//! the normal way with their IDs pinned, so an example may delete or revoke what it likes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clerk_emulator::{Config, Emulator};
use kosmo_codegen::doc_examples::{Example, examples};
use serde_json::Value;

/// IDs the generated samples use, pinned in this order while [`FIXTURE`] creates them.
const FIXTURE_IDS: [&str; 7] = [
    "user_2abc123",
    "user_2def456",
    "org_2abc123",
    "sess_2abc123",
    "orginv_2abc123",
    "inv_2abc123",
    "sit_2abc123",
];

/// Creates one object per [`FIXTURE_IDS`] entry, in the same order: two users (the first an
/// admin of the organization, the second in no organization, so it can be added), an
/// organization, an active session, a pending organization invitation, a pending application
/// invitation and a pending sign-in token.
const FIXTURE: &str = r#"
local clerk = app.integrations.clerk
local admin = clerk.create_user({ email_address = { "fixture-admin@example.test" }, first_name = "Ada" })
clerk.create_user({ email_address = { "fixture-member@example.test" }, first_name = "Grace" })
local org = clerk.create_organization({ name = "Fixture Org", created_by = admin.id })
clerk.api_post({ path = "/sessions", body = { user_id = admin.id } })
clerk.create_organization_invitation({
  organization_id = org.id, email_address = "fixture-invitee@example.test", role = "org:member",
})
clerk.create_invitation({ email_address = "fixture-app-invitee@example.test", notify = false })
clerk.create_sign_token({ user_id = admin.id })
"#;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A docs page: its path relative to the repository root and whether it is generated (where
/// every shell line must be a `kosmo` command we can run).
struct Page {
    path: String,
    text: String,
    generated: bool,
}

fn pages() -> Vec<Page> {
    let root = repo_root();
    let mut pages = Vec::new();
    let mut dirs = vec![root.join("generated/docs")];
    while let Some(dir) = dirs.pop() {
        for item in std::fs::read_dir(&dir).unwrap() {
            let path = item.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                pages.push(Page {
                    path: path.strip_prefix(&root).unwrap().display().to_string(),
                    text: std::fs::read_to_string(&path).unwrap(),
                    generated: true,
                });
            }
        }
    }
    for path in xtask::README_FILES {
        pages.push(Page {
            path: path.to_string(),
            text: std::fs::read_to_string(root.join(path)).unwrap(),
            generated: false,
        });
    }
    pages.sort_by(|a, b| a.path.cmp(&b.path));
    pages
}

/// What one example needs to run: what to execute and the files its page provides.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Run {
    Lua(String),
    Command(Vec<String>),
}

struct Runnable {
    /// `path:line` of the first place the example appears.
    at: String,
    text: String,
    run: Run,
    files: Vec<(String, String)>,
}

/// The runnable examples of `pages`, each once (the namespace reference repeats the function
/// pages' examples), plus the problems found while collecting them.
fn collect(pages: &[Page]) -> (Vec<Runnable>, Vec<String>) {
    let mut seen = BTreeSet::new();
    let mut runnables = Vec::new();
    let mut problems = Vec::new();
    for page in pages {
        let found = examples(&page.text);
        let files: Vec<(String, String)> = found
            .iter()
            .filter_map(|e| match e {
                Example::LuaFile { name, code, .. } => Some((name.clone(), code.clone())),
                _ => None,
            })
            .collect();
        for example in found {
            let at = format!("{}:{}", page.path, example.line());
            let (run, text) = match example {
                Example::Lua { code, .. } => (Run::Lua(code.clone()), code),
                Example::LuaFile { .. } => continue,
                Example::BrokenCommand { text, reason, .. } => {
                    problems.push(format!("{at}: cannot split `{text}`: {reason}"));
                    continue;
                }
                Example::Command { text, words, .. } => {
                    if words.first().map(String::as_str) != Some("kosmo") {
                        if page.generated {
                            problems.push(format!(
                                "{at}: generated docs may only show `kosmo` commands, not `{text}`"
                            ));
                        }
                        // READMEs also show cargo, export and the like: not ours to run.
                        continue;
                    }
                    (Run::Command(words), text)
                }
            };
            if seen.insert((run.clone(), files.clone())) {
                runnables.push(Runnable {
                    at,
                    text,
                    run,
                    files: files.clone(),
                });
            }
        }
    }
    (runnables, problems)
}

fn kosmo(emulator: &Emulator, home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kosmo"));
    command
        .env_clear()
        .env("HOME", home)
        .env("KOSMO_HOME", home.join(".kosmo"))
        .env("CLERK_SECRET_KEY", emulator.secret_key())
        .env("CLERK_API_URL", emulator.base_url())
        .current_dir(home)
        .stdin(Stdio::null());
    command
}

fn run_lua(emulator: &Emulator, home: &Path, code: &str) -> std::process::Output {
    let mut child = kosmo(emulator, home)
        .args(["integrations:lua", "--force", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(code.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Why an example's run failed, or None when it succeeded.
fn failure(output: &std::process::Output) -> Option<String> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let envelope_failed = serde_json::from_str::<Value>(&stdout)
        .ok()
        .and_then(|v| v.get("success").and_then(Value::as_bool))
        == Some(false);
    if output.status.success() && !envelope_failed {
        return None;
    }
    Some(format!(
        "exit {:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status.code()
    ))
}

/// Runs each example from a fresh fixture; returns one message per failure.
fn run_all(emulator: &Emulator, runnables: &[Runnable]) -> Vec<String> {
    let mut failures = Vec::new();
    for runnable in runnables {
        let home = tempfile::tempdir().unwrap();
        emulator.reset();
        emulator.pin_ids(&FIXTURE_IDS).unwrap();
        let setup = run_lua(emulator, home.path(), FIXTURE);
        if let Some(why) = failure(&setup) {
            panic!("the fixture does not build: {why}");
        }
        for (name, code) in &runnable.files {
            std::fs::write(home.path().join(name), code).unwrap();
        }
        let output = match &runnable.run {
            Run::Lua(code) => run_lua(emulator, home.path(), code),
            Run::Command(words) => kosmo(emulator, home.path())
                .args(&words[1..])
                .output()
                .unwrap(),
        };
        if let Some(why) = failure(&output) {
            failures.push(format!(
                "{}: example failed\n--- example\n{}\n{why}",
                runnable.at,
                runnable.text.trim_end()
            ));
        }
    }
    failures
}

fn emulator() -> Emulator {
    Emulator::spawn(Config::default()).unwrap()
}

#[test]
fn every_example_in_the_docs_runs() {
    let pages = pages();
    let (runnables, mut problems) = collect(&pages);
    // Not vacuous: every function page contributes its Lua sample and three commands.
    let functions = kosmo_integrations::clerk::meta::PROVIDER.functions.len();
    assert!(
        runnables.len() > functions * 4,
        "only {} examples found",
        runnables.len()
    );
    let emulator = emulator();
    problems.extend(run_all(&emulator, &runnables));
    assert!(
        problems.is_empty(),
        "{} of {} examples failed (the fixture provides {:?}):\n\n{}",
        problems.len(),
        runnables.len(),
        FIXTURE_IDS,
        problems.join("\n\n")
    );
    eprintln!(
        "ran {} examples from {} pages",
        runnables.len(),
        pages.len()
    );
}

#[test]
fn a_failing_example_is_reported_with_its_place() {
    let page = Page {
        path: "broken.md".into(),
        text: [
            "Intro.",
            "",
            "```lua",
            "local user = app.integrations.clerk.get_user({ id = \"user_not_in_the_fixture\" })",
            "```",
            "",
            "```sh",
            "kosmo integrations:call clerk.get_user '{\"id\":\"user_2abc123\"}' --json",
            "kosmo integrations:call clerk.nope --json",
            "cargo build",
            "```",
        ]
        .join("\n"),
        generated: true,
    };
    let (runnables, problems) = collect(std::slice::from_ref(&page));
    assert_eq!(
        problems,
        vec!["broken.md:10: generated docs may only show `kosmo` commands, not `cargo build`"]
    );
    assert_eq!(runnables.len(), 3);
    let failures = run_all(&emulator(), &runnables);
    assert_eq!(failures.len(), 2, "{failures:#?}");
    assert!(failures[0].starts_with("broken.md:4: example failed"));
    assert!(
        failures[0].contains("Clerk API error (404)"),
        "{}",
        failures[0]
    );
    assert!(failures[1].starts_with("broken.md:9: example failed"));
    assert!(failures[1].contains("Unknown function"), "{}", failures[1]);
}
