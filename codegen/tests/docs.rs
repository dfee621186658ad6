//! The docs emitter: namespace doc, function pages, provider README and catalog JSON, rendered
//! from an imaginary provider through the public API (`load` then `emit`).

use std::collections::BTreeMap;

use kosmo_codegen::{GeneratedFile, Target};
use serde_json::Value;

const MANIFEST: &str = r#"
provider:
  name: acme
  label: Acme Widgets
  description: Widgets from the Acme API. Used by the docs tests.
  category: testing
  docs_url: https://acme.example/docs
  base_url: https://api.acme.example/v1
  auth: { scheme: bearer, credential: token }
  credentials:
    token: { description: Acme API token., required: true, secret: true, env: ACME_TOKEN, example: acme_live_s3cr3t }
guides:
  - { title: Intro, file: guides/intro.md, essentials: "Call with one table; `dump` shows the result." }
functions:
  - name: list_widgets
    slug: acme_list_widgets
    aliases: [widgets]
    title: List Widgets
    group: widgets
    summary: List widgets.
    description: Lists widgets, newest first.
    operation: read
    http: { method: GET, path: /widgets }
    params:
      limit: { in: query, type: integer, minimum: 1, maximum: 500, default: 10, description: Page size., example: 20 }
      status: { in: query, type: string, enum: [active, ended], description: "Status filter: active|ended.", example: active }
      colors: { in: query, type: "array<string>", max_items: 3, description: Colors to include., example: [red] }
    examples:
      - title: Active widgets
        lua: |
          dump(app.integrations.acme.list_widgets({ limit = 20, status = "active" }))
  - name: get_widget
    slug: acme_get_widget
    title: Get Widget
    group: widgets
    summary: Get one widget.
    description: Gets a widget by its ID.
    operation: read
    http: { method: GET, path: "/widgets/{widget_id}" }
    params:
      id: { in: path, type: string, required: true, wire_name: widget_id, aliases: [widget_id], description: Widget ID., example: wid_1 }
    examples:
      - title: One widget
        lua: |
          print(app.integrations.acme.get_widget({ id = "wid_1" }))
  - name: rename_widget
    slug: acme_rename_widget
    title: Rename Widget
    group: widgets
    summary: Rename a widget.
    description: Gives a widget a new name.
    operation: write
    idempotent: true
    http: { method: PATCH, path: "/widgets/{widget_id}" }
    params:
      widget_id: { in: path, type: string, required: true, description: Widget ID., example: wid_1 }
      name: { in: body, type: string, required: true, description: New name., example: "Bob's widget" }
    examples:
      - title: Rename one
        lua: |
          app.integrations.acme.rename_widget({ widget_id = "wid_1", name = "Bob's widget" })
  - name: delete_widget
    slug: acme_delete_widget
    title: Delete Widget
    group: widgets
    summary: Delete a widget.
    description: Deletes a widget for good.
    operation: write
    destructive: true
    http: { method: DELETE, path: "/widgets/{widget_id}" }
    params:
      widget_id: { in: path, type: string, required: true, description: Widget ID., example: wid_1 }
      reason: { in: body, type: string, description: Why it goes., example: broken }
    examples:
      - title: Delete one
        lua: |
          app.integrations.acme.delete_widget({ widget_id = "wid_1" })
  - name: ping
    slug: acme_ping
    title: Ping
    group: health
    summary: Check connectivity.
    description: Fetches one widget and reports the connection.
    operation: read
    http: { method: GET, path: /widgets, query: { limit: 1 } }
    examples:
      - title: Ping
        lua: |
          print(app.integrations.acme.ping({}))
"#;

const GUIDE: &str = "Call any function with one table argument:\n\n```lua\nlocal widgets = app.integrations.acme.list_widgets({ limit = 5 })\ndump(widgets)\n```\n\n### Then\n\nRead a page:\n\n```lua\nprint(docs.read(\"acme.get_widget\"))\n```\n";

