//! The seam between generated handlers and whatever sends requests.

use std::future::Future;
use std::pin::Pin;

use crate::{ApiRequest, Error, Output, Response};

pub type TransportFuture<'a> = Pin<Box<dyn Future<Output = Result<Response, Error>> + Send + 'a>>;

/// What a function's dispatcher returns.
pub type OutputFuture<'a> = Pin<Box<dyn Future<Output = Result<Output, Error>> + Send + 'a>>;

/// Sends a built request and returns the provider's successful answer (errors are `Err`).
///
/// The HTTP client implements it for real traffic; tests implement it to record requests.
/// A boxed future keeps the trait usable as `dyn Transport`.
pub trait Transport: Send + Sync {
    fn send(&self, request: ApiRequest) -> TransportFuture<'_>;

    /// The base URL requests go to, when there is one. Raw-path helpers accept a path that
    /// starts with it and strip it, as the original integration did.
    fn base_url(&self) -> Option<&str> {
        None
    }
}
