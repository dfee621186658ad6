//! `integrations:export <provider>.<function>`: every page of a list to JSON Lines or CSV, in a
//! file or on stdout.
//!
//! A file is written as `FILE.partial` beside it, synced, and renamed to `FILE` only once the
//! walk is complete: a failed export leaves the partial file (saying how many items it holds)
//! and never touches `FILE`, so an earlier complete export stays as it was.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kosmo_host::{CallOptions, Pages};
use kosmo_runtime::{FunctionMeta, Total};
use serde_json::{Value, json};

use crate::bulk::{Stop, count, first_page_arguments, json_lines, not_paged, paced};
use crate::call::{arguments, error_message, parse_with, split_target};
use crate::config::Settings;
use crate::lua::milliseconds;
use crate::{EXIT_FAILURE, EXIT_USAGE, print_json};

const SWITCHES: &[&str] = &["overwrite", "quiet", "no-pacing"];
const VALUES: &[&str] = &["format", "output", "columns"];

/// The usage, with the registry's list functions.
pub fn help_text() -> String {
    let example = kosmo_integrations::INTEGRATIONS
        .iter()
        .find_map(|i| {
            i.meta
                .functions
                .iter()
                .find(|f| f.pagination.is_some())
                .map(|f| format!("{}.{}", i.meta.name, f.name))
        })
        .unwrap_or_else(|| "<provider>.<function>".to_string());
    let paged: Vec<String> = kosmo_integrations::INTEGRATIONS
        .iter()
        .flat_map(|i| {
            i.meta
                .functions
                .iter()
                .filter(|f| f.pagination.is_some())
                .map(|f| format!("{}.{}", i.meta.name, f.name))
        })
        .collect();
    format!(
        "Usage: kosmo integrations:export <provider>.<function> [JSON] [--key=value ...] [--format jsonl|csv] [--output FILE|-] [--columns a,b.c] [--overwrite] [--account A] [--force] [--quiet] [--no-pacing] [--json]
Functions that page: {}

Walks every page of a list (limit sets the page size, offset where to start; other arguments
filter as in integrations:call) and writes each item: JSON Lines by default, CSV with
--format csv or an --output ending in .csv.

Options:
  --output FILE    write FILE (through FILE.partial, renamed once complete); `-` or none: stdout
  --overwrite      replace an existing FILE (only once the new export is complete)
  --format F       jsonl (one compact JSON object per line) or csv
  --columns LIST   CSV columns as dotted paths into each item (id,email_addresses.0.email_address);
                   default: the top-level keys of the first page
  --account A      use the named credential account (default: default)
  --force          run even if the read policy says ask or deny
  --dry-run        show the first page's request instead of walking
  --quiet          no progress bar and no summary line
  --no-pacing      send at once instead of waiting for room under the rate limits
  --json           when writing a file, print {{success, items, pages, output, format, duration_ms, paced_ms}}
  -h, --help       print this help
Examples:
  kosmo integrations:export {example} --output items.jsonl
  kosmo integrations:export {example} --output items.csv --columns id,created_at",
        paged.join(", ")
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    JsonLines,
    Csv,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::JsonLines => "jsonl",
            Format::Csv => "csv",
        }
    }
}

