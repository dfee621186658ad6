//! What a gateway serves and how.

use std::fmt;
use std::str::FromStr;

/// Whether write tools are offered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WritePolicy {
    /// Write tools are not listed, and a call to one is refused.
    #[default]
    Deny,
    /// Write tools are listed and run: the MCP client asked its user before calling, and that
    /// is the approval the host's `ask` policy waits for. An account whose writes are `deny`
    /// still refuses them.
    Allow,
}

impl WritePolicy {
    /// `deny` or `allow`, as the CLI spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            WritePolicy::Deny => "deny",
            WritePolicy::Allow => "allow",
        }
    }
}

impl fmt::Display for WritePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WritePolicy {
    type Err = String;

    /// `deny` or `allow`; anything else is refused rather than read as `deny`, so that a typo
    /// never changes what the gateway does without saying so.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "deny" => Ok(WritePolicy::Deny),
            "allow" => Ok(WritePolicy::Allow),
            other => Err(format!(
                "the write policy is `deny` or `allow`, not `{other}`"
            )),
        }
    }
}

/// What a [`Gateway`](crate::Gateway) serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayOptions {
    /// The integrations to offer, by name; empty offers every integration of the host.
    pub integrations: Vec<String>,
    /// The host's MCP servers whose tools to offer too, by name (`mcp__<server>__<tool>`).
    pub upstreams: Vec<String>,
    /// Whether write tools are offered.
    pub write: WritePolicy,
    /// The longest text a result shows, in characters; longer text is cut with a line saying so.
    /// At least [`GatewayOptions::MIN_RESULT_CHARS`].
    pub max_result_chars: usize,
}

impl GatewayOptions {
    /// The default of [`GatewayOptions::max_result_chars`].
    pub const DEFAULT_MAX_RESULT_CHARS: usize = 50_000;
    /// The smallest [`GatewayOptions::max_result_chars`] accepted: less would cut even an
    /// error's explanation.
    pub const MIN_RESULT_CHARS: usize = 1_000;
}

impl Default for GatewayOptions {
    /// Every integration, no upstream, writes denied, results up to 50,000 characters.
    fn default() -> Self {
        GatewayOptions {
            integrations: Vec::new(),
            upstreams: Vec::new(),
            write: WritePolicy::Deny,
            max_result_chars: Self::DEFAULT_MAX_RESULT_CHARS,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn write_policy_reads_only_its_two_words() {
        assert_eq!("deny".parse::<WritePolicy>().unwrap(), WritePolicy::Deny);
        assert_eq!("allow".parse::<WritePolicy>().unwrap(), WritePolicy::Allow);
        for wrong in ["ask", "Allow", "", "yes"] {
            assert!(wrong.parse::<WritePolicy>().is_err(), "{wrong}");
        }
        assert_eq!(WritePolicy::default(), WritePolicy::Deny);
    }
}
