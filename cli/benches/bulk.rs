//! Bulk work at Clerk's scale, against the emulator with Clerk's production limits and a real
//! round trip (figures, not assertions):
//!
//! - **concurrent**: one Lua script lists every user with `each.list_users` and updates each
//!   one's metadata with `parallel.map` (concurrency 32), paced under the production tier;
//! - **sequential**: the same updates, one at a time, in a plain `for` loop;
//! - **iterate**: a script walks 50,000 users with `each.list_users`: peak RSS of `kosmo`;
//! - **export**: `kosmo integrations:export clerk.list_users` of 50,000 users to JSON Lines:
//!   time and peak RSS.
//!
//! The emulator's windows and the pacer's are scaled alike (`--scale`, 0.6 by default: 1,000
//! requests per 6 s), so that the full run of 10,000 updates takes about a minute. The report
//! gives the updates' throughput as a share of the limit, and the 429s the emulator sent.
//!
//! `cargo bench -p kosmo-cli --bench bulk [-- --users N --sequential N --scale F --latency-ms M
//! --concurrency C --export-users N]`; CI runs `-- --short`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clerk_emulator::{ClerkLimits, Config, Emulator};

/// A production key: the emulator and the pacer both choose the production tier by its prefix.
const LIVE_KEY: &str = "sk_live_bench_emulator_only_000000000000";

struct Options {
    users: usize,
    sequential: usize,
    scale: f64,
    latency: Duration,
    concurrency: usize,
    export_users: usize,
}

