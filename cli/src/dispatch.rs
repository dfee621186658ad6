//! What sits between a script (or `integrations:call`) and the generated dispatcher: the
//! permission policy, dry runs, lazy credentials and the record of every call.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use kosmo_runtime::lua::Dispatch;
use kosmo_runtime::{
    ApiRequest, Credentials, Error, FunctionMeta, HttpConfig, HttpTransport, Operation,
    ProviderMeta, Transport, TransportFuture,
};
use serde_json::{Map, Value, json};

use crate::config::{DEFAULT_ACCOUNT, Policy, Settings};
use crate::providers::Provider;

/// One integration call, as the `--json` envelope reports it.
#[derive(Debug, Clone)]
pub struct CallRecord {
    pub path: String,
    pub duration_ms: f64,
    pub error: Option<String>,
    pub name: &'static str,
    pub group: &'static str,
}

impl CallRecord {
    pub fn to_json(&self) -> Value {
        let mut entry = json!({
            "path": self.path,
            "durationMs": (self.duration_ms * 1000.0).round() / 1000.0,
            "status": if self.error.is_some() { "error" } else { "ok" },
        });
        if let (Some(error), Some(map)) = (&self.error, entry.as_object_mut()) {
            map.insert("error".into(), Value::String(error.clone()));
        }
        if let Some(map) = entry.as_object_mut() {
            map.insert("name".into(), Value::String(self.name.into()));
            map.insert("group".into(), Value::String(self.group.into()));
        }
        entry
    }
}

/// State shared by every call of one run.
#[derive(Debug, Default)]
pub struct RunState {
    pub calls: Mutex<Vec<CallRecord>>,
    /// Time spent waiting for integration calls; not counted against the CPU limit.
    pub call_time: Mutex<Duration>,
    pub permission_bypassed: AtomicBool,
    /// When the call now in progress started.
    pub in_flight_since: Mutex<Option<Instant>>,
}

impl RunState {
    pub fn calls(&self) -> Vec<CallRecord> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    pub fn call_time(&self) -> Duration {
        self.call_time.lock().map(|d| *d).unwrap_or_default()
    }

    /// How long the call now in progress has been running.
    pub fn in_flight(&self) -> Duration {
        self.in_flight_since
            .lock()
            .ok()
            .and_then(|s| s.map(|since| since.elapsed()))
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct CallOptions {
    /// Run calls the policy would refuse (`ask`, `deny`).
    pub force: bool,
    /// Return the request instead of sending it, for writes.
    pub dry_run: bool,
    /// Also for reads (`integrations:call --dry-run`).
    pub dry_run_reads: bool,
}

/// A transport built on first use, so that scripts that call nothing never need credentials
/// and start fast.
pub struct LazyTransport {
    provider: &'static ProviderMeta,
    credentials: Credentials,
    cell: OnceLock<Result<HttpTransport, String>>,
    base_url: String,
}

impl LazyTransport {
    pub fn new(provider: &'static ProviderMeta, credentials: Credentials) -> Self {
        let base_url = credentials
            .plain(provider, kosmo_runtime::credentials::BASE_URL_CREDENTIAL)
            .map(|u| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| provider.base_url.to_string());
        LazyTransport {
            provider,
            credentials,
            cell: OnceLock::new(),
            base_url,
        }
    }

    pub fn get(&self) -> Result<&HttpTransport, Error> {
        self.cell
            .get_or_init(|| {
                HttpTransport::new(self.provider, &self.credentials, HttpConfig::default())
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|message| Error::Config(message.clone()))
    }
}

impl Transport for LazyTransport {
    fn send(&self, request: ApiRequest) -> TransportFuture<'_> {
        Box::pin(async move { self.get()?.send(request).await })
    }

    fn base_url(&self) -> Option<&str> {
        // Asked right before a request is built: the real transport's view wins.
        match self.get() {
            Ok(transport) => transport.base_url().or(Some(&self.base_url)),
            Err(_) => Some(&self.base_url),
        }
    }
}

/// Keeps the request a handler built instead of sending it.
struct CaptureTransport {
    base_url: String,
    captured: Mutex<Option<ApiRequest>>,
}

impl Transport for CaptureTransport {
    fn send(&self, request: ApiRequest) -> TransportFuture<'_> {
        if let Ok(mut slot) = self.captured.lock() {
            *slot = Some(request);
        }
        Box::pin(async { Ok(Value::Object(Map::new())) })
    }

    fn base_url(&self) -> Option<&str> {
        Some(&self.base_url)
    }
}

/// The permission policy of one provider account.
#[derive(Debug, Clone, Copy)]
pub struct AccountPolicy {
    pub enabled: bool,
    pub read: Policy,
    pub write: Policy,
}

impl AccountPolicy {
    pub fn from_settings(settings: &Settings, provider: &str, account: &str) -> Self {
        AccountPolicy {
            enabled: settings.enabled(provider),
            read: settings.policy(provider, account, Operation::Read),
            write: settings.policy(provider, account, Operation::Write),
        }
    }

