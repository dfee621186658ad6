//! Property tests of request building: any value becomes exactly one path segment, and query
//! values never add a key, once the URL is built as the HTTP client builds it and parsed back.
//!
//! Each property runs `PROPTEST_CASES` cases (256 unless set; CI uses the default). A failure
//! prints the minimal input and the seed (`cc …`), and proptest saves it under
//! `proptest-regressions/`, which is committed so the case runs first from then on.
//! `PROPTEST_CASES=10000 cargo test -p kosmo-runtime --test properties` runs many more.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use kosmo_runtime::{ApiRequest, Error, Method};
use percent_encoding::percent_decode_str;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence, RngSeed};
use reqwest::Url;
use serde_json::{Map, Value};

/// `PROPTEST_CASES`, else 256: bounded in CI, as many as wanted locally.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        // Fixed unless PROPTEST_RNG_SEED names another: a run is repeatable, and other inputs
        // are explored on purpose.
        rng_seed: if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
            ProptestConfig::default().rng_seed
        } else {
            RngSeed::Fixed(20_261_130)
        },
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

/// Any string, with a bias towards what URLs treat specially.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => "[/?#%&=+;:@!$'()*,\\[\\]\\\\. a-zA-Z0-9~_-]{0,12}",
        1 => "(%[0-9a-fA-F]{2}|%2[eEfF]|\\.){0,6}",
        1 => "[\\x00-\\x1f\u{7f} \t\r\né中\u{1F600}\u{FEFF}\u{202E}]{0,6}",
        1 => any::<String>(),
    ]
}

/// Builds the URL as the HTTP client does (`HttpTransport::url`), serializes it and parses the
/// text back, as the server will.
fn url_of(base: &str, request: &ApiRequest) -> Url {
    let mut url = Url::parse(base).unwrap();
    let base_path = url.path().trim_end_matches('/').to_string();
    url.set_path(&format!("{base_path}{}", request.path));
    if !request.query.is_empty() {
        url.query_pairs_mut().extend_pairs(&request.query);
    }
    Url::parse(url.as_str()).unwrap()
}

fn segments(url: &Url) -> Vec<String> {
    url.path_segments().unwrap().map(str::to_string).collect()
}

proptest! {
    #![proptest_config(config())]

    /// `/users/{id}/roles` with any `id`: the path has exactly one segment more than the
    /// template's, in its place, and it decodes to the value; `""`, `.` and `..` are refused,
    /// naming the parameter.
    #[test]
    fn any_string_is_exactly_one_path_segment(
        value in text(),
        base in prop_oneof![
            Just("https://api.example.test"),
            Just("https://api.example.test/"),
            Just("https://api.example.test/v1"),
            Just("http://127.0.0.1:8080/base/v2/"),
        ],
    ) {
        let mut request = ApiRequest::new("get_role", Method::Get);
        request.push_literal("/users/");
        let pushed = request.push_segment("id", &value);
        if matches!(value.as_str(), "" | "." | "..") {
            let Err(Error::InvalidArgument { parameter, .. }) = pushed else {
                return Err(TestCaseError::fail(format!("{value:?} was accepted")));
            };
            prop_assert_eq!(parameter, "id");
            return Ok(());
        }
        pushed.unwrap();
        request.push_literal("/roles");
        let base_url = Url::parse(base).unwrap();
        let base_segments = segments(&base_url)
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>();
        let url = url_of(base, &request);
        prop_assert_eq!(url.query(), None);
        prop_assert_eq!(url.fragment(), None);
        prop_assert_eq!(url.host_str(), base_url.host_str());
        let got = segments(&url);
        let n = base_segments.len();
        prop_assert_eq!(got.len(), n + 3, "{:?} → {}", value, url);
        prop_assert_eq!(&got[..n], &base_segments[..]);
        prop_assert_eq!(&got[n], "users");
        let decoded = percent_decode_str(&got[n + 1]).decode_utf8().unwrap();
        prop_assert_eq!(decoded.as_ref(), value.as_str());
        prop_assert_eq!(&got[n + 2], "roles");
    }
}

/// One way a generated handler adds to the query.
#[derive(Debug, Clone)]
enum Push {
    Text(String, String),
    Integer(String, i64),
    Number(String, f64),
    Boolean(String, bool),
    List(String, Vec<String>),
    Joined(String, Vec<String>),
    Absent(String),
    Map(Vec<(String, Value)>),
}

fn query_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..3)
                .prop_map(|e| Value::Object(e.into_iter().collect())),
        ]
    })
}

fn push() -> impl Strategy<Value = Push> {
    prop_oneof![
        (text(), text()).prop_map(|(k, v)| Push::Text(k, v)),
        (text(), any::<i64>()).prop_map(|(k, v)| Push::Integer(k, v)),
        (text(), any::<f64>()).prop_map(|(k, v)| Push::Number(k, v)),
        (text(), any::<bool>()).prop_map(|(k, v)| Push::Boolean(k, v)),
        (text(), prop::collection::vec(text(), 0..4)).prop_map(|(k, v)| Push::List(k, v)),
        (text(), prop::collection::vec(text(), 0..4)).prop_map(|(k, v)| Push::Joined(k, v)),
        text().prop_map(Push::Absent),
        prop::collection::vec((text(), query_value()), 0..4).prop_map(Push::Map),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Whatever the keys and values, the query the server parses holds exactly the pairs the
    /// request holds, in order: a value never adds a key (nor removes or changes one).
    #[test]
    fn a_query_value_never_adds_a_key(pushes in prop::collection::vec(push(), 0..8)) {
        let mut request = ApiRequest::new("list_things", Method::Get);
        request.push_literal("/things");
        for push in pushes {
            match push {
                Push::Text(k, v) => request.push_query(&k, v),
                Push::Integer(k, v) => request.push_query(&k, v),
                Push::Number(k, v) => request.push_query(&k, v),
                Push::Boolean(k, v) => request.push_query(&k, v),
                Push::List(k, v) => request.push_query(&k, v),
                Push::Joined(k, v) => request.push_query_joined(&k, v),
                Push::Absent(k) => request.push_query(&k, None::<String>),
                Push::Map(entries) => {
                    let map: Map<String, Value> = entries.into_iter().collect();
                    request.merge_query_map(map);
                }
            }
        }
        let url = url_of("https://api.example.test/v1", &request);
        let parsed: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        prop_assert_eq!(&parsed, &request.query, "{}", url);
        prop_assert_eq!(segments(&url), ["v1", "things"]);
        prop_assert_eq!(url.fragment(), None);
    }

    /// A free-form query map adds one key per entry at most (none for null or an empty
    /// array), never one a declared parameter already set, and every key it adds is its own.
    #[test]
    fn a_query_map_adds_only_its_own_keys(
        declared in prop::collection::vec((text(), text()), 0..3),
        entries in prop::collection::vec((text(), query_value()), 0..5),
    ) {
        let mut request = ApiRequest::new("list_things", Method::Get);
        for (k, v) in &declared {
            request.push_query(k, v.as_str());
        }
        let map: Map<String, Value> = entries.into_iter().collect();
        request.merge_query_map(map.clone());
        let url = url_of("https://api.example.test", &request);
        let parsed: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        prop_assert_eq!(&parsed, &request.query);
        prop_assert_eq!(&parsed[..declared.len()], &declared[..]);
        for (key, _) in &parsed[declared.len()..] {
            prop_assert!(map.contains_key(key), "{:?} is not a key of the map", key);
            prop_assert!(!declared.iter().any(|(k, _)| k == key), "{:?} was declared", key);
        }
    }
}
