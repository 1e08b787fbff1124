//! Where calls are made: an account and a region.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ids::{AccountId, Region};
use super::peering::{Peering, PeeringRef};
use super::side::Sides;

/// An account and region: where a side's resources live and its calls are made, through the
/// account's member role. Every client peerwire builds is for one location.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    pub account: AccountId,
    pub region: Region,
}

impl Location {
    pub fn new(account: AccountId, region: Region) -> Self {
        Self { account, region }
    }

    /// Where each side of `peering` is owned.
    pub fn owners(peering: &Peering) -> Sides<Location> {
        Sides::from_fn(|side| {
            let view = &peering.sides[side];
            Location::new(view.account.clone(), view.region.clone())
        })
    }

    /// The account and region a reference says to look in.
    pub fn of_ref(reference: &PeeringRef) -> Self {
        Self::new(reference.account.clone(), reference.region.clone())
    }
}

/// `222222222222/us-east-1`.
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.account, self.region)
    }
}
