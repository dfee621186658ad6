//! Every function of the Clerk integration, end to end: called through the generated handler
//! with the arguments its docs show (its required parameters, with their examples), against the
//! emulator holding the docs fixture, it must succeed, and the request must reach its own
//! route: the function's method, and its path with each placeholder filled from the arguments.
//!
//! Stateful families answer from the emulator's store; the rest from mocks built from Clerk's
//! OpenAPI document, so this test needs that document (found as the emulator finds it). Without
//! it the test is skipped, unless `REQUIRE_OPENAPI` is set.

use clerk_emulator::{Config, Emulator};
use kosmo_codegen::model::{Function, PathPart};
use kosmo_host::{CredentialMap, Host, HttpTransports, RunOptions};
use kosmo_integrations::clerk;
use kosmo_runtime::HttpTransport;
use kosmo_tests::fixture::Fixture;
use serde_json::{Map, Value};

/// The arguments a function's docs show: its required parameters, with their examples.
fn documented_arguments(function: &Function) -> Value {
    let mut args = Map::new();
    for param in function.params.iter().filter(|p| p.required) {
        let value = param
            .example
            .clone()
            .unwrap_or_else(|| panic!("{}.{} has no example", function.name, param.name));
        args.insert(param.name.clone(), value);
    }
    Value::Object(args)
}

/// The wire path the call must reach: the base path, then the template with each placeholder
/// filled from `args`, decoded (the emulator records paths percent-encoded).
fn expected_path(function: &Function, args: &Value) -> String {
    let mut path = String::from("/v1");
    for part in &function.path_parts {
        match part {
            PathPart::Literal { text } => path.push_str(text),
            PathPart::Segment { param } | PathPart::Relative { param } => {
                let param = &function.params[*param];
                match &args[&param.name] {
                    Value::String(text) => path.push_str(text),
                    other => path.push_str(&other.to_string()),
                }
            }
        }
    }
    path
}

fn percent_decoded(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_reaches_its_route_and_succeeds_with_its_documented_arguments() {
    let Some(spec) = clerk_emulator::load_openapi_spec().unwrap() else {
        assert!(
            std::env::var_os("REQUIRE_OPENAPI").is_none(),
            "REQUIRE_OPENAPI is set but Clerk's OpenAPI document was not found"
        );
        println!("skipped: Clerk's OpenAPI document was not found");
        return;
    };
    let root = xtask::fs::repo_root();
    let providers = kosmo_codegen::load(&xtask::fs::read_tree(&root, "spec").unwrap()).unwrap();
    let model = providers.iter().find(|p| p.name == "clerk").unwrap();
    // Raw helpers take any path: the docs' examples run them; there is no one route to check.
    let calls: Vec<(&Function, Value)> = model
        .functions
        .iter()
        .filter(|f| {
            !f.path_parts
                .iter()
                .any(|p| matches!(p, PathPart::Relative { .. }))
        })
        .map(|f| (f, documented_arguments(f)))
        .collect();
    assert!(calls.len() + 4 >= model.functions.len());

    let texts: Vec<(String, String)> = calls
        .iter()
        .map(|(f, args)| (f.name.clone(), args.to_string()))
        .collect();
    let (fixture, problems) =
        Fixture::for_texts(texts.iter().map(|(at, text)| (at.as_str(), text.as_str())));
    assert_eq!(problems, Vec::<String>::new());

    let emulator = Emulator::start(Config::without_limits().with_openapi(spec))
        .await
        .unwrap();
    emulator.pin_ids(&fixture.pins()).unwrap();
    let host = Host::builder()
        .integrations(&kosmo_integrations::INTEGRATIONS)
        .credentials(CredentialMap::new().with(
            "clerk",
            "default",
            kosmo_tests::credentials_for(&emulator),
        ))
        .transports(HttpTransports::new(kosmo_tests::quick_retries()))
        .build()
        .unwrap();
    let setup = host
        .run(
            &fixture.lua(),
            RunOptions {
                force: true,
                ..RunOptions::default()
            },
        )
        .await;
    assert_eq!(setup.error, None, "the fixture does not build: {setup:?}");
    let snapshot = emulator.snapshot();
    let transport = HttpTransport::new(
        &clerk::meta::PROVIDER,
        &kosmo_tests::credentials_for(&emulator),
        kosmo_tests::quick_retries(),
    )
    .unwrap();

    let mut failures = Vec::new();
    for (function, args) in &calls {
        emulator.restore(&snapshot);
        emulator.take_requests();
        let result = clerk::call(&transport, &function.name, args.clone()).await;
        let requests = emulator.take_requests();
        let name = &function.name;
        if let Err(error) = &result {
            failures.push(format!("{name}({args}): {error}"));
            continue;
        }
        let Some(last) = requests.last() else {
            failures.push(format!("{name}({args}): no request reached the emulator"));
            continue;
        };
        let expected = expected_path(function, args);
        let method = function.method.as_str();
        if last.method != method || percent_decoded(&last.path) != expected {
            failures.push(format!(
                "{name}({args}): sent {} {}, expected {method} {expected}",
                last.method, last.path
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} functions failed end to end:\n{}",
        failures.len(),
        calls.len(),
        failures.join("\n")
    );
    println!("{} functions called end to end", calls.len());
}
