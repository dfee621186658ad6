//! The instance settings functions end to end against the emulator, which mocks them from
//! Clerk's OpenAPI spec: each sends the documented request, and its answer has the fields of
//! Clerk's schema (or is empty where Clerk answers 202 or 204 without a body).

use crate::mock_harness;

use kosmo_tests::{Expect, assert_request};
use mock_harness::Mocked;
use serde_json::{Value, json};

/// One call: the function, its arguments, the request it must send, and the `object` of its
/// answer (`None` for an answer without a body) with other fields the answer must have.
struct Case {
    function: &'static str,
    args: Value,
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
    object: Option<&'static str>,
    fields: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            function: "get_instance",
            args: json!({}),
            method: "GET",
            path: "/v1/instance",
            body: None,
            object: Some("instance"),
            fields: &["id", "environment_type", "allowed_origins"],
        },
        Case {
            function: "update_instance",
            args: json!({
                "test_mode": true,
                "hibp": true,
                "support_email": "support@example.test",
                "clerk_js_version": "5",
                "development_origin": "http://localhost:3000",
                "allowed_origins": ["chrome-extension://abcdefghijklmnopabcdefghijklmnop"],
                "cookieless_dev": false,
                "url_based_session_syncing": true,
                "preferred_sign_in_strategy_when_password_required": "otp",
            }),
            method: "PATCH",
            path: "/v1/instance",
            body: Some(json!({
                "test_mode": true,
                "hibp": true,
                "support_email": "support@example.test",
                "clerk_js_version": "5",
                "development_origin": "http://localhost:3000",
                "allowed_origins": ["chrome-extension://abcdefghijklmnopabcdefghijklmnop"],
                "cookieless_dev": false,
                "url_based_session_syncing": true,
                "preferred_sign_in_strategy_when_password_required": "otp",
            })),
            object: None,
            fields: &[],
        },
        Case {
            function: "update_instance_restrictions",
            args: json!({
                "allowlist": false,
                "blocklist": true,
                "allowlist_blocklist_disabled_on_sign_in": false,
                "block_email_subaddresses": true,
                "block_disposable_email_domains": true,
            }),
            method: "PATCH",
            path: "/v1/instance/restrictions",
            body: Some(json!({
                "allowlist": false,
                "blocklist": true,
                "allowlist_blocklist_disabled_on_sign_in": false,
                "block_email_subaddresses": true,
                "block_disposable_email_domains": true,
            })),
            object: Some("instance_restrictions"),
            fields: &["allowlist", "blocklist", "block_disposable_email_domains"],
        },
        Case {
            function: "update_instance_auth_config",
            args: json!({
                "restricted_to_allowlist": true,
                "from_email_address": "accounts",
                "progressive_sign_up": false,
                "test_mode": true,
            }),
            method: "PATCH",
            path: "/v1/beta_features/instance_settings",
            body: Some(json!({
                "restricted_to_allowlist": true,
                "from_email_address": "accounts",
                "progressive_sign_up": false,
                "test_mode": true,
            })),
            object: Some("instance_settings"),
            fields: &["restricted_to_allowlist", "from_email_address"],
        },
        Case {
            function: "get_instance_protect_settings",
            args: json!({}),
            method: "GET",
            path: "/v1/instance/protect",
            body: None,
            object: Some("instance_protect"),
            fields: &["rules_enabled", "specter_enabled", "checks_bypassed"],
        },
        Case {
            function: "update_instance_protect_settings",
            args: json!({"rules_enabled": true, "specter_enabled": false}),
            method: "PATCH",
            path: "/v1/instance/protect",
            body: Some(json!({"rules_enabled": true, "specter_enabled": false})),
            object: Some("instance_protect"),
            fields: &["rules_enabled", "specter_enabled"],
        },
        Case {
            function: "get_instance_communication_settings",
            args: json!({}),
            method: "GET",
            path: "/v1/instance/communication",
            body: None,
            object: Some("instance_communication"),
            fields: &["blocked_country_codes"],
        },
        Case {
            function: "update_instance_communication_settings",
            args: json!({"blocked_country_codes": ["NG", "RU"]}),
            method: "PATCH",
            path: "/v1/instance/communication",
            body: Some(json!({"blocked_country_codes": ["NG", "RU"]})),
            object: Some("instance_communication"),
            fields: &["blocked_country_codes"],
        },
        Case {
            function: "get_instance_oauth_application_settings",
            args: json!({}),
            method: "GET",
            path: "/v1/instance/oauth_application_settings",
            body: None,
            object: Some("oauth_application_settings"),
            fields: &[
                "dynamic_oauth_client_registration",
                "oauth_jwt_access_tokens",
            ],
        },
        Case {
            function: "update_instance_oauth_application_settings",
            args: json!({
                "dynamic_oauth_client_registration": true,
                "default_scopes": ["openid", "profile", "email"],
                "oauth_jwt_access_tokens": true,
                "client_id_metadata_documents_advertised": true,
                "client_id_metadata_documents_only_allow_pre_registered_clients": false,
                "client_id_metadata_documents_block_implicitly_allowed_clients": false,
            }),
            method: "PATCH",
            path: "/v1/instance/oauth_application_settings",
            body: Some(json!({
                "dynamic_oauth_client_registration": true,
                "default_scopes": ["openid", "profile", "email"],
                "oauth_jwt_access_tokens": true,
                "client_id_metadata_documents_advertised": true,
                "client_id_metadata_documents_only_allow_pre_registered_clients": false,
                "client_id_metadata_documents_block_implicitly_allowed_clients": false,
            })),
            object: Some("oauth_application_settings"),
            fields: &["default_scopes", "oauth_jwt_access_tokens"],
        },
        Case {
            function: "get_instance_organization_settings",
            args: json!({}),
            method: "GET",
            path: "/v1/instance/organization_settings",
            body: None,
            object: Some("organization_settings"),
            fields: &["enabled", "max_allowed_memberships", "creator_role"],
        },
        Case {
            function: "update_instance_organization_settings",
            args: json!({
                "enabled": true,
                "max_allowed_memberships": 50,
                "admin_delete_enabled": false,
                "domains_enabled": true,
                "slug_disabled": false,
                "domains_enrollment_modes": ["automatic_invitation", "automatic_suggestion"],
                "creator_role_id": "role_2abc123",
                "domains_default_role_id": "role_2def456",
            }),
            method: "PATCH",
            path: "/v1/instance/organization_settings",
            body: Some(json!({
                "enabled": true,
                "max_allowed_memberships": 50,
                "admin_delete_enabled": false,
                "domains_enabled": true,
                "slug_disabled": false,
                "domains_enrollment_modes": ["automatic_invitation", "automatic_suggestion"],
                "creator_role_id": "role_2abc123",
                "domains_default_role_id": "role_2def456",
            })),
            object: Some("organization_settings"),
            fields: &["max_allowed_memberships", "domains_enrollment_modes"],
        },
        Case {
            function: "change_production_instance_domain",
            args: json!({"home_url": "https://www.example.test", "is_secondary": false}),
            method: "POST",
            path: "/v1/instance/change_domain",
            body: Some(json!({"home_url": "https://www.example.test", "is_secondary": false})),
            object: None,
            fields: &[],
        },
        Case {
            function: "verify_domain_proxy",
            args: json!({"domain_id": "dmn_2abc123", "proxy_url": "https://example.test/__clerk"}),
            method: "POST",
            path: "/v1/proxy_checks",
            body: Some(
                json!({"domain_id": "dmn_2abc123", "proxy_url": "https://example.test/__clerk"}),
            ),
            object: Some("proxy_check"),
            fields: &["id", "domain_id", "proxy_url", "successful", "last_run_at"],
        },
    ]
}

