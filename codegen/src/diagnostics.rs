//! Errors found in spec files, each with the file, line and column it is about.

use std::fmt;

use serde_saphyr::{Location, Spanned};

/// One problem in a spec file. Displays as `file:line:column: message`, the form editors link.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Every problem found, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Collects diagnostics for one file, or for a manifest and its family files: locations are
/// reported in the file selected last with [`Reporter::in_file`].
pub(crate) struct Reporter<'a> {
    files: Vec<&'a str>,
    current: usize,
    found: Vec<Diagnostic>,
}

impl<'a> Reporter<'a> {
    pub(crate) fn new(file: &'a str) -> Self {
        Reporter::for_files(vec![file])
    }

    /// A reporter over several files; the first is selected.
    pub(crate) fn for_files(files: Vec<&'a str>) -> Self {
        Reporter {
            files,
            current: 0,
            found: Vec::new(),
        }
    }

    /// Selects the file (by index into the list given at creation) later locations are in.
    pub(crate) fn in_file(&mut self, index: usize) {
        if index < self.files.len() {
            self.current = index;
        }
    }

    /// The selected file.
    pub(crate) fn file(&self) -> &'a str {
        self.files.get(self.current).copied().unwrap_or_default()
    }

    pub(crate) fn at(&mut self, location: Location, message: impl Into<String>) {
        self.at_line(location.line(), location.column(), message);
    }

    pub(crate) fn on<T>(&mut self, spanned: &Spanned<T>, message: impl Into<String>) {
        self.at(spanned.referenced, message);
    }

    pub(crate) fn at_line(&mut self, line: u64, column: u64, message: impl Into<String>) {
        self.found.push(Diagnostic {
            file: self.file().to_string(),
            line,
            column,
            message: message.into(),
        });
    }

    pub(crate) fn finish(mut self) -> Result<(), Diagnostics> {
        if self.found.is_empty() {
            return Ok(());
        }
        self.found.sort();
        self.found.dedup();
        Err(Diagnostics(self.found))
    }
}
