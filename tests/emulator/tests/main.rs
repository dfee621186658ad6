//! The emulator's tests: one module per file beside this one, all in one binary, so the
//! emulator and its dependencies are linked once rather than once per file.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

mod allowlist_blocklist_waitlist;
mod conformance;
mod control_and_binary;
mod faults;
mod identifications;
mod images;
mod jwt_templates_domains_redirect_urls;
mod limits;
mod load;
mod mocks;
mod organization_roles_and_domains;
mod organizations;
mod protocol;
mod readme;
mod sessions_invitations_tokens;
mod snapshots;
mod user_organizations;
mod user_security;
mod users;
