//! The one integration-test binary: every test here runs against a patched moto server of its
//! own (see `peerwire-emulator`), so the binary links the AWS SDK once, and tests of different
//! areas run side by side. One module per area:
//!
//! | module | what it proves |
//! |---|---|
//! | `approvals` | `peerwire pending`, `approve` and `deny` end to end: the bound event, delivered to the request function, accepts or rejects; changed CIDRs refuse it; the documented workflow sends the same event |
//! | `accept` | the request door accepts, rejects and holds by policy, end to end |
//! | `decide` | deciding as AWS behaves: owner tags, colliding requests, approvals, OUs |
//! | `wiring` | routes, rules and DNS options on both sides of an active peering |
//! | `drift` | drift events locate the peerings to re-check, and repairs are reported |
//! | `cleanup` | a gone peering's routes and marked rules are removed, nothing else |
//! | `zones` | private hosted zones associated across the peering, and cleaned up |
//! | `robust` | transient states, quotas, refusals: never stuck |
//! | `seams` | where peerwire meets the rest of AWS: gone roles, rollbacks while provisioning, re-peering, supernets, propagated routes |
//! | `faults` | a fault at every call converges on the next run |
//! | `replay` | replays in order, shuffled and concurrent end in the same state |
//! | `hostile_events` | malformed and hostile events: typed errors, no panic, no write |
//! | `cli` | `peerwire diagnose`, `plan`, `apply` and the demo |
//! | `status` | `peerwire status`: each health from the state that causes it, the sweeps' reads, the JSON schema, the page in headless Chromium |
//! | `permissions` | `peerwire check-permissions` against a member role |
//! | `templates`, `bus_policy`, `event_patterns` | the SAM templates, the bus policy, every sample against every rule pattern |
//! | `emulator::*` | each emulator patch is needed: the same assertion fails without it (one module per launcher module) |
//!
//! Long sweeps are `#[ignore]`d; docs/reliability.md gives the command that runs them.

// Test code: a broken fixture or an unexpected answer fails loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cfn;
mod support;

mod accept;
mod approvals;
mod bus_policy;
mod cleanup;
mod cli;
mod decide;
mod drift;
mod emulator;
mod event_patterns;
mod faults;
mod hostile_events;
mod permissions;
mod replay;
mod robust;
mod seams;
mod status;
mod templates;
mod wiring;
mod zones;
