//! The AWS adapters: the only code that talks to AWS. They translate SDK responses into
//! [`crate::model`] values and plan steps into SDK calls.

pub mod apply;
pub mod calls;
pub mod clients;
pub mod nacl;
pub mod observe;
pub mod throttle;
