//! `clerk-emulator`: serves the in-memory Clerk Backend API until Ctrl-C or SIGTERM.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use clerk_emulator::{ClerkLimits, Config, DEFAULT_SECRET_KEY, Document, Emulator};

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
    /// Clerk's rate limits: `clerk` enforces them (the instance limit follows the key: `sk_live_`
    /// is production, 1,000 requests per 10 s, else development, 100), `off` does not.
    #[arg(long, value_enum, default_value_t = Limits::Clerk)]
    limits: Limits,
    /// Multiplies every window of Clerk's limits: 0.5 makes "100 per 10 s" "100 per 5 s".
    #[arg(long, default_value_t = 1.0, value_parser = parse_window_scale)]
    limit_window_scale: f64,
    /// Waits this long before sending each API answer, for example `150ms`, `1s` or `0.2s`.
    #[arg(long, default_value = "0ms", value_parser = parse_duration)]
    latency: Duration,
    /// Does not keep the API requests in memory (for long benchmarks).
    #[arg(long)]
    no_record: bool,
    /// Clerk's OpenAPI spec (YAML or JSON): its operations that no stateful handler serves are
    /// answered with mocks built from it, instead of 404s.
    #[arg(long, value_name = "PATH")]
    openapi: Option<PathBuf>,
}

fn read_openapi(path: &std::path::Path) -> std::io::Result<Document> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        std::io::Error::new(
            error.kind(),
            format!("--openapi {}: {error}", path.display()),
        )
    })?;
    Document::parse(&text).map_err(|error| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("--openapi {}: {error}", path.display()),
        )
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Limits {
    Clerk,
    Off,
}

fn parse_window_scale(text: &str) -> Result<f64, String> {
    let scale: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    ClerkLimits::scaled(scale).validate()?;
    Ok(scale)
}

/// A number and a unit: `150ms`, `1s`, `0.2s`, `2m`, `500us`; a bare `0` is zero.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let invalid = || {
        format!(
            "invalid duration `{text}`: write a number and a unit (us, ms, s or m), for example 150ms, 1s or 0.2s"
        )
    };
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(invalid)?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| invalid())?;
    let seconds_per_unit = match unit.trim() {
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        _ => return Err(invalid()),
    };
    Duration::try_from_secs_f64(number * seconds_per_unit).map_err(|_| invalid())
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
    let openapi = match &args.openapi {
        Some(path) => Some(std::sync::Arc::new(read_openapi(path)?)),
        None => None,
    };
    let emulator = Emulator::start(Config {
        host: args.host,
        port: args.port,
        secret_key,
        seed_users: args.seed_users,
        seed_organizations: args.seed_organizations,
        limits: match args.limits {
            Limits::Clerk => ClerkLimits::scaled(args.limit_window_scale),
            Limits::Off => ClerkLimits {
                enabled: false,
                window_scale: args.limit_window_scale,
            },
        },
        latency: args.latency,
        record_requests: !args.no_record,
        openapi,
        // Random faults are for soaks in Rust (`kosmo_tests::soak`); the binary takes queued ones.
        chaos: None,
    })
    .await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "Clerk emulator listening on {}", emulator.base_url())?;
        writeln!(out, "Secret key: {}", emulator.secret_key())?;
        let operations = emulator.operations();
        if args.openapi.is_some() {
            let mocked = operations
                .iter()
                .filter(|o| o.mode == clerk_emulator::Mode::Mocked)
                .count();
            writeln!(
                out,
                "Operations: {} stateful, {mocked} mocked from the OpenAPI spec",
                operations.len() - mocked
            )?;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(parse_duration("150ms"), Ok(Duration::from_millis(150)));
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("0.2s"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500us"), Ok(Duration::from_micros(500)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        for bad in ["", "150", "ms", "1.2.3s", "-1s", "5 parsecs", "1e3ms"] {
            let error = parse_duration(bad).unwrap_err();
            assert!(error.contains("for example 150ms"), "{bad}: {error}");
        }
    }

    #[test]
    fn the_window_scale_must_be_positive_and_finite() {
        assert_eq!(parse_window_scale("0.5"), Ok(0.5));
        for bad in ["0", "-1", "NaN", "inf", "fast"] {
            assert!(parse_window_scale(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_flags_parse() {
        let args = Args::try_parse_from([
            "clerk-emulator",
            "--limits",
            "off",
            "--limit-window-scale",
            "0.1",
            "--latency",
            "150ms",
            "--no-record",
            "--openapi",
            "spec.yml",
        ])
        .unwrap();
        assert_eq!(args.limits, Limits::Off);
        assert_eq!(args.limit_window_scale, 0.1);
        assert_eq!(args.latency, Duration::from_millis(150));
        assert!(args.no_record);
        assert_eq!(args.openapi, Some(PathBuf::from("spec.yml")));
        let defaults = Args::try_parse_from(["clerk-emulator"]).unwrap();
        assert_eq!(
            (
                defaults.limits,
                defaults.limit_window_scale,
                defaults.latency
            ),
            (Limits::Clerk, 1.0, Duration::ZERO)
        );
        assert!(!defaults.no_record);
        assert!(Args::try_parse_from(["clerk-emulator", "--latency", "fast"]).is_err());
    }
}
