//! The registry of integrations: what the generator emits for each provider in `spec/`, and all
//! a host needs to list, document and call its functions without knowing which provider it is.

use serde_json::Value;

use crate::{Error, FunctionMeta, OutputFuture, ProviderMeta, Transport};

/// Runs one function of an integration: checks the arguments against the manifest, builds the
/// request and sends it over `transport`.
pub type CallFn = for<'a> fn(&'a dyn Transport, &'static FunctionMeta, Value) -> OutputFuture<'a>;

/// One provider's integration: its metadata, its generated docs and its dispatcher.
#[derive(Debug)]
pub struct Integration {
    pub meta: &'static ProviderMeta,
    pub docs: Docs,
    pub call: CallFn,
}

/// The generated documentation of one integration, embedded in the binary: exactly the files in
/// `generated/docs/<provider>/`.
#[derive(Debug)]
pub struct Docs {
    /// The provider page (`docs.read("<provider>")`).
    pub provider_page: &'static str,
    /// The agent-facing namespace reference (`docs.read("app.integrations.<provider>")`).
    pub namespace: &'static str,
    /// The catalog entry, as JSON text; it also holds every function's input JSON Schema.
    pub catalog_json: &'static str,
    /// One page per function, by Lua name, in manifest order.
    pub function_pages: &'static [(&'static str, &'static str)],
    /// One page per family, with its functions' parameter tables (`docs.read("<provider>.family.<family>")`),
    /// by family name, in display order.
    pub family_pages: &'static [(&'static str, &'static str)],
    /// One page per guide (`docs.read("<provider>.guide.<guide>")`), by guide name (its file's
    /// name without `.md`), in the manifest's order.
    pub guide_pages: &'static [(&'static str, &'static str)],
}

impl Integration {
    /// The provider's name: `app.integrations.<name>`.
    pub fn name(&self) -> &'static str {
        self.meta.name
    }

    /// The function `name` resolves to: its Lua name, full slug or an alias.
    pub fn function(&self, name: &str) -> Option<&'static FunctionMeta> {
        self.meta.function(name)
    }

    /// Calls `function` with a JSON argument table over `transport`.
    pub fn call<'a>(
        &self,
        transport: &'a dyn Transport,
        function: &'static FunctionMeta,
        args: Value,
    ) -> OutputFuture<'a> {
        (self.call)(transport, function, args)
    }

    /// The generated page of a function.
    pub fn function_page(&self, function: &FunctionMeta) -> Option<&'static str> {
        self.docs
            .function_pages
            .iter()
            .find(|(name, _)| *name == function.name)
            .map(|(_, page)| *page)
    }

    /// The generated page of a family.
    pub fn family_page(&self, family: &str) -> Option<&'static str> {
        find_page(self.docs.family_pages, family)
    }

    /// The generated page of a guide.
    pub fn guide_page(&self, guide: &str) -> Option<&'static str> {
        find_page(self.docs.guide_pages, guide)
    }

    /// The parsed catalog entry.
    pub fn catalog(&self) -> Result<Value, Error> {
        serde_json::from_str(self.docs.catalog_json).map_err(|e| {
            Error::Config(format!(
                "the {} catalog is not valid JSON: {e}",
                self.meta.label
            ))
        })
    }

    /// The catalog entry of one function.
    pub fn catalog_entry(&self, function: &FunctionMeta) -> Result<Value, Error> {
        let mut catalog = self.catalog()?;
        let entries = match catalog.get_mut("functions") {
            Some(Value::Array(entries)) => std::mem::take(entries),
            _ => Vec::new(),
        };
        entries
            .into_iter()
            .find(|entry| entry["function_name"].as_str() == Some(function.name))
            .ok_or_else(|| {
                Error::Config(format!(
                    "{}.{} is missing from the catalog",
                    self.meta.name, function.name
                ))
            })
    }

    /// The JSON Schema of a function's argument table (kept once, in the catalog).
    pub fn input_schema(&self, function: &FunctionMeta) -> Result<Value, Error> {
        let mut entry = self.catalog_entry(function)?;
        match entry.get_mut("input_schema") {
            Some(schema) => Ok(schema.take()),
            None => Err(Error::Config(format!(
                "the catalog entry of {}.{} has no input_schema",
                self.meta.name, function.name
            ))),
        }
    }
}

fn find_page(pages: &'static [(&'static str, &'static str)], name: &str) -> Option<&'static str> {
    pages
        .iter()
        .find(|(page, _)| *page == name)
        .map(|(_, text)| *text)
}
