//! Typed identifiers: one newtype per kind of AWS id, each with the one [`FromStr`] that decides
//! what a valid value is. Events, the policy document and AWS responses all parse through these,
//! so a validator can never disagree with another one.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a string is not a valid id of some kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{shown}` is not {what}")]
pub struct IdError {
    /// The value, cut to 64 characters (events are untrusted input).
    pub shown: String,
    /// `a VPC ID (vpc- and 8 or 17 lowercase hex digits)`, ...
    pub what: &'static str,
}

impl IdError {
    fn new(value: &str, what: &'static str) -> Self {
        Self {
            shown: value.chars().take(64).collect(),
            what,
        }
    }
}

/// `prefix` followed by 8 (older resources) or 17 lowercase hex digits: every EC2 resource id.
fn is_ec2_id(value: &str, prefix: &str) -> bool {
    value.strip_prefix(prefix).is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Declares a string newtype whose only constructor is `FromStr` with `$valid`.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $valid:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The id as AWS spells it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(value: &str) -> Result<Self, IdError> {
                let valid: fn(&str) -> bool = $valid;
                if valid(value) {
                    Ok(Self(value.to_owned()))
                } else {
                    Err(IdError::new(value, $what))
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                value.parse()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
    };
}

id_type!(
    /// A 12-digit AWS account ID.
    AccountId,
    "a 12-digit AWS account ID",
    |v| v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit())
);

id_type!(
    /// An AWS region name: lowercase words and a trailing number of at most two digits
    /// (`us-east-1`, `eu-central-2`, `us-gov-west-1`).
    Region,
    "an AWS region name (like us-east-1)",
    |v| {
        let parts: Vec<&str> = v.split('-').collect();
        (3..=4).contains(&parts.len())
            && parts[..parts.len() - 1]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            && parts.last().is_some_and(|n| {
                !n.is_empty() && n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit())
            })
    }
);

id_type!(
    /// A VPC peering connection id: `pcx-` and 8 or 17 lowercase hex digits.
    PeeringId,
    "a VPC peering connection id (pcx- and 8 or 17 lowercase hex digits)",
    |v| is_ec2_id(v, "pcx-")
);

id_type!(
    /// A VPC id: `vpc-` and 8 or 17 lowercase hex digits.
    VpcId,
    "a VPC ID (vpc- and 8 or 17 lowercase hex digits)",
    |v| is_ec2_id(v, "vpc-")
);

id_type!(
    /// A subnet id: `subnet-` and 8 or 17 lowercase hex digits.
    SubnetId,
    "a subnet ID (subnet- and 8 or 17 lowercase hex digits)",
    |v| is_ec2_id(v, "subnet-")
);

id_type!(
    /// A route table id: `rtb-` and 8 or 17 lowercase hex digits.
    RouteTableId,
    "a route table ID (rtb- and 8 or 17 lowercase hex digits)",
    |v| is_ec2_id(v, "rtb-")
);

id_type!(
    /// A security group id: `sg-` and 8 or 17 lowercase hex digits.
    SecurityGroupId,
    "a security group ID (sg- and 8 or 17 lowercase hex digits)",
    |v| is_ec2_id(v, "sg-")
);

id_type!(
    /// A network ACL id: `acl-` and 8 or 17 lowercase hex digits.
    NetworkAclId,
    "a network ACL ID (acl- and 8 or 17 lowercase hex digits)",
    |v| is_ec2_id(v, "acl-")
);

id_type!(
    /// A managed prefix list id: `pl-` and 8 or 17 lowercase hex digits.
    PrefixListId,
    "a prefix list ID (pl- and 8 or 17 lowercase hex digits)",
    |v| is_ec2_id(v, "pl-")
);

id_type!(
    /// An RDS DB instance or cluster identifier: 1 to 63 letters, digits or hyphens.
    DbIdentifier,
    "a DB identifier (1 to 63 letters, digits or hyphens)",
    |v| !v.is_empty() && v.len() <= 63 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
);

id_type!(
    /// A Route 53 hosted zone id, as `GetHostedZone` takes it: 1 to 32 uppercase letters and
    /// digits (AWS's start with `Z`; the `/hostedzone/` prefix of some responses is not part
    /// of it).
    HostedZoneId,
    "a hosted zone id (like Z0123456789ABCDEFGHIJ)",
    |v| !v.is_empty() && v.len() <= 32 && v.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
);

id_type!(
    /// An AWS Organizations organizational unit id: `ou-`, the root's 4 to 32 characters, `-`,
    /// and 8 to 32 more (lowercase letters and digits).
    OrganizationalUnitId,
    "an organizational unit id (like ou-ab12-cdef3456)",
    |v| {
        v.strip_prefix("ou-").and_then(|rest| rest.split_once('-')).is_some_and(|(root, unit)| {
            let ok = |s: &str| s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            (4..=32).contains(&root.len()) && (8..=32).contains(&unit.len()) && ok(root) && ok(unit)
        })
    }
);

id_type!(
    /// The id of a route target that is not peerwire's (an internet, NAT or transit gateway, an
    /// instance, an interface, ...), as AWS names it. Any non-empty value.
    TargetId,
    "a route target id",
    |v| !v.is_empty()
);

impl TargetId {
    /// A target AWS described without any id peerwire knows how to read.
    pub fn unknown() -> Self {
        Self("unknown".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_accepts_its_own_shape_only() {
        assert!("111111111111".parse::<AccountId>().is_ok());
        for bad in ["11111111111", "1111111111111", "11111111111a", "", "*"] {
            assert!(bad.parse::<AccountId>().is_err(), "{bad}");
        }
        for good in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-4",
        ] {
            assert!(good.parse::<Region>().is_ok(), "{good}");
        }
        for bad in [
            "us-east",
            "US-EAST-1",
            "us-east-100",
            "useast1",
            "us--east-1",
            "a-b-c-d-1",
        ] {
            assert!(bad.parse::<Region>().is_err(), "{bad}");
        }
        assert!("pcx-12345678".parse::<PeeringId>().is_ok());
        assert!("pcx-0123456789abcdef0".parse::<PeeringId>().is_ok());
        for bad in [
            "pcx-1234567",
            "pcx-0123456789ABCDEF0",
            "vpc-12345678",
            "pcx-123456789",
        ] {
            assert!(bad.parse::<PeeringId>().is_err(), "{bad}");
        }
        assert!("vpc-0123456789abcdef0".parse::<VpcId>().is_ok());
        assert!("rtb-12345678".parse::<RouteTableId>().is_ok());
        assert!("sg-12345678".parse::<SecurityGroupId>().is_ok());
        assert!("subnet-12345678".parse::<SubnetId>().is_ok());
        assert!("payments-db".parse::<DbIdentifier>().is_ok());
        assert!("payments_db".parse::<DbIdentifier>().is_err());
        assert!("ou-ab12-cdef3456".parse::<OrganizationalUnitId>().is_ok());
        assert!("ou-ab12".parse::<OrganizationalUnitId>().is_err());
        assert!("r-ab12".parse::<OrganizationalUnitId>().is_err());
    }

    #[test]
    fn an_error_names_the_kind_and_cuts_long_values() {
        let err = "x".repeat(500).parse::<VpcId>().unwrap_err();
        assert_eq!(err.shown.len(), 64);
        assert!(err.to_string().contains("VPC ID"), "{err}");
    }

    #[test]
    fn ids_serialize_as_plain_strings_and_validate_when_read() {
        let id: PeeringId = "pcx-12345678".parse().unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"pcx-12345678\"");
        assert!(serde_json::from_str::<PeeringId>("\"pcx-nothex00\"").is_err());
    }
}
