//! The functions added to the organization families (organizations, memberships, invitations)
//! and the organization domains, roles, permissions and role sets families, end to end through
//! the real HTTP transport against the emulator: the request it received and the answer. The
//! stateful ones go round trips (create, get, list with filters and paging, update, delete, then
//! the 404); the billing ones are mocked from Clerk's OpenAPI spec when it is there.

use kosmo_tests::{Harness, assert_clerk_id, bare, get, with_body};
use serde_json::{Value, json};

async fn create(harness: &Harness, function: &str, args: Value) -> Value {
    harness
        .call(function, args)
        .await
        .unwrap_or_else(|e| panic!("{function}: {e}"))
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_string()
}

fn keys(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .or_else(|| list["data"].as_array())
        .unwrap()
        .iter()
        .map(|item| item[field].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn organization_metadata_is_replaced_and_billing_is_answered() {
    let harness = Harness::start().await;
    let org = create(
        &harness,
        "create_organization",
        json!({"name": "Engines", "public_metadata": {"tier": "gold", "seats": 10}, "private_metadata": {"billing_id": "b-1"}}),
    )
    .await;
    let org_id = id(&org);
    let metadata_path = format!("/v1/organizations/{org_id}/metadata");

    let replaced = harness
        .check(
            "replace_organization_metadata",
            json!({"organization_id": org_id, "public_metadata": {"tier": "silver"}}),
            with_body(
                "PUT",
                &metadata_path,
                json!({"public_metadata": {"tier": "silver"}}),
            ),
        )
        .await;
    assert_eq!(replaced["public_metadata"], json!({"tier": "silver"}));
    assert_eq!(replaced["private_metadata"], json!({"billing_id": "b-1"}));
    let cleared = create(
        &harness,
        "replace_organization_metadata",
        json!({"organization_id": org_id, "private_metadata": {}}),
    )
    .await;
    assert_eq!(cleared["private_metadata"], json!({}));
    assert_eq!(cleared["public_metadata"], json!({"tier": "silver"}));
    let (status, code) = harness
        .fails(
            "replace_organization_metadata",
            json!({"organization_id": "org_missing1", "public_metadata": {}}),
        )
        .await;
    assert_eq!((status, code.as_str()), (404, "resource_not_found"));

    if clerk_emulator::load_openapi_spec().unwrap().is_none() {
        return; // the billing operations are mocked from the spec
    }
    let subscription_path = format!("/v1/organizations/{org_id}/billing/subscription");
    let subscription = harness
        .check(
            "get_organization_billing_subscription",
            json!({"organization_id": org_id}),
            get(&subscription_path, &[]),
        )
        .await;
    assert_eq!(subscription["object"], "commerce_subscription");
    assert!(subscription["subscription_items"].is_array());
    assert!(subscription["status"].is_string());
    let credits_path = format!("/v1/organizations/{org_id}/billing/credits");
    let balance = harness
        .check(
            "get_organization_billing_credit_balance",
            json!({"organization_id": org_id}),
            get(&credits_path, &[]),
        )
        .await;
    assert!(balance.get("balance").is_some(), "{balance}");
    assert!(balance["object"].is_string());
    let entry = harness.check(
        "adjust_organization_billing_credit_balance",
        json!({
            "organization_id": org_id,
            "amount": 2500,
            "action": "increase",
            "idempotency_key": "goodwill-1",
            "currency": "USD",
            "note": "Goodwill",
        }),
        with_body(
            "POST",
            &credits_path,
            json!({"amount": 2500, "action": "increase", "idempotency_key": "goodwill-1", "currency": "USD", "note": "Goodwill"}),
        ),
    )
    .await;
    for field in ["id", "payer_id", "amount", "source_type", "created_at"] {
        assert!(entry.get(field).is_some(), "{field} missing in {entry}");
    }
}

#[tokio::test]
async fn memberships_and_invitations_are_listed_across_the_instance() {
    let harness = Harness::start().await;
    let ada = create(
        &harness,
        "create_user",
        json!({"email_address": ["ada@example.test"]}),
    )
    .await;
    let grace = create(
        &harness,
        "create_user",
        json!({"email_address": ["grace@example.test"]}),
    )
    .await;
    let engines = create(
        &harness,
        "create_organization",
        json!({"name": "Engines", "created_by": id(&ada)}),
    )
    .await;
    let looms = create(
        &harness,
        "create_organization",
        json!({"name": "Looms", "created_by": id(&grace)}),
    )
    .await;
    create(
        &harness,
        "create_organization_membership",
        json!({"organization_id": id(&looms), "user_id": id(&ada), "role": "org:member"}),
    )
    .await;

    // Metadata merges deeply; null removes a key.
    let metadata_path = format!(
        "/v1/organizations/{}/memberships/{}/metadata",
        id(&looms),
        id(&ada)
    );
    let merged = harness.check(
        "update_organization_membership_metadata",
        json!({"organization_id": id(&looms), "user_id": id(&ada), "public_metadata": {"team": {"name": "weaving", "size": 3}}, "private_metadata": {"cost_center": "cc-1"}}),
        with_body(
            "PATCH",
            &metadata_path,
            json!({"public_metadata": {"team": {"name": "weaving", "size": 3}}, "private_metadata": {"cost_center": "cc-1"}}),
        ),
    )
    .await;
    assert_eq!(merged["object"], "organization_membership");
    assert_eq!(merged["public_user_data"]["user_id"], id(&ada));
    let merged = create(
        &harness,
        "update_organization_membership_metadata",
        json!({"organization_id": id(&looms), "user_id": id(&ada), "public_metadata": {"team": {"size": null, "shift": "day"}}}),
    )
    .await;
    assert_eq!(
        merged["public_metadata"],
        json!({"team": {"name": "weaving", "shift": "day"}})
    );
    assert_eq!(merged["private_metadata"], json!({"cost_center": "cc-1"}));
    let (status, code) = harness
        .fails(
            "update_organization_membership_metadata",
            json!({"organization_id": id(&engines), "user_id": id(&grace), "public_metadata": {}}),
        )
        .await;
    assert_eq!((status, code.as_str()), (404, "resource_not_found"));

    // Every membership of the instance, oldest first, paged.
    let first = harness
        .check(
            "list_instance_organization_memberships",
            json!({"order_by": "+created_at", "limit": 2, "offset": 0}),
            get(
                "/v1/organization_memberships",
                &[("order_by", "+created_at"), ("limit", "2"), ("offset", "0")],
            ),
        )
        .await;
    assert_eq!(first["total_count"], 3);
    let organizations: Vec<&str> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["organization"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(organizations, ["Engines", "Looms"]);
    let rest = create(
        &harness,
        "list_instance_organization_memberships",
        json!({"order_by": "+created_at", "limit": 2, "offset": 2}),
    )
    .await;
    assert_eq!(rest["data"][0]["public_user_data"]["user_id"], id(&ada));
    assert_eq!(rest["data"][0]["role"], "org:member");

    // Invitations: one by ID, and all of them filtered by status and email.
    let invitation = create(
        &harness,
        "create_organization_invitation",
        json!({"organization_id": id(&engines), "email_address": "babbage@example.test", "role": "org:member", "notify": false}),
    )
    .await;
    let other = create(
        &harness,
        "create_organization_invitation",
        json!({"organization_id": id(&looms), "email_address": "jacquard@example.test", "role": "org:member", "notify": false}),
    )
    .await;
    create(
        &harness,
        "revoke_organization_invitation",
        json!({"organization_id": id(&looms), "invitation_id": id(&other)}),
    )
    .await;
    let invitation_path = format!(
        "/v1/organizations/{}/invitations/{}",
        id(&engines),
        id(&invitation)
    );
    let fetched = harness
        .check(
            "get_organization_invitation",
            json!({"organization_id": id(&engines), "invitation_id": id(&invitation)}),
            get(&invitation_path, &[]),
        )
        .await;
    assert_eq!(fetched["email_address"], "babbage@example.test");
    assert_eq!(fetched["status"], "pending");
    let (status, code) = harness
        .fails(
            "get_organization_invitation",
            json!({"organization_id": id(&looms), "invitation_id": id(&invitation)}),
        )
        .await;
    assert_eq!((status, code.as_str()), (404, "resource_not_found"));

    let pending = harness.check(
        "list_instance_organization_invitations",
        json!({"status": "pending", "query": "BABBAGE", "order_by": "+email_address", "limit": 5, "offset": 0}),
        get(
            "/v1/organization_invitations",
            &[
                ("status", "pending"),
                ("query", "BABBAGE"),
                ("order_by", "+email_address"),
                ("limit", "5"),
                ("offset", "0"),
            ],
        ),
    )
    .await;
    assert_eq!(pending["total_count"], 1);
    assert_eq!(pending["data"][0]["id"], id(&invitation));
    assert_eq!(
        pending["data"][0]["public_organization_data"]["name"],
        "Engines"
    );
    let all = create(
        &harness,
        "list_instance_organization_invitations",
        json!({"order_by": "+email_address"}),
    )
    .await;
    assert_eq!(
        keys(&all, "email_address"),
        ["babbage@example.test", "jacquard@example.test"]
    );
}

#[tokio::test]
async fn organization_domains_round_trip() {
    let harness = Harness::start().await;
    let org = create(&harness, "create_organization", json!({"name": "Engines"})).await;
    let other = create(&harness, "create_organization", json!({"name": "Looms"})).await;
    let domains_path = format!("/v1/organizations/{}/domains", id(&org));

    let domain = harness.check(
        "create_organization_domain",
        json!({"organization_id": id(&org), "name": "engines.example", "enrollment_mode": "automatic_invitation"}),
        with_body(
            "POST",
            &domains_path,
            json!({"name": "engines.example", "enrollment_mode": "automatic_invitation"}),
        ),
    )
    .await;
    assert_eq!(domain["object"], "organization_domain");
    assert_clerk_id(&domain["id"], "orgdmn_");
    assert_eq!(domain["organization_id"], id(&org));
    assert_eq!(domain["verification"]["status"], "verified");
    assert_eq!(domain["ownership_verification"], Value::Null);
    assert_eq!(domain["public_organization_data"]["name"], "Engines");
    let unverified = create(
        &harness,
        "create_organization_domain",
        json!({"organization_id": id(&org), "name": "analytical.example", "enrollment_mode": "manual_invitation", "verified": false}),
    )
    .await;
    assert_eq!(unverified["verification"], Value::Null);
    create(
        &harness,
        "create_organization_domain",
        json!({"organization_id": id(&other), "name": "looms.example", "enrollment_mode": "enterprise_sso"}),
    )
    .await;
    let (status, code) = harness.fails(
        "create_organization_domain",
        json!({"organization_id": id(&other), "name": "engines.example", "enrollment_mode": "manual_invitation"}),
    )
    .await;
    assert_eq!((status, code.as_str()), (422, "form_identifier_exists"));
    let (status, code) = harness.fails(
        "create_organization_domain",
        json!({"organization_id": id(&org), "name": "not a domain", "enrollment_mode": "manual_invitation"}),
    )
    .await;
    assert_eq!((status, code.as_str()), (422, "form_param_format_invalid"));

    // The organization's domains, filtered and paged.
    let verified = harness.check(
        "list_organization_domains",
        json!({"organization_id": id(&org), "verified": "true", "enrollment_mode": "-enterprise_sso", "limit": 10, "offset": 0}),
        get(
            &domains_path,
            &[
                ("verified", "true"),
                ("enrollment_mode", "-enterprise_sso"),
                ("limit", "10"),
                ("offset", "0"),
            ],
        ),
    )
    .await;
    assert_eq!(verified["total_count"], 1);
    assert_eq!(keys(&verified, "name"), ["engines.example"]);
    let second_page = create(
        &harness,
        "list_organization_domains",
        json!({"organization_id": id(&org), "limit": 1, "offset": 1}),
    )
    .await;
    assert_eq!(second_page["total_count"], 2);
    assert_eq!(keys(&second_page, "name"), ["engines.example"]);

    // Across the instance.
    let automatic = harness.check(
        "list_instance_organization_domains",
        json!({"query": "example", "enrollment_mode": ["automatic_invitation", "enterprise_sso"], "order_by": "+name", "limit": 10, "offset": 0}),
        get(
            "/v1/organization_domains",
            &[
                ("enrollment_mode", "automatic_invitation,enterprise_sso"),
                ("query", "example"),
                ("order_by", "+name"),
                ("offset", "0"),
                ("limit", "10"),
            ],
        ),
    )
    .await;
    assert_eq!(
        keys(&automatic, "name"),
        ["engines.example", "looms.example"]
    );
    let by_organization = create(
        &harness,
        "list_instance_organization_domains",
        json!({"query": id(&other)}),
    )
    .await;
    assert_eq!(keys(&by_organization, "name"), ["looms.example"]);
    let exact = create(
        &harness,
        "list_instance_organization_domains",
        json!({"domains": ["analytical.example", "looms.example"], "organization_id": id(&org), "verified": "false"}),
    )
    .await;
    assert_eq!(keys(&exact, "name"), ["analytical.example"]);
    let (status, code) = harness
        .fails("list_instance_organization_domains", json!({"query": "  "}))
        .await;
    assert_eq!((status, code.as_str()), (422, "form_param_format_invalid"));

    // Update, verify ownership, delete, then the 404.
    let domain_path = format!("{domains_path}/{}", id(&unverified));
    let updated = harness.check(
        "update_organization_domain",
        json!({"organization_id": id(&org), "domain_id": id(&unverified), "enrollment_mode": "automatic_suggestion", "verified": true}),
        with_body(
            "PATCH",
            &domain_path,
            json!({"enrollment_mode": "automatic_suggestion", "verified": true}),
        ),
    )
    .await;
    assert_eq!(updated["enrollment_mode"], "automatic_suggestion");
    assert_eq!(updated["verification"]["status"], "verified");
    let (status, code) = harness.fails(
        "update_organization_domain",
        json!({"organization_id": id(&org), "domain_id": id(&unverified), "enrollment_mode": "by_carrier_pigeon"}),
    )
    .await;
    assert_eq!((status, code.as_str()), (422, "form_param_value_invalid"));
    let verify_path = format!("{domain_path}/verify_ownership");
    let owned = harness
        .check(
            "verify_organization_domain_ownership",
            json!({"organization_id": id(&org), "domain_id": id(&unverified)}),
            bare("POST", &verify_path),
        )
        .await;
    assert_eq!(owned["ownership_verification"]["status"], "verified");
    assert_eq!(
        owned["ownership_verification"]["strategy"],
        "manual_override"
    );
    let again = create(
        &harness,
        "verify_organization_domain_ownership",
        json!({"organization_id": id(&org), "domain_id": id(&unverified)}),
    )
    .await;
    assert_eq!(
        again["ownership_verification"]["verified_at"],
        owned["ownership_verification"]["verified_at"],
        "verifying again changes nothing"
    );
    let deleted = harness
        .check(
            "delete_organization_domain",
            json!({"organization_id": id(&org), "domain_id": id(&unverified)}),
            bare("DELETE", &domain_path),
        )
        .await;
    assert_eq!(
        deleted,
        json!({"object": "organization_domain", "id": id(&unverified), "deleted": true})
    );
    let (status, code) = harness
        .fails(
            "delete_organization_domain",
            json!({"organization_id": id(&org), "domain_id": id(&unverified)}),
        )
        .await;
    assert_eq!((status, code.as_str()), (404, "resource_not_found"));
    // Another organization's domain is not found through this one.
    let (status, _) = harness.fails(
        "update_organization_domain",
        json!({"organization_id": id(&org), "domain_id": id(&by_organization["data"][0]), "verified": false}),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn permissions_and_roles_round_trip() {
    let harness = Harness::start().await;

    // The system roles and permissions are there from the start.
    let system = harness
        .check(
            "list_organization_roles",
            json!({"query": "org:", "order_by": "+key", "limit": 10, "offset": 0}),
            get(
                "/v1/organization_roles",
                &[
                    ("query", "org:"),
                    ("order_by", "+key"),
                    ("limit", "10"),
                    ("offset", "0"),
                ],
            ),
        )
        .await;
    assert_eq!(keys(&system, "key"), ["org:admin", "org:member"]);
    assert_eq!(system["data"][0]["is_creator_eligible"], true);
    assert_eq!(
        system["data"][1]["permissions"][0]["key"],
        "org:sys_memberships:read"
    );

    let permission = harness.check(
        "create_organization_permission",
        json!({"name": "Manage invoices", "key": "org:invoices:manage", "description": "Invoices."}),
        with_body(
            "POST",
            "/v1/organization_permissions",
            json!({"name": "Manage invoices", "key": "org:invoices:manage", "description": "Invoices."}),
        ),
    )
    .await;
    assert_clerk_id(&permission["id"], "perm_");
    assert_eq!(permission["type"], "user");
    let permission_id = id(&permission);
    let permission_path = format!("/v1/organization_permissions/{permission_id}");
    let read = create(
        &harness,
        "create_organization_permission",
        json!({"name": "Read invoices", "key": "org:invoices:read"}),
    )
    .await;
    for (key, code) in [
        ("org:invoices:manage", "form_identifier_exists"),
        ("org:sys_invoices:manage", "form_param_format_invalid"),
        ("invoices", "form_param_format_invalid"),
    ] {
        let (status, found) = harness
            .fails(
                "create_organization_permission",
                json!({"name": "X", "key": key}),
            )
            .await;
        assert_eq!((status, found.as_str()), (422, code), "{key}");
    }
    let fetched = harness
        .check(
            "get_organization_permission",
            json!({"permission_id": permission_id}),
            get(&permission_path, &[]),
        )
        .await;
    assert_eq!(fetched, permission);
    let listed = harness
        .check(
            "list_organization_permissions",
            json!({"query": "invoices", "order_by": "-key", "limit": 1, "offset": 1}),
            get(
                "/v1/organization_permissions",
                &[
                    ("query", "invoices"),
                    ("order_by", "-key"),
                    ("limit", "1"),
                    ("offset", "1"),
                ],
            ),
        )
        .await;
    assert_eq!(listed["total_count"], 2);
    assert_eq!(keys(&listed, "key"), ["org:invoices:manage"]);
    let renamed = harness.check(
        "update_organization_permission",
        json!({"permission_id": permission_id, "name": "Manage billing", "key": "org:billing:manage"}),
        with_body(
            "PATCH",
            &permission_path,
            json!({"name": "Manage billing", "key": "org:billing:manage"}),
        ),
    )
    .await;
    assert_eq!(renamed["key"], "org:billing:manage");
    let system_permission = create(
        &harness,
        "list_organization_permissions",
        json!({"query": "org:sys_domains:read"}),
    )
    .await;
    let (status, code) = harness
        .fails(
            "update_organization_permission",
            json!({"permission_id": id(&system_permission["data"][0]), "name": "Mine"}),
        )
        .await;
    assert_eq!((status, code.as_str()), (403, "authorization_invalid"));

    // A role lists the permissions it grants.
    let role = harness.check(
        "create_organization_role",
        json!({"name": "Billing manager", "key": "org:billing_manager", "permissions": [permission_id], "include_in_initial_role_set": true}),
        with_body(
            "POST",
            "/v1/organization_roles",
            json!({"name": "Billing manager", "key": "org:billing_manager", "permissions": [permission_id], "include_in_initial_role_set": true}),
        ),
    )
    .await;
    assert_clerk_id(&role["id"], "role_");
    assert_eq!(keys(&role["permissions"], "key"), ["org:billing:manage"]);
    assert_eq!(role["is_creator_eligible"], false);
    let role_id = id(&role);
    let role_path = format!("/v1/organization_roles/{role_id}");
    let initial = create(
        &harness,
        "get_role_set",
        json!({"role_set_key_or_id": "role_set:default"}),
    )
    .await;
    assert!(keys(&initial["roles"], "key").contains(&"org:billing_manager".to_string()));
    let (status, code) = harness
        .fails(
            "create_organization_role",
            json!({"name": "Again", "key": "org:billing_manager"}),
        )
        .await;
    assert_eq!((status, code.as_str()), (422, "form_identifier_exists"));
    let (status, _) = harness
        .fails(
            "create_organization_role",
            json!({"name": "Ghost", "key": "org:ghost", "permissions": ["perm_missing1"]}),
        )
        .await;
    assert_eq!(status, 404);

    let granted_path = format!("{role_path}/permissions/{}", id(&read));
    let granted = harness
        .check(
            "assign_permission_to_organization_role",
            json!({"organization_role_id": role_id, "permission_id": id(&read)}),
            bare("POST", &granted_path),
        )
        .await;
    assert_eq!(
        keys(&granted["permissions"], "key"),
        ["org:billing:manage", "org:invoices:read"]
    );
    let (status, _) = harness
        .fails(
            "assign_permission_to_organization_role",
            json!({"organization_role_id": role_id, "permission_id": id(&read)}),
        )
        .await;
    assert_eq!(status, 409);
    let removed = harness
        .check(
            "remove_permission_from_organization_role",
            json!({"organization_role_id": role_id, "permission_id": id(&read)}),
            bare("DELETE", &granted_path),
        )
        .await;
    assert_eq!(keys(&removed["permissions"], "key"), ["org:billing:manage"]);
    let (status, code) = harness
        .fails(
            "remove_permission_from_organization_role",
            json!({"organization_role_id": role_id, "permission_id": id(&read)}),
        )
        .await;
    assert_eq!((status, code.as_str()), (404, "resource_not_found"));

    // A member holding the role shows its permissions; the role cannot go while held.
    let user = create(
        &harness,
        "create_user",
        json!({"email_address": ["ada@example.test"]}),
    )
    .await;
    let org = create(&harness, "create_organization", json!({"name": "Engines"})).await;
    let membership = create(
        &harness,
        "create_organization_membership",
        json!({"organization_id": id(&org), "user_id": id(&user), "role": "org:billing_manager"}),
    )
    .await;
    assert_eq!(membership["permissions"], json!(["org:billing:manage"]));
    assert_eq!(membership["role_name"], "Billing manager");
    let (status, code) = harness
        .fails(
            "delete_organization_role",
            json!({"organization_role_id": role_id}),
        )
        .await;
    assert_eq!(
        (status, code.as_str()),
        (400, "organization_role_assigned_to_members")
    );
    let admin = create(
        &harness,
        "list_organization_roles",
        json!({"query": "org:admin"}),
    )
    .await;
    let (status, code) = harness
        .fails(
            "delete_organization_role",
            json!({"organization_role_id": id(&admin["data"][0])}),
        )
        .await;
    assert_eq!(
        (status, code.as_str()),
        (400, "organization_role_used_as_default_creator_role")
    );

    // A new key follows the role to its members.
    let updated = harness.check(
        "update_organization_role",
        json!({"organization_role_id": role_id, "key": "org:finance_manager", "name": "Finance manager", "description": "Money.", "permissions": [id(&read)]}),
        with_body(
            "PATCH",
            &role_path,
            json!({"key": "org:finance_manager", "name": "Finance manager", "description": "Money.", "permissions": [id(&read)]}),
        ),
    )
    .await;
    assert_eq!(updated["key"], "org:finance_manager");
    assert_eq!(keys(&updated["permissions"], "key"), ["org:invoices:read"]);
    let members = create(
        &harness,
        "list_organization_memberships",
        json!({"organization_id": id(&org)}),
    )
    .await;
    assert_eq!(members["data"][0]["role"], "org:finance_manager");
    assert_eq!(
        members["data"][0]["permissions"],
        json!(["org:invoices:read"])
    );
    let fetched = harness
        .check(
            "get_organization_role",
            json!({"organization_role_id": role_id}),
            get(&role_path, &[]),
        )
        .await;
    assert_eq!(fetched, updated);

    // Deleting a permission takes it off the role; then the role can go once nobody holds it.
    let deleted = harness
        .check(
            "delete_organization_permission",
            json!({"permission_id": id(&read)}),
            bare(
                "DELETE",
                &format!("/v1/organization_permissions/{}", id(&read)),
            ),
        )
        .await;
    assert_eq!(deleted["deleted"], true);
    let fetched = create(
        &harness,
        "get_organization_role",
        json!({"organization_role_id": role_id}),
    )
    .await;
    assert_eq!(fetched["permissions"], json!([]));
    create(
        &harness,
        "delete_organization_membership",
        json!({"organization_id": id(&org), "user_id": id(&user)}),
    )
    .await;
    let deleted = harness
        .check(
            "delete_organization_role",
            json!({"organization_role_id": role_id}),
            bare("DELETE", &role_path),
        )
        .await;
    assert_eq!(
        deleted,
        json!({"object": "role", "id": role_id, "deleted": true})
    );
    for (function, args) in [
        (
            "get_organization_role",
            json!({"organization_role_id": role_id}),
        ),
        (
            "get_organization_permission",
            json!({"permission_id": id(&read)}),
        ),
    ] {
        let (status, code) = harness.fails(function, args).await;
        assert_eq!((status, code.as_str()), (404, "resource_not_found"));
    }
}

#[tokio::test]
async fn role_sets_round_trip() {
    let harness = Harness::start().await;
    create(
        &harness,
        "create_organization_role",
        json!({"name": "Agent", "key": "org:agent"}),
    )
    .await;
    create(
        &harness,
        "create_organization_role",
        json!({"name": "Lead", "key": "org:lead"}),
    )
    .await;

    let set = harness.check(
        "create_role_set",
        json!({"name": "Support desks", "roles": ["org:admin", "org:agent"], "default_role_key": "org:agent", "creator_role_key": "org:admin", "description": "Support.", "type": "custom"}),
        with_body(
            "POST",
            "/v1/role_sets",
            json!({"name": "Support desks", "roles": ["org:admin", "org:agent"], "default_role_key": "org:agent", "creator_role_key": "org:admin", "description": "Support.", "type": "custom"}),
        ),
    )
    .await;
    assert_eq!(set["object"], "role_set");
    assert_clerk_id(&set["id"], "rs_");
    assert_eq!(set["key"], "role_set:support_desks");
    assert_eq!(set["default_role"]["key"], "org:agent");
    assert_eq!(set["creator_role"]["key"], "org:admin");
    assert_eq!(keys(&set["roles"], "key"), ["org:admin", "org:agent"]);
    let (status, code) = harness.fails(
        "create_role_set",
        json!({"name": "Bad", "roles": ["org:admin"], "default_role_key": "org:member", "creator_role_key": "org:admin"}),
    )
    .await;
    assert_eq!((status, code.as_str()), (422, "form_param_value_invalid"));
    let (status, code) = harness.fails(
        "create_role_set",
        json!({"name": "Support desks", "roles": ["org:admin"], "default_role_key": "org:admin", "creator_role_key": "org:admin"}),
    )
    .await;
    assert_eq!((status, code.as_str()), (422, "form_identifier_exists"));

    // An organization on the set, with a member holding each role.
    let owner = create(
        &harness,
        "create_user",
        json!({"email_address": ["owner@example.test"]}),
    )
    .await;
    let agent = create(
        &harness,
        "create_user",
        json!({"email_address": ["agent@example.test"]}),
    )
    .await;
    let org = create(
        &harness,
        "create_organization",
        json!({"name": "Desk", "created_by": id(&owner), "role_set_key": "role_set:support_desks"}),
    )
    .await;
    create(
        &harness,
        "create_organization_membership",
        json!({"organization_id": id(&org), "user_id": id(&agent), "role": "org:agent"}),
    )
    .await;

    let fetched = harness
        .check(
            "get_role_set",
            json!({"role_set_key_or_id": id(&set)}),
            get(&format!("/v1/role_sets/{}", id(&set)), &[]),
        )
        .await;
    assert_eq!(fetched["roles"][1]["members_count"], 1);
    assert_eq!(fetched["roles"][1]["has_members"], true);
    let listed = harness
        .check(
            "list_role_sets",
            json!({"query": "support", "order_by": "+name", "limit": 5, "offset": 0}),
            get(
                "/v1/role_sets",
                &[
                    ("query", "support"),
                    ("order_by", "+name"),
                    ("limit", "5"),
                    ("offset", "0"),
                ],
            ),
        )
        .await;
    assert_eq!(listed["total_count"], 1);
    let everything = create(&harness, "list_role_sets", json!({"order_by": "+key"})).await;
    assert_eq!(
        keys(&everything, "key"),
        ["role_set:default", "role_set:support_desks"]
    );

    let set_path = "/v1/role_sets/role_set%3Asupport_desks";
    let added = harness.check(
        "add_roles_to_role_set",
        json!({"role_set_key_or_id": "role_set:support_desks", "role_keys": ["org:lead"], "creator_role_key": "org:lead"}),
        with_body(
            "POST",
            &format!("{set_path}/roles"),
            json!({"role_keys": ["org:lead"], "creator_role_key": "org:lead"}),
        ),
    )
    .await;
    assert_eq!(
        keys(&added["roles"], "key"),
        ["org:admin", "org:agent", "org:lead"]
    );
    assert_eq!(added["creator_role"]["key"], "org:lead");
    let (status, code) = harness
        .fails(
            "add_roles_to_role_set",
            json!({"role_set_key_or_id": "role_set:support_desks", "role_keys": ["org:lead"]}),
        )
        .await;
    assert_eq!((status, code.as_str()), (422, "form_param_value_invalid"));

    let updated = harness.check(
        "update_role_set",
        json!({"role_set_key_or_id": "role_set:support_desks", "name": "Desks", "default_role_key": "org:lead", "type": "initial"}),
        with_body(
            "PATCH",
            set_path,
            json!({"name": "Desks", "default_role_key": "org:lead", "type": "initial"}),
        ),
    )
    .await;
    assert_eq!(updated["name"], "Desks");
    assert_eq!(updated["type"], "initial");
    assert_eq!(updated["default_role"]["key"], "org:lead");
    let default = create(
        &harness,
        "get_role_set",
        json!({"role_set_key_or_id": "role_set:default"}),
    )
    .await;
    assert_eq!(default["type"], "custom", "only one initial set");
    create(
        &harness,
        "update_role_set",
        json!({"role_set_key_or_id": "role_set:default", "type": "initial"}),
    )
    .await;

    // Folding org:agent into org:lead moves the member.
    let folded = harness.check(
        "replace_role_in_role_set",
        json!({"role_set_key_or_id": "role_set:support_desks", "role_key": "org:agent", "to_role_key": "org:lead"}),
        with_body(
            "POST",
            &format!("{set_path}/roles/replace"),
            json!({"role_key": "org:agent", "to_role_key": "org:lead"}),
        ),
    )
    .await;
    assert_eq!(keys(&folded["roles"], "key"), ["org:admin", "org:lead"]);
    let members = create(
        &harness,
        "list_organization_memberships",
        json!({"organization_id": id(&org), "order_by": "+created_at"}),
    )
    .await;
    assert_eq!(keys(&members["data"], "role"), ["org:admin", "org:lead"]);

    // Retiring the set needs a mapping for org:lead, which the default set lacks.
    let (status, _) = harness
        .fails(
            "replace_role_set",
            json!({"role_set_key_or_id": id(&set), "dest_role_set_key": "role_set:default"}),
        )
        .await;
    assert_eq!(status, 422);
    let retired = harness.check(
        "replace_role_set",
        json!({"role_set_key_or_id": id(&set), "dest_role_set_key": "role_set:default", "reassignment_mappings": {"org:lead": "org:member"}}),
        with_body(
            "POST",
            &format!("/v1/role_sets/{}/replace", id(&set)),
            json!({"dest_role_set_key": "role_set:default", "reassignment_mappings": {"org:lead": "org:member"}}),
        ),
    )
    .await;
    assert_eq!(
        retired,
        json!({"object": "role_set", "id": id(&set), "deleted": true})
    );
    let org = create(
        &harness,
        "get_organization",
        json!({"organization_id": id(&org)}),
    )
    .await;
    assert_eq!(org["role_set_key"], "role_set:default");
    let members = create(
        &harness,
        "list_organization_memberships",
        json!({"organization_id": id(&org), "order_by": "+created_at"}),
    )
    .await;
    assert_eq!(keys(&members["data"], "role"), ["org:admin", "org:member"]);
    let (status, code) = harness
        .fails("get_role_set", json!({"role_set_key_or_id": id(&set)}))
        .await;
    assert_eq!((status, code.as_str()), (404, "resource_not_found"));
}
