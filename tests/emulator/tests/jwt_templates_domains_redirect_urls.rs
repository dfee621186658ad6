//! The instance's JWT templates, domains and redirect URLs.

use crate::common;

use common::{Api, assert_clerk_id, assert_millis, ids};
use serde_json::{Value, json};

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn jwt_templates_round_trip_with_clerks_defaults() {
    let api = Api::start().await;
    let claims =
        json!({"aud": "https://api.example.test", "email": "{{user.primary_email_address}}"});
    let template = api
        .ok(
            "POST",
            "/jwt_templates",
            Some(json!({"name": "api", "claims": claims})),
        )
        .await;
    assert_eq!(template["object"], "jwt_template");
    assert_clerk_id(&template["id"], "jtmp_");
    assert_eq!(template["name"], "api");
    assert_eq!(template["claims"], claims);
    assert_eq!(template["lifetime"], 60);
    assert_eq!(template["allowed_clock_skew"], 5);
    assert_eq!(template["custom_signing_key"], false);
    assert_eq!(template["signing_algorithm"], "RS256");
    assert_millis(&template["created_at"]);
    let path = format!("/jwt_templates/{}", id(&template));
    assert_eq!(api.ok("GET", &path, None).await, template);

    // Name and claims are replaced; fields not given keep their values.
    let updated = api
        .ok(
            "PATCH",
            &path,
            Some(json!({"name": "api-v2", "claims": {"role": "admin"}, "lifetime": 600})),
        )
        .await;
    assert_eq!(updated["name"], "api-v2");
    assert_eq!(updated["claims"], json!({"role": "admin"}));
    assert_eq!(updated["lifetime"], 600);
    assert_eq!(updated["allowed_clock_skew"], 5);
    assert!(updated["updated_at"].as_i64() > template["updated_at"].as_i64());
    assert_eq!(api.ok("GET", &path, None).await, updated);

    let second = api
        .ok(
            "POST",
            "/jwt_templates",
            Some(json!({"name": "second", "claims": {}})),
        )
        .await;
    let bare = api.ok("GET", "/jwt_templates", None).await;
    assert_eq!(ids(&bare), [id(&second), id(&template)]);
    let page = api
        .ok(
            "GET",
            "/jwt_templates?paginated=true&limit=1&offset=1",
            None,
        )
        .await;
    assert_eq!(page["total_count"], 2);
    assert_eq!(ids(&page), [id(&template)]);

    let deleted = api.ok("DELETE", &path, None).await;
    assert_eq!(
        deleted,
        json!({"object": "jwt_template", "id": id(&template), "deleted": true})
    );
    let gone = api.get(&path).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.code(), "resource_not_found");
    assert_eq!(gone.body["errors"][0]["message"], "JWT template not found");
    assert_eq!(
        api.patch(&path, json!({"name": "x", "claims": {}}))
            .await
            .status,
        404
    );
    assert_eq!(api.delete(&path).await.status, 404);
}

