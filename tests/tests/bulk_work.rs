//! Bulk work through the host against the emulator: every paging shape walked to its end with
//! the expected number of requests, `parallel.map` keeping every result when items fail, the
//! sandbox's limits inside workers, and pacing under Clerk's limits.

use clerk_emulator::Emulator;
use kosmo_host::{CredentialMap, Host, HttpTransports, Limits, RunOptions};
use kosmo_tests::{host_for, run_forced};
use serde_json::{Value, json};

/// GET requests the emulator received for `path` since the last call.
fn gets(emulator: &Emulator, path: &str) -> usize {
    emulator
        .take_requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == path)
        .count()
}

#[tokio::test]
async fn every_list_shape_is_walked_to_its_end_with_the_expected_number_of_requests() {
    let emulator = Emulator::start(kosmo_tests::emulator_config())
        .await
        .unwrap();
    emulator.seed(5, 4);
    let host = host_for(&emulator);
    let setup = run_forced(
        &host,
        r#"local clerk = app.integrations.clerk
        local users = clerk.list_users({ limit = 5 })
        local org = clerk.list_organizations({ limit = 1 }).data[1]
        for i = 1, 3 do
          clerk.create_organization_membership({ organization_id = org.id, user_id = users[i].id, role = "org:member" })
          clerk.create_organization_invitation({ organization_id = org.id, email_address = "bulk-" .. i .. "@example.test", role = "org:member" })
          clerk.create_invitation({ email_address = "bulk-app-" .. i .. "@example.test", notify = false })
          clerk.api_post({ path = "/sessions", body = { user_id = users[1].id } })
        end
        return org.id, users[1].id"#,
    )
    .await;
    assert_eq!(setup.error, None, "{setup:?}");
    let result = setup.result.unwrap();
    let (org, user) = (result[0].as_str().unwrap(), result[1].as_str().unwrap());
    emulator.take_requests();

    // (iterator call, collection size, wire path, requests at a page size of 2)
    let cases = [
        // A bare array: 2 + 2 + 1, the short page ends it.
        ("list_users({ limit = 2 })".to_string(), 5, "/v1/users", 3),
        // A bare array whose last page is full needs one more, empty, page.
        (
            "list_users({ limit = 2, offset = 1 })".to_string(),
            4,
            "/v1/users",
            3,
        ),
        // Counted: total_count says 4 items, so 2 pages and no empty third.
        (
            "list_organizations({ limit = 2 })".to_string(),
            4,
            "/v1/organizations",
            2,
        ),
        (
            format!("list_organization_memberships({{ organization_id = '{org}', limit = 2 }})"),
            3,
            "/v1/organizations/ORG/memberships",
            2,
        ),
        (
            format!("list_organization_invitations({{ organization_id = '{org}', limit = 2 }})"),
            3,
            "/v1/organizations/ORG/invitations",
            2,
        ),
        // Counted only with paginated = true, which the iterator sets itself.
        (
            "list_invitations({ limit = 2 })".to_string(),
            3,
            "/v1/invitations",
            2,
        ),
        (
            format!("list_sessions({{ user_id = '{user}', limit = 2 }})"),
            3,
            "/v1/sessions",
            2,
        ),
    ];
    for (call, size, path, requests) in cases {
        let path = path.replace("ORG", org);
        let report = run_forced(
            &host,
            &format!(
                r#"local n, seen, distinct = 0, {{}}, 0
                for item in app.integrations.clerk.each.{call} do
                  n = n + 1
                  if not seen[item.id] then seen[item.id] = true; distinct = distinct + 1 end
                end
                return n, distinct"#
            ),
        )
        .await;
        assert_eq!(report.error, None, "{call}: {report:?}");
        assert_eq!(
            report.result.unwrap(),
            [json!(size), json!(size)],
            "{call} visits every item once"
        );
        assert_eq!(gets(&emulator, &path), requests, "requests of {call}");
        assert!(
            report
                .calls
                .iter()
                .all(|c| c.error.is_none() && c.function.starts_with("list_")),
            "{call}: {:?}",
            report.calls
        );
    }

    // The invitations iterator asked for the counted shape on every page.
    let report = run_forced(
        &host,
        "for _ in app.integrations.clerk.each.list_invitations({ limit = 2 }) do end",
    )
    .await;
    assert_eq!(report.error, None);
    let pages: Vec<Vec<(String, String)>> = emulator
        .take_requests()
        .into_iter()
        .map(|r| r.query)
        .collect();
    assert_eq!(pages.len(), 2);
    for (i, query) in pages.iter().enumerate() {
        let offset = (i * 2).to_string();
        for (key, value) in [("paginated", "true"), ("limit", "2"), ("offset", &offset)] {
            assert!(
                query.iter().any(|(k, v)| k == key && v == value),
                "page {i}: {query:?}"
            );
        }
    }
}

