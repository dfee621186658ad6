//! Every generated Clerk function, called through the real HTTP transport against the emulator:
//! the exact request the emulator received and the parsed result.

use std::collections::BTreeSet;

use kosmo_integrations::clerk;
use kosmo_tests::{
    CoverageWalk, Harness, assert_clerk_id, assert_multipart_request, bare, get, with_body,
};
use serde_json::json;

#[tokio::test]
async fn every_function_sends_the_documented_request_and_returns_clerks_answer() {
    let mut run = CoverageWalk::start().await;
    let user_id = users(&mut run).await;
    sessions(&mut run, &user_id).await;
    organizations(&mut run, &user_id).await;
    invitations_and_tokens(&mut run, &user_id).await;
    images(&mut run, &user_id).await;
    raw_helpers(&mut run).await;
    deletions(&mut run, &user_id).await;

    // This walk covers the families the reference had; the functions imported from Clerk's
    // OpenAPI document since are called end to end by every_function.rs and by their own test
    // files (tests/tests/<family>.rs and the like), which name each of them.
    let reference_families = [
        "raw",
        "users",
        "sessions",
        "organizations",
        "organization_memberships",
        "organization_invitations",
        "invitations",
        "sign_in_tokens",
    ];
    let all: BTreeSet<&str> = clerk::meta::PROVIDER
        .functions
        .iter()
        .filter(|f| reference_families.contains(&f.group))
        .map(|f| f.name)
        .collect();
    // Functions added family by family are checked in tests/tests/<family>.rs instead, each
    // called there by name.
    let elsewhere = other_end_to_end_sources();
    let missed: Vec<_> = all
        .difference(&run.covered)
        .filter(|f| !elsewhere.contains(&format!("\"{f}\"")))
        .collect();
    assert!(
        missed.is_empty(),
        "functions without an end-to-end check: {missed:?}"
    );
    assert!(all.len() >= 41, "{}", all.len());
}

/// The other end-to-end test files' sources.
fn other_end_to_end_sources() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut sources = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("clerk_end_to_end.rs") {
            sources += &std::fs::read_to_string(path).unwrap();
        }
    }
    sources
}

async fn users(run: &mut CoverageWalk) -> String {
    let created = run
        .check(
            "create_user",
            json!({
                "email_address": ["ada@example.test"],
                "first_name": "Ada",
                "last_name": "Lovelace",
                "username": "ada",
                "external_id": "ext-ada",
                "public_metadata": {"plan": "pro"},
                "skip_password_requirement": true,
            }),
            with_body(
                "POST",
                "/v1/users",
                json!({
                    "email_address": ["ada@example.test"],
                    "first_name": "Ada",
                    "last_name": "Lovelace",
                    "username": "ada",
                    "external_id": "ext-ada",
                    "public_metadata": {"plan": "pro"},
                    "skip_password_requirement": true,
                }),
            ),
        )
        .await;
    assert_eq!(created["object"], "user");
    assert_clerk_id(&created["id"], "user_");
    assert_eq!(created["first_name"], "Ada");
    assert_eq!(
        created["email_addresses"][0]["email_address"],
        "ada@example.test"
    );
    assert_eq!(created["public_metadata"], json!({"plan": "pro"}));
    assert!(
        created["created_at"].as_i64().unwrap() > 1_600_000_000_000,
        "milliseconds"
    );
    let user_id = created["id"].as_str().unwrap().to_string();
    let user_path = format!("/v1/users/{user_id}");

    // A second user, so filters have something to filter out.
    run.harness
        .call(
            "create_user",
            json!({"email_address": ["grace@example.test"], "first_name": "Grace"}),
        )
        .await
        .unwrap();

    let listed = run
        .check(
            "list_users",
            json!({
                "email_address": ["ada@example.test", "nobody@example.test"],
                "limit": 5,
                "offset": 0,
                "order_by": "-created_at",
                "banned": false,
            }),
            get(
                "/v1/users",
                &[
                    ("limit", "5"),
                    ("offset", "0"),
                    ("order_by", "-created_at"),
                    ("email_address", "ada@example.test"),
                    ("email_address", "nobody@example.test"),
                    ("banned", "false"),
                ],
            ),
        )
        .await;
    let listed = listed.as_array().expect("/users answers a bare array");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], user_id.as_str());

    let count = run
        .check(
            "count_users",
            json!({"query": "grace"}),
            get("/v1/users/count", &[("query", "grace")]),
        )
        .await;
    assert_eq!(count, json!({"object": "total_count", "total_count": 1}));

    let fetched = run
        .check("get_user", json!({"id": user_id}), get(&user_path, &[]))
        .await;
    assert_eq!(fetched["id"], user_id.as_str());
    // The endpoint's own name for the parameter works too.
    let by_alias = run
        .harness
        .call("get_user", json!({"user_id": user_id}))
        .await
        .unwrap();
    assert_eq!(by_alias["id"], user_id.as_str());

    let updated = run
        .check(
            "update_user",
            json!({"id": user_id, "first_name": "Augusta", "locale": "en-GB"}),
            with_body(
                "PATCH",
                &user_path,
                json!({"first_name": "Augusta", "locale": "en-GB"}),
            ),
        )
        .await;
    assert_eq!(updated["first_name"], "Augusta");

    let merged = run
        .check(
            "update_user_metadata",
            json!({"user_id": user_id, "public_metadata": {"seats": 3}, "private_metadata": {"note": "vip"}}),
            with_body(
                "PATCH",
                &format!("{user_path}/metadata"),
                json!({"public_metadata": {"seats": 3}, "private_metadata": {"note": "vip"}}),
            ),
        )
        .await;
    assert_eq!(
        merged["public_metadata"],
        json!({"plan": "pro", "seats": 3})
    );
    assert_eq!(merged["private_metadata"], json!({"note": "vip"}));

    for (function, action, field, value) in [
        ("ban_user", "ban", "banned", true),
        ("unban_user", "unban", "banned", false),
        ("lock_user", "lock", "locked", true),
        ("unlock_user", "unlock", "locked", false),
    ] {
        let user = run
            .check(
                function,
                json!({"user_id": user_id}),
                bare("POST", &format!("{user_path}/{action}")),
            )
            .await;
        assert_eq!(user["object"], "user");
        assert_eq!(user[field], value, "{function}");
    }

    let health = run
        .check(
            "health_check",
            json!({}),
            get("/v1/users", &[("limit", "1")]),
        )
        .await;
    assert_eq!(health["connected"], true);
    assert_eq!(health["data"].as_array().unwrap().len(), 1);
    user_id
}

