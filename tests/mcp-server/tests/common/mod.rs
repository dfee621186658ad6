//! Helpers shared by the integration tests: calling tools and reading their results.

// Each test binary uses a different part; tests panic on what they did not expect.
#![allow(clippy::expect_used, dead_code)]

use rmcp::RoleClient;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RunningService, ServiceError};
use serde_json::Value;

/// A client with no handler of its own (it answers nothing the server asks).
pub type Client = RunningService<RoleClient, ()>;

/// The built server binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_test-mcp-server");

/// `tools/call` with JSON arguments.
pub async fn call(
    client: &Client,
    tool: &str,
    args: Value,
) -> Result<CallToolResult, ServiceError> {
    let mut params = CallToolRequestParams::new(tool.to_owned());
    if let Value::Object(args) = args {
        params = params.with_arguments(args);
    }
    client.call_tool(params).await
}

/// The texts of a result's text content items, in order.
pub fn texts(result: &CallToolResult) -> Vec<String> {
    result
        .content
        .iter()
        .map(|item| item.as_text().expect("a text content item").text.clone())
        .collect()
}

/// The one text item of a result.
pub fn only_text(result: &CallToolResult) -> String {
    let texts = texts(result);
    assert_eq!(texts.len(), 1, "expected one text item, got {texts:?}");
    texts.into_iter().next().expect("one text")
}

/// A fresh path under Cargo's scratch directory for integration tests.
pub fn scratch_file(name: &str) -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "kosmo-test-mcp-server-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    path
}
