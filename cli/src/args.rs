//! The command line's grammar: the binary parses it, and the tests parse the commands the
//! notifications print with it.

use clap::{Parser, Subcommand};

use crate::{approvals, demo, diagnose, emulator, permissions, plan, status};

#[derive(Debug, Parser)]
#[command(
    name = "peerwire",
    version,
    about = "Policy-gated cross-account VPC peering",
    after_help = "diagnose, plan, apply, status, check-permissions, pending, approve and deny read the standard AWS \
                  environment (AWS_REGION, AWS_ENDPOINT_URL, profiles) and reach each side through \
                  its member role (PEERWIRE_ROLE_ARN_TEMPLATE, PEERWIRE_EXTERNAL_ID) under the \
                  policy (PEERWIRE_POLICY_FILE or PEERWIRE_POLICY_PARAMETER); approve and deny send \
                  to the hub bus (--bus or PEERWIRE_HUB_BUS) with the caller's own credentials.\n\
                  Exit codes: 0 healthy / done, 1 something is broken (apply is blocked; an answer \
                  not sent or not taken), 2 no answer (usage, configuration, peering not found, \
                  AWS error)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a peering layer by layer: status, CIDR overlap, routes, security groups, network
    /// ACLs, DNS, RDS. Exit 1 when a layer is broken.
    Diagnose(diagnose::DiagnoseArgs),
    /// Print the exact changes the wiring would make to a peering; writes nothing.
    Plan(plan::PlanArgs),
    /// Observe, plan and apply the wiring of a peering, each step with its side's role.
    Apply(plan::PlanArgs),
    /// Prove that a member account's role allows every action peerwire needs there: reads by
    /// a cheap call, EC2 writes with DryRun. Exit 1 when an action is denied.
    CheckPermissions(permissions::CheckPermissionsArgs),
    /// Every peering in the policy's scope with its health (healthy, broken, blocked, held,
    /// unmanaged, leftover), what is missing and the next command; writes nothing. Exit 1
    /// when something is broken, blocked or left over.
    Status(status::StatusArgs),
    /// List the peering requests held for an approval, as the accepters see them: who asks,
    /// what, the rule and the reasons, and how long before AWS expires each.
    Pending(approvals::pending::PendingArgs),
    /// Approve a held request: read it now, show it, confirm, and put the approval (bound to the
    /// requester account and CIDRs just read) on the hub bus.
    Approve(approvals::send::ApproveArgs),
    /// Deny a held request, with a reason for the requester; as `approve`.
    Deny(approvals::send::DenyArgs),
    /// Start the local emulator, seed two accounts and play a peering request through the
    /// real handlers, printing the decision, the outcome events and a final diagnosis.
    Demo(demo::DemoArgs),
    /// Start a seeded emulator that stays up, and write sample events carrying its ids, for
    /// `cargo lambda watch` and `cargo lambda invoke`.
    Emulator(emulator::EmulatorArgs),
}

impl Cli {
    /// Parses `words` (the program name first) as the binary parses its command line: for
    /// callers without clap, such as the tests of the commands the notifications print.
    pub fn parse_words<I, T>(words: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Self::try_parse_from(words)
    }
}
