//! The functions of the allowlist_blocklist, waitlist_entries, domains, redirect_urls and
//! jwt_templates families, called through the real HTTP transport against the emulator: the
//! exact request the emulator received, the parsed answer, and round trips through the
//! emulator's state (create, read back, list with filters and paging, update, delete, then the
//! error a deleted object gives).

use std::collections::BTreeSet;

use kosmo_integrations::clerk;
use kosmo_runtime::Error;
use kosmo_tests::{CoverageWalk, assert_clerk_id, bare, get, with_body};
use serde_json::{Value, json};

/// The functions these families add; each must be checked below.
const FUNCTIONS: &[&str] = &[
    "list_allowlist_identifiers",
    "create_allowlist_identifier",
    "delete_allowlist_identifier",
    "list_blocklist_identifiers",
    "create_blocklist_identifier",
    "delete_blocklist_identifier",
    "list_waitlist_entries",
    "create_waitlist_entry",
    "delete_waitlist_entry",
    "invite_waitlist_entry",
    "reject_waitlist_entry",
    "list_domains",
    "add_domain",
    "update_domain",
    "delete_domain",
    "list_redirect_urls",
    "create_redirect_url",
    "get_redirect_url",
    "delete_redirect_url",
    "list_jwt_templates",
    "create_jwt_template",
    "get_jwt_template",
    "update_jwt_template",
    "delete_jwt_template",
    "get_jwks",
];

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_string()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .or_else(|| list["data"].as_array())
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(id)
        .collect()
}

#[tokio::test]
async fn every_function_of_these_families_sends_its_request_and_round_trips() {
    let mut run = CoverageWalk::start().await;
    allowlist_and_blocklist(&mut run).await;
    waitlist(&mut run).await;
    domains(&mut run).await;
    redirect_urls(&mut run).await;
    jwt_templates(&mut run).await;

    let expected: BTreeSet<&str> = FUNCTIONS.iter().copied().collect();
    let missed: Vec<_> = expected.difference(&run.covered).collect();
    assert!(missed.is_empty(), "functions not checked: {missed:?}");
    let families = [
        "allowlist_blocklist",
        "waitlist_entries",
        "domains",
        "redirect_urls",
        "jwt_templates",
    ];
    let in_families: BTreeSet<&str> = clerk::meta::PROVIDER
        .functions
        .iter()
        .filter(|f| families.contains(&f.group))
        .map(|f| f.name)
        // Its JSON-array body is checked with the other bulk functions in bulk_bodies.rs.
        .filter(|name| *name != "create_waitlist_entries")
        .collect();
    assert_eq!(in_families, expected);
}