/// Lua names in manifest order.
const FUNCTIONS: [&str; 5] = [
    "list_widgets",
    "get_widget",
    "rename_widget",
    "delete_widget",
    "ping",
];

/// The docs files generated for the fixture, by path.
fn generate() -> BTreeMap<String, String> {
    generate_from(MANIFEST)
}

/// The docs files generated for this manifest (with the fixture's guide), by path.
fn generate_from(manifest: &str) -> BTreeMap<String, String> {
    let spec = BTreeMap::from([
        ("spec/acme.yaml".to_string(), manifest.to_string()),
        ("spec/guides/intro.md".to_string(), GUIDE.to_string()),
    ]);
    let providers = match kosmo_codegen::load(&spec) {
        Ok(p) => p,
        Err(d) => panic!("fixture manifest is invalid:\n{d}"),
    };
    let target = Target::new("generated", "acme-integrations");
    let files = match kosmo_codegen::emit(&providers, &target) {
        Ok(f) => f,
        Err(e) => panic!("emit failed: {e}"),
    };
    files
        .into_iter()
        .filter(|f| f.path.starts_with("generated/docs/"))
        .map(|GeneratedFile { path, contents }| (path, contents))
        .collect()
}

fn file<'a>(files: &'a BTreeMap<String, String>, path: &str) -> &'a str {
    match files.get(path) {
        Some(text) => text,
        None => panic!(
            "{path} was not generated; got {:?}",
            files.keys().collect::<Vec<_>>()
        ),
    }
}

/// A function's section on its family's page: from its `##` heading to the next `##` heading.
fn section<'a>(files: &'a BTreeMap<String, String>, function: &str) -> &'a str {
    let heading = format!("\n## app.integrations.acme.{function}(");
    let (path, page) = files
        .iter()
        .find(|(path, text)| path.contains("/families/") && text.contains(&heading))
        .unwrap_or_else(|| panic!("no family page has a section for {function}"));
    let start = page.find(&heading).unwrap_or_default();
    let rest = &page[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 4);
    assert!(path.ends_with(".md"));
    &rest[..end]
}

/// The table row of parameter `name` in `text`.
fn row<'a>(text: &'a str, name: &str) -> &'a str {
    let prefix = format!("| `{name}` |");
    text.lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no row for parameter `{name}` in:\n{text}"))
}

/// Table cell separators: `|` not escaped as `\|`.
fn cell_separators(line: &str) -> usize {
    let bytes = line.as_bytes();
    (0..bytes.len())
        .filter(|&i| bytes[i] == b'|' && (i == 0 || bytes[i - 1] != b'\\'))
        .count()
}

#[test]
fn files_per_provider() {
    let files = generate();
    let mut expected: Vec<String> = [
        "README.md",
        "catalog.json",
        "integration.md",
        "namespace.md",
        "families/health.md",
        "families/widgets.md",
        "guides/intro.md",
        "functions/delete_widget.md",
        "functions/get_widget.md",
        "functions/list_widgets.md",
        "functions/ping.md",
        "functions/rename_widget.md",
    ]
    .iter()
    .map(|f| format!("generated/docs/acme/{f}"))
    .collect();
    expected.sort();
    assert_eq!(files.keys().cloned().collect::<Vec<_>>(), expected);
}

