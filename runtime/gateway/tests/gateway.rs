//! The gateway through a real MCP client, in process: an rmcp client talks to it over a pipe,
//! the host behind it calls the fixture provider `acme` through a transport that answers from
//! a table and records what it was sent. (The `kosmo mcp:serve` binary is tested against the
//! emulator in `cli/tests/gateway.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::sync::{Arc, Mutex};

use kosmo_gateway::{Gateway, GatewayError, GatewayOptions, WritePolicy};
use kosmo_host::{
    AccountPolicy, CredentialMap, Credentials, Host, NobodyToAsk, Policy, TransportFactory,
};
use kosmo_runtime::{
    ApiError, ApiRequest, Error, Operation, ProviderMeta, Response, Transport, TransportFuture,
};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientRequest, PingRequest, ServerResult, Tool,
};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Map, Value, json};

const ACME: &[&kosmo_runtime::Integration] = &kosmo_fixture_integrations::INTEGRATIONS;

/// What the fake provider was sent: the account's `url` credential, the method and path.
type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

struct FakeTransport {
    seen: Seen,
    account_url: String,
}

impl Transport for FakeTransport {
    fn send(&self, request: ApiRequest) -> TransportFuture<'_> {
        let method = request.method.as_str().to_string();
        self.seen.lock().unwrap().push((
            self.account_url.clone(),
            method.clone(),
            request.path.clone(),
        ));
        Box::pin(async move {
            let body = match (method.as_str(), request.path.as_str()) {
                ("GET", "/widgets/missing") => {
                    return Err(Error::Api(Box::new(ApiError {
                        provider: "Acme Widgets".into(),
                        status: 404,
                        code: Some("resource_not_found".into()),
                        message: "not found".into(),
                        long_message: Some("No widget was found with id missing".into()),
                        meta: Some(json!({"param": "id"})),
                        trace_id: Some("trace-404".into()),
                        retry_after: None,
                        body: "{}".into(),
                        earlier_attempt: None,
                    })));
                }
                ("GET", "/big") => json!({"object": "blob", "text": "x".repeat(5_000)}),
                ("GET", "/widgets") => json!([{"object": "widget", "id": "wid_1"}]),
                _ => json!({"object": "widget", "id": "wid_1"}),
            };
            Ok(Response::from_value("Acme Widgets", &body))
        })
    }
}

struct FakeFactory(Seen);

impl TransportFactory for FakeFactory {
    fn transport(
        &self,
        integration: &'static ProviderMeta,
        credentials: &Credentials,
    ) -> Result<Arc<dyn Transport>, Error> {
        credentials.check(integration)?;
        Ok(Arc::new(FakeTransport {
            seen: self.0.clone(),
            account_url: credentials.plain(integration, "url").unwrap_or_default(),
        }))
    }
}

fn account(url: &str) -> Credentials {
    Credentials::new()
        .with("token", "acme_test_token")
        .with("url", url)
}

/// A host with `default` and `work` accounts under `policy`, and what it sends.
fn host(policy: AccountPolicy) -> (Host, Seen) {
    let seen = Seen::default();
    let host = Host::builder()
        .integrations(ACME)
        .credentials(
            CredentialMap::new()
                .with("acme", "default", account("https://default.acme.test"))
                .with("acme", "work", account("https://work.acme.test")),
        )
        .policies(policy)
        .approver(NobodyToAsk)
        .transports(FakeFactory(seen.clone()))
        .build()
        .unwrap();
    (host, seen)
}

fn options(write: WritePolicy) -> GatewayOptions {
    GatewayOptions {
        write,
        ..GatewayOptions::default()
    }
}

/// A client session with a gateway to the fake `acme`.
async fn connect(
    write: WritePolicy,
    policy: AccountPolicy,
) -> (RunningService<RoleClient, ()>, Seen) {
    let (host, seen) = host(policy);
    let gateway = Gateway::new(host, options(write)).await.unwrap();
    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        if let Ok(server) = gateway.serve(server_io).await {
            let _ = server.waiting().await;
        }
    });
    (().serve(client_io).await.unwrap(), seen)
}

async fn call(client: &RunningService<RoleClient, ()>, tool: &str, args: Value) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("arguments are an object")
    };
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .unwrap()
}

fn text(result: &CallToolResult) -> &str {
    &result.content[0].as_text().expect("a text content").text
}

fn error_of(result: &CallToolResult) -> &Map<String, Value> {
    assert_eq!(result.is_error, Some(true), "{result:?}");
    result.structured_content.as_ref().unwrap()["error"]
        .as_object()
        .expect("structuredContent.error")
}