async fn sessions(run: &mut CoverageWalk, user_id: &str) {
    let session = run
        .harness
        .call(
            "api_post",
            json!({"path": "/sessions", "body": {"user_id": user_id}}),
        )
        .await
        .unwrap();
    assert_clerk_id(&session["id"], "sess_");
    let session_id = session["id"].as_str().unwrap();

    let page = run
        .check(
            "list_sessions",
            json!({"user_id": user_id, "status": "active", "paginated": true, "limit": 10}),
            get(
                "/v1/sessions",
                &[
                    ("user_id", user_id),
                    ("status", "active"),
                    ("paginated", "true"),
                    ("limit", "10"),
                ],
            ),
        )
        .await;
    assert_eq!(page["total_count"], 1);
    assert_eq!(page["data"][0]["id"], session_id);
    assert_eq!(page["data"][0]["object"], "session");

    let fetched = run
        .check(
            "get_session",
            json!({"session_id": session_id}),
            get(&format!("/v1/sessions/{session_id}"), &[]),
        )
        .await;
    assert_eq!(fetched["user_id"], user_id);

    let revoked = run
        .check(
            "revoke_session",
            json!({"session_id": session_id}),
            bare("POST", &format!("/v1/sessions/{session_id}/revoke")),
        )
        .await;
    assert_eq!(revoked["status"], "revoked");
}

