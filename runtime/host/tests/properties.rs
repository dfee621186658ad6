//! Property tests of the host: Lua⇄JSON, `dump` under the output limit, the regex library's
//! refusals, the argument checker, and a canary secret that must never show.
//!
//! Each property runs `PROPTEST_CASES` cases (256 unless set; CI uses the default). A failure
//! prints the minimal input and the seed (`cc …`), and proptest saves it under
//! `proptest-regressions/`, which is committed so the case runs first from then on.
//! `PROPTEST_CASES=10000 cargo test -p kosmo-host --test properties` runs many more.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeSet;
use std::time::Duration;

use kosmo_host::lua::convert::MAX_DEPTH;
use kosmo_host::lua::{json_bytes_to_lua, json_to_lua, keep_integers_exact, lua_to_json};
use kosmo_host::{
    CredentialMap, Credentials, Host, HttpConfig, HttpTransports, LimitExceeded, Limits,
    PacingConfig, RetryPolicy, RunOptions, RunReport,
};
use kosmo_runtime::{ApiRequest, Error, FunctionMeta, Integration, Response, Transport};
use mlua::{Lua, LuaOptions, StdLib, Value as LuaValue};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence, RngSeed};
use serde_json::{Map, Number, Value, json};

/// The canary secret: the acme token of every host here. It must never appear in any output,
/// result, error, call record or warning.
const CANARY: &str = "acme_canary_0f5e3c9d1b7a_must_never_show";

const PLENTY: usize = 1_000_000;

/// 2^53: the largest integer a double holds exactly, with every smaller one.
const EXACT: i64 = 1 << 53;

/// `PROPTEST_CASES`, else 256: bounded in CI, as many as wanted locally.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        // Fixed unless PROPTEST_RNG_SEED names another: a run is repeatable, and other inputs
        // are explored on purpose.
        rng_seed: if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
            ProptestConfig::default().rng_seed
        } else {
            RngSeed::Fixed(20_261_130)
        },
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Generators

/// Any string: printable ASCII, control characters, quotes, backslashes, non-ASCII and
/// astral characters.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[ -~]{0,12}",
        1 => "[\\x00-\\x1f\"\\\\\u{7f}-\u{a0}é中\u{1F600}]{0,8}",
        1 => any::<String>(),
    ]
}

/// A finite double that is not a whole number below 2^53 (those become integers).
fn fraction_or_huge() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        (-1e6..1e6f64),
        Just(1e300),
        Just(-2.5e-300),
        Just(f64::MIN_POSITIVE),
        Just(f64::MAX)
    ]
    .prop_filter("finite, not a small whole number", |f| {
        f.is_finite() && !(f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0)
    })
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        // Within 2^53 either way Luau's doubles hold them; beyond, Luau `integer`s do.
        (-EXACT..=EXACT).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just(EXACT),
            Just(-EXACT),
            Just(EXACT - 1),
            Just(EXACT + 1),
            Just(-EXACT - 1),
            Just(i64::MAX),
            Just(i64::MIN),
        ]
        .prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        fraction_or_huge().prop_map(|f| Value::Number(Number::from_f64(f).unwrap())),
        text().prop_map(Value::String),
        Just(json!([])),
        Just(json!({})),
    ]
}

/// Any JSON value, with integers anywhere in i64.
fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(6, 128, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// A value nested `depth` tables deep (arrays or objects at random), around a leaf.
fn nested(depth: usize) -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(any::<bool>(), depth),
        json_leaf(),
        text(),
    )
        .prop_map(|(kinds, leaf, key)| {
            kinds.iter().rev().fold(leaf, |inner, is_array| {
                if *is_array {
                    Value::Array(vec![inner])
                } else {
                    Value::Object(Map::from_iter([(key.clone(), inner)]))
                }
            })
        })
}

/// How many tables deep a value nests (a scalar: 0).
fn table_depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(table_depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(table_depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// A value as JSON compares it: object keys sorted, whole numbers as integers (Lua cannot tell
/// `1.0` from `1`, and JSON does not either).
fn normalized(value: &Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap();
            if f.fract() == 0.0 && f.abs() < 9.2e18 {
                Value::from(f as i64)
            } else {
                value.clone()
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        Value::Object(map) => {
            let mut map: Map<String, Value> = map
                .iter()
                .map(|(k, v)| (k.clone(), normalized(v)))
                .collect();
            map.sort_keys();
            Value::Object(map)
        }
        other => other.clone(),
    }
}

/// `text` as a Lua string literal: every byte but letters and digits as a `\ddd` escape.
fn lua_string(text: &str) -> String {
    let escaped: String = text
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("\\{b:03}")
            }
        })
        .collect();
    format!("\"{escaped}\"")
}

