//! Whole collections: `integrations:call --all` (JSON Lines on stdout) and
//! `integrations:export` (JSON Lines or CSV, to a file through `FILE.partial`), through the real
//! `kosmo` binary against the emulator; the `pacedMs` and `paced_ms` fields; pacing settings.

use crate::common;

use std::collections::HashSet;

use clerk_emulator::{Config, Emulator, Fault, FaultKind};
use common::{Kosmo, assert_envelope_shape};
use serde_json::Value;

/// An emulator without Clerk's limits (these tests are about what the CLI sends; pacing has its
/// own tests, in which the pacer, not the emulator, must do the refusing) and a `kosmo` for it.
fn start(users: usize, organizations: usize) -> (Emulator, Kosmo) {
    let emulator = Emulator::spawn(Config::without_limits()).unwrap();
    emulator.seed(users, organizations);
    let kosmo = Kosmo::with_clerk(&emulator.base_url(), emulator.secret_key());
    (emulator, kosmo)
}

/// Each line of `text` as JSON.
fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
        })
        .collect()
}

/// The recorded requests with this method and wire path, as `limit=…&offset=…` queries.
fn queries(emulator: &Emulator, method: &str, path: &str) -> Vec<String> {
    emulator
        .requests()
        .iter()
        .filter(|r| r.method == method && r.path == path)
        .map(|r| r.raw_query.clone().unwrap_or_default())
        .collect()
}

fn ids(items: &[Value]) -> HashSet<String> {
    items
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_string())
        .collect()
}

/// A fault that lets the first page of users through and fails every later one with a 400
/// that is not JSON (not retried).
fn fail_after_first_page(emulator: &Emulator) {
    emulator.inject(
        Fault::new(FaultKind::NonJson {
            status: 400,
            content_type: "text/html".into(),
            body: "<h1>Bad request</h1>".into(),
        })
        .on("GET", "/v1/users")
        .skip(1)
        .times(usize::MAX),
    );
}

