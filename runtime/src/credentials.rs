//! Credential values a user configures for a provider, and the checks made before any request.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use crate::Error;
use crate::meta::{CredentialMeta, ProviderMeta};

/// Name of the optional credential that overrides a provider's base URL.
pub const BASE_URL_CREDENTIAL: &str = "url";

/// Credential values by field name. Every value is held as a secret: `Debug` lists only the
/// names, and nothing here implements `Display`, so a key cannot leak through formatting.
#[derive(Clone, Default)]
pub struct Credentials {
    values: BTreeMap<String, SecretString>,
}

impl Credentials {
    pub fn new() -> Self {
        Self::default()
    }

    /// Each credential the provider declares with an `env` variable, read from the environment.
    /// Empty variables count as unset.
    pub fn from_env(provider: &ProviderMeta) -> Self {
        Self::from_lookup(provider, |name| std::env::var(name).ok())
    }

    /// Like [`Credentials::from_env`] with a custom lookup, so tests need not touch the process
    /// environment.
    pub fn from_lookup(provider: &ProviderMeta, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut credentials = Self::new();
        for field in provider.credentials {
            if let Some(value) = field.env.and_then(&lookup) {
                credentials.set(field.name, value);
            }
        }
        credentials
    }

    /// Sets a field; an empty or all-blank value unsets it.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        if value.trim().is_empty() {
            self.values.remove(name);
        } else {
            self.values.insert(
                name.to_string(),
                SecretString::from(value.trim().to_string()),
            );
        }
    }

    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.set(name, value);
        self
    }

    /// Values in `other` replace these (configured values over environment values, say).
    pub fn merged_over(mut self, other: &Credentials) -> Self {
        for (name, value) in &other.values {
            self.values.insert(name.clone(), value.clone());
        }
        self
    }

    pub fn is_set(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// Whether both hold the same fields with the same values (to reuse a client built for
    /// the same credentials; nothing is printed or logged).
    pub fn same_values(&self, other: &Credentials) -> bool {
        self.values.len() == other.values.len()
            && self.values.iter().all(|(name, value)| {
                other
                    .values
                    .get(name)
                    .is_some_and(|o| o.expose_secret() == value.expose_secret())
            })
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&SecretString> {
        self.values.get(name)
    }

    /// The value of a field that is not secret (the base URL, say); `None` for secret fields.
    pub fn plain(&self, provider: &ProviderMeta, name: &str) -> Option<String> {
        let field = provider.credentials.iter().find(|c| c.name == name)?;
        if field.secret {
            return None;
        }
        self.values.get(name).map(|v| v.expose_secret().to_string())
    }

    /// Checks every declared field: required ones are present, prefixes are right.
    /// Messages name the field and say how to set it; they never contain a value.
    pub fn check(&self, provider: &ProviderMeta) -> Result<(), Error> {
        for field in provider.credentials {
            match self.values.get(field.name) {
                None if field.required => return Err(missing(provider, field)),
                None => {}
                Some(value) => check_value(provider, field, value.expose_secret())?,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("set", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn missing(provider: &ProviderMeta, field: &CredentialMeta) -> Error {
    let how = match field.env {
        Some(env) => format!(
            "set the environment variable {env}, or run `kosmo integrations:configure {} --set {}=…`",
            provider.name, field.name
        ),
        None => format!(
            "run `kosmo integrations:configure {} --set {}=…`",
            provider.name, field.name
        ),
    };
    Error::Config(format!(
        "{} integration is not configured. The credential `{}` is missing: {how}.",
        provider.label, field.name
    ))
}

fn check_value(provider: &ProviderMeta, field: &CredentialMeta, value: &str) -> Result<(), Error> {
    for (prefix, reason) in field.reject_prefixes {
        if value.starts_with(prefix) {
            return Err(Error::Config(format!(
                "{} credential `{}` starts with `{prefix}`: {reason}.",
                provider.label, field.name
            )));
        }
    }
    if let Some(prefix) = field.prefix
        && !value.starts_with(prefix)
    {
        return Err(Error::Config(format!(
            "{} credential `{}` must start with `{prefix}`.",
            provider.label, field.name
        )));
    }
    // A header value with a line break could smuggle headers; refuse without echoing it.
    if field.secret && value.chars().any(|c| c.is_control() || c == ' ') {
        return Err(Error::Config(format!(
            "{} credential `{}` contains spaces or control characters.",
            provider.label, field.name
        )));
    }
    Ok(())
}
