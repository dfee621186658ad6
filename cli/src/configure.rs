//! `integrations:configure`: changes a provider's configuration file, then shows the result
//! with secrets masked.

use kosmo_host::DEFAULT_ACCOUNT;
use kosmo_integrations::INTEGRATIONS;
use kosmo_runtime::Operation;
use serde_json::{Value, json};

use crate::config::{self, Settings};
use crate::{EXIT_FAILURE, EXIT_USAGE, print_json};

/// Examples with the registry's first provider and its first secret credential.
pub fn help_text() -> String {
    let mut help =
        "Without changes it shows the configuration (secrets masked).\nExamples:\n".to_string();
    if let Some(integration) = INTEGRATIONS.first() {
        let meta = integration.meta;
        let secret = meta
            .credentials
            .iter()
            .find(|c| c.secret)
            .map_or("token", |c| c.name);
        let optional = meta
            .credentials
            .iter()
            .find(|c| !c.required)
            .map_or("url", |c| c.name);
        help.push_str(&format!(
            "  kosmo integrations:configure {p} --set {secret}=...\n  kosmo integrations:configure {p} --account work --set {secret}=... --write allow\n  kosmo integrations:configure {p} --unset {optional} --project",
            p = meta.name
        ));
        if let Some(tier) = meta.rate_limits.tiers.last() {
            help.push_str(&format!(
                "\n  kosmo integrations:configure {p} --rate-limit-tier {} (or auto: the tier the key selects)",
                tier.name,
                p = meta.name
            ));
        }
    }
    help
}

