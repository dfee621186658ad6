//! The host as a program embeds it: in process, no binary, no network. Requests go to a
//! transport that records them and answers from a table; the integration is the fixture
//! provider `acme` (tests/fixture-crate), so nothing here depends on a real provider.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kosmo_host::{
    AccountPolicy, Approval, ApprovalRequest, Approver, BuildError, CallError, CallOptions,
    CredentialMap, Credentials, Host, LimitExceeded, Limits, Policy, RunOptions, TransportFactory,
};
use kosmo_runtime::{ApiRequest, Error, ProviderMeta, Response, Transport, TransportFuture};
use serde_json::{Value, json};

const ACME: &[&kosmo_runtime::Integration] = &kosmo_fixture_integrations::INTEGRATIONS;

/// One request as the fake provider saw it, with the account's `url` credential (each test
/// account has its own) to tell accounts apart.
#[derive(Debug, Clone)]
struct Seen {
    account_url: String,
    method: &'static str,
    path: String,
}

/// Answers every request with a widget; records what it was sent.
#[derive(Default)]
struct FakeAcme {
    seen: Mutex<Vec<Seen>>,
    /// Never answer: to test that a stopped run cancels its calls.
    hang: AtomicBool,
    dropped: Arc<AtomicUsize>,
    /// When set, `GET /widgets` answers Acme's paged shape `{items, count}` over this many
    /// widgets, reading `skip` and `limit`.
    widgets: Option<usize>,
    /// When set, every other request is answered with this body.
    answer: Option<Value>,
}

struct FakeTransport {
    acme: Arc<FakeAcme>,
    account_url: String,
}

/// Counts when a pending call is dropped.
struct DropFlag(Arc<AtomicUsize>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Transport for FakeTransport {
    fn send(&self, request: ApiRequest) -> TransportFuture<'_> {
        self.acme.seen.lock().unwrap().push(Seen {
            account_url: self.account_url.clone(),
            method: request.method.as_str(),
            path: request.path.clone(),
        });
        let hang = self
            .acme
            .hang
            .load(Ordering::SeqCst)
            .then(|| DropFlag(self.acme.dropped.clone()));
        Box::pin(async move {
            if let Some(_flag) = hang {
                std::future::pending::<()>().await;
            }
            let query = |key: &str| -> Option<usize> {
                request
                    .query
                    .iter()
                    .find(|(k, _)| k == key)
                    .and_then(|(_, v)| v.parse().ok())
            };
            let paged = self.acme.widgets;
            let body = if let (Some(count), true) = (paged, request.path == "/widgets") {
                let skip = query("skip").unwrap_or(0).min(count);
                let end = (skip + query("limit").unwrap_or(10)).min(count);
                let items: Vec<_> = (skip..end)
                    .map(|i| json!({"object": "widget", "id": format!("wid_{i}")}))
                    .collect();
                json!({"items": items, "count": count})
            } else if let Some(answer) = &self.acme.answer {
                answer.clone()
            } else if request.path == "/widgets" && request.method.as_str() == "GET" {
                json!([{"object": "widget", "id": "wid_1"}, {"object": "widget", "id": "wid_2"}])
            } else {
                json!({"object": "widget", "id": "wid_1", "tags": [], "meta": {}})
            };
            Ok(Response::from_value("Acme Widgets", &body))
        })
    }
}

struct FakeFactory(Arc<FakeAcme>);

impl TransportFactory for FakeFactory {
    fn transport(
        &self,
        integration: &'static ProviderMeta,
        credentials: &Credentials,
    ) -> Result<Arc<dyn Transport>, Error> {
        credentials.check(integration)?;
        Ok(Arc::new(FakeTransport {
            acme: self.0.clone(),
            account_url: credentials.plain(integration, "url").unwrap_or_default(),
        }))
    }
}

fn account(url: &str) -> Credentials {
    Credentials::new()
        .with("token", "acme_test_token")
        .with("url", url)
}

/// A host with `default` and `work` accounts, and what it sends.
fn host_with(policy: AccountPolicy, approver: impl Approver + 'static) -> (Host, Arc<FakeAcme>) {
    host_over(Arc::new(FakeAcme::default()), policy, approver)
}

