//! The objects docs examples and end-to-end tests start from: one per Clerk ID the examples
//! name (`user_2abc123`, ...), created through the integration itself with their IDs pinned.

use std::collections::BTreeSet;

/// One kind of object the fixture can create.
pub struct FixtureKind {
    /// The ID prefix, in the emulator's spelling (`user_`).
    pub prefix: &'static str,
    /// Kinds an object of this one is made from: the fixture makes at least one of each (with a
    /// random ID when no example names one). They must come earlier in [`FIXTURE_KINDS`].
    pub needs: &'static [&'static str],
    /// A Lua expression that creates the `i`th object (from 1) and returns it, with its `id`.
    /// `fx["<prefix>"][1]` is the first object of an earlier kind.
    pub create: fn(usize) -> String,
}

/// Every kind the fixture can create, in the order they are made. Relationships: the first
/// user creates (so is the admin of) every organization and owns every session and sign-in
/// token; the other users are in no organization (so they can be added); organization
/// invitations belong to the first organization. Every user has the password
/// `correct-horse-battery-staple`, a TOTP secret and the backup codes `a1b2c3d4` and `e5f6g7h8`.
/// Email addresses and phone numbers share the `idn_` prefix: in sorted order, the odd `idn_`
/// IDs are email addresses and the even ones phone numbers, all of the first user, and the `n`th
/// `ver_` ID is a verification prepared for the `n`th `idn_` one. To let examples name a new
/// kind of object, add it here (and make its emulator handler take IDs from the store's
/// generator, which honours pinned IDs).
pub const FIXTURE_KINDS: &[FixtureKind] = &[
    FixtureKind {
        prefix: "user_",
        needs: &[],
        create: |i| {
            format!(
                "clerk.create_user({{ email_address = {{ \"fixture-user-{i}@example.test\" }}, first_name = \"Fixture{i}\", password = \"correct-horse-battery-staple\", totp_secret = \"JBSWY3DPEHPK3PXP\", backup_codes = {{ \"a1b2c3d4\", \"e5f6g7h8\" }} }})"
            )
        },
    },
    FixtureKind {
        prefix: "idn_",
        needs: &["user_"],
        create: |i| {
            if i % 2 == 1 {
                format!(
                    "clerk.create_email_address({{ user_id = fx[\"user_\"][1], email_address = \"fixture-email-{i}@example.test\", verified = true }})"
                )
            } else {
                format!(
                    "clerk.create_phone_number({{ user_id = fx[\"user_\"][1], phone_number = \"+1555555{i:04}\", verified = true }})"
                )
            }
        },
    },
    FixtureKind {
        prefix: "ver_",
        needs: &["idn_"],
        create: |i| {
            if i % 2 == 1 {
                format!(
                    "clerk.prepare_email_address_verification({{ email_address_id = fx[\"idn_\"][{i}] }})"
                )
            } else {
                format!(
                    "clerk.prepare_phone_number_verification({{ phone_number_id = fx[\"idn_\"][{i}] }})"
                )
            }
        },
    },
    FixtureKind {
        prefix: "org_",
        needs: &["user_"],
        create: |i| {
            format!(
                "clerk.create_organization({{ name = \"Fixture Org {i}\", created_by = fx[\"user_\"][1] }})"
            )
        },
    },
    FixtureKind {
        prefix: "sess_",
        needs: &["user_"],
        create: |_| "clerk.create_session({ user_id = fx[\"user_\"][1] })".into(),
    },
    FixtureKind {
        prefix: "orginv_",
        needs: &["org_"],
        create: |i| {
            format!(
                "clerk.create_organization_invitation({{ organization_id = fx[\"org_\"][1], email_address = \"fixture-invitee-{i}@example.test\", role = \"org:member\" }})"
            )
        },
    },
    FixtureKind {
        prefix: "inv_",
        needs: &[],
        create: |i| {
            format!(
                "clerk.create_invitation({{ email_address = \"fixture-app-invitee-{i}@example.test\", notify = false }})"
            )
        },
    },
    FixtureKind {
        prefix: "sit_",
        needs: &["user_"],
        create: |_| "clerk.create_sign_token({ user_id = fx[\"user_\"][1] })".into(),
    },
    FixtureKind {
        prefix: "orgdmn_",
        needs: &["org_"],
        create: |i| {
            format!(
                "clerk.create_organization_domain({{ organization_id = fx[\"org_\"][1], name = \"fixture-{i}.example.test\", enrollment_mode = \"manual_invitation\" }})"
            )
        },
    },
    FixtureKind {
        prefix: "perm_",
        needs: &[],
        create: |i| {
            format!(
                "clerk.create_organization_permission({{ name = \"Fixture permission {i}\", key = \"org:fixture_{i}:read\" }})"
            )
        },
    },
    // The first role's key is the one the role set samples add (`org:support_agent`); each role
    // grants the first permission, which the samples take away.
    FixtureKind {
        prefix: "role_",
        needs: &["perm_"],
        create: |i| {
            let key = if i == 1 {
                "org:support_agent".to_string()
            } else {
                format!("org:support_agent_{i}")
            };
            format!(
                "clerk.create_organization_role({{ name = \"Support agent {i}\", key = \"{key}\", permissions = {{ fx[\"perm_\"][1] }} }})"
            )
        },
    },
    FixtureKind {
        prefix: "rs_",
        needs: &["role_"],
        create: |i| {
            format!(
                "clerk.create_role_set({{ name = \"Fixture role set {i}\", key = \"role_set:fixture_{i}\", roles = {{ \"org:admin\", \"org:member\" }}, default_role_key = \"org:member\", creator_role_key = \"org:admin\" }})"
            )
        },
    },
    FixtureKind {
        prefix: "alid_",
        needs: &[],
        create: |i| {
            format!(
                "clerk.create_allowlist_identifier({{ identifier = \"fixture-allowed-{i}@example.test\" }})"
            )
        },
    },
    FixtureKind {
        prefix: "blid_",
        needs: &[],
        create: |i| {
            format!(
                "clerk.create_blocklist_identifier({{ identifier = \"fixture-blocked-{i}@example.test\" }})"
            )
        },
    },
    FixtureKind {
        prefix: "wle_",
        needs: &[],
        create: |i| {
            format!(
                "clerk.create_waitlist_entry({{ email_address = \"fixture-waitlist-{i}@example.test\", notify = false }})"
            )
        },
    },
    FixtureKind {
        prefix: "dmn_",
        needs: &[],
        create: |i| {
            format!(
                "clerk.add_domain({{ name = \"fixture-satellite-{i}.example.test\", is_satellite = true }})"
            )
        },
    },
    FixtureKind {
        prefix: "ru_",
        needs: &[],
        create: |i| {
            format!("clerk.create_redirect_url({{ url = \"fixture-app-{i}://oauth-callback\" }})")
        },
    },
    FixtureKind {
        prefix: "jtmp_",
        needs: &[],
        create: |i| {
            format!(
                "clerk.create_jwt_template({{ name = \"fixture-template-{i}\", claims = {{ aud = \"https://fixture.example.test\" }} }})"
            )
        },
    },
];

