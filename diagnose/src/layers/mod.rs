//! One file per layer, in the order they are reported. Each turns the shared facts (and, for
//! the ACLs and the traffic, what was read besides) into one [`Layer`](crate::Layer); no layer
//! calls another.

pub(crate) mod dns;
pub(crate) mod nacls;
pub(crate) mod overlap;
pub(crate) mod rds;
pub(crate) mod routes;
pub(crate) mod security_groups;
pub(crate) mod status;
pub(crate) mod traffic;
pub(crate) mod zones;

#[cfg(test)]
mod tests;
