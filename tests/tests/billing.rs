//! The Billing functions end to end against the emulator, which answers them with mocks built
//! from Clerk's OpenAPI document: the exact request each sends and the answer's key fields, and
//! a walk over every page asking for the counted shape.

use crate::mock_harness;
use crate::shape;

use kosmo_host::{CredentialMap, Host, HttpTransports, RunOptions};
use kosmo_tests::Expect;
use kosmo_tests::{bare, get, with_body};
use mock_harness::Mocked;
use serde_json::json;
use shape::{assert_fields, assert_listed};

const MONEY: &[&str] = &["amount", "amount_formatted", "currency", "currency_symbol"];
const SUBSCRIPTION_ITEM: &[&str] = &[
    "object",
    "id",
    "status",
    "plan_id",
    "plan_period",
    "payer_id",
    "is_free_trial",
    "period_start",
    "period_end",
    "canceled_at",
    "created_at",
];
const REDEMPTION: &[&str] = &[
    "object",
    "id",
    "subscription_item_id",
    "discount_id",
    "source",
    "cycles_remaining",
    "cycles_applied",
    "redeemed_at",
];

#[tokio::test]
async fn plans_and_prices_are_listed_with_their_filters() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let plans = run
        .check(
            "list_billing_plans",
            json!({"payer_type": "org", "paginated": true, "limit": 20, "offset": 0}),
            get(
                "/v1/billing/plans",
                &[
                    ("payer_type", "org"),
                    ("paginated", "true"),
                    ("limit", "20"),
                    ("offset", "0"),
                ],
            ),
        )
        .await;
    assert_listed(
        &plans,
        "data",
        &[
            "object",
            "id",
            "name",
            "slug",
            "fee",
            "for_payer_type",
            "is_default",
            "free_trial_enabled",
        ],
    );
    assert_eq!(plans["data"][0]["object"], "commerce_plan");

    let prices = run
        .check(
            "list_billing_prices",
            json!({"plan_id": "cplan_2abc123", "paginated": true, "limit": 5}),
            get(
                "/v1/billing/prices",
                &[
                    ("plan_id", "cplan_2abc123"),
                    ("paginated", "true"),
                    ("limit", "5"),
                ],
            ),
        )
        .await;
    assert_listed(
        &prices,
        "data",
        &[
            "object",
            "id",
            "plan_id",
            "amount",
            "currency",
            "is_default",
            "supported_billing_periods",
        ],
    );
    assert_fields(&prices["data"][0]["fee"], MONEY);
}

#[tokio::test]
async fn create_billing_price_sends_amounts_in_cents() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let args = json!({
        "plan_id": "cplan_2abc123",
        "amount": 2900,
        "annual_monthly_amount": 2400,
        "currency": "USD",
        "supported_billing_periods": "both",
        "description": "Partner discount",
    });
    let price = run
        .check(
            "create_billing_price",
            args.clone(),
            with_body("POST", "/v1/billing/prices", args),
        )
        .await;
    assert_eq!(price["object"], "commerce_price");
    assert_fields(
        &price,
        &[
            "id",
            "plan_id",
            "amount",
            "annual_monthly_amount",
            "is_default",
        ],
    );
}

#[tokio::test]
async fn subscription_items_are_listed_canceled_and_given_longer_trials() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let items = run
        .check(
            "list_subscription_items",
            json!({
                "status": "past_due",
                "payer_type": "org",
                "plan_id": "cplan_2abc123",
                "query": "acme",
                "include_free": true,
                "paginated": true,
                "limit": 20,
                "offset": 20,
            }),
            get(
                "/v1/billing/subscription_items",
                &[
                    ("status", "past_due"),
                    ("payer_type", "org"),
                    ("plan_id", "cplan_2abc123"),
                    ("query", "acme"),
                    ("include_free", "true"),
                    ("paginated", "true"),
                    ("limit", "20"),
                    ("offset", "20"),
                ],
            ),
        )
        .await;
    assert_listed(&items, "data", SUBSCRIPTION_ITEM);

    let canceled = run
        .check(
            "cancel_subscription_item",
            json!({"subscription_item_id": "csubi_2abc123", "end_now": false}),
            Expect {
                method: "DELETE",
                path: "/v1/billing/subscription_items/csubi_2abc123",
                query: &[("end_now", "false")],
                body: None,
            },
        )
        .await;
    assert_fields(&canceled, SUBSCRIPTION_ITEM);
    assert_eq!(canceled["id"], "csubi_2abc123");

    let extended = run
        .check(
            "extend_subscription_item_free_trial",
            json!({"subscription_item_id": "csubi_2abc123", "extend_to": "2026-01-08T00:00:00Z"}),
            with_body(
                "POST",
                "/v1/billing/subscription_items/csubi_2abc123/extend_free_trial",
                json!({"extend_to": "2026-01-08T00:00:00Z"}),
            ),
        )
        .await;
    assert_eq!(extended["object"], "commerce_subscription_item");
    assert_eq!(extended["id"], "csubi_2abc123");
    assert_fields(&extended, &["is_free_trial", "period_end"]);
}

