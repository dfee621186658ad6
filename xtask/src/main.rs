//! `cargo xtask`: the maintainers' front-end to the generator. It only reads and writes files;
//! all the work is in `kosmo-codegen`.

mod bench;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use xtask::{fs, generate_all};

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Generator tasks for the integration workspace"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile spec/*.yaml into generated/ (Rust, Lua registration, docs, catalog, schema).
    Gen {
        /// Write nothing; fail with a diff if generated/ is stale, missing or has extra files.
        #[arg(long)]
        check: bool,
    },
    /// Check every manifest against a provider's OpenAPI document and list each mismatch.
    CheckOpenapi {
        /// Path to the provider's OpenAPI YAML or JSON file.
        path: PathBuf,
        /// Only check this provider (by manifest name); default: the only manifest.
        #[arg(long)]
        provider: Option<String>,
    },
    /// Draft manifest entries for operations of an OpenAPI document, appended to the family
    /// files spec/<provider>/<family>.yaml; operations the manifest has are compared instead.
    ImportOpenapi {
        /// Path to the OpenAPI YAML or JSON file.
        spec: PathBuf,
        /// An operationId to import (repeat the flag or separate with commas).
        #[arg(long = "operation", value_name = "ID", value_delimiter = ',')]
        operations: Vec<String>,
        /// Import every operation with this tag (repeat the flag or separate with commas).
        #[arg(long = "tag", value_name = "TAG", value_delimiter = ',')]
        tags: Vec<String>,
        /// The provider (by manifest name); default: the only manifest.
        #[arg(long)]
        provider: Option<String>,
        /// Put every entry in this family instead of the one its first tag suggests.
        #[arg(long)]
        family: Option<String>,
        /// Write nothing; print what would be written.
        #[arg(long)]
        dry_run: bool,
    },
    /// Render the static doc site (HTML, search, local CSS and JS) from the manifests in spec/.
    Site {
        /// Output folder, replaced entirely (default: <repo>/site).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Benchmark generation alone on the real manifests and on synthetic ones of 500 and 5,000 functions.
    BenchGen {
        /// Timed runs per size (the median is reported).
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let root = fs::repo_root();
    match cli.command {
        Command::Gen { check } => generate(&root, check),
        Command::CheckOpenapi { path, provider } => {
            check_openapi(&root, &path, provider.as_deref())
        }
        Command::ImportOpenapi {
            spec,
            operations,
            tags,
            provider,
            family,
            dry_run,
        } => {
            let request = kosmo_codegen::openapi::Request {
                operations,
                tags,
                family,
            };
            import_openapi(&root, &spec, &request, provider.as_deref(), dry_run)
        }
        Command::Site { out } => {
            let out = out.unwrap_or_else(|| root.join("site"));
            let index = xtask::build_site(&root, &out)?;
            println!("{}", index.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchGen { runs } => bench::run(&root, runs),
    }
}

fn generate(root: &std::path::Path, check: bool) -> Result<ExitCode> {
    // Generate everything first, so a manifest error writes nothing at all.
    let outputs = match generate_all(root)? {
        Ok(outputs) => outputs,
        Err(error) => {
            eprintln!("{error}");
            eprintln!(
                "\ncargo xtask gen: found the errors above (in the manifests, guides or README examples); nothing was written."
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut stale = 0;
    for output in &outputs {
        stale += output.drifts.len();
        if check {
            if !output.drifts.is_empty() {
                eprint!("{}", kosmo_codegen::drift::report(&output.drifts));
            }
        } else {
            fs::apply(root, &output.files, &output.drifts)?;
            println!(
                "{}/: {} files, {} changed.",
                output.root,
                output.files.len(),
                output.drifts.len()
            );
        }
    }
    if check {
        if stale > 0 {
            return Ok(ExitCode::FAILURE);
        }
        println!("generated files are up to date.");
    }
    Ok(ExitCode::SUCCESS)
}

fn check_openapi(
    root: &std::path::Path,
    path: &std::path::Path,
    only: Option<&str>,
) -> Result<ExitCode> {
    let spec = fs::read_tree(root, "spec")?;
    let providers = match kosmo_codegen::load(&spec) {
        Ok(p) => p,
        Err(d) => {
            eprintln!("{d}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let document = kosmo_codegen::openapi::Document::parse(&text)
        .map_err(|e| anyhow::anyhow!("{} is not valid YAML/JSON: {e}", path.display()))?;
    let selected: Vec<_> = match only {
        Some(name) => providers.iter().filter(|p| p.name == name).collect(),
        None if providers.len() == 1 => providers.iter().collect(),
        None => anyhow::bail!("several manifests; choose one with --provider NAME"),
    };
    anyhow::ensure!(!selected.is_empty(), "no manifest named {only:?}");
    let mut failed = false;
    for provider in selected {
        let report = kosmo_codegen::openapi::check(provider, &document);
        for mismatch in &report.mismatches {
            println!("{mismatch}");
        }
        println!(
            "{}: checked {} functions ({} skipped: {}) and {} parameters against {}: {} mismatch(es).",
            provider.name,
            report.functions_checked,
            report.skipped.len(),
            report.skipped.join(", "),
            report.params_checked,
            path.display(),
            report.mismatches.len()
        );
        failed |= !report.mismatches.is_empty();
        if let Some(coverage) = &report.coverage {
            for operation in &coverage.uncovered {
                println!(
                    "not covered: {operation}: add a function or list it under excluded_operations with the reason"
                );
            }
            for stale in &coverage.stale_exclusions {
                println!("stale exclusion: {stale}");
            }
            println!(
                "{}: {} operations in the document: {} covered by functions, {} excluded, {} neither.",
                provider.name,
                coverage.operations,
                coverage.covered,
                coverage.excluded.len(),
                coverage.uncovered.len()
            );
            failed |= !coverage.is_complete();
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn import_openapi(
    root: &std::path::Path,
    spec: &std::path::Path,
    request: &kosmo_codegen::openapi::Request,
    provider: Option<&str>,
    dry_run: bool,
) -> Result<ExitCode> {
    let plan = xtask::import::plan(root, spec, request, provider)?;
    for line in &plan.report {
        println!("{line}");
    }
    for write in &plan.writes {
        if dry_run {
            let (action, text) = if write.created {
                ("would be created", &write.contents)
            } else {
                ("would get these entries appended", &write.appended)
            };
            print!("\n--- {} {action} ---\n{text}", write.path);
        } else {
            fs::write_file(root, &write.path, &write.contents)?;
        }
    }
    for change in &plan.changes {
        println!("\n{change}");
    }
    if dry_run {
        println!("\ndry run: nothing was written.");
    }
    Ok(ExitCode::SUCCESS)
}