#[derive(clap::Args)]
pub struct ConfigureArgs {
    /// Provider name.
    provider: String,
    /// Set a credential: `--set secret_key=sk_test_...`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Remove a credential.
    #[arg(long = "unset", value_name = "KEY")]
    unset: Vec<String>,
    /// The credential account to change (default: default).
    #[arg(long, default_value = DEFAULT_ACCOUNT)]
    account: String,
    #[arg(long, conflicts_with = "disable")]
    enable: bool,
    #[arg(long)]
    disable: bool,
    /// Policy for reads: allow, ask or deny.
    #[arg(long, value_name = "POLICY")]
    read: Option<String>,
    /// Policy for writes: allow, ask or deny.
    #[arg(long, value_name = "POLICY")]
    write: Option<String>,
    /// The rate-limit tier calls are paced under (one the provider declares), or `auto` for
    /// the tier the key selects.
    #[arg(long, value_name = "TIER")]
    rate_limit_tier: Option<String>,
    /// Write the project file (.kosmo/integrations.json) instead of the global one.
    #[arg(long)]
    project: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: ConfigureArgs) -> anyhow::Result<u8> {
    let Some(integration) = crate::integration(&args.provider) else {
        eprintln!(
            "Error: unknown integration `{}`; known: {}",
            args.provider,
            INTEGRATIONS
                .iter()
                .map(|p| p.meta.name)
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(EXIT_USAGE);
    };
    let meta = integration.meta;
    let read = args.read.as_deref().map(config::parse_policy).transpose();
    let write = args.write.as_deref().map(config::parse_policy).transpose();
    let (read, write) = match (read, write) {
        (Ok(r), Ok(w)) => (r, w),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("Error: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    // `Some(None)`: back to the tier the key selects.
    let tier: Option<Option<String>> = match args.rate_limit_tier.as_deref().map(str::trim) {
        None => None,
        Some("auto") => Some(None),
        Some(name) => match config::rate_tier(meta, name) {
            Ok(tier) => Some(Some(tier.name.to_string())),
            Err(e) => {
                eprintln!("Error: {e}, or auto");
                return Ok(EXIT_USAGE);
            }
        },
    };
    let mut sets = Vec::new();
    for item in &args.set {
        let Some((key, value)) = item.split_once('=') else {
            eprintln!("Error: --set takes KEY=VALUE, got `{item}`");
            return Ok(EXIT_USAGE);
        };
        let key = key.trim().replace('-', "_");
        if !meta.credentials.iter().any(|c| c.name == key) {
            eprintln!(
                "Error: `{key}` is not a {} credential; known: {}",
                meta.label,
                meta.credentials
                    .iter()
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return Ok(EXIT_USAGE);
        }
        sets.push((key, value.trim().to_string()));
    }
    let account = args.account.trim().to_string();
    if account.is_empty()
        || !account
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        eprintln!("Error: account names use letters, digits, `_` and `-`");
        return Ok(EXIT_USAGE);
    }
    let changes = !sets.is_empty()
        || !args.unset.is_empty()
        || args.enable
        || args.disable
        || read.is_some()
        || write.is_some()
        || tier.is_some();

    if changes {
        let path = if args.project {
            config::project_file_for_write()?
        } else {
            config::global_file().ok_or_else(|| {
                anyhow::anyhow!("no home directory: set KOSMO_HOME or use --project")
            })?
        };
        let mut file = config::ConfigFile::read(&path)?.unwrap_or_default();
        let entry = file.integrations.entry(meta.name.to_string()).or_default();
        if args.enable {
            entry.enabled = Some(true);
        }
        if args.disable {
            entry.enabled = Some(false);
        }
        if let Some(tier) = &tier {
            entry.rate_limit_tier = tier.clone();
        }
        let touches_account =
            !sets.is_empty() || !args.unset.is_empty() || account != DEFAULT_ACCOUNT;
        if touches_account {
            let acc = entry.accounts.entry(account.clone()).or_default();
            for (key, value) in &sets {
                acc.credentials.insert(key.clone(), value.clone());
            }
            for key in &args.unset {
                acc.credentials.remove(&key.replace('-', "_"));
            }
            if account != DEFAULT_ACCOUNT {
                if read.is_some() {
                    acc.permissions.read = read;
                }
                if write.is_some() {
                    acc.permissions.write = write;
                }
            }
        }
        if account == DEFAULT_ACCOUNT {
            if read.is_some() {
                entry.permissions.read = read;
            }
            if write.is_some() {
                entry.permissions.write = write;
            }
        }
        // Refuse values that can never work (a publishable key, say) before saving them.
        if !sets.is_empty() {
            let mut credentials = kosmo_runtime::Credentials::new();
            if let Some(acc) = entry.accounts.get(&account) {
                for (k, v) in &acc.credentials {
                    credentials.set(k, v.clone());
                }
            }
            if let Err(e) = check_values(meta, &credentials) {
                eprintln!("Error: {e}");
                return Ok(EXIT_FAILURE);
            }
        }
        file.write(&path)?;
        eprintln!("Saved {}", path.display());
    }

    let settings = Settings::load()?;
    settings.print_warnings();
    let tier = match settings.pacing() {
        Ok((pacing, warnings)) => {
            for warning in warnings {
                eprintln!("{warning}");
            }
            pacing.tier_for(meta.name).unwrap_or("auto").to_string()
        }
        Err(e) => {
            eprintln!("warning: {e:#}");
            "auto".to_string()
        }
    };
    let mut accounts = Vec::new();
    for name in settings.accounts(meta.name) {
        let credentials: serde_json::Map<String, Value> = settings
            .credential_sources(meta, &name)
            .iter()
            .map(|(k, (v, source))| {
                (
                    k.clone(),
                    json!({"value": config::display_value(meta, k, v), "source": source}),
                )
            })
            .collect();
        accounts.push(json!({
            "name": name,
            "credentials": credentials,
            "permissions": {
                "read": settings.policy(meta.name, &name, Operation::Read).as_str(),
                "write": settings.policy(meta.name, &name, Operation::Write).as_str(),
            },
        }));
    }
    let files: Vec<String> = [settings.global.as_ref(), settings.project.as_ref()]
        .into_iter()
        .flatten()
        .map(|(p, _)| p.display().to_string())
        .collect();
    let view = json!({
        "provider": meta.name,
        "enabled": settings.enabled(meta.name),
        "rate_limit_tier": tier,
        "accounts": accounts,
        "files": files,
    });
    if args.json {
        print_json(&view);
    } else {
        outln!(
            "{} ({})",
            meta.name,
            if settings.enabled(meta.name) {
                "enabled"
            } else {
                "disabled"
            }
        );
        if !meta.rate_limits.tiers.is_empty() {
            outln!(
                "  rate-limit tier: {}",
                if tier == "auto" {
                    "auto (from the key)"
                } else {
                    &tier
                }
            );
        }
        for account in view["accounts"].as_array().into_iter().flatten() {
            outln!(
                "  account {}: read={} write={}",
                account["name"].as_str().unwrap_or_default(),
                account["permissions"]["read"].as_str().unwrap_or_default(),
                account["permissions"]["write"].as_str().unwrap_or_default()
            );
            for (name, value) in account["credentials"].as_object().into_iter().flatten() {
                outln!(
                    "    {name} = {} ({})",
                    value["value"].as_str().unwrap_or_default(),
                    value["source"].as_str().unwrap_or_default()
                );
            }
        }
        if files.is_empty() {
            outln!("  (no configuration file)");
        }
        for file in &files {
            outln!("  file {file}");
        }
    }
    Ok(0)
}

/// Checks the values that are set (prefixes, publishable keys) without requiring the
/// missing ones.
fn check_values(
    meta: &'static kosmo_runtime::ProviderMeta,
    credentials: &kosmo_runtime::Credentials,
) -> Result<(), kosmo_runtime::Error> {
    match credentials.check(meta) {
        Err(kosmo_runtime::Error::Config(message)) if message.contains("is missing") => Ok(()),
        other => other,
    }
}
