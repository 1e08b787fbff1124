//! The two sides of a peering, and a pair of values indexed by them.

use std::fmt;
use std::ops::{Index, IndexMut};

use serde::{Deserialize, Serialize};

/// Which side of the peering owns a resource; its member role makes every call about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    Requester,
    Accepter,
}

impl Side {
    /// Requester first: the order of every plan and report.
    pub const BOTH: [Side; 2] = [Side::Requester, Side::Accepter];

    /// The side across the peering.
    pub fn other(self) -> Side {
        match self {
            Self::Requester => Self::Accepter,
            Self::Accepter => Self::Requester,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requester => "requester",
            Self::Accepter => "accepter",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One value per side, indexed by [`Side`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sides<T> {
    pub requester: T,
    pub accepter: T,
}

impl<T> Sides<T> {
    pub fn new(requester: T, accepter: T) -> Self {
        Self {
            requester,
            accepter,
        }
    }

    /// Both values, computed from their side.
    pub fn from_fn(mut f: impl FnMut(Side) -> T) -> Self {
        Self {
            requester: f(Side::Requester),
            accepter: f(Side::Accepter),
        }
    }

    /// `(side, value)` pairs, requester first.
    pub fn iter(&self) -> impl Iterator<Item = (Side, &T)> {
        [
            (Side::Requester, &self.requester),
            (Side::Accepter, &self.accepter),
        ]
        .into_iter()
    }

    pub fn as_ref(&self) -> Sides<&T> {
        Sides {
            requester: &self.requester,
            accepter: &self.accepter,
        }
    }

    pub fn map<U>(self, mut f: impl FnMut(Side, T) -> U) -> Sides<U> {
        Sides {
            requester: f(Side::Requester, self.requester),
            accepter: f(Side::Accepter, self.accepter),
        }
    }
}

impl<T> Index<Side> for Sides<T> {
    type Output = T;
    fn index(&self, side: Side) -> &T {
        match side {
            Side::Requester => &self.requester,
            Side::Accepter => &self.accepter,
        }
    }
}

impl<T> IndexMut<Side> for Sides<T> {
    fn index_mut(&mut self, side: Side) -> &mut T {
        match side {
            Side::Requester => &mut self.requester,
            Side::Accepter => &mut self.accepter,
        }
    }
}
