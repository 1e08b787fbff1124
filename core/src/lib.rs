//! peerwire-core: what peerwire decides, with no AWS SDK in reach.
//!
//! - [`model`]: typed ids, the two sides of a peering, the network each side is made of.
//! - [`policy`]: the allowlist document and its evaluation.
//! - [`plan`]: the pure planners: decide a request, wire an active peering, clean a gone one.
//! - [`events`]: typed EventBridge events; an event only says where to look.
//! - [`outcome`]: what is reported, as events and logs.
//! - [`error`]: errors as plain data, AWS error codes kept.
//!
//! The adapters that observe AWS into this model and apply plans live in the `peerwire`
//! crate, which depends on this one; nothing here can call AWS, because nothing here links
//! the SDK.

pub mod error;
pub mod events;
pub mod model;
pub mod outcome;
pub mod plan;
pub mod policy;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use error::{Error, Result};