#[tokio::test]
async fn a_price_change_reports_how_the_transition_takes_effect() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let result = run
        .check(
            "change_subscription_item_price",
            json!({
                "subscription_item_id": "csubi_2abc123",
                "from_price_id": "cprice_2abc123",
                "to_price_id": "cprice_2def456",
            }),
            with_body(
                "POST",
                "/v1/billing/subscription_items/csubi_2abc123/price_transition",
                json!({"from_price_id": "cprice_2abc123", "to_price_id": "cprice_2def456"}),
            ),
        )
        .await;
    assert_eq!(result["object"], "commerce_price_transition");
    assert_fields(&result["subscription_item"], &["object", "id", "status"]);
    assert_fields(
        &result["transition"],
        &[
            "effective_at",
            "effective_mode",
            "charged_immediately",
            "previous_price",
            "previous_subscription_item_id",
        ],
    );
    // The alias an agent may guess from Clerk's operation name reaches the same endpoint.
    run.check(
        "create_price_transition",
        json!({
            "subscription_item_id": "csubi_2abc123",
            "from_price_id": "cprice_2abc123",
            "to_price_id": "cprice_2def456",
        }),
        with_body(
            "POST",
            "/v1/billing/subscription_items/csubi_2abc123/price_transition",
            json!({"from_price_id": "cprice_2abc123", "to_price_id": "cprice_2def456"}),
        ),
    )
    .await;
}

#[tokio::test]
async fn discounts_are_applied_and_removed() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let applied = run
        .check(
            "apply_subscription_item_discount",
            json!({"subscription_item_id": "csubi_2abc123", "discount_id": "cdisc_2abc123"}),
            with_body(
                "POST",
                "/v1/billing/subscription_items/csubi_2abc123/discounts",
                json!({"discount_id": "cdisc_2abc123"}),
            ),
        )
        .await;
    assert_eq!(applied["object"], "commerce_discount_redemption");
    assert_fields(&applied, REDEMPTION);

    let removed = run
        .check(
            "remove_subscription_item_discount",
            json!({"subscription_item_id": "csubi_2abc123", "discount_id": "cdisc_2abc123"}),
            bare(
                "DELETE",
                "/v1/billing/subscription_items/csubi_2abc123/discounts/cdisc_2abc123",
            ),
        )
        .await;
    assert_eq!(removed["object"], "commerce_discount_redemption");
    assert_fields(&removed, REDEMPTION);
}

#[tokio::test]
async fn statements_and_their_payment_attempts_are_read() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let statements = run
        .check(
            "list_billing_statements",
            json!({"paginated": true, "limit": 20, "offset": 20}),
            get(
                "/v1/billing/statements",
                &[("paginated", "true"), ("limit", "20"), ("offset", "20")],
            ),
        )
        .await;
    assert_listed(
        &statements,
        "data",
        &[
            "object",
            "id",
            "status",
            "timestamp",
            "payer",
            "totals",
            "groups",
        ],
    );

    // The script-facing `statement_id` goes on the wire as Clerk's `{statementID}`.
    let statement = run
        .check(
            "get_billing_statement",
            json!({"statement_id": "cstmt_2abc123"}),
            get("/v1/billing/statements/cstmt_2abc123", &[]),
        )
        .await;
    assert_eq!(statement["object"], "commerce_statement");
    assert_eq!(statement["id"], "cstmt_2abc123");
    assert_fields(&statement["totals"]["grand_total"], MONEY);
    assert_fields(&statement["groups"][0], &["timestamp", "items"]);

    let attempts = run
        .check(
            "list_statement_payment_attempts",
            json!({"statement_id": "cstmt_2abc123", "paginated": true, "limit": 10}),
            get(
                "/v1/billing/statements/cstmt_2abc123/payment_attempts",
                &[("paginated", "true"), ("limit", "10")],
            ),
        )
        .await;
    assert_listed(
        &attempts,
        "data",
        &[
            "object",
            "id",
            "status",
            "amount",
            "statement_id",
            "paid_at",
            "failed_at",
        ],
    );
}

#[tokio::test]
async fn walking_a_billing_list_asks_for_the_counted_shape() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let host = Host::builder()
        .integrations(&kosmo_integrations::INTEGRATIONS)
        .credentials(CredentialMap::new().with(
            "clerk",
            "default",
            kosmo_tests::credentials_for(&run.harness.emulator),
        ))
        .transports(HttpTransports::new(kosmo_tests::quick_retries()))
        .build()
        .unwrap();
    run.harness.emulator.take_requests();
    let report = host
        .run(
            r#"local n = 0
            local clerk = app.integrations.clerk
            for _ in clerk.each.list_subscription_items({ status = "active" }) do
              n = n + 1
            end
            return n"#,
            RunOptions::default(),
        )
        .await;
    assert_eq!(report.error, None, "{report:?}");
    // The mock's page holds one item: a short page, so the walk ends after one request.
    assert_eq!(report.result, Some(vec![json!(1)]));
    let requests = run.harness.emulator.take_requests();
    assert_eq!(requests.len(), 1);
    let query: Vec<(&str, &str)> = requests[0]
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert!(query.contains(&("status", "active")), "{query:?}");
    assert!(query.contains(&("paginated", "true")), "{query:?}");
    assert!(query.contains(&("limit", "500")), "{query:?}");
}
