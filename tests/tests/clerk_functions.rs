//! The generated Clerk crate keeps the reference page's names and builds the requests Clerk's
//! Backend API expects. A recording transport stands in for the network.

use crate::support;

use kosmo_integrations::clerk;
use kosmo_runtime::{Method, Operation};
use serde_json::{Value, json};
use support::Recorder;

/// Every function of the public reference page: (Lua name, full name).
const REFERENCE: [(&str, &str); 35] = [
    ("api_get", "clerk_api_get"),
    ("api_post", "clerk_api_post"),
    ("api_patch", "clerk_api_patch"),
    ("api_delete", "clerk_api_delete"),
    ("list_users", "clerk_list_users"),
    ("count_users", "clerk_count_users"),
    ("get_user", "clerk_get_user"),
    ("create_user", "clerk_create_user"),
    ("update_user", "clerk_update_user"),
    ("delete_user", "clerk_delete_user"),
    ("ban_user", "clerk_ban_user"),
    ("unban_user", "clerk_unban_user"),
    ("lock_user", "clerk_lock_user"),
    ("unlock_user", "clerk_unlock_user"),
    ("list_sessions", "clerk_list_sessions"),
    ("get_session", "clerk_get_session"),
    ("revoke_session", "clerk_revoke_session"),
    ("list_organizations", "clerk_list_organizations"),
    ("create_organization", "clerk_create_organization"),
    ("get_organization", "clerk_get_organization"),
    ("update_organization", "clerk_update_organization"),
    ("delete_organization", "clerk_delete_organization"),
    (
        "list_organization_memberships",
        "clerk_list_organization_memberships",
    ),
    (
        "create_organization_membership",
        "clerk_create_organization_membership",
    ),
    (
        "update_organization_membership",
        "clerk_update_organization_membership",
    ),
    (
        "delete_organization_membership",
        "clerk_delete_organization_membership",
    ),
    (
        "list_organization_invitations",
        "clerk_list_organization_invitations",
    ),
    (
        "create_organization_invitation",
        "clerk_create_organization_invitation",
    ),
    (
        "revoke_organization_invitation",
        "clerk_revoke_organization_invitation",
    ),
    ("list_invitations", "clerk_list_invitations"),
    ("create_invitation", "clerk_create_invitation"),
    ("revoke_invitation", "clerk_revoke_invitation"),
    ("create_sign_token", "clerk_create_sign_in_token"),
    ("revoke_sign_token", "clerk_revoke_sign_in_token"),
    ("health_check", "clerk_get_current_user"),
];

#[test]
fn every_reference_function_and_the_metadata_functions_exist_under_both_names() {
    let provider = &clerk::meta::PROVIDER;
    for (name, slug) in REFERENCE {
        let function = provider
            .function(name)
            .unwrap_or_else(|| panic!("{name} is missing"));
        assert_eq!(function.name, name);
        assert_eq!(function.slug, slug, "{name}");
        assert_eq!(provider.function(slug).map(|f| f.name), Some(name));
    }
    for extra in [
        "update_user_metadata",
        "update_organization_metadata",
        "set_user_profile_image",
        "delete_user_profile_image",
        "upload_organization_logo",
        "delete_organization_logo",
    ] {
        assert!(provider.function(extra).is_some(), "{extra} is missing");
    }
    // The reference's functions and the metadata ones above, among those imported since.
    assert!(
        provider.functions.len() >= 41,
        "{}",
        provider.functions.len()
    );
    assert_eq!(
        provider.version_header,
        Some(("Clerk-API-Version", "2026-05-12"))
    );
    assert_eq!(provider.base_url, "https://api.clerk.com/v1");
}

#[test]
fn read_and_write_follow_the_method() {
    for function in clerk::meta::PROVIDER.functions {
        let expected = if function.method == Method::Get {
            Operation::Read
        } else {
            Operation::Write
        };
        // A POST that only checks something (verify_…) is a read; the manifest says why
        // (`operation_override`, which validation requires).
        if function.operation == Operation::Read && function.method != Method::Get {
            assert!(function.name.starts_with("verify_"), "{}", function.name);
            continue;
        }
        assert_eq!(function.operation, expected, "{}", function.name);
    }
}

