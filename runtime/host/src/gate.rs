//! What stands between a call (from a script or from [`Host::call`](crate::Host::call)) and
//! the generated dispatcher: the account's policy and the approver, dry runs, and the call log.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kosmo_runtime::{
    ApiRequest, Error, FunctionMeta, Integration, Operation, Output, ParamType, ProviderMeta,
};
use serde_json::{Map, Value, json};

use crate::accounts::{AccountPolicy, Policy};
use crate::approval::{Approval, ApprovalRequest, Approver};
use crate::call_log::{CallLog, CallRecord, CallTarget};
use crate::transports::{CaptureTransport, LazyTransport};

/// What a gate may do without asking.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct GateOptions {
    /// Run calls the policy would refuse (`ask`, `deny`), marking the run as bypassed.
    pub(crate) force: bool,
    /// Show writes' requests instead of sending them.
    pub(crate) dry_run_writes: bool,
    /// Show reads' requests too.
    pub(crate) dry_run_reads: bool,
}

/// One account of one integration, for one run.
pub(crate) struct Gate {
    pub(crate) integration: &'static Integration,
    pub(crate) account: Arc<str>,
    policy: AccountPolicy,
    transport: LazyTransport,
    approver: Arc<dyn Approver>,
    options: GateOptions,
    log: Arc<CallLog>,
}

impl Gate {
    pub(crate) fn new(
        integration: &'static Integration,
        account: &str,
        policy: AccountPolicy,
        transport: LazyTransport,
        approver: Arc<dyn Approver>,
        options: GateOptions,
        log: Arc<CallLog>,
    ) -> Self {
        Gate {
            integration,
            account: account.into(),
            policy,
            transport,
            approver,
            options,
            log,
        }
    }

    /// Makes one call, turns its answer into what the caller needs with `finish` (JSON, Lua
    /// tables), and records it: a call whose answer cannot be read is recorded as failed.
    pub(crate) async fn call<T>(
        self: &Arc<Self>,
        function: &'static FunctionMeta,
        args: Value,
        finish: impl FnOnce(Output) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        let started = Instant::now();
        let dry_run = self.is_dry_run(function);
        let (outcome, paced) = self.clone().run_as_task(function, args, dry_run).await;
        let result = match outcome {
            Ok(output) => finish(output),
            Err(error) => Err(Failure::Call(error)),
        };
        self.log.push(CallRecord {
            target: CallTarget::Integration,
            integration: self.integration.meta.name.into(),
            account: self.account.clone(),
            function: function.name.into(),
            title: function.title.into(),
            duration: started.elapsed(),
            paced,
            error: result.as_ref().err().map(ToString::to_string),
            dry_run,
        });
        result
    }

    /// Runs the call as a task of its own when there is a Tokio runtime: the script's coroutine
    /// then waits once for the whole call, instead of being resumed and suspended again at each
    /// step of the HTTP exchange. If the script is dropped (a limit stopped it), the task is
    /// aborted with it.
    async fn run_as_task(
        self: Arc<Self>,
        function: &'static FunctionMeta,
        args: Value,
        dry_run: bool,
    ) -> (Result<Output, Error>, Duration) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return kosmo_runtime::pacing::measure(self.run(function, args, dry_run)).await;
        };
        let task = runtime.spawn(async move {
            kosmo_runtime::pacing::measure(self.run(function, args, dry_run)).await
        });
        let _abort = AbortOnDrop(task.abort_handle());
        match task.await {
            Ok(result) => result,
            Err(error) => (
                Err(Error::Config(format!(
                    "the call to {} did not finish: {error}",
                    function.name
                ))),
                Duration::ZERO,
            ),
        }
    }

    fn is_dry_run(&self, function: &FunctionMeta) -> bool {
        match function.operation {
            Operation::Write => self.options.dry_run_writes,
            Operation::Read => self.options.dry_run_reads,
        }
    }

    async fn run(
        &self,
        function: &'static FunctionMeta,
        args: Value,
        dry_run: bool,
    ) -> Result<Output, Error> {
        let meta = self.integration.meta;
        let name = meta.name;
        if !self.policy.enabled {
            return Err(Error::Config(format!(
                "Integration '{name}' is disabled. Enable it with `kosmo integrations:configure {name} --enable`."
            )));
        }
        let operation = function.operation;
        let policy = self.policy.for_operation(operation);
        match policy {
            Policy::Allow => {}
            // A dry run sends nothing, so there is nothing to approve; `deny` still refuses.
            Policy::Ask if dry_run => {}
            _ if self.options.force => self.log.mark_bypassed(),
            Policy::Ask => {
                let shown = without_file_bytes(function, &args);
                let request = ApprovalRequest {
                    integration: meta,
                    account: &self.account,
                    function,
                    arguments: shown.as_ref().unwrap_or(&args),
                };
                if self.approver.approve(request).await == Approval::Refused {
                    return Err(Error::Config(format!(
                        "Integration '{name}' {operation} requires approval. Ask the user to change the permission in /settings → Integrations"
                    )));
                }
            }
            Policy::Deny => {
                return Err(Error::Config(format!(
                    "Integration '{name}' {operation} access denied. Enable it in /settings → Integrations"
                )));
            }
        }
        if !dry_run {
            return self.integration.call(&self.transport, function, args).await;
        }
        // A dry run checks what a real run checks (credentials, arguments) and stops short of
        // sending.
        self.transport.get()?;
        let capture = CaptureTransport {
            provider: meta.label,
            base_url: self.transport.base_url(),
            captured: Mutex::new(None),
        };
        self.integration.call(&capture, function, args).await?;
        let request = capture.captured.lock().ok().and_then(|mut r| r.take());
        let mut description = describe_request(meta, function, &capture.base_url, request);
        if let Some(map) = description.as_object_mut() {
            // What a real run would need: `ask` means --force headless.
            map.insert("policy".into(), Value::String(policy.as_str().into()));
        }
        Ok(Output::Value(description))
    }
}