async fn organizations(run: &mut CoverageWalk, user_id: &str) {
    let org = run
        .check(
            "create_organization",
            json!({"name": "Analytical Engines", "created_by": user_id, "slug": "engines", "max_allowed_memberships": 5}),
            with_body(
                "POST",
                "/v1/organizations",
                json!({"name": "Analytical Engines", "created_by": user_id, "slug": "engines", "max_allowed_memberships": 5}),
            ),
        )
        .await;
    assert_eq!(org["object"], "organization");
    assert_clerk_id(&org["id"], "org_");
    let org_id = org["id"].as_str().unwrap().to_string();
    let org_path = format!("/v1/organizations/{org_id}");

    let listed = run
        .check(
            "list_organizations",
            json!({"query": "engines", "include_members_count": true, "limit": 20}),
            get(
                "/v1/organizations",
                &[
                    ("query", "engines"),
                    ("limit", "20"),
                    ("include_members_count", "true"),
                ],
            ),
        )
        .await;
    assert_eq!(listed["total_count"], 1);
    assert_eq!(
        listed["data"][0]["members_count"], 1,
        "created_by is a member"
    );

    let fetched = run
        .check(
            "get_organization",
            json!({"organization_id": org_id, "include_members_count": true}),
            get(&org_path, &[("include_members_count", "true")]),
        )
        .await;
    assert_eq!(fetched["slug"], "engines");

    let renamed = run
        .check(
            "update_organization",
            json!({"organization_id": org_id, "name": "Difference Engines", "admin_delete_enabled": false}),
            with_body(
                "PATCH",
                &org_path,
                json!({"name": "Difference Engines", "admin_delete_enabled": false}),
            ),
        )
        .await;
    assert_eq!(renamed["name"], "Difference Engines");
    assert_eq!(renamed["admin_delete_enabled"], false);

    let merged = run
        .check(
            "update_organization_metadata",
            json!({"organization_id": org_id, "public_metadata": {"tier": "gold"}}),
            with_body(
                "PATCH",
                &format!("{org_path}/metadata"),
                json!({"public_metadata": {"tier": "gold"}}),
            ),
        )
        .await;
    assert_eq!(merged["public_metadata"], json!({"tier": "gold"}));

    // Memberships: the creator is an admin; add a second user as a member.
    let member = run
        .harness
        .call(
            "create_user",
            json!({"email_address": ["charles@example.test"]}),
        )
        .await
        .unwrap();
    let member_id = member["id"].as_str().unwrap();
    let membership = run
        .check(
            "create_organization_membership",
            json!({"organization_id": org_id, "user_id": member_id, "role": "org:member"}),
            with_body(
                "POST",
                &format!("{org_path}/memberships"),
                json!({"user_id": member_id, "role": "org:member"}),
            ),
        )
        .await;
    assert_eq!(membership["object"], "organization_membership");
    assert_clerk_id(&membership["id"], "orgmem_");
    assert_eq!(membership["organization"]["id"], org_id.as_str());
    assert_eq!(membership["public_user_data"]["user_id"], member_id);

    let memberships = run
        .check(
            "list_organization_memberships",
            json!({"organization_id": org_id, "role": ["org:admin"], "limit": 10}),
            get(
                &format!("{org_path}/memberships"),
                &[("limit", "10"), ("role", "org:admin")],
            ),
        )
        .await;
    assert_eq!(memberships["total_count"], 1);
    assert_eq!(
        memberships["data"][0]["public_user_data"]["user_id"],
        user_id
    );

    let promoted = run
        .check(
            "update_organization_membership",
            json!({"organization_id": org_id, "user_id": member_id, "role": "org:admin"}),
            with_body(
                "PATCH",
                &format!("{org_path}/memberships/{member_id}"),
                json!({"role": "org:admin"}),
            ),
        )
        .await;
    assert_eq!(promoted["role"], "org:admin");

    let removed = run
        .check(
            "delete_organization_membership",
            json!({"organization_id": org_id, "user_id": member_id}),
            bare("DELETE", &format!("{org_path}/memberships/{member_id}")),
        )
        .await;
    assert_eq!(removed["object"], "organization_membership");

    // Organization invitations.
    let invitation = run
        .check(
            "create_organization_invitation",
            json!({"organization_id": org_id, "email_address": "babbage@example.test", "role": "org:member", "inviter_user_id": user_id}),
            with_body(
                "POST",
                &format!("{org_path}/invitations"),
                json!({"email_address": "babbage@example.test", "role": "org:member", "inviter_user_id": user_id}),
            ),
        )
        .await;
    assert_eq!(invitation["object"], "organization_invitation");
    assert_clerk_id(&invitation["id"], "orginv_");
    assert_eq!(invitation["status"], "pending");
    let invitation_id = invitation["id"].as_str().unwrap();

    let pending = run
        .check(
            "list_organization_invitations",
            json!({"organization_id": org_id, "status": "pending"}),
            get(&format!("{org_path}/invitations"), &[("status", "pending")]),
        )
        .await;
    assert_eq!(pending["total_count"], 1);

    let revoked = run
        .check(
            "revoke_organization_invitation",
            json!({"organization_id": org_id, "invitation_id": invitation_id, "requesting_user_id": user_id}),
            with_body(
                "POST",
                &format!("{org_path}/invitations/{invitation_id}/revoke"),
                json!({"requesting_user_id": user_id}),
            ),
        )
        .await;
    assert_eq!(revoked["status"], "revoked");

    let gone = run
        .check(
            "delete_organization",
            json!({"organization_id": org_id}),
            bare("DELETE", &org_path),
        )
        .await;
    // Clerk's DeletedObject: object, id, deleted (and, for organizations, the slug).
    assert_eq!(
        (&gone["object"], &gone["id"], &gone["deleted"]),
        (&json!("organization"), &json!(org_id), &json!(true))
    );
}