fn host_over(
    acme: Arc<FakeAcme>,
    policy: AccountPolicy,
    approver: impl Approver + 'static,
) -> (Host, Arc<FakeAcme>) {
    let host = Host::builder()
        .integrations(ACME)
        .credentials(
            CredentialMap::new()
                .with("acme", "default", account("https://default.acme.test"))
                .with("acme", "work", account("https://work.acme.test")),
        )
        .policies(policy)
        .approver(approver)
        .transports(FakeFactory(acme.clone()))
        .build()
        .unwrap();
    (host, acme)
}

fn host() -> (Host, Arc<FakeAcme>) {
    host_with(AccountPolicy::default(), kosmo_host::NobodyToAsk)
}

fn named(name: &str) -> RunOptions {
    RunOptions {
        name: name.to_string(),
        ..RunOptions::default()
    }
}

#[tokio::test]
async fn a_run_returns_output_results_and_its_call_log() {
    let (host, acme) = host();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let options = RunOptions {
        on_output: Some(Arc::new(move |line: &str| {
            sink.lock().unwrap().push(line.to_string())
        })),
        ..named("script.lua")
    };
    let report = host
        .run(
            r#"local acme = app.integrations.acme
               local widgets = acme.list_widgets({ limit = 2 })
               print("found", #widgets)
               dump({ first = widgets[1].id })
               local one = acme.work.get_widget({ id = "wid_1" })
               return #widgets, one.id, json.encode(one.meta), json.encode(one.tags)"#,
            options,
        )
        .await;
    assert_eq!(report.error, None);
    assert!(report.success());
    assert_eq!(report.output, "found\t2\n{\n  first: wid_1\n}");
    assert_eq!(*lines.lock().unwrap(), ["found\t2", "{\n  first: wid_1\n}"]);
    // Empty objects stay objects, empty arrays arrays, through Lua and back.
    assert_eq!(
        report.result,
        Some(vec![json!(2), json!("wid_1"), json!("{}"), json!("[]")])
    );
    assert!(report.memory_usage.is_some_and(|m| m > 0));
    let calls: Vec<(String, &str, bool)> = report
        .calls
        .iter()
        .map(|c| (c.path(), &*c.title, c.error.is_none()))
        .collect();
    assert_eq!(
        calls,
        [
            (
                "integrations.acme.list_widgets".to_string(),
                "List Widgets",
                true
            ),
            (
                "integrations.acme.work.get_widget".to_string(),
                "Get Widget",
                true
            ),
        ]
    );
    let seen = acme.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[0].account_url.as_str(), seen[1].account_url.as_str()),
        ("https://default.acme.test", "https://work.acme.test")
    );
    assert_eq!(
        (seen[1].method, seen[1].path.as_str()),
        ("GET", "/widgets/wid_1")
    );
}

#[tokio::test]
async fn writes_are_asked_and_the_approver_decides() {
    /// Approves only widgets named "ok", and remembers what it was asked.
    struct Picky(Mutex<Vec<String>>);
    impl Approver for Picky {
        fn approve<'a>(
            &'a self,
            request: ApprovalRequest<'a>,
        ) -> Pin<Box<dyn Future<Output = Approval> + Send + 'a>> {
            self.0.lock().unwrap().push(format!(
                "{}.{} {} {}",
                request.integration.name, request.function.name, request.account, request.arguments
            ));
            let approve = request.arguments["name"] == "ok";
            Box::pin(async move {
                if approve {
                    Approval::Approved
                } else {
                    Approval::Refused
                }
            })
        }
    }
    let picky = Arc::new(Picky(Mutex::new(Vec::new())));
    struct Shared(Arc<Picky>);
    impl Approver for Shared {
        fn approve<'a>(
            &'a self,
            request: ApprovalRequest<'a>,
        ) -> Pin<Box<dyn Future<Output = Approval> + Send + 'a>> {
            self.0.approve(request)
        }
    }
    let (host, acme) = host_with(AccountPolicy::default(), Shared(picky.clone()));
    let report = host
        .run(
            r#"local acme = app.integrations.acme
               local made = acme.create_widget({ name = "ok" })
               local ok, err = pcall(acme.create_widget, { name = "no" })
               -- Reads are allowed without asking.
               acme.get_widget({ id = "wid_1" })
               return made.id, ok, tostring(err), err.kind"#,
            RunOptions::default(),
        )
        .await;
    assert_eq!(report.error, None);
    assert_eq!(
        report.result.unwrap(),
        [
            json!("wid_1"),
            json!(false),
            json!(
                "Integration 'acme' write requires approval. Ask the user to change the permission in /settings → Integrations"
            ),
            json!("config")
        ]
    );
    assert_eq!(
        *picky.0.lock().unwrap(),
        [
            r#"acme.create_widget default {"name":"ok"}"#,
            r#"acme.create_widget default {"name":"no"}"#
        ]
    );
    // The refused call never reached the provider; the run was not forced.
    assert_eq!(acme.seen.lock().unwrap().len(), 2);
    assert!(!report.permission_bypassed);
}