#[test]
fn integration_page_has_the_reference_shape_and_every_function() {
    let files = generate();
    let page = file(&files, "generated/docs/acme/integration.md");
    let sections = [
        "\n# Acme Widgets Lua API for KosmoKrator Agents\n",
        "\n## Lua namespace\n",
        "\n## Call Lua from the headless CLI\n",
        "\n## Workflow file\n",
        "\n```lua file=workflow.lua\n",
        "kosmo integrations:lua workflow.lua --json\n",
        "\n> **Namespace note.**",
        "\n## Agent-facing Lua docs\n",
        "\n## Raw agent markdown\n",
        "\n## Metadata-derived Lua example\n",
        "\n## Functions\n",
    ];
    let mut from = 0;
    for section in sections {
        let at = page[from..]
            .find(section)
            .unwrap_or_else(|| panic!("{section:?} missing or out of order"));
        from += at + section.len();
    }
    // The guide appears rendered (one level down) and raw (at its own level).
    assert!(page.contains("\n### Intro\n"), "{page}");
    assert!(page.contains("\n## Intro\n"), "{page}");
    for (name, slug, operation) in [
        ("get_widget", "acme_get_widget", "read"),
        ("delete_widget", "acme_delete_widget", "write"),
        ("ping", "acme_ping", "read"),
    ] {
        let anchor = format!("<a id=\"{name}\"></a>\n\n#### {name} ({operation})\n");
        let at = page.find(&anchor).unwrap_or_else(|| panic!("{anchor:?}"));
        let entry = &page[at..];
        let entry = &entry[..entry[1..].find("<a id=").map_or(entry.len(), |e| e + 1)];
        assert!(entry.contains(&format!("| Lua path | `app.integrations.acme.{name}` |")));
        assert!(entry.contains(&format!("| Full name | `acme.{slug}` |")));
        assert!(entry.contains(&format!(
            "| Page | [functions/{name}.md](functions/{name}.md) |"
        )));
        if name == "ping" {
            assert!(entry.contains("Takes no parameters."), "{entry}");
        } else {
            assert!(
                entry.contains("| Parameter | Type | Required | Default | Description |"),
                "{entry}"
            );
        }
    }
    assert!(!page.contains("No parameters."));
    // Functions are grouped by family, each family with its table and then its functions.
    let widgets = page.find("\n### widgets\n").expect("widgets family");
    let health = page.find("\n### health\n").expect("health family");
    let ping = page.find("\n#### ping (read)").expect("ping");
    let get = page.find("\n#### get_widget (read)").expect("get_widget");
    assert!(widgets < get && get < health && health < ping);
    assert!(page.contains("[widgets](families/widgets.md)"));
}

#[test]
fn namespace_is_an_index_of_every_function_by_family() {
    let files = generate();
    let ns = file(&files, "generated/docs/acme/namespace.md");
    let first = ns.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("<!-- @generated by `cargo xtask gen` from spec/acme.yaml.")
            && first.ends_with("-->"),
        "header comment: {first}"
    );
    assert!(ns.contains("\n# app.integrations.acme — Widgets from the Acme API\n"));
    // The rest of the description, not its first sentence again.
    assert!(ns.contains("\nUsed by the docs tests.\n"), "{ns}");
    assert!(ns.contains("5 functions in 2 families."));
    assert!(
        ns.contains("`acme_list_widgets` resolve too"),
        "intro names a full slug"
    );
    for page in [
        "docs.read(\"acme.<function>\")",
        "docs.read(\"acme.family.<family>\")",
        "docs.read(\"acme.guide.<guide>\")",
        "docs.search(\"words\")",
    ] {
        assert!(ns.contains(page), "intro names {page}");
    }
    // Essentials: auth from the manifest, then each guide with its page and essentials.
    assert!(
        ns.contains("- **Auth**: bearer token from the `token` credential (`ACME_TOKEN`).\n"),
        "{ns}"
    );
    assert!(ns.contains(
        "- **Intro** (`acme.guide.intro`): Call with one table; `dump` shows the result.\n"
    ));
    // The guide's text is on its own page, not here.
    assert!(!ns.contains("Call any function with one table argument"));
    // One line per function, under its family, with required parameters by name, `…` for
    // optional ones, read or write, destructive, and the summary.
    for line in [
        "- `list_widgets({…})` r: List widgets.",
        "- `get_widget({id})` r: Get one widget.",
        "- `rename_widget({widget_id, name})` w: Rename a widget.",
        "- `delete_widget({widget_id, …})` w!: Delete a widget.",
        "- `ping({})` r: Check connectivity.",
    ] {
        assert!(ns.lines().any(|l| l == line), "missing line {line}\n{ns}");
    }
    let widgets = ns.find("\n### widgets\n").expect("widgets heading");
    let health = ns.find("\n### health\n").expect("health heading");
    let positions: Vec<usize> = FUNCTIONS
        .iter()
        .map(|f| ns.find(&format!("- `{f}(")).unwrap_or(0))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert!(widgets < positions[0] && positions[3] < health && health < positions[4]);
    // No parameter tables and no descriptions: those are on the family and function pages.
    assert!(!ns.contains("| Parameter |"));
    assert!(!ns.contains("Deletes a widget for good."));
}

