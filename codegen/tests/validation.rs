//! One test per validation rule: a small bad manifest and the exact diagnostic, with its line
//! and column, that it must produce.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeMap;

/// A valid manifest; each test breaks one thing in it.
const BASE: &str = r#"provider:
  name: acme
  label: Acme
  description: Test provider.
  category: testing
  docs_url: https://acme.example/docs
  base_url: https://api.acme.example
  auth: { scheme: bearer, credential: token }
  credentials:
    token: { description: Token., required: true, secret: true }
functions:
  - name: get_widget
    slug: acme_get_widget
    title: Get Widget
    group: widgets
    summary: Get a widget.
    description: Gets one widget.
    operation: read
    http: { method: GET, path: "/widgets/{widget_id}" }
    params:
      widget_id: { in: path, type: string, required: true, description: ID., example: w_1 }
      limit: { in: query, type: integer, minimum: 1, maximum: 100, default: 10, description: Size., example: 5 }
      status: { in: query, type: string, enum: [on, off], description: Status., example: "on" }
    examples:
      - title: Get one
        lua: |
          local w = app.integrations.acme.get_widget({ widget_id = "w_1" })
          print(w)
  - name: make_widget
    slug: acme_make_widget
    title: Make Widget
    group: widgets
    summary: Make a widget.
    description: Makes one widget.
    operation: write
    http: { method: POST, path: /widgets }
    params:
      name: { in: body, type: string, required: true, description: Name., example: Cog }
    examples:
      - title: Make one
        lua: |
          print(app.integrations.acme.make_widget({ name = "Cog" }))
"#;

fn diagnostics(yaml: &str) -> Vec<String> {
    let files = BTreeMap::from([("spec/acme.yaml".to_string(), yaml.to_string())]);
    match kosmo_codegen::load(&files) {
        Ok(_) => Vec::new(),
        Err(d) => d.0.iter().map(ToString::to_string).collect(),
    }
}

/// Replaces exactly one occurrence, so a typo in a test cannot silently test the base manifest.
fn with(from: &str, to: &str) -> String {
    assert_eq!(
        BASE.matches(from).count(),
        1,
        "`{from}` must occur once in BASE"
    );
    BASE.replacen(from, to, 1)
}

fn assert_reports(yaml: &str, expected: &str) {
    let found = diagnostics(yaml);
    assert!(
        found.iter().any(|d| d == expected),
        "expected diagnostic:\n  {expected}\nfound:\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn the_base_manifest_is_valid() {
    assert_eq!(diagnostics(BASE), Vec::<String>::new());
}

#[test]
fn unknown_keys_are_refused_with_their_location() {
    let found = diagnostics(&with(
        "    group: widgets\n    summary: Get",
        "    group: widgets\n    sumary: oops\n    summary: Get",
    ));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("spec/acme.yaml:16:5: unknown field `sumary`"),
        "{}",
        found[0]
    );
}

#[test]
fn unknown_param_keys_are_refused() {
    let found = diagnostics(&with("description: Size.,", "descripton: Size.,"));
    assert!(found[0].starts_with("spec/acme.yaml:22:"), "{found:?}");
    assert!(found[0].contains("unknown field `descripton`"), "{found:?}");
}

#[test]
fn duplicate_function_names_slugs_and_aliases_are_refused() {
    assert_reports(
        &with("  - name: make_widget", "  - name: get_widget"),
        "spec/acme.yaml:29:11: duplicate function name `get_widget`: already used as the name of `get_widget` at line 12",
    );
    assert_reports(
        &with("slug: acme_make_widget", "slug: acme_get_widget"),
        "spec/acme.yaml:30:11: duplicate function name `acme_get_widget`: already used as the slug of `get_widget` at line 13",
    );
    assert_reports(
        &with(
            "slug: acme_make_widget",
            "slug: acme_make_widget\n    aliases: [get_widget]",
        ),
        "spec/acme.yaml:31:15: duplicate function name `get_widget`: already used as the name of `get_widget` at line 12",
    );
}

#[test]
fn duplicate_parameter_names_and_aliases_are_refused() {
    assert_reports(
        &with(
            "description: Size.,",
            "aliases: [widget_id], description: Size.,",
        ),
        "spec/acme.yaml:22:91: duplicate parameter name `widget_id` in `get_widget` (first used at line 21)",
    );
}

#[test]
fn path_placeholders_and_path_parameters_must_match() {
    assert_reports(
        &with(
            "/widgets/{widget_id}\"",
            "/widgets/{widget_id}/parts/{part_id}\"",
        ),
        "spec/acme.yaml:19:32: path placeholder `{part_id}` of `get_widget` has no path parameter; add one with `in: path` (or `wire_name: part_id`)",
    );
    assert_reports(
        &with("/widgets/{widget_id}\"", "/widgets\""),
        "spec/acme.yaml:21:24: path parameter `widget_id` of `get_widget` has no `{widget_id}` placeholder in `/widgets`",
    );
}