#[tokio::test]
async fn an_empty_collection_yields_nothing_after_one_request() {
    let emulator = Emulator::start(kosmo_tests::emulator_config())
        .await
        .unwrap();
    let host = host_for(&emulator);
    for (call, path) in [
        ("list_users({})", "/v1/users"),
        ("list_organizations({})", "/v1/organizations"),
        (
            "list_invitations({ status = 'pending' })",
            "/v1/invitations",
        ),
    ] {
        let report = run_forced(
            &host,
            &format!(
                "local n = 0 for _ in app.integrations.clerk.each.{call} do n = n + 1 end return n"
            ),
        )
        .await;
        assert_eq!(report.error, None, "{report:?}");
        assert_eq!(report.result.unwrap(), [json!(0)]);
        assert_eq!(gets(&emulator, path), 1, "{call}");
    }
}

#[tokio::test]
async fn walks_refuse_what_does_not_page_and_report_failed_pages() {
    let emulator = Emulator::start(kosmo_tests::emulator_config())
        .await
        .unwrap();
    emulator.seed(3, 0);
    let host = host_for(&emulator);
    let report = run_forced(
        &host,
        r#"local ok, err = pcall(function() return app.integrations.clerk.each.get_user end)
        local bad_ok, bad = pcall(app.integrations.clerk.each.list_users, { limit = 0 })
        return err.kind, err.text, bad.kind, bad.parameter"#,
    )
    .await;
    assert_eq!(report.error, None, "{report:?}");
    let result = report.result.unwrap();
    assert_eq!(result[0], json!("invalid_argument"));
    let text = result[1].as_str().unwrap();
    assert!(
        text.starts_with("get_user: function does not page, so `each` cannot walk it; functions that page: list_users, "),
        "{text}"
    );
    assert_eq!(result[2], json!("invalid_argument"));
    assert_eq!(result[3], json!("limit"));

    // A page that fails raises the page's error object from the loop; items seen stay seen.
    emulator.inject(
        clerk_emulator::Fault::new(clerk_emulator::FaultKind::NonJson {
            status: 400,
            content_type: "text/plain".into(),
            body: "page two is broken".into(),
        })
        .on("GET", "/v1/users")
        .skip(1),
    );
    let report = run_forced(
        &host,
        r#"local seen = 0
        local ok, err = pcall(function()
          for _ in app.integrations.clerk.each.list_users({ limit = 2 }) do seen = seen + 1 end
        end)
        return ok, seen, err.kind, err.status"#,
    )
    .await;
    assert_eq!(report.error, None, "{report:?}");
    assert_eq!(
        report.result.unwrap(),
        [json!(false), json!(2), json!("api"), json!(400)]
    );
}