#[test]
fn family_pages_hold_the_reference_of_their_functions() {
    let files = generate();
    let widgets = file(&files, "generated/docs/acme/families/widgets.md");
    assert!(
        widgets.contains("\n# widgets (acme.family.widgets)\n"),
        "{widgets}"
    );
    assert!(widgets.contains("The family's 4 functions with their parameters."));
    for signature in [
        "## app.integrations.acme.list_widgets({limit?, status?, colors?})",
        "## app.integrations.acme.get_widget({id})",
        "## app.integrations.acme.rename_widget({widget_id, name})",
        "## app.integrations.acme.delete_widget({widget_id, reason?})",
    ] {
        assert!(
            widgets.lines().any(|l| l == signature),
            "missing heading {signature}"
        );
    }
    assert!(!widgets.contains("app.integrations.acme.ping()"));
    let health = file(&files, "generated/docs/acme/families/health.md");
    assert!(
        health
            .lines()
            .any(|l| l == "## app.integrations.acme.ping()")
    );
    assert!(
        health.contains("The family's 1 function with its parameters."),
        "{health}"
    );

    let delete = section(&files, "delete_widget");
    assert!(delete.contains("Delete a widget."), "summary");
    assert!(delete.contains("Deletes a widget for good."), "description");
    assert!(delete.contains("Operation: `write`") && delete.contains("destructive"));
    assert!(delete.contains("Full name: `acme_delete_widget`"));
    assert!(delete.contains("`DELETE /widgets/{widget_id}`"));
    assert!(delete.contains("[`acme.delete_widget`](../functions/delete_widget.md)"));
    let list = section(&files, "list_widgets");
    assert!(list.contains("Operation: `read`") && !list.contains("destructive"));
    assert!(list.contains("`widgets`"), "function alias listed");
    // A function page names its family.
    let get = file(&files, "generated/docs/acme/functions/get_widget.md");
    assert!(get.contains("| Family | [widgets](../families/widgets.md) (`acme.family.widgets`) |"));
}

#[test]
fn guides_are_pages_of_their_own() {
    let files = generate();
    let intro = file(&files, "generated/docs/acme/guides/intro.md");
    assert!(intro.contains("\n# Intro\n\nCall any function with one table argument:"));
    // A guide's sub-headings move up one level under its page title.
    assert!(intro.contains("\n## Then\n"), "{intro}");
    assert!(!intro.contains("### Then"));
    assert!(intro.contains("(`acme.guide.intro`)"));
    assert!(intro.contains("print(docs.read(\"acme.get_widget\"))"));
}

