//! Every command end to end against the Clerk emulator, including the reference page's command
//! lines verbatim.

use crate::common;

use clerk_emulator::{Config, Emulator, ObjectKind};
use common::{Kosmo, assert_envelope_shape, error_of};
use serde_json::{Value, json};

fn start(users: usize) -> (Emulator, Kosmo) {
    let emulator = Emulator::spawn(Config::without_limits()).unwrap();
    emulator.seed(users, 0);
    let kosmo = Kosmo::with_clerk(&emulator.base_url(), emulator.secret_key());
    (emulator, kosmo)
}

/// The reference's workflow file, with its defect fixed: `api_get` needs a `path`.
const WORKFLOW: &str = r#"local clerk = app.integrations.clerk
local result = clerk.api_get({ path = "/users" })

dump(result)
"#;

/// Runs one of the reference's command lines, split as a shell would split it.
fn reference_line(kosmo: &Kosmo, line: &str) -> common::Run {
    let args = shell_words(line);
    assert_eq!(args[0], "kosmo");
    let args: Vec<&str> = args[1..].iter().map(String::as_str).collect();
    kosmo.run(&args)
}

/// Splits a command line with single-quoted arguments, as the reference writes them.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut in_word = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                in_word = true;
            }
            ' ' if !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            c => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    words
}

