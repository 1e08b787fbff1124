//! Shared by the reliability tests (faults, replay, hostile events): a fault-injecting HTTP
//! proxy in front of the emulator, and a reusable, resettable emulator world.

// Each test file uses a different part of this module.
#![allow(dead_code)]

pub mod proxy;
pub mod world;

use peerwire::doors::Door;
use peerwire::outcome::OutcomeKind;
use peerwire::Error;
use serde_json::Value;

/// The outcome kinds of one run of `door` on `event`, or its error.
pub async fn outcome_kinds(
    door: Door,
    app: &peerwire::App,
    event: &Value,
) -> Result<Vec<OutcomeKind>, Error> {
    let log = door.run(app, event, None).await?;
    Ok(log.outcomes.iter().map(|o| o.kind).collect())
}

/// A deterministic xorshift64* generator.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}