pub fn run(args: &[String]) -> anyhow::Result<u8> {
    let help = help_text();
    let parsed = match parse_with(args, SWITCHES, VALUES) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("Error: {message}\n\n{help}");
            return Ok(EXIT_USAGE);
        }
    };
    if parsed.help {
        outln!("{help}");
        return Ok(0);
    }
    let usage = |message: String| {
        eprintln!("Error: {message}\n\n{help}");
        Ok(EXIT_USAGE)
    };
    let Some(target) = &parsed.target else {
        return usage("nothing to export: name a list function as <provider>.<function>".into());
    };
    let Some((integration, function_name)) = split_target(target) else {
        return usage(format!(
            "name the function as <provider>.<function>, not `{target}`"
        ));
    };
    let Some(function) = integration.function(&function_name) else {
        eprintln!(
            "Error: {}",
            integration.meta.unknown_function(&function_name)
        );
        return Ok(EXIT_FAILURE);
    };
    if function.pagination.is_none() {
        return usage(not_paged(integration, function, "integrations:export"));
    }
    let output = match parsed.value("output") {
        None | Some("-") => None,
        Some("") => return usage("--output needs a file name, or `-` for stdout".into()),
        Some(path) => Some(PathBuf::from(path)),
    };
    let format = match parsed.value("format") {
        Some("jsonl") => Format::JsonLines,
        Some("csv") => Format::Csv,
        Some(other) => return usage(format!("--format is jsonl or csv, not `{other}`")),
        None if output
            .as_ref()
            .and_then(|p| p.extension())
            .is_some_and(|e| e.eq_ignore_ascii_case("csv")) =>
        {
            Format::Csv
        }
        None => Format::JsonLines,
    };
    let columns = match parsed.value("columns") {
        None => None,
        Some(_) if format != Format::Csv => {
            return usage("--columns chooses CSV columns; add --format csv".into());
        }
        Some(list) => {
            let columns: Vec<Column> = list
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(Column::parse)
                .collect();
            if columns.is_empty() {
                return usage("--columns needs at least one column".into());
            }
            Some(columns)
        }
    };
    if let Some(path) = &output {
        if path.is_dir() {
            eprintln!("Error: {} is a directory", path.display());
            return Ok(EXIT_FAILURE);
        }
        if path.exists() && !parsed.switch("overwrite") {
            eprintln!(
                "Error: {} exists; pass --overwrite to replace it (it is replaced only once the new export is complete)",
                path.display()
            );
            return Ok(EXIT_FAILURE);
        }
    }
    let args = match arguments(function, &parsed)? {
        Ok(args) => args,
        Err(message) => {
            eprintln!("Error: {message}");
            return Ok(EXIT_USAGE);
        }
    };

    let mut settings = Settings::load()?;
    settings.no_pacing = parsed.switch("no-pacing");
    let settings = Arc::new(settings);
    settings.print_warnings();
    let host = crate::host(settings)?;
    let provider = integration.meta.name;
    let options = CallOptions {
        account: parsed.account.clone(),
        force: parsed.force,
        dry_run: parsed.dry_run,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    if parsed.dry_run {
        let args = first_page_arguments(function, args);
        let outcome =
            runtime.block_on(host.call(provider, function.name, Value::Object(args), options));
        return Ok(match outcome.result {
            Ok(request) => {
                print_json(&request);
                0
            }
            Err(error) => {
                eprintln!("Error: {}", error_message(provider, &error));
                EXIT_FAILURE
            }
        });
    }

    let started = Instant::now();
    let start_offset = function
        .pagination
        .and_then(|p| args.get(p.offset_param))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let mut pages = match host.pages(provider, function.name, Value::Object(args), options) {
        Ok(pages) => pages,
        Err(error) => {
            eprintln!("Error: {}", error_message(provider, &error));
            return Ok(EXIT_FAILURE);
        }
    };
    let mut sink = match &output {
        Some(path) => match Sink::file(path) {
            Ok(sink) => sink,
            Err(error) => {
                eprintln!(
                    "Error: cannot write {}: {error}",
                    partial_path(path).display()
                );
                return Ok(EXIT_FAILURE);
            }
        },
        None => Sink::Stdout,
    };
    let progress = (std::io::stderr().is_terminal() && !parsed.switch("quiet"))
        .then(|| Progress::new(function, start_offset));
    let mut encoder = match format {
        Format::JsonLines => Encoder::JsonLines,
        Format::Csv => Encoder::Csv(CsvState::new(columns)),
    };
    let mut items = 0u64;
    let outcome: Result<(), Stop> = runtime.block_on(async {
        if let Some(progress) = &progress {
            progress.before(&mut pages).await;
        }
        let mut buffer = Vec::new();
        if let Encoder::Csv(csv) = &mut encoder {
            csv.start(&mut buffer)?;
            sink.write_page(&buffer)?;
        }
        loop {
            let page = match pages.next_page().await {
                Ok(Some(page)) => page,
                Ok(None) => return Ok(()),
                Err(error) => return Err(Stop::Call(error)),
            };
            buffer.clear();
            match &mut encoder {
                Encoder::JsonLines => json_lines(&page, &mut buffer)?,
                Encoder::Csv(csv) => csv.page(&page, &mut buffer)?,
            }
            sink.write_page(&buffer)?;
            items += page.len() as u64;
            if let Some(progress) = &progress {
                progress.after(&mut pages, page.len() as u64).await;
            }
        }
    });
    if let Some(progress) = &progress {
        progress.bar.finish_and_clear();
    }
    let report = Report {
        items,
        pages: pages.pages(),
        format,
        duration: started.elapsed(),
        paced: paced(&pages),
        json: parsed.json,
        quiet: parsed.switch("quiet"),
    };
    Ok(match outcome {
        Ok(()) => {
            if let Encoder::Csv(csv) = &encoder
                && let Some(warning) = csv.late_keys_warning()
            {
                eprintln!("{warning}");
            }
            match sink.finish() {
                Ok(()) => report.success(output.as_deref()),
                Err(error) => report.failure(
                    output.as_deref(),
                    &format!("cannot finish the file: {error}"),
                ),
            }
        }
        Err(Stop::Closed) => 0,
        Err(stop) => {
            let message = match &stop {
                Stop::Call(error) => error_message(provider, error),
                Stop::Write(error) => format!("cannot write: {error}"),
                Stop::Closed => String::new(),
            };
            sink.abandon();
            report.failure(output.as_deref(), &message)
        }
    })
}

