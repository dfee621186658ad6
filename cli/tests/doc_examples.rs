//! Every example in the docs runs. Each ```` ```lua ```` block and each `kosmo …` line of every
//! generated page (`generated/docs/`) and README is run, unchanged and with writes forced,
//! through the real `kosmo` binary against the emulator, and must succeed.
//!
//! Examples are found exactly as the generator's static check finds them
//! (`kosmo_codegen::doc_examples`). Each starts from the emulator restored to the fixture: the
//! objects whose IDs the generated samples name (`user_2abc123`, ...), created once the normal
//! way with their IDs pinned and snapshotted, so an example may delete or revoke what it likes.
//! With Clerk's OpenAPI spec available, the emulator also mocks the operations it has no
//! stateful handler for.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clerk_emulator::{Config, Emulator};
use kosmo_codegen::doc_examples::{Example, examples};
use kosmo_tests::fixture::{FIXTURE_KINDS, Fixture, clerk_ids};
use serde_json::Value;

/// The fixture for `runnables`: the IDs their texts and files name.
fn fixture_for(runnables: &[Runnable]) -> (Fixture, Vec<String>) {
    Fixture::for_texts(runnables.iter().flat_map(|r| {
        std::iter::once((r.at.as_str(), r.text.as_str()))
            .chain(r.files.iter().map(|f| (r.at.as_str(), f.1.as_str())))
    }))
}

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

/// The MCP server the examples call `demo`: the test server, over streamable HTTP, configured in
/// each example's own `$KOSMO_HOME/mcp.json` (the user's file, so it needs no trust).
fn mcp_fixture(home: &Path, url: &str) {
    let dir = home.join(".kosmo");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("mcp.json"),
        serde_json::json!({"mcpServers": {"demo": {"type": "http", "url": url}}}).to_string(),
    )
    .unwrap();
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