#[test]
fn functions_that_take_parameters_declare_them() {
    // The reference page listed most of these with "No parameters.".
    for name in [
        "ban_user",
        "list_sessions",
        "get_session",
        "create_organization",
        "create_sign_token",
        "api_get",
    ] {
        let function = clerk::meta::PROVIDER.function(name).unwrap();
        assert!(!function.params.is_empty(), "{name} declares no parameters");
    }
    let list_users = clerk::meta::PROVIDER.function("list_users").unwrap();
    let limit = list_users.param("limit").unwrap();
    assert_eq!((limit.minimum, limit.maximum), (Some(1.0), Some(500.0)));
    assert_eq!(limit.default, Some(kosmo_runtime::Literal::Integer(10)));
}

#[tokio::test]
async fn compatibility_names_and_aliases_reach_the_same_endpoint() {
    let recorder = Recorder::answering(json!([{"object": "user", "id": "user_1"}]));
    clerk::call(&recorder, "get_user", json!({"id": "user_1"}))
        .await
        .unwrap();
    assert_eq!(recorder.last().path, "/users/user_1");
    clerk::call(&recorder, "clerk_get_user", json!({"user_id": "user_2"}))
        .await
        .unwrap();
    assert_eq!(recorder.last().path, "/users/user_2");
    let both = clerk::call(
        &recorder,
        "get_user",
        json!({"id": "user_1", "user_id": "user_2"}),
    )
    .await;
    assert!(both.unwrap_err().to_string().contains("given twice"));
    assert_eq!(recorder.count(), 2, "a refused call sends nothing");
}

#[tokio::test]
async fn memberships_are_keyed_by_user_id() {
    let recorder = Recorder::answering(json!([{"object": "user", "id": "user_1"}]));
    clerk::call(
        &recorder,
        "update_organization_membership",
        json!({"organization_id": "org_1", "user_id": "user_1", "role": "org:admin"}),
    )
    .await
    .unwrap();
    let request = recorder.last();
    assert_eq!(
        (request.method, request.path.as_str()),
        (Method::Patch, "/organizations/org_1/memberships/user_1")
    );
    assert_eq!(
        request.body,
        json!({"role": "org:admin"}).as_object().cloned()
    );
}

#[tokio::test]
async fn health_check_keeps_its_normalized_response() {
    let recorder = Recorder::answering(json!([{"object": "user", "id": "user_1"}]));
    let result = clerk::call(&recorder, "clerk_get_current_user", json!({}))
        .await
        .unwrap();
    assert_eq!(result["connected"], Value::Bool(true));
    assert_eq!(result["data"][0]["id"], "user_1");
    let request = recorder.last();
    assert_eq!(
        (request.path.as_str(), request.query.clone()),
        ("/users", vec![("limit".into(), "1".into())])
    );
}

#[tokio::test]
async fn metadata_updates_use_the_metadata_endpoint() {
    let recorder = Recorder::answering(json!([{"object": "user", "id": "user_1"}]));
    clerk::call(
        &recorder,
        "update_user_metadata",
        json!({"user_id": "user_1", "public_metadata": {"plan": "pro"}}),
    )
    .await
    .unwrap();
    let request = recorder.last();
    assert_eq!(
        (request.method, request.path.as_str()),
        (Method::Patch, "/users/user_1/metadata")
    );
    assert_eq!(
        request.body,
        json!({"public_metadata": {"plan": "pro"}})
            .as_object()
            .cloned()
    );
    let rejected = clerk::call(
        &recorder,
        "update_user",
        json!({"id": "user_1", "public_metadata": {}}),
    )
    .await;
    assert!(
        rejected
            .unwrap_err()
            .to_string()
            .contains("public_metadata is not a parameter of update_user")
    );
}

#[tokio::test]
async fn list_filters_repeat_keys_and_keep_false() {
    let recorder = Recorder::answering(json!([{"object": "user", "id": "user_1"}]));
    clerk::call(&recorder, "list_users", json!({"email_address": ["a@example.test", "b@example.test"], "banned": false, "limit": 20}))
        .await
        .unwrap();
    let query = recorder.last().query;
    assert!(query.contains(&("email_address".into(), "a@example.test".into())));
    assert!(query.contains(&("email_address".into(), "b@example.test".into())));
    assert!(query.contains(&("banned".into(), "false".into())));
    let status = clerk::call(&recorder, "list_sessions", json!({"status": "sleeping"})).await;
    assert!(
        status
            .unwrap_err()
            .to_string()
            .starts_with("list_sessions: status must be one of")
    );
}