/// What an export did, for the last lines it prints.
struct Report {
    items: u64,
    pages: u64,
    format: Format,
    duration: Duration,
    paced: Duration,
    json: bool,
    quiet: bool,
}

impl Report {
    fn success(&self, output: Option<&Path>) -> u8 {
        if !self.quiet {
            eprintln!(
                "Exported {} in {} to {} ({:.1} s)",
                count(self.items, "item", "items"),
                count(self.pages, "page", "pages"),
                output.map_or_else(|| "stdout".to_string(), |p| p.display().to_string()),
                self.duration.as_secs_f64()
            );
        }
        if self.json
            && let Some(path) = output
        {
            print_json(&json!({
                "success": true,
                "items": self.items,
                "pages": self.pages,
                "output": path.display().to_string(),
                "format": self.format.name(),
                "duration_ms": milliseconds(self.duration),
                "paced_ms": milliseconds(self.paced),
            }));
        }
        0
    }

    fn failure(&self, output: Option<&Path>, error: &str) -> u8 {
        let written = count(self.items, "item was", "items were");
        match output {
            Some(path) => {
                let partial = partial_path(path);
                eprintln!(
                    "Error: the export failed after {written} written to {}, which is incomplete; {} {}: {error}",
                    partial.display(),
                    path.display(),
                    if path.exists() {
                        "is left as it was"
                    } else {
                        "was not written"
                    }
                );
                if self.json {
                    print_json(&json!({
                        "success": false,
                        "error": error,
                        "items": self.items,
                        "pages": self.pages,
                        "output": path.display().to_string(),
                        "partial": partial.display().to_string(),
                        "format": self.format.name(),
                        "duration_ms": milliseconds(self.duration),
                        "paced_ms": milliseconds(self.paced),
                    }));
                }
            }
            None => {
                eprintln!("Error: the export failed after {written} written to stdout: {error}")
            }
        }
        EXIT_FAILURE
    }
}

/// `FILE.partial`, beside `FILE`.
fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".partial");
    PathBuf::from(name)
}

/// Where the items go.
enum Sink {
    Stdout,
    File {
        writer: BufWriter<File>,
        partial: PathBuf,
        path: PathBuf,
    },
}

impl Sink {
    /// `path.partial`, created or emptied.
    fn file(path: &Path) -> std::io::Result<Sink> {
        let partial = partial_path(path);
        let file = File::create(&partial)?;
        Ok(Sink::File {
            writer: BufWriter::new(file),
            partial,
            path: path.to_path_buf(),
        })
    }

    /// Writes one page's bytes and flushes them.
    fn write_page(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Stdout => {
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(bytes)?;
                stdout.flush()
            }
            Sink::File { writer, .. } => {
                writer.write_all(bytes)?;
                writer.flush()
            }
        }
    }

    /// Syncs the partial file and renames it to its final name.
    fn finish(self) -> std::io::Result<()> {
        let Sink::File {
            writer,
            partial,
            path,
        } = self
        else {
            return Ok(());
        };
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&partial, &path)?;
        sync_dir(&path);
        Ok(())
    }

    /// Keeps what was written of the partial file, on disk.
    fn abandon(self) {
        if let Sink::File { writer, .. } = self
            && let Ok(file) = writer.into_inner()
        {
            let _ = file.sync_all();
        }
    }
}