#[tokio::test]
async fn a_failing_item_among_100_concurrent_calls_loses_none_of_the_other_99() {
    let emulator = Emulator::start(kosmo_tests::emulator_config())
        .await
        .unwrap();
    emulator.seed(100, 0);
    let host = host_for(&emulator);
    let report = run_forced(
        &host,
        r#"local clerk = app.integrations.clerk
        local ids = {}
        for user in clerk.each.list_users({ order_by = "created_at" }) do table.insert(ids, user.id) end
        ids[37] = "user_does_not_exist"
        local results, failures = parallel.map(ids, function(id, index)
          local user = clerk.update_user_metadata({ user_id = id, public_metadata = { batch = index } })
          return { id = user.id, batch = user.public_metadata.batch }
        end, { concurrency = 16 })
        local kept = 0
        for i = 1, #ids do
          local r = results[i]
          if r and r.id == ids[i] and r.batch == i then kept = kept + 1 end
        end
        local f = failures[1]
        return #ids, kept, #failures, f.index, f.item, f.error.kind, f.error.status, results[37] == nil"#,
    )
    .await;
    assert_eq!(report.error, None, "{report:?}");
    assert_eq!(
        report.result.unwrap(),
        [
            json!(100),
            json!(99),
            json!(1),
            json!(37),
            json!("user_does_not_exist"),
            json!("api"),
            json!(404),
            json!(true)
        ]
    );
    // Every update reached the emulator, the failed one included, none twice.
    let patches = emulator
        .take_requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert_eq!(patches, 100);
    let updates = report
        .calls
        .iter()
        .filter(|c| c.function == "update_user_metadata")
        .count();
    assert_eq!(updates, 100);
}

#[tokio::test]
async fn parallel_map_checks_its_arguments_and_keeps_order_and_values() {
    let emulator = Emulator::start(kosmo_tests::emulator_config())
        .await
        .unwrap();
    let host = host_for(&emulator);
    let report = run_forced(
        &host,
        r#"local results, failures = parallel.map({ 3, 1, 2 }, function(x, i) return x * 10 + i end, { concurrency = 2 })
        local empty, none = parallel.map({}, function() end)
        local errors = {}
        for _, args in ipairs({
          { "x", function() end },
          { {}, 5 },
          { {}, function() end, { concurrency = 0 } },
          { {}, function() end, { concurrency = 65 } },
          { {}, function() end, { workers = 2 } },
        }) do
          local ok, err = pcall(parallel.map, args[1], args[2], args[3])
          table.insert(errors, err)
        end
        local co = coroutine.create(function() return parallel.map({ 1 }, function() end) end)
        local _, nested = coroutine.resume(co)
        return results, #failures, #empty, #none, errors, nested"#,
    )
    .await;
    assert_eq!(report.error, None, "{report:?}");
    let result = report.result.unwrap();
    assert_eq!(result[0], json!([31, 12, 23]));
    assert_eq!(&result[1..4], [json!(0), json!(0), json!(0)]);
    let errors: Vec<&str> = result[4]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    let expected = [
        "the first argument must be an array of items, not string",
        "the second argument must be a function, not number",
        "concurrency must be from 1 to 64, not 0",
        "concurrency must be from 1 to 64, not 65",
        "unknown option workers; the only option is concurrency",
    ];
    for (error, expected) in errors.iter().zip(expected) {
        assert!(
            error.contains(&format!("parallel.map: {expected}")),
            "{error}"
        );
    }
    assert!(
        result[5]
            .as_str()
            .unwrap()
            .contains("parallel.map runs from the main script"),
        "{:?}",
        result[5]
    );
}

#[tokio::test]
async fn the_sandbox_limits_hold_inside_parallel_map() {
    let emulator = Emulator::start(kosmo_tests::emulator_config())
        .await
        .unwrap();
    emulator.seed(4, 0);
    let host = host_for(&emulator);
    let limited = |cpu_ms: u64| RunOptions {
        force: true,
        limits: Some(Limits {
            cpu: std::time::Duration::from_millis(cpu_ms),
            ..Limits::default()
        }),
        ..RunOptions::default()
    };
    // A worker that never ends stops the run at the CPU limit, even behind pcall.
    let report = host
        .run(
            r#"parallel.map({ 1, 2, 3 }, function(i)
                 app.integrations.clerk.list_users({ limit = 1 })
                 if i == 2 then while true do pcall(function() end) end end
                 return i
               end)
               return "not reached""#,
            limited(300),
        )
        .await;
    assert_eq!(report.limit_exceeded, Some(kosmo_host::LimitExceeded::Cpu));
    assert!(report.result.is_none());

    // Memory: the workers' tables count against the run's limit.
    let report = host
        .run(
            r#"local keep = {}
               parallel.map({ 1, 2 }, function(i)
                 local t = {}
                 for j = 1, 1e8 do t[j] = string.rep("x", 64) .. j end
                 keep[i] = t
               end)"#,
            RunOptions {
                limits: Some(Limits {
                    memory: 4 * 1024 * 1024,
                    ..Limits::default()
                }),
                ..RunOptions::default()
            },
        )
        .await;
    assert_eq!(
        report.limit_exceeded,
        Some(kosmo_host::LimitExceeded::Memory),
        "{report:?}"
    );
}

