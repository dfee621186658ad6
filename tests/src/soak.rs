//! The soak: one Lua workflow makes thousands of mixed calls through the host, with
//! `parallel.map` and pacing, against the emulator injecting every kind of fault it offers at
//! random from a seed; then the emulator's data is checked against the script's log.
//!
//! Each unit of work makes ten calls: two users (`create_user`), a metadata update, an
//! organization, a membership, a page of users, a user read, an organization metadata update,
//! the organization's memberships, and the deletion of the second user. A call whose input an
//! earlier failure took away is replaced by a read, so a unit always makes ten calls.
//!
//! Invariants, each counted in the report:
//! - **not doubled**: no user external ID, organization name or membership exists twice;
//! - **done is there**: every write the script counted as done is in the data (a user or
//!   membership deleted afterwards by the script excepted), metadata included;
//! - **failures are errors**: every failed call surfaced as a Lua error table with `kind` and
//!   `message` (and `status` for an API error);
//! - **a retry's 404 explained**: a delete of a user the script made that found nothing (its
//!   earlier attempt was applied, then failed) carries `earlier_attempt`;
//! - **in time**: no call took longer than its time budget (retry budget, one attempt's
//!   timeout and the longest pacing wait);
//! - **no secret**: the secret key (a canary made from the seed) is in no output, error, log
//!   line, call record or result.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use clerk_emulator::{Chaos, ChaosReport, ClerkLimits, Config, Emulator};
use kosmo_host::{CredentialMap, Host, HttpTransports, Limits, RunOptions, RunReport};
use kosmo_runtime::{HttpConfig, PacingConfig, RetryPolicy};
use serde_json::Value;

/// How a soak runs.
#[derive(Debug, Clone)]
pub struct SoakConfig {
    /// Calls in all; rounded up to whole units of ten.
    pub calls: usize,
    /// Seeds the faults (and names the canary key).
    pub seed: u64,
    /// Faults per request, 0 to 1.
    pub fault_rate: f64,
    /// `parallel.map`'s concurrency.
    pub concurrency: usize,
}

impl Default for SoakConfig {
    fn default() -> Self {
        SoakConfig {
            calls: 10_000,
            seed: 1,
            fault_rate: 0.01,
            concurrency: 8,
        }
    }
}

/// What a soak did and checked.
#[derive(Debug, Clone)]
pub struct SoakReport {
    pub seed: u64,
    /// Integration calls the script made.
    pub calls: usize,
    /// Of those, the ones that failed (each with its error).
    pub failed_calls: usize,
    /// The failed calls, by function and error (`create_user: api 500`).
    pub failures: BTreeMap<String, usize>,
    /// Writes the script counted as done, and as failed.
    pub writes_done: usize,
    pub writes_failed: usize,
    /// HTTP requests the emulator received: calls, plus retries and pages.
    pub requests: u64,
    pub faults: ChaosReport,
    /// Checks made, by invariant.
    pub checks: BTreeMap<&'static str, usize>,
    /// Every broken invariant, one line each; empty when the soak passed.
    pub violations: Vec<String>,
    pub slowest_call: Duration,
    pub call_budget: Duration,
    pub elapsed: Duration,
}

impl SoakReport {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

impl std::fmt::Display for SoakReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "soak, seed {}: {} calls ({} failed) in {:.1} s, {} HTTP requests ({} retries and pages)",
            self.seed,
            self.calls,
            self.failed_calls,
            self.elapsed.as_secs_f64(),
            self.requests,
            self.requests.saturating_sub(self.calls as u64),
        )?;
        writeln!(
            f,
            "writes: {} done, {} failed",
            self.writes_done, self.writes_failed
        )?;
        for (failure, count) in &self.failures {
            writeln!(f, "  failed: {failure:<40} {count}")?;
        }
        writeln!(
            f,
            "faults injected: {} of {} requests",
            self.faults.total(),
            self.faults.requests
        )?;
        for (kind, count) in &self.faults.faults {
            writeln!(f, "  {kind:<32} {count}")?;
        }
        writeln!(f, "invariants checked:")?;
        for (invariant, count) in &self.checks {
            writeln!(f, "  {invariant:<32} {count}")?;
        }
        writeln!(
            f,
            "slowest call: {} ms (budget {} ms)",
            self.slowest_call.as_millis(),
            self.call_budget.as_millis()
        )?;
        if self.violations.is_empty() {
            write!(f, "every invariant held")
        } else {
            write!(f, "VIOLATIONS:\n  {}", self.violations.join("\n  "))
        }
    }
}

