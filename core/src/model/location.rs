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

impl std::str::FromStr for Location {
    type Err = String;

    /// The [`Display`](fmt::Display) form back: `222222222222/us-east-1`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (account, region) = text
            .split_once('/')
            .ok_or_else(|| format!("not ACCOUNT/REGION: {text:?}"))?;
        Ok(Self::new(
            account.parse().map_err(|e| format!("{e}"))?,
            region.parse().map_err(|e| format!("{e}"))?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_reads_back_as_it_is_written() {
        let at: Location = "222222222222/us-east-1".parse().unwrap();
        assert_eq!(at.to_string(), "222222222222/us-east-1");
        assert!("222222222222".parse::<Location>().is_err());
        assert!("2222/us-east-1".parse::<Location>().is_err());
    }
}