/// Prefixes of IDs the emulator makes only as a side effect (memberships): an example naming
/// one cannot be given a fixture object. (Client IDs are not among them: client lookups are
/// mocked, so any well-formed `client_` ID works.)
pub const OTHER_PREFIXES: [&str; 1] = ["orgmem_"];

/// The Clerk IDs an example names: a known prefix, then letters and digits with at least one
/// digit (so `user_id`, `org_id` and made-up missing IDs such as `user_does_not_exist` are not
/// IDs), as whole words.
pub fn clerk_ids(text: &str) -> BTreeSet<String> {
    let prefixes: Vec<&str> = FIXTURE_KINDS
        .iter()
        .map(|k| k.prefix)
        .chain(OTHER_PREFIXES.iter().copied())
        .map(|p| p.trim_end_matches('_'))
        .collect();
    let pattern = format!(
        r"\b(?:{})_[A-Za-z0-9]*[0-9][A-Za-z0-9]*\b",
        prefixes.join("|")
    );
    regex::Regex::new(&pattern)
        .unwrap()
        .find_iter(text)
        .map(|m| m.as_str().to_string())
        .collect()
}

/// The objects every example starts from, one per ID the examples name, each prefix's IDs in
/// sorted order (see [`FIXTURE_KINDS`]). An object that something needs but that no example
/// names is created with a random ID.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Fixture {
    /// IDs by prefix (`user_`, ...), sorted.
    pub ids: std::collections::BTreeMap<&'static str, Vec<String>>,
}

impl Fixture {
    /// The fixture for examples given as `(place, text)`, or the IDs no fixture object can
    /// have, each reported with the place of the first example naming it.
    pub fn for_texts<'t>(
        texts: impl IntoIterator<Item = (&'t str, &'t str)>,
    ) -> (Fixture, Vec<String>) {
        let mut fixture = Fixture::default();
        let mut problems = Vec::new();
        let mut all = BTreeSet::new();
        for (at, text) in texts {
            {
                for id in clerk_ids(text) {
                    if all.insert(id.clone()) {
                        match FIXTURE_KINDS.iter().find(|k| id.starts_with(k.prefix)) {
                            Some(kind) => fixture.ids.entry(kind.prefix).or_default().push(id),
                            None => problems.push(format!(
                                "{}: names `{id}`, an ID the fixture cannot create (only {})",
                                at,
                                FIXTURE_KINDS
                                    .iter()
                                    .map(|k| k.prefix)
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )),
                        }
                    }
                }
            }
        }
        for ids in fixture.ids.values_mut() {
            ids.sort();
        }
        (fixture, problems)
    }

    pub fn count(&self, prefix: &str) -> usize {
        self.ids.get(prefix).map_or(0, Vec::len)
    }

    /// Every ID, to pin before [`Fixture::lua`] runs.
    pub fn pins(&self) -> Vec<&str> {
        self.ids.values().flatten().map(String::as_str).collect()
    }

    /// How many objects of each kind to make: one per named ID, and at least one of each kind
    /// another kind needs.
    pub fn counts(&self) -> Vec<usize> {
        let mut counts: Vec<usize> = FIXTURE_KINDS.iter().map(|k| self.count(k.prefix)).collect();
        for (index, kind) in FIXTURE_KINDS.iter().enumerate().rev() {
            if counts[index] == 0 {
                continue;
            }
            for need in kind.needs {
                let at = FIXTURE_KINDS
                    .iter()
                    .position(|k| k.prefix == *need)
                    .expect("a kind needs only kinds listed before it");
                assert!(at < index, "{} needs {need}, listed after it", kind.prefix);
                counts[at] = counts[at].max(1);
            }
        }
        counts
    }

    /// The script that creates the objects, in each prefix's pinned order.
    pub fn lua(&self) -> String {
        let mut lua = String::from("local clerk = app.integrations.clerk\nlocal fx = {}\n");
        for (kind, count) in FIXTURE_KINDS.iter().zip(self.counts()) {
            if count == 0 {
                continue;
            }
            lua += &format!("fx[\"{}\"] = {{}}\n", kind.prefix);
            for i in 1..=count {
                lua += &format!("fx[\"{}\"][{i}] = ({}).id\n", kind.prefix, (kind.create)(i));
            }
        }
        lua
    }
}