#[test]
fn body_parameters_on_get_are_refused() {
    assert_reports(
        &with("limit: { in: query,", "limit: { in: body,"),
        "spec/acme.yaml:22:20: body parameter `limit` of `get_widget` on a GET request; GET sends no body (use `in: query`)",
    );
}

#[test]
fn parameter_names_must_be_identifiers() {
    assert_reports(
        &with("      limit: {", "      page-size: {"),
        "spec/acme.yaml:22:7: parameter name `page-size` of `get_widget` is not a valid identifier (letters, digits and `_`, not starting with a digit, not a Lua keyword)",
    );
    assert_reports(
        &with("      limit: {", "      end: {"),
        "spec/acme.yaml:22:7: parameter name `end` of `get_widget` is not a valid identifier (letters, digits and `_`, not starting with a digit, not a Lua keyword)",
    );
}

#[test]
fn required_parameters_cannot_have_defaults() {
    assert_reports(
        &with(
            "minimum: 1, maximum: 100, default: 10,",
            "required: true, minimum: 1, maximum: 100, default: 10,",
        ),
        "spec/acme.yaml:22:93: required parameter `limit` of `get_widget` has a default; a default only makes sense for an optional parameter",
    );
}

#[test]
fn defaults_examples_and_enum_values_must_fit_type_bounds_and_enum() {
    assert_reports(
        &with("default: 10,", "default: ten,"),
        "spec/acme.yaml:22:77: default \"ten\" of `limit` in `get_widget` is not of type integer",
    );
    assert_reports(
        &with("default: 10,", "default: 500,"),
        "spec/acme.yaml:22:77: default 500 of `limit` in `get_widget` is above the maximum 100",
    );
    assert_reports(
        &with("example: 5 }", "example: 0 }"),
        "spec/acme.yaml:22:110: example 0 of `limit` in `get_widget` is below the minimum 1",
    );
    assert_reports(
        &with("example: \"on\" }", "example: maybe }"),
        "spec/acme.yaml:23:90: example \"maybe\" of `status` in `get_widget` is not one of the enum values \"on\", \"off\"",
    );
    assert_reports(
        &with("enum: [on, off]", "enum: [on, 3]"),
        "spec/acme.yaml:23:48: enum value 3 of `status` in `get_widget` is not of type string",
    );
}

#[test]
fn operation_must_agree_with_the_method_unless_overridden() {
    let bad = with("    operation: write\n", "    operation: read\n");
    assert_reports(
        &bad,
        "spec/acme.yaml:35:16: `make_widget` is declared `read` but uses POST; if it really changes nothing, say why in `operation_override`",
    );
    let overridden = with(
        "    operation: write\n",
        "    operation: read\n    operation_override: the endpoint only searches; POST carries a large filter\n",
    );
    assert_eq!(diagnostics(&overridden), Vec::<String>::new());
}

#[test]
fn examples_may_only_call_known_functions_with_known_parameters() {
    assert_reports(
        &with(
            "app.integrations.acme.make_widget({ name = \"Cog\" })",
            "app.integrations.acme.make_widgets({ name = \"Cog\" })",
        ),
        "spec/acme.yaml:42:17: example calls unknown function `app.integrations.acme.make_widgets`; did you mean `make_widget`?",
    );
    assert_reports(
        &with(
            "get_widget({ widget_id = \"w_1\" })",
            "get_widget({ widget_id = \"w_1\", limt = 2 })",
        ),
        "spec/acme.yaml:27:21: example passes unknown parameter `limt` to `get_widget`; did you mean `limit`?",
    );
    assert_reports(
        &with(
            "get_widget({ widget_id = \"w_1\" })",
            "get_widget({ limit = 2 })",
        ),
        "spec/acme.yaml:27:21: example calls `get_widget` without its required parameter `widget_id`",
    );
}

#[test]
fn examples_must_parse_as_lua() {
    let found = diagnostics(&with("          print(w)\n", "          print(w\n"));
    assert!(
        found
            .iter()
            .any(|d| d.starts_with("spec/acme.yaml:") && d.contains("Lua example does not parse")),
        "{found:?}"
    );
}