/// The secret key of a soak: a canary that no output may show.
pub fn canary_key(seed: u64) -> String {
    format!("sk_test_soakcanary{seed:016x}")
}

/// Retries and timeouts of the soak's client: production's shape, with short waits.
fn http_config() -> HttpConfig {
    HttpConfig {
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(2),
        retry: RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(2),
            budget: Duration::from_secs(6),
        },
        user_agent: kosmo_runtime::http::DEFAULT_USER_AGENT.to_string(),
        pacing: PacingConfig {
            window_scale: WINDOW_SCALE,
            max_wait: Duration::from_secs(2),
            ..PacingConfig::default()
        },
    }
}

/// Clerk's windows, shrunk alike in the emulator and the pacer: 100 requests per 10 s become
/// 100 per 20 ms, so pacing and the emulator's limits both work without a soak taking hours.
const WINDOW_SCALE: f64 = 0.002;

/// The workflow: `units` units of ten calls, `concurrency` at a time. It returns one log entry
/// per call: `{op, key, ok, id?, kind?, status?, code?, message?, earlier_attempt?}`.
fn workflow(units: usize, concurrency: usize) -> String {
    format!(
        r#"local clerk = app.integrations.clerk
local function try(log, op, key, fn, args)
  local ok, res = pcall(fn, args)
  local entry = {{ op = op, key = key, ok = ok }}
  if ok then
    if type(res) == "table" then entry.id = res.id end
  elseif type(res) == "table" then
    entry.kind, entry.status, entry.code, entry.message = res.kind, res.status, res.code, res.message
    entry.earlier_attempt = res.earlier_attempt
  else
    entry.kind, entry.message = "not_a_table", tostring(res)
  end
  log[#log + 1] = entry
  if ok then return res end
  return nil
end
local function read(log)
  try(log, "list_users", "", clerk.list_users, {{ limit = 5 }})
end
local units = {{}}
for i = 1, {units} do units[i] = i end
local results, failures = parallel.map(units, function(i)
  local log = {{}}
  local a = try(log, "create_user", "soak-a-" .. i, clerk.create_user,
    {{ external_id = "soak-a-" .. i, email_address = {{ "soak-a-" .. i .. "@example.test" }} }})
  local b = try(log, "create_user", "soak-b-" .. i, clerk.create_user,
    {{ external_id = "soak-b-" .. i, email_address = {{ "soak-b-" .. i .. "@example.test" }} }})
  if a then
    try(log, "update_user_metadata", "soak-a-" .. i, clerk.update_user_metadata,
      {{ user_id = a.id, public_metadata = {{ soak_unit = i }} }})
  else read(log) end
  local org_args = {{ name = "soak-org-" .. i }}
  if a then org_args.created_by = a.id end
  local org = try(log, "create_organization", "soak-org-" .. i, clerk.create_organization, org_args)
  if org and b then
    try(log, "create_organization_membership", "soak-org-" .. i .. "/soak-b-" .. i,
      clerk.create_organization_membership, {{ organization_id = org.id, user_id = b.id, role = "org:member" }})
  else read(log) end
  read(log)
  if b then try(log, "get_user", "soak-b-" .. i, clerk.get_user, {{ id = b.id }}) else read(log) end
  if org then
    try(log, "update_organization_metadata", "soak-org-" .. i, clerk.update_organization_metadata,
      {{ organization_id = org.id, public_metadata = {{ soak_unit = i }} }})
    try(log, "list_organization_memberships", "soak-org-" .. i, clerk.list_organization_memberships,
      {{ organization_id = org.id }})
  else read(log); read(log) end
  if b then try(log, "delete_user", "soak-b-" .. i, clerk.delete_user, {{ id = b.id }}) else read(log) end
  return log
end, {{ concurrency = {concurrency} }})
local log = {{}}
for _, unit in ipairs(results) do
  for _, entry in ipairs(unit) do log[#log + 1] = entry end
end
return log, #failures
"#
    )
}

/// What the data holds after the run, read back without faults.
const INVENTORY: &str = r#"local clerk = app.integrations.clerk
local users, orgs, members = {}, {}, {}
for user in clerk.each.list_users({}) do
  users[#users + 1] = { id = user.id, external_id = user.external_id, public_metadata = user.public_metadata }
end
for org in clerk.each.list_organizations({}) do
  orgs[#orgs + 1] = { id = org.id, name = org.name, public_metadata = org.public_metadata }
  for m in clerk.each.list_organization_memberships({ organization_id = org.id }) do
    members[#members + 1] = { org = org.name, user = m.public_user_data and m.public_user_data.user_id }
  end
end
return users, orgs, members
"#;

/// Writes tracing output into a buffer, for the canary check.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut lines) = self.0.lock() {
            lines.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of the process (every thread's, the host's and the client's), from the first
/// soak on. A process that set its own global subscriber before keeps it: then only the lines
/// already captured are checked.
fn captured_logs() -> Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        logs
    })
    .clone()
}

/// Runs a soak. The `Err` is a failure to run at all (the emulator did not start, say); broken
/// invariants are in the report's `violations`.
pub async fn run(config: &SoakConfig) -> Result<SoakReport, String> {
    let started = Instant::now();
    let key = canary_key(config.seed);
    let logs = captured_logs();
    if let Ok(mut lines) = logs.0.lock() {
        lines.clear();
    }

    let limits = ClerkLimits::scaled(WINDOW_SCALE);
    let emulator = Emulator::start(Config {
        secret_key: key.clone(),
        limits,
        record_requests: false,
        chaos: Some(Chaos {
            seed: config.seed,
            rate: config.fault_rate,
        }),
        ..crate::emulator_config()
    })
    .await
    .map_err(|e| format!("emulator: {e}"))?;
    let http = http_config();
    let call_budget = http.retry.budget + http.timeout + http.pacing.max_wait;
    let host = Host::builder()
        .integrations(&kosmo_integrations::INTEGRATIONS)
        .credentials(CredentialMap::new().with(
            "clerk",
            "default",
            crate::credentials_for(&emulator),
        ))
        .transports(HttpTransports::new(http))
        .build()
        .map_err(|e| format!("host: {e}"))?;
    let options = || RunOptions {
        name: "soak.lua".into(),
        force: true,
        // Thousands of calls and their log: more time and memory than a default run gets.
        limits: Some(Limits {
            memory: 512 * 1024 * 1024,
            cpu: Duration::from_secs(600),
            ..Limits::default()
        }),
        ..RunOptions::default()
    };

    let units = config.calls.div_ceil(10).max(1);
    let run = host
        .run(&workflow(units, config.concurrency.max(1)), options())
        .await;
    let faults = emulator
        .chaos_report()
        .ok_or("the emulator ran without chaos")?;
    let requests = emulator.stats().requests;
    emulator.set_chaos(None);
    let inventory = host.run(INVENTORY, options()).await;

    let mut check = Checks::default();
    check.secret_absent(&key, &run, &inventory, &logs);
    let log = match (&run.error, run.result.as_ref().and_then(|r| r.first())) {
        (None, Some(Value::Array(log))) => log.clone(),
        _ => {
            check.violation(format!("the workflow did not finish: {:?}", run.error));
            Vec::new()
        }
    };
    if let Some(failures) = run.result.as_ref().and_then(|r| r.get(1))
        && failures != &Value::from(0)
    {
        check.violation(format!(
            "{failures} units raised instead of logging their errors"
        ));
    }
    match inventory.result.as_deref() {
        Some([users, orgs, members]) if inventory.error.is_none() => {
            check.against_data(&log, users, orgs, members);
        }
        _ => check.violation(format!(
            "the data could not be read back: {:?}",
            inventory.error
        )),
    }
    check.errors_have_fields(&log);
    let slowest_call = run
        .calls
        .iter()
        .map(|c| c.duration)
        .max()
        .unwrap_or_default();
    check.in_time(&run, call_budget);
    if run.calls.len() != log.len() {
        check.violation(format!(
            "the host recorded {} calls but the script logged {}",
            run.calls.len(),
            log.len()
        ));
    }
    emulator.shutdown().await;

    let writes = log.iter().filter(|e| is_write(e));
    let (done, failed): (Vec<_>, Vec<_>) = writes.partition(|e| e["ok"] == true);
    Ok(SoakReport {
        seed: config.seed,
        calls: log.len(),
        failed_calls: log.iter().filter(|e| e["ok"] != true).count(),
        failures: failure_breakdown(&log),
        writes_done: done.len(),
        writes_failed: failed.len(),
        requests,
        faults,
        checks: check.counts,
        violations: check.violations,
        slowest_call,
        call_budget,
        elapsed: started.elapsed(),
    })
}

fn failure_breakdown(log: &[Value]) -> BTreeMap<String, usize> {
    let mut failures = BTreeMap::new();
    for entry in log.iter().filter(|e| e["ok"] != true) {
        let text = |key: &str| entry[key].as_str().map(str::to_string);
        let what = [
            text("op"),
            text("kind"),
            entry["status"].as_u64().map(|s| s.to_string()),
            text("code"),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        *failures.entry(what).or_default() += 1;
    }
    failures
}

fn is_write(entry: &Value) -> bool {
    !matches!(
        entry["op"].as_str(),
        Some("list_users" | "get_user" | "list_organization_memberships")
    )
}

#[derive(Default)]
struct Checks {
    counts: BTreeMap<&'static str, usize>,
    violations: Vec<String>,
}

impl Checks {
    fn checked(&mut self, invariant: &'static str) {
        *self.counts.entry(invariant).or_default() += 1;
    }

    fn violation(&mut self, line: String) {
        self.violations.push(line);
    }

    fn expect(&mut self, invariant: &'static str, holds: bool, line: impl FnOnce() -> String) {
        self.checked(invariant);
        if !holds {
            self.violations.push(format!("{invariant}: {}", line()));
        }
    }

    fn secret_absent(
        &mut self,
        key: &str,
        run: &RunReport,
        inventory: &RunReport,
        logs: &Captured,
    ) {
        let mut texts: Vec<(String, String)> = Vec::new();
        for (name, report) in [("workflow", run), ("inventory", inventory)] {
            texts.push((format!("{name} output"), report.output.clone()));
            texts.push((format!("{name} error"), format!("{:?}", report.error)));
            texts.push((format!("{name} result"), format!("{:?}", report.result)));
            texts.push((format!("{name} warnings"), report.warnings.join("\n")));
            for call in &report.calls {
                texts.push((format!("{name} call record"), format!("{call:?}")));
            }
        }
        let logged = logs
            .0
            .lock()
            .map(|l| String::from_utf8_lossy(&l).into_owned())
            .unwrap_or_default();
        texts.push(("log lines".into(), logged));
        for (place, text) in texts {
            self.expect("no secret in any output", !text.contains(key), || {
                format!("the secret key is in the {place}")
            });
        }
    }

    fn against_data(&mut self, log: &[Value], users: &Value, orgs: &Value, members: &Value) {
        let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
        let (users, orgs, members) = (list(users), list(orgs), list(members));
        let mut by_external: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
        for user in &users {
            if let Some(external) = user["external_id"].as_str() {
                by_external.entry(external.into()).or_default().push(user);
            }
        }
        let mut by_name: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
        for org in &orgs {
            if let Some(name) = org["name"].as_str() {
                by_name.entry(name.into()).or_default().push(org);
            }
        }
        let mut memberships: BTreeMap<(String, String), usize> = BTreeMap::new();
        for m in &members {
            if let (Some(org), Some(user)) = (m["org"].as_str(), m["user"].as_str()) {
                *memberships.entry((org.into(), user.into())).or_default() += 1;
            }
        }
        for (external, found) in &by_external {
            self.expect("no write applied twice", found.len() == 1, || {
                format!("{} users with external ID {external}", found.len())
            });
        }
        for (name, found) in &by_name {
            self.expect("no write applied twice", found.len() == 1, || {
                format!("{} organizations named {name}", found.len())
            });
        }
        for ((org, user), count) in &memberships {
            self.expect("no write applied twice", *count == 1, || {
                format!("{count} memberships of {user} in {org}")
            });
        }

        // A delete that failed may still have been applied (a 500 or a dropped connection after
        // applying, then a retry that finds nothing): such a user may be there or not.
        let deleted: BTreeSet<&str> = log
            .iter()
            .filter(|e| e["op"] == "delete_user" && e["ok"] == true)
            .filter_map(|e| e["key"].as_str())
            .collect();
        let maybe_deleted: BTreeSet<&str> = log
            .iter()
            .filter(|e| e["op"] == "delete_user" && e["ok"] != true)
            .filter_map(|e| e["key"].as_str())
            .collect();
        let user_ids: BTreeMap<&str, &str> = log
            .iter()
            .filter(|e| e["op"] == "create_user" && e["ok"] == true)
            .filter_map(|e| Some((e["key"].as_str()?, e["id"].as_str()?)))
            .collect();
        for entry in log.iter().filter(|e| e["ok"] == true) {
            let key = entry["key"].as_str().unwrap_or_default();
            let unit = key.rsplit('-').next().and_then(|n| n.parse::<u64>().ok());
            match entry["op"].as_str().unwrap_or_default() {
                "create_user" if maybe_deleted.contains(key) => {}
                "create_user" => {
                    let present = by_external.contains_key(key);
                    let expected = !deleted.contains(key);
                    self.expect("every write done is there", present == expected, || {
                        format!("user {key}: present {present}, expected {expected}")
                    });
                }
                "delete_user" => {}
                "create_organization" => {
                    self.expect(
                        "every write done is there",
                        by_name.contains_key(key),
                        || format!("organization {key} is missing"),
                    );
                }
                "update_user_metadata" => {
                    let value = by_external
                        .get(key)
                        .and_then(|u| u.first())
                        .map(|u| u["public_metadata"]["soak_unit"].clone());
                    self.expect(
                        "every write done is there",
                        value.as_ref().and_then(Value::as_u64) == unit,
                        || format!("user {key}'s metadata is {value:?}"),
                    );
                }
                "update_organization_metadata" => {
                    let value = by_name
                        .get(key)
                        .and_then(|o| o.first())
                        .map(|o| o["public_metadata"]["soak_unit"].clone());
                    self.expect(
                        "every write done is there",
                        value.as_ref().and_then(Value::as_u64) == unit,
                        || format!("organization {key}'s metadata is {value:?}"),
                    );
                }
                "create_organization_membership" => {
                    let Some((org, user_key)) = key.split_once('/') else {
                        continue;
                    };
                    // Deleting the user (the script's last write) takes the membership away.
                    if deleted.contains(user_key) || maybe_deleted.contains(user_key) {
                        continue;
                    }
                    let user = user_ids.get(user_key).copied().unwrap_or_default();
                    let present = memberships.contains_key(&(org.into(), user.into()));
                    self.expect("every write done is there", present, || {
                        format!("membership of {user_key} in {org} is missing")
                    });
                }
                _ => {}
            }
        }
    }

    fn errors_have_fields(&mut self, log: &[Value]) {
        for entry in log.iter().filter(|e| e["ok"] != true) {
            let kind = entry["kind"].as_str().unwrap_or_default();
            let message = entry["message"].as_str().unwrap_or_default();
            let status_ok = kind != "api" || entry["status"].is_u64();
            self.expect(
                "every failure is a Lua error with its fields",
                !kind.is_empty() && kind != "not_a_table" && !message.is_empty() && status_ok,
                || format!("{entry}"),
            );
            // The script deletes only users it made: a delete that finds nothing answered a
            // retry after an attempt that did it, and must say so.
            if entry["op"] == "delete_user" && entry["status"] == 404 {
                self.expect(
                    "a retry's 404 names the earlier attempt",
                    entry["earlier_attempt"].is_string(),
                    || format!("{entry}"),
                );
            }
        }
    }

    fn in_time(&mut self, run: &RunReport, budget: Duration) {
        for call in &run.calls {
            self.expect(
                "no call past its time budget",
                call.duration <= budget,
                || format!("{} took {} ms", call.function, call.duration.as_millis()),
            );
        }
    }
}