async fn allowlist_and_blocklist(run: &mut CoverageWalk) {
    let domain = run
        .check(
            "create_allowlist_identifier",
            json!({"identifier": "*@acme.example.test"}),
            with_body(
                "POST",
                "/v1/allowlist_identifiers",
                json!({"identifier": "*@acme.example.test"}),
            ),
        )
        .await;
    assert_eq!(domain["object"], "allowlist_identifier");
    assert_clerk_id(&domain["id"], "alid_");
    assert_eq!(domain["identifier_type"], "email_address");
    let invited = run
        .call(
            "create_allowlist_identifier",
            json!({"identifier": "ada@example.test", "notify": true}),
        )
        .await;
    assert_clerk_id(&invited["invitation_id"], "inv_");
    // The invitation it sent is an application invitation.
    let invitations = run.call("list_invitations", json!({})).await;
    assert_eq!(
        ids(&invitations),
        [invited["invitation_id"].as_str().unwrap()]
    );
    let phone = run
        .call(
            "create_allowlist_identifier",
            json!({"identifier": "+15555550100"}),
        )
        .await;
    assert_eq!(phone["identifier_type"], "phone_number");

    let page = run
        .check(
            "list_allowlist_identifiers",
            json!({"paginated": true, "limit": 2, "offset": 1}),
            get(
                "/v1/allowlist_identifiers",
                &[("paginated", "true"), ("limit", "2"), ("offset", "1")],
            ),
        )
        .await;
    assert_eq!(page["total_count"], 3);
    assert_eq!(ids(&page), [id(&invited), id(&domain)]);
    let bare_list = run.call("list_allowlist_identifiers", json!({})).await;
    assert_eq!(bare_list.as_array().map(Vec::len), Some(3));
    assert_eq!(
        run.fails(
            "create_allowlist_identifier",
            json!({"identifier": "*@ACME.example.test"})
        )
        .await,
        (400, "duplicate_record".to_string())
    );
    assert_eq!(
        run.fails(
            "create_allowlist_identifier",
            json!({"identifier": "acme.example.test"})
        )
        .await,
        (422, "form_param_format_invalid".to_string())
    );

    let path = format!("/v1/allowlist_identifiers/{}", id(&domain));
    let deleted = run
        .check(
            "delete_allowlist_identifier",
            json!({"identifier_id": id(&domain)}),
            bare("DELETE", &path),
        )
        .await;
    assert_eq!(
        deleted,
        json!({"object": "allowlist_identifier", "id": id(&domain), "deleted": true})
    );
    let after = run.call("list_allowlist_identifiers", json!({})).await;
    assert_eq!(ids(&after), [id(&phone), id(&invited)]);
    assert_eq!(
        run.fails(
            "delete_allowlist_identifier",
            json!({"identifier_id": id(&domain)})
        )
        .await,
        (404, "resource_not_found".to_string())
    );

    let blocked = run
        .check(
            "create_blocklist_identifier",
            json!({"identifier": "0x00000000000000000000000000000000000000bb"}),
            with_body(
                "POST",
                "/v1/blocklist_identifiers",
                json!({"identifier": "0x00000000000000000000000000000000000000bb"}),
            ),
        )
        .await;
    assert_eq!(blocked["object"], "blocklist_identifier");
    assert_clerk_id(&blocked["id"], "blid_");
    assert_eq!(blocked["identifier_type"], "web3_wallet");
    let spam = run
        .call(
            "create_blocklist_identifier",
            json!({"identifier": "*@spam.example.test"}),
        )
        .await;
    let list = run
        .check(
            "list_blocklist_identifiers",
            json!({}),
            get("/v1/blocklist_identifiers", &[]),
        )
        .await;
    assert_eq!(list["total_count"], 2);
    assert_eq!(ids(&list), [id(&spam), id(&blocked)]);
    let path = format!("/v1/blocklist_identifiers/{}", id(&spam));
    let deleted = run
        .check(
            "delete_blocklist_identifier",
            json!({"identifier_id": id(&spam)}),
            bare("DELETE", &path),
        )
        .await;
    assert_eq!(deleted["deleted"], true);
    let list = run.call("list_blocklist_identifiers", json!({})).await;
    assert_eq!(ids(&list), [id(&blocked)]);
    assert_eq!(
        run.fails(
            "delete_blocklist_identifier",
            json!({"identifier_id": id(&spam)})
        )
        .await,
        (404, "resource_not_found".to_string())
    );
}