#[tokio::test]
async fn host_pages_walk_a_list_for_programs() {
    let emulator = Emulator::start(kosmo_tests::emulator_config())
        .await
        .unwrap();
    emulator.seed(7, 0);
    let host = host_for(&emulator);
    let mut pages = host
        .pages(
            "clerk",
            "list_users",
            json!({ "limit": 3 }),
            kosmo_host::CallOptions::default(),
        )
        .unwrap();
    // list_users counts with count_users and the same filters.
    assert_eq!(pages.total().await.unwrap(), Some(7));
    let mut sizes = Vec::new();
    while let Some(page) = pages.next_page().await.unwrap() {
        assert!(page.iter().all(|u: &Value| u["id"].is_string()));
        sizes.push(page.len());
    }
    assert_eq!(sizes, [3, 3, 1]);
    assert_eq!(pages.pages(), 3);
    let functions: Vec<String> = pages
        .calls()
        .iter()
        .map(|c| c.function.to_string())
        .collect();
    assert_eq!(
        functions,
        ["count_users", "list_users", "list_users", "list_users"]
    );
    // After the end it stays ended.
    assert_eq!(pages.next_page().await.unwrap(), None);

    let refused = host
        .pages(
            "clerk",
            "get_user",
            json!({}),
            kosmo_host::CallOptions::default(),
        )
        .unwrap_err();
    assert!(refused.to_string().contains("does not page"), "{refused}");
}

/// A host whose pacing scales Clerk's windows by `scale`, with `default` and `work` accounts on
/// the emulator's one key.
fn paced_host(emulator: &Emulator, scale: f64, pacing: bool) -> Host {
    let mut http = kosmo_tests::quick_retries();
    http.pacing = kosmo_runtime::PacingConfig {
        enabled: pacing,
        window_scale: scale,
        ..kosmo_runtime::PacingConfig::default()
    };
    if !pacing {
        // Without pacing, show the 429s rather than retry them away.
        http.retry = kosmo_runtime::RetryPolicy::none();
    }
    let credentials = kosmo_tests::credentials_for(emulator);
    Host::builder()
        .integrations(&kosmo_integrations::INTEGRATIONS)
        .credentials(
            CredentialMap::new()
                .with("clerk", "default", credentials.clone())
                .with("clerk", "work", credentials),
        )
        .transports(HttpTransports::new(http))
        .build()
        .unwrap()
}

