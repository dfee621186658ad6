//! Support code for generated integration crates.
//!
//! Generated handlers build an [`ApiRequest`] from a function's manifest mapping and hand it to a
//! [`Transport`]; the static [`meta`] tables describe every function for introspection, docs and
//! argument checks; each generated provider exports an [`Integration`] for the [`registry`] that
//! hosts read. Nothing here knows about a particular provider.

pub mod args;
pub mod credentials;
pub mod error;
pub mod file;
pub mod http;
pub mod meta;
pub mod pacing;
pub mod registry;
pub mod request;
pub mod response;
pub mod transport;

pub use credentials::Credentials;
pub use error::{ApiError, Error};
pub use file::FileArg;
pub use http::{HttpConfig, HttpTransport, RetryPolicy};
pub use meta::{
    CredentialMeta, EndpointLimit, ErrorFormat, FamilyMeta, FunctionMeta, Literal, Method,
    Operation, Pagination, ParamLocation, ParamMeta, ParamType, ProviderMeta, RateLimits, RateTier,
    Route, Total,
};
pub use pacing::{Pacer, PacerStats, Pacers, PacingConfig};
pub use registry::{CallFn, Docs, Integration};
pub use request::{ApiRequest, BodyFormat};
pub use response::{Output, Response};
pub use transport::{OutputFuture, Transport, TransportFuture};
