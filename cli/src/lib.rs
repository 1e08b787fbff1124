//! The `peerwire` command line's commands, as a library: the binary parses arguments and calls
//! these; the integration tests call them too.

pub mod approvals;
pub mod args;
pub mod demo;
pub mod diagnose;
pub mod emulator;
pub mod find;
pub mod permissions;
pub mod plan;
pub mod status;
