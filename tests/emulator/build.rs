//! Lists the route tables of the stateful handler modules for `src/handlers/mod.rs`: every
//! `src/handlers/<name>.rs` other than `mod.rs` is a handler module with a `ROUTES` table. The
//! modules are declared in `mod.rs` as usual (one `mod` line each, which rustfmt and IDEs
//! follow); only the list of tables is generated, so adding a module needs no second edit.

use std::fmt::Write as _;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let handlers = Path::new("src/handlers");
    println!("cargo::rerun-if-changed={}", handlers.display());
    let mut modules = Vec::new();
    for entry in std::fs::read_dir(handlers)? {
        let path = entry?.path();
        let is_rust = path.extension().is_some_and(|extension| extension == "rs");
        match path.file_stem().and_then(|stem| stem.to_str()) {
            Some(stem) if is_rust && stem != "mod" => modules.push(stem.to_string()),
            _ => {}
        }
    }
    modules.sort();
    let mut tables = String::from("&[\n");
    for module in &modules {
        writeln!(tables, "    {module}::ROUTES,")?;
    }
    tables.push(']');
    let out_dir = std::env::var("OUT_DIR")?;
    std::fs::write(Path::new(&out_dir).join("route_tables.rs"), tables)?;
    Ok(())
}