#[tokio::test]
async fn deny_refuses_force_bypasses_and_says_so() {
    let deny = AccountPolicy {
        enabled: true,
        read: Policy::Deny,
        write: Policy::Deny,
    };
    let (host, acme) = host_with(deny, kosmo_host::NobodyToAsk);
    let script = r#"return app.integrations.acme.get_widget({ id = "wid_1" }).id"#;
    let refused = host.run(script, RunOptions::default()).await;
    assert_eq!(
        refused.error.as_deref(),
        Some("Integration 'acme' read access denied. Enable it in /settings → Integrations")
    );
    assert!(acme.seen.lock().unwrap().is_empty());
    let forced = host
        .run(
            script,
            RunOptions {
                force: true,
                ..RunOptions::default()
            },
        )
        .await;
    assert_eq!(forced.result, Some(vec![json!("wid_1")]));
    assert!(forced.permission_bypassed);

    let disabled = AccountPolicy {
        enabled: false,
        ..AccountPolicy::default()
    };
    let (host, _) = host_with(disabled, kosmo_host::NobodyToAsk);
    let report = host.run(script, RunOptions::default()).await;
    assert!(
        report
            .error
            .unwrap()
            .starts_with("Integration 'acme' is disabled.")
    );
}

#[tokio::test]
async fn a_dry_run_shows_writes_without_sending_or_asking() {
    let (host, acme) = host();
    let report = host
        .run(
            r#"return app.integrations.acme.create_widget({ name = "Sprocket", weight = 1.5 })"#,
            RunOptions {
                dry_run: true,
                ..RunOptions::default()
            },
        )
        .await;
    assert_eq!(report.error, None);
    let shown = &report.result.unwrap()[0];
    assert_eq!(shown["dry_run"], true);
    assert_eq!(shown["method"], "POST");
    assert_eq!(shown["url"], "https://default.acme.test/widgets");
    assert_eq!(shown["body"], json!({"name": "Sprocket", "weight": 1.5}));
    assert_eq!(shown["headers"]["Authorization"], "Bearer [REDACTED]");
    assert_eq!(shown["policy"], "ask");
    assert!(acme.seen.lock().unwrap().is_empty());
    assert!(report.dry_run);
    assert!(report.calls[0].dry_run);
}