#[tokio::test]
async fn every_instance_settings_function_sends_its_request_and_returns_clerks_shape() {
    let Some(harness) = Mocked::start().await.map(|m| m.harness) else {
        return;
    };
    let key = harness.emulator.secret_key().to_string();
    for case in cases() {
        let (answer, request) = harness.call_once(case.function, case.args).await;
        assert_request(
            &request,
            &key,
            Expect {
                method: case.method,
                path: case.path,
                query: &[],
                body: case.body,
            },
        );
        match case.object {
            Some(object) => assert_eq!(answer["object"], object, "{}", case.function),
            // Clerk answers 202 or 204 without a body; a call returns an empty table.
            None => assert_eq!(answer, json!({}), "{}", case.function),
        }
        for field in case.fields {
            assert!(
                answer.get(*field).is_some(),
                "{} answered without {field}: {answer}",
                case.function
            );
        }
    }
}

#[tokio::test]
async fn instance_settings_refuse_values_outside_clerks_bounds_before_sending() {
    let Some(harness) = Mocked::start().await.map(|m| m.harness) else {
        return;
    };
    harness.emulator.take_requests();
    let too_many: Vec<String> = (0..251).map(|i| format!("C{i}")).collect();
    for (function, args) in [
        (
            "update_instance",
            json!({"preferred_sign_in_strategy_when_password_required": "passkey"}),
        ),
        (
            "update_instance_communication_settings",
            json!({"blocked_country_codes": too_many}),
        ),
        (
            "update_instance_protect_settings",
            json!({"rules_enabled": "yes"}),
        ),
    ] {
        let error = harness.call(function, args).await.unwrap_err();
        assert_eq!(error.kind(), "invalid_argument", "{function}: {error}");
    }
    assert!(harness.emulator.take_requests().is_empty());
}