fn names(tools: &[Tool]) -> Vec<&str> {
    tools.iter().map(|t| t.name.as_ref()).collect()
}

#[tokio::test]
async fn deny_lists_the_reads_and_allow_lists_every_function_sorted_by_name() {
    let (client, _) = connect(WritePolicy::Deny, AccountPolicy::default()).await;
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(
        names(&tools),
        [
            "integration__acme__get_widget",
            "integration__acme__list_widgets",
            "integration__acme__ping",
            "integration__acme__raw_get",
        ]
    );
    let (client, _) = connect(WritePolicy::Allow, AccountPolicy::default()).await;
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), ACME[0].meta.functions.len());
    let mut sorted = names(&tools);
    sorted.sort_unstable();
    assert_eq!(names(&tools), sorted);
}

#[tokio::test]
async fn every_tool_has_the_manifests_annotations_and_a_plain_object_schema() {
    let (client, _) = connect(WritePolicy::Allow, AccountPolicy::default()).await;
    for tool in client.list_all_tools().await.unwrap() {
        let function_name = tool.name.rsplit("__").next().unwrap();
        let function = ACME[0].function(function_name).unwrap();
        let annotations = tool.annotations.as_ref().unwrap();
        let read = function.operation == Operation::Read;
        assert_eq!(annotations.read_only_hint, Some(read), "{}", tool.name);
        assert_eq!(
            annotations.destructive_hint,
            Some(function.destructive && !read)
        );
        assert_eq!(annotations.idempotent_hint, Some(function.idempotent));
        assert_eq!(annotations.open_world_hint, Some(true));
        assert_eq!(tool.title.as_deref(), Some(function.title));
        let description = tool.description.as_deref().unwrap();
        assert!(description.starts_with(function.summary), "{description}");
        assert!(description.contains("`_account`"), "{description}");

        let schema = &tool.input_schema;
        assert_eq!(schema["type"], "object", "{}", tool.name);
        for keyword in ["$ref", "allOf", "oneOf", "anyOf"] {
            assert!(!schema.contains_key(keyword), "{}: {keyword}", tool.name);
        }
        let text = Value::Object((**schema).clone()).to_string();
        assert!(!text.contains("$ref"), "{}: {text}", tool.name);
        let properties = schema["properties"].as_object().unwrap();
        assert_eq!(
            properties["_account"],
            json!({
                "type": "string",
                "description": "The named Acme Widgets account to call with; `default` when left out.",
                "enum": ["default", "work"],
            })
        );
        for param in function.params {
            assert!(properties.contains_key(param.name), "{}", param.name);
            assert_eq!(
                schema["required"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(param.name)),
                param.required
            );
        }
    }
    // The generator's alias `$ref` comes inlined, with the alias's own description.
    let tools = client.list_all_tools().await.unwrap();
    let get = tools
        .iter()
        .find(|t| t.name == "integration__acme__get_widget")
        .unwrap();
    assert_eq!(
        get.input_schema["properties"]["widget_id"]["type"],
        json!("string")
    );
}

#[tokio::test]
async fn a_read_answers_with_pretty_text_and_structured_content() {
    let (client, seen) = connect(WritePolicy::Deny, AccountPolicy::default()).await;
    let result = call(
        &client,
        "integration__acme__get_widget",
        json!({"id": "wid_1"}),
    )
    .await;
    assert_eq!(result.is_error, Some(false));
    assert_eq!(
        result.structured_content,
        Some(json!({"object": "widget", "id": "wid_1"}))
    );
    assert_eq!(
        text(&result),
        "{\n  \"object\": \"widget\",\n  \"id\": \"wid_1\"\n}"
    );
    // A list is wrapped: structuredContent must be an object.
    let list = call(&client, "integration__acme__list_widgets", json!({})).await;
    assert_eq!(
        list.structured_content,
        Some(json!({"value": [{"object": "widget", "id": "wid_1"}]}))
    );
    // `_account` chooses the account and is not sent on.
    let work = call(
        &client,
        "integration__acme__get_widget",
        json!({"id": "wid_2", "_account": "work"}),
    )
    .await;
    assert_eq!(work.is_error, Some(false), "{work:?}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.last().unwrap(),
        &(
            "https://work.acme.test".to_string(),
            "GET".to_string(),
            "/widgets/wid_2".to_string()
        )
    );
    assert_eq!(seen[0].0, "https://default.acme.test");
}

