//! Finding and parsing Clerk's OpenAPI spec for tests: `$CLERK_OPENAPI_SPEC`, else
//! `../shared/clerk/bapi-openapi.yml` beside the workspace this crate was built in. The spec is
//! not part of the repository, so every caller must cope with its absence.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use kosmo_codegen::openapi::Document;

/// The last spec parsed, by path: parsing it takes a moment, and test suites start many
/// emulators in one process.
static PARSED: Mutex<Option<(PathBuf, Arc<Document>)>> = Mutex::new(None);

/// Where the spec is looked for: `$CLERK_OPENAPI_SPEC` when set, else
/// `<workspace root>/../shared/clerk/bapi-openapi.yml` (the root is two levels above this
/// crate, `tests/emulator`).
pub fn openapi_spec_path() -> PathBuf {
    match std::env::var_os("CLERK_OPENAPI_SPEC").filter(|path| !path.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/clerk/bapi-openapi.yml")
        }
    }
}

/// The spec at [`openapi_spec_path`], parsed (once per process and path): `Ok(None)` when no
/// file is there, an error when it cannot be read or parsed.
pub fn load_openapi_spec() -> Result<Option<Arc<Document>>, String> {
    let path = openapi_spec_path();
    let mut parsed = PARSED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((cached, document)) = parsed.as_ref()
        && *cached == path
    {
        return Ok(Some(Arc::clone(document)));
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
    };
    let document = Document::parse(&text)
        .map(Arc::new)
        .map_err(|error| format!("{} is not an OpenAPI document: {error}", path.display()))?;
    *parsed = Some((path, Arc::clone(&document)));
    Ok(Some(document))
}
