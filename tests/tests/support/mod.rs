//! Shared by the workspace tests: a transport that records requests instead of sending them.
// Each test binary uses a part of it.
#![allow(dead_code)]

use std::sync::Mutex;

use kosmo_runtime::{ApiRequest, Response, Transport, TransportFuture};
use serde_json::Value;

/// Records every request and answers each with the same JSON value.
pub struct Recorder {
    pub sent: Mutex<Vec<ApiRequest>>,
    answer: Value,
}

impl Recorder {
    pub fn answering(answer: Value) -> Self {
        Recorder {
            sent: Mutex::new(Vec::new()),
            answer,
        }
    }

    /// The most recent request.
    pub fn last(&self) -> ApiRequest {
        self.sent
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a request was sent")
    }

    pub fn count(&self) -> usize {
        self.sent.lock().unwrap().len()
    }
}

impl Transport for Recorder {
    fn send(&self, request: ApiRequest) -> TransportFuture<'_> {
        Box::pin(async move {
            self.sent.lock().unwrap().push(request);
            Ok(Response::from_value("Recorder", &self.answer))
        })
    }
}

/// Hands every account the same recorder, so a host's calls can be inspected.
pub struct RecordingTransports(pub std::sync::Arc<Recorder>);

impl kosmo_host::TransportFactory for RecordingTransports {
    fn transport(
        &self,
        _integration: &'static kosmo_runtime::ProviderMeta,
        _credentials: &kosmo_runtime::Credentials,
    ) -> Result<std::sync::Arc<dyn Transport>, kosmo_runtime::Error> {
        Ok(self.0.clone())
    }
}
