//! Which way traffic crosses a security group or a network ACL.

use std::fmt;

use serde::{Serialize, Serializer};

/// Into the resource (a group's inbound rules, an ACL's inbound entries) or out of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub const BOTH: [Direction; 2] = [Direction::Ingress, Direction::Egress];

    /// `ingress` or `egress`, as the EC2 actions name them.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ingress => "ingress",
            Self::Egress => "egress",
        }
    }

    /// `inbound` or `outbound`, as the VPC User Guide names traffic and rules.
    pub fn traffic(self) -> &'static str {
        match self {
            Self::Ingress => "inbound",
            Self::Egress => "outbound",
        }
    }

    /// "from" for inbound traffic, "to" for outbound.
    pub fn preposition(self) -> &'static str {
        match self {
            Self::Ingress => "from",
            Self::Egress => "to",
        }
    }

    /// Whether this is outbound: the `Egress` flag of a network ACL entry.
    pub fn is_egress(self) -> bool {
        self == Self::Egress
    }

    /// Serializes as the boolean `egress` field that outcome events have always carried.
    pub fn serialize_as_egress<S: Serializer>(direction: &Self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(direction.is_egress())
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
