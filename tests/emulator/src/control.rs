//! `/__emulator/*`: the control endpoints the binary offers to tests in other languages.
//! They are not recorded, need no key, and answer only to loopback clients.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::ApiResponse;
use crate::{ClerkLimits, Fault, RateLimit, RateLimitState, RecordedRequest, Shared, Snapshot};

/// The name a snapshot is saved under when the body names none.
const DEFAULT_SNAPSHOT: &str = "default";

/// `POST /__emulator/limits`: what is left out stays as it is.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsRequest {
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    window_scale: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LatencyRequest {
    millis: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordingRequest {
    enabled: bool,
}

fn limits_json(shared: &Shared) -> Value {
    let inner = shared.lock();
    let settings = inner.limiter.settings;
    json!({
        "enabled": settings.enabled,
        "window_scale": settings.window_scale,
        "instance": inner.limiter.tier,
    })
}

fn latency_json(shared: &Shared) -> Value {
    let millis = u64::try_from(shared.lock().latency.as_millis()).unwrap_or(u64::MAX);
    json!({ "millis": millis })
}

/// `POST /__emulator/snapshot` and `/restore`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotRequest {
    #[serde(default)]
    name: Option<String>,
}

impl SnapshotRequest {
    fn name(self) -> String {
        self.name.unwrap_or_else(|| DEFAULT_SNAPSHOT.to_string())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedRequest {
    #[serde(default)]
    users: usize,
    #[serde(default)]
    organizations: usize,
}

fn answer(status: u16, value: &Value) -> ApiResponse {
    ApiResponse {
        status,
        headers: vec![("content-type", "application/json".to_string())],
        body: serde_json::to_vec(value).unwrap_or_default(),
    }
}

fn problem(status: u16, message: &str) -> ApiResponse {
    answer(status, &json!({ "error": message }))
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiResponse> {
    let body = if body.is_empty() {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|error| problem(400, &format!("invalid body: {error}")))
}

fn request_json(request: &RecordedRequest) -> Value {
    let body = match (&request.json, request.body.is_empty()) {
        (Some(json), _) => json.clone(),
        (None, true) => Value::Null,
        (None, false) => Value::String(String::from_utf8_lossy(&request.body).into_owned()),
    };
    json!({
        "method": request.method,
        "path": request.path,
        "raw_query": request.raw_query,
        "query": request.query,
        "headers": request.headers,
        "body": body,
    })
}

/// `GET /__emulator/images/{image_id}`: an upload's bytes, with its content type.
const IMAGES: &str = "/__emulator/images/";

pub(crate) fn handle(
    shared: &Shared,
    peer: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
) -> ApiResponse {
    if !peer.ip().is_loopback() {
        return problem(403, "the control endpoints answer loopback clients only");
    }
    let result = match (method, path) {
        ("GET", "/__emulator/requests") => {
            let requests: Vec<Value> = shared.lock().requests.iter().map(request_json).collect();
            Ok(answer(200, &Value::Array(requests)))
        }
        ("DELETE", "/__emulator/requests") => {
            let cleared = std::mem::take(&mut shared.lock().requests).len();
            Ok(answer(200, &json!({ "cleared": cleared })))
        }
        ("POST", "/__emulator/faults") => parse::<Fault>(body).map(|fault| {
            if fault.times > 0 {
                shared.lock().faults.push_back(fault);
            }
            answer(200, &json!({ "queued": shared.lock().faults.len() }))
        }),
        ("DELETE", "/__emulator/faults") => {
            shared.lock().faults.clear();
            Ok(answer(200, &json!({ "queued": 0 })))
        }
        ("POST", "/__emulator/rate_limits") => parse::<RateLimit>(body).map(|limit| {
            let mut inner = shared.lock();
            inner.rate_limits.retain(|state| {
                state.limit.method != limit.method || state.limit.path != limit.path
            });
            inner.rate_limits.push(RateLimitState::new(limit));
            answer(200, &json!({ "rate_limits": inner.rate_limits.len() }))
        }),
        ("DELETE", "/__emulator/rate_limits") => {
            shared.lock().rate_limits.clear();
            Ok(answer(200, &json!({ "rate_limits": 0 })))
        }
        ("POST", "/__emulator/seed") => parse::<SeedRequest>(body).map(|seed| {
            let mut inner = shared.lock();
            inner.store.seed(seed.users, seed.organizations);
            answer(
                200,
                &json!({
                    "users": inner.store.users.len(),
                    "organizations": inner.store.organizations.len(),
                }),
            )
        }),
        ("GET", "/__emulator/stats") => serde_json::to_value(shared.stats())
            .map(|stats| answer(200, &stats))
            .map_err(|error| problem(500, &error.to_string())),
        ("GET", "/__emulator/limits") => Ok(answer(200, &limits_json(shared))),
        ("POST", "/__emulator/limits") => parse::<LimitsRequest>(body).and_then(|change| {
            let current = shared.lock().limiter.settings;
            let wanted = ClerkLimits {
                enabled: change.enabled.unwrap_or(current.enabled),
                window_scale: change.window_scale.unwrap_or(current.window_scale),
            };
            shared
                .set_limits(wanted)
                .map_err(|message| problem(400, &message))?;
            Ok(answer(200, &limits_json(shared)))
        }),
        ("GET", "/__emulator/latency") => Ok(answer(200, &latency_json(shared))),
        ("POST", "/__emulator/latency") => parse::<LatencyRequest>(body).map(|latency| {
            shared.lock().latency = Duration::from_millis(latency.millis);
            answer(200, &latency_json(shared))
        }),
        ("GET", "/__emulator/recording") => {
            let enabled = shared.lock().record_requests;
            Ok(answer(200, &json!({ "enabled": enabled })))
        }
        ("POST", "/__emulator/recording") => parse::<RecordingRequest>(body).map(|recording| {
            shared.lock().record_requests = recording.enabled;
            answer(200, &json!({ "enabled": recording.enabled }))
        }),
        ("POST", "/__emulator/reset") => {
            shared.reset();
            Ok(answer(200, &json!({ "reset": true })))
        }
        ("POST", "/__emulator/snapshot") => parse::<SnapshotRequest>(body).map(|request| {
            let name = request.name();
            let mut inner = shared.lock();
            let snapshot = Snapshot {
                store: inner.store.clone(),
            };
            inner.snapshots.insert(name.clone(), snapshot);
            answer(200, &json!({ "snapshot": name }))
        }),
        ("POST", "/__emulator/restore") => parse::<SnapshotRequest>(body).and_then(|request| {
            let name = request.name();
            let saved = shared.lock().snapshots.get(&name).cloned();
            let snapshot =
                saved.ok_or_else(|| problem(404, &format!("no snapshot named {name:?}")))?;
            shared.reset_to(snapshot.store);
            Ok(answer(200, &json!({ "restored": name })))
        }),
        ("GET", "/__emulator/operations") => serde_json::to_value(shared.router.operations())
            .map(|operations| answer(200, &operations))
            .map_err(|error| problem(500, &error.to_string())),
        ("GET", "/__emulator/images") => Ok(answer(200, &shared.lock().store.images_json())),
        ("GET", path) if path.starts_with(IMAGES) => {
            let inner = shared.lock();
            match inner.store.image(&path[IMAGES.len()..]) {
                Some(image) => Ok(ApiResponse {
                    status: 200,
                    headers: vec![("content-type", image.content_type.clone())],
                    body: image.data.clone(),
                }),
                None => Err(problem(404, "no uploaded image has this ID")),
            }
        }
        _ => Err(problem(404, "unknown control endpoint")),
    };
    result.unwrap_or_else(|problem| problem)
}
