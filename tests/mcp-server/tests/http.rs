//! Streamable HTTP: the binary with `--http`, and the library's `serve_http` in process.
#![allow(clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;

use common::{BIN, Client, call};
use kosmo_test_mcp_server::{Options, serve_http};
use reqwest::header::{HeaderName, HeaderValue};
use rmcp::ServiceExt as _;
use rmcp::model::{ClientRequest, PingRequest, ServerResult};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::common::client_side_sse::ExponentialBackoff;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::json;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// Starts the binary in HTTP mode and returns it with the URL it printed.
async fn spawn_http(extra_args: &[&str]) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(["--http", "127.0.0.1:0"])
        .args(extra_args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn test-mcp-server");
    let stdout = child.stdout.take().expect("stdout");
    let url = BufReader::new(stdout)
        .lines()
        .next_line()
        .await
        .expect("read stdout")
        .expect("a URL line");
    (child, url)
}

fn config(
    url: &str,
    headers: &[(&'static str, &'static str)],
) -> StreamableHttpClientTransportConfig {
    let headers: HashMap<HeaderName, HeaderValue> = headers
        .iter()
        .map(|&(name, value)| {
            (
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            )
        })
        .collect();
    StreamableHttpClientTransportConfig::with_uri(url).custom_headers(headers)
}

async fn connect_with(config: StreamableHttpClientTransportConfig) -> Result<Client, String> {
    let transport = StreamableHttpClientTransport::from_config(config);
    ().serve(transport).await.map_err(|e| e.to_string())
}

async fn connect(url: &str, headers: &[(&'static str, &'static str)]) -> Result<Client, String> {
    connect_with(config(url, headers)).await
}

/// A client that gives up on a broken response stream at once. By default rmcp's client
/// resumes it (GET with Last-Event-ID) with exponential backoff and no limit, so a call to a
/// server that died would never return.
async fn connect_without_retries(url: &str) -> Client {
    let mut no_retries = ExponentialBackoff::default();
    no_retries.max_times = Some(0);
    let mut config = config(url, &[]);
    config.retry_config = Arc::new(no_retries);
    connect_with(config).await.expect("initialize")
}

async fn assert_get_item(client: &Client) {
    let item = call(client, "get_item", json!({"id": "item_1"}))
        .await
        .expect("get_item");
    assert_eq!(
        item.structured_content,
        Some(json!({"id": "item_1", "name": "first"}))
    );
}

#[tokio::test]
async fn the_binary_serves_http() {
    let (mut child, url) = spawn_http(&[]).await;
    let port = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix("/mcp"))
        .and_then(|port| port.parse::<u16>().ok());
    assert!(port.is_some_and(|p| p != 0), "{url}");

    let client = connect(&url, &[]).await.expect("initialize over HTTP");
    assert_get_item(&client).await;
    let pong = client
        .send_request(ClientRequest::PingRequest(PingRequest::default()))
        .await
        .expect("ping");
    assert!(matches!(pong, ServerResult::EmptyResult(_)), "{pong:?}");
    client.cancel().await.expect("close");
    child.kill().await.expect("kill");
}

#[tokio::test]
async fn require_header_rejects_clients_without_it() {
    let (mut child, url) = spawn_http(&["--require-header", "X-Kosmo-Test=s3cret"]).await;

    let without = connect(&url, &[]).await;
    let Err(error) = without else {
        panic!("connected without the header")
    };
    assert!(error.contains("401"), "{error}");
    let wrong = connect(&url, &[("x-kosmo-test", "wrong")]).await;
    let Err(error) = wrong else {
        panic!("connected with a wrong value")
    };
    assert!(error.contains("401"), "{error}");

    let client = connect(&url, &[("x-kosmo-test", "s3cret")])
        .await
        .expect("with the header");
    assert_get_item(&client).await;
    client.cancel().await.expect("close");
    child.kill().await.expect("kill");
}

#[tokio::test]
async fn crash_over_http_ends_the_process_with_code_3() {
    let (mut child, url) = spawn_http(&[]).await;
    let client = connect_without_retries(&url).await;
    let outcome = call(&client, "crash", json!({})).await;
    assert!(outcome.is_err(), "crash answered: {outcome:?}");
    let status = child.wait().await.expect("exit status");
    assert_eq!(status.code(), Some(3));
}

#[tokio::test]
async fn serve_http_in_process_shares_one_store_across_sessions() {
    let server = serve_http(([127, 0, 0, 1], 0).into(), Options::default())
        .await
        .expect("serve");
    assert_ne!(server.addr().port(), 0);
    let url = server.url();

    let first = connect(&url, &[]).await.expect("first session");
    let created = call(&first, "create_item", json!({"name": "shared"}))
        .await
        .expect("create");
    assert_eq!(
        created.structured_content,
        Some(json!({"id": "item_2", "name": "shared"}))
    );

    let second = connect(&url, &[]).await.expect("second session");
    let item = call(&second, "get_item", json!({"id": "item_2"}))
        .await
        .expect("get_item");
    assert_eq!(
        item.structured_content,
        Some(json!({"id": "item_2", "name": "shared"}))
    );

    first.cancel().await.expect("close");
    second.cancel().await.expect("close");
    server.shutdown().await;
}

#[tokio::test]
async fn crash_in_process_stops_the_server_instead_of_exiting() {
    let server = serve_http(([127, 0, 0, 1], 0).into(), Options::default())
        .await
        .expect("serve");
    let url = server.url();
    let client = connect(&url, &[]).await.expect("initialize");
    // The call itself never answers; what matters is that the server stops.
    let crash = tokio::spawn(async move { call(&client, "crash", json!({})).await });
    server.wait().await;
    assert!(
        connect(&url, &[]).await.is_err(),
        "still serving after crash"
    );
    crash.abort();
}

#[tokio::test]
async fn serve_http_refuses_non_loopback_addresses() {
    let refused = serve_http(([0, 0, 0, 0], 0).into(), Options::default()).await;
    let error = refused.err().expect("refused");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}