/// 300 reads, half through each account, 32 at a time.
const BURST: &str = r#"local clerk = app.integrations.clerk
local items = {}
for i = 1, 300 do items[i] = i end
local _, failures = parallel.map(items, function(i)
  local account = i % 2 == 0 and clerk.work or clerk
  return account.list_users({ limit = 1 })
end, { concurrency = 32 })
local statuses = {}
for _, f in ipairs(failures) do statuses[#statuses + 1] = f.error.status end
return #failures, statuses[1]"#;

#[tokio::test]
async fn a_burst_of_300_calls_under_development_limits_gets_no_429() {
    // Development: 100 requests per 10 s, both sides' windows scaled to 1 s. The emulator runs
    // on a thread of its own, as a server would.
    let scale = 0.1;
    let emulator = Emulator::spawn(clerk_emulator::Config {
        limits: clerk_emulator::ClerkLimits::scaled(scale),
        ..clerk_emulator::Config::default()
    })
    .unwrap();
    emulator.seed(1, 0);
    assert_eq!(
        emulator.instance_tier(),
        clerk_emulator::InstanceTier::Development
    );
    let report = run_forced(&paced_host(&emulator, scale, true), BURST).await;
    assert_eq!(report.error, None, "{report:?}");
    assert_eq!(report.result.unwrap()[0], json!(0), "no call failed");
    let stats = emulator.stats();
    assert_eq!(stats.clerk_limit_429s, 0, "{stats:?}");
    assert_eq!(stats.requests, 300);
    // The two accounts share the key's budget: 300 calls take three windows, and at each of the
    // two boundaries all 32 workers were waiting for room. The call log shows who waited.
    let paced = report.calls.iter().filter(|c| !c.paced.is_zero()).count();
    assert!(paced >= 64, "{paced} calls waited for room");
    assert!(
        report
            .calls
            .iter()
            .all(|c| c.paced <= c.duration && c.error.is_none())
    );

    // The same burst unpaced runs into Clerk's limit: the test above can fail.
    let emulator = Emulator::start(clerk_emulator::Config {
        limits: clerk_emulator::ClerkLimits::scaled(1.0),
        ..clerk_emulator::Config::default()
    })
    .await
    .unwrap();
    emulator.seed(1, 0);
    let report = run_forced(&paced_host(&emulator, 1.0, false), BURST).await;
    assert_eq!(report.error, None, "{report:?}");
    assert_eq!(report.result.unwrap(), [json!(200), json!(429)]);
    assert_eq!(emulator.stats().clerk_limit_429s, 200);
}

#[tokio::test]
async fn pacing_holds_back_after_a_429_and_refuses_what_cannot_fit_in_its_wait() {
    let emulator = Emulator::start(kosmo_tests::emulator_config())
        .await
        .unwrap();
    emulator.seed(1, 0);
    let host = paced_host(&emulator, 1.0, true);
    // Another client used up the budget: a 429 asks for 1 s. The retry waits in the pacer, and
    // so does the next call, which the 429 did not see.
    emulator.inject(
        clerk_emulator::Fault::new(clerk_emulator::FaultKind::TooManyRequests {
            retry_after: Some("1".into()),
        })
        .on("GET", "/v1/users"),
    );
    let report = run_forced(
        &host,
        r#"local clerk = app.integrations.clerk
        local users = clerk.list_users({ limit = 1 })
        return #users"#,
    )
    .await;
    assert_eq!(report.error, None, "{report:?}");
    assert!(
        report.calls[0].paced >= std::time::Duration::from_millis(900),
        "{:?}",
        report.calls[0]
    );
    assert_eq!(emulator.take_requests().len(), 2, "the 429 and the retry");

    // User updates allow 10 per 10 s for each user: the 11th update of one user would wait
    // about 10 s, more than a call may wait here, so it fails at once and sends nothing.
    let mut http = kosmo_tests::quick_retries();
    http.pacing = kosmo_runtime::PacingConfig {
        max_wait: std::time::Duration::from_secs(2),
        ..kosmo_runtime::PacingConfig::default()
    };
    let host = Host::builder()
        .integrations(&kosmo_integrations::INTEGRATIONS)
        .credentials(CredentialMap::new().with(
            "clerk",
            "default",
            kosmo_tests::credentials_for(&emulator),
        ))
        .transports(HttpTransports::new(http))
        .build()
        .unwrap();
    let report = run_forced(
        &host,
        r#"local clerk = app.integrations.clerk
        local id = clerk.list_users({ limit = 1 })[1].id
        for i = 1, 10 do clerk.update_user_metadata({ user_id = id, public_metadata = { n = i } }) end
        local ok, err = pcall(clerk.update_user_metadata, { user_id = id, public_metadata = { n = 11 } })
        -- Another user has a budget of its own.
        local other = clerk.create_user({ email_address = { "paced-other@example.test" } })
        local fine = clerk.update_user_metadata({ user_id = other.id, public_metadata = { n = 1 } })
        return ok, err.kind, err.retry_after, err.limit, fine.public_metadata.n"#,
    )
    .await;
    assert_eq!(report.error, None, "{report:?}");
    let result = report.result.unwrap();
    assert_eq!(result[0], json!(false));
    assert_eq!(result[1], json!("rate_limited"));
    let retry_after = result[2].as_u64().unwrap();
    // About a window (10 s, and pacing's margin) from the first update.
    assert!((1..=11).contains(&retry_after), "{retry_after}");
    assert_eq!(
        result[3],
        json!("user updates: 10 requests per 10 s for each resource")
    );
    assert_eq!(result[4], json!(1));
    let patches = emulator
        .take_requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert_eq!(patches, 11, "the refused update was never sent");
}