/// Makes a rename durable: syncs the directory that holds `path` (where that is possible).
fn sync_dir(path: &Path) {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}

enum Encoder {
    JsonLines,
    Csv(CsvState),
}

/// A CSV column: its header and the path into each item (empty: the item itself).
struct Column {
    name: String,
    path: Vec<String>,
}

impl Column {
    /// A dotted path: `public_metadata.plan`, `email_addresses.0.email_address`.
    fn parse(text: &str) -> Column {
        Column {
            name: text.to_string(),
            path: text.split('.').map(str::to_string).collect(),
        }
    }

    /// The cell of `item`: scalars as text, null and missing values empty, objects and arrays
    /// as compact JSON.
    fn cell(&self, item: &Value) -> String {
        let mut value = item;
        for step in &self.path {
            let next = match value {
                Value::Object(map) => map.get(step),
                Value::Array(items) => step.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            match next {
                Some(next) => value = next,
                None => return String::new(),
            }
        }
        match value {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            other => other.to_string(),
        }
    }
}

struct CsvState {
    /// Chosen with `--columns`, or from the first page.
    columns: Option<Vec<Column>>,
    /// Whether the columns came from `--columns` (then no key is reported as left out).
    chosen: bool,
    /// Top-level keys that have a column.
    known: HashSet<String>,
    /// Keys first seen after the header was written, in order.
    late: Vec<String>,
    /// Items that had such keys.
    late_items: u64,
}

impl CsvState {
    fn new(columns: Option<Vec<Column>>) -> Self {
        CsvState {
            chosen: columns.is_some(),
            columns,
            known: HashSet::new(),
            late: Vec::new(),
            late_items: 0,
        }
    }

    /// The header, when the columns are chosen: even an empty export has it.
    fn start(&mut self, buffer: &mut Vec<u8>) -> std::io::Result<()> {
        match &self.columns {
            Some(columns) => write_record(buffer, columns.iter().map(|c| c.name.as_str())),
            None => Ok(()),
        }
    }

    fn page(&mut self, items: &[Value], buffer: &mut Vec<u8>) -> std::io::Result<()> {
        if self.columns.is_none() {
            // The union of the first page's top-level keys, in first-seen order.
            let mut columns = Vec::new();
            for item in items {
                if let Value::Object(map) = item {
                    for key in map.keys() {
                        if self.known.insert(key.clone()) {
                            columns.push(Column {
                                name: key.clone(),
                                path: vec![key.clone()],
                            });
                        }
                    }
                }
            }
            if columns.is_empty() {
                columns.push(Column {
                    name: "value".to_string(),
                    path: Vec::new(),
                });
            }
            write_record(buffer, columns.iter().map(|c| c.name.as_str()))?;
            self.columns = Some(columns);
        } else if !self.chosen {
            for item in items {
                let Value::Object(map) = item else { continue };
                let mut counted = false;
                for key in map.keys() {
                    if !self.known.contains(key) {
                        if !counted {
                            self.late_items += 1;
                            counted = true;
                        }
                        if !self.late.contains(key) {
                            self.late.push(key.clone());
                        }
                    }
                }
            }
        }
        let columns = self.columns.as_deref().unwrap_or_default();
        let mut writer = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(&mut *buffer);
        for item in items {
            writer
                .write_record(columns.iter().map(|c| c.cell(item)))
                .map_err(std::io::Error::other)?;
        }
        writer.flush()
    }

    /// Which keys the header missed, said once at the end.
    fn late_keys_warning(&self) -> Option<String> {
        if self.late.is_empty() {
            return None;
        }
        Some(format!(
            "warning: {} first seen after the CSV header was written {} not in the file ({} had them): {}; choose the columns with --columns, or export JSON Lines",
            count(self.late.len() as u64, "key", "keys"),
            if self.late.len() == 1 { "is" } else { "are" },
            count(self.late_items, "item", "items"),
            self.late.join(", ")
        ))
    }
}

fn write_record<'a>(
    buffer: &mut Vec<u8>,
    fields: impl IntoIterator<Item = &'a str>,
) -> std::io::Result<()> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(&mut *buffer);
    writer.write_record(fields).map_err(std::io::Error::other)?;
    writer.flush()
}

