//! How examples are found in markdown, and the static check that makes a broken example fail
//! generation. Uses the imaginary `acme` provider, so nothing here depends on a real one.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeMap;
use std::path::Path;

use kosmo_codegen::doc_examples::{Example, check_markdown, code_blocks, examples};

fn acme() -> Vec<kosmo_codegen::Provider> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec");
    let files = BTreeMap::from([
        (
            "spec/acme.yaml".to_string(),
            std::fs::read_to_string(dir.join("acme.yaml")).unwrap(),
        ),
        (
            "spec/guides/start.md".to_string(),
            std::fs::read_to_string(dir.join("guides/start.md")).unwrap(),
        ),
    ])
    .into_iter()
    .collect();
    kosmo_codegen::load(&files).unwrap()
}

fn messages(markdown: &str) -> Vec<String> {
    check_markdown(&acme(), "page.md", markdown)
        .into_iter()
        .map(|d| d.to_string())
        .collect()
}

#[test]
fn only_top_level_fences_are_examples_and_lines_are_exact() {
    let markdown = "# Title\n\n```lua\nprint(1)\n```\n\n````markdown\n```lua\nprint(2)\n```\n````\n\n```lua file=workflow.lua\nprint(3)\n```\n";
    let blocks = code_blocks(markdown);
    assert_eq!(blocks.len(), 3);
    assert_eq!((blocks[0].line, blocks[0].language.as_str()), (4, "lua"));
    assert_eq!(blocks[1].language, "markdown");
    assert_eq!(blocks[2].attribute("file"), Some("workflow.lua"));
    assert_eq!(
        examples(markdown),
        vec![
            Example::Lua {
                line: 4,
                code: "print(1)\n".into()
            },
            Example::LuaFile {
                line: 14,
                name: "workflow.lua".into(),
                code: "print(3)\n".into()
            },
        ]
    );
}

#[test]
fn shell_blocks_yield_commands_without_prompts_comments_or_continuations() {
    let markdown = "```sh\n# a comment\n$ kosmo integrations:list --json\n\nkosmo integrations:call acme.ping \\\n  --json\ncargo xtask gen\nkosmo 'unclosed\n```\n";
    let found = examples(markdown);
    assert_eq!(found.len(), 4, "{found:?}");
    assert!(
        matches!(&found[0], Example::Command { line: 3, words, .. } if words == &["kosmo", "integrations:list", "--json"])
    );
    assert!(
        matches!(&found[1], Example::Command { line: 5, words, .. } if words == &["kosmo", "integrations:call", "acme.ping", "--json"])
    );
    assert!(matches!(&found[2], Example::Command { line: 7, words, .. } if words[0] == "cargo"));
    assert!(matches!(&found[3], Example::BrokenCommand { line: 8, .. }));
}

#[test]
fn correct_examples_pass() {
    let markdown = r#"
```lua
local w = app.integrations.acme.get_widget({ id = "wid_1" })
app.integrations.acme.create_widget({ name = "Sprocket" })
```

```sh
kosmo integrations:call acme.get_widget '{"id":"wid_1"}' --json
kosmo integrations:acme get_widget --id=wid_1 --json --force
kosmo integrations:lua --eval 'dump(app.integrations.acme.ping({}))' --json
kosmo integrations:schema acme.get_widget
```
"#;
    assert_eq!(messages(markdown), Vec::<String>::new());
}

#[test]
fn broken_lua_examples_are_reported_with_their_line() {
    let markdown = "text\n\n```lua\nlocal w = app.integrations.acme.get_widgte({ id = \"wid_1\" })\napp.integrations.acme.create_widget({ colour = \"red\" })\n```\n";
    let found = messages(markdown);
    assert!(
        found.contains(&"page.md:4:11: example calls unknown function `app.integrations.acme.get_widgte`; did you mean `get_widget`?".to_string()),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|m| m.starts_with("page.md:5:")
                && m.contains("without its required parameter `name`")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|m| m.contains("unknown parameter `colour` to `create_widget`")),
        "{found:?}"
    );
}

#[test]
fn broken_command_lines_are_reported() {
    let markdown = "```sh\nkosmo integrations:call acme.get_widgets --json\nkosmo integrations:call acme.get_widget '{\"idd\":\"wid_1\"}' --json\nkosmo integrations:acme create_widget --colour=red --json --force\nkosmo integrations:lua --eval 'app.integrations.acme.get_widget({})' --json\nkosmo integrations:call acme.ping '[1]'\nkosmo integrations:call acme.ping 'oops\n```\n";
    let found = messages(markdown);
    let expect = [
        "page.md:2:1: command calls unknown function `acme.get_widgets`; did you mean `get_widget`?",
        "page.md:3:1: example passes unknown parameter `idd` to `get_widget`; did you mean `id`?",
        "page.md:3:1: example calls `get_widget` without its required parameter `id`",
        "page.md:4:1: example passes unknown parameter `colour` to `create_widget`",
        "page.md:4:1: example calls `create_widget` without its required parameter `name`",
        "page.md:5:1: example calls `get_widget` without its required parameter `id`",
        "page.md:7:1: shell command does not parse: missing closing quote",
    ];
    for message in expect {
        assert!(
            found.iter().any(|m| m.starts_with(message)),
            "missing {message:?} in {found:?}"
        );
    }
}

#[test]
fn walks_and_exports_are_checked_like_calls() {
    let markdown = "```sh\nkosmo integrations:call acme.get_widget --id=wid_1 --all --no-pacing --json\nkosmo integrations:export acme.get_widget --id=wid_1 --output widgets.csv --columns id,name --format csv --overwrite --quiet\nkosmo integrations:export acme.get_widget --output '{\"idd\":1}'\nkosmo integrations:export acme.get_widgets\n```\n";
    let found = messages(markdown);
    assert_eq!(
        found,
        [
            "page.md:4:1: example calls `get_widget` without its required parameter `id`",
            "page.md:5:1: command calls unknown function `acme.get_widgets`; did you mean `get_widget`?",
        ],
        "an --output value is not a payload"
    );
}

#[test]
fn a_broken_guide_example_fails_generation() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec");
    let guide = std::fs::read_to_string(dir.join("guides/start.md")).unwrap()
        + "\n```sh\nkosmo integrations:call acme.get_widget --json\n```\n";
    let files = BTreeMap::from([
        (
            "spec/acme.yaml".to_string(),
            std::fs::read_to_string(dir.join("acme.yaml")).unwrap(),
        ),
        ("spec/guides/start.md".to_string(), guide),
    ]);
    let error = kosmo_codegen::generate(&files, &kosmo_codegen::Target::new("out", "acme-out"))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("spec/guides/start.md:")
            && error.contains("without its required parameter `id`"),
        "{error}"
    );
}

#[test]
fn every_generated_page_passes_its_own_check() {
    let providers = acme();
    let files =
        kosmo_codegen::emit(&providers, &kosmo_codegen::Target::new("out", "acme-out")).unwrap();
    let pages: Vec<_> = files.iter().filter(|f| f.path.ends_with(".md")).collect();
    assert!(pages.iter().any(|f| f.path.ends_with("integration.md")));
    for page in pages {
        assert_eq!(
            check_markdown(&providers, &page.path, &page.contents),
            vec![],
            "{}",
            page.path
        );
        // The check is not vacuous: every page has at least one example.
        assert!(!examples(&page.contents).is_empty(), "{}", page.path);
    }
}
