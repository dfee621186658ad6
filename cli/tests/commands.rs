//! Discovery and configuration commands, which need no provider server.

use crate::common;

use common::Kosmo;
use kosmo_integrations::clerk::meta::PROVIDER;
use serde_json::Value;

const SECRET: &str = "sk_test_configuredsecret0123456789";

#[test]
fn list_shows_every_function_and_masks_secrets() {
    let mut kosmo = Kosmo::new();
    kosmo.env("CLERK_SECRET_KEY", SECRET);
    let run = kosmo.run(&["integrations:list", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    let clerk = &json["integrations"][0];
    assert_eq!(clerk["name"], "clerk");
    assert_eq!(
        clerk["functions"].as_array().unwrap().len(),
        PROVIDER.functions.len()
    );
    let account = &clerk["accounts"][0];
    assert_eq!(account["name"], "default");
    assert_eq!(account["configured"], true);
    assert_eq!(account["credentials"]["secret_key"]["value"], "sk_…6789");
    assert_eq!(
        account["credentials"]["secret_key"]["source"],
        "$CLERK_SECRET_KEY"
    );
    assert_eq!(account["permissions"]["read"], "allow");
    assert_eq!(account["permissions"]["write"], "ask");
    assert!(!run.stdout.contains(SECRET));

    let run = kosmo.run(&["integrations:list"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("clerk (Clerk) - enabled"));
    assert!(run.stdout.contains("get_user"));
    assert!(!run.stdout.contains(SECRET));
}

#[test]
fn configure_writes_a_private_file_and_never_prints_the_secret() {
    let kosmo = Kosmo::new();
    let run = kosmo.run(&[
        "integrations:configure",
        "clerk",
        "--set",
        &format!("secret_key={SECRET}"),
        "--set",
        "url=http://127.0.0.1:9/v1",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains(SECRET) && !run.stderr.contains(SECRET));
    assert!(
        run.stdout.contains("secret_key = sk_…6789"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("url = http://127.0.0.1:9/v1"));

    let file = kosmo.kosmo_home().join("integrations.json");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        saved["integrations"]["clerk"]["accounts"]["default"]["credentials"]["secret_key"],
        SECRET
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // The configured credentials are used: a dry run shows the configured URL.
    let (code, env) = kosmo.lua(
        r#"return app.integrations.clerk.revoke_session({ session_id = "sess_1" })"#,
        &["--dry-run"],
    );
    assert_eq!(code, 0, "{env:#}");
    assert_eq!(
        env["result"][0]["url"],
        "http://127.0.0.1:9/v1/sessions/sess_1/revoke"
    );

    let run = kosmo.run(&["integrations:configure", "clerk", "--unset", "secret_key"]);
    assert_eq!(run.code, 0);
    assert!(!run.stdout.contains("secret_key"));
}

#[test]
fn publishable_keys_and_bad_input_are_refused() {
    let kosmo = Kosmo::new();
    let run = kosmo.run(&[
        "integrations:configure",
        "clerk",
        "--set",
        "secret_key=pk_test_abcdefghijklmnopqrstuvwxyz",
    ]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("publishable key"), "{}", run.stderr);
    assert!(!kosmo.kosmo_home().join("integrations.json").exists());

    assert_eq!(
        kosmo
            .run(&["integrations:configure", "clerk", "--write", "sometimes"])
            .code,
        2
    );
    assert_eq!(
        kosmo
            .run(&["integrations:configure", "clerk", "--set", "colour=blue"])
            .code,
        2
    );
    assert_eq!(kosmo.run(&["integrations:configure", "slack"]).code, 2);
}

#[test]
fn a_readable_secret_file_gets_a_warning() {
    let kosmo = Kosmo::new();
    let run = kosmo.run(&[
        "integrations:configure",
        "clerk",
        "--set",
        &format!("secret_key={SECRET}"),
    ]);
    assert_eq!(run.code, 0);
    let file = kosmo.kosmo_home().join("integrations.json");
    let run = kosmo.run(&["integrations:list"]);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let run = kosmo.run(&["integrations:list"]);
        assert!(
            run.stderr
                .contains("holds a secret and other users can read it"),
            "{}",
            run.stderr
        );
        // With --json the warning stays on stderr.
        let (code, _) = kosmo.lua("return 1", &[]);
        assert_eq!(code, 0);
    }
}

#[test]
fn named_accounts_and_project_policy() {
    let kosmo = Kosmo::new();
    let run = kosmo.run(&[
        "integrations:configure",
        "clerk",
        "--account",
        "work",
        "--set",
        &format!("secret_key={SECRET}"),
        "--set",
        "url=http://127.0.0.1:9/v2",
        "--write",
        "allow",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (code, env) = kosmo.lua(
        r#"return type(app.integrations.clerk.work), type(app.integrations.clerk.default.get_user),
                  app.integrations.clerk.work.delete_user({ id = "user_1" })"#,
        &["--dry-run"],
    );
    assert_eq!(code, 0, "{env:#}");
    assert_eq!(env["result"][0], "table");
    assert_eq!(env["result"][1], "function");
    assert_eq!(
        env["result"][2]["url"],
        "http://127.0.0.1:9/v2/users/user_1"
    );
    assert_eq!(env["result"][2]["policy"], "allow");
    assert_eq!(
        env["integration_calls"][0]["path"],
        "integrations.clerk.work.delete_user"
    );

    // A project file overrides the global policy.
    std::fs::create_dir_all(kosmo.project.path().join(".kosmo")).unwrap();
    std::fs::write(
        kosmo.project.path().join(".kosmo/integrations.json"),
        r#"{"integrations": {"clerk": {"accounts": {"work": {"permissions": {"write": "deny"}}}}}}"#,
    )
    .unwrap();
    let (code, env) = kosmo.lua(
        r#"return app.integrations.clerk.work.delete_user({ id = "user_1" })"#,
        &["--dry-run"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        env["error"],
        "Integration 'clerk' write access denied. Enable it in /settings → Integrations"
    );

    let run = kosmo.run(&["integrations:configure", "clerk", "--json"]);
    let view = run.json();
    let work = view["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "work")
        .unwrap();
    assert_eq!(work["permissions"]["write"], "deny");
    assert_eq!(view["files"].as_array().unwrap().len(), 2);

    // An unknown account in a call is an error, not a silent fallback.
    let run = kosmo.run(&[
        "integrations:call",
        "clerk.get_user",
        "--id=user_1",
        "--account",
        "home",
        "--json",
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.json()["error"]
            .as_str()
            .unwrap()
            .contains("account `home` is not configured")
    );
}

#[test]
fn a_disabled_integration_refuses_calls() {
    let kosmo = Kosmo::new();
    assert_eq!(
        kosmo
            .run(&["integrations:configure", "clerk", "--disable"])
            .code,
        0
    );
    let (code, env) = kosmo.lua("return app.integrations.clerk.list_users({})", &["--force"]);
    assert_eq!(code, 1);
    assert!(
        env["error"].as_str().unwrap().contains("is disabled"),
        "{env:#}"
    );
    assert_eq!(
        kosmo
            .run(&["integrations:configure", "clerk", "--enable"])
            .code,
        0
    );
}

#[test]
fn list_groups_functions_by_family_and_filters_with_group() {
    let kosmo = Kosmo::new();
    let run = kosmo.run(&["integrations:list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = &run.stdout;
    assert!(
        text.contains(&format!(
            "clerk (Clerk) - enabled, {} functions in {} families\n",
            PROVIDER.functions.len(),
            PROVIDER.families.len()
        )),
        "{text}"
    );
    // Each family's heading, then its functions, in the manifest's order.
    let mut at = 0;
    for family in PROVIDER.families {
        let heading = format!(
            "\n  {} ({}): {}\n",
            family.title, family.name, family.summary
        );
        at += text[at..]
            .find(&heading)
            .unwrap_or_else(|| panic!("{heading:?} missing or out of order in\n{text}"));
        for function in PROVIDER.family_functions(family.name) {
            let line = format!("\n    {} ", function.name);
            at += text[at..]
                .find(&line)
                .unwrap_or_else(|| panic!("{} not under {}", function.name, family.name));
        }
    }

    let json = kosmo.run(&["integrations:list", "--json"]).json();
    let clerk = &json["integrations"][0];
    assert_eq!(
        clerk["families"].as_array().unwrap().len(),
        PROVIDER.families.len()
    );
    assert_eq!(clerk["families"][1]["name"], "users");
    assert_eq!(clerk["families"][1]["functions"][0], "list_users");
    assert_eq!(clerk["functions"][5]["group"], "users");

    // --group, repeated or with commas, keeps those families.
    for args in [
        &[
            "integrations:list",
            "--group",
            "sessions",
            "--group",
            "sign_in_tokens",
            "--json",
        ][..],
        &[
            "integrations:list",
            "--group",
            "sessions,clerk.sign_in_tokens",
            "--json",
        ][..],
    ] {
        let run = kosmo.run(args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let clerk = &run.json()["integrations"][0];
        let families: Vec<&str> = clerk["families"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(families, ["sessions", "sign_in_tokens"]);
        let functions: Vec<&str> = clerk["functions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            functions,
            [
                "list_sessions",
                "get_session",
                "revoke_session",
                "create_session",
                "create_session_token",
                "create_session_token_from_template",
                "refresh_session",
                "create_sign_token",
                "revoke_sign_token"
            ]
        );
        assert_eq!(clerk["function_count"], PROVIDER.functions.len());
    }
    let run = kosmo.run(&["integrations:list", "--group", "sessions"]);
    assert!(run.stdout.contains(&format!(
        "7 of {} functions, in 1 of {} families",
        PROVIDER.functions.len(),
        PROVIDER.families.len()
    )));
    assert!(!run.stdout.contains("get_user"), "{}", run.stdout);

    // An unknown group is a usage error with the closest names and the known ones.
    let run = kosmo.run(&["integrations:list", "--group", "sesions"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(
            "unknown group `sesions`. Did you mean: sessions? Groups: raw, users, email_addresses, phone_numbers, sessions,"
        ),
        "{}",
        run.stderr
    );

    // The same filter on search and on the page list and catalog of integrations:docs.
    let run = kosmo.run(&["integrations:search", "revoke", "--group", "sessions"]);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "clerk.revoke_session - Revoke a session, signing that device out."
    );
    assert!(
        lines.iter().all(|l| l.starts_with("clerk.list_sessions ")
            || l.starts_with("clerk.get_session ")
            || l.starts_with("clerk.revoke_session ")
            || l.starts_with("clerk.create_session")
            || l.starts_with("clerk.refresh_session ")),
        "{lines:?}"
    );
    assert_eq!(
        kosmo
            .run(&["integrations:search", "revoke", "--group", "x"])
            .code,
        2
    );
    let run = kosmo.run(&["integrations:docs", "--group", "sign_in_tokens"]);
    assert_eq!(
        run.stdout,
        "clerk.family.sign_in_tokens\n  clerk.create_sign_token\n  clerk.revoke_sign_token\n"
    );
    let run = kosmo.run(&[
        "integrations:docs",
        "clerk",
        "--format",
        "json",
        "--group",
        "sign_in_tokens",
    ]);
    let catalog = run.json();
    assert_eq!(catalog["families"].as_array().unwrap().len(), 1);
    assert_eq!(catalog["functions"].as_array().unwrap().len(), 2);
    let run = kosmo.run(&["integrations:docs", "clerk.get_user", "--group", "users"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--group filters the list of pages"));
}

#[test]
fn a_broken_config_file_is_reported() {
    let kosmo = Kosmo::new();
    std::fs::create_dir_all(kosmo.kosmo_home()).unwrap();
    std::fs::write(kosmo.kosmo_home().join("integrations.json"), "{ not json").unwrap();
    let run = kosmo.run(&["integrations:list"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("not a valid configuration file"));
}

#[test]
fn docs_command_prints_pages_in_three_formats() {
    let kosmo = Kosmo::new();
    let run = kosmo.run(&["integrations:docs", "clerk"]);
    assert_eq!(run.code, 0);
    let page = kosmo_integrations::clerk::docs::DOCS
        .provider_page
        .split_once('\n')
        .unwrap()
        .1;
    assert_eq!(run.stdout.trim_end(), page.trim_end());

    let run = kosmo.run(&["integrations:docs", "clerk.get_user", "--format", "text"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.starts_with("clerk.get_user\n"));
    assert!(!run.stdout.contains('`'));

    let run = kosmo.run(&["integrations:docs", "clerk.get_user", "--format", "json"]);
    assert_eq!(run.code, 0);
    let entry = run.json();
    assert_eq!(entry["function_name"], "get_user");
    assert_eq!(entry["lua_path"], "app.integrations.clerk.get_user");

    let run = kosmo.run(&["integrations:docs", "clerk", "--format", "json"]);
    assert_eq!(run.json()["provider"]["name"], "clerk");

    // The page list: each function indented under its family's page.
    let run = kosmo.run(&["integrations:docs"]);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let family = lines
        .iter()
        .position(|l| *l == "clerk.family.users")
        .unwrap();
    assert_eq!(lines[family + 1], "  clerk.list_users");
    assert!(lines.contains(&"app.integrations.clerk"));
    assert!(lines.contains(&"clerk.guide.pagination"));
    let run = kosmo.run(&["integrations:docs", "--format", "json"]);
    assert_eq!(
        run.json(),
        serde_json::json!(kosmo_host::DocsIndex::new(&kosmo_integrations::INTEGRATIONS).list())
    );

    let run = kosmo.run(&[
        "integrations:docs",
        "clerk.family.sessions",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["functions"][0]["function_name"], "list_sessions");

    let run = kosmo.run(&["integrations:docs", "clerk.nope"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("Unknown docs page"));
}

#[test]
fn schema_prints_the_input_schema() {
    let kosmo = Kosmo::new();
    let run = kosmo.run(&["integrations:schema", "clerk.get_user"]);
    assert_eq!(run.code, 0);
    // The schema is kept once, in the catalog.
    let catalog: Value =
        serde_json::from_str(kosmo_integrations::clerk::docs::DOCS.catalog_json).unwrap();
    let expected = catalog["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["function_name"] == "get_user")
        .unwrap()["input_schema"]
        .clone();
    assert_eq!(run.json(), expected);
    assert_eq!(run.json()["required"][0], "id");
    // The full slug resolves too.
    let run = kosmo.run(&["integrations:schema", "clerk.clerk_get_user"]);
    assert_eq!(run.json(), expected);
    let run = kosmo.run(&["integrations:schema", "clerk.get_usr"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("Did you mean: get_user"));
    assert_eq!(kosmo.run(&["integrations:schema", "get_user"]).code, 2);
}

#[test]
fn search_finds_functions() {
    let kosmo = Kosmo::new();
    let run = kosmo.run(&["integrations:search", "organization", "invitation"]);
    assert_eq!(run.code, 0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines.iter().all(|l| l.starts_with("clerk.")));
    assert!(lines.contains(&"clerk.create_organization_invitation - Invite an email address to join an organization with a role."));
    assert!(
        lines.iter().all(|l| !l.starts_with("clerk.list_users ")),
        "{lines:?}"
    );
    let run = kosmo.run(&["integrations:search", "zzzz-nothing"]);
    assert_eq!(run.code, 1);
    let run = kosmo.run(&["integrations:search", "user", "--json"]);
    assert!(run.json().as_array().unwrap().len() > 5);
}

#[test]
fn call_checks_arguments_and_policy_before_sending() {
    let kosmo = Kosmo::with_clerk("http://127.0.0.1:9/v1", SECRET);
    // Validation.
    let run = kosmo.run(&["integrations:call", "clerk.get_user", "--json"]);
    assert_eq!(run.code, 1);
    let json = run.json();
    assert_eq!(json["error"], "get_user: id is required.");
    assert_eq!(json["success"], false);
    assert_eq!(json["meta"]["operation"], "read");

    // Policy.
    let run = kosmo.run(&[
        "integrations:clerk",
        "ban_user",
        "--user-id=user_1",
        "--json",
    ]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.json()["error"],
        "Integration 'clerk' write requires approval. Ask the user to change the permission in /settings → Integrations"
    );

    // Dry run: reads and writes both return the request; flags merge over the JSON payload,
    // kebab-case becomes snake_case and values follow the parameter types.
    let run = kosmo.run(&[
        "integrations:call",
        "clerk.list_users",
        r#"{"limit": 5, "query": "x"}"#,
        "--query=alex",
        "--email-address=a@example.test",
        "--dry-run",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["meta"]["dry_run"], true);
    assert_eq!(json["meta"]["account"], "default");
    assert_eq!(json["data"]["method"], "GET");
    let url = json["data"]["url"].as_str().unwrap();
    assert!(url.contains("query=alex"), "{url}");
    assert!(url.contains("limit=5"), "{url}");
    assert!(url.contains("email_address=a%40example.test"), "{url}");

    // The JSON payload can come from stdin.
    let run = kosmo.run_with_stdin(
        &["integrations:clerk", "update_user", "--dry-run", "--json"],
        r#"{"id": "user_1", "first_name": "Ada"}"#,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["data"]["method"], "PATCH");
    assert_eq!(json["data"]["body"]["first_name"], "Ada");

    // Bad JSON is bad usage.
    assert_eq!(
        kosmo
            .run(&["integrations:call", "clerk.get_user", "{nope"])
            .code,
        2
    );
    // Unknown function.
    let run = kosmo.run(&["integrations:call", "clerk.get_usr", "--json"]);
    assert_eq!(run.code, 1);
    assert!(
        run.json()["error"]
            .as_str()
            .unwrap()
            .contains("Did you mean: get_user")
    );
    // The shortcut with no function prints the provider doc.
    let run = kosmo.run(&["integrations:clerk"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.starts_with("# Clerk"));
}
