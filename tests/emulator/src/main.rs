//! `clerk-emulator`: serves the in-memory Clerk Backend API until Ctrl-C or SIGTERM.

use std::io::Write;
use std::net::IpAddr;

use clap::Parser;
use clerk_emulator::{Config, DEFAULT_SECRET_KEY, Emulator};

/// An in-memory emulator of Clerk's Backend API, for tests and trying the integration offline.
#[derive(Parser, Debug)]
#[command(name = "clerk-emulator", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Secret key clients must send; defaults to $CLERK_SECRET_KEY, else the built-in test key.
    #[arg(long)]
    secret_key: Option<String>,
    /// Users to create at start.
    #[arg(long, default_value_t = 0)]
    seed_users: usize,
    /// Organizations to create at start.
    #[arg(long, default_value_t = 0)]
    seed_organizations: usize,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let secret_key = args
        .secret_key
        .or_else(|| {
            std::env::var("CLERK_SECRET_KEY")
                .ok()
                .filter(|k| !k.is_empty())
        })
        .unwrap_or_else(|| DEFAULT_SECRET_KEY.to_string());
    let emulator = Emulator::start(Config {
        host: args.host,
        port: args.port,
        secret_key,
        seed_users: args.seed_users,
        seed_organizations: args.seed_organizations,
    })
    .await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "Clerk emulator listening on {}", emulator.base_url())?;
        writeln!(out, "Secret key: {}", emulator.secret_key())?;
        writeln!(
            out,
            "Try: export CLERK_API_URL={} CLERK_SECRET_KEY={}",
            emulator.base_url(),
            emulator.secret_key()
        )?;
        out.flush()?;
    }
    wait_for_stop_signal().await;
    emulator.shutdown().await;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_stop_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
