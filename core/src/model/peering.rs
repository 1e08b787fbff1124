//! A VPC peering connection as one of its owners sees it.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::ids::{AccountId, PeeringId, Region, VpcId};
use super::side::{Side, Sides};

/// Lifecycle state of a VPC peering connection, as `Status.Code` reports it, plus
/// [`NotFound`](Self::NotFound) for a peering AWS no longer shows.
///
/// AWS: a request starts `initiating-request`, becomes `pending-acceptance` (and `expired` after
/// 7 days), `provisioning` for a few seconds after acceptance, then `active`; a deletion passes
/// through `deleting` to `deleted`. `deleted`, `rejected`, `failed` and `expired` peerings stay
/// visible for about 2 hours (rejected: up to 2 days), then describes no longer return them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PeeringStatus {
    InitiatingRequest,
    PendingAcceptance,
    Provisioning,
    Active,
    Deleting,
    Deleted,
    Rejected,
    Failed,
    Expired,
    /// AWS no longer shows the peering to the account asked (forgotten, or never visible).
    NotFound,
    /// A code this version does not know; never acted on.
    Other(String),
}

impl PeeringStatus {
    /// Maps an AWS `Status.Code` string.
    pub fn from_code(code: &str) -> Self {
        match code {
            "initiating-request" => Self::InitiatingRequest,
            "pending-acceptance" => Self::PendingAcceptance,
            "provisioning" => Self::Provisioning,
            "active" => Self::Active,
            "deleting" => Self::Deleting,
            "deleted" => Self::Deleted,
            "rejected" => Self::Rejected,
            "failed" => Self::Failed,
            "expired" => Self::Expired,
            "not-found" => Self::NotFound,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The AWS `Status.Code` string (`not-found` for [`NotFound`](Self::NotFound)).
    pub fn code(&self) -> &str {
        match self {
            Self::InitiatingRequest => "initiating-request",
            Self::PendingAcceptance => "pending-acceptance",
            Self::Provisioning => "provisioning",
            Self::Active => "active",
            Self::Deleting => "deleting",
            Self::Deleted => "deleted",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::NotFound => "not-found",
            Self::Other(code) => code,
        }
    }

    /// Nothing can flow any more, and nothing will: peerwire's changes for it are removed.
    pub fn is_gone(&self) -> bool {
        matches!(
            self,
            Self::Deleted | Self::Rejected | Self::Failed | Self::Expired | Self::NotFound
        )
    }

    /// A state AWS leaves by itself within seconds: wait for it to settle, don't decide on it.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::InitiatingRequest | Self::Provisioning | Self::Deleting
        )
    }

    /// The AWS status codes that are gone, for a `status-code` filter.
    pub const GONE_CODES: [&'static str; 4] = ["deleted", "rejected", "expired", "failed"];
}

impl fmt::Display for PeeringStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for PeeringStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for PeeringStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|code| Self::from_code(&code))
    }
}

/// One side (requester or accepter) of a peering, as the peering itself describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeeringSide {
    pub account: AccountId,
    pub vpc_id: VpcId,
    pub region: Region,
    /// Every IPv4 and IPv6 CIDR of the VPC that the peering reports (`CidrBlockSet`,
    /// `Ipv6CidrBlockSet`), primary first. May be empty on the accepter side before acceptance.
    pub cidrs: Vec<IpNet>,
    /// This side's `AllowDnsResolutionFromRemoteVpc` peering option. Only this side's owner
    /// may set it, and only while the peering is active.
    #[serde(default)]
    pub allow_dns_resolution_from_remote_vpc: bool,
}

impl PeeringSide {
    /// Where this side is owned: its account and region.
    pub fn location(&self) -> super::Location {
        super::Location::new(self.account.clone(), self.region.clone())
    }
}

/// The tags one owner sees on its view of a peering.
///
/// AWS keeps one tag set per owner view of a cross-account or cross-region peering: the
/// requester's `TagSpecifications` and `CreateTags` land on the requester's view only, and the
/// accepter never sees them (nor the reverse). Only a same-account, same-region peering is one
/// resource with one tag set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "view", content = "tags", rename_all = "kebab-case")]
pub enum TagView {
    /// This owner's view was not described.
    #[default]
    NotRead,
    Read(BTreeMap<String, String>),
    /// Describing this owner's view failed (no member role there, access denied): why.
    Unreadable(String),
}

impl TagView {
    /// The tags, when they were read.
    pub fn read(&self) -> Option<&BTreeMap<String, String>> {
        match self {
            Self::Read(tags) => Some(tags),
            Self::NotRead | Self::Unreadable(_) => None,
        }
    }
}

/// A VPC peering connection as seen from one of its two accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peering {
    pub id: PeeringId,
    pub status: PeeringStatus,
    pub status_message: Option<String>,
    pub sides: Sides<PeeringSide>,
    /// Each owner's tags, as far as they were read: describing the peering as one owner fills
    /// that owner's side (both, for a same-account, same-region peering).
    pub tags: Sides<TagView>,
    /// When a `pending-acceptance` request expires (7 days after it was made); AWS reports it
    /// on pending requests only. The earlier of two requests is the one expiring first.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// The tag peerwire puts on the accepter's view of a peering it accepted and must delete again
/// (it collided with an earlier request accepted at the same moment); its value is the earlier
/// peering's id. The delete waits for `active` (AWS deletes only `active` and
/// `pending-acceptance` peerings, and an accept passes through `provisioning`), so whoever next
/// sees the peering active (the retried request, the wiring function, a sweep) deletes it
/// instead of wiring it.
pub const ROLLBACK_TAG: &str = "peerwire:rollback";

impl Peering {
    /// The earlier peering this one collided with, when peerwire marked it for rollback (read
    /// from the accepter's view of the tags only: the mark is the accepter's).
    pub fn rollback_pending(&self) -> Option<&str> {
        self.tags
            .accepter
            .read()?
            .get(ROLLBACK_TAG)
            .map(String::as_str)
    }

    /// "peering is <status> (<message>)".
    pub fn status_reason(&self) -> String {
        match &self.status_message {
            Some(message) if !message.trim().is_empty() => {
                format!("peering is {} ({message})", self.status)
            }
            _ => format!("peering is {}", self.status),
        }
    }

    /// The sides `account` sees when it describes the peering in `region`: its own, or both
    /// for a same-account, same-region peering (one resource, one tag set).
    pub fn sides_viewed_by(&self, account: &AccountId, region: &Region) -> Vec<Side> {
        Side::BOTH
            .into_iter()
            .filter(|side| {
                let view = &self.sides[*side];
                &view.account == account && &view.region == region
            })
            .collect()
    }
}

/// Where to look for a peering: its id and one account (and region) that can see it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PeeringRef {
    pub peering_id: PeeringId,
    /// The accepter for requests and acceptances; for a deletion, whichever side made it.
    pub account: AccountId,
    pub region: Region,
}