async fn invitations_and_tokens(run: &mut CoverageWalk, user_id: &str) {
    let invitation = run
        .check(
            "create_invitation",
            json!({"email_address": "ida@example.test", "notify": false, "expires_in_days": 7, "public_metadata": {"source": "test"}}),
            with_body(
                "POST",
                "/v1/invitations",
                json!({"email_address": "ida@example.test", "public_metadata": {"source": "test"}, "notify": false, "expires_in_days": 7}),
            ),
        )
        .await;
    assert_eq!(invitation["object"], "invitation");
    assert_clerk_id(&invitation["id"], "inv_");
    let invitation_id = invitation["id"].as_str().unwrap();

    let listed = run
        .check(
            "list_invitations",
            json!({"status": "pending", "query": "ida", "limit": 3}),
            get(
                "/v1/invitations",
                &[("status", "pending"), ("query", "ida"), ("limit", "3")],
            ),
        )
        .await;
    let listed = listed.as_array().expect("bare array without paginated");
    assert_eq!(listed.len(), 1);

    let revoked = run
        .check(
            "revoke_invitation",
            json!({"invitation_id": invitation_id}),
            bare("POST", &format!("/v1/invitations/{invitation_id}/revoke")),
        )
        .await;
    assert_eq!(revoked["revoked"], true);
    assert_eq!(revoked["status"], "revoked");

    let token = run
        .check(
            "create_sign_token",
            json!({"user_id": user_id, "expires_in_seconds": 600}),
            with_body(
                "POST",
                "/v1/sign_in_tokens",
                json!({"user_id": user_id, "expires_in_seconds": 600}),
            ),
        )
        .await;
    assert_eq!(token["object"], "sign_in_token");
    assert_clerk_id(&token["id"], "sit_");
    assert!(token["token"].as_str().is_some_and(|t| !t.is_empty()));
    let token_id = token["id"].as_str().unwrap();

    let revoked = run
        .check(
            "revoke_sign_token",
            json!({"sign_in_token_id": token_id}),
            bare("POST", &format!("/v1/sign_in_tokens/{token_id}/revoke")),
        )
        .await;
    assert_eq!(revoked["status"], "revoked");
}

async fn raw_helpers(run: &mut CoverageWalk) {
    let listed = run
        .check(
            "api_get",
            json!({"path": "/users", "query": {"limit": 2, "order_by": "-created_at", "email_address": ["ada@example.test", "grace@example.test"]}}),
            get(
                "/v1/users",
                &[
                    ("limit", "2"),
                    ("order_by", "-created_at"),
                    ("email_address", "ada@example.test"),
                    ("email_address", "grace@example.test"),
                ],
            ),
        )
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 2);

    let created = run
        .check(
            "api_post",
            json!({"path": "/users", "body": {"email_address": ["raw@example.test"], "first_name": "Raw"}}),
            with_body(
                "POST",
                "/v1/users",
                json!({"email_address": ["raw@example.test"], "first_name": "Raw"}),
            ),
        )
        .await;
    let raw_id = created["id"].as_str().unwrap();

    // The full base URL is accepted as a prefix and stripped.
    let base = run.harness.emulator.base_url();
    let patched = run
        .check(
            "api_patch",
            json!({"path": format!("{base}/users/{raw_id}"), "body": {"last_name": "Helper"}}),
            with_body(
                "PATCH",
                &format!("/v1/users/{raw_id}"),
                json!({"last_name": "Helper"}),
            ),
        )
        .await;
    assert_eq!(patched["last_name"], "Helper");

    let deleted = run
        .check(
            "api_delete",
            json!({"path": format!("users/{raw_id}")}),
            bare("DELETE", &format!("/v1/users/{raw_id}")),
        )
        .await;
    assert_eq!(deleted["deleted"], true);
}

/// A 1x1 PNG, as base64 and as bytes.
const PNG_BASE64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR4nGNgAAIAAAUAAXpeqz8AAAAASUVORK5CYII=";

fn png() -> Vec<u8> {
    kosmo_runtime::FileArg::from_json(&json!({"content_base64": PNG_BASE64}))
        .unwrap()
        .content
        .to_vec()
}

