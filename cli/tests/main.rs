//! The `kosmo` CLI's tests: one module per file beside this one, all in one binary, so the host,
//! the integrations and the gateway are linked once rather than once per file.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

mod bulk;
mod commands;
mod doc_examples;
mod emulator_e2e;
mod gateway;
mod mcp_commands;
mod one_text;
mod sandbox;