async fn waitlist(run: &mut CoverageWalk) {
    let grace = run
        .check(
            "create_waitlist_entry",
            json!({"email_address": "grace@example.test", "notify": false}),
            with_body(
                "POST",
                "/v1/waitlist_entries",
                json!({"email_address": "grace@example.test", "notify": false}),
            ),
        )
        .await;
    assert_eq!(grace["object"], "waitlist_entry");
    assert_clerk_id(&grace["id"], "wle_");
    assert_eq!(grace["status"], "pending");
    assert_eq!(grace["invitation"], Value::Null);
    let again = run
        .call(
            "create_waitlist_entry",
            json!({"email_address": "grace@example.test"}),
        )
        .await;
    assert_eq!(again["id"], grace["id"]);
    let linus = run
        .call(
            "create_waitlist_entry",
            json!({"email_address": "linus@example.test", "notify": false}),
        )
        .await;
    let margaret = run
        .call(
            "create_waitlist_entry",
            json!({"email_address": "margaret@other.test", "notify": false}),
        )
        .await;

    let page = run
        .check(
            "list_waitlist_entries",
            json!({"query": "example.test", "status": "pending", "limit": 1, "offset": 1, "order_by": "+created_at"}),
            get(
                "/v1/waitlist_entries",
                &[
                    ("query", "example.test"),
                    ("status", "pending"),
                    ("limit", "1"),
                    ("offset", "1"),
                    ("order_by", "+created_at"),
                ],
            ),
        )
        .await;
    assert_eq!(page["total_count"], 2);
    assert_eq!(ids(&page), [id(&linus)]);

    let path = format!("/v1/waitlist_entries/{}/invite", id(&grace));
    let invited = run
        .check(
            "invite_waitlist_entry",
            json!({"waitlist_entry_id": id(&grace), "ignore_existing": true}),
            with_body("POST", &path, json!({"ignore_existing": true})),
        )
        .await;
    assert_eq!(invited["status"], "invited");
    assert_clerk_id(&invited["invitation"]["id"], "inv_");
    assert_eq!(invited["invitation"]["email_address"], "grace@example.test");
    // The invitation shows among the application invitations.
    let pending = run
        .call("list_invitations", json!({"query": "grace@example.test"}))
        .await;
    assert_eq!(ids(&pending), [id(&invited["invitation"])]);
    assert_eq!(
        run.fails(
            "invite_waitlist_entry",
            json!({"waitlist_entry_id": id(&grace)})
        )
        .await,
        (409, "waitlist_entry_already_invited".to_string())
    );

    let path = format!("/v1/waitlist_entries/{}/reject", id(&margaret));
    let rejected = run
        .check(
            "reject_waitlist_entry",
            json!({"waitlist_entry_id": id(&margaret)}),
            bare("POST", &path),
        )
        .await;
    assert_eq!(rejected["status"], "rejected");
    let by_status = run
        .call("list_waitlist_entries", json!({"status": "rejected"}))
        .await;
    assert_eq!(ids(&by_status), [id(&margaret)]);
    assert_eq!(
        run.fails(
            "delete_waitlist_entry",
            json!({"waitlist_entry_id": id(&margaret)})
        )
        .await,
        (409, "waitlist_entry_already_rejected".to_string())
    );

    let path = format!("/v1/waitlist_entries/{}", id(&linus));
    let deleted = run
        .check(
            "delete_waitlist_entry",
            json!({"waitlist_entry_id": id(&linus)}),
            bare("DELETE", &path),
        )
        .await;
    assert_eq!(
        deleted,
        json!({"object": "waitlist_entry", "id": id(&linus), "deleted": true})
    );
    let all = run.call("list_waitlist_entries", json!({})).await;
    assert_eq!(ids(&all), [id(&margaret), id(&grace)]);
    assert_eq!(
        run.fails(
            "reject_waitlist_entry",
            json!({"waitlist_entry_id": id(&linus)})
        )
        .await,
        (404, "resource_not_found".to_string())
    );
}