#[tokio::test]
async fn accounts_errors_and_warnings_speak_of_what_is_configured() {
    let acme = Arc::new(FakeAcme::default());
    let host = Host::builder()
        .integrations(ACME)
        .credentials(
            CredentialMap::new()
                .with("acme", "work", account("https://work.acme.test"))
                // An account named like a function, or like the iterators' table, cannot be a
                // table field.
                .with("acme", "ping", account("https://ping.acme.test"))
                .with("acme", "each", account("https://each.acme.test")),
        )
        .transports(FakeFactory(acme))
        .build()
        .unwrap();
    let report = host
        .run(
            r#"local ok, err = pcall(function() return app.integrations.acme.wrok end)
               local no_key = select(2, pcall(app.integrations.acme.get_widget, { id = "w" }))
               return tostring(err), tostring(no_key)"#,
            RunOptions::default(),
        )
        .await;
    assert_eq!(report.error, None, "{report:?}");
    let result = report.result.unwrap();
    assert!(
        result[0].as_str().unwrap().contains(
            "It is neither a function nor a configured account (accounts: default, work)."
        ),
        "{result:?}"
    );
    // The default account has no credentials here.
    assert!(
        result[1]
            .as_str()
            .unwrap()
            .contains("The credential `token` is missing"),
        "{result:?}"
    );
    assert_eq!(
        report.warnings,
        [
            "the acme account `each` has the name of a function or of the `each` iterators; reach it with integrations:call --account each",
            "the acme account `ping` has the name of a function or of the `each` iterators; reach it with integrations:call --account ping"
        ]
    );
}

#[tokio::test]
async fn single_calls_name_what_is_unknown() {
    let (host, _) = host();
    let call = |integration: &'static str, function: &'static str, account: Option<&str>| {
        host.call(
            integration,
            function,
            json!({"id": "wid_1"}),
            CallOptions {
                account: account.map(str::to_string),
                ..CallOptions::default()
            },
        )
    };
    let ok = call("acme", "get_widget", Some("work")).await;
    assert_eq!(ok.result.unwrap()["id"], "wid_1");
    assert_eq!(
        ok.record.unwrap().path(),
        "integrations.acme.work.get_widget"
    );

    let error = call("acmee", "get_widget", None).await.result.unwrap_err();
    assert!(matches!(error, CallError::UnknownIntegration { .. }));
    assert_eq!(
        error.to_string(),
        "Unknown integration `acmee`; known: acme"
    );
    let error = call("acme", "get_widgte", None).await.result.unwrap_err();
    assert!(
        error.to_string().contains("Did you mean: get_widget"),
        "{error}"
    );
    let error = call("acme", "get_widget", Some("home"))
        .await
        .result
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "Acme Widgets account `home` is not configured (accounts: default, work)."
    );
}

/// Runs `code` on `host` with `limits`.
async fn run_limited(host: &Host, code: String, limits: Limits) -> kosmo_host::RunReport {
    host.run(
        code,
        RunOptions {
            limits: Some(limits),
            ..RunOptions::default()
        },
    )
    .await
}

#[tokio::test]
async fn limits_end_the_script_not_the_host() {
    let (host, _) = host();
    let limits = Limits {
        memory: 4 * 1024 * 1024,
        cpu: Duration::from_millis(300),
        output: 64 * 1024,
    };
    let run = |code: &str| run_limited(&host, code.to_string(), limits);
    let cpu = run("while true do pcall(function() while true do end end) end").await;
    assert_eq!(cpu.limit_exceeded, Some(LimitExceeded::Cpu));
    assert!(cpu.error.unwrap().starts_with("CPU time limit exceeded"));
    let memory = run("local t = {} for i = 1, 1e9 do t[i] = { i } end").await;
    assert_eq!(memory.limit_exceeded, Some(LimitExceeded::Memory));
    let output = run("while true do print(string.rep('y', 1000)) end").await;
    assert_eq!(output.limit_exceeded, Some(LimitExceeded::Output));
    assert!(output.output.len() <= limits.output);
    // And the host runs the next script as if nothing happened.
    let fine = run("return 1").await;
    assert_eq!(fine.result, Some(vec![json!(1)]));
    // Limits a run cannot work with are refused before it starts.
    let tiny = run_limited(
        &host,
        "return 1".into(),
        Limits {
            memory: 1024,
            ..limits
        },
    )
    .await;
    assert_eq!(
        tiny.error.as_deref(),
        Some("the memory limit must be at least 65536 bytes")
    );
}

