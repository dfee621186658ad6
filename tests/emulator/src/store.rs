//! The emulator's data and how each object renders as Clerk's JSON.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use crate::ObjectKind;

/// Fixed so that two runs making the same calls get the same IDs.
const ID_SEED: u64 = 0x00C1_E4C0_5EED;
const TRACE_SEED: u64 = 0x7EAC_E000_0001;
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Clerk's IDs are a prefix and 27 base62 characters (a KSUID).
const ID_LENGTH: usize = 27;
const DEFAULT_IMAGE_URL: &str = "https://img.clerk.com/emulator/default-avatar.png";
const UPLOADED_IMAGE_URL: &str = "https://img.clerk.com/emulator/uploaded";
pub(crate) const ACCOUNTS_URL: &str = "https://accounts.emulator.clerk.test";

pub(crate) const DAY_MS: i64 = 86_400_000;
const SESSION_LIFETIME_MS: i64 = 7 * DAY_MS;
const SESSION_ABANDON_MS: i64 = 30 * DAY_MS;

/// An email address, phone number or web3 wallet of a user.
#[derive(Clone, Debug)]
pub(crate) struct Identification {
    pub id: String,
    pub value: String,
    pub reserved: bool,
    /// How it was verified: `admin` (created or marked verified through the Backend API),
    /// `email_code` or `phone_code` (a code attempted), or `None` while unverified.
    pub verified_by: Option<&'static str>,
    /// Phone numbers only: a second factor of the user, and the one used by default.
    pub reserved_for_second_factor: bool,
    pub default_second_factor: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Identification {
    /// Verified by an admin unless `reserved` (which is unverified but claimed).
    pub fn new(id: String, value: &str, reserved: bool, now: i64) -> Identification {
        Identification {
            id,
            value: value.to_string(),
            reserved,
            verified_by: (!reserved).then_some("admin"),
            reserved_for_second_factor: false,
            default_second_factor: false,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn is_verified(&self) -> bool {
        self.verified_by.is_some()
    }
}

#[derive(Clone, Debug)]
pub(crate) struct User {
    pub id: String,
    pub external_id: Option<String>,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub locale: Option<String>,
    pub emails: Vec<Identification>,
    pub phones: Vec<Identification>,
    pub web3_wallets: Vec<Identification>,
    pub primary_email_address_id: Option<String>,
    pub primary_phone_number_id: Option<String>,
    pub primary_web3_wallet_id: Option<String>,
    pub public_metadata: Map<String, Value>,
    pub private_metadata: Map<String, Value>,
    pub unsafe_metadata: Map<String, Value>,
    pub password_enabled: bool,
    /// The password as set, for `verify_password`; never rendered. `None` with
    /// `password_enabled` when it was set from a digest, which the emulator cannot check.
    pub password: Option<String>,
    /// Set by `set_compromised`; Clerk's user object of this API version does not show it.
    pub password_compromised: bool,
    /// The unused backup codes, consumed by `verify_totp`.
    pub backup_codes: Vec<String>,
    pub password_last_updated_at: Option<i64>,
    pub totp_enabled: bool,
    pub backup_code_enabled: bool,
    pub mfa_enabled_at: Option<i64>,
    pub mfa_disabled_at: Option<i64>,
    pub banned: bool,
    pub locked: bool,
    pub delete_self_enabled: bool,
    pub create_organization_enabled: bool,
    pub create_organizations_limit: Option<i64>,
    pub legal_accepted_at: Option<i64>,
    pub bypass_client_trust: bool,
    pub last_sign_in_at: Option<i64>,
    pub last_active_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl User {
    pub fn primary_email(&self) -> Option<&str> {
        let id = self.primary_email_address_id.as_deref()?;
        self.emails
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.value.as_str())
    }

    pub fn primary_phone(&self) -> Option<&str> {
        let id = self.primary_phone_number_id.as_deref()?;
        self.phones
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.value.as_str())
    }

    pub fn primary_web3_wallet(&self) -> Option<&str> {
        let id = self.primary_web3_wallet_id.as_deref()?;
        self.web3_wallets
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.value.as_str())
    }

    /// What Clerk shows as the user's identifier: the primary email, else phone, else username.
    pub fn identifier(&self) -> Option<String> {
        self.primary_email()
            .or(self.primary_phone())
            .or(self.username.as_deref())
            .or(self.primary_web3_wallet())
            .map(str::to_string)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub id: String,
    pub user_id: String,
    pub client_id: String,
    pub status: &'static str,
    pub last_active_organization_id: Option<String>,
    pub last_active_at: i64,
    pub expire_at: i64,
    pub abandon_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct Organization {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub max_allowed_memberships: i64,
    pub admin_delete_enabled: bool,
    pub public_metadata: Map<String, Value>,
    pub private_metadata: Map<String, Value>,
    pub created_by: Option<String>,
    pub role_set_key: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct Membership {
    pub id: String,
    pub organization_id: String,
    pub user_id: String,
    pub role: String,
    pub public_metadata: Map<String, Value>,
    pub private_metadata: Map<String, Value>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct OrganizationInvitation {
    pub id: String,
    pub organization_id: String,
    pub email_address: String,
    pub role: String,
    pub inviter_id: Option<String>,
    pub status: &'static str,
    pub public_metadata: Map<String, Value>,
    pub private_metadata: Map<String, Value>,
    pub url: Option<String>,
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct Invitation {
    pub id: String,
    pub email_address: String,
    pub public_metadata: Map<String, Value>,
    pub status: &'static str,
    pub url: String,
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct SignInToken {
    pub id: String,
    pub user_id: String,
    pub status: &'static str,
    pub token: String,
    pub url: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An uploaded profile image or organization logo.
#[derive(Clone, Debug)]
pub(crate) struct Image {
    pub id: String,
    pub filename: Option<String>,
    pub content_type: String,
    pub data: Vec<u8>,
}

impl Image {
    /// Where Clerk's image CDN would serve it.
    pub fn url(&self) -> String {
        format!("{UPLOADED_IMAGE_URL}/{}", self.id)
    }
}

/// Cloned whole by `Emulator::snapshot`, so everything a restore must bring back lives here.
#[derive(Clone)]
pub(crate) struct Store {
    rng: fastrand::Rng,
    trace_rng: fastrand::Rng,
    last_ms: i64,
    seeded: usize,
    /// IDs to hand out next, by prefix, before random ones (see `Emulator::pin_ids`).
    pinned: IndexMap<String, std::collections::VecDeque<String>>,
    pub users: IndexMap<String, User>,
    pub sessions: IndexMap<String, Session>,
    pub organizations: IndexMap<String, Organization>,
    pub memberships: IndexMap<String, Membership>,
    pub organization_invitations: IndexMap<String, OrganizationInvitation>,
    pub invitations: IndexMap<String, Invitation>,
    pub sign_in_tokens: IndexMap<String, SignInToken>,
    /// Objects of resources whose handlers keep them as Clerk's JSON, by resource name
    /// (`"jwt_templates"`), each by ID: a new handler module can store its objects here
    /// without a field of its own. Their IDs count as used for `can_pin`.
    collections: BTreeMap<&'static str, IndexMap<String, Value>>,
    /// Uploaded images, by the ID of the user or organization they show.
    pub images: IndexMap<String, Image>,
}

impl Store {
    pub fn new() -> Store {
        Store {
            rng: fastrand::Rng::with_seed(ID_SEED),
            trace_rng: fastrand::Rng::with_seed(TRACE_SEED),
            last_ms: 0,
            seeded: 0,
            pinned: IndexMap::new(),
            users: IndexMap::new(),
            sessions: IndexMap::new(),
            organizations: IndexMap::new(),
            memberships: IndexMap::new(),
            organization_invitations: IndexMap::new(),
            invitations: IndexMap::new(),
            sign_in_tokens: IndexMap::new(),
            collections: BTreeMap::new(),
            images: IndexMap::new(),
        }
    }

    /// Every upload: `{owner_id, id, filename, content_type, size, image_url}`.
    pub fn images_json(&self) -> Value {
        let images: Vec<Value> = self
            .images
            .iter()
            .map(|(owner_id, image)| {
                json!({
                    "owner_id": owner_id,
                    "id": image.id,
                    "filename": image.filename,
                    "content_type": image.content_type,
                    "size": image.data.len(),
                    "image_url": image.url(),
                })
            })
            .collect();
        Value::Array(images)
    }

    /// The upload with this image ID.
    pub fn image(&self, image_id: &str) -> Option<&Image> {
        self.images.values().find(|image| image.id == image_id)
    }

    /// `(image_url, has_image)` of a user or organization: its upload, else the default.
    pub fn image_of(&self, owner_id: &str) -> (String, bool) {
        match self.images.get(owner_id) {
            Some(image) => (image.url(), true),
            None => (DEFAULT_IMAGE_URL.to_string(), false),
        }
    }

    /// A resource's objects by ID (see `collections`); `None` before the first is stored.
    #[allow(dead_code)] // for the handler modules that keep their objects as JSON
    pub fn collection(&self, resource: &str) -> Option<&IndexMap<String, Value>> {
        self.collections.get(resource)
    }

    /// A resource's objects by ID, to insert, change or remove them.
    #[allow(dead_code)] // for the handler modules that keep their objects as JSON
    pub fn collection_mut(&mut self, resource: &'static str) -> &mut IndexMap<String, Value> {
        self.collections.entry(resource).or_default()
    }

    pub fn new_id(&mut self, prefix: &str) -> String {
        if let Some(id) = self
            .pinned
            .get_mut(prefix)
            .and_then(|queue| queue.pop_front())
        {
            return id;
        }
        self.random_id(prefix)
    }

    /// An ID that is never a pinned one.
    fn random_id(&mut self, prefix: &str) -> String {
        let mut id = String::with_capacity(prefix.len() + ID_LENGTH);
        id.push_str(prefix);
        for _ in 0..ID_LENGTH {
            id.push(char::from(BASE62[self.rng.usize(..BASE62.len())]));
        }
        id
    }

    /// Whether `id` can be pinned: it has a `prefix_` and no object or pin uses it.
    pub fn can_pin(&self, id: &str) -> bool {
        let has_prefix = id.find('_').is_some_and(|at| at + 1 < id.len());
        has_prefix
            && !(self.users.contains_key(id)
                || self.sessions.contains_key(id)
                || self.organizations.contains_key(id)
                || self.memberships.contains_key(id)
                || self.organization_invitations.contains_key(id)
                || self.invitations.contains_key(id)
                || self.sign_in_tokens.contains_key(id)
                || self.users.values().any(|user| {
                    user.emails
                        .iter()
                        .chain(&user.phones)
                        .chain(&user.web3_wallets)
                        .any(|identification| identification.id == id)
                })
                || self
                    .collections
                    .values()
                    .any(|objects| objects.contains_key(id))
                || self
                    .pinned
                    .values()
                    .any(|queue| queue.iter().any(|q| q == id)))
    }

    /// Queues `id` to be the next ID created with its prefix (the text up to its first `_`).
    /// Callers check [`Store::can_pin`] first.
    pub fn pin_id(&mut self, id: &str) {
        if let Some(at) = id.find('_') {
            self.pinned
                .entry(id[..=at].to_string())
                .or_default()
                .push_back(id.to_string());
        }
    }

    pub fn random_token(&mut self, length: usize) -> String {
        (0..length)
            .map(|_| char::from(BASE62[self.rng.usize(..BASE62.len())]))
            .collect()
    }

    pub fn trace_id(&mut self) -> String {
        format!(
            "{:016x}{:016x}",
            self.trace_rng.u64(..),
            self.trace_rng.u64(..)
        )
    }

    /// Unix milliseconds, strictly increasing across calls so that creation order is also
    /// `created_at` order.
    pub fn now_ms(&mut self) -> i64 {
        let now = wall_ms().max(self.last_ms + 1);
        self.last_ms = now;
        now
    }

    pub fn count(&self, kind: ObjectKind) -> usize {
        match kind {
            ObjectKind::User => self.users.len(),
            ObjectKind::Session => self.sessions.len(),
            ObjectKind::Organization => self.organizations.len(),
            ObjectKind::Membership => self.memberships.len(),
            ObjectKind::OrganizationInvitation => self.organization_invitations.len(),
            ObjectKind::Invitation => self.invitations.len(),
            ObjectKind::SignInToken => self.sign_in_tokens.len(),
        }
    }

    pub fn new_identification(&mut self, value: &str, reserved: bool) -> Identification {
        let now = self.now_ms();
        self.identification_at(value, reserved, now)
    }

    /// An identification made with its user (`create_user`, seeds). Its ID is never a pinned
    /// one: pinned `idn_` IDs go to the email addresses and phone numbers created on their own.
    fn identification_at(&mut self, value: &str, reserved: bool, now: i64) -> Identification {
        let id = self.random_id("idn_");
        Identification::new(id, value, reserved, now)
    }

    /// A user with every optional field at Clerk's default.
    pub fn blank_user(&mut self) -> User {
        let now = self.now_ms();
        self.blank_user_at(now)
    }

    fn blank_user_at(&mut self, now: i64) -> User {
        User {
            id: self.new_id("user_"),
            external_id: None,
            username: None,
            first_name: None,
            last_name: None,
            locale: None,
            emails: Vec::new(),
            phones: Vec::new(),
            web3_wallets: Vec::new(),
            primary_email_address_id: None,
            primary_phone_number_id: None,
            primary_web3_wallet_id: None,
            public_metadata: Map::new(),
            private_metadata: Map::new(),
            unsafe_metadata: Map::new(),
            password_enabled: false,
            password: None,
            password_compromised: false,
            backup_codes: Vec::new(),
            password_last_updated_at: None,
            totp_enabled: false,
            backup_code_enabled: false,
            mfa_enabled_at: None,
            mfa_disabled_at: None,
            banned: false,
            locked: false,
            delete_self_enabled: true,
            create_organization_enabled: true,
            create_organizations_limit: None,
            legal_accepted_at: None,
            bypass_client_trust: false,
            last_sign_in_at: None,
            last_active_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn new_session(&mut self, user_id: &str, organization_id: Option<String>) -> Session {
        let now = self.now_ms();
        Session {
            id: self.new_id("sess_"),
            user_id: user_id.to_string(),
            client_id: self.new_id("client_"),
            status: "active",
            last_active_organization_id: organization_id,
            last_active_at: now,
            expire_at: now + SESSION_LIFETIME_MS,
            abandon_at: now + SESSION_ABANDON_MS,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn members_count(&self, organization_id: &str) -> usize {
        self.memberships
            .values()
            .filter(|m| m.organization_id == organization_id)
            .count()
    }

    pub fn membership_of(&self, organization_id: &str, user_id: &str) -> Option<&Membership> {
        self.memberships
            .values()
            .find(|m| m.organization_id == organization_id && m.user_id == user_id)
    }

    pub fn is_slug_taken(&self, slug: &str, except_id: Option<&str>) -> bool {
        self.organizations
            .values()
            .any(|o| o.slug == slug && Some(o.id.as_str()) != except_id)
    }

    /// A slug derived from a name: lower-case alphanumerics joined by single dashes, made unique.
    pub fn slug_from_name(&self, name: &str) -> String {
        let mut slug = String::new();
        for c in name.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        while slug.ends_with('-') {
            slug.pop();
        }
        if slug.is_empty() {
            slug.push_str("organization");
        }
        if !self.is_slug_taken(&slug, None) {
            return slug;
        }
        (1..)
            .map(|n| format!("{slug}-{n}"))
            .find(|candidate| !self.is_slug_taken(candidate, None))
            .unwrap_or(slug)
    }

    /// Removes a user and what hangs off it: sessions, memberships and sign-in tokens.
    pub fn delete_user(&mut self, user_id: &str) -> Option<User> {
        let user = self.users.shift_remove(user_id)?;
        self.sessions.retain(|_, s| s.user_id != user_id);
        self.memberships.retain(|_, m| m.user_id != user_id);
        self.sign_in_tokens.retain(|_, t| t.user_id != user_id);
        self.images.shift_remove(user_id);
        Some(user)
    }

    pub fn delete_organization(&mut self, organization_id: &str) -> Option<Organization> {
        let organization = self.organizations.shift_remove(organization_id)?;
        self.memberships
            .retain(|_, m| m.organization_id != organization_id);
        self.organization_invitations
            .retain(|_, i| i.organization_id != organization_id);
        self.images.shift_remove(organization_id);
        Some(organization)
    }

    /// Adds users with email addresses and names, and organizations, numbered on from earlier seeds.
    ///
    /// Seeded users were created one millisecond apart, the last one now (or, when earlier
    /// objects are as recent, right after them), so a large seed does not push later timestamps
    /// into the future. Each user's email address shares its `created_at`.
    pub fn seed(&mut self, users: usize, organizations: usize) {
        const FIRST: &[&str] = &[
            "Ada",
            "Grace",
            "Alan",
            "Katherine",
            "Edsger",
            "Barbara",
            "Donald",
            "Frances",
        ];
        const LAST: &[&str] = &[
            "Lovelace", "Hopper", "Turing", "Johnson", "Dijkstra", "Liskov", "Knuth", "Allen",
        ];
        let span = i64::try_from(users).unwrap_or(i64::MAX);
        let first_ms = (self.last_ms + 1).max(wall_ms().saturating_sub(span - 1));
        self.users.reserve(users);
        for now in (first_ms..).take(users) {
            self.seeded += 1;
            let n = self.seeded;
            self.last_ms = now;
            let mut user = self.blank_user_at(now);
            let first = FIRST[(n - 1) % FIRST.len()];
            let last = LAST[(n - 1) % LAST.len()];
            let email = self.identification_at(
                &format!(
                    "{}.{}{n}@example.test",
                    first.to_lowercase(),
                    last.to_lowercase()
                ),
                false,
                now,
            );
            user.primary_email_address_id = Some(email.id.clone());
            user.emails.push(email);
            user.first_name = Some(first.to_string());
            user.last_name = Some(last.to_string());
            user.username = Some(format!("{}{n}", first.to_lowercase()));
            self.users.insert(user.id.clone(), user);
        }
        for _ in 0..organizations {
            self.seeded += 1;
            let n = self.seeded;
            let now = self.now_ms();
            let name = format!("Seed Organization {n}");
            let organization = Organization {
                id: self.new_id("org_"),
                slug: self.slug_from_name(&name),
                name,
                max_allowed_memberships: 0,
                admin_delete_enabled: true,
                public_metadata: Map::new(),
                private_metadata: Map::new(),
                created_by: None,
                role_set_key: None,
                created_at: now,
                updated_at: now,
            };
            self.organizations
                .insert(organization.id.clone(), organization);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Rendering
    // ---------------------------------------------------------------------------------------

    pub fn user_json(&self, user: &User) -> Value {
        let two_factor = user.totp_enabled || user.backup_code_enabled;
        let (image_url, has_image) = self.image_of(&user.id);
        json!({
            "id": user.id,
            "object": "user",
            "external_id": user.external_id,
            "primary_email_address_id": user.primary_email_address_id,
            "primary_phone_number_id": user.primary_phone_number_id,
            "primary_web3_wallet_id": user.primary_web3_wallet_id,
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "locale": user.locale,
            "profile_image_url": image_url,
            "image_url": image_url,
            "has_image": has_image,
            "public_metadata": user.public_metadata,
            "private_metadata": user.private_metadata,
            "unsafe_metadata": user.unsafe_metadata,
            "email_addresses": user.emails.iter().map(email_json).collect::<Vec<_>>(),
            "phone_numbers": user.phones.iter().map(phone_json).collect::<Vec<_>>(),
            "web3_wallets": user.web3_wallets.iter().map(web3_json).collect::<Vec<_>>(),
            "passkeys": [],
            "password_enabled": user.password_enabled,
            "two_factor_enabled": two_factor || user.phones.iter().any(|p| p.reserved_for_second_factor),
            "totp_enabled": user.totp_enabled,
            "backup_code_enabled": user.backup_code_enabled,
            "mfa_enabled_at": user.mfa_enabled_at,
            "mfa_disabled_at": user.mfa_disabled_at,
            "password_last_updated_at": user.password_last_updated_at,
            "external_accounts": [],
            "saml_accounts": [],
            "enterprise_accounts": [],
            "last_sign_in_at": user.last_sign_in_at,
            "banned": user.banned,
            "locked": user.locked,
            "deprovisioned": false,
            "lockout_expires_in_seconds": Value::Null,
            "verification_attempts_remaining": Value::Null,
            "updated_at": user.updated_at,
            "created_at": user.created_at,
            "delete_self_enabled": user.delete_self_enabled,
            "create_organization_enabled": user.create_organization_enabled,
            "create_organizations_limit": user.create_organizations_limit,
            "last_active_at": user.last_active_at,
            "legal_accepted_at": user.legal_accepted_at,
            "bypass_client_trust": user.bypass_client_trust,
        })
    }

    pub fn session_json(&self, session: &Session) -> Value {
        json!({
            "object": "session",
            "id": session.id,
            "user_id": session.user_id,
            "client_id": session.client_id,
            "actor": Value::Null,
            "status": session.status,
            "last_active_organization_id": session.last_active_organization_id,
            "last_active_at": session.last_active_at,
            "latest_activity": Value::Null,
            "expire_at": session.expire_at,
            "abandon_at": session.abandon_at,
            "updated_at": session.updated_at,
            "created_at": session.created_at,
            "tasks": [],
        })
    }

    pub fn organization_json(&self, organization: &Organization) -> Value {
        let members = self.members_count(&organization.id);
        let pending = self
            .organization_invitations
            .values()
            .filter(|i| i.organization_id == organization.id && i.status == "pending")
            .count();
        let (image_url, has_image) = self.image_of(&organization.id);
        let mut value = json!({
            "object": "organization",
            "id": organization.id,
            "name": organization.name,
            "slug": organization.slug,
            "image_url": image_url,
            "has_image": has_image,
            "members_count": members,
            "pending_invitations_count": pending,
            "max_allowed_memberships": organization.max_allowed_memberships,
            "admin_delete_enabled": organization.admin_delete_enabled,
            "public_metadata": organization.public_metadata,
            "private_metadata": organization.private_metadata,
            "created_at": organization.created_at,
            "updated_at": organization.updated_at,
            "role_set_key": organization.role_set_key,
        });
        if let (Some(created_by), Some(map)) = (&organization.created_by, value.as_object_mut()) {
            map.insert("created_by".into(), json!(created_by));
        }
        value
    }

    /// `missing_member_with_elevated_permissions`: nobody in the organization is an admin.
    pub fn missing_admin(&self, organization_id: &str) -> bool {
        !self
            .memberships
            .values()
            .any(|m| m.organization_id == organization_id && m.role == "org:admin")
    }

    pub fn membership_json(&self, membership: &Membership) -> Value {
        let organization = self
            .organizations
            .get(&membership.organization_id)
            .map(|o| self.organization_json(o))
            .unwrap_or(Value::Null);
        let user = self.users.get(&membership.user_id);
        let (image_url, has_image) = self.image_of(&membership.user_id);
        let public_user_data = json!({
            "user_id": membership.user_id,
            "first_name": user.and_then(|u| u.first_name.clone()),
            "last_name": user.and_then(|u| u.last_name.clone()),
            "profile_image_url": image_url,
            "image_url": image_url,
            "has_image": has_image,
            "identifier": user.and_then(User::identifier),
            "username": user.and_then(|u| u.username.clone()),
            "banned": user.is_some_and(|u| u.banned),
            "deprovisioned": false,
        });
        json!({
            "object": "organization_membership",
            "id": membership.id,
            "role": membership.role,
            "role_name": role_name(&membership.role),
            "permissions": permissions(&membership.role),
            "public_metadata": membership.public_metadata,
            "private_metadata": membership.private_metadata,
            "organization": organization,
            "public_user_data": public_user_data,
            "created_at": membership.created_at,
            "updated_at": membership.updated_at,
        })
    }

    pub fn organization_invitation_json(&self, invitation: &OrganizationInvitation) -> Value {
        let inviter = invitation
            .inviter_id
            .as_deref()
            .and_then(|id| self.users.get(id))
            .map(|user| {
                let (image_url, has_image) = self.image_of(&user.id);
                json!({
                    "user_id": user.id,
                    "first_name": user.first_name,
                    "last_name": user.last_name,
                    "image_url": image_url,
                    "has_image": has_image,
                    "identifier": user.identifier().unwrap_or_else(|| user.id.clone()),
                })
            })
            .unwrap_or(Value::Null);
        json!({
            "object": "organization_invitation",
            "id": invitation.id,
            "email_address": invitation.email_address,
            "role": invitation.role,
            "role_name": role_name(&invitation.role),
            "organization_id": invitation.organization_id,
            "inviter_id": invitation.inviter_id,
            "public_inviter_data": inviter,
            "status": invitation.status,
            "public_metadata": invitation.public_metadata,
            "private_metadata": invitation.private_metadata,
            "url": invitation.url,
            "expires_at": invitation.expires_at,
            "created_at": invitation.created_at,
            "updated_at": invitation.updated_at,
        })
    }

    pub fn invitation_json(&self, invitation: &Invitation) -> Value {
        json!({
            "object": "invitation",
            "id": invitation.id,
            "email_address": invitation.email_address,
            "public_metadata": invitation.public_metadata,
            "revoked": invitation.status == "revoked",
            "status": invitation.status,
            "url": invitation.url,
            "expires_at": invitation.expires_at,
            "created_at": invitation.created_at,
            "updated_at": invitation.updated_at,
        })
    }

    pub fn sign_in_token_json(&self, token: &SignInToken) -> Value {
        json!({
            "object": "sign_in_token",
            "id": token.id,
            "status": token.status,
            "user_id": token.user_id,
            "token": token.token,
            "url": token.url,
            "created_at": token.created_at,
            "updated_at": token.updated_at,
        })
    }
}

/// Unix milliseconds by the wall clock.
fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Null while unverified; Clerk's `verification_admin` for what the Backend API verified, else
/// the `verification_otp` of the code that verified it.
fn verification_json(identification: &Identification) -> Value {
    match identification.verified_by {
        None => Value::Null,
        Some("admin") => json!({
            "object": "verification_admin",
            "status": "verified",
            "strategy": "admin",
            "attempts": Value::Null,
            "expire_at": Value::Null,
        }),
        Some(strategy) => json!({
            "object": "verification_otp",
            "status": "verified",
            "strategy": strategy,
            "attempts": 1,
            "expire_at": Value::Null,
        }),
    }
}

pub(crate) fn email_json(email: &Identification) -> Value {
    json!({
        "id": email.id,
        "object": "email_address",
        "email_address": email.value,
        "reserved": email.reserved,
        "verification": verification_json(email),
        "linked_to": [],
        "matches_sso_connection": false,
        "created_at": email.created_at,
        "updated_at": email.updated_at,
    })
}

pub(crate) fn phone_json(phone: &Identification) -> Value {
    json!({
        "id": phone.id,
        "object": "phone_number",
        "phone_number": phone.value,
        "reserved_for_second_factor": phone.reserved_for_second_factor,
        "default_second_factor": phone.default_second_factor,
        "reserved": phone.reserved,
        "verification": verification_json(phone),
        "linked_to": [],
        "backup_codes": Value::Null,
        "created_at": phone.created_at,
        "updated_at": phone.updated_at,
    })
}

fn web3_json(wallet: &Identification) -> Value {
    json!({
        "id": wallet.id,
        "object": "web3_wallet",
        "web3_wallet": wallet.value,
        "verification": verification_json(wallet),
        "created_at": wallet.created_at,
        "updated_at": wallet.updated_at,
    })
}

/// `org:admin` → `Admin`, `org:billing_manager` → `Billing manager`.
pub(crate) fn role_name(role: &str) -> String {
    let key = role.strip_prefix("org:").unwrap_or(role).replace('_', " ");
    let mut chars = key.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The system permissions of Clerk's default roles; custom roles have none here.
fn permissions(role: &str) -> Vec<&'static str> {
    match role {
        "org:admin" | "admin" => vec![
            "org:sys_profile:manage",
            "org:sys_profile:delete",
            "org:sys_memberships:read",
            "org:sys_memberships:manage",
            "org:sys_domains:read",
            "org:sys_domains:manage",
        ],
        "org:member" | "basic_member" => vec!["org:sys_memberships:read"],
        _ => Vec::new(),
    }
}

/// Clerk's metadata merge: objects merge recursively, `null` removes a key, anything else replaces.
pub(crate) fn merge_metadata(target: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (key, value) in patch {
        match value {
            Value::Null => {
                target.remove(key);
            }
            Value::Object(patch_object) => match target.get_mut(key) {
                Some(Value::Object(existing)) => merge_metadata(existing, patch_object),
                _ => {
                    let mut fresh = Map::new();
                    merge_metadata(&mut fresh, patch_object);
                    target.insert(key.clone(), Value::Object(fresh));
                }
            },
            other => {
                target.insert(key.clone(), other.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Store;

    #[test]
    fn seeded_users_end_now_one_millisecond_apart_and_later_objects_follow() {
        let mut store = Store::new();
        let before = super::wall_ms();
        store.seed(5_000, 0);
        let created: Vec<i64> = store.users.values().map(|u| u.created_at).collect();
        assert!(created.windows(2).all(|pair| pair[1] == pair[0] + 1));
        let last = created.last().copied().unwrap_or_default();
        assert!(last <= super::wall_ms(), "not in the future");
        assert!(created[0] >= before - 5_000);
        // The next object is newer than every seeded one, and so is a second seed.
        assert!(store.now_ms() > last);
        store.seed(3, 0);
        let newest = store.users.values().map(|u| u.created_at).max();
        assert!(newest > Some(last));
    }

    #[test]
    fn collections_hold_json_objects_whose_ids_cannot_be_pinned_and_clones_are_independent() {
        let mut store = Store::new();
        assert!(store.collection("jwt_templates").is_none());
        store
            .collection_mut("jwt_templates")
            .insert("jtmp_1".into(), serde_json::json!({"id": "jtmp_1"}));
        assert!(!store.can_pin("jtmp_1"));
        assert!(store.can_pin("jtmp_2"));
        let saved = store.clone();
        store.collection_mut("jwt_templates").clear();
        assert_eq!(saved.collection("jwt_templates").map(|c| c.len()), Some(1));
        assert_eq!(store.collection("jwt_templates").map(|c| c.len()), Some(0));
    }

    #[test]
    fn pinned_ids_are_handed_out_by_prefix_in_order_then_random_ones() {
        let mut store = Store::new();
        assert!(store.can_pin("user_2abc123"));
        assert!(!store.can_pin("nounderscore"));
        assert!(!store.can_pin("user_"));
        store.pin_id("user_2abc123");
        store.pin_id("orginv_1");
        store.pin_id("user_2def456");
        assert!(!store.can_pin("user_2def456"), "already pinned");
        // `org_` and `inv_` queues are not `orginv_`'s.
        assert_ne!(store.new_id("org_"), "orginv_1");
        assert_ne!(store.new_id("inv_"), "orginv_1");
        assert_eq!(store.new_id("user_"), "user_2abc123");
        assert_eq!(store.new_id("orginv_"), "orginv_1");
        assert_eq!(store.new_id("user_"), "user_2def456");
        let random = store.new_id("user_");
        assert!(random.starts_with("user_") && random.len() > "user_2def456".len());
    }
}
