//! Support code for generated integration crates.
//!
//! Generated handlers build an [`ApiRequest`] from a function's manifest mapping and hand it to a
//! [`Transport`]; the static [`meta`] tables describe every function for introspection, docs and
//! argument checks. Nothing here knows about a particular provider.

pub mod args;
pub mod credentials;
pub mod error;
pub mod http;
pub mod lua;
pub mod meta;
pub mod request;
pub mod transport;

pub use credentials::Credentials;
pub use error::{ApiError, Error};
pub use http::{HttpConfig, HttpTransport, RetryPolicy};
pub use meta::{
    FunctionMeta, Literal, Method, Operation, ParamLocation, ParamMeta, ParamType, ProviderMeta,
};
pub use request::ApiRequest;
pub use transport::{Transport, TransportFuture};