/// Aborts a call's task when whoever waits for it goes away.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Why a call gave the caller no answer.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The call failed, or its answer could not be read: the script gets an error object.
    Call(Error),
    /// Lua could not hold the answer (the memory limit): the script stops.
    Lua(mlua::Error),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Call(error) => write!(f, "{error}"),
            Failure::Lua(error) => write!(f, "{error}"),
        }
    }
}

/// The request a dry run would have sent: method, full URL, query, body and headers, with the
/// secret redacted.
fn describe_request(
    provider: &ProviderMeta,
    function: &FunctionMeta,
    base_url: &str,
    request: Option<ApiRequest>,
) -> Value {
    let Some(request) = request else {
        return json!({
            "dry_run": true,
            "function": format!("{}.{}", provider.name, function.name),
            "operation": function.operation.as_str(),
            "request": Value::Null,
        });
    };
    let mut url = format!("{base_url}{}", request.path);
    if !request.query.is_empty() {
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&request.query)
            .finish();
        url.push('?');
        url.push_str(&encoded);
    }
    let mut query = Map::new();
    for (key, value) in &request.query {
        match query.get_mut(key) {
            Some(Value::Array(items)) => items.push(Value::String(value.clone())),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, Value::String(value.clone())]);
            }
            None => {
                query.insert(key.clone(), Value::String(value.clone()));
            }
        }
    }
    let mut headers = Map::new();
    headers.insert(
        "Authorization".into(),
        Value::String("Bearer [REDACTED]".into()),
    );
    if let Some((name, value)) = provider.version_header {
        headers.insert(name.into(), Value::String(value.into()));
    }
    if request.has_body() {
        headers.insert(
            "Content-Type".into(),
            Value::String(request.format.media_type().into()),
        );
    }
    // A multipart body's files are shown by name, type and size, never by their bytes.
    let mut body = request.json_body();
    if !request.files.is_empty() {
        let fields = body.get_or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(fields) = fields {
            for (name, file) in &request.files {
                fields.insert(name.clone(), file.summary());
            }
        }
    }
    json!({
        "dry_run": true,
        "function": format!("{}.{}", provider.name, function.name),
        "operation": function.operation.as_str(),
        "method": request.method.as_str(),
        "url": url,
        "path": request.path,
        "query": query,
        "headers": headers,
        "body": body,
    })
}

/// The arguments with each file's bytes replaced by its size, for an approver to show; `None`
/// when the function takes no file.
fn without_file_bytes(function: &FunctionMeta, args: &Value) -> Option<Value> {
    let files: Vec<&str> = function
        .params
        .iter()
        .filter(|p| p.ty == ParamType::File)
        .flat_map(|p| std::iter::once(p.name).chain(p.aliases.iter().copied()))
        .collect();
    let Value::Object(map) = args else {
        return None;
    };
    if files.is_empty() {
        return None;
    }
    let mut shown = map.clone();
    for (key, value) in shown.iter_mut() {
        if files.contains(&key.as_str()) {
            *value = kosmo_runtime::file::redact(value);
        }
    }
    Some(Value::Object(shown))
}