    fn get(&self, operation: Operation) -> Policy {
        match operation {
            Operation::Read => self.read,
            Operation::Write => self.write,
        }
    }
}

/// Checks the policy, handles dry runs, records the call, then runs the generated dispatcher.
pub struct Guarded {
    provider: &'static Provider,
    /// `integrations.clerk` or `integrations.clerk.<account>`, prefix of recorded paths.
    path_prefix: String,
    policy: AccountPolicy,
    transport: Arc<LazyTransport>,
    inner: Arc<dyn Dispatch>,
    options: CallOptions,
    state: Arc<RunState>,
}

impl Guarded {
    pub fn new(
        provider: &'static Provider,
        settings: &Settings,
        account: &str,
        options: CallOptions,
        state: Arc<RunState>,
    ) -> Self {
        let transport = Arc::new(LazyTransport::new(
            provider.meta,
            settings.credentials(provider.meta, account),
        ));
        let inner = (provider.dispatcher)(transport.clone());
        let path_prefix = if account == DEFAULT_ACCOUNT {
            format!("integrations.{}", provider.meta.name)
        } else {
            format!("integrations.{}.{account}", provider.meta.name)
        };
        Guarded {
            provider,
            path_prefix,
            policy: AccountPolicy::from_settings(settings, provider.meta.name, account),
            transport,
            inner,
            options,
            state,
        }
    }

    async fn run(&self, function: &'static FunctionMeta, args: Value) -> Result<Value, Error> {
        let name = self.provider.meta.name;
        if !self.policy.enabled {
            return Err(Error::Config(format!(
                "Integration '{name}' is disabled. Enable it with `kosmo integrations:configure {name} --enable`."
            )));
        }
        let operation = function.operation;
        let policy = self.policy.get(operation);
        let dry =
            self.options.dry_run && (operation == Operation::Write || self.options.dry_run_reads);
        match policy {
            Policy::Allow => {}
            // A dry run sends nothing, so there is nothing to approve; `deny` still refuses.
            Policy::Ask if dry => {}
            _ if self.options.force => {
                self.state
                    .permission_bypassed
                    .store(true, Ordering::Relaxed);
            }
            Policy::Ask => {
                return Err(Error::Config(format!(
                    "Integration '{name}' {operation} requires approval. Ask the user to change the permission in /settings → Integrations"
                )));
            }
            Policy::Deny => {
                return Err(Error::Config(format!(
                    "Integration '{name}' {operation} access denied. Enable it in /settings → Integrations"
                )));
            }
        }
        if !dry {
            return self.inner.call(function, args).await;
        }
        // A dry run checks what a real run checks (credentials, arguments) and stops short of
        // sending.
        let real = self.transport.get()?;
        let capture = Arc::new(CaptureTransport {
            base_url: real
                .base_url()
                .unwrap_or(self.provider.meta.base_url)
                .to_string(),
            captured: Mutex::new(None),
        });
        (self.provider.dispatcher)(capture.clone())
            .call(function, args)
            .await?;
        let request = capture.captured.lock().ok().and_then(|mut r| r.take());
        let mut description =
            describe_request(self.provider.meta, function, &capture.base_url, request);
        if let Some(map) = description.as_object_mut() {
            // What a real run would need: `ask` means --force headless.
            map.insert("policy".into(), Value::String(policy.as_str().into()));
        }
        Ok(description)
    }
}

impl Dispatch for Guarded {
    fn call(&self, function: &'static FunctionMeta, args: Value) -> TransportFuture<'_> {
        Box::pin(async move {
            let started = Instant::now();
            if let Ok(mut since) = self.state.in_flight_since.lock() {
                *since = Some(started);
            }
            let result = self.run(function, args).await;
            let elapsed = started.elapsed();
            // Both under one lock order (call_time, then in_flight_since) so that the monitor
            // never counts the call twice or not at all.
            if let Ok(mut total) = self.state.call_time.lock() {
                *total += elapsed;
                if let Ok(mut since) = self.state.in_flight_since.lock() {
                    *since = None;
                }
            }
            if let Ok(mut calls) = self.state.calls.lock() {
                calls.push(CallRecord {
                    path: format!("{}.{}", self.path_prefix, function.name),
                    duration_ms: elapsed.as_secs_f64() * 1000.0,
                    error: result.as_ref().err().map(ToString::to_string),
                    name: function.title,
                    group: self.provider.meta.name,
                });
            }
            result
        })
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
    if request.body.is_some() {
        headers.insert(
            "Content-Type".into(),
            Value::String("application/json".into()),
        );
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
        "body": request.body.map(Value::Object),
    })
}
