//! The user functions the emulator answers with mocks built from Clerk's OpenAPI document
//! (billing, OAuth access tokens, trusted devices, passkeys, web3 wallets and external
//! accounts): the exact request each sends and the answer's key fields.

use crate::mock_harness;
use crate::shape;

use kosmo_tests::{bare, get, with_body};
use mock_harness::Mocked;
use serde_json::json;
use shape::{assert_fields, assert_listed};

const MONEY: &[&str] = &["amount", "amount_formatted", "currency", "currency_symbol"];

#[tokio::test]
async fn billing_of_a_user() {
    let Some(h) = Mocked::start().await else {
        return;
    };
    let subscription = h
        .check(
            "get_user_billing_subscription",
            json!({"user_id": "user_2abc123"}),
            get("/v1/users/user_2abc123/billing/subscription", &[]),
        )
        .await;
    assert_fields(
        &subscription,
        &[
            "object",
            "id",
            "status",
            "payer_id",
            "active_at",
            "subscription_items",
        ],
    );
    assert_eq!(subscription["object"], "commerce_subscription");

    let balance = h
        .check(
            "get_user_billing_credit_balance",
            json!({"user_id": "user_2abc123"}),
            get("/v1/users/user_2abc123/billing/credits", &[]),
        )
        .await;
    assert_fields(&balance, &["object", "balance"]);
    assert_fields(&balance["balance"], MONEY);

    let body = json!({
        "amount": 500,
        "action": "increase",
        "idempotency_key": "welcome-credit-user_2abc123",
        "currency": "USD",
        "note": "Welcome credit",
    });
    let mut args = body.clone();
    args["user_id"] = json!("user_2abc123");
    let entry = h
        .check(
            "adjust_user_billing_credit_balance",
            args,
            with_body("POST", "/v1/users/user_2abc123/billing/credits", body),
        )
        .await;
    assert_fields(
        &entry,
        &[
            "object",
            "id",
            "payer_id",
            "amount",
            "source_type",
            "source_id",
            "created_at",
        ],
    );
    assert_fields(&entry["amount"], MONEY);
}

#[tokio::test]
async fn oauth_access_tokens_of_a_user() {
    let Some(h) = Mocked::start().await else {
        return;
    };
    let tokens = h
        .check(
            "get_user_oauth_access_token",
            json!({"user_id": "user_2abc123", "provider": "oauth_google", "limit": 5, "offset": 0}),
            get(
                "/v1/users/user_2abc123/oauth_access_tokens/oauth_google",
                &[("limit", "5"), ("offset", "0")],
            ),
        )
        .await;
    let tokens = tokens.as_array().expect("a bare array");
    assert!(!tokens.is_empty());
    assert_fields(
        &tokens[0],
        &[
            "object",
            "external_account_id",
            "provider_user_id",
            "token",
            "expires_at",
            "provider",
            "public_metadata",
            "label",
        ],
    );
    assert_eq!(tokens[0]["object"], "oauth_access_token");
}

#[tokio::test]
async fn trusted_devices_are_listed_and_revoked() {
    let Some(h) = Mocked::start().await else {
        return;
    };
    const DEVICE: &[&str] = &[
        "object",
        "id",
        "platform",
        "app_identifier",
        "algorithm",
        "status",
        "created_at",
        "updated_at",
    ];
    let devices = h
        .check(
            "list_user_trusted_devices",
            json!({"user_id": "user_2abc123"}),
            get("/v1/users/user_2abc123/trusted_devices", &[]),
        )
        .await;
    assert_listed(&devices, "data", DEVICE);
    let revoked = h
        .check(
            "revoke_user_trusted_device",
            json!({"user_id": "user_2abc123", "trusted_device_id": "td_2abc123"}),
            bare(
                "DELETE",
                "/v1/users/user_2abc123/trusted_devices/td_2abc123",
            ),
        )
        .await;
    assert_fields(&revoked, DEVICE);
    assert_eq!(revoked["object"], "trusted_device");
}

#[tokio::test]
async fn passkeys_wallets_and_external_accounts_are_deleted() {
    let Some(h) = Mocked::start().await else {
        return;
    };
    for (function, id_param, id, path) in [
        (
            "delete_user_passkey",
            "passkey_identification_id",
            "idn_2jkl012",
            "/v1/users/user_2abc123/passkeys/idn_2jkl012",
        ),
        (
            "delete_user_web3_wallet",
            "web3_wallet_identification_id",
            "idn_2ghi789",
            "/v1/users/user_2abc123/web3_wallets/idn_2ghi789",
        ),
        (
            "delete_user_external_account",
            "external_account_id",
            "eac_2abc123",
            "/v1/users/user_2abc123/external_accounts/eac_2abc123",
        ),
    ] {
        let mut args = json!({"user_id": "user_2abc123"});
        args[id_param] = json!(id);
        let deleted = h.check(function, args, bare("DELETE", path)).await;
        assert_eq!(deleted["deleted"], true, "{function}: {deleted}");
        assert_fields(&deleted, &["object", "deleted"]);
    }
}