#[test]
fn every_parameter_has_a_row_with_its_constraints() {
    let files = generate();
    for list in [
        section(&files, "list_widgets"),
        file(&files, "generated/docs/acme/functions/list_widgets.md"),
    ] {
        assert!(list.contains("| Parameter | Type | Required | Default | Description |"));
        let limit = row(list, "limit");
        assert!(limit.contains("`integer`") && limit.contains("| no |"));
        assert!(limit.contains("`10`"), "default: {limit}");
        assert!(
            limit.contains("Page size.") && limit.contains("1–500"),
            "{limit}"
        );
        assert!(limit.contains("query"), "{limit}");
        let status = row(list, "status");
        assert!(status.contains("active\\|ended"), "pipe escaped: {status}");
        assert!(
            status.contains("active") && status.contains("ended") && status.contains("One of"),
            "{status}"
        );
        let colors = row(list, "colors");
        assert!(
            colors.contains("`array<string>`") && colors.contains("3 items"),
            "{colors}"
        );
    }
    let get = section(&files, "get_widget");
    let id = row(get, "id");
    assert!(
        id.contains("| yes |") && id.contains("`widget_id`") && id.contains("path"),
        "{id}"
    );
    let rename = section(&files, "rename_widget");
    assert!(row(rename, "widget_id").contains("path"));
    assert!(row(rename, "name").contains("body"));
    let delete = section(&files, "delete_widget");
    assert!(row(delete, "widget_id").contains("| yes |"));
    assert!(row(delete, "reason").contains("| no |"));

    // Every table row has exactly its six cell separators.
    for (path, text) in &files {
        for line in text.lines().filter(|l| l.starts_with("| `")) {
            if path.ends_with("README.md") {
                continue;
            }
            assert_eq!(cell_separators(line), 6, "{path}: {line}");
        }
    }
}

#[test]
fn only_parameterless_functions_say_so() {
    let files = generate();
    assert!(section(&files, "ping").contains("Takes no parameters."));
    let health = file(&files, "generated/docs/acme/families/health.md");
    assert_eq!(health.matches("Takes no parameters.").count(), 1);
    let widgets = file(&files, "generated/docs/acme/families/widgets.md");
    assert!(!widgets.contains("Takes no parameters."));
    for f in FUNCTIONS.iter().filter(|f| **f != "ping") {
        assert!(!section(&files, f).contains("Takes no parameters."), "{f}");
        let page = file(&files, &format!("generated/docs/acme/functions/{f}.md"));
        assert!(!page.contains("Takes no parameters."), "{f}");
    }
    assert!(file(&files, "generated/docs/acme/functions/ping.md").contains("Takes no parameters."));
    for (path, text) in &files {
        assert!(!text.contains("No parameters."), "{path}");
    }
}

#[test]
fn examples_and_guides_are_stitched_in() {
    let files = generate();
    let get = section(&files, "get_widget");
    assert!(get.contains("One widget"));
    assert!(
        get.contains("```lua\nprint(app.integrations.acme.get_widget({ id = \"wid_1\" }))\n```")
    );
    // Every example of a function is on its family's page (and its own page).
    for f in FUNCTIONS {
        let page = file(&files, &format!("generated/docs/acme/functions/{f}.md"));
        let examples = page.split("## Examples").nth(1).expect("examples");
        for block in examples.split("```lua\n").skip(1) {
            let lua = block.split("```").next().unwrap_or_default();
            assert!(section(&files, f).contains(lua), "{f}: {lua}");
        }
    }
    // The guide, verbatim but for its headings, is its page; the index links it.
    let intro = file(&files, "generated/docs/acme/guides/intro.md");
    assert!(intro.contains(GUIDE.split("### Then").next().unwrap_or_default()));
    let ns = file(&files, "generated/docs/acme/namespace.md");
    assert!(ns.contains("`acme.guide.intro`"));
}