async fn domains(run: &mut CoverageWalk) {
    let list = run
        .check("list_domains", json!({}), get("/v1/domains", &[]))
        .await;
    assert_eq!(list["total_count"], 1);
    let primary = list["data"][0].clone();
    assert_eq!(primary["is_satellite"], false);
    assert_clerk_id(&primary["id"], "dmn_");

    let satellite = run
        .check(
            "add_domain",
            json!({"name": "shop.example.test", "is_satellite": true}),
            with_body(
                "POST",
                "/v1/domains",
                json!({"name": "shop.example.test", "is_satellite": true}),
            ),
        )
        .await;
    assert_eq!(satellite["object"], "domain");
    assert_clerk_id(&satellite["id"], "dmn_");
    assert_eq!(satellite["is_satellite"], true);
    assert_eq!(
        satellite["frontend_api_url"],
        "https://clerk.shop.example.test"
    );
    assert!(satellite["cname_targets"].is_array());
    // A second primary domain is refused before anything is sent (the parameter's enum).
    let primary_again = run
        .harness
        .call(
            "add_domain",
            json!({"name": "other.example.test", "is_satellite": false}),
        )
        .await;
    assert!(
        matches!(primary_again, Err(Error::InvalidArgument { .. })),
        "{primary_again:?}"
    );
    assert_eq!(
        run.fails(
            "add_domain",
            json!({"name": "https://shop.example.test", "is_satellite": true})
        )
        .await,
        (422, "form_param_format_invalid".to_string())
    );

    let path = format!("/v1/domains/{}", id(&satellite));
    let updated = run
        .check(
            "update_domain",
            json!({"domain_id": id(&satellite), "name": "store.example.test", "proxy_url": "https://store.example.test/__clerk"}),
            with_body(
                "PATCH",
                &path,
                json!({"name": "store.example.test", "proxy_url": "https://store.example.test/__clerk"}),
            ),
        )
        .await;
    assert_eq!(updated["name"], "store.example.test");
    assert_eq!(updated["proxy_url"], "https://store.example.test/__clerk");
    assert_eq!(updated["cname_targets"], Value::Null);
    // JSON null clears the proxy: a raw request sends it (a nil argument is not sent).
    let dns = run
        .call(
            "api_patch",
            json!({"path": format!("/domains/{}", id(&satellite)), "body": {"proxy_url": null}}),
        )
        .await;
    assert_eq!(dns["proxy_url"], Value::Null);
    let list = run.call("list_domains", json!({})).await;
    assert_eq!(ids(&list), [id(&primary), id(&satellite)]);
    assert_eq!(list["data"][1]["name"], "store.example.test");

    assert_eq!(
        run.fails("delete_domain", json!({"domain_id": id(&primary)}))
            .await,
        (403, "operation_not_allowed_on_primary_domain".to_string())
    );
    let deleted = run
        .check(
            "delete_domain",
            json!({"domain_id": id(&satellite)}),
            bare("DELETE", &path),
        )
        .await;
    assert_eq!(
        deleted,
        json!({"object": "domain", "id": id(&satellite), "deleted": true})
    );
    assert_eq!(
        run.fails("update_domain", json!({"domain_id": id(&satellite)}))
            .await,
        (404, "resource_not_found".to_string())
    );
}

async fn redirect_urls(run: &mut CoverageWalk) {
    let app = run
        .check(
            "create_redirect_url",
            json!({"url": "my-app://oauth-callback"}),
            with_body(
                "POST",
                "/v1/redirect_urls",
                json!({"url": "my-app://oauth-callback"}),
            ),
        )
        .await;
    assert_eq!(app["object"], "redirect_url");
    assert_clerk_id(&app["id"], "ru_");
    assert_eq!(app["url"], "my-app://oauth-callback");
    let web = run
        .call(
            "create_redirect_url",
            json!({"url": "https://example.test/callback"}),
        )
        .await;
    assert_eq!(
        run.fails(
            "create_redirect_url",
            json!({"url": "my-app://oauth-callback"})
        )
        .await,
        (400, "duplicate_record".to_string())
    );

    let path = format!("/v1/redirect_urls/{}", id(&app));
    let fetched = run
        .check("get_redirect_url", json!({"id": id(&app)}), get(&path, &[]))
        .await;
    assert_eq!(fetched, app);
    // The alias names the same parameter.
    let by_alias = run
        .call("get_redirect_url", json!({"redirect_url_id": id(&app)}))
        .await;
    assert_eq!(by_alias, app);

    let page = run
        .check(
            "list_redirect_urls",
            json!({"paginated": true, "limit": 1, "offset": 0}),
            get(
                "/v1/redirect_urls",
                &[("paginated", "true"), ("limit", "1"), ("offset", "0")],
            ),
        )
        .await;
    assert_eq!(page["total_count"], 2);
    assert_eq!(ids(&page), [id(&web)]);

    let deleted = run
        .check(
            "delete_redirect_url",
            json!({"id": id(&app)}),
            bare("DELETE", &path),
        )
        .await;
    assert_eq!(
        deleted,
        json!({"object": "redirect_url", "id": id(&app), "deleted": true})
    );
    assert_eq!(
        run.fails("get_redirect_url", json!({"id": id(&app)})).await,
        (404, "resource_not_found".to_string())
    );
}