#[tokio::test]
async fn a_write_is_refused_under_deny_without_sending_anything() {
    let (client, seen) = connect(WritePolicy::Deny, AccountPolicy::default()).await;
    let result = call(
        &client,
        "integration__acme__create_widget",
        json!({"name": "w"}),
    )
    .await;
    let error = error_of(&result);
    assert_eq!(error["kind"], "write_denied");
    assert_eq!(error["function"], "create_widget");
    assert!(text(&result).contains("--write=deny"), "{}", text(&result));
    assert!(text(&result).contains("--write=allow"), "{}", text(&result));
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_write_runs_under_allow_where_the_account_would_ask() {
    let (client, seen) = connect(WritePolicy::Allow, AccountPolicy::default()).await;
    let result = call(
        &client,
        "integration__acme__create_widget",
        json!({"name": "w"}),
    )
    .await;
    assert_eq!(result.is_error, Some(false), "{result:?}");
    assert_eq!(seen.lock().unwrap()[0].1, "POST");
}

#[tokio::test]
async fn an_account_that_denies_writes_keeps_refusing_them_under_allow() {
    let policy = AccountPolicy {
        write: Policy::Deny,
        ..AccountPolicy::default()
    };
    let (client, seen) = connect(WritePolicy::Allow, policy).await;
    let result = call(
        &client,
        "integration__acme__create_widget",
        json!({"name": "w"}),
    )
    .await;
    let error = error_of(&result);
    assert_eq!(error["kind"], "config");
    assert!(text(&result).contains("denied"), "{}", text(&result));
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn reads_obey_the_account_policy() {
    let policy = AccountPolicy {
        read: Policy::Ask,
        ..AccountPolicy::default()
    };
    let (client, seen) = connect(WritePolicy::Allow, policy).await;
    let result = call(
        &client,
        "integration__acme__get_widget",
        json!({"id": "wid_1"}),
    )
    .await;
    assert_eq!(error_of(&result)["kind"], "config");
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_api_error_is_a_result_with_every_field_of_the_error() {
    let (client, _) = connect(WritePolicy::Deny, AccountPolicy::default()).await;
    let result = call(
        &client,
        "integration__acme__get_widget",
        json!({"id": "missing"}),
    )
    .await;
    assert_eq!(
        Value::Object(error_of(&result).clone()),
        json!({
            "kind": "api",
            "message": "not found",
            "text": "Acme Widgets API error (404): not found (No widget was found with id missing)",
            "status": 404,
            "code": "resource_not_found",
            "long_message": "No widget was found with id missing",
            "meta": {"param": "id"},
            "trace_id": "trace-404",
            "provider": "Acme Widgets",
        })
    );
    assert_eq!(
        text(&result),
        "Acme Widgets API error (404): not found (No widget was found with id missing)"
    );
}

#[tokio::test]
async fn bad_arguments_unknown_tools_and_accounts_are_results_not_protocol_errors() {
    let (client, seen) = connect(WritePolicy::Deny, AccountPolicy::default()).await;

    let missing = call(&client, "integration__acme__get_widget", json!({})).await;
    let error = error_of(&missing);
    assert_eq!(error["kind"], "invalid_argument");
    assert_eq!(error["parameter"], "id");

    let unknown = call(&client, "integration__acme__get_widgte", json!({})).await;
    assert_eq!(error_of(&unknown)["kind"], "unknown_tool");
    assert!(
        text(&unknown).contains("`integration__acme__get_widget`"),
        "{}",
        text(&unknown)
    );

    let account = call(
        &client,
        "integration__acme__get_widget",
        json!({"id": "wid_1", "_account": "nobody"}),
    )
    .await;
    assert_eq!(error_of(&account)["kind"], "unknown_account");
    assert!(
        text(&account).contains("default, work"),
        "{}",
        text(&account)
    );

    let not_a_name = call(
        &client,
        "integration__acme__get_widget",
        json!({"id": "wid_1", "_account": 7}),
    )
    .await;
    assert_eq!(error_of(&not_a_name)["parameter"], "_account");
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn long_results_are_cut_with_a_marker_and_structured_content_stays_whole() {
    let (host, _) = host(AccountPolicy::default());
    let gateway = Gateway::new(
        host,
        GatewayOptions {
            max_result_chars: 1_000,
            ..GatewayOptions::default()
        },
    )
    .await
    .unwrap();
    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        if let Ok(server) = gateway.serve(server_io).await {
            let _ = server.waiting().await;
        }
    });
    let client = ().serve(client_io).await.unwrap();
    let result = call(
        &client,
        "integration__acme__raw_get",
        json!({"path": "/big"}),
    )
    .await;
    let text = text(&result);
    let (shown, marker) = text.rsplit_once('\n').unwrap();
    assert_eq!(shown.chars().count(), 1_000);
    assert_eq!(
        marker,
        "[truncated by kosmo MCP gateway: 1000 of 5036 characters]"
    );
    assert_eq!(
        result.structured_content.unwrap()["text"]
            .as_str()
            .unwrap()
            .len(),
        5_000
    );
}

#[tokio::test]
async fn ping_is_answered() {
    let (client, _) = connect(WritePolicy::Deny, AccountPolicy::default()).await;
    let answer = client
        .send_request(ClientRequest::PingRequest(PingRequest::default()))
        .await
        .unwrap();
    assert!(matches!(answer, ServerResult::EmptyResult(_)), "{answer:?}");
}

#[tokio::test]
async fn the_server_introduces_itself_as_kosmo_with_tools() {
    let (client, _) = connect(WritePolicy::Deny, AccountPolicy::default()).await;
    let info = client.peer_info().unwrap();
    let server = info.server_info.as_ref().unwrap();
    assert_eq!(server.name, "kosmo");
    assert_eq!(server.version, env!("CARGO_PKG_VERSION"));
    assert!(info.capabilities.tools.is_some());
    let instructions = info.instructions.as_deref().unwrap();
    assert!(instructions.contains("acme (Acme Widgets; accounts: default, work)"));
    assert!(instructions.contains("--write=deny"));
}

#[tokio::test]
async fn options_that_cannot_work_are_refused() {
    let (host, _) = host(AccountPolicy::default());
    let unknown = Gateway::new(
        host.clone(),
        GatewayOptions {
            integrations: vec!["acme".into(), "nope".into()],
            ..GatewayOptions::default()
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&unknown, GatewayError::UnknownIntegration { name, known } if name == "nope" && known == "acme"),
        "{unknown}"
    );
    let small = Gateway::new(
        host.clone(),
        GatewayOptions {
            max_result_chars: 999,
            ..GatewayOptions::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        small.to_string(),
        "the result limit must be at least 1000 characters, not 999"
    );
    let named = Gateway::new(
        host.clone(),
        GatewayOptions {
            integrations: vec!["acme".into()],
            ..GatewayOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(named.tools().len(), 4);

    let gateway = Gateway::new(host, GatewayOptions::default()).await.unwrap();
    for addr in ["0.0.0.0:0", "192.0.2.1:8080", "[::]:0"] {
        let error = gateway
            .clone()
            .bind_http(addr.parse().unwrap())
            .await
            .err()
            .unwrap();
        assert!(matches!(error, GatewayError::NotLoopback(_)), "{error}");
    }
    let bound = gateway
        .bind_http("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    assert_ne!(bound.local_addr().port(), 0);
    assert_eq!(
        bound.url(),
        format!("http://127.0.0.1:{}/mcp", bound.local_addr().port())
    );
}

/// Two functions whose names differ only in case: one tool name once sanitized.
static CLASHING: kosmo_runtime::Integration = {
    use kosmo_runtime::{Docs, ErrorFormat, FunctionMeta};
    static LOWER: FunctionMeta = FunctionMeta {
        name: "getwidget",
        slug: "clash_getwidget",
        path: "/a",
        ..FunctionMeta::DEFAULT
    };
    static CAMEL: FunctionMeta = FunctionMeta {
        name: "getWidget",
        slug: "clash_get_widget",
        path: "/b",
        ..FunctionMeta::DEFAULT
    };
    static META: ProviderMeta = ProviderMeta {
        name: "clash",
        label: "Clash",
        description: "",
        category: "",
        docs_url: "",
        base_url: "https://clash.example",
        version_header: None,
        bearer_credential: "token",
        credentials: &[],
        errors: ErrorFormat::NONE,
        retry_after_header: "retry-after",
        rate_limits: kosmo_runtime::RateLimits::NONE,
        families: &[],
        functions: &[&LOWER, &CAMEL],
    };
    kosmo_runtime::Integration {
        meta: &META,
        docs: Docs {
            provider_page: "",
            namespace: "",
            catalog_json: r#"{"functions": [
                {"function_name": "getwidget", "input_schema": {"type": "object", "properties": {}}},
                {"function_name": "getWidget", "input_schema": {"type": "object", "properties": {}}}
            ]}"#,
            function_pages: &[],
            family_pages: &[],
            guide_pages: &[],
        },
        call: |_, _, _| Box::pin(async { Err(Error::Config("not called".into())) }),
    }
};

#[tokio::test]
async fn two_functions_under_one_tool_name_are_refused() {
    let host = Host::builder().integrations(&[&CLASHING]).build().unwrap();
    let error = Gateway::new(host, GatewayOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "`clash.getwidget` and `clash.getWidget` would both be the tool `integration__clash__getwidget`"
    );
}
