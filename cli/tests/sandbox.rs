//! The `integrations:lua` sandbox without a provider server: the environment, the envelope,
//! limits and the hostile-script corpus, errors and permissions that stop before any request.

use crate::common;

use common::{Kosmo, assert_envelope_shape, error_of};
use serde_json::{Value, json};

/// Credentials that pass the checks and a URL where nothing listens: for dry runs, which
/// never send.
fn kosmo_with_unused_server() -> Kosmo {
    Kosmo::with_clerk("http://127.0.0.1:9/v1", "sk_test_dryrunonly1234567890")
}

#[test]
fn return_values_become_the_result_list() {
    let kosmo = Kosmo::new();
    let (code, env) = kosmo.lua("return 42", &[]);
    assert_eq!(code, 0);
    assert_envelope_shape(&env);
    assert_eq!(env["result"], json!([42]));
    assert_eq!(env["output"], "");

    let (_, env) = kosmo.lua(r#"return 1, "two", { a = { 1, 2 } }, true, 2.5"#, &[]);
    assert_eq!(env["result"], json!([1, "two", {"a": [1, 2]}, true, 2.5]));

    let (code, env) = kosmo.lua("local x = 1", &[]);
    assert_eq!(code, 0);
    assert_eq!(env["result"], json!([]));
}

#[test]
fn print_joins_with_tabs_and_each_call_is_a_line() {
    let kosmo = Kosmo::new();
    let (_, env) = kosmo.lua(
        r#"print("a", 1, nil, true, json.null) print({ 1, { k = "v" } }) print()"#,
        &[],
    );
    assert_eq!(
        env["output"],
        "a\t1\tnil\ttrue\tnull\n[\n  1\n  {\n    k: v\n  }\n]\n"
    );
}

#[test]
fn dump_uses_the_reference_table_format_and_returns_its_argument() {
    let kosmo = Kosmo::new();
    let (_, env) = kosmo.lua(
        r#"local t = { users = { { id = "user_1", tags = {} } }, total = 1 }
           local same = dump(t)
           local c = {} c.self = c
           dump(c)
           dump("plain")
           return same == t"#,
        &[],
    );
    assert_eq!(
        env["output"],
        "{\n  total: 1\n  users: [\n    {\n      id: user_1\n      tags: {}\n    }\n  ]\n}\n{\n  self: <circular>\n}\nplain"
    );
    assert_eq!(env["result"], json!([true]));
}

#[test]
fn json_round_trips_arrays_objects_and_null() {
    let kosmo = Kosmo::new();
    let (code, env) = kosmo.lua(
        r#"local text = [[{"a":[],"b":{},"c":null,"d":[1,{"e":{}}],"f":"x"}]]
           local v = json.decode(text)
           return json.encode(v), v.c == json.null, #v.d, json.encode({ 1, 2 }), json.encode({ k = "v" })"#,
        &[],
    );
    assert_eq!(code, 0, "{env:#}");
    let encoded: Value = serde_json::from_str(env["result"][0].as_str().unwrap()).unwrap();
    assert_eq!(
        encoded,
        json!({"a": [], "b": {}, "c": null, "d": [1, {"e": {}}], "f": "x"})
    );
    // Pretty-printed.
    assert!(env["result"][0].as_str().unwrap().contains("\n  \"a\": []"));
    assert_eq!(env["result"][1], true);
    assert_eq!(env["result"][2], 2);
    assert_eq!(env["result"][3], "[\n  1,\n  2\n]");
    assert_eq!(env["result"][4], "{\n  \"k\": \"v\"\n}");

    let (code, env) = kosmo.lua(r#"return json.decode("{bad")"#, &[]);
    assert_eq!(code, 1);
    assert!(error_of(&env).contains("json.decode"), "{env:#}");
    let (code, env) = kosmo.lua(r#"return json.encode({ f = print })"#, &[]);
    assert_eq!(code, 1);
    assert!(error_of(&env).contains("json.encode"), "{env:#}");
}

#[test]
fn regex_functions_accept_pcre_style_patterns() {
    let kosmo = Kosmo::new();
    let (code, env) = kosmo.lua(
        r##"local m = regex.match("Order X42", "/x(\\d+)/i")
           local none = regex.match("abc", "/\\d/")
           local all = regex.match_all("a1 b22", "(?P<letter>[a-z])(\\d+)")
           local s, n = regex.gsub("a1 b22 c3", "/(\\d+)/", "<$1>", 2)
           local f = regex.gsub("a1", "\\d", function(m) return "#" .. m[0] end)
           return m[0], m[1], none, #all, all[2].letter, all[2][2], s, n, f"##,
        &[],
    );
    assert_eq!(code, 0, "{env:#}");
    assert_eq!(
        env["result"],
        json!(["X42", "42", null, 2, "b", "22", "a<1> b<22> c3", 2, "a#1"])
    );
    let (code, env) = kosmo.lua(r#"return pcall(regex.match, "x", "/(/")"#, &[]);
    assert_eq!(code, 0);
    assert_eq!(env["result"][0], false);
    assert!(
        env["result"][1]
            .as_str()
            .unwrap()
            .contains("regex.match: invalid regex")
    );
}

#[test]
fn regex_has_no_catastrophic_backtracking() {
    // Exponential for a backtracking engine; linear here, so it finishes far inside the limit.
    let kosmo = Kosmo::new();
    let (code, env) = kosmo.lua(
        r#"local subject = string.rep("a", 5000) .. "!"
           return regex.match(subject, "/^(a+)+$/") == nil, #regex.match_all(string.rep("ab", 10000), "(a|b)*?b")"#,
        &["--cpu-limit", "5"],
    );
    assert_eq!(code, 0, "{env:#}");
    assert_eq!(env["result"], json!([true, 10000]));
    let (code, env) = kosmo.lua(r#"return regex.match("a", "(a{1000}){1000}")"#, &[]);
    assert_eq!(code, 1);
    assert!(error_of(&env).contains("invalid regex"), "{env:#}");
}

#[test]
fn docs_functions_return_the_generated_pages() {
    let kosmo = Kosmo::new();
    let provider_page = kosmo_integrations::clerk::docs::DOCS.provider_page;
    let provider_page = provider_page.split_once('\n').unwrap().1;
    let (code, env) = kosmo.lua(r#"print(docs.read("clerk"))"#, &[]);
    assert_eq!(code, 0);
    assert_eq!(env["output"].as_str().unwrap(), provider_page);

    let (_, env) = kosmo.lua(
        r#"return docs.read("clerk.api_get"), docs.read("clerk.clerk_create_sign_in_token"), docs.read("app.integrations.clerk")"#,
        &[],
    );
    assert!(
        env["result"][0]
            .as_str()
            .unwrap()
            .starts_with("# clerk.api_get\n")
    );
    assert!(
        env["result"][1]
            .as_str()
            .unwrap()
            .starts_with("# clerk.create_sign_token\n")
    );
    assert!(
        env["result"][2]
            .as_str()
            .unwrap()
            .starts_with("# app.integrations.clerk")
    );

    let (_, env) = kosmo.lua(
        r#"local list = docs.list() return #list, list[1], docs.search("ban user")"#,
        &[],
    );
    let functions = kosmo_integrations::clerk::meta::PROVIDER.functions.len();
    let docs = &kosmo_integrations::clerk::docs::DOCS;
    assert_eq!(
        env["result"][0],
        json!(functions + 2 + docs.family_pages.len() + docs.guide_pages.len())
    );
    assert_eq!(env["result"][1], "clerk");
    let search = env["result"][2].as_str().unwrap();
    assert!(
        search
            .lines()
            .next()
            .unwrap()
            .starts_with("clerk.ban_user - "),
        "{search}"
    );
    assert!(search.lines().count() <= 20);

    let (code, env) = kosmo.lua(r#"return docs.read("clerk.lsit_users")"#, &[]);
    assert_eq!(code, 1);
    assert!(
        error_of(&env).contains("Unknown docs page: clerk.lsit_users. Did you mean: list_users"),
        "{env:#}"
    );
}

#[test]
fn errors_are_objects_with_a_message_and_fields() {
    let kosmo = Kosmo::new();
    let (code, env) = kosmo.lua(
        r#"local ok, err = pcall(app.integrations.clerk.get_user, {})
           return ok, tostring(err), err.kind, err.parameter, err.message, "x: " .. err"#,
        &[],
    );
    assert_eq!(code, 0, "{env:#}");
    assert_eq!(
        env["result"],
        json!([
            false,
            "get_user: id is required.",
            "invalid_argument",
            "id",
            "get_user: id is required.",
            "x: get_user: id is required."
        ])
    );

    let (code, env) = kosmo.lua(r#"app.integrations.clerk.lsit_users({})"#, &[]);
    assert_eq!(code, 1);
    assert_envelope_shape(&env);
    assert_eq!(
        error_of(&env),
        "Unknown function: app.integrations.clerk.lsit_users. Did you mean: list_users, ban_users, count_users"
    );
    let (_, env) = kosmo.lua(
        r#"local ok, err = pcall(function() return app.integrations.clerk.work.get_user end)
           return tostring(err), err.kind"#,
        &[],
    );
    assert_eq!(
        env["result"][0],
        "Unknown function: app.integrations.clerk.work. It is neither a function nor a configured account (accounts: default).",
        "{env:#}"
    );
    assert_eq!(env["result"][1], "unknown_function");

    // Uncaught, the message is the envelope's error.
    let (code, env) = kosmo.lua(r#"app.integrations.clerk.get_user({ id = 5 })"#, &[]);
    assert_eq!(code, 1);
    assert!(
        error_of(&env).starts_with("get_user: id must be"),
        "{env:#}"
    );
}

#[test]
fn missing_credentials_fail_each_call_but_not_the_script() {
    let kosmo = Kosmo::new();
    let (code, env) = kosmo.lua(
        r#"local ok, err = pcall(app.integrations.clerk.list_users, {})
           print(docs.read("clerk"):sub(1, 7))
           return ok, err.kind, tostring(err)"#,
        &[],
    );
    assert_eq!(code, 0, "{env:#}");
    assert_eq!(env["result"][0], false);
    assert_eq!(env["result"][1], "config");
    assert!(
        env["result"][2]
            .as_str()
            .unwrap()
            .starts_with("Clerk integration is not configured."),
        "{env:#}"
    );
    assert_eq!(env["integration_calls"][0]["status"], "error");
    // --force never bypasses credentials.
    let (code, env) = kosmo.lua(
        r#"return app.integrations.clerk.create_user({ email_address = { "a@example.test" } })"#,
        &["--force"],
    );
    assert_eq!(code, 1);
    assert!(
        error_of(&env).starts_with("Clerk integration is not configured."),
        "{env:#}"
    );
    assert_eq!(env["meta"]["permission_bypassed"], true);

    let mut kosmo = Kosmo::new();
    kosmo.env("CLERK_SECRET_KEY", "pk_test_publishable123456789");
    let (code, env) = kosmo.lua("return app.integrations.clerk.list_users({})", &[]);
    assert_eq!(code, 1);
    assert!(error_of(&env).contains("publishable key"), "{env:#}");
    assert!(!env.to_string().contains("pk_test_publishable123456789"));
}

#[test]
fn writes_are_refused_headless_unless_forced_and_dry_runs_show_the_request() {
    let kosmo = kosmo_with_unused_server();
    let script = r#"return app.integrations.clerk.ban_user({ user_id = "user_1" })"#;
    let (code, env) = kosmo.lua(script, &[]);
    assert_eq!(code, 1);
    assert_envelope_shape(&env);
    assert_eq!(
        error_of(&env),
        "Integration 'clerk' write requires approval. Ask the user to change the permission in /settings → Integrations"
    );
    assert_eq!(env["meta"]["permission_bypassed"], false);
    assert_eq!(
        env["integration_calls"][0]["path"],
        "integrations.clerk.ban_user"
    );
    assert_eq!(env["integration_calls"][0]["status"], "error");

    let (code, env) = kosmo.lua(script, &["--dry-run"]);
    assert_eq!(code, 0, "{env:#}");
    assert_envelope_shape(&env);
    assert_eq!(env["meta"]["dry_run"], true);
    let request = &env["result"][0];
    assert_eq!(request["method"], "POST");
    assert_eq!(request["url"], "http://127.0.0.1:9/v1/users/user_1/ban");
    assert_eq!(request["headers"]["Authorization"], "Bearer [REDACTED]");
    assert_eq!(request["body"], Value::Null);
    assert!(!env.to_string().contains("sk_test_dryrunonly"));

    // A dry run still validates.
    let (code, env) = kosmo.lua(
        r#"return app.integrations.clerk.ban_user({})"#,
        &["--dry-run"],
    );
    assert_eq!(code, 1);
    assert_eq!(error_of(&env), "ban_user: user_id is required.");

    let (code, env) = kosmo.lua(
        r#"return app.integrations.clerk.create_user({ email_address = { "a@example.test" }, first_name = "Ada" })"#,
        &["--dry-run"],
    );
    assert_eq!(code, 0, "{env:#}");
    assert_eq!(
        env["result"][0]["body"],
        json!({"email_address": ["a@example.test"], "first_name": "Ada"})
    );
}

#[test]
fn a_deny_policy_refuses_even_dry_runs_unless_forced() {
    let kosmo = kosmo_with_unused_server();
    let run = kosmo.run(&["integrations:configure", "clerk", "--write", "deny"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let script = r#"return app.integrations.clerk.ban_user({ user_id = "user_1" })"#;
    let (code, env) = kosmo.lua(script, &["--dry-run"]);
    assert_eq!(code, 1);
    assert_eq!(
        error_of(&env),
        "Integration 'clerk' write access denied. Enable it in /settings → Integrations"
    );
    let (code, env) = kosmo.lua(script, &["--dry-run", "--force"]);
    assert_eq!(code, 0, "{env:#}");
    assert_eq!(env["meta"]["permission_bypassed"], true);

    let run = kosmo.run(&["integrations:configure", "clerk", "--read", "deny"]);
    assert_eq!(run.code, 0);
    let (code, env) = kosmo.lua("return app.integrations.clerk.list_users({})", &[]);
    assert_eq!(code, 1);
    assert_eq!(
        error_of(&env),
        "Integration 'clerk' read access denied. Enable it in /settings → Integrations"
    );
}

#[test]
fn code_comes_from_eval_then_file_then_stdin() {
    let kosmo = Kosmo::new();
    let file = kosmo.write_project_file("workflow.lua", "print('from file') return 1");
    let run = kosmo.run(&["integrations:lua", file.to_str().unwrap(), "--json"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.json()["output"], "from file");

    let run = kosmo.run(&[
        "integrations:lua",
        file.to_str().unwrap(),
        "--eval",
        "print('from eval')",
        "--json",
    ]);
    assert_eq!(run.json()["output"], "from eval");

    let run = kosmo.run_with_stdin(&["integrations:lua", "--json"], "print('from stdin')");
    assert_eq!(run.code, 0);
    assert_eq!(run.json()["output"], "from stdin");

    // Without --json: output streams to stdout, returned values follow it.
    let run = kosmo.run(&[
        "integrations:lua",
        "--eval",
        "print('a', 1) return { x = 1 }",
    ]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, "a\t1\n{\n  x: 1\n}\n");
    let run = kosmo.run(&["integrations:lua", "--eval", "error('boom')"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("boom"), "{}", run.stderr);
}

#[test]
fn nothing_to_run_and_bad_usage_exit_2() {
    let kosmo = Kosmo::new();
    let run = kosmo.run(&["integrations:lua"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("Nothing to run"));
    let run = kosmo.run_with_stdin(&["integrations:lua", "--json"], "  \n");
    assert_eq!(run.code, 2);
    assert_eq!(kosmo.run(&["integrations:lua", "--bogus"]).code, 2);
    assert_eq!(kosmo.run(&["integrations:nothing"]).code, 2);
    assert_eq!(kosmo.run(&["integrations:call"]).code, 2);
    assert_eq!(kosmo.run(&["integrations:call", "list_users"]).code, 2);
    assert_eq!(
        kosmo
            .run(&["integrations:lua", "--eval", "return 1", "--cpu-limit", "0"])
            .code,
        2
    );
    let missing = kosmo.run(&["integrations:lua", "missing.lua"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("cannot read"));
    let missing = kosmo.run(&["integrations:lua", "missing.lua", "--json"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.json()["error"]
            .as_str()
            .unwrap()
            .contains("cannot read")
    );
}

#[test]
fn every_command_has_help() {
    let kosmo = Kosmo::new();
    for command in [
        "integrations:lua",
        "integrations:call",
        "integrations:clerk",
        "integrations:list",
        "integrations:search",
        "integrations:docs",
        "integrations:schema",
        "integrations:configure",
    ] {
        let run = kosmo.run(&[command, "--help"]);
        assert_eq!(run.code, 0, "{command}: {}", run.stderr);
        assert!(run.stdout.contains("Usage"), "{command}: {}", run.stdout);
    }
    let run = kosmo.run(&["--help"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("integrations:lua"));
}

#[test]
fn syntax_errors_and_binary_chunks_fail_cleanly() {
    let kosmo = Kosmo::new();
    let (code, env) = kosmo.lua("local = 1", &[]);
    assert_eq!(code, 1);
    assert_envelope_shape(&env);
    assert!(error_of(&env).contains("eval:1"), "{env:#}");

    let path = kosmo.project.path().join("bytecode.luac");
    std::fs::write(&path, b"\x1bLua\x54\x00\x19\x93\r\n\x1a\n\x04\x08\x08").unwrap();
    let run = kosmo.run(&["integrations:lua", path.to_str().unwrap(), "--json"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["success"], false);
}

/// One hostile script, the flags it runs with, and what its error must say.
struct Hostile {
    name: &'static str,
    code: &'static str,
    flags: &'static [&'static str],
    expect: &'static str,
}

const CPU: &str = "CPU time limit exceeded";
const MEMORY: &str = "Memory limit exceeded";

const CORPUS: &[Hostile] = &[
    Hostile {
        name: "infinite loop",
        code: "while true do end",
        flags: &["--cpu-limit", "1"],
        expect: CPU,
    },
    Hostile {
        name: "numeric for that never ends in time",
        code: "local x = 0 for i = 1, 1e15 do x = x + i end",
        flags: &["--cpu-limit", "1"],
        expect: CPU,
    },
    Hostile {
        name: "loop inside pcall inside a loop",
        code: "while true do pcall(function() while true do end end) end",
        flags: &["--cpu-limit", "1"],
        expect: CPU,
    },
    Hostile {
        name: "recursive pcall that swallows everything",
        code: "local function f() while true do pcall(f) end end f()",
        flags: &["--cpu-limit", "1"],
        expect: CPU,
    },
    Hostile {
        name: "xpcall with a looping handler",
        code: "xpcall(function() while true do end end, function() while true do end end)",
        flags: &["--cpu-limit", "1"],
        expect: CPU,
    },
    Hostile {
        name: "loop inside coroutine.wrap",
        code: "coroutine.wrap(function() while true do end end)()",
        flags: &["--cpu-limit", "1"],
        expect: CPU,
    },
    Hostile {
        name: "resume a looping coroutine forever",
        code: "local co = coroutine.create(function() while true do end end) while true do coroutine.resume(co) end",
        flags: &["--cpu-limit", "1"],
        expect: CPU,
    },
    Hostile {
        name: "loop in a sort comparator (called from C)",
        code: "table.sort({ 3, 1, 2, 5, 4 }, function(a, b) while true do end end)",
        flags: &["--cpu-limit", "1"],
        expect: CPU,
    },
    Hostile {
        name: "loop in __tostring called by print",
        code: "print(setmetatable({}, { __tostring = function() while true do end end }))",
        flags: &["--cpu-limit", "1"],
        expect: CPU,
    },
    Hostile {
        name: "loop in __index called by pcall",
        code: "local t = setmetatable({}, { __index = function() while true do end end }) while true do pcall(function() return t.x end) end",
        flags: &["--cpu-limit", "1"],
        expect: CPU,
    },
    Hostile {
        name: "backtracking Lua pattern",
        code: "return string.find(string.rep('a', 3000), '.-.-.-.-.-.-.-.-.-.-b')",
        flags: &["--cpu-limit", "1"],
        expect: CPU,
    },
    Hostile {
        name: "table memory bomb",
        code: "local t = {} local i = 0 while true do i = i + 1 t[i] = { i, i, i } end",
        flags: &["--memory-limit", "8000000"],
        expect: MEMORY,
    },
    Hostile {
        name: "memory bomb caught by pcall and retried",
        code: "while true do pcall(function() local t = {} for i = 1, 1e9 do t[i] = i end end) end",
        flags: &["--memory-limit", "8000000"],
        expect: MEMORY,
    },
    Hostile {
        name: "string.rep bomb",
        code: "local s = string.rep('x', 1e9) return #s",
        flags: &["--memory-limit", "8000000"],
        expect: MEMORY,
    },
    Hostile {
        name: "string.rep bomb in pcall",
        code: "local ok = pcall(string.rep, 'x', 1e9) return ok",
        flags: &["--memory-limit", "8000000"],
        expect: MEMORY,
    },
    Hostile {
        name: "concatenation bomb",
        code: "local s = 'x' while true do s = s .. s end",
        flags: &["--memory-limit", "8000000"],
        expect: MEMORY,
    },
    Hostile {
        name: "table.concat bomb",
        code: "local t = {} for i = 1, 1e8 do t[i] = 'xxxxxxxxxxxxxxxx' end return table.concat(t)",
        flags: &["--memory-limit", "8000000"],
        expect: MEMORY,
    },
    Hostile {
        name: "deep recursion",
        code: "local function f(n) return f(n + 1) + 1 end return f(1)",
        flags: &[],
        expect: "stack overflow",
    },
    Hostile {
        name: "self-recursive __index",
        code: "local t = setmetatable({}, { __index = function(t, k) return t[k] end }) return t.x",
        flags: &[],
        expect: "stack overflow",
    },
    Hostile {
        name: "gigantic output",
        code: "while true do print(string.rep('y', 1000)) end",
        flags: &["--memory-limit", "1000000"],
        expect: "Output limit exceeded",
    },
    Hostile {
        name: "io",
        code: "return io.open('/etc/passwd')",
        flags: &[],
        expect: "attempt to index nil",
    },
    Hostile {
        name: "os",
        code: "return os.execute('true')",
        flags: &[],
        expect: "attempt to index nil",
    },
    Hostile {
        name: "require",
        code: "return require('os')",
        flags: &[],
        expect: "attempt to call a nil value",
    },
    Hostile {
        name: "load",
        code: "return load('return 1')()",
        flags: &[],
        expect: "attempt to call a nil value",
    },
    Hostile {
        name: "loadstring",
        code: "return loadstring('return 1')()",
        flags: &[],
        expect: "attempt to call a nil value",
    },
    Hostile {
        name: "debug",
        code: "return debug.getinfo(1)",
        flags: &[],
        expect: "attempt to index nil",
    },
    Hostile {
        name: "getfenv",
        code: "return getfenv(0)",
        flags: &[],
        expect: "attempt to call a nil value",
    },
    Hostile {
        name: "string.dump",
        code: "return string.dump(print)",
        flags: &[],
        expect: "attempt to call a nil value",
    },
    Hostile {
        name: "collectgarbage",
        code: "return collectgarbage('count')",
        flags: &[],
        expect: "attempt to call a nil value",
    },
    Hostile {
        name: "replace app.integrations.clerk",
        code: "app.integrations.clerk = {}",
        flags: &[],
        expect: "readonly",
    },
    Hostile {
        name: "replace a function",
        code: "app.integrations.clerk.list_users = print",
        flags: &[],
        expect: "readonly",
    },
    Hostile {
        name: "rawset into app.integrations",
        code: "rawset(app.integrations, 'clerk', {})",
        flags: &[],
        expect: "readonly",
    },
    Hostile {
        name: "replace the app metatable",
        code: "setmetatable(app, {})",
        flags: &[],
        expect: "protected metatable",
    },
    Hostile {
        name: "replace the globals metatable",
        code: "setmetatable(_G, nil)",
        flags: &[],
        expect: "protected metatable",
    },
    Hostile {
        name: "string metatable",
        code: "getmetatable('').__index = { upper = function() return 'pwned' end }",
        flags: &[],
        expect: "readonly",
    },
    Hostile {
        name: "patch the string library",
        code: "string.rep = function() return '' end",
        flags: &[],
        expect: "readonly",
    },
    Hostile {
        name: "replace a built-in global",
        code: "print = function() end",
        flags: &[],
        expect: "read-only",
    },
    Hostile {
        name: "replace json",
        code: "json = nil",
        flags: &[],
        expect: "read-only",
    },
    Hostile {
        name: "reserved global, refused before running",
        code: "print('ran') __hook = function() end",
        flags: &[],
        expect: "Refused before running",
    },
    Hostile {
        name: "reserved global through _G",
        code: "_G['__' .. 'hook'] = 1",
        flags: &[],
        expect: "are reserved",
    },
    Hostile {
        name: "reserved global as a function",
        code: "function __init() end",
        flags: &[],
        expect: "Refused before running",
    },
];

#[test]
fn every_hostile_script_is_stopped_with_a_clear_error() {
    let kosmo = Kosmo::new();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = CORPUS
            .iter()
            .map(|hostile| {
                let kosmo = &kosmo;
                scope.spawn(move || {
                    let (code, env) = kosmo.lua(hostile.code, hostile.flags);
                    assert_envelope_shape(&env);
                    let error = error_of(&env);
                    // The watchdog (which ends the process) is only the last resort: every
                    // script here must be stopped by the limits inside the Lua state.
                    if code != 1
                        || env["success"] != false
                        || !error.contains(hostile.expect)
                        || error.contains("library call")
                    {
                        Some(format!(
                            "{}: exit {code}, error {error:?}, expected {:?}",
                            hostile.name, hostile.expect
                        ))
                    } else if hostile.name.contains("refused before running") && env["output"] != ""
                    {
                        Some(format!("{}: the script ran", hostile.name))
                    } else {
                        None
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn forbidden_globals_are_absent_and_safe_ones_present() {
    let kosmo = Kosmo::new();
    let (code, env) = kosmo.lua(
        r#"local names = { "io", "os", "require", "load", "loadstring", "dofile", "loadfile",
                           "debug", "getfenv", "setfenv", "collectgarbage", "newproxy", "package", "gcinfo" }
           local present = {}
           for _, name in ipairs(names) do if _G[name] ~= nil then table.insert(present, name) end end
           return present, type(string.dump), type(string.format), type(math.floor), type(table.sort),
                  type(coroutine.wrap), type(utf8.char), type(bit32.band), type(pcall),
                  type(integer.fromstring)"#,
        &[],
    );
    assert_eq!(code, 0, "{env:#}");
    assert_eq!(
        env["result"],
        json!([
            [],
            "nil",
            "function",
            "function",
            "function",
            "function",
            "function",
            "function",
            "function",
            "function"
        ])
    );
}

#[test]
fn scripts_may_define_their_own_globals_and_locals() {
    let kosmo = Kosmo::new();
    let (code, env) = kosmo.lua(
        r#"function helper(x) return x * 2 end
           counter = 1
           counter = counter + 1
           local __private = 3
           local t = { __index = 1 }
           t.__call = 2
           return helper(counter), __private, t.__index, _G.counter"#,
        &[],
    );
    assert_eq!(code, 0, "{env:#}");
    assert_eq!(env["result"], json!([4, 3, 1, 2]));
}

#[test]
fn limits_are_overridable() {
    let kosmo = Kosmo::new();
    // Needs about 16 MB: over an 8 MB limit, under the default 32 MB.
    let script = "local t = {} for i = 1, 1000000 do t[i] = i end return #t";
    let (code, env) = kosmo.lua(script, &[]);
    assert_eq!(code, 0, "{env:#}");
    assert_eq!(env["result"], json!([1000000]));
    let (code, env) = kosmo.lua(script, &["--memory-limit", "8000000"]);
    assert_eq!(code, 1);
    assert!(error_of(&env).contains("8000000 bytes"), "{env:#}");
}

#[test]
fn integration_calls_inside_coroutines_are_refused_clearly() {
    let kosmo = kosmo_with_unused_server();
    let (code, env) = kosmo.lua(
        r#"local co = coroutine.create(function()
               return app.integrations.clerk.list_users({})
           end)
           return coroutine.resume(co)"#,
        &[],
    );
    assert_eq!(code, 0, "{env:#}");
    assert_eq!(env["result"][0], false);
    assert!(
        env["result"][1].as_str().unwrap().ends_with(
            "Integration calls cannot run inside a coroutine; call them from the main script or a parallel.map function."
        ),
        "{env:#}"
    );
    assert_eq!(env["integration_calls"], json!([]));
}
