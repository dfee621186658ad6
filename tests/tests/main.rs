//! The workspace-level tests: one module per file beside this one, all in one binary. A binary
//! per file linked the whole stack again for each of them, which cost CI minutes and filled its
//! disk. The soak keeps a binary of its own (`soak.rs`): it installs a process-wide log
//! subscriber to check every log line, which would capture every other test's lines too.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod mock_harness;
mod shape;
mod support;

mod actor_tokens_sign_ups_testing_tokens;
mod admin_portal_link_tokens;
mod agent_tasks;
mod api_keys;
mod billing;
mod bulk_bodies;
mod bulk_work;
mod clerk_docs;
mod clerk_end_to_end;
mod clerk_functions;
mod directories;
mod drift;
mod email_addresses_and_phone_numbers;
mod embed_example;
mod enterprise_connections;
mod every_function;
mod excluded_operations;
mod fixture_provider;
mod http_client;
mod instance_resources;
mod instance_settings;
mod limits_under_load;
mod m2m_tokens;
mod machines;
mod oauth_applications;
mod organization_families;
mod provider_neutral;
mod secret_key;
mod sessions_and_clients;
mod site_browser;
mod test_layout;
mod two_providers;
mod uploads;
mod user_accounts_mocked;
mod user_bans_metadata_and_organizations;
mod user_passwords_and_mfa;
mod webhooks;