#[tokio::test]
async fn jwt_templates_are_checked_like_clerk_checks_them() {
    let api = Api::start().await;
    let taken = api
        .ok(
            "POST",
            "/jwt_templates",
            Some(json!({"name": "taken", "claims": {}})),
        )
        .await;
    let cases = [
        (json!({"claims": {}}), 422, "form_param_missing", "name"),
        (json!({"name": "n"}), 422, "form_param_missing", "claims"),
        (
            json!({"name": "n", "claims": "text"}),
            422,
            "form_param_format_invalid",
            "claims",
        ),
        (
            json!({"name": "taken", "claims": {}}),
            422,
            "form_identifier_exists",
            "name",
        ),
        (
            json!({"name": "n", "claims": {}, "lifetime": 29}),
            422,
            "form_param_format_invalid",
            "lifetime",
        ),
        (
            json!({"name": "n", "claims": {}, "lifetime": 315_360_001}),
            422,
            "form_param_format_invalid",
            "lifetime",
        ),
        (
            json!({"name": "n", "claims": {}, "allowed_clock_skew": 301}),
            422,
            "form_param_format_invalid",
            "allowed_clock_skew",
        ),
        (
            json!({"name": "n", "claims": {}, "custom_signing_key": true, "signing_key": "k"}),
            422,
            "form_param_missing",
            "signing_algorithm",
        ),
        (
            json!({"name": "n", "claims": {}, "custom_signing_key": true, "signing_algorithm": "HS256"}),
            422,
            "form_param_missing",
            "signing_key",
        ),
    ];
    for (body, status, code, param) in cases {
        let answer = api.post("/jwt_templates", body.clone()).await;
        assert_eq!((answer.status, answer.code()), (status, code), "{body}");
        assert_eq!(answer.param(), param, "{body}");
    }
    let reserved = api
        .post(
            "/jwt_templates",
            json!({"name": "n", "claims": {"sub": "me"}}),
        )
        .await;
    assert_eq!(reserved.status, 400);
    assert_eq!(reserved.code(), "jwt_template_reserved_claim");
    assert_eq!(
        reserved.body["errors"][0]["long_message"],
        "You can't use the reserved claim: 'sub'"
    );
    // The bounds themselves are accepted; a template keeps its own name on update.
    let edge = api
        .ok(
            "POST",
            "/jwt_templates",
            Some(json!({"name": "edge", "claims": {}, "lifetime": 30, "allowed_clock_skew": 0})),
        )
        .await;
    assert_eq!(
        (edge["lifetime"].clone(), edge["allowed_clock_skew"].clone()),
        (json!(30), json!(0))
    );
    let renamed_to_taken = api
        .patch(
            &format!("/jwt_templates/{}", id(&edge)),
            json!({"name": "taken", "claims": {}}),
        )
        .await;
    assert_eq!(renamed_to_taken.code(), "form_identifier_exists");
    let kept = api
        .ok(
            "PATCH",
            &format!("/jwt_templates/{}", id(&taken)),
            Some(json!({"name": "taken", "claims": {"a": 1}})),
        )
        .await;
    assert_eq!(kept["claims"], json!({"a": 1}));
    let update_without_claims = api
        .patch(
            &format!("/jwt_templates/{}", id(&taken)),
            json!({"name": "taken"}),
        )
        .await;
    assert_eq!(update_without_claims.code(), "form_param_missing");
}

#[tokio::test]
async fn custom_signing_keys_are_never_returned() {
    let api = Api::start().await;
    let template = api
        .ok(
            "POST",
            "/jwt_templates",
            Some(json!({
                "name": "hs",
                "claims": {},
                "custom_signing_key": true,
                "signing_algorithm": "HS256",
                "signing_key": "a-shared-secret",
            })),
        )
        .await;
    assert_eq!(template["custom_signing_key"], true);
    assert_eq!(template["signing_algorithm"], "HS256");
    let path = format!("/jwt_templates/{}", id(&template));
    for answer in [
        template.clone(),
        api.ok("GET", &path, None).await,
        api.ok("GET", "/jwt_templates", None).await,
    ] {
        assert!(!answer.to_string().contains("a-shared-secret"), "{answer}");
        let templates = answer
            .as_array()
            .cloned()
            .unwrap_or_else(|| vec![answer.clone()]);
        for template in templates {
            assert!(template.get("signing_key").is_none(), "{template}");
        }
    }
    // Back to the instance's key.
    let reset = api
        .ok(
            "PATCH",
            &path,
            Some(json!({"name": "hs", "claims": {}, "custom_signing_key": false})),
        )
        .await;
    assert_eq!(reset["custom_signing_key"], false);
    assert_eq!(reset["signing_algorithm"], "RS256");
}

