//! Where a call's requests go: a [`Transport`] per account, built on first use.

use std::sync::{Arc, Mutex, OnceLock};

use kosmo_runtime::credentials::BASE_URL_CREDENTIAL;
use kosmo_runtime::{
    ApiRequest, Credentials, Error, HttpConfig, HttpTransport, Pacers, ProviderMeta, Response,
    Transport, TransportFuture,
};

/// Makes the transport an account's calls use. The default, [`HttpTransports`], sends real
/// HTTPS requests; tests and proxies may supply their own.
pub trait TransportFactory: Send + Sync {
    /// A transport for `integration` with `credentials`, which it checks first (a missing or
    /// malformed key is an error here, before any request).
    fn transport(
        &self,
        integration: &'static ProviderMeta,
        credentials: &Credentials,
    ) -> Result<Arc<dyn Transport>, Error>;
}

/// Real HTTPS through [`HttpTransport`]. A client is kept per integration and credential set,
/// so runs of a long-lived host reuse connections instead of opening new ones each time. Every
/// client with the same key shares one pacer, so concurrent runs and named accounts that use one
/// key share its rate-limit budget.
#[derive(Debug)]
pub struct HttpTransports {
    config: HttpConfig,
    clients: Mutex<Vec<(&'static str, Credentials, Arc<HttpTransport>)>>,
    pacers: Pacers,
}

/// Clients kept at most; the oldest goes first.
const MAX_CLIENTS: usize = 32;

impl HttpTransports {
    /// Transports with these timeouts and retry rules.
    pub fn new(config: HttpConfig) -> Self {
        HttpTransports {
            config,
            clients: Mutex::new(Vec::new()),
            pacers: Pacers::default(),
        }
    }

    fn make(
        &self,
        integration: &'static ProviderMeta,
        credentials: &Credentials,
    ) -> Result<HttpTransport, Error> {
        credentials.check(integration)?;
        let pacer = self
            .pacers
            .pacer(integration, credentials, &self.config.pacing)?;
        HttpTransport::with_pacer(integration, credentials, self.config.clone(), pacer)
    }
}

impl Default for HttpTransports {
    fn default() -> Self {
        Self::new(HttpConfig::default())
    }
}

impl TransportFactory for HttpTransports {
    fn transport(
        &self,
        integration: &'static ProviderMeta,
        credentials: &Credentials,
    ) -> Result<Arc<dyn Transport>, Error> {
        let Ok(mut clients) = self.clients.lock() else {
            return Ok(Arc::new(self.make(integration, credentials)?));
        };
        if let Some((_, _, client)) = clients
            .iter()
            .find(|(name, held, _)| *name == integration.name && held.same_values(credentials))
        {
            return Ok(client.clone());
        }
        let client = Arc::new(self.make(integration, credentials)?);
        if clients.len() >= MAX_CLIENTS {
            clients.remove(0);
        }
        clients.push((integration.name, credentials.clone(), client.clone()));
        Ok(client)
    }
}

/// An account's transport, made on its first call: scripts that call nothing never need
/// credentials, and a failure to make it is reported by every call, not by the run.
pub(crate) struct LazyTransport {
    integration: &'static ProviderMeta,
    credentials: Box<dyn Fn() -> Credentials + Send + Sync>,
    factory: Arc<dyn TransportFactory>,
    cell: OnceLock<Result<Arc<dyn Transport>, String>>,
    fallback_base_url: OnceLock<String>,
}

impl LazyTransport {
    pub(crate) fn new(
        integration: &'static ProviderMeta,
        credentials: Box<dyn Fn() -> Credentials + Send + Sync>,
        factory: Arc<dyn TransportFactory>,
    ) -> Self {
        LazyTransport {
            integration,
            credentials,
            factory,
            cell: OnceLock::new(),
            fallback_base_url: OnceLock::new(),
        }
    }

    pub(crate) fn get(&self) -> Result<&Arc<dyn Transport>, Error> {
        self.cell
            .get_or_init(|| {
                let credentials = (self.credentials)();
                let _ = self
                    .fallback_base_url
                    .set(configured_base_url(self.integration, &credentials));
                self.factory
                    .transport(self.integration, &credentials)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|message| Error::Config(message.clone()))
    }

    /// The base URL requests go to, even when the transport cannot be made.
    pub(crate) fn base_url(&self) -> String {
        if let Ok(transport) = self.get()
            && let Some(url) = transport.base_url()
        {
            return url.to_string();
        }
        self.fallback_base_url
            .get()
            .cloned()
            .unwrap_or_else(|| self.integration.base_url.trim_end_matches('/').to_string())
    }
}

fn configured_base_url(integration: &ProviderMeta, credentials: &Credentials) -> String {
    credentials
        .plain(integration, BASE_URL_CREDENTIAL)
        .map(|u| u.trim_end_matches('/').to_string())
        .unwrap_or_else(|| integration.base_url.trim_end_matches('/').to_string())
}

impl Transport for LazyTransport {
    fn send(&self, request: ApiRequest) -> TransportFuture<'_> {
        Box::pin(async move { self.get()?.send(request).await })
    }

    fn base_url(&self) -> Option<&str> {
        match self.get() {
            Ok(transport) => transport.base_url(),
            Err(_) => self.fallback_base_url.get().map(String::as_str),
        }
    }
}

/// Keeps the request a handler built instead of sending it: how a dry run finds out what it
/// would send.
pub(crate) struct CaptureTransport {
    pub(crate) provider: &'static str,
    pub(crate) base_url: String,
    pub(crate) captured: Mutex<Option<ApiRequest>>,
}

impl Transport for CaptureTransport {
    fn send(&self, request: ApiRequest) -> TransportFuture<'_> {
        if let Ok(mut slot) = self.captured.lock() {
            *slot = Some(request);
        }
        Box::pin(async { Ok(Response::new(self.provider, 200, None, "{}")) })
    }

    fn base_url(&self) -> Option<&str> {
        Some(&self.base_url)
    }
}