/// The progress bar on a terminal: count, total, rate and time left when the total is known,
/// else a spinner with the count.
struct Progress {
    bar: ProgressBar,
    total: Total,
    /// Items before the starting offset, which a total in the pages counts too.
    offset: u64,
}

impl Progress {
    fn new(function: &FunctionMeta, offset: u64) -> Progress {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} {pos} items, {per_sec} [{elapsed}]")
        {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress {
            bar,
            total: function.pagination.map_or(Total::Unknown, |p| p.total),
            offset,
        }
    }

    /// A total from a counting function is asked for before the first page (one request).
    async fn before(&self, pages: &mut Pages) {
        if matches!(self.total, Total::Function { .. })
            && let Ok(Some(total)) = pages.total().await
        {
            self.show_total(total);
        }
    }

    /// Counts a page; a total in the pages is known after the first.
    async fn after(&self, pages: &mut Pages, items: u64) {
        self.bar.inc(items);
        if self.bar.length().is_none()
            && matches!(self.total, Total::InPage(_))
            && let Ok(Some(total)) = pages.total().await
        {
            self.show_total(total.saturating_sub(self.offset));
        }
    }

    fn show_total(&self, total: u64) {
        self.bar.set_length(total);
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} items, {per_sec}, ETA {eta}",
        ) {
            self.bar.set_style(style);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn csv_of(state: &mut CsvState, pages: &[Vec<Value>]) -> String {
        let mut out = Vec::new();
        state.start(&mut out).unwrap();
        for page in pages {
            state.page(page, &mut out).unwrap();
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_header_is_the_first_pages_keys_and_later_keys_are_counted() {
        let mut state = CsvState::new(None);
        let text = csv_of(
            &mut state,
            &[
                vec![
                    json!({"id": 1, "name": "a"}),
                    json!({"id": 2, "tags": ["x", "y"]}),
                ],
                vec![
                    json!({"id": 3, "extra": {"k": null}, "more": 1}),
                    json!({"id": 4, "extra": true}),
                    json!({"id": 5, "name": null}),
                ],
            ],
        );
        assert_eq!(
            text,
            "id,name,tags\n1,a,\n2,,\"[\"\"x\"\",\"\"y\"\"]\"\n3,,\n4,,\n5,,\n"
        );
        assert_eq!(
            state.late_keys_warning().unwrap(),
            "warning: 2 keys first seen after the CSV header was written are not in the file (2 items had them): extra, more; choose the columns with --columns, or export JSON Lines"
        );
    }

    #[test]
    fn chosen_columns_are_dotted_paths_and_report_nothing_left_out() {
        let mut state = CsvState::new(Some(vec![
            Column::parse("id"),
            Column::parse("emails.1.address"),
            Column::parse("meta.plan"),
            Column::parse("meta"),
        ]));
        let text = csv_of(
            &mut state,
            &[vec![
                json!({"id": "u1", "emails": [{"address": "a"}, {"address": "b,c"}], "meta": {"plan": 3}}),
                json!({"id": "u2", "other": 1}),
            ]],
        );
        assert_eq!(
            text,
            "id,emails.1.address,meta.plan,meta\nu1,\"b,c\",3,\"{\"\"plan\"\":3}\"\nu2,,,\n"
        );
        assert!(state.late_keys_warning().is_none());
        // Even an empty export has the header.
        let mut empty = CsvState::new(Some(vec![Column::parse("id")]));
        assert_eq!(csv_of(&mut empty, &[]), "id\n");
    }

    #[test]
    fn items_that_are_not_objects_get_one_value_column() {
        let mut state = CsvState::new(None);
        assert_eq!(
            csv_of(&mut state, &[vec![json!("a"), json!(2), json!(null)]]),
            "value\na\n2\n\"\"\n"
        );
    }

    #[test]
    fn the_partial_file_sits_beside_the_final_one() {
        assert_eq!(
            partial_path(Path::new("out/users.csv")),
            PathBuf::from("out/users.csv.partial")
        );
    }
}