#[test]
fn docs_call_functions_by_their_canonical_lua_names() {
    let files = generate();
    for (path, text) in files.iter().filter(|(p, _)| p.ends_with(".md")) {
        for (at, _) in text.match_indices("app.integrations.acme.") {
            let rest = &text[at + "app.integrations.acme.".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // A call (`name(`) must use the canonical name; slugs are only named, never called.
            if rest[name.len()..].starts_with('(') {
                assert!(FUNCTIONS.contains(&name.as_str()), "{path} calls `{name}`");
            }
        }
    }
}

#[test]
fn function_pages_have_copy_paste_samples() {
    let files = generate();
    let get = file(&files, "generated/docs/acme/functions/get_widget.md");
    assert!(get.contains("# acme.get_widget\n"));
    assert!(get.contains("Get one widget.") && get.contains("Gets a widget by its ID."));
    assert!(
        get.contains("`app.integrations.acme.get_widget`"),
        "Lua path"
    );
    assert!(get.contains("`acme_get_widget`"), "full name");
    assert!(get.contains("`GET /widgets/{widget_id}`"), "HTTP route");
    assert!(get.contains("app.integrations.acme.get_widget({ id = \"wid_1\" })"));
    assert!(get.contains("kosmo integrations:call acme.get_widget '{\"id\":\"wid_1\"}'"));
    assert!(get.contains("kosmo integrations:acme get_widget --id=wid_1"));
    assert!(
        get.contains("```lua\nprint(app.integrations.acme.get_widget({ id = \"wid_1\" }))\n```")
    );

    // Details, then samples, then the parameters, then the examples.
    let order: Vec<usize> = [
        "| Lua path |",
        "## Call it",
        "## Parameters",
        "| `id` |",
        "## Examples",
    ]
    .iter()
    .map(|s| get.find(s).unwrap_or_else(|| panic!("{s} missing")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");

    // A value with a single quote stays valid inside the shell's single quotes.
    let rename = file(&files, "generated/docs/acme/functions/rename_widget.md");
    assert!(rename.contains("write"));
    assert!(
        rename.contains(
            r#"app.integrations.acme.rename_widget({ widget_id = "wid_1", name = "Bob's widget" })"#
        ),
        "{rename}"
    );
    for line in rename.lines().filter(|l| l.starts_with("kosmo ")) {
        assert!(
            shell_words_balanced(line),
            "unbalanced shell quoting: {line}"
        );
    }
    assert!(
        rename.contains(r#"'{"widget_id":"wid_1","name":"Bob'\''s widget"}'"#),
        "{rename}"
    );
    assert!(
        rename.contains(r#" --widget-id=wid_1 --name='Bob'\''s widget'"#),
        "{rename}"
    );

    // A function without parameters is called with an empty table.
    let ping = file(&files, "generated/docs/acme/functions/ping.md");
    assert!(ping.contains("app.integrations.acme.ping({})"));
}

/// Whether single quotes in a shell command line pair up (`'\''` counts as an escaped quote).
fn shell_words_balanced(line: &str) -> bool {
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => quoted = !quoted,
            '\\' if !quoted => {
                chars.next();
            }
            _ => {}
        }
    }
    !quoted
}

#[test]
fn readme_lists_functions_by_name_without_secrets() {
    let files = generate();
    let readme = file(&files, "generated/docs/acme/README.md");
    assert!(readme.starts_with("<!-- @generated by"));
    assert!(readme.contains("acme"));
    assert!(readme.contains("Auth"));
    assert!(readme.contains("ACME_TOKEN"), "credential env var");
    assert!(
        !readme.contains("acme_live_s3cr3t"),
        "never a credential value"
    );
    let after = &readme[readme
        .find("Functions:")
        .unwrap_or_else(|| panic!("no Functions:"))..];
    let mut sorted = FUNCTIONS.to_vec();
    sorted.sort_unstable();
    let positions: Vec<usize> = sorted
        .iter()
        .map(|f| {
            after
                .find(&format!("\n{f} "))
                .unwrap_or_else(|| panic!("{f} not listed in README"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "sorted by name");
    assert!(after.contains("Get one widget."), "one-line summary");
    // The first read function that needs no arguments runs as is.
    assert!(readme.contains(
        "kosmo integrations:lua --eval 'dump(app.integrations.acme.list_widgets({}))' --json"
    ));
    assert!(readme.contains(r#"docs.read("acme")"#));
}

#[test]
fn catalog_is_json_with_every_parameter() {
    let files = generate();
    let text = file(&files, "generated/docs/acme/catalog.json");
    let catalog: Value = serde_json::from_str(text).expect("catalog.json parses");
    let object = catalog.as_object().expect("an object");
    assert_eq!(object.keys().next().map(String::as_str), Some("_generated"));
    assert!(
        catalog["_generated"]
            .as_str()
            .unwrap_or_default()
            .contains("@generated")
    );
    assert!(
        text.starts_with("{\n  \"_generated\""),
        "2-space pretty JSON"
    );
    assert_eq!(catalog["provider"]["name"], "acme");
    assert_eq!(catalog["provider"]["label"], "Acme Widgets");
    assert_eq!(
        catalog["provider"]["base_url"],
        "https://api.acme.example/v1"
    );

    let functions = catalog["functions"].as_array().expect("functions");
    let names: Vec<&str> = functions
        .iter()
        .map(|f| f["function_name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, FUNCTIONS);
    let counts: Vec<u64> = functions
        .iter()
        .map(|f| f["parameter_count"].as_u64().unwrap_or(u64::MAX))
        .collect();
    assert_eq!(counts, [3, 1, 2, 2, 0]);
    for f in functions {
        let params = f["parameters"].as_array().expect("parameters");
        assert_eq!(f["parameter_count"].as_u64(), Some(params.len() as u64));
        assert_eq!(
            f["input_schema"]["properties"]
                .as_object()
                .map(|p| p.len() >= params.len()),
            Some(true)
        );
        assert_eq!(
            f["lua_path"],
            format!(
                "app.integrations.acme.{}",
                f["function_name"].as_str().unwrap_or_default()
            )
        );
        assert!(!f["examples"].as_array().expect("examples").is_empty());
    }

    let list = &functions[0];
    assert_eq!(list["slug"], "acme_list_widgets");
    assert_eq!(list["name"], "List Widgets");
    assert_eq!(list["type"], "read");
    assert_eq!(list["short_description"], "List widgets.");
    let limit = &list["parameters"][0];
    assert_eq!(limit["name"], "limit");
    assert_eq!(limit["in"], "query");
    assert_eq!(limit["minimum"], 1);
    assert_eq!(limit["maximum"], 500);
    assert_eq!(limit["default"], 10);
    assert_eq!(
        list["parameters"][1]["enum"],
        serde_json::json!(["active", "ended"])
    );
    assert_eq!(list["parameters"][2]["max_items"], 3);
    let id = &functions[1]["parameters"][0];
    assert_eq!(id["wire_name"], "widget_id");
    assert_eq!(id["aliases"], serde_json::json!(["widget_id"]));
    assert_eq!(
        functions[1]["input_schema"]["required"],
        serde_json::json!(["id"])
    );
    assert_eq!(functions[3]["destructive"], true);
    assert_eq!(functions[3]["type"], "write");
    // Idempotent by the method (GET, DELETE) or as declared (a PATCH that sets a name).
    assert_eq!(functions[0]["idempotent"], true);
    assert_eq!(functions[2]["idempotent"], true);
    assert_eq!(functions[3]["idempotent"], true);
}

#[test]
fn idempotent_defaults_from_the_method_unless_declared() {
    let manifest = MANIFEST
        .replace("    idempotent: true\n", "")
        .replace("method: DELETE", "method: POST");
    let files = generate_from(&manifest);
    let catalog: Value = serde_json::from_str(file(&files, "generated/docs/acme/catalog.json"))
        .expect("catalog JSON");
    let idempotent: Vec<bool> = catalog["functions"]
        .as_array()
        .expect("functions")
        .iter()
        .map(|f| f["idempotent"].as_bool().expect("idempotent is a boolean"))
        .collect();
    // list (GET), get (GET), rename (PATCH), delete (now POST), ping (GET).
    assert_eq!(idempotent, [true, true, false, false, true]);
}

#[test]
fn output_is_deterministic_and_tidy() {
    let first = generate();
    assert_eq!(first, generate());
    for (path, text) in &first {
        assert!(
            text.ends_with('\n') && !text.ends_with("\n\n"),
            "{path}: one final newline"
        );
        for (n, line) in text.lines().enumerate() {
            assert_eq!(
                line,
                line.trim_end(),
                "{path}:{}: trailing whitespace",
                n + 1
            );
            assert!(!line.contains('\t'), "{path}:{}: tab", n + 1);
        }
        if path.ends_with(".md") {
            assert!(!text.contains("\n\n\n"), "{path}: runs of blank lines");
        }
    }
}

#[test]
fn namespace_snapshot() {
    let files = generate();
    insta::assert_snapshot!(
        "acme_namespace",
        file(&files, "generated/docs/acme/namespace.md")
    );
}

/// A provider whose read functions all need arguments, and an argument that is a table.
const SOLO: &str = r#"
provider:
  name: solo
  label: Solo
  description: One thing at a time.
  category: testing
  docs_url: https://solo.example/docs
  base_url: https://api.solo.example
  auth: { scheme: bearer, credential: token }
  credentials:
    token: { description: Token., required: true, secret: true, env: SOLO_TOKEN }
functions:
  - name: put_thing
    slug: solo_put_thing
    title: Put Thing
    group: things
    summary: Store a thing.
    description: Stores a thing.
    operation: write
    http: { method: POST, path: /things }
    params:
      meta: { in: body, type: object, required: true, description: Headers to keep., example: { content-type: text/plain } }
    examples:
      - title: Store
        lua: |
          app.integrations.solo.put_thing({ meta = { ["content-type"] = "text/plain" } })
  - name: get_thing
    slug: solo_get_thing
    title: Get Thing
    group: things
    summary: Get a thing.
    description: Gets a thing.
    operation: read
    http: { method: GET, path: "/things/{id}" }
    params:
      id: { in: path, type: string, required: true, description: Thing ID., example: th_1 }
    examples:
      - title: Get
        lua: |
          print(app.integrations.solo.get_thing({ id = "th_1" }))
"#;

#[test]
fn samples_always_pass_required_arguments() {
    let spec = BTreeMap::from([("spec/solo.yaml".to_string(), SOLO.to_string())]);
    let providers = kosmo_codegen::load(&spec).unwrap_or_else(|d| panic!("invalid:\n{d}"));
    let files = kosmo_codegen::emit(&providers, &Target::new("generated", "solo-integrations"))
        .unwrap_or_else(|e| panic!("emit failed: {e}"));
    let get = |path: &str| {
        files
            .iter()
            .find(|f| f.path == path)
            .map(|f| f.contents.clone())
            .unwrap_or_else(|| panic!("{path} not generated"))
    };
    // No read function runs without arguments: the README's call supplies the required one.
    let readme = get("generated/docs/solo/README.md");
    assert!(
        readme.contains(
            r#"kosmo integrations:lua --eval 'dump(app.integrations.solo.get_thing({ id = "th_1" }))' --json"#
        ),
        "{readme}"
    );
    assert!(!readme.contains("get_thing({})"));
    // Table keys that are not Lua identifiers are bracketed.
    let put = get("generated/docs/solo/functions/put_thing.md");
    assert!(
        put.contains(
            r#"app.integrations.solo.put_thing({ meta = { ["content-type"] = "text/plain" } })"#
        ),
        "{put}"
    );
    // A provider without guides has only its auth in the essentials, and no guide pages; its
    // families come from the functions' groups.
    let ns = get("generated/docs/solo/namespace.md");
    let essentials = ns
        .split("## Essentials")
        .nth(1)
        .and_then(|e| e.split("## Functions").next())
        .unwrap_or_default();
    assert_eq!(essentials.trim().lines().count(), 1, "{ns}");
    assert!(ns.contains("\n### things\n"), "{ns}");
    assert!(
        ns.trim_end()
            .ends_with("- `get_thing({id})` r: Get a thing."),
        "{ns}"
    );
    assert!(!files.iter().any(|f| f.path.contains("/guides/")));
}