async fn jwt_templates(run: &mut CoverageWalk) {
    let claims =
        json!({"aud": "https://api.example.test", "email": "{{user.primary_email_address}}"});
    let template = run
        .check(
            "create_jwt_template",
            json!({"name": "api", "claims": claims, "lifetime": 3600, "allowed_clock_skew": 10}),
            with_body(
                "POST",
                "/v1/jwt_templates",
                json!({"name": "api", "claims": claims, "lifetime": 3600, "allowed_clock_skew": 10}),
            ),
        )
        .await;
    assert_eq!(template["object"], "jwt_template");
    assert_clerk_id(&template["id"], "jtmp_");
    assert_eq!(template["claims"], claims);
    assert_eq!(template["lifetime"], 3600);
    assert_eq!(template["signing_algorithm"], "RS256");
    let signed = run
        .call(
            "create_jwt_template",
            json!({"name": "hs", "claims": {}, "custom_signing_key": true, "signing_algorithm": "HS256", "signing_key": "a-shared-secret"}),
        )
        .await;
    assert_eq!(signed["custom_signing_key"], true);
    assert!(!signed.to_string().contains("a-shared-secret"));
    assert_eq!(
        run.fails("create_jwt_template", json!({"name": "api", "claims": {}}))
            .await,
        (422, "form_identifier_exists".to_string())
    );
    assert_eq!(
        run.fails(
            "create_jwt_template",
            json!({"name": "bad", "claims": {"iss": "me"}})
        )
        .await,
        (400, "jwt_template_reserved_claim".to_string())
    );
    // Bounds are checked before anything is sent.
    let too_short = run
        .harness
        .call(
            "create_jwt_template",
            json!({"name": "short", "claims": {}, "lifetime": 29}),
        )
        .await;
    assert!(
        matches!(too_short, Err(Error::InvalidArgument { .. })),
        "{too_short:?}"
    );

    let path = format!("/v1/jwt_templates/{}", id(&template));
    let fetched = run
        .check(
            "get_jwt_template",
            json!({"template_id": id(&template)}),
            get(&path, &[]),
        )
        .await;
    assert_eq!(fetched, template);

    let page = run
        .check(
            "list_jwt_templates",
            json!({"paginated": true, "limit": 10, "offset": 0}),
            get(
                "/v1/jwt_templates",
                &[("paginated", "true"), ("limit", "10"), ("offset", "0")],
            ),
        )
        .await;
    assert_eq!(page["total_count"], 2);
    assert_eq!(ids(&page), [id(&signed), id(&template)]);

    let updated = run
        .check(
            "update_jwt_template",
            json!({"template_id": id(&template), "name": "api-v2", "claims": {"aud": "x"}, "lifetime": 600}),
            with_body(
                "PATCH",
                &path,
                json!({"name": "api-v2", "claims": {"aud": "x"}, "lifetime": 600}),
            ),
        )
        .await;
    assert_eq!(updated["name"], "api-v2");
    assert_eq!(updated["claims"], json!({"aud": "x"}));
    assert_eq!(updated["lifetime"], 600);
    assert_eq!(updated["allowed_clock_skew"], 10);
    assert_eq!(
        run.call("get_jwt_template", json!({"template_id": id(&template)}))
            .await,
        updated
    );

    let deleted = run
        .check(
            "delete_jwt_template",
            json!({"template_id": id(&template)}),
            bare("DELETE", &path),
        )
        .await;
    assert_eq!(
        deleted,
        json!({"object": "jwt_template", "id": id(&template), "deleted": true})
    );
    assert_eq!(
        run.fails("get_jwt_template", json!({"template_id": id(&template)}))
            .await,
        (404, "resource_not_found".to_string())
    );

    // The JWKS is mocked from Clerk's OpenAPI document; without it there is nothing to answer.
    if clerk_emulator::load_openapi_spec().unwrap().is_some() {
        let jwks = run.check("get_jwks", json!({}), get("/v1/jwks", &[])).await;
        let keys = jwks["keys"].as_array().expect("a JSON Web Key Set");
        assert!(!keys.is_empty());
        for key in keys {
            for field in ["kid", "kty", "alg", "use"] {
                assert!(key[field].is_string(), "{field} of {key}");
            }
        }
    } else {
        println!("skipped get_jwks: Clerk's OpenAPI document is not there");
        run.covered.insert("get_jwks");
    }
}
