//! The namespace index (`docs.read("app.integrations.<provider>")`, `namespace.md`) is read whole
//! into an agent's context window, so it has a budget, `kosmo_codegen::NAMESPACE_BUDGET`
//! (24 KiB, about 6,000 tokens). Every checked-in index must fit, and so must the index of a
//! synthetic manifest shaped like a whole Backend API: 250 functions in 35 families of 1 to 35
//! functions, with names, required parameters and guides like the real ones. The budget cannot
//! break silently as a manifest grows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::path::Path;

use kosmo_codegen::{NAMESPACE_BUDGET, SpecFiles, Target};

/// Room the synthetic index must leave under the budget, so a manifest a little longer or wordier
/// than the design point still fits.
const ROOM: f64 = 0.05;

/// The design point's average function summary, in characters: terse, like "Ban a user." or
/// "List all users." (Clerk's OpenAPI summaries average 28). Names, required parameters, family
/// headings and the guides' essentials take the rest of the budget; see
/// [`the_average_summary_decides_what_fits`].
const DESIGN_SUMMARY_CHARS: usize = 20;

fn report(what: &str, bytes: usize) {
    println!(
        "{what}: {bytes} bytes, about {} tokens ({:.0} % of the {NAMESPACE_BUDGET}-byte budget)",
        bytes / 4,
        bytes as f64 * 100.0 / NAMESPACE_BUDGET as f64
    );
}

#[test]
fn every_checked_in_namespace_index_fits_the_budget() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated/docs");
    let mut checked = 0;
    for provider in std::fs::read_dir(&docs).unwrap() {
        let path = provider.unwrap().path().join("namespace.md");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        report(&path.display().to_string(), text.len());
        assert!(
            text.len() <= NAMESPACE_BUDGET,
            "{} is {} bytes, over the namespace budget of {NAMESPACE_BUDGET}: shorten summaries (the longest first) or guide essentials; see spec/README.md",
            path.display(),
            text.len()
        );
        checked += 1;
    }
    assert!(checked > 0, "no namespace.md under {}", docs.display());
}

/// Resource families of a large Backend API, each with how many functions it has (250 in all,
/// from 1 to 35 a family, as in Clerk's).
const FAMILIES: [(&str, &str, usize); 35] = [
    ("users", "Users", 35),
    ("billing", "Billing", 21),
    ("organizations", "Organizations", 12),
    ("instance_settings", "Instance settings", 11),
    ("scim_directories", "SCIM directories", 10),
    ("directories", "Directories", 10),
    ("machines", "Machines", 9),
    ("oauth_applications", "OAuth applications", 8),
    ("api_keys", "API keys", 8),
    ("email_addresses", "Email addresses", 7),
    ("phone_numbers", "Phone numbers", 7),
    ("sessions", "Sessions", 7),
    ("organization_invitations", "Organization invitations", 7),
    ("organization_roles", "Organization roles", 7),
    ("enterprise_connections", "Enterprise connections", 7),
    ("role_sets", "Role sets", 7),
    ("email_sms_templates", "Email and SMS templates", 6),
    ("allowlist_blocklist", "Allow-list and block-list", 6),
    ("organization_memberships", "Organization memberships", 6),
    ("organization_domains", "Organization domains", 6),
    ("waitlist_entries", "Waitlist entries", 6),
    ("jwt_templates", "JWT templates", 5),
    ("saml_connections", "SAML connections", 5),
    ("organization_permissions", "Organization permissions", 5),
    ("invitations", "Application invitations", 4),
    ("domains", "Domains", 4),
    ("redirect_urls", "Redirect URLs", 4),
    ("m2m_tokens", "Machine-to-machine tokens", 4),
    ("clients", "Clients", 3),
    ("beta_features", "Beta features", 3),
    ("webhooks", "Webhooks", 3),
    ("actor_tokens", "Actor tokens", 2),
    ("sign_in_tokens", "Sign-in tokens", 2),
    ("sign_ups", "Sign-ups", 2),
    ("testing_tokens", "Testing tokens", 1),
];

/// Verbs of the functions of a family, in turn; the ones after `list` and `create` act on one
/// resource and take its ID.
const VERBS: [&str; 7] = [
    "list", "create", "get", "update", "delete", "revoke", "verify",
];