/// Runs each example from the fixture, built once and restored before each; returns one
/// message per failure.
fn run_all(emulator: &Emulator, fixture: &Fixture, runnables: &[Runnable]) -> Vec<String> {
    let mut failures = Vec::new();
    let mcp_runtime = tokio::runtime::Runtime::new().unwrap();
    let mcp_server = mcp_runtime
        .block_on(kosmo_test_mcp_server::serve_http(
            "127.0.0.1:0".parse().unwrap(),
            kosmo_test_mcp_server::Options::default(),
        ))
        .unwrap();
    let fixture_home = tempfile::tempdir().unwrap();
    mcp_fixture(fixture_home.path(), &mcp_server.url());
    emulator.reset();
    emulator.pin_ids(&fixture.pins()).unwrap();
    let setup = run_lua(emulator, fixture_home.path(), &fixture.lua());
    if let Some(why) = failure(&setup) {
        panic!("the fixture does not build: {why}");
    }
    let built = emulator.snapshot();
    for runnable in runnables {
        let home = tempfile::tempdir().unwrap();
        mcp_fixture(home.path(), &mcp_server.url());
        emulator.restore(&built);
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

/// Without Clerk's limits; with Clerk's OpenAPI spec when it is there, so functions whose
/// operations have no stateful handler get mocked answers.
fn emulator() -> Emulator {
    let mut config = Config::without_limits();
    if let Some(spec) = clerk_emulator::load_openapi_spec().unwrap() {
        config = config.with_openapi(spec);
    }
    Emulator::spawn(config).unwrap()
}

/// The canonical names of the functions `runnables` call: in Lua (through any name, alias or
/// `each.`), and in `kosmo integrations:call <provider>.<function>` commands.
fn functions_called(runnables: &[Runnable]) -> BTreeSet<&'static str> {
    let provider = &kosmo_integrations::clerk::meta::PROVIDER;
    let mut called = BTreeSet::new();
    for runnable in runnables {
        let mut names = Vec::new();
        let lua = match &runnable.run {
            Run::Lua(code) => Some(code.as_str()),
            Run::Command(words) => {
                if words.get(1).is_some_and(|w| w == "integrations:call") {
                    names.extend(
                        words
                            .get(2)
                            .and_then(|target| target.strip_prefix("clerk."))
                            .map(str::to_string),
                    );
                }
                None
            }
        };
        let files = runnable.files.iter().map(|(_, code)| code.as_str());
        for code in lua.into_iter().chain(files) {
            for call in kosmo_codegen::lua_calls::find_integration_calls(code, provider.name)
                .unwrap_or_default()
            {
                let name = call.function.rsplit('.').next().unwrap_or_default();
                names.push(name.to_string());
            }
        }
        called.extend(
            names
                .iter()
                .filter_map(|name| provider.function(name))
                .map(|f| f.name),
        );
    }
    called
}

#[test]
fn every_function_has_an_example_that_runs() {
    let pages = pages();
    let (runnables, _) = collect(&pages);
    let called = functions_called(&runnables);
    let missing: Vec<&str> = kosmo_integrations::clerk::meta::PROVIDER
        .functions
        .iter()
        .map(|f| f.name)
        .filter(|name| !called.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "no example run by every_example_in_the_docs_runs calls: {}",
        missing.join(", ")
    );
    // Not vacuous: the scan sees calls through a local alias, `each.` and the CLI.
    let probe = |run: Run| Runnable {
        at: "probe.md:1".into(),
        text: String::new(),
        run,
        files: vec![],
    };
    let found = functions_called(&[
        probe(Run::Lua(
            "local c = app.integrations.clerk\nc.get_user({ user_id = \"u\" })\nfor u in c.each.list_users({}) do end".into(),
        )),
        probe(Run::Command(
            ["kosmo", "integrations:call", "clerk.ban_user"].map(String::from).to_vec(),
        )),
    ]);
    assert_eq!(found, ["ban_user", "get_user", "list_users"].into());
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
    let (fixture, unknown_ids) = fixture_for(&runnables);
    problems.extend(unknown_ids);
    // Every kind the fixture can make is named by some example: the scan must find them.
    for kind in FIXTURE_KINDS {
        assert!(
            fixture.count(kind.prefix) > 0,
            "no example names a `{}` ID",
            kind.prefix
        );
    }
    let emulator = emulator();
    let started = std::time::Instant::now();
    problems.extend(run_all(&emulator, &fixture, &runnables));
    assert!(
        problems.is_empty(),
        "{} problems in {} examples (the fixture provides {:?}):\n\n{}",
        problems.len(),
        runnables.len(),
        fixture.pins(),
        problems.join("\n\n")
    );
    let mut by_page = std::collections::BTreeMap::<&str, (usize, usize)>::new();
    for page in &pages {
        let found = examples(&page.text)
            .iter()
            .filter(|e| match e {
                Example::Lua { .. } => true,
                Example::Command { words, .. } => words.first().is_some_and(|w| w == "kosmo"),
                _ => false,
            })
            .count();
        by_page.entry(&page.path).or_default().0 = found;
    }
    for runnable in &runnables {
        let path = runnable.at.rsplit_once(':').map_or("", |(p, _)| p);
        if let Some(counts) = by_page.get_mut(path) {
            counts.1 += 1;
        }
    }
    for (path, (found, run)) in &by_page {
        eprintln!("{path}: {found} examples, {run} run here (the rest repeat earlier ones)");
    }
    eprintln!(
        "ran {} distinct examples from {} pages in {:.1} s; fixture {:?}",
        runnables.len(),
        pages.len(),
        started.elapsed().as_secs_f64(),
        fixture.pins()
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
    let (fixture, unknown) = fixture_for(&runnables);
    assert!(unknown.is_empty(), "{unknown:?}");
    // `user_not_in_the_fixture` has no digit, so it is not taken for an ID.
    assert_eq!(fixture.pins(), vec!["user_2abc123"]);
    let failures = run_all(&emulator(), &fixture, &runnables);
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

#[test]
fn the_fixture_has_one_object_per_named_id() {
    assert_eq!(
        clerk_ids(
            r#"get_user({ user_id = "user_2b" }) -- orginv_9x inv_3 user_missing org_id /users/user_2a/ban orgmem_7"#
        ),
        ["inv_3", "orginv_9x", "orgmem_7", "user_2a", "user_2b"]
            .map(String::from)
            .into()
    );
    let runnable = |text: &str| Runnable {
        at: "page.md:3".into(),
        text: text.into(),
        run: Run::Lua(text.into()),
        files: vec![("w.lua".into(), "get_session({ id = \"sess_1\" })".into())],
    };
    let (fixture, problems) = fixture_for(&[
        runnable(r#"x("user_2b", "orginv_1", "user_2a", "orgmem_2")"#),
        runnable(r#"x("user_2a")"#),
    ]);
    assert_eq!(
        problems,
        vec![format!(
            "page.md:3: names `orgmem_2`, an ID the fixture cannot create (only {})",
            FIXTURE_KINDS
                .iter()
                .map(|k| k.prefix)
                .collect::<Vec<_>>()
                .join(", ")
        )]
    );
    assert_eq!(
        fixture.pins(),
        vec!["orginv_1", "sess_1", "user_2a", "user_2b"]
    );
    // The invitation and session need an organization and a user: one of each is made.
    let lua = fixture.lua();
    assert_eq!(lua.matches("create_user(").count(), 2);
    assert_eq!(lua.matches("create_organization(").count(), 1);
    assert_eq!(lua.matches("create_session(").count(), 1);
}