#[tokio::test]
async fn the_primary_domain_is_listed_first_and_cannot_be_deleted() {
    let api = Api::start().await;
    let list = api.ok("GET", "/domains", None).await;
    assert_eq!(list["total_count"], 1);
    let primary = &list["data"][0];
    assert_eq!(primary["object"], "domain");
    assert_clerk_id(&primary["id"], "dmn_");
    assert_eq!(primary["is_satellite"], false);
    assert_eq!(primary["name"], "emulator.clerk.test");
    assert_eq!(
        primary["frontend_api_url"],
        "https://clerk.emulator.clerk.test"
    );
    assert_eq!(
        primary["accounts_portal_url"],
        "https://accounts.emulator.clerk.test"
    );
    assert_eq!(primary["proxy_url"], Value::Null);
    assert_eq!(
        primary["cname_targets"][0]["host"],
        "clerk.emulator.clerk.test"
    );

    let refused = api.delete(&format!("/domains/{}", id(primary))).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.code(), "operation_not_allowed_on_primary_domain");

    // Satellites follow the primary domain, in the order they were added.
    let shop = api
        .ok(
            "POST",
            "/domains",
            Some(json!({"name": "shop.example.test", "is_satellite": true})),
        )
        .await;
    assert_clerk_id(&shop["id"], "dmn_");
    assert_eq!(shop["is_satellite"], true);
    assert_eq!(shop["frontend_api_url"], "https://clerk.shop.example.test");
    assert_eq!(shop["accounts_portal_url"], Value::Null);
    assert_eq!(
        shop["cname_targets"],
        json!([{"host": "clerk.shop.example.test", "value": "frontend-api.clerk.services", "required": true}])
    );
    let docs = api
        .ok(
            "POST",
            "/domains",
            Some(json!({"name": "localhost:3001", "is_satellite": true, "proxy_url": "https://localhost:3001/__clerk"})),
        )
        .await;
    assert_eq!(docs["proxy_url"], "https://localhost:3001/__clerk");
    assert_eq!(docs["cname_targets"], Value::Null);
    let list = api.ok("GET", "/domains", None).await;
    assert_eq!(list["total_count"], 3);
    assert_eq!(ids(&list), [id(primary), id(&shop), id(&docs)]);

    let deleted = api
        .ok("DELETE", &format!("/domains/{}", id(&shop)), None)
        .await;
    assert_eq!(
        deleted,
        json!({"object": "domain", "id": id(&shop), "deleted": true})
    );
    let list = api.ok("GET", "/domains", None).await;
    assert_eq!(ids(&list), [id(primary), id(&docs)]);
    let gone = api.delete(&format!("/domains/{}", id(&shop))).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.body["errors"][0]["message"], "Domain not found");
}