fn main() {
    let mut options = Options {
        users: 10_000,
        sequential: 10_000,
        scale: 0.6,
        latency: Duration::from_millis(150),
        concurrency: 32,
        export_users: 50_000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().and_then(|v| v.parse::<f64>().ok());
        match arg.as_str() {
            "--users" => options.users = value().map_or(options.users, |v| v as usize),
            "--sequential" => {
                options.sequential = value().map_or(options.sequential, |v| v as usize);
            }
            "--scale" => options.scale = value().unwrap_or(options.scale),
            "--latency-ms" => {
                options.latency =
                    value().map_or(options.latency, |v| Duration::from_secs_f64(v / 1000.0));
            }
            "--concurrency" => {
                options.concurrency = value().map_or(options.concurrency, |v| v as usize);
            }
            "--export-users" => {
                options.export_users = value().map_or(options.export_users, |v| v as usize);
            }
            // The CI run: the same measurements, smaller.
            "--short" => {
                options.users = 2_000;
                options.sequential = 200;
            }
            // `cargo test --benches` passes `--test`: nothing to measure then.
            "--test" => return,
            _ => {}
        }
    }
    let limit_per_second = 1000.0 / (10.0 * options.scale);
    println!(
        "bulk: {} users, production limits scaled by {} ({limit_per_second:.0} requests/s), latency {} ms, concurrency {}",
        options.users,
        options.scale,
        options.latency.as_millis(),
        options.concurrency
    );

    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".kosmo")).unwrap();
    std::fs::write(
        home.path().join(".kosmo/integrations.json"),
        serde_json::to_string(&serde_json::json!({
            "pacing": { "window_scale": options.scale }
        }))
        .unwrap(),
    )
    .unwrap();

    // --- concurrent and sequential updates -------------------------------------------------
    let emulator = Emulator::spawn(Config {
        secret_key: LIVE_KEY.to_string(),
        seed_users: options.users,
        latency: options.latency,
        record_requests: false,
        limits: ClerkLimits::scaled(options.scale),
        ..Config::default()
    })
    .unwrap();
    let listing = run_lua(
        home.path(),
        &emulator,
        "local n = 0 for _ in app.integrations.clerk.each.list_users({}) do n = n + 1 end print(n)",
    );
    let concurrent = run_lua(
        home.path(),
        &emulator,
        &format!(
            r#"local clerk = app.integrations.clerk
            local ids = {{}}
            for user in clerk.each.list_users({{}}) do ids[#ids + 1] = user.id end
            local _, failures = parallel.map(ids, function(id, i)
              return clerk.update_user_metadata({{ user_id = id, public_metadata = {{ bench = i }} }}).id
            end, {{ concurrency = {} }})
            print(#ids, #failures)"#,
            options.concurrency
        ),
    );
    assert_eq!(
        concurrent.output.trim(),
        format!("{}\t0", options.users),
        "every update succeeded"
    );
    let stats_after_concurrent = emulator.stats();
    let update_time = concurrent.wall.saturating_sub(listing.wall);
    let throughput = options.users as f64 / update_time.as_secs_f64();
    println!(
        "  list {} users: {:.2} s ({} pages)",
        options.users,
        listing.wall.as_secs_f64(),
        options.users / 500 + 1
    );
    println!(
        "  concurrent: {} updates in {:.1} s (whole script {:.1} s): {throughput:.1} updates/s = {:.1} % of the limit; 429s sent by the emulator: {}; peak RSS {:.1} MB",
        options.users,
        update_time.as_secs_f64(),
        concurrent.wall.as_secs_f64(),
        100.0 * throughput / limit_per_second,
        stats_after_concurrent.clerk_limit_429s,
        concurrent.peak_rss_mb()
    );

    let sequential = run_lua(
        home.path(),
        &emulator,
        &format!(
            r#"local clerk = app.integrations.clerk
            local n = 0
            for user in clerk.each.list_users({{ limit = {page} }}) do
              clerk.update_user_metadata({{ user_id = user.id, public_metadata = {{ sequential = true }} }})
              n = n + 1
              if n == {count} then break end
            end
            print(n)"#,
            page = options.sequential.clamp(1, 500),
            count = options.sequential
        ),
    );
    assert_eq!(sequential.output.trim(), options.sequential.to_string());
    let list_pages = options.sequential.div_ceil(500).max(1) as f64;
    let sequential_updates =
        sequential.wall.as_secs_f64() - list_pages * options.latency.as_secs_f64();
    let sequential_rate = options.sequential as f64 / sequential_updates;
    println!(
        "  sequential: {} updates in {:.1} s: {sequential_rate:.1} updates/s = {:.1} % of the limit; 10,000 would take {:.0} s",
        options.sequential,
        sequential_updates,
        100.0 * sequential_rate / limit_per_second,
        10_000.0 / sequential_rate
    );
    println!(
        "  concurrent / sequential throughput: {:.1}x; 429s sent in all: {}",
        throughput / sequential_rate,
        emulator.stats().clerk_limit_429s
    );
    drop(emulator);

    // --- iterating and exporting 50,000 users -------------------------------------------------
    let seeding = Instant::now();
    let emulator = Emulator::spawn(Config {
        secret_key: LIVE_KEY.to_string(),
        seed_users: options.export_users,
        latency: options.latency,
        record_requests: false,
        limits: ClerkLimits::scaled(options.scale),
        ..Config::default()
    })
    .unwrap();
    println!(
        "  seeded {} users in {:.2} s",
        options.export_users,
        seeding.elapsed().as_secs_f64()
    );
    let iterate = run_lua(
        home.path(),
        &emulator,
        "local n = 0 for user in app.integrations.clerk.each.list_users({}) do n = n + 1 end print(n)",
    );
    assert_eq!(iterate.output.trim(), options.export_users.to_string());
    println!(
        "  iterate {} users from Lua: {:.1} s, peak RSS {:.1} MB",
        options.export_users,
        iterate.wall.as_secs_f64(),
        iterate.peak_rss_mb()
    );
    let file = home.path().join("users.jsonl");
    let export = measure(
        kosmo(home.path(), &emulator)
            .args(["integrations:export", "clerk.list_users", "--output"])
            .arg(&file)
            .arg("--quiet"),
    );
    let lines = std::fs::read_to_string(&file).unwrap().lines().count();
    assert_eq!(lines, options.export_users);
    println!(
        "  export {} users to JSON Lines: {:.1} s, peak RSS {:.1} MB, {:.1} MB written",
        options.export_users,
        export.wall.as_secs_f64(),
        export.peak_rss_mb(),
        std::fs::metadata(&file).unwrap().len() as f64 / 1e6
    );
}

struct Measured {
    wall: Duration,
    peak_rss_kb: u64,
    output: String,
}

impl Measured {
    fn peak_rss_mb(&self) -> f64 {
        self.peak_rss_kb as f64 / 1024.0
    }
}

fn kosmo(home: &Path, emulator: &Emulator) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kosmo"));
    command
        .current_dir(home)
        .env("HOME", home)
        .env("KOSMO_HOME", home.join(".kosmo"))
        .env("CLERK_API_URL", emulator.base_url())
        .env("CLERK_SECRET_KEY", emulator.secret_key())
        .stdin(Stdio::null());
    command
}

fn run_lua(home: &Path, emulator: &Emulator, code: &str) -> Measured {
    measure(
        kosmo(home, emulator)
            .args(["integrations:lua", "--force", "--eval"])
            .arg(code),
    )
}

/// Runs the command to its end, reading its high-water RSS (`VmHWM`) while it runs.
fn measure(command: &mut Command) -> Measured {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).unwrap();
        text
    });
    let status = loop {
        if let Ok(status) = std::fs::read_to_string(&status_file)
            && let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kb);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let wall = started.elapsed();
    let output = reader.join().unwrap();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        std::io::Read::read_to_string(&mut e, &mut stderr).unwrap();
    }
    assert!(status.success(), "{output}\n{stderr}");
    Measured {
        wall,
        peak_rss_kb: peak,
        output,
    }
}