// ---------------------------------------------------------------------------------------------
// Hosts, all holding the canary

/// Every host here uses the real HTTP client, towards a closed port on loopback (nothing
/// answers; nothing leaves the machine), with the canary as the acme token.
fn canary_host(limits: Limits) -> Host {
    let http = HttpConfig {
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(2),
        retry: RetryPolicy::none(),
        pacing: PacingConfig::off(),
        ..HttpConfig::default()
    };
    Host::builder()
        .integrations(&kosmo_fixture_integrations::INTEGRATIONS)
        .credentials(
            CredentialMap::new().with(
                "acme",
                "default",
                Credentials::new()
                    .with("token", CANARY)
                    .with("url", "http://127.0.0.1:1"),
            ),
        )
        .transports(HttpTransports::new(http))
        .limits(limits)
        .build()
        .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `script` and checks that the canary shows nowhere in what the run reports.
fn run(rt: &tokio::runtime::Runtime, host: &Host, script: &str) -> RunReport {
    let report = rt.block_on(host.run(script, RunOptions::default()));
    assert_no_canary(&format!("{report:?}"));
    assert_no_canary(&report.output);
    report
}

fn assert_no_canary(text: &str) {
    assert!(
        !text.contains(CANARY) && !text.contains("0f5e3c9d1b7a"),
        "the secret leaked: {text}"
    );
}

// ---------------------------------------------------------------------------------------------
// Lua⇄JSON

proptest! {
    #![proptest_config(config())]

    /// Every JSON value (null, empty arrays and objects, any 64-bit integer, any string) comes
    /// back from Lua as it went in, from a parsed value and from JSON text alike.
    #[test]
    fn json_round_trips_through_lua(value in json_value()) {
        let lua = exact_lua();
        let expected = normalized(&value);
        let from_value = json_to_lua(&lua, &value).unwrap();
        prop_assert_eq!(&normalized(&lua_to_json(&from_value, PLENTY).unwrap()), &expected);
        let text = serde_json::to_vec(&value).unwrap();
        let from_text = json_bytes_to_lua(&lua, &text).unwrap();
        prop_assert_eq!(&normalized(&lua_to_json(&from_text, PLENTY).unwrap()), &expected);
    }

    /// Up to [`MAX_DEPTH`] tables deep a value round-trips; deeper, it is refused with an
    /// error that says so, never a crash or a silent cut.
    #[test]
    fn nesting_round_trips_up_to_the_limit_and_is_refused_past_it(
        value in (0..=MAX_DEPTH + 16).prop_flat_map(nested)
    ) {
        let lua = exact_lua();
        let text = serde_json::to_vec(&value).unwrap();
        let in_lua = json_bytes_to_lua(&lua, &text).unwrap();
        let back = lua_to_json(&in_lua, PLENTY);
        if table_depth(&value) <= MAX_DEPTH {
            prop_assert_eq!(normalized(&back.unwrap()), normalized(&value));
        } else {
            let error = back.unwrap_err();
            prop_assert!(
                error.contains(&format!("deeper than {MAX_DEPTH} levels")),
                "{}", error
            );
        }
    }

    /// A Lua string is JSON when it is UTF-8, as a value and as a key; otherwise converting
    /// it is refused with an error that says why.
    #[test]
    fn lua_strings_convert_when_utf8_and_are_refused_otherwise(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..16),
            any::<String>().prop_map(String::into_bytes),
        ]
    ) {
        let lua = exact_lua();
        let string = lua.create_string(&bytes).unwrap();
        let as_value = lua_to_json(&LuaValue::String(string.clone()), PLENTY);
        let table = lua.create_table().unwrap();
        table.raw_set(string, 1).unwrap();
        let as_key = lua_to_json(&LuaValue::Table(table), PLENTY);
        match std::str::from_utf8(&bytes) {
            Ok(text) => {
                prop_assert_eq!(as_value.unwrap(), json!(text));
                prop_assert_eq!(as_key.unwrap(), json!({ text: 1 }));
            }
            Err(_) => {
                let error = as_value.unwrap_err();
                prop_assert!(error.contains("not UTF-8"), "{}", error);
                let error = as_key.unwrap_err();
                prop_assert!(error.contains("not UTF-8"), "{}", error);
            }
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// Through a script: `json.decode` then `json.encode` then `json.decode` gives back the
    /// value, and `json.null` is what null becomes.
    #[test]
    fn json_round_trips_through_a_script(value in json_value()) {
        let rt = runtime();
        let host = canary_host(Limits::default());
        let text = serde_json::to_string(&value).unwrap();
        let script = format!(
            "local v = json.decode({})\n\
             local again = json.decode(json.encode(v))\n\
             return again, v == json.null",
            lua_string(&text)
        );
        let report = run(&rt, &host, &script);
        prop_assert_eq!(report.error, None);
        let result = report.result.unwrap();
        prop_assert_eq!(&normalized(&result[0]), &normalized(&value));
        prop_assert_eq!(&result[1], &json!(value.is_null()));
    }
}

// ---------------------------------------------------------------------------------------------
// dump and print under the output limit

/// Lua that builds a value: from JSON, a table shared many times over, a cycle, or a table
/// with a `__tostring`.
fn lua_value_source() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => json_value().prop_map(|v| format!(
            "json.decode({})",
            lua_string(&serde_json::to_string(&v).unwrap())
        )),
        1 => (0..30u32).prop_map(|n| format!(
            "(function() local a = {{1}} for i = 1, {n} do a = {{a, a, x = a}} end return a end)()"
        )),
        1 => (0..120u32).prop_map(|n| format!(
            "(function() local t = {{}} local top = t for i = 1, {n} do t.next = {{}} t = t.next end t.back = top return top end)()"
        )),
        1 => text().prop_map(|s| format!(
            "setmetatable({{}}, {{ __tostring = function() return {} end }})",
            lua_string(&s)
        )),
        1 => prop::collection::vec(any::<u8>(), 0..12).prop_map(|bytes| {
            let escaped: String = bytes.iter().map(|b| format!("\\{b:03}")).collect();
            format!("{{ [\"{escaped}\"] = \"{escaped}\" }}")
        }),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// `dump` and `print` never panic and never write more than the output limit: a run
    /// either prints everything within it or stops at it, saying so.
    #[test]
    fn dump_never_exceeds_the_output_limit(
        source in lua_value_source(),
        output in prop_oneof![0..64usize, 0..4096usize],
        times in 1..4usize,
    ) {
        let rt = runtime();
        let limits = Limits { output, ..Limits::default() };
        let host = canary_host(limits);
        let script = format!(
            "local v = {source}\nfor i = 1, {times} do dump(v) print(v, i) end\nreturn 'done'"
        );
        let report = run(&rt, &host, &script);
        prop_assert!(
            report.output.len() <= output,
            "{} bytes of output over a limit of {}", report.output.len(), output
        );
        match &report.error {
            None => prop_assert_eq!(report.result, Some(vec![json!("done")])),
            Some(error) => {
                prop_assert_eq!(report.limit_exceeded, Some(LimitExceeded::Output), "{}", error);
                prop_assert!(error.contains("Output limit exceeded"), "{}", error);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Regex library

proptest! {
    #![proptest_config(config())]

    /// A pattern the engine cannot run in linear time (backreferences, look-around) is
    /// refused with an error naming the function and the problem; it never runs.
    #[test]
    fn patterns_without_a_linear_time_match_are_refused(
        prefix in "[a-z]{0,4}",
        feature in prop_oneof![
            Just("\\1"), Just("\\2"), Just("\\k<name>"), Just("(?=a)"), Just("(?!a)"),
            Just("(?<=a)"), Just("(?<!a)"),
        ],
        function in prop_oneof![Just("match"), Just("match_all"), Just("gsub")],
        subject in "[a-z]{0,20}",
    ) {
        let rt = runtime();
        let host = canary_host(Limits::default());
        let pattern = format!("({prefix})?(a)(?<name>b){feature}");
        let call = if function == "gsub" {
            format!("regex.gsub({}, {}, 'x')", lua_string(&subject), lua_string(&pattern))
        } else {
            format!("regex.{function}({}, {})", lua_string(&subject), lua_string(&pattern))
        };
        let report = run(&rt, &host, &format!("return {call}"));
        let error = report.error.expect("refused");
        prop_assert!(error.contains(&format!("regex.{function}: invalid regex")), "{}", error);
        prop_assert!(
            error.contains("not supported") || error.contains("unrecognized"),
            "{}", error
        );
    }
}

/// The refusal as a script author sees it, for the two common cases.
#[test]
fn backreferences_and_lookaround_are_refused_with_a_clear_error() {
    let rt = runtime();
    let host = canary_host(Limits::default());
    let report = run(&rt, &host, r#"return regex.match("aa", "(a)\\1")"#);
    let error = report.error.unwrap();
    assert!(error.contains("regex.match: invalid regex"), "{error}");
    assert!(
        error.contains("backreferences are not supported"),
        "{error}"
    );
    let report = run(&rt, &host, r#"return regex.match("ab", "a(?=b)")"#);
    let error = report.error.unwrap();
    assert!(
        error.contains("look-around") && error.contains("not supported"),
        "{error}"
    );
}

// ---------------------------------------------------------------------------------------------
// The argument checker

/// Answers every request with an empty object, without sending anything.
struct Answer;

impl Transport for Answer {
    fn send(&self, _request: ApiRequest) -> kosmo_runtime::TransportFuture<'_> {
        Box::pin(async { Ok(Response::from_value("test", &json!({}))) })
    }
}

fn integrations() -> Vec<&'static Integration> {
    kosmo_fixture_integrations::INTEGRATIONS
        .iter()
        .chain(kosmo_integrations::INTEGRATIONS.iter())
        .copied()
        .collect()
}

fn functions() -> Vec<(&'static Integration, &'static FunctionMeta)> {
    integrations()
        .into_iter()
        .flat_map(|i| i.meta.functions.iter().map(move |f| (i, *f)))
        .collect()
}

/// A value of any shape a caller might pass, well-typed or not.
fn argument_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => json_leaf(),
        1 => Just(json!("")),
        1 => Just(json!("..")),
        1 => Just(json!(u64::MAX)),
        1 => Just(json!(9_223_372_036_854_775_808u64)),
        1 => Just(json!(-1e300)),
        1 => Just(json!({"content": "aGk=", "filename": "a.gif"})),
        1 => Just(json!({"content_base64": "R0lGODlhAQABAAAAACw=", "filename": "dot.gif"})),
        1 => prop::collection::vec(json_leaf(), 0..4).prop_map(Value::Array),
        1 => prop::collection::vec((text(), json_leaf()), 0..3)
            .prop_map(|e| Value::Object(e.into_iter().collect())),
    ]
}

/// A function and arguments for it: keys from its parameters and aliases, and unknown ones.
fn call_case() -> impl Strategy<Value = (usize, Value)> {
    let count = functions().len();
    (0..count).prop_flat_map(|index| {
        let (_, function) = functions()[index];
        let mut names: Vec<String> = function
            .params
            .iter()
            .flat_map(|p| std::iter::once(p.name).chain(p.aliases.iter().copied()))
            .map(str::to_string)
            .collect();
        names.push("unknown".to_string());
        let key = prop_oneof![
            4 => prop::sample::select(names),
            1 => text(),
        ];
        let args = prop_oneof![
            8 => prop::collection::vec((key, argument_value()), 0..6)
                .prop_map(|e| Value::Object(e.into_iter().collect())),
            1 => argument_value(),
        ];
        (Just(index), args)
    })
}

proptest! {
    #![proptest_config(config())]

    /// Every refusal of a call's arguments names a parameter: one the function has, or the
    /// unknown key the caller gave; `arguments` only when the arguments are not a table.
    #[test]
    fn every_refusal_names_the_parameter((index, args) in call_case()) {
        let rt = runtime();
        let (integration, function) = functions()[index];
        let result = rt.block_on(integration.call(&Answer, function, args.clone()));
        let Err(error) = result else { return Ok(()) };
        let text = error.to_string();
        assert_no_canary(&text);
        // Other errors come after the arguments were accepted (the canned answer's shape).
        let Error::InvalidArgument { function: name, parameter, .. } = &error else {
            return Ok(());
        };
        prop_assert_eq!(name, function.name);
        let mut known: BTreeSet<&str> = function
            .params
            .iter()
            .flat_map(|p| std::iter::once(p.name).chain(p.aliases.iter().copied()))
            .collect();
        if let Value::Object(map) = &args {
            known.extend(map.keys().map(String::as_str));
        } else {
            known.insert("arguments");
        }
        prop_assert!(
            known.contains(parameter.as_str()),
            "{} names `{}`, which is neither a parameter of {} nor a key given", text, parameter, function.name
        );
        prop_assert!(text.contains(parameter.as_str()), "{}", text);
    }
}

/// Found by `every_refusal_names_the_parameter`: an empty path ID was refused under its wire
/// name (`apiKeyID`), which no script can pass; refusals now name `api_key_id`.
#[test]
fn a_refused_path_segment_names_the_parameter_not_its_wire_name() {
    let rt = runtime();
    for (function, args, parameter) in [
        (
            "get_api_key_secret",
            json!({"api_key_id": ""}),
            "api_key_id",
        ),
        ("get_user", json!({"id": ".."}), "id"),
    ] {
        let integration = &kosmo_integrations::INTEGRATIONS[0];
        let meta = integration.function(function).unwrap();
        let error = rt
            .block_on(integration.call(&Answer, meta, args))
            .unwrap_err();
        match error {
            Error::InvalidArgument { parameter: p, .. } => assert_eq!(p, parameter, "{function}"),
            other => panic!("{function}: {other}"),
        }
    }
}

/// Found by `json_round_trips_through_lua`: Luau numbers are doubles, so an integer beyond
/// 2^53 (an ID, say) came back as the nearest double. Such integers are now Luau `integer`s.
#[test]
fn integers_beyond_2_53_round_trip_exactly() {
    let lua = exact_lua();
    let value = json!({"id": 10_909_627_386_460_955_i64, "ids": [-9_007_199_254_740_993_i64]});
    let back = lua_to_json(&json_to_lua(&lua, &value).unwrap(), PLENTY).unwrap();
    assert_eq!(back, value);
    let text = serde_json::to_vec(&value).unwrap();
    let back = lua_to_json(&json_bytes_to_lua(&lua, &text).unwrap(), PLENTY).unwrap();
    assert_eq!(back, value);
}

/// A Lua state as the sandbox makes it for numbers: with Luau's `integer` library, and
/// conversions told to use it.
fn exact_lua() -> Lua {
    let lua = Lua::new_with(StdLib::INTEGER, LuaOptions::default()).unwrap();
    keep_integers_exact(&lua).unwrap();
    lua
}

// ---------------------------------------------------------------------------------------------
// The canary, through whole scripts that call the integration

fn acme_script() -> impl Strategy<Value = String> {
    let calls = prop_oneof![
        Just("acme.list_widgets({ limit = 2 })".to_string()),
        Just("acme.get_widget({ id = 'wid_1' })".to_string()),
        Just("acme.get_widget({})".to_string()),
        Just("acme.raw_get({ path = '/widgets?x' })".to_string()),
        Just("acme.create_widget({ name = 'x' })".to_string()),
        Just("acme.nothing({})".to_string()),
        Just("acme.list_widgets({ limit = 'many' })".to_string()),
    ];
    (calls, prop::bool::ANY).prop_map(|(call, protected)| {
        if protected {
            format!(
                "local acme = app.integrations.acme\n\
                 local ok, err = pcall(function() return {call} end)\n\
                 print(ok, err) dump(err)\n\
                 return err"
            )
        } else {
            format!("local acme = app.integrations.acme\nreturn {call}")
        }
    })
}

proptest! {
    #![proptest_config(config())]

    /// Calls that succeed, fail on their arguments, are refused by the policy or fail to
    /// connect: the token never shows in the output, the result, the error or the call log.
    #[test]
    fn the_secret_never_shows(script in acme_script()) {
        let rt = runtime();
        let host = canary_host(Limits::default());
        run(&rt, &host, &script);
    }
}

/// `dump(app.integrations.acme)` and friends: what a script can reach of an account shows no
/// secret.
#[test]
fn the_secret_is_not_reachable_from_lua() {
    let rt = runtime();
    let host = canary_host(Limits::default());
    let report = run(
        &rt,
        &host,
        "dump(app) dump(app.integrations) dump(app.integrations.acme) dump(app.integrations.acme.default)\n\
         print(app.integrations.acme.default)\n\
         return app.integrations.acme",
    );
    assert_eq!(report.error, None);
}