#[tokio::test]
async fn domains_are_renamed_and_proxied_and_validated() {
    let api = Api::start().await;
    let shop = api
        .ok(
            "POST",
            "/domains",
            Some(json!({"name": "shop.example.test", "is_satellite": true})),
        )
        .await;
    let path = format!("/domains/{}", id(&shop));
    let renamed = api
        .ok("PATCH", &path, Some(json!({"name": "store.example.test"})))
        .await;
    assert_eq!(renamed["id"], shop["id"]);
    assert_eq!(renamed["name"], "store.example.test");
    assert_eq!(
        renamed["frontend_api_url"],
        "https://clerk.store.example.test"
    );
    let proxied = api
        .ok(
            "PATCH",
            &path,
            Some(json!({"proxy_url": "https://store.example.test/__clerk", "is_secondary": true})),
        )
        .await;
    assert_eq!(proxied["proxy_url"], "https://store.example.test/__clerk");
    assert_eq!(proxied["name"], "store.example.test");
    assert_eq!(proxied["cname_targets"], Value::Null);
    // JSON null switches back to DNS.
    let dns = api
        .ok("PATCH", &path, Some(json!({"proxy_url": null})))
        .await;
    assert_eq!(dns["proxy_url"], Value::Null);
    assert!(dns["cname_targets"].is_array());
    assert_eq!(api.ok("GET", "/domains", None).await["data"][1], dns);

    // The primary domain can be renamed too.
    let primary = api.ok("GET", "/domains", None).await["data"][0].clone();
    let moved = api
        .ok(
            "PATCH",
            &format!("/domains/{}", id(&primary)),
            Some(json!({"name": "example.test"})),
        )
        .await;
    assert_eq!(moved["is_satellite"], false);
    assert_eq!(
        moved["accounts_portal_url"],
        "https://accounts.example.test"
    );

    let cases = [
        (
            "POST",
            "/domains".to_string(),
            json!({"name": "x.example.test"}),
            422,
            "form_param_missing",
        ),
        (
            "POST",
            "/domains".to_string(),
            json!({"is_satellite": true}),
            422,
            "form_param_missing",
        ),
        (
            "POST",
            "/domains".to_string(),
            json!({"name": "x.example.test", "is_satellite": false}),
            422,
            "primary_domain_already_exists",
        ),
        (
            "POST",
            "/domains".to_string(),
            json!({"name": "https://x.example.test", "is_satellite": true}),
            422,
            "form_param_format_invalid",
        ),
        (
            "POST",
            "/domains".to_string(),
            json!({"name": "STORE.example.test", "is_satellite": true}),
            422,
            "form_identifier_exists",
        ),
        (
            "POST",
            "/domains".to_string(),
            json!({"name": "y.example.test", "is_satellite": true, "proxy_url": "http://y.example.test"}),
            422,
            "form_param_format_invalid",
        ),
        (
            "PATCH",
            path.clone(),
            json!({"name": "example.test"}),
            422,
            "form_identifier_exists",
        ),
        (
            "PATCH",
            path.clone(),
            json!({"colour": "blue"}),
            422,
            "form_param_unknown",
        ),
        (
            "PATCH",
            "/domains/dmn_missing1".to_string(),
            json!({}),
            404,
            "resource_not_found",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let answer = api.call(method, &path, Some(body.clone())).await;
        assert_eq!(
            (answer.status, answer.code()),
            (status, code),
            "{method} {path} {body}"
        );
    }
}

#[tokio::test]
async fn redirect_urls_round_trip_and_refuse_duplicates() {
    let api = Api::start().await;
    let app = api
        .ok(
            "POST",
            "/redirect_urls",
            Some(json!({"url": "my-app://oauth-callback"})),
        )
        .await;
    assert_eq!(app["object"], "redirect_url");
    assert_clerk_id(&app["id"], "ru_");
    assert_eq!(app["url"], "my-app://oauth-callback");
    assert_millis(&app["created_at"]);
    let path = format!("/redirect_urls/{}", id(&app));
    assert_eq!(api.ok("GET", &path, None).await, app);
    let web = api
        .ok(
            "POST",
            "/redirect_urls",
            Some(json!({"url": "https://example.test/callback"})),
        )
        .await;
    assert_eq!(
        ids(&api.ok("GET", "/redirect_urls", None).await),
        [id(&web), id(&app)]
    );
    let page = api
        .ok("GET", "/redirect_urls?paginated=true&limit=1", None)
        .await;
    assert_eq!(page["total_count"], 2);
    assert_eq!(ids(&page), [id(&web)]);

    let duplicate = api
        .post("/redirect_urls", json!({"url": "my-app://oauth-callback"}))
        .await;
    assert_eq!(duplicate.status, 400);
    assert_eq!(duplicate.code(), "duplicate_record");
    for url in ["example.test/callback", "not a url", ""] {
        let answer = api.post("/redirect_urls", json!({"url": url})).await;
        assert_eq!(answer.status, 422, "{url}");
        assert_eq!(answer.param(), "url");
    }

    let deleted = api.ok("DELETE", &path, None).await;
    assert_eq!(
        deleted,
        json!({"object": "redirect_url", "id": id(&app), "deleted": true})
    );
    let gone = api.get(&path).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.body["errors"][0]["message"], "Redirect url not found");
    // Once removed, the URL can be allowed again.
    api.ok(
        "POST",
        "/redirect_urls",
        Some(json!({"url": "my-app://oauth-callback"})),
    )
    .await;
}

#[tokio::test]
async fn pinned_ids_are_used_and_the_primary_domain_takes_none() {
    let api = Api::start().await;
    api.emulator
        .pin_ids(&["jtmp_2abc123", "dmn_2abc123", "ru_2abc123"])
        .unwrap();
    let template = api
        .ok(
            "POST",
            "/jwt_templates",
            Some(json!({"name": "t", "claims": {}})),
        )
        .await;
    // Adding the first satellite also makes the primary domain, which must not take the pin.
    let satellite = api
        .ok(
            "POST",
            "/domains",
            Some(json!({"name": "s.example.test", "is_satellite": true})),
        )
        .await;
    let redirect = api
        .ok("POST", "/redirect_urls", Some(json!({"url": "app://cb"})))
        .await;
    assert_eq!(
        [id(&template), id(&satellite), id(&redirect)],
        ["jtmp_2abc123", "dmn_2abc123", "ru_2abc123"]
    );
    // A snapshot brings every kind back.
    let snapshot = api.emulator.snapshot();
    api.ok("DELETE", "/jwt_templates/jtmp_2abc123", None).await;
    api.ok("DELETE", "/domains/dmn_2abc123", None).await;
    api.emulator.restore(&snapshot);
    assert_eq!(api.get("/jwt_templates/jtmp_2abc123").await.status, 200);
    assert_eq!(api.ok("GET", "/domains", None).await["total_count"], 2);
}