#[tokio::test]
async fn library_calls_that_run_outside_the_vm_are_bounded_by_their_input() {
    let (host, _) = host();
    let limits = Limits {
        memory: 8 * 1024 * 1024,
        cpu: Duration::from_secs(30),
        output: 1024 * 1024,
    };
    // A table shared 2^40 times over: each conversion stops at its bound, quickly (the CPU
    // limit of 30 s is not what stops them).
    let bomb = |then: &str| {
        run_limited(
            &host,
            format!("local a = {{1}} for i = 1, 40 do a = {{a, a}} end {then}"),
            limits,
        )
    };
    let encode = bomb("return json.encode(a)").await;
    assert!(
        encode
            .error
            .as_deref()
            .unwrap()
            .contains("json.encode: the value must not hold more than"),
        "{:?}",
        encode.error
    );
    let dump = bomb("dump(a)").await;
    assert_eq!(dump.limit_exceeded, Some(LimitExceeded::Output));
    let call = bomb("return app.integrations.acme.list_widgets({ type = a })").await;
    assert!(
        call.error
            .as_deref()
            .unwrap()
            .contains("list_widgets: arguments hold more than"),
        "{:?}",
        call.error
    );
    let returned = bomb("return a").await;
    assert_eq!(
        returned.result,
        Some(vec![json!("<table too large to show>")])
    );
    let gsub = run_limited(
        &host,
        r#"return regex.gsub(string.rep("x", 1000), "x", string.rep("y", 10000))"#.into(),
        limits,
    )
    .await;
    assert!(
        gsub.error
            .as_deref()
            .unwrap()
            .contains("regex.gsub: the result would exceed"),
        "{:?}",
        gsub.error
    );
}