/// Exactly `chars` characters of plain prose, starting with `start`.
fn prose(start: &str, chars: usize) -> String {
    let mut text = start.to_string();
    let filler = " with the filters, options and metadata it accepts";
    while text.len() < chars {
        text.push_str(filler);
    }
    text.truncate(chars - 1);
    let text = text.trim_end().to_string();
    format!("{text}{}.", "x".repeat(chars - 1 - text.len()))
}

/// The synthetic manifest: `summary_chars`-character function summaries, 60-character family
/// summaries, a guide per essential topic (with essentials like the real manifest's) and names
/// and required parameters like a real API's (`verify_organization_domain({organization_id,
/// domain_id, …})`).
fn synthetic(summary_chars: usize) -> SpecFiles {
    let mut files = SpecFiles::new();
    let mut manifest = String::from(
        "provider:
  name: synth
  label: Synthetic
  description: >-
    A Backend API of 250 operations, to hold the namespace index to its budget. Calls
    authenticate with the instance's secret key; publishable keys never work here.
  category: testing
  docs_url: https://synth.example/docs
  base_url: https://api.synth.example/v1
  auth: { scheme: bearer, credential: secret_key }
  credentials:
    secret_key: { description: Secret key., required: true, secret: true, env: SYNTH_SECRET_KEY }
guides:
",
    );
    let guides = [
        "raw-api-helpers",
        "users",
        "sessions",
        "organizations",
        "invitations-and-sign-in-tokens",
        "output-shape",
        "errors",
        "pagination",
        "permissions",
        "named-accounts",
        "rate-limits-and-retries",
        "bulk-work",
    ];
    for (i, guide) in guides.iter().enumerate() {
        write!(
            manifest,
            "  - title: Guide {guide}\n    file: guides/{guide}.md\n"
        )
        .unwrap();
        // Like the real manifest: essentials for 8 of the 12 guides, 150 characters on average.
        if i == 0 || i >= 5 {
            writeln!(
                manifest,
                "    essentials: \"{}\"",
                prose("What to know", 150)
            )
            .unwrap();
        }
        files.insert(
            format!("spec/guides/{guide}.md"),
            "Guide text.\n".to_string(),
        );
    }
    manifest.push_str("families:\n");
    let mut total = 0;
    for (name, title, count) in FAMILIES {
        writeln!(
            manifest,
            "  - {{ name: {name}, title: {title}, summary: \"{}\", file: synth/{name}.yaml }}",
            prose("Manage", 60)
        )
        .unwrap();
        let singular = name.trim_end_matches('s');
        let mut family = String::from("functions:\n");
        for i in 0..count {
            let verb = VERBS[i % VERBS.len()];
            let round = i / VERBS.len();
            let fname = match round {
                0 => format!("{verb}_{singular}"),
                r => format!("{verb}_{singular}_item_{r}"),
            };
            // Reads over GET; one resource by its ID (and a second ID in later rounds).
            let (method, operation, location) = match verb {
                "list" | "get" => ("GET", "read", "query"),
                "delete" | "revoke" => ("DELETE", "write", "query"),
                _ => ("POST", "write", "body"),
            };
            let mut path = format!("/{name}");
            let mut params = String::new();
            let mut args = String::new();
            if !matches!(verb, "list" | "create") {
                path.push_str(&format!("/{{{singular}_id}}"));
                writeln!(params, "      {singular}_id: {{ in: path, type: string, required: true, description: ID., example: x_1 }}").unwrap();
                args = format!("{singular}_id = \"x_1\"");
                if round > 0 {
                    path.push_str("/items/{item_id}");
                    writeln!(params, "      item_id: {{ in: path, type: string, required: true, description: Item ID., example: i_1 }}").unwrap();
                    args.push_str(", item_id = \"i_1\"");
                }
            }
            if verb != "get" {
                writeln!(params, "      limit: {{ in: {location}, type: integer, description: Size., example: 5 }}").unwrap();
            }
            write!(
                family,
                "  - name: {fname}
    slug: synth_{fname}
    title: {title} {i}
    summary: \"{summary}\"
    description: Does what its name says.
    operation: {operation}
    http: {{ method: {method}, path: \"{path}\" }}
    params:
{params}    examples:
      - title: Call it
        lua: |
          print(app.integrations.synth.{fname}({{ {args} }}))
",
                summary = prose("Do it", summary_chars),
                params = if params.is_empty() {
                    "      {}\n".to_string()
                } else {
                    params
                },
            )
            .unwrap();
            total += 1;
        }
        files.insert(format!("spec/synth/{name}.yaml"), family);
    }
    assert_eq!(total, 250);
    files.insert("spec/synth.yaml".to_string(), manifest);
    files
}

/// The namespace index of the synthetic manifest, through `load` and `generate` as
/// `cargo xtask gen` runs them.
fn synthetic_index(summary_chars: usize) -> String {
    let files = synthetic(summary_chars);
    let providers = kosmo_codegen::load(&files).unwrap_or_else(|d| panic!("invalid:\n{d}"));
    assert_eq!(providers[0].functions.len(), 250);
    assert_eq!(providers[0].families.len(), 35);
    kosmo_codegen::generate(&files, &Target::new("generated", "synth"))
        .unwrap()
        .into_iter()
        .find(|f| f.path == "generated/docs/synth/namespace.md")
        .unwrap()
        .contents
}

/// The design point: 250 functions in 35 families, shaped like a real Backend API, fit with room
/// to spare. Every function and family is in the index, one line each.
#[test]
fn a_250_function_index_fits_the_budget_with_room() {
    let index = synthetic_index(DESIGN_SUMMARY_CHARS);
    report(
        &format!("synthetic, 250 functions, {DESIGN_SUMMARY_CHARS}-character summaries"),
        index.len(),
    );
    let limit = (NAMESPACE_BUDGET as f64 * (1.0 - ROOM)) as usize;
    assert!(
        index.len() <= limit,
        "the index of 250 functions is {} bytes, over {limit} ({NAMESPACE_BUDGET} less {:.0} % room)",
        index.len(),
        ROOM * 100.0
    );
    let lines = index.lines().filter(|l| l.starts_with("- `")).count();
    assert_eq!(lines, 250, "one line per function");
    for (name, title, _) in FAMILIES {
        assert!(
            index.contains(&format!("\n### {title} ({name})\n")),
            "family {name}"
        );
    }
    assert!(
        index.contains("- `get_user({user_id})` r: Do it"),
        "{index}"
    );
    assert!(
        index.contains("- `verify_user_item_1({user_id, item_id, …})` w: Do it"),
        "{index}"
    );
}

/// Summaries too long for the budget do not break it: every summary is cut, at a word and marked
/// with `…`, to the longest length that fits, and the page says so. With 60-character summaries
/// (which would need about 33 KB whole) the 250-function index still fits, every function keeps
/// its line, and the cut summaries are as long as the budget allows.
#[test]
fn summaries_too_long_for_the_budget_are_cut_to_fit() {
    let long = synthetic_index(60);
    let short = synthetic_index(DESIGN_SUMMARY_CHARS);
    report(
        "synthetic, 250 functions, 60-character summaries, cut to fit",
        long.len(),
    );
    assert!(long.len() <= NAMESPACE_BUDGET, "{} bytes", long.len());
    assert!(
        long.contains("cut short (`…`)"),
        "the page says summaries are cut"
    );
    assert!(
        !short.contains("cut short (`…`)"),
        "whole summaries are not marked"
    );
    assert_eq!(long.lines().filter(|l| l.starts_with("- `")).count(), 250);
    let cut = long
        .lines()
        .filter(|l| l.starts_with("- `") && l.ends_with('…'))
        .count();
    assert_eq!(cut, 250, "every 60-character summary is cut");
    // As long as fits. The 250 summaries are the same prose, so the next longer cut adds a word
    // (and any little words before it, which a cut does not end on) to every line at once: the
    // page is within one such step, 12 bytes a line, of the budget.
    assert!(
        long.len() + 250 * 12 > NAMESPACE_BUDGET,
        "{} bytes",
        long.len()
    );
    let fixed = short.len() - 250 * DESIGN_SUMMARY_CHARS;
    println!(
        "at 250 functions: {fixed} bytes without summaries, so whole summaries may average {} characters within the budget",
        (NAMESPACE_BUDGET - fixed) / 250
    );
}