#[test]
fn the_reference_command_lines_work_verbatim() {
    let (_emulator, kosmo) = start(3);
    kosmo.write_project_file("workflow.lua", WORKFLOW);

    let run = reference_line(
        &kosmo,
        r#"kosmo integrations:lua --eval 'dump(app.integrations.clerk.list_users({}))' --json"#,
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let env = run.json();
    assert_envelope_shape(&env);
    assert_eq!(env["success"], true);
    assert_eq!(
        env["output"]
            .as_str()
            .unwrap()
            .matches("object: user")
            .count(),
        3
    );
    assert_eq!(
        env["integration_calls"][0]["path"],
        "integrations.clerk.list_users"
    );
    assert_eq!(env["integration_calls"][0]["status"], "ok");
    assert_eq!(env["integration_calls"][0]["group"], "clerk");

    let run = reference_line(
        &kosmo,
        r#"kosmo integrations:lua --eval 'print(docs.read("clerk"))' --json"#,
    );
    assert_eq!(run.code, 0);
    assert!(
        run.json()["output"]
            .as_str()
            .unwrap()
            .starts_with("# Clerk (`clerk`)")
    );

    let run = reference_line(
        &kosmo,
        r#"kosmo integrations:lua --eval 'print(docs.read("clerk.api_get"))' --json"#,
    );
    assert_eq!(run.code, 0);
    assert!(
        run.json()["output"]
            .as_str()
            .unwrap()
            .starts_with("# clerk.api_get")
    );

    for line in [
        "kosmo integrations:lua workflow.lua --json",
        "kosmo integrations:lua workflow.lua --force --json",
    ] {
        let run = reference_line(&kosmo, line);
        assert_eq!(run.code, 0, "{line}: {}{}", run.stdout, run.stderr);
        let env = run.json();
        assert_envelope_shape(&env);
        assert_eq!(
            env["output"]
                .as_str()
                .unwrap()
                .matches("object: user")
                .count(),
            3
        );
        assert_eq!(
            env["integration_calls"][0]["path"],
            "integrations.clerk.api_get"
        );
        // Reads need no bypass.
        assert_eq!(env["meta"]["permission_bypassed"], false);
    }
}

const WRITE_WORKFLOW: &str = r#"local clerk = app.integrations.clerk
local user = clerk.create_user({ email_address = { "new@example.test" }, first_name = "Ada" })
return user
"#;

#[test]
fn a_write_is_refused_without_force_shown_with_dry_run_and_run_with_force() {
    let (emulator, kosmo) = start(1);
    let file = kosmo.write_project_file("write.lua", WRITE_WORKFLOW);
    let file = file.to_str().unwrap();

    let run = kosmo.run(&["integrations:lua", file, "--json"]);
    assert_eq!(run.code, 1);
    let env = run.json();
    assert_envelope_shape(&env);
    assert_eq!(
        error_of(&env),
        "Integration 'clerk' write requires approval. Ask the user to change the permission in /settings → Integrations"
    );
    assert_eq!(emulator.count(ObjectKind::User), 1);

    let run = kosmo.run(&["integrations:lua", file, "--dry-run", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let env = run.json();
    assert_eq!(env["meta"]["dry_run"], true);
    let request = &env["result"][0];
    assert_eq!(request["method"], "POST");
    assert_eq!(request["url"], format!("{}/users", emulator.base_url()));
    assert_eq!(
        request["body"],
        json!({"email_address": ["new@example.test"], "first_name": "Ada"})
    );
    assert!(!run.stdout.contains(emulator.secret_key()));
    assert_eq!(emulator.count(ObjectKind::User), 1);
    // Neither the refused run nor the dry run sent anything.
    assert!(emulator.take_requests().is_empty());

    let run = kosmo.run(&["integrations:lua", file, "--force", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let env = run.json();
    assert_eq!(env["meta"]["permission_bypassed"], true);
    assert_eq!(env["result"][0]["first_name"], "Ada");
    assert!(
        env["result"][0]["id"]
            .as_str()
            .unwrap()
            .starts_with("user_")
    );
    assert_eq!(emulator.count(ObjectKind::User), 2);
    let sent = emulator.take_requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "POST");
    assert_eq!(sent[0].path, "/v1/users");
    assert_eq!(
        sent[0].header("authorization"),
        Some(format!("Bearer {}", emulator.secret_key()).as_str())
    );
    assert_eq!(
        sent[0].json,
        Some(json!({"email_address": ["new@example.test"], "first_name": "Ada"}))
    );

    // Reads still run in a dry run.
    let (code, env) = kosmo.lua(
        "return app.integrations.clerk.count_users({})",
        &["--dry-run"],
    );
    assert_eq!(code, 0);
    assert_eq!(env["result"][0]["total_count"], 2);

    // With write=allow no force is needed.
    assert_eq!(
        kosmo
            .run(&["integrations:configure", "clerk", "--write", "allow"])
            .code,
        0
    );
    let run = kosmo.run(&[
        "integrations:lua",
        "--eval",
        r#"return app.integrations.clerk.create_user({ email_address = { "other@example.test" } }).id"#,
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["meta"]["permission_bypassed"], false);
    assert_eq!(emulator.count(ObjectKind::User), 3);
}

#[test]
fn api_errors_reach_scripts_as_objects() {
    let (_emulator, kosmo) = start(1);
    let (code, env) = kosmo.lua(
        r#"local ok, err = pcall(app.integrations.clerk.get_user, { id = "user_missing" })
           return ok, tostring(err), err.kind, err.status, type(err.code), type(err.message)"#,
        &[],
    );
    assert_eq!(code, 0, "{env:#}");
    assert_eq!(env["result"][0], false);
    assert!(
        env["result"][1]
            .as_str()
            .unwrap()
            .starts_with("Clerk API error (404): "),
        "{env:#}"
    );
    assert_eq!(env["result"][2], "api");
    assert_eq!(env["result"][3], 404);
    assert_eq!(env["result"][4], "string");
    assert_eq!(env["result"][5], "string");

    // Uncaught: exit 1, the message in the envelope, the call recorded as failed.
    let (code, env) = kosmo.lua(
        r#"return app.integrations.clerk.get_user({ id = "user_missing" })"#,
        &[],
    );
    assert_eq!(code, 1);
    assert_envelope_shape(&env);
    assert!(error_of(&env).starts_with("Clerk API error (404): "));
    let call = &env["integration_calls"][0];
    assert_eq!(call["status"], "error");
    assert_eq!(call["error"], env["error"]);
    assert_eq!(call["name"], "Get User");
}

#[test]
fn full_slugs_accounts_and_results_round_trip() {
    let (emulator, kosmo) = start(2);
    let (code, env) = kosmo.lua(
        r#"local clerk = app.integrations.clerk
           local users = clerk.clerk_list_users({ limit = 1 })
           local one = clerk.default.get_user({ id = users[1].id })
           return #users, one.id == users[1].id, clerk.health_check({}).connected"#,
        &[],
    );
    assert_eq!(code, 0, "{env:#}");
    assert_eq!(env["result"], json!([1, true, true]));
    assert_eq!(env["integration_calls"].as_array().unwrap().len(), 3);

    // A named account from the configuration file, pointing at the same emulator.
    let run = kosmo.run(&[
        "integrations:configure",
        "clerk",
        "--account",
        "work",
        "--set",
        &format!("secret_key={}", emulator.secret_key()),
        "--set",
        &format!("url={}", emulator.base_url()),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains(emulator.secret_key()));
    let (code, env) = kosmo.lua(
        "return app.integrations.clerk.work.count_users({}).total_count",
        &[],
    );
    assert_eq!(code, 0, "{env:#}");
    assert_eq!(env["result"], json!([2]));
    assert_eq!(
        env["integration_calls"][0]["path"],
        "integrations.clerk.work.count_users"
    );
}

#[test]
fn credentials_from_the_config_file_alone_work() {
    let emulator = Emulator::spawn(Config::without_limits()).unwrap();
    emulator.seed(1, 0);
    let kosmo = Kosmo::new();
    let run = kosmo.run(&[
        "integrations:configure",
        "clerk",
        "--set",
        &format!("secret_key={}", emulator.secret_key()),
        "--set",
        &format!("url={}", emulator.base_url()),
    ]);
    assert_eq!(run.code, 0);
    let (code, env) = kosmo.lua(
        "return app.integrations.clerk.count_users({}).total_count",
        &[],
    );
    assert_eq!(code, 0, "{env:#}");
    assert_eq!(env["result"], json!([1]));
    let run = kosmo.run(&["integrations:list", "--json"]);
    assert_eq!(
        run.json()["integrations"][0]["accounts"][0]["configured"],
        true
    );
}

#[test]
fn call_and_the_shortcut_run_functions() {
    let (emulator, kosmo) = start(2);
    let run = kosmo.run(&[
        "integrations:call",
        "clerk.list_users",
        "--limit=1",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(
        json.as_object().unwrap().keys().collect::<Vec<_>>(),
        [
            "function",
            "success",
            "data",
            "error",
            "meta",
            "duration_ms"
        ]
    );
    assert_eq!(json["function"], "clerk.list_users");
    assert_eq!(json["success"], true);
    assert_eq!(json["meta"]["operation"], "read");
    let id = json["data"][0]["id"].as_str().unwrap().to_string();

    let run = kosmo.run(&["integrations:clerk", "get_user", &format!("--id={id}")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let data: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(data["id"], id);

    let run = kosmo.run(&[
        "integrations:call",
        "clerk.update_user",
        &format!(r#"{{"id": "{id}"}}"#),
        "--first-name=Grace",
        "--json",
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.json()["error"]
            .as_str()
            .unwrap()
            .contains("requires approval")
    );

    let run = kosmo.run(&[
        "integrations:call",
        "clerk.update_user",
        &format!(r#"{{"id": "{id}"}}"#),
        "--first-name=Grace",
        "--force",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let json = run.json();
    assert_eq!(json["data"]["first_name"], "Grace");
    assert_eq!(json["meta"]["permission_bypassed"], true);

    let run = kosmo.run(&[
        "integrations:call",
        "clerk.get_user",
        "--id=user_missing",
        "--json",
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("Clerk API error (404)")
    );
    assert_eq!(emulator.count(ObjectKind::User), 2);
}

#[test]
fn a_file_travels_as_base64_in_json_arguments_and_arrives_byte_for_byte() {
    let (emulator, kosmo) = start(1);
    let user = emulator_user(&kosmo);
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(0..=255u8);
    let base64 = kosmo_runtime::file::encode_base64(&bytes);
    let args =
        json!({"user_id": user, "file": {"content_base64": base64, "filename": "avatar.png"}});

    // A dry run shows the file by name, type and size, and sends nothing.
    emulator.take_requests();
    let run = kosmo.run(&[
        "integrations:call",
        "clerk.set_user_profile_image",
        &args.to_string(),
        "--dry-run",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.json()["data"]["body"],
        json!({"file": {"filename": "avatar.png", "content_type": "image/png", "size": bytes.len()}})
    );
    assert!(emulator.take_requests().is_empty());

    let run = kosmo.run(&[
        "integrations:call",
        "clerk.set_user_profile_image",
        &args.to_string(),
        "--force",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["data"]["has_image"], true);
    let requests = emulator.take_requests();
    let request = &requests[0];
    let parts =
        clerk_emulator::multipart::parse(request.header("content-type").unwrap(), &request.body)
            .unwrap();
    assert_eq!(parts[0].filename.as_deref(), Some("avatar.png"));
    assert_eq!(parts[0].content_type.as_deref(), Some("image/png"));
    assert_eq!(parts[0].data, bytes);

    // The same file as a flag; a text file is refused before sending.
    let run = kosmo.run(&[
        "integrations:clerk",
        "set_user_profile_image",
        &format!("--user-id={user}"),
        r#"--file={"content": "plain words", "filename": "notes.txt"}"#,
        "--force",
        "--json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.json()["error"]
            .as_str()
            .unwrap()
            .contains("file has content type text/plain, which is not accepted"),
        "{}",
        run.stdout
    );
    assert!(emulator.take_requests().is_empty());
}

/// The ID of the first user.
fn emulator_user(kosmo: &Kosmo) -> String {
    let run = kosmo.run(&[
        "integrations:call",
        "clerk.list_users",
        "--limit=1",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.json()["data"][0]["id"].as_str().unwrap().to_string()
}
