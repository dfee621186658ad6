//! What benchmarks lean on: a latency that concurrent requests wait out side by side, switching
//! request recording off, and 50,000 seeded users listed page by page.

use crate::common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use clerk_emulator::{Config, ObjectKind};
use common::Api;
use serde_json::{Value, json};

#[tokio::test]
async fn with_latency_concurrent_requests_are_served_side_by_side() {
    let api = Api::start_with(Config {
        latency: Duration::from_millis(300),
        ..Config::without_limits()
    })
    .await;
    assert_eq!(api.emulator.latency(), Duration::from_millis(300));
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let request = api.request("GET", "/users/count");
        requests.spawn(async move { request.send().await.map(|r| r.status().as_u16()) });
    }
    let mut statuses = Vec::new();
    while let Some(joined) = requests.join_next().await {
        statuses.push(joined.unwrap().unwrap());
    }
    assert_eq!(statuses, vec![200; 20]);
    let stats = api.stats();
    assert_eq!(stats.requests, 20);
    assert_eq!(stats.in_flight, 0);
    // The wait does not hold the emulator's lock: requests were in flight together.
    assert!(stats.max_in_flight >= 2, "{stats:?}");

    // Settable at run time, here and through the control endpoint.
    api.emulator.set_latency(Duration::ZERO);
    assert_eq!(api.get("/users/count").await.status, 200);
    let url = format!("http://{}/__emulator/latency", api.emulator.addr());
    let answer: Value = api
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(json!({"millis": 150}).to_string())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|bytes| serde_json::from_slice(&bytes).unwrap())
        .unwrap();
    assert_eq!(answer, json!({"millis": 150}));
    assert_eq!(api.emulator.latency(), Duration::from_millis(150));
}

#[tokio::test]
async fn recording_can_be_switched_off() {
    let api = Api::start_with(Config {
        record_requests: false,
        ..Config::without_limits()
    })
    .await;
    assert!(!api.emulator.records_requests());
    for _ in 0..3 {
        assert_eq!(api.get("/users").await.status, 200);
    }
    assert!(api.emulator.requests().is_empty());
    assert_eq!(api.stats().requests, 3, "still counted");

    let url = format!("http://{}/__emulator/recording", api.emulator.addr());
    let answer: Value = api
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(json!({"enabled": true}).to_string())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|bytes| serde_json::from_slice(&bytes).unwrap())
        .unwrap();
    assert_eq!(answer, json!({"enabled": true}));
    assert_eq!(api.get("/users").await.status, 200);
    assert_eq!(api.emulator.requests().len(), 1);
    api.emulator.set_record_requests(false);
    assert_eq!(api.get("/users").await.status, 200);
    assert_eq!(api.emulator.requests().len(), 1, "kept, no new ones");
}

#[tokio::test]
async fn fifty_thousand_seeded_users_list_page_by_page() {
    let api = Api::start_with(Config::without_limits()).await;
    let started = Instant::now();
    api.emulator.seed(50_000, 0);
    // A figure for whoever runs with --nocapture; never a pass/fail timing.
    eprintln!("seeding 50,000 users took {:?}", started.elapsed());
    assert_eq!(api.emulator.count(ObjectKind::User), 50_000);
    let count = api.ok("GET", "/users/count", None).await;
    assert_eq!(count["total_count"], 50_000);

    let started = Instant::now();
    let mut ids = HashSet::new();
    let mut emails = HashSet::new();
    let mut full_pages = 0;
    let mut last_created_at = i64::MAX;
    let mut offset = 0;
    loop {
        let page = api
            .ok("GET", &format!("/users?limit=500&offset={offset}"), None)
            .await;
        let users = page.as_array().unwrap();
        for user in users {
            ids.insert(user["id"].as_str().unwrap().to_string());
            emails.insert(
                user["email_addresses"][0]["email_address"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
            // Newest first by default, and no two seeded users share a `created_at`.
            let created_at = user["created_at"].as_i64().unwrap();
            assert!(created_at < last_created_at, "at offset {offset}");
            last_created_at = created_at;
        }
        if users.len() < 500 {
            break;
        }
        full_pages += 1;
        offset += 500;
    }
    eprintln!("listing 101 pages took {:?}", started.elapsed());
    assert_eq!(full_pages, 100);
    assert_eq!(offset, 50_000, "the last page, at offset 50,000, is empty");
    assert_eq!(ids.len(), 50_000);
    assert_eq!(emails.len(), 50_000);
}