#[tokio::test]
async fn a_dropped_run_cancels_its_calls() {
    let (host, acme) = host();
    acme.hang.store(true, Ordering::SeqCst);
    let run = host.run(
        "return app.integrations.acme.get_widget({ id = 'wid_1' })",
        RunOptions::default(),
    );
    // The call never answers; the embedding program gives up on the run.
    let gave_up = tokio::time::timeout(Duration::from_millis(200), run).await;
    assert!(gave_up.is_err());
    // The call's task is aborted with it (not left running against the provider).
    for _ in 0..100 {
        if acme.dropped.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(acme.dropped.load(Ordering::SeqCst), 1);
    assert_eq!(acme.seen.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_are_send_and_independent() {
    fn assert_send<T: Send>(value: T) -> T {
        value
    }
    let (host, _) = host();
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let host = host.clone();
            tokio::spawn(assert_send(async move {
                host.run(
                    format!("counter = {i} print('run', counter) return counter * 10"),
                    RunOptions::default(),
                )
                .await
            }))
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        let report = task.await.unwrap();
        assert_eq!(report.output, format!("run\t{i}"));
        assert_eq!(report.result, Some(vec![json!(i * 10)]));
    }
}

#[test]
fn the_builder_refuses_what_cannot_work() {
    let twice = Host::builder()
        .integrations(ACME)
        .integrations(ACME)
        .build();
    assert_eq!(
        twice.unwrap_err(),
        BuildError::DuplicateIntegration("acme".into())
    );
    let tiny = Host::builder()
        .integrations(ACME)
        .limits(Limits {
            memory: 1024,
            ..Limits::default()
        })
        .build();
    assert!(matches!(tiny, Err(BuildError::Limits(_))));
}

#[test]
fn the_host_never_prints_or_exits() {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![source];
    let mut offenders = Vec::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for needle in [
            "println!",
            "print!(",
            "eprintln!",
            "eprint!(",
            "std::process::exit",
            "stdout()",
            "stderr()",
        ] {
            if text.contains(needle) {
                offenders.push(format!("{}: {needle}", path.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:?}");
}

#[tokio::test]
async fn docs_are_served_from_the_registry() {
    let (host, _) = host();
    let report = host
        .run(
            r#"return docs.read("acme.get_widget") == docs.read("acme.acme_get_widget"),
                      #docs.list(), docs.search("widget")"#,
            RunOptions::default(),
        )
        .await;
    let result = report.result.unwrap();
    assert_eq!(result[0], true);
    // acme, app.integrations.acme, its guides, and each family's page with its functions'.
    let docs = &kosmo_fixture_integrations::acme::docs::DOCS;
    assert_eq!(
        result[1],
        json!(
            2 + kosmo_fixture_integrations::acme::meta::FUNCTIONS.len()
                + docs.family_pages.len()
                + docs.guide_pages.len()
        )
    );
    assert!(
        result[2]
            .as_str()
            .unwrap()
            .starts_with("acme.list_widgets - List widgets."),
        "{result:?}"
    );
    let page = host.docs().read("acme").unwrap();
    assert_eq!(
        page,
        kosmo_fixture_integrations::acme::docs::DOCS
            .provider_page
            .split_once('\n')
            .unwrap()
            .1
    );
    let schema = host
        .integration("acme")
        .unwrap()
        .input_schema(&kosmo_fixture_integrations::acme::meta::GET_WIDGET)
        .unwrap();
    assert_eq!(schema["required"], json!(["id"]));
}

#[tokio::test]
async fn family_and_guide_pages_are_read_and_listed_by_family() {
    let (host, _) = host();
    let docs = host.docs();
    let strip = |page: &str| page.split_once('\n').unwrap().1.to_string();
    let fixture = &kosmo_fixture_integrations::acme::docs::DOCS;
    assert_eq!(
        docs.read("acme.family.widgets").unwrap(),
        strip(fixture.family_pages[1].1)
    );
    assert_eq!(
        docs.read("app.integrations.acme.family.widgets").unwrap(),
        docs.read("acme.family.widgets").unwrap()
    );
    assert_eq!(
        docs.read("acme.guide.start").unwrap(),
        strip(fixture.guide_pages[0].1)
    );
    let unknown = docs.read("acme.family.widget").unwrap_err();
    assert_eq!(
        unknown,
        "Unknown docs page: acme.family.widget. Did you mean: widgets? The family pages: raw, widgets, health."
    );
    assert!(
        docs.read("acme.guide.nope")
            .unwrap_err()
            .ends_with("The guide pages: start."),
    );
    // Grouped: the provider, its index, its guides, then each family and its functions.
    assert_eq!(
        docs.list(),
        [
            "acme",
            "app.integrations.acme",
            "acme.guide.start",
            "acme.family.raw",
            "acme.raw_get",
            "acme.family.widgets",
            "acme.list_widgets",
            "acme.get_widget",
            "acme.create_widget",
            "acme.upload_widget_image",
            "acme.delete_widget",
            "acme.family.health",
            "acme.ping",
        ]
    );
    assert_eq!(docs.list_under("acme").unwrap(), docs.list());
    assert_eq!(
        docs.list_under("acme.family.health").unwrap(),
        ["acme.family.health", "acme.ping"]
    );
    assert!(docs.list_under("acme.family.nope").is_none());
    // The same from Lua, where an unknown scope is an error.
    let report = host
        .run(
            r#"local pages = docs.list("acme.family.widgets")
               local ok, err = pcall(docs.list, "nowhere")
               return #pages, pages[1], pages[2], ok, tostring(err)"#,
            RunOptions::default(),
        )
        .await;
    let result = report.result.unwrap();
    assert_eq!(result[0], 6);
    assert_eq!(result[1], "acme.family.widgets");
    assert_eq!(result[2], "acme.list_widgets");
    assert_eq!(result[3], false);
    assert!(
        result[4]
            .as_str()
            .unwrap()
            .contains("no pages under `nowhere`"),
        "{result:?}"
    );
    // JSON: a family's catalog entry holds its functions' entries.
    let family = docs.read_json("acme.family.health").unwrap();
    assert_eq!(family["name"], "health");
    assert_eq!(family["functions"][0]["function_name"], "ping");
    assert_eq!(family["docs_page"], "acme.family.health");
}

#[tokio::test]
async fn each_walks_a_provider_s_own_page_shape_as_its_manifest_declares() {
    // Acme pages are `{items, count}` and skip with `skip`: nothing in the host knows that.
    let acme = Arc::new(FakeAcme {
        widgets: Some(250),
        ..FakeAcme::default()
    });
    let (host, acme) = host_over(acme, AccountPolicy::default(), kosmo_host::NobodyToAsk);
    let report = host
        .run(
            r#"local n, last = 0, nil
               for widget in app.integrations.acme.each.list_widgets({ color = { "red" } }) do
                 n = n + 1
                 last = widget.id
               end
               local m = 0
               for _ in app.integrations.acme.work.each.widgets({ limit = 40, skip = 200 }) do m = m + 1 end
               return n, last, m"#,
            RunOptions::default(),
        )
        .await;
    assert_eq!(report.error, None, "{report:?}");
    assert_eq!(
        report.result.unwrap(),
        [json!(250), json!("wid_249"), json!(50)]
    );
    let seen = acme.seen.lock().unwrap().clone();
    // 100 + 100 + 50: the count says the third page is the last. Then 40 + 10 from 200.
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(
        seen.iter()
            .filter(|s| s.account_url == "https://work.acme.test")
            .count(),
        2
    );
    let mut pages = host
        .pages("acme", "list_widgets", json!({}), CallOptions::default())
        .unwrap();
    assert_eq!(pages.next_page().await.unwrap().map(|p| p.len()), Some(100));
    assert_eq!(pages.total().await.unwrap(), Some(250));
}

/// Luau numbers are doubles, exact up to 2^53. Integers beyond (IDs, say) arrive as Luau
/// `integer`s: exact in answers, in `json.decode`, through `parallel.map` and back out, nested
/// or alone. Beyond 2^63 a JSON integer is read as the nearest double.
#[tokio::test]
async fn integers_beyond_2_53_stay_exact_in_scripts() {
    let acme = Arc::new(FakeAcme {
        answer: Some(json!({
            "id": 9_007_199_254_740_993_i64,
            "counts": [-9_007_199_254_740_995_i64, 1],
            "huge": u64::MAX,
        })),
        ..FakeAcme::default()
    });
    let (host, _) = host_over(acme, AccountPolicy::default(), kosmo_host::NobodyToAsk);
    let report = host
        .run(
            r#"local w = app.integrations.acme.get_widget({ id = "wid_1" })
               local alone = json.decode("9007199254740993")
               local max = json.decode("[9223372036854775807]")[1]
               local mapped = parallel.map({ alone, w.counts[1] }, function(x) return x end)
               dump({ id = w.id })
               return type(w.id), tostring(w.id), w.id == alone, integer.add(w.id, integer.create(1)),
                   w, alone, mapped, json.encode(w.counts), max, type(w.counts[2]), w.huge"#,
            RunOptions::default(),
        )
        .await;
    assert_eq!(report.error, None, "{report:?}");
    assert_eq!(report.output, "{\n  id: 9007199254740993\n}");
    assert_eq!(
        report.result.unwrap(),
        [
            json!("integer"),
            json!("9007199254740993"),
            json!(true),
            json!(9_007_199_254_740_994_i64),
            json!({
                "id": 9_007_199_254_740_993_i64,
                "counts": [-9_007_199_254_740_995_i64, 1],
                "huge": 18_446_744_073_709_551_615.0_f64,
            }),
            json!(9_007_199_254_740_993_i64),
            json!([9_007_199_254_740_993_i64, -9_007_199_254_740_995_i64]),
            json!("[\n  -9007199254740995,\n  1\n]"),
            json!(i64::MAX),
            // Within 2^53 a number stays a Lua number.
            json!("number"),
            json!(18_446_744_073_709_551_615.0_f64),
        ]
    );

    // An answer that is a bare integer, too.
    let acme = Arc::new(FakeAcme {
        answer: Some(json!(-9_007_199_254_740_993_i64)),
        ..FakeAcme::default()
    });
    let (host, _) = host_over(acme, AccountPolicy::default(), kosmo_host::NobodyToAsk);
    let report = host
        .run(
            r#"local n = app.integrations.acme.get_widget({ id = "wid_1" })
               return n, type(n)"#,
            RunOptions::default(),
        )
        .await;
    assert_eq!(report.error, None, "{report:?}");
    assert_eq!(
        report.result.unwrap(),
        [json!(-9_007_199_254_740_993_i64), json!("integer")]
    );
}