#[test]
fn all_streams_every_user_as_json_lines_in_as_few_requests_as_the_pages_need() {
    let (emulator, kosmo) = start(1203, 0);
    let run = kosmo.run(&[
        "integrations:call",
        "clerk.list_users",
        "--all",
        "--limit=500",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let items = json_lines(&run.stdout);
    assert_eq!(items.len(), 1203);
    assert_eq!(ids(&items).len(), 1203, "every id once");
    assert!(
        run.stdout
            .lines()
            .all(|l| !l.contains('\n') && l.starts_with('{'))
    );
    // A bare array: 500 + 500 + 203, and the short page ends the walk.
    assert_eq!(
        queries(&emulator, "GET", "/v1/users"),
        [
            "limit=500&offset=0",
            "limit=500&offset=500",
            "limit=500&offset=1000"
        ]
    );

    // The shortcut form shares it; offset starts the walk.
    let run = kosmo.run(&[
        "integrations:clerk",
        "list_users",
        "--all",
        "--limit=100",
        "--offset=1150",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json_lines(&run.stdout).len(), 53);
}

#[test]
fn all_over_a_counted_list_stops_when_the_total_is_reached() {
    let (emulator, kosmo) = start(0, 1000);
    let run = kosmo.run(&[
        "integrations:call",
        "clerk.list_organizations",
        "--all",
        "--limit=500",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let items = json_lines(&run.stdout);
    assert_eq!(items.len(), 1000);
    assert_eq!(ids(&items).len(), 1000);
    assert!(items.iter().all(|o| o["object"] == "organization"));
    // {data, total_count}: the second page reaches the total, so no third request.
    assert_eq!(
        queries(&emulator, "GET", "/v1/organizations"),
        ["limit=500&offset=0", "limit=500&offset=500"]
    );
}

#[test]
fn all_over_an_empty_list_prints_nothing_after_one_request() {
    let (emulator, kosmo) = start(0, 0);
    let run = kosmo.run(&["integrations:call", "clerk.list_users", "--all"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(
        queries(&emulator, "GET", "/v1/users"),
        ["limit=500&offset=0"]
    );
}

#[test]
fn all_on_a_function_that_does_not_page_is_a_usage_error_naming_those_that_do() {
    let (emulator, kosmo) = start(1, 0);
    let run = kosmo.run(&[
        "integrations:call",
        "clerk.get_user",
        "--id=user_1",
        "--all",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("clerk.get_user does not page"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("clerk.list_users") && run.stderr.contains("clerk.list_organizations"),
        "{}",
        run.stderr
    );
    assert!(emulator.requests().is_empty(), "nothing sent");
    // A name that clashes with the option still passes with --arg.
    let run = kosmo.run(&["integrations:call", "clerk.list_users", "--arg", "all=1"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("all"), "{}", run.stderr);
}

#[test]
fn all_with_dry_run_shows_the_first_pages_request_and_walks_nothing() {
    let (emulator, kosmo) = start(3, 0);
    let run = kosmo.run(&[
        "integrations:call",
        "clerk.list_invitations",
        "--status=pending",
        "--all",
        "--dry-run",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let envelope = run.json();
    assert_eq!(envelope["success"], true);
    assert_eq!(envelope["data"]["method"], "GET");
    assert_eq!(envelope["data"]["path"], "/invitations");
    assert_eq!(
        envelope["data"]["query"],
        serde_json::json!({"status": "pending", "paginated": "true", "limit": "500", "offset": "0"})
    );
    assert!(envelope["meta"]["paced_ms"].is_number());
    assert!(emulator.requests().is_empty(), "nothing sent");
}

#[test]
fn all_failing_midway_keeps_the_streamed_items_and_reports_on_stderr() {
    let (emulator, kosmo) = start(1203, 0);
    fail_after_first_page(&emulator);
    let run = kosmo.run(&[
        "integrations:call",
        "clerk.list_users",
        "--all",
        "--limit=500",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(json_lines(&run.stdout).len(), 500);
    assert!(
        run.stderr.contains("Clerk API error (400)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("500 items were written"),
        "{}",
        run.stderr
    );

    // With --json stdout stays items only; the envelope goes to stderr.
    emulator.clear_faults();
    fail_after_first_page(&emulator);
    let run = kosmo.run(&[
        "integrations:call",
        "clerk.list_users",
        "--all",
        "--limit=500",
        "--json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let items = json_lines(&run.stdout);
    assert_eq!(items.len(), 500);
    assert!(items.iter().all(|u| u["object"] == "user"));
    let envelope: Value = serde_json::from_str(&run.stderr).unwrap();
    assert_eq!(envelope["success"], false);
    assert_eq!(envelope["function"], "clerk.list_users");
    assert!(envelope["error"].as_str().unwrap().contains("(400)"));
    assert_eq!(envelope["meta"]["items"], 500);
    assert_eq!(envelope["meta"]["pages"], 1);
    assert!(envelope["meta"]["paced_ms"].is_number());
}

#[test]
fn export_writes_json_lines_to_the_file_only_once_complete() {
    let (emulator, kosmo) = start(1203, 0);
    let run = kosmo.run(&[
        "integrations:export",
        "clerk.list_users",
        "--limit=500",
        "--output",
        "users.jsonl",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let file = kosmo.project.path().join("users.jsonl");
    let items = json_lines(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(items.len(), 1203);
    assert_eq!(ids(&items).len(), 1203);
    assert!(!kosmo.project.path().join("users.jsonl.partial").exists());
    assert!(
        run.stderr
            .contains("Exported 1203 items in 3 pages to users.jsonl"),
        "{}",
        run.stderr
    );
    let summary = run.json();
    assert_eq!(summary["success"], true);
    assert_eq!(summary["items"], 1203);
    assert_eq!(summary["pages"], 3);
    assert_eq!(summary["output"], "users.jsonl");
    assert_eq!(summary["format"], "jsonl");
    assert!(summary["duration_ms"].is_number() && summary["paced_ms"].is_number());
    assert_eq!(queries(&emulator, "GET", "/v1/users").len(), 3);

    // To stdout: the items only, and no JSON summary even with --json.
    let run = kosmo.run(&[
        "integrations:export",
        "clerk.list_users",
        "--json",
        "--quiet",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json_lines(&run.stdout).len(), 1203);
    assert_eq!(run.stderr, "");
}

#[test]
fn export_walks_the_memberships_of_an_organization_and_application_invitations() {
    let (emulator, kosmo) = start(0, 0);
    let (code, envelope) = kosmo.lua(
        r#"local c = app.integrations.clerk
local org = c.create_organization({ name = "Export members" })
for i = 1, 5 do
  local u = c.create_user({ email_address = { "member" .. i .. "@example.test" } })
  c.create_organization_membership({ organization_id = org.id, user_id = u.id, role = "org:member" })
end
for i = 1, 3 do
  c.create_invitation({ email_address = "invitee" .. i .. "@example.test", notify = false })
end
return org.id"#,
        &["--force"],
    );
    assert_eq!(code, 0, "{envelope:#}");
    let org = envelope["result"][0].as_str().unwrap().to_string();
    emulator.take_requests();

    let flag = format!("--organization_id={org}");
    let run = kosmo.run(&[
        "integrations:export",
        "clerk.list_organization_memberships",
        &flag,
        "--limit=2",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let members = json_lines(&run.stdout);
    assert_eq!(members.len(), 5);
    assert!(
        members
            .iter()
            .all(|m| m["organization"]["id"] == org.as_str())
    );
    let path = format!("/v1/organizations/{org}/memberships");
    assert_eq!(
        queries(&emulator, "GET", &path).len(),
        3,
        "2 + 2 + 1, then the total"
    );

    // The same from a JSON payload, to CSV with chosen columns.
    let payload = format!(r#"{{"organization_id": "{org}"}}"#);
    let run = kosmo.run(&[
        "integrations:export",
        "clerk.list_organization_memberships",
        &payload,
        "--format",
        "csv",
        "--columns",
        "id,role,public_user_data.identifier",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["id", "role", "public_user_data.identifier"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5);
    assert!(
        rows.iter()
            .all(|r| &r[1] == "org:member" && r[2].ends_with("@example.test"))
    );

    let run = kosmo.run(&["integrations:export", "clerk.list_invitations", "--limit=2"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json_lines(&run.stdout).len(), 3);
    let invitation_queries = queries(&emulator, "GET", "/v1/invitations");
    assert!(
        invitation_queries
            .iter()
            .all(|q| q.contains("paginated=true")),
        "{invitation_queries:?}"
    );
}

#[test]
fn export_to_csv_infers_the_header_or_takes_the_columns() {
    let (_emulator, kosmo) = start(1203, 0);
    let run = kosmo.run(&["integrations:call", "clerk.list_users", "--all"]);
    let users = json_lines(&run.stdout);

    // The header from the first page's keys; the format from the extension.
    let run = kosmo.run(&[
        "integrations:export",
        "clerk.list_users",
        "--output",
        "users.csv",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    let mut reader = csv::Reader::from_path(kosmo.project.path().join("users.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let keys: Vec<String> = users[0].as_object().unwrap().keys().cloned().collect();
    assert_eq!(header, keys);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1203);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (row, user) in rows.iter().zip(&users) {
        assert_eq!(&row[column("id")], user["id"].as_str().unwrap());
        // Null is empty, booleans are text, arrays compact JSON.
        assert_eq!(&row[column("external_id")], "");
        assert_eq!(&row[column("banned")], "false");
        let emails: Value = serde_json::from_str(&row[column("email_addresses")]).unwrap();
        assert_eq!(emails, user["email_addresses"]);
    }

    let run = kosmo.run(&[
        "integrations:export",
        "clerk.list_users",
        "--output=chosen.csv",
        "--columns",
        "id,email_addresses.0.email_address,public_metadata.plan,created_at",
        "--quiet",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut reader = csv::Reader::from_path(kosmo.project.path().join("chosen.csv")).unwrap();
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "id",
            "email_addresses.0.email_address",
            "public_metadata.plan",
            "created_at"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1203);
    for (row, user) in rows.iter().zip(&users) {
        assert_eq!(&row[0], user["id"].as_str().unwrap());
        assert_eq!(
            &row[1],
            user["email_addresses"][0]["email_address"]
                .as_str()
                .unwrap()
        );
        assert_eq!(&row[2], "", "missing is empty");
        assert_eq!(&row[3], user["created_at"].to_string());
    }

    // --columns is for CSV.
    let run = kosmo.run(&["integrations:export", "clerk.list_users", "--columns", "id"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--format csv"), "{}", run.stderr);
}

#[test]
fn export_refuses_to_overwrite_unless_asked() {
    let (_emulator, kosmo) = start(3, 0);
    let file = kosmo.write_project_file("users.jsonl", "earlier\n");
    let run = kosmo.run(&[
        "integrations:export",
        "clerk.list_users",
        "--output",
        "users.jsonl",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("users.jsonl exists"), "{}", run.stderr);
    assert!(run.stderr.contains("--overwrite"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "earlier\n");
    assert!(!kosmo.project.path().join("users.jsonl.partial").exists());

    let run = kosmo.run(&[
        "integrations:export",
        "clerk.list_users",
        "--output",
        "users.jsonl",
        "--overwrite",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        json_lines(&std::fs::read_to_string(&file).unwrap()).len(),
        3
    );
}

#[test]
fn an_interrupted_export_keeps_the_partial_file_and_never_the_final_one() {
    let (emulator, kosmo) = start(1203, 0);
    fail_after_first_page(&emulator);
    let run = kosmo.run(&[
        "integrations:export",
        "clerk.list_users",
        "--limit=500",
        "--output",
        "users.jsonl",
    ]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("users.jsonl.partial"), "{}", run.stderr);
    assert!(
        run.stderr.contains("500 items were written"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("incomplete"), "{}", run.stderr);
    assert!(
        run.stderr.contains("Clerk API error (400)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("users.jsonl was not written"),
        "{}",
        run.stderr
    );
    let partial = kosmo.project.path().join("users.jsonl.partial");
    assert_eq!(
        json_lines(&std::fs::read_to_string(&partial).unwrap()).len(),
        500
    );
    assert!(!kosmo.project.path().join("users.jsonl").exists());
}

#[test]
fn an_interrupted_export_leaves_an_earlier_complete_file_untouched() {
    let (emulator, kosmo) = start(1203, 0);
    let run = kosmo.run(&[
        "integrations:export",
        "clerk.list_users",
        "--output",
        "users.jsonl",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let file = kosmo.project.path().join("users.jsonl");
    let earlier = std::fs::read(&file).unwrap();

    fail_after_first_page(&emulator);
    let run = kosmo.run(&[
        "integrations:export",
        "clerk.list_users",
        "--limit=500",
        "--output",
        "users.jsonl",
        "--overwrite",
        "--json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("users.jsonl.partial"), "{}", run.stderr);
    assert!(
        run.stderr.contains("users.jsonl is left as it was"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        earlier,
        "the earlier export is kept"
    );
    let partial = kosmo.project.path().join("users.jsonl.partial");
    assert_eq!(
        json_lines(&std::fs::read_to_string(&partial).unwrap()).len(),
        500
    );
    let summary = run.json();
    assert_eq!(summary["success"], false);
    assert_eq!(summary["items"], 500);
    assert_eq!(summary["partial"], "users.jsonl.partial");
}

#[test]
fn export_of_a_function_that_does_not_page_is_a_usage_error() {
    let (_emulator, kosmo) = start(0, 0);
    let run = kosmo.run(&[
        "integrations:export",
        "clerk.count_users",
        "--output",
        "n.jsonl",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("clerk.list_users"), "{}", run.stderr);
    assert!(!kosmo.project.path().join("n.jsonl.partial").exists());
    let run = kosmo.run(&["integrations:export", "clerk.list_users", "--format", "xml"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn call_logs_and_call_envelopes_say_how_long_calls_waited_for_room() {
    let (_emulator, kosmo) = start(2, 0);
    let (code, envelope) = kosmo.lua("return #app.integrations.clerk.list_users({})", &[]);
    assert_eq!(code, 0, "{envelope:#}");
    assert_envelope_shape(&envelope);
    let entry = &envelope["integration_calls"][0];
    let keys: Vec<&str> = entry
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["path", "durationMs", "pacedMs", "status", "name", "group"]
    );
    assert!(entry["pacedMs"].as_f64().unwrap() >= 0.0);

    let run = kosmo.run(&["integrations:call", "clerk.list_users", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.json()["meta"]["paced_ms"].as_f64().unwrap() >= 0.0);
}

/// Eleven updates of one user: Clerk's limit on user updates is ten per ten seconds, so the
/// eleventh has to wait; with a window a thousand times as long and no waiting allowed it is
/// refused, unless nothing is paced.
fn eleven_updates(user: &str) -> String {
    format!(
        r#"local ok, refused = 0, {{}}
for i = 1, 11 do
  local done, err = pcall(app.integrations.clerk.update_user, {{ id = "{user}", first_name = "N" .. i }})
  if done then ok = ok + 1 else table.insert(refused, err.kind .. ": " .. tostring(err)) end
end
return ok, refused"#
    )
}

fn global_config(kosmo: &Kosmo, text: &str) {
    std::fs::create_dir_all(kosmo.kosmo_home()).unwrap();
    std::fs::write(kosmo.kosmo_home().join("integrations.json"), text).unwrap();
}

fn project_config(kosmo: &Kosmo, text: &str) {
    let dir = kosmo.project.path().join(".kosmo");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("integrations.json"), text).unwrap();
}

#[test]
fn pacing_follows_the_configuration_the_environment_and_the_flag() {
    let (_emulator, mut kosmo) = start(0, 0);
    global_config(
        &kosmo,
        r#"{"pacing": {"window_scale": 1000, "max_wait_seconds": 0}, "integrations": {"clerk": {"rate_limit_tier": "development"}}}"#,
    );
    let run = kosmo.run(&[
        "integrations:call",
        "clerk.create_user",
        "--email-address=paced@example.test",
        "--force",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let user: Value = serde_json::from_str(&run.stdout).unwrap();
    let updates = eleven_updates(user["id"].as_str().unwrap());
    let (code, envelope) = kosmo.lua(&updates, &["--force"]);
    assert_eq!(code, 0, "{envelope:#}");
    assert_eq!(envelope["result"][0], 10, "{envelope:#}");
    let refused = envelope["result"][1][0].as_str().unwrap();
    assert!(refused.starts_with("rate_limited: "), "{refused}");
    assert!(refused.contains("user updates"), "{refused}");

    // A project file may not turn pacing off.
    project_config(
        &kosmo,
        r#"{"pacing": {"enabled": false, "window_scale": 2}}"#,
    );
    let run = kosmo.run(&["integrations:lua", "--eval", &updates, "--force", "--json"]);
    assert!(
        run.stderr.contains("`pacing.enabled: false` is ignored"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("`pacing.window_scale: 2` is ignored"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json()["result"][0], 10, "{}", run.stdout);

    let run = kosmo.run(&[
        "integrations:lua",
        "--eval",
        &updates,
        "--force",
        "--json",
        "--no-pacing",
    ]);
    assert_eq!(run.json()["result"][0], 11, "{}", run.stdout);

    kosmo.env("KOSMO_PACING", "off");
    let (code, envelope) = kosmo.lua(&updates, &["--force"]);
    assert_eq!(code, 0, "{envelope:#}");
    assert_eq!(envelope["result"][0], 11, "{envelope:#}");
}

#[test]
fn a_rate_limit_tier_the_provider_does_not_declare_is_a_clear_error() {
    let (emulator, kosmo) = start(1, 0);
    global_config(
        &kosmo,
        r#"{"integrations": {"clerk": {"rate_limit_tier": "enterprise"}}}"#,
    );
    let run = kosmo.run(&["integrations:call", "clerk.list_users"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "has no rate-limit tier `enterprise`; its tiers are: development, production"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("integrations.json"), "{}", run.stderr);
    assert!(emulator.requests().is_empty());

    // Unknown keys in the pacing section are refused like everywhere else.
    global_config(&kosmo, r#"{"pacing": {"enable": false}}"#);
    let run = kosmo.run(&["integrations:call", "clerk.list_users"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("unknown field `enable`"),
        "{}",
        run.stderr
    );

    global_config(&kosmo, r#"{"pacing": {"window_scale": 0}}"#);
    let run = kosmo.run(&["integrations:call", "clerk.list_users"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("window_scale"), "{}", run.stderr);

    let mut kosmo = kosmo;
    global_config(&kosmo, "{}");
    kosmo.env("KOSMO_PACING", "sometimes");
    let run = kosmo.run(&["integrations:call", "clerk.list_users"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("KOSMO_PACING"), "{}", run.stderr);
}

#[test]
fn configure_sets_and_clears_the_rate_limit_tier() {
    let kosmo = Kosmo::new();
    let run = kosmo.run(&[
        "integrations:configure",
        "clerk",
        "--rate-limit-tier",
        "fast",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("development, production"),
        "{}",
        run.stderr
    );

    let run = kosmo.run(&[
        "integrations:configure",
        "clerk",
        "--rate-limit-tier",
        "production",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["rate_limit_tier"], "production");
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(kosmo.kosmo_home().join("integrations.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        file["integrations"]["clerk"]["rate_limit_tier"],
        "production"
    );

    // A project file may choose a slower tier, not a faster one.
    project_config(
        &kosmo,
        r#"{"integrations": {"clerk": {"rate_limit_tier": "development"}}}"#,
    );
    let run = kosmo.run(&["integrations:configure", "clerk", "--json"]);
    assert_eq!(run.json()["rate_limit_tier"], "development");
    std::fs::remove_file(kosmo.project.path().join(".kosmo/integrations.json")).unwrap();

    let run = kosmo.run(&[
        "integrations:configure",
        "clerk",
        "--rate-limit-tier",
        "development",
        "--json",
    ]);
    assert_eq!(run.json()["rate_limit_tier"], "development");
    project_config(
        &kosmo,
        r#"{"integrations": {"clerk": {"rate_limit_tier": "production"}}}"#,
    );
    let run = kosmo.run(&["integrations:configure", "clerk", "--json"]);
    assert_eq!(run.json()["rate_limit_tier"], "development");
    assert!(run.stderr.contains("is ignored"), "{}", run.stderr);
    std::fs::remove_file(kosmo.project.path().join(".kosmo/integrations.json")).unwrap();

    let run = kosmo.run(&[
        "integrations:configure",
        "clerk",
        "--rate-limit-tier",
        "auto",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["rate_limit_tier"], "auto");
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(kosmo.kosmo_home().join("integrations.json")).unwrap(),
    )
    .unwrap();
    assert!(
        file["integrations"]["clerk"]
            .get("rate_limit_tier")
            .is_none()
    );
}