#[test]
fn guide_examples_are_checked_in_their_own_file() {
    let yaml = with(
        "functions:\n",
        "guides:\n  - { title: Start, file: guides/start.md }\nfunctions:\n",
    );
    let files = BTreeMap::from([
        ("spec/acme.yaml".to_string(), yaml.clone()),
        (
            "spec/guides/start.md".to_string(),
            "Intro.\n\n```lua\nlocal x = app.integrations.acme.get_widget({})\n```\n".to_string(),
        ),
    ]);
    let found: Vec<String> = kosmo_codegen::load(&files)
        .err()
        .map(|d| d.0.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    assert_eq!(
        found,
        [
            "spec/guides/start.md:4:11: example calls `get_widget` without its required parameter `widget_id`"
        ]
    );
    let missing = BTreeMap::from([("spec/acme.yaml".to_string(), yaml)]);
    let found: Vec<String> = kosmo_codegen::load(&missing)
        .err()
        .map(|d| d.0.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    assert_eq!(
        found,
        ["spec/acme.yaml:12:27: guide file `guides/start.md` does not exist beside the manifest"]
    );
}

#[test]
fn bounds_and_spread_only_where_they_make_sense() {
    assert_reports(
        &with(
            "status: { in: query, type: string,",
            "status: { in: query, type: string, max_items: 2,",
        ),
        "spec/acme.yaml:23:53: `max_items` on `status` of `get_widget`, which is string, not an array",
    );
    assert_reports(
        &with(
            "name: { in: body, type: string,",
            "name: { in: body, type: string, spread: true,",
        ),
        "spec/acme.yaml:38:31: `spread` parameter `name` of `make_widget` must be an object in query or body",
    );
}

#[test]
fn unknown_types_are_refused() {
    let found = diagnostics(&with("type: integer,", "type: int,"));
    assert!(found[0].starts_with("spec/acme.yaml:22:"), "{found:?}");
    assert!(found[0].contains("unknown type `int`"), "{found:?}");
}

#[test]
fn defaults_and_enum_values_must_be_scalars() {
    let yaml = with(
        "      status: { in: query, type: string,",
        "      tags: { in: query, type: \"array<string>\", default: [a], description: Tags. }\n      status: { in: query, type: string,",
    );
    assert_reports(
        &yaml,
        "spec/acme.yaml:23:58: default of `tags` in `get_widget` must be a string, number or boolean",
    );
}

#[test]
fn error_locations_must_be_json_pointers() {
    let yaml = with(
        "  credentials:\n",
        "  errors: { message: [/error/message, error.code] }\n  credentials:\n",
    );
    assert_reports(
        &yaml,
        "spec/acme.yaml:9:39: `error.code` is not a JSON Pointer into the error body; write it like `/errors/0/message`",
    );
    // Well-formed pointers and headers pass.
    let yaml = with(
        "  credentials:\n",
        "  errors: { message: [/error/message], trace_id_header: [Acme-Trace] }\n  rate_limits: { retry_after_header: X-Wait }\n  credentials:\n",
    );
    assert_eq!(diagnostics(&yaml), Vec::<String>::new());
}

/// A diagnostic with a `spec/acme.yaml:line:column: ` prefix ends with `message`.
fn assert_reports_at_some_line(yaml: &str, message: &str) {
    let found = diagnostics(yaml);
    let located = |d: &String| {
        let Some(rest) = d.strip_prefix("spec/acme.yaml:") else {
            return false;
        };
        let mut parts = rest.splitn(3, ':');
        let numbers = parts.next().is_some_and(|l| l.parse::<u64>().is_ok())
            && parts.next().is_some_and(|c| c.parse::<u64>().is_ok());
        numbers && parts.next().is_some_and(|m| m.trim() == message)
    };
    assert!(
        found.iter().any(located),
        "expected a located diagnostic:\n  {message}\nfound:\n  {}",
        found.join("\n  ")
    );
}

const PAGED: &str = "    examples:\n      - title: Get one";

fn paged(pagination: &str) -> String {
    with(PAGED, &format!("    pagination: {pagination}\n{PAGED}"))
}

#[test]
fn pagination_parameters_must_be_integer_or_number_query_parameters() {
    assert_reports_at_some_line(
        &paged("{ page_size: 50, offset: status }"),
        "`get_widget` pages with `status`, which is not one of its integer or number query parameters",
    );
    assert_reports_at_some_line(
        &paged("{ page_size: 50 }"),
        "`get_widget` pages with `offset`, which is not one of its integer or number query parameters",
    );
}

#[test]
fn pagination_page_size_stays_within_the_limit_maximum() {
    assert_reports_at_some_line(
        &paged("{ page_size: 500, offset: limit }"),
        "page_size 500 of `get_widget` is above its limit's maximum 100",
    );
}

#[test]
fn pagination_items_and_total_are_json_pointers() {
    assert_reports_at_some_line(
        &paged("{ page_size: 50, offset: limit, items: data }"),
        "`data` is not a JSON Pointer; write `/data`, or leave `items` out for a bare array",
    );
    assert_reports_at_some_line(
        &paged("{ page_size: 50, offset: limit, total: { pointer: total } }"),
        "`total` is not a JSON Pointer",
    );
}

#[test]
fn pagination_with_sets_only_known_parameters_to_fitting_values() {
    assert_reports_at_some_line(
        &paged("{ page_size: 50, offset: limit, with: { paged: true } }"),
        "`with` sets `paged`, which `get_widget` does not take",
    );
    assert_reports_at_some_line(
        &paged("{ page_size: 50, offset: limit, with: { status: maybe } }"),
        "`with` value of `status` is not one of the enum values \"on\", \"off\"",
    );
}

#[test]
fn pagination_total_function_must_exist_read_and_take_the_filters() {
    assert_reports_at_some_line(
        &paged("{ page_size: 50, offset: limit, total: { function: count_widgets, pointer: /n } }"),
        "total function `count_widgets` is not a function of this manifest",
    );
    assert_reports_at_some_line(
        &paged("{ page_size: 50, offset: limit, total: { function: make_widget, pointer: /n } }"),
        "total function `make_widget` must be another function, and a read",
    );
    assert_reports_at_some_line(
        &paged("{ page_size: 50, offset: limit, total: { function: make_widget, pointer: /n } }"),
        "total function `make_widget` requires `name`, which `get_widget` does not take",
    );
}

#[test]
fn only_reads_page() {
    let yaml = with(
        "    examples:\n      - title: Make one",
        "    pagination: { page_size: 5 }\n    examples:\n      - title: Make one",
    );
    assert_reports_at_some_line(
        &yaml,
        "`make_widget` pages but is not a read; only reads can be walked",
    );
}

#[test]
fn each_is_reserved_for_iterators() {
    assert_reports_at_some_line(
        &with("  - name: make_widget", "  - name: each"),
        "`each` is reserved: scripts walk pages with `each.<function>`",
    );
}

#[test]
fn examples_may_walk_only_functions_that_page() {
    let yaml = with(
        "print(app.integrations.acme.make_widget({ name = \"Cog\" }))",
        "for w in app.integrations.acme.each.make_widget({ name = \"Cog\" }) do end",
    );
    let found = diagnostics(&yaml);
    assert!(
        found.iter().any(|d| d
            .contains("example calls unknown function `app.integrations.acme.each.make_widget`")),
        "{found:?}"
    );
}

const LIMITS: &str =
    "  credentials:\n    token: { description: Token., required: true, secret: true }\n";

fn limited(rate_limits: &str) -> String {
    with(LIMITS, &format!("{LIMITS}  rate_limits:\n{rate_limits}"))
}

#[test]
fn rate_limit_tiers_name_a_credential_and_a_window() {
    assert_reports_at_some_line(
        &limited(
            "    instance:\n      credential: key\n      tiers: [{ name: free, key_prefix: k_, requests: 10, per: 10s }]\n",
        ),
        "rate limit credential `key` is not one of the declared credentials",
    );
    assert_reports_at_some_line(
        &limited(
            "    instance:\n      credential: token\n      tiers: [{ name: free, key_prefix: k_, requests: 10, per: soon }]\n",
        ),
        "`soon` is not a duration such as `10s` or `1h`: expected number at 0",
    );
    assert_reports_at_some_line(
        &limited(
            "    instance:\n      credential: token\n      tiers: [{ name: Free, key_prefix: k_, requests: 0, per: 1s }]\n",
        ),
        "a limit must allow at least 1 request",
    );
}

#[test]
fn endpoint_limits_have_routes_that_parse_and_can_tell_resources_apart() {
    assert_reports_at_some_line(
        &limited(
            "    endpoints:\n      - { name: makes, routes: [\"MAKE /widgets\"], requests: 5, per: 1h }\n",
        ),
        "route `MAKE /widgets`: unknown method `MAKE`",
    );
    assert_reports_at_some_line(
        &limited(
            "    endpoints:\n      - { name: makes, routes: [\"POST /widgets\"], requests: 5, per: 1h, per_resource: true }\n",
        ),
        "`POST /widgets` is limited per resource but has no `{placeholder}` to tell resources apart",
    );
}

/// The base manifest with its functions moved into a family file, plus extra files.
fn family_files(manifest_tail: &str, family: &str, extra: &[(&str, &str)]) -> Vec<String> {
    let (head, _) = BASE.split_once("functions:\n").unwrap();
    let manifest = format!("{head}{manifest_tail}");
    let mut files = BTreeMap::from([
        ("spec/acme.yaml".to_string(), manifest),
        ("spec/acme/widgets.yaml".to_string(), family.to_string()),
    ]);
    for (path, text) in extra {
        files.insert((*path).to_string(), (*text).to_string());
    }
    match kosmo_codegen::load(&files) {
        Ok(providers) => {
            assert_eq!(providers[0].functions.len(), 2);
            assert!(providers[0].functions.iter().all(|f| f.group == "widgets"));
            assert_eq!(providers[0].families[0].title, "Widgets");
            Vec::new()
        }
        Err(d) => d.0.iter().map(ToString::to_string).collect(),
    }
}

const WIDGETS_FAMILY: &str = "families:\n  - { name: widgets, title: Widgets, summary: Make and get widgets., file: acme/widgets.yaml }\n";

/// The base manifest's functions without their `group` lines, as a family file.
fn widgets_file() -> String {
    let (_, functions) = BASE.split_once("functions:\n").unwrap();
    format!(
        "functions:\n{}",
        functions.replace("    group: widgets\n", "")
    )
}

#[test]
fn family_files_hold_their_functions_without_group() {
    assert_eq!(
        family_files(WIDGETS_FAMILY, &widgets_file(), &[]),
        Vec::<String>::new()
    );
}

#[test]
fn problems_in_a_family_file_name_that_file_and_its_line() {
    let broken =
        widgets_file().replace("title: Make Widget", "title: Make Widget\n    colour: red");
    let found = family_files(WIDGETS_FAMILY, &broken, &[]);
    assert!(
        found
            .iter()
            .any(|d| d.starts_with("spec/acme/widgets.yaml:") && d.contains("colour")),
        "{found:?}"
    );
    // A rule checked after parsing also reports in the family file, at the function's line.
    let bad_name = widgets_file().replace("name: make_widget", "name: make-widget");
    let found = family_files(WIDGETS_FAMILY, &bad_name, &[]);
    assert!(
        found
            .iter()
            .any(|d| d.starts_with("spec/acme/widgets.yaml:18:11:")
                && d.contains("`make-widget` is not a valid identifier")),
        "{found:?}"
    );
}

#[test]
fn a_group_in_a_family_file_is_refused() {
    let (_, functions) = BASE.split_once("functions:\n").unwrap();
    let found = family_files(WIDGETS_FAMILY, &format!("functions:\n{functions}"), &[]);
    assert!(
        found
            .iter()
            .any(|d| d.starts_with("spec/acme/widgets.yaml:5:")
                && d.contains("`group` is implied in a family file")),
        "{found:?}"
    );
}

#[test]
fn a_missing_family_file_is_reported_in_the_manifest() {
    let manifest = WIDGETS_FAMILY.replace("acme/widgets.yaml", "acme/gadgets.yaml");
    let found = family_files(&manifest, &widgets_file(), &[]);
    assert!(
        found.iter().any(|d| d.starts_with("spec/acme.yaml:12:76:")
            && d.contains("family file `acme/gadgets.yaml` does not exist")),
        "{found:?}"
    );
}

#[test]
fn a_family_file_no_family_lists_is_refused() {
    let found = family_files(
        WIDGETS_FAMILY,
        &widgets_file(),
        &[("spec/acme/gadgets.yaml", "functions: []\n")],
    );
    assert!(
        found
            .iter()
            .any(|d| d.starts_with("spec/acme/gadgets.yaml:1:1")
                && d.contains("no family in spec/acme.yaml lists this file")),
        "{found:?}"
    );
}

#[test]
fn groups_must_name_a_declared_family_and_families_need_functions() {
    let manifest = format!(
        "{WIDGETS_FAMILY}  - {{ name: gadgets, title: Gadgets, summary: Gadgets. }}\n  - {{ name: widgets, title: Again, summary: Again. }}\nfunctions:\n  - name: get_gizmo\n    slug: acme_get_gizmo\n    title: Get Gizmo\n    group: gizmos\n    summary: Get a gizmo.\n    description: Gets one.\n    operation: read\n    http: {{ method: GET, path: /gizmos }}\n    examples:\n      - {{ title: Get, lua: 'print(app.integrations.acme.get_gizmo({{}}))' }}\n"
    );
    let found = family_files(&manifest, &widgets_file(), &[]);
    for expected in [
        "group `gizmos` is not a declared family (gadgets, widgets)",
        "family `gadgets` has no functions; give it some or remove it",
        "duplicate family `widgets`: already declared at line 12",
    ] {
        assert!(
            found.iter().any(|d| d.contains(expected)),
            "{expected}: {found:?}"
        );
    }
}

#[test]
fn excluded_operations_are_named_once_with_a_reason() {
    let yaml = format!(
        "{BASE}excluded_operations:\n  - {{ operation: GetThing, reason: Old. }}\n  - {{ operation: GetThing, reason: \" \" }}\n"
    );
    let found = diagnostics(&yaml);
    for expected in [
        "operation `GetThing` is already excluded at line",
        "say why `GetThing` is excluded in `reason`",
    ] {
        assert!(
            found.iter().any(|d| d.contains(expected)),
            "{expected}: {found:?}"
        );
    }
}

#[test]
fn summaries_are_one_short_line() {
    let long = "x".repeat(81);
    assert_reports(
        &with("summary: Get a widget.", &format!("summary: {long}")),
        "spec/acme.yaml:12:11: the summary of `get_widget` must be one line of at most 80 characters (it is 81 characters); the namespace index shows it for every function, the description holds the rest",
    );
    assert_reports(
        &with(
            "summary: Make a widget.",
            "summary: |\n      Make\n      a widget.",
        ),
        "spec/acme.yaml:29:11: the summary of `make_widget` must be one line of at most 80 characters (it is 14 characters on 2 lines); the namespace index shows it for every function, the description holds the rest",
    );
    // 80 characters, multi-byte ones counted as one, is fine.
    assert_eq!(
        diagnostics(&with(
            "summary: Get a widget.",
            &format!("summary: {}", "é".repeat(80))
        )),
        Vec::<String>::new()
    );
    // A family's summary too.
    let family = format!(
        "families:\n  - {{ name: widgets, title: Widgets, summary: {long}, file: acme/widgets.yaml }}\n"
    );
    let found = family_files(&family, &widgets_file(), &[]);
    assert_eq!(
        found,
        [
            "spec/acme.yaml:12:13: the summary of family `widgets` must be one line of at most 80 characters (it is 81 characters); the namespace index shows it for every function, the description holds the rest"
        ]
    );
}

#[test]
fn guides_name_their_pages_and_keep_essentials_short() {
    let load = |guides: &str, files: &[&str]| -> Vec<String> {
        let yaml = with("functions:\n", &format!("guides:\n{guides}functions:\n"));
        let mut spec = BTreeMap::from([("spec/acme.yaml".to_string(), yaml)]);
        for file in files {
            spec.insert(format!("spec/{file}"), "Text.\n".to_string());
        }
        match kosmo_codegen::load(&spec) {
            Ok(providers) => {
                assert!(providers[0].guides.iter().all(|g| !g.name.is_empty()));
                Vec::new()
            }
            Err(d) => d.0.iter().map(ToString::to_string).collect(),
        }
    };
    assert_eq!(
        load(
            "  - { title: Start, file: guides/start.md, essentials: Call it. }\n",
            &["guides/start.md"]
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        load(
            "  - { title: Start, file: guides/start.md }\n  - { title: Again, file: more/start.md }\n",
            &["guides/start.md", "more/start.md"]
        ),
        [
            "spec/acme.yaml:13:27: guide `more/start.md` has the same page name, `start`, as the guide at line 12; rename one file"
        ]
    );
    assert_eq!(
        load(
            "  - { title: Start, file: guides/start here.md }\n",
            &["guides/start here.md"]
        ),
        [
            "spec/acme.yaml:12:27: guide file `guides/start here.md` must be a `.md` file named with ASCII letters, digits, `-` and `_`: its name is the page `<provider>.guide.<name>`"
        ]
    );
    let long = "y".repeat(301);
    assert_eq!(
        load(
            &format!("  - {{ title: Start, file: guides/start.md, essentials: {long} }}\n"),
            &["guides/start.md"]
        ),
        [
            "spec/acme.yaml:12:56: the essentials of guide `guides/start.md` must be prose of at most 300 characters without code blocks (they are 301 characters); the guide's page holds the rest"
        ]
    );
    let code = load(
        "  - title: Start\n    file: guides/start.md\n    essentials: |\n      ```lua\n      print(1)\n      ```\n",
        &["guides/start.md"],
    );
    assert!(
        code.iter().any(|d| d.contains("without code blocks")),
        "{code:?}"
    );
}

/// A function with a multipart body, appended to [`BASE`] (it starts at line 43).
const UPLOAD: &str = r#"  - name: upload_logo
    slug: acme_upload_logo
    title: Upload Logo
    group: widgets
    summary: Upload a logo.
    description: Uploads a widget's logo.
    operation: write
    http: { method: PUT, path: "/widgets/{widget_id}/logo", body: multipart }
    params:
      widget_id: { in: path, type: string, required: true, description: ID., example: w_1 }
      file:
        in: body
        type: file
        required: true
        content_types: [image/png, image/gif]
        max_bytes: 64
        description: The logo.
        example: { filename: logo.gif, content_base64: "R0lGODlhAQABAAAAACw=" }
      uploader: { in: body, type: string, description: Who., example: u_1 }
    examples:
      - title: Upload
        lua: |
          local logo = { content = "GIF89a", filename = "a.gif" }
          print(app.integrations.acme.upload_logo({ widget_id = "w_1", file = logo }))
"#;

/// [`BASE`] with [`UPLOAD`] after it, with one edit that must apply exactly once.
fn upload_with(from: &str, to: &str) -> String {
    let yaml = format!("{BASE}{UPLOAD}");
    assert_eq!(yaml.matches(from).count(), 1, "`{from}` must occur once");
    yaml.replacen(from, to, 1)
}

#[test]
fn a_multipart_function_with_a_file_is_valid() {
    assert_eq!(
        diagnostics(&format!("{BASE}{UPLOAD}")),
        Vec::<String>::new()
    );
}

#[test]
fn files_go_in_the_body_of_a_multipart_request() {
    assert_reports(
        &upload_with(", body: multipart }", " }"),
        "spec/acme.yaml:55:15: file parameter `file` of `upload_logo` needs `http.body: multipart`; a JSON body cannot carry a file",
    );
    assert_reports(
        &upload_with(
            "        in: body\n        type: file",
            "        in: query\n        type: file",
        ),
        "spec/acme.yaml:54:13: file parameter `file` of `upload_logo` must be `in: body`: a file is a part of a multipart body",
    );
    assert_reports(
        &upload_with(
            "method: PUT, path: \"/widgets/{widget_id}/logo\"",
            "method: GET, path: \"/widgets/{widget_id}/logo\"",
        ),
        "spec/acme.yaml:50:67: `upload_logo` declares a multipart body, but GET sends no body",
    );
}

#[test]
fn a_multipart_body_carries_only_text_fields_and_files() {
    assert_reports(
        &upload_with(
            "uploader: { in: body, type: string,",
            "uploader: { in: body, type: object,",
        )
        .replace("example: u_1 }", "example: { a: 1 } }"),
        "spec/acme.yaml:61:35: body parameter `uploader` of `upload_logo` is object, but a multipart body sends text fields and files: use string, integer, number or boolean",
    );
    assert_reports(
        &upload_with(
            "uploader: { in: body, type: string,",
            "uploader: { in: body, type: \"array<string>\",",
        )
        .replace("example: u_1 }", "example: [a] }"),
        "spec/acme.yaml:61:35: body parameter `uploader` of `upload_logo` is array<string>, but a multipart body sends text fields and files: use string, integer, number or boolean",
    );
    assert_reports(
        &upload_with(
            "uploader: { in: body, type: string,",
            "uploader: { in: body, type: object, spread: true,",
        )
        .replace("example: u_1 }", "example: { a: 1 } }"),
        "spec/acme.yaml:61:35: `spread` parameter `uploader` of `upload_logo` in a multipart body: each part needs a name of its own",
    );
}

#[test]
fn content_types_and_max_bytes_bound_only_files() {
    assert_reports(
        &upload_with(
            "type: string, description: Who.,",
            "type: string, max_bytes: 5, description: Who.,",
        ),
        "spec/acme.yaml:61:54: `max_bytes` on `uploader` of `upload_logo`, which is string, not a file",
    );
    assert_reports(
        &upload_with(
            "type: string, description: Who.,",
            "type: string, content_types: [text/plain], description: Who.,",
        ),
        "spec/acme.yaml:61:58: `content_types` on `uploader` of `upload_logo`, which is string, not a file",
    );
    assert_reports(
        &upload_with("content_types: [image/png, image/gif]", "content_types: []"),
        "spec/acme.yaml:57:24: `content_types` of `file` in `upload_logo` is empty; leave it out to accept any type",
    );
    assert_reports(
        &upload_with(
            "content_types: [image/png, image/gif]",
            "content_types: [image/png, GIF]",
        ),
        "spec/acme.yaml:57:24: `GIF` in `content_types` of `file` in `upload_logo` is not a lower-case media type such as image/png",
    );
    assert_reports(
        &upload_with("max_bytes: 64", "max_bytes: 0"),
        "spec/acme.yaml:58:20: `max_bytes` of `file` in `upload_logo` must be at least 1",
    );
    assert_reports(
        &upload_with(
            "        required: true\n        content_types",
            "        default: { content: x }\n        content_types",
        ),
        "spec/acme.yaml:56:18: file parameter `file` of `upload_logo` cannot have a default",
    );
    assert_reports(
        &upload_with(
            "        required: true\n        content_types",
            "        required: true\n        enum: [a]\n        content_types",
        ),
        "spec/acme.yaml:57:15: file parameter `file` of `upload_logo` cannot have an `enum`; use `content_types`",
    );
}

#[test]
fn file_examples_are_file_tables_that_fit_their_bounds() {
    let cases = [
        (
            "example: logo.gif",
            "is not a file table { content_base64, filename, content_type }",
        ),
        (
            "example: { filename: logo.gif, content: GIF89a, content_base64: \"R0lGODlhAQABAAAAACw=\" }",
            "must have exactly one of `content` and `content_base64`",
        ),
        (
            "example: { name: logo.gif, content_base64: \"R0lGODlhAQABAAAAACw=\" }",
            "has an unknown field `name`; a file takes content or content_base64, filename and content_type",
        ),
        (
            "example: { filename: logo.gif, content_base64: \"R0lG*\" }",
            "has `content_base64` that is not base64: Invalid symbol 42, offset 4.",
        ),
        ("example: { filename: logo.gif, content: \"\" }", "is empty"),
        (
            "example: { filename: logo.gif, content: \"0123456789012345678901234567890123456789012345678901234567890123456789\" }",
            "is 70 bytes, more than max_bytes 64",
        ),
        (
            "example: { content_type: image/jpeg, content_base64: \"R0lGODlhAQABAAAAACw=\" }",
            "has content_type image/jpeg, not one of content_types image/png, image/gif",
        ),
    ];
    for (example, problem) in cases {
        let yaml = upload_with(
            "example: { filename: logo.gif, content_base64: \"R0lGODlhAQABAAAAACw=\" }",
            example,
        );
        let found = diagnostics(&yaml);
        assert!(
            found
                .iter()
                .any(|d| d.starts_with("spec/acme.yaml:60:18: example ")
                    && d.ends_with(&format!("of `file` in `upload_logo` {problem}"))),
            "{example}: expected `{problem}`, found {found:#?}"
        );
    }
}

#[test]
fn openapi_required_is_only_for_a_known_difference() {
    assert_reports(
        &upload_with(
            "        required: true\n        content_types",
            "        required: true\n        openapi_required: true\n        content_types",
        ),
        "spec/acme.yaml:57:27: `openapi_required` of `file` in `upload_logo` is the same as `required`; remove it",
    );
    let differs = upload_with(
        "        required: true\n        content_types",
        "        required: true\n        openapi_required: false\n        content_types",
    );
    assert_eq!(diagnostics(&differs), Vec::<String>::new());
}

#[test]
fn the_file_type_is_spelled_file_and_has_no_arrays() {
    let found = diagnostics(&upload_with(
        "        type: file\n",
        "        type: \"array<file>\"\n",
    ));
    assert!(
        found.iter().any(|d| d.starts_with("spec/acme.yaml:55:")
            && d.contains("unknown type `array<file>`")
            && d.contains(", file")),
        "{found:?}"
    );
}

#[test]
fn explode_is_only_false_and_only_on_query_arrays() {
    let tags = |extra: &str| {
        with(
            "      status: { in: query, type: string, enum: [on, off], description: Status., example: \"on\" }\n",
            &format!(
                "      status: {{ in: query, type: string, enum: [on, off], description: Status., example: \"on\" }}\n      tags: {{ in: query, type: \"array<string>\", {extra}description: Tags., example: [a, b] }}\n"
            ),
        )
    };
    assert_eq!(diagnostics(&tags("explode: false, ")), Vec::<String>::new());
    let found = diagnostics(&tags("explode: true, "));
    assert!(
        found
            .iter()
            .any(|d| d
                .ends_with("`explode: true` of `tags` in `get_widget` is the default; remove it")),
        "{found:?}"
    );
    let on_a_string = with(
        "type: string, enum: [on, off]",
        "type: string, explode: false, enum: [on, off]",
    );
    let found = diagnostics(&on_a_string);
    assert!(
        found.iter().any(|d| d.ends_with(
            "`explode` of `status` in `get_widget` is only for query arrays (`in: query`, `type: array<…>`)"
        )),
        "{found:?}"
    );
}

#[test]
fn a_json_array_body_is_one_required_array_parameter() {
    let bulk = |params: &str| {
        with(
            "    http: { method: POST, path: /widgets }\n    params:\n      name: { in: body, type: string, required: true, description: Name., example: Cog }\n",
            &format!(
                "    http: {{ method: POST, path: /widgets, body: json_array }}\n    params:\n{params}"
            ),
        )
    };
    let one_array = "      widgets: { in: body, type: \"array<object>\", required: true, description: Widgets., example: [{ name: Cog }] }\n";
    // The base example passes `name`; a bulk function's own example is checked like any other.
    let valid = bulk(one_array).replace(
        "print(app.integrations.acme.make_widget({ name = \"Cog\" }))",
        "print(app.integrations.acme.make_widget({ widgets = { { name = \"Cog\" } } }))",
    );
    assert_eq!(diagnostics(&valid), Vec::<String>::new());

    let cases = [
        (
            format!("{one_array}      note: {{ in: body, type: string, description: Note., example: n }}\n"),
            "`make_widget` declares a json_array body, which needs exactly one body parameter (the array), not 2",
        ),
        (
            "      widgets: { in: body, type: object, required: true, description: Widgets., example: { name: Cog } }\n".to_string(),
            "body parameter `widgets` of `make_widget` is the whole json_array body, so it must be an array, not object",
        ),
        (
            "      widgets: { in: body, type: \"array<object>\", description: Widgets., example: [{ name: Cog }] }\n".to_string(),
            "body parameter `widgets` of `make_widget` is the whole json_array body, so it must be `required: true`",
        ),
    ];
    for (params, expected) in cases {
        let found = diagnostics(&bulk(&params));
        assert!(
            found.iter().any(|d| d.ends_with(expected)),
            "expected `{expected}`, found {found:#?}"
        );
    }
    let on_get = with(
        "    http: { method: GET, path: \"/widgets/{widget_id}\" }",
        "    http: { method: GET, path: \"/widgets/{widget_id}\", body: json_array }",
    );
    let found = diagnostics(&on_get);
    assert!(
        found
            .iter()
            .any(|d| d.ends_with("`get_widget` declares a json_array body, but GET sends no body")),
        "{found:#?}"
    );
}
