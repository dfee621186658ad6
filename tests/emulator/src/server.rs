//! The accept loop and per-request flow: record, apply a fault or a rate limit, then the API,
//! then wait out the configured latency.
//!
//! Hyper is used directly (not axum) because a fault must be able to end a connection without
//! writing any response bytes, and to cut a body short after its headers promised more.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use crate::api::{self, ApiError, ApiResponse};
use crate::{FaultKind, InFlight, RecordedRequest, Shared, control};

/// How long a truncated body waits after its first half, so that half surely reaches the client
/// before the connection is cut.
const TRUNCATION_PAUSE: Duration = Duration::from_millis(50);

/// Returned by the service to make hyper close the connection without a response.
#[derive(Debug)]
pub(crate) struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose by an injected fault")
    }
}

impl std::error::Error for DropConnection {}

/// A response body: whole; in parts with pauses between them (a slow body); or cut off after
/// its data with an error so hyper aborts the connection (a truncated one).
pub(crate) struct EmulatorBody {
    /// Parts still to send, in order.
    parts: VecDeque<Bytes>,
    /// Between two parts.
    pause: Duration,
    waiting: Option<Pin<Box<tokio::time::Sleep>>>,
    /// After the parts: the connection is cut when this ends.
    cut: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl EmulatorBody {
    fn full(data: Vec<u8>) -> EmulatorBody {
        EmulatorBody::slow(data, 1, Duration::ZERO)
    }

    /// `data` in `pieces` parts of about the same size, `pause` apart.
    fn slow(data: Vec<u8>, pieces: usize, pause: Duration) -> EmulatorBody {
        let data = Bytes::from(data);
        let size = data.len().div_ceil(pieces.max(1)).max(1);
        let parts = (0..data.len())
            .step_by(size)
            .map(|start| data.slice(start..(start + size).min(data.len())))
            .collect();
        EmulatorBody {
            parts,
            pause,
            waiting: None,
            cut: None,
        }
    }

    fn truncated(data: Bytes) -> EmulatorBody {
        EmulatorBody {
            parts: (!data.is_empty()).then_some(data).into_iter().collect(),
            pause: Duration::ZERO,
            waiting: None,
            cut: Some(Box::pin(tokio::time::sleep(TRUNCATION_PAUSE))),
        }
    }
}

impl Body for EmulatorBody {
    type Data = Bytes;
    type Error = DropConnection;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, DropConnection>>> {
        let this = self.get_mut();
        if let Some(waiting) = this.waiting.as_mut() {
            match waiting.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) => this.waiting = None,
            }
        }
        if let Some(part) = this.parts.pop_front() {
            if !this.parts.is_empty() && !this.pause.is_zero() {
                this.waiting = Some(Box::pin(tokio::time::sleep(this.pause)));
            }
            return Poll::Ready(Some(Ok(Frame::data(part))));
        }
        match this.cut.as_mut() {
            None => Poll::Ready(None),
            Some(pause) => match pause.as_mut().poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(()) => {
                    this.cut = None;
                    Poll::Ready(Some(Err(DropConnection)))
                }
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.parts.is_empty() && self.cut.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        let left: usize = self.parts.iter().map(Bytes::len).sum();
        match &self.cut {
            None => SizeHint::with_exact(left as u64),
            Some(_) => SizeHint::default(),
        }
    }
}

pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(_) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let shared = Arc::clone(&shared);
                connections.spawn(async move {
                    let service = service_fn(move |request| handle(Arc::clone(&shared), peer, request));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    // Dropping the set aborts the open connections.
    connections.shutdown().await;
}

async fn handle(
    shared: Arc<Shared>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<EmulatorBody>, DropConnection> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(|_| DropConnection)?.to_bytes();
    let path = parts.uri.path().to_string();
    if path == "/__emulator" || path.starts_with("/__emulator/") {
        return Ok(to_hyper(control::handle(
            &shared,
            peer,
            parts.method.as_str(),
            &path,
            &body,
        )));
    }
    let raw_query = parts.uri.query().map(str::to_string);
    let query = raw_query
        .as_deref()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let recorded = RecordedRequest {
        method: parts.method.as_str().to_string(),
        path,
        raw_query,
        query,
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        json: serde_json::from_slice(&body).ok(),
        body: body.to_vec(),
    };
    let _in_flight = InFlight::enter(&shared);
    shared.received.fetch_add(1, Ordering::SeqCst);
    let latency = {
        let mut inner = shared.lock();
        if inner.record_requests {
            inner.requests.push(recorded.clone());
        }
        inner.latency
    };
    let answer = answer_api(&shared, &recorded).await;
    if !latency.is_zero() {
        // Outside the lock: concurrent requests wait side by side.
        tokio::time::sleep(latency).await;
    }
    answer
}

/// A fault's own 429 (not one from a limit while the fault lets the request through).
fn is_fault_429(fault: &FaultKind) -> bool {
    match fault {
        FaultKind::TooManyRequests { .. } => true,
        FaultKind::ServerError { status }
        | FaultKind::ServerErrorAfterApplying { status }
        | FaultKind::NonJson { status, .. }
        | FaultKind::EmptyBody { status } => *status == 429,
        FaultKind::Delay(_)
        | FaultKind::DropConnection
        | FaultKind::DropConnectionAfterApplying
        | FaultKind::TruncatedBody
        | FaultKind::SlowBody { .. } => false,
    }
}

/// The answer to an API request: a queued fault's, else the API's.
async fn answer_api(
    shared: &Shared,
    recorded: &RecordedRequest,
) -> Result<Response<EmulatorBody>, DropConnection> {
    let fault = shared
        .take_fault(&recorded.method, &recorded.path)
        .or_else(|| shared.chaos_fault());
    let Some(fault) = fault else {
        return Ok(to_hyper(api::process(shared, recorded)));
    };
    if is_fault_429(&fault) {
        shared.lock().refusals.fault += 1;
    }
    match fault {
        FaultKind::TooManyRequests { retry_after } => Ok(to_hyper(api::fault_response(
            shared,
            ApiError::too_many_requests(retry_after),
        ))),
        FaultKind::ServerError { status } => Ok(to_hyper(api::fault_response(
            shared,
            ApiError::internal(status),
        ))),
        FaultKind::ServerErrorAfterApplying { status } => {
            api::process(shared, recorded);
            Ok(to_hyper(api::fault_response(
                shared,
                ApiError::internal(status),
            )))
        }
        FaultKind::Delay(delay) => {
            tokio::time::sleep(delay).await;
            Ok(to_hyper(api::process(shared, recorded)))
        }
        FaultKind::DropConnection => Err(DropConnection),
        FaultKind::DropConnectionAfterApplying => {
            api::process(shared, recorded);
            Err(DropConnection)
        }
        FaultKind::TruncatedBody => {
            let answer = api::process(shared, recorded);
            let full_length = answer.body.len();
            let body = Bytes::from(answer.body);
            let half = body.slice(..full_length / 2);
            let mut response = Response::new(EmulatorBody::truncated(half));
            *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
            add_headers(&mut response, &answer.headers);
            response.headers_mut().insert(
                hyper::header::CONTENT_LENGTH,
                HeaderValue::from(full_length),
            );
            Ok(response)
        }
        FaultKind::NonJson {
            status,
            content_type,
            body,
        } => Ok(to_hyper(ApiResponse {
            status,
            headers: vec![("content-type", content_type)],
            body: body.into_bytes(),
        })),
        FaultKind::SlowBody { pieces, pause } => {
            let answer = api::process(shared, recorded);
            let full_length = answer.body.len();
            let mut response =
                Response::new(EmulatorBody::slow(answer.body, usize::from(pieces), pause));
            *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
            add_headers(&mut response, &answer.headers);
            response.headers_mut().insert(
                hyper::header::CONTENT_LENGTH,
                HeaderValue::from(full_length),
            );
            Ok(response)
        }
        FaultKind::EmptyBody { status } => {
            api::process(shared, recorded);
            Ok(to_hyper(ApiResponse {
                status,
                headers: Vec::new(),
                body: Vec::new(),
            }))
        }
    }
}

fn add_headers(response: &mut Response<EmulatorBody>, headers: &[(&'static str, String)]) {
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            response
                .headers_mut()
                .append(HeaderName::from_static(name), value);
        }
    }
}

fn to_hyper(answer: ApiResponse) -> Response<EmulatorBody> {
    let mut response = Response::new(EmulatorBody::full(answer.body));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    add_headers(&mut response, &answer.headers);
    response
}
