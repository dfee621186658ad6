//! `cargo xtask bench-gen`: how generation time grows with manifest size.
//!
//! Reports the median wall time of `kosmo_codegen::generate` (parse, validate, model, emit; no
//! file I/O) for the real manifests and for synthetic ones, and the cost per function, so that
//! linear growth shows as a flat per-function figure. Run it on a release build for real numbers:
//! `cargo run --release -p xtask -- bench-gen`.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use kosmo_codegen::SpecFiles;

pub fn run(root: &Path, runs: usize) -> Result<ExitCode> {
    let runs = runs.max(1);
    let real = crate::fs::read_tree(root, "spec")?;
    let target = kosmo_codegen::Target::new("generated", "bench");
    let real_functions = kosmo_codegen::load(&real)
        .map_err(|d| anyhow::anyhow!("{d}"))?
        .iter()
        .map(|p| p.functions.len())
        .sum::<usize>();
    println!(
        "generation benchmark: median of {runs} runs, {} build",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "{:<28} {:>10} {:>12} {:>16}",
        "manifest", "functions", "median ms", "µs per function"
    );
    let mut per_function = Vec::new();
    let cases: Vec<(String, usize, SpecFiles)> = vec![
        ("spec/ (real)".to_string(), real_functions, real),
        ("synthetic, 2 providers".to_string(), 500, synthetic(500)),
        ("synthetic, 20 providers".to_string(), 5000, synthetic(5000)),
    ];
    for (name, functions, files) in cases {
        let median = median_time(runs, || {
            kosmo_codegen::generate(&files, &target)
                .map(|out| out.len())
                .map_err(|e| anyhow::anyhow!("{e}"))
        })?;
        let ms = median.as_secs_f64() * 1e3;
        let us_per = median.as_secs_f64() * 1e6 / functions as f64;
        per_function.push(us_per);
        println!("{name:<28} {functions:>10} {ms:>12.2} {us_per:>16.1}");
    }
    if let [_, small, large] = per_function[..] {
        println!(
            "per-function cost ratio, 5,000 vs 500 functions: {:.2} (1.00 = perfectly linear)",
            large / small
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn median_time(runs: usize, mut work: impl FnMut() -> Result<usize>) -> Result<Duration> {
    work()?; // warm-up: first-run allocation and template compilation are not what we measure
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        std::hint::black_box(work()?);
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}

/// Most functions in one synthetic provider: about Clerk's whole Backend API (249 operations),
/// and what one namespace index holds within its budget. Larger cases are several providers, as a
/// real deployment of that size would be.
const FUNCTIONS_PER_PROVIDER: usize = 250;

/// Manifests of `n` functions in all, shaped like real ones (a path parameter, query bounds, an
/// enum, body fields, and an example each), split into providers of at most
/// [`FUNCTIONS_PER_PROVIDER`] functions.
pub fn synthetic(n: usize) -> SpecFiles {
    let mut files = SpecFiles::new();
    let mut start = 0;
    let mut index = 0;
    while start < n {
        let end = (start + FUNCTIONS_PER_PROVIDER).min(n);
        files.insert(
            format!("spec/synth{index}.yaml"),
            synthetic_provider(&format!("synth{index}"), start..end),
        );
        start = end;
        index += 1;
    }
    files
}

fn synthetic_provider(name: &str, functions: std::ops::Range<usize>) -> String {
    let mut yaml = format!(
        "provider:\n  name: {name}\n  label: Synthetic\n  description: A generated provider for benchmarks.\n  category: test\n  docs_url: https://example.test/docs\n  base_url: https://api.example.test/v1\n  auth: {{ scheme: bearer, credential: token }}\n  credentials:\n    token: {{ description: API token., required: true, secret: true }}\nfunctions:\n",
    );
    for i in functions {
        let (method, operation, location) = if i % 2 == 0 {
            ("GET", "read", "query")
        } else {
            ("POST", "write", "body")
        };
        yaml.push_str(&format!(
            r#"  - name: fn_{i}
    slug: {name}_fn_{i}
    title: Function {i}
    group: group_{g}
    summary: Does thing number {i}.
    description: A synthetic function used to measure generation cost.
    operation: {operation}
    http: {{ method: {method}, path: "/things/{{thing_id}}/items_{i}" }}
    params:
      thing_id: {{ in: path, type: string, required: true, description: Thing ID., example: thing_1 }}
      limit: {{ in: {location}, type: integer, minimum: 1, maximum: 500, default: 10, description: Page size., example: 20 }}
      status: {{ in: {location}, type: string, enum: [active, ended], description: Status filter., example: active }}
      tags: {{ in: {location}, type: "array<string>", max_items: 100, description: Tags., example: [a, b] }}
    examples:
      - title: Call it
        lua: |
          local result = app.integrations.{name}.fn_{i}({{ thing_id = "thing_1", limit = 20 }})
          print(result)
"#,
            g = i % 10
        ));
    }
    yaml
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CI runs `bench-gen`; a synthetic case the generator refuses (a namespace index over its
    /// budget, say) would fail CI only at the very end.
    #[test]
    fn synthetic_manifests_split_into_providers_that_generate() {
        let files = synthetic(FUNCTIONS_PER_PROVIDER * 2 + 7);
        let providers = kosmo_codegen::load(&files).unwrap();
        let sizes: Vec<usize> = providers.iter().map(|p| p.functions.len()).collect();
        assert_eq!(sizes, [FUNCTIONS_PER_PROVIDER, FUNCTIONS_PER_PROVIDER, 7]);
        let target = kosmo_codegen::Target::new("generated", "bench");
        kosmo_codegen::generate(&files, &target).unwrap();
    }
}
