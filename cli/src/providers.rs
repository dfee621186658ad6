//! The providers this binary knows, with what the CLI needs of each beyond its metadata:
//! a dispatcher constructor and the embedded docs.

use std::sync::Arc;

use kosmo_integrations::clerk;
use kosmo_runtime::lua::Dispatch;
use kosmo_runtime::{FunctionMeta, ProviderMeta, Transport};

pub struct Provider {
    pub meta: &'static ProviderMeta,
    /// Builds the generated dispatcher over a transport.
    pub dispatcher: fn(Arc<dyn Transport>) -> Arc<dyn Dispatch>,
    /// The provider page (`docs.read("clerk")`).
    pub page: &'static str,
    /// The agent-facing namespace reference (`docs.read("app.integrations.clerk")`).
    pub namespace: &'static str,
    /// The catalog entry as JSON text.
    pub catalog: &'static str,
    /// Function pages by Lua name.
    pub function_pages: &'static [(&'static str, &'static str)],
}

fn clerk_dispatcher(transport: Arc<dyn Transport>) -> Arc<dyn Dispatch> {
    Arc::new(clerk::Dispatcher::new(transport))
}

pub static PROVIDERS: &[Provider] = &[Provider {
    meta: &clerk::meta::PROVIDER,
    dispatcher: clerk_dispatcher,
    page: clerk::docs::PROVIDER_PAGE,
    namespace: clerk::docs::NAMESPACE,
    catalog: clerk::docs::CATALOG_JSON,
    function_pages: clerk::docs::FUNCTION_PAGES,
}];

pub fn provider(name: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.meta.name == name)
}

impl Provider {
    pub fn function_page(&self, function: &FunctionMeta) -> Option<&'static str> {
        self.function_pages
            .iter()
            .find(|(name, _)| *name == function.name)
            .map(|(_, page)| *page)
    }
}

/// Splits `clerk.get_user` (or `integrations.clerk.get_user`, `app.integrations.clerk.get_user`)
/// into the provider and the function name.
pub fn split_qualified(name: &str) -> Option<(&'static Provider, &str)> {
    let name = name.strip_prefix("app.").unwrap_or(name);
    let name = name.strip_prefix("integrations.").unwrap_or(name);
    let (provider_name, function) = name.split_once('.')?;
    Some((provider(provider_name)?, function))
}