/// The multipart uploads: the file part's name, filename, type and bytes, and the text fields.
async fn images(run: &mut CoverageWalk, user_id: &str) {
    let file = json!({"content_base64": PNG_BASE64, "filename": "avatar.png"});
    let (result, request) = run
        .harness
        .call_once(
            "set_user_profile_image",
            json!({"user_id": user_id, "file": file}),
        )
        .await;
    let parts = assert_multipart_request(
        &request,
        &run.key,
        "POST",
        &format!("/v1/users/{user_id}/profile_image"),
    );
    assert_eq!(parts.len(), 1);
    assert_eq!(
        (
            parts[0].name.as_str(),
            parts[0].filename.as_deref(),
            parts[0].content_type.as_deref()
        ),
        ("file", Some("avatar.png"), Some("image/png"))
    );
    assert_eq!(parts[0].data, png());
    assert_eq!(result["has_image"], true);
    run.covered.insert("set_user_profile_image");

    let cleared = run
        .check(
            "delete_user_profile_image",
            json!({"user_id": user_id}),
            bare("DELETE", &format!("/v1/users/{user_id}/profile_image")),
        )
        .await;
    assert_eq!(cleared["has_image"], false);

    let org = run
        .harness
        .call("create_organization", json!({"name": "Logo Works"}))
        .await
        .unwrap();
    let org_id = org["id"].as_str().unwrap();
    let logo =
        json!({"content_base64": PNG_BASE64, "filename": "logo.png", "content_type": "image/png"});
    let (result, request) = run
        .harness
        .call_once(
            "upload_organization_logo",
            json!({"organization_id": org_id, "file": logo, "uploader_user_id": user_id}),
        )
        .await;
    let parts = assert_multipart_request(
        &request,
        &run.key,
        "PUT",
        &format!("/v1/organizations/{org_id}/logo"),
    );
    // Text fields first, then the file.
    let names: Vec<(&str, Option<&str>)> = parts
        .iter()
        .map(|p| (p.name.as_str(), p.filename.as_deref()))
        .collect();
    assert_eq!(
        names,
        [("uploader_user_id", None), ("file", Some("logo.png"))]
    );
    assert_eq!(parts[0].text(), Some(user_id));
    assert_eq!(parts[1].data, png());
    assert_eq!(result["has_image"], true);
    assert_eq!(result["logo_url"], result["image_url"]);
    run.covered.insert("upload_organization_logo");

    let cleared = run
        .check(
            "delete_organization_logo",
            json!({"organization_id": org_id}),
            bare("DELETE", &format!("/v1/organizations/{org_id}/logo")),
        )
        .await;
    assert_eq!(cleared["has_image"], false);
}

async fn deletions(run: &mut CoverageWalk, user_id: &str) {
    let deleted = run
        .check(
            "delete_user",
            json!({"id": user_id}),
            bare("DELETE", &format!("/v1/users/{user_id}")),
        )
        .await;
    assert_eq!(
        deleted,
        json!({"object": "user", "id": user_id, "deleted": true})
    );
    let error = run
        .harness
        .call("get_user", json!({"id": user_id}))
        .await
        .unwrap_err();
    assert!(
        error.to_string().starts_with("Clerk API error (404): "),
        "{error}"
    );
}

#[tokio::test]
async fn lua_scripts_reach_the_emulator_through_the_host() {
    let harness = Harness::start().await;
    harness.emulator.seed(3, 0);
    let host = kosmo_host::Host::builder()
        .integrations(&kosmo_integrations::INTEGRATIONS)
        .credentials(kosmo_host::CredentialMap::new().with(
            "clerk",
            "default",
            kosmo_tests::credentials_for(&harness.emulator),
        ))
        .http(kosmo_tests::quick_retries())
        .build()
        .unwrap();
    let report = host
        .run(
            r#"
            local clerk = app.integrations.clerk
            local total = clerk.count_users({})
            local users = clerk.list_users({ limit = 2 })
            -- API errors reach Lua as errors with the original prefix.
            local ok, err = pcall(clerk.get_user, { id = "user_missing" })
            return total.total_count, users[1].object, tostring(err)
            "#,
            kosmo_host::RunOptions::default(),
        )
        .await;
    assert_eq!(report.error, None);
    let result = report.result.unwrap();
    assert_eq!(result[..2], [json!(3), json!("user")]);
    let message = result[2].as_str().unwrap();
    assert!(message.contains("Clerk API error (404): "), "{message}");
    let paths: Vec<String> = report.calls.iter().map(|c| c.path()).collect();
    assert_eq!(
        paths,
        [
            "integrations.clerk.count_users",
            "integrations.clerk.list_users",
            "integrations.clerk.get_user"
        ]
    );
}
