//! Embedding the host: run an agent's Lua against every generated integration, with
//! credentials from the environment, asking on the terminal before each write.
//!
//! `cargo run -p kosmo-host --example embed -- 'return #app.integrations.clerk.list_users({})'`
use std::future::Future;
use std::io::IsTerminal;
use std::pin::Pin;

use kosmo_host::{Approval, ApprovalRequest, Approver, CredentialSource, EnvCredentials};
use kosmo_host::{BuildError, Host, RunOptions, RunReport};

/// KosmoKrator asks its user; this asks whoever runs the example (nobody, without a terminal).
struct AskOnTerminal;

impl Approver for AskOnTerminal {
    fn approve<'a>(
        &'a self,
        call: ApprovalRequest<'a>,
    ) -> Pin<Box<dyn Future<Output = Approval> + Send + 'a>> {
        let (integration, function) = (call.integration.name, call.function.name);
        eprint!("Allow {integration}.{function}({})? [y/N] ", call.arguments);
        let mut answer = String::new();
        let stdin = std::io::stdin();
        let yes =
            stdin.is_terminal() && stdin.read_line(&mut answer).is_ok() && answer.trim() == "y";
        Box::pin(std::future::ready(if yes {
            Approval::Approved
        } else {
            Approval::Refused
        }))
    }
}

/// A host over the generated registry runs `code` in a fresh sandbox.
pub async fn embed(
    code: &str,
    credentials: impl CredentialSource + 'static,
) -> Result<RunReport, BuildError> {
    let host = Host::builder()
        .integrations(&kosmo_integrations::INTEGRATIONS)
        .credentials(credentials)
        .approver(AskOnTerminal)
        .build()?;
    Ok(host.run(code, RunOptions::default()).await)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let code = std::env::args().nth(1).ok_or("usage: embed '<lua code>'")?;
    let report = embed(&code, EnvCredentials).await?;
    if !report.output.is_empty() {
        println!("{}", report.output);
    }
    if let Some(error) = report.error {
        return Err(error.into());
    }
    println!("result: {}", serde_json::to_string(&report.result)?);
    Ok(())
}
