//! What each function may do in a member account: the one list the session policies, the
//! member-role template and `peerwire check-permissions` all follow.
//!
//! The member role grants the union; each function assumes it with a session policy narrowed
//! to its own job (AWS intersects the two), so that the cleanup function can only delete and
//! revoke, and the wiring and drift functions can neither accept nor reject. The request
//! function accepts, rejects (and rolls back its own accept), and wires what it has just
//! accepted, with what its decision read.

use serde_json::json;

/// One IAM action a function needs in a member account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action {
    /// `ec2:CreateRoute`.
    pub name: &'static str,
    /// Whether it changes state (writes are the ones session policies narrow).
    pub write: bool,
}

const fn read(name: &'static str) -> Action {
    Action { name, write: false }
}

const fn write(name: &'static str) -> Action {
    Action { name, write: true }
}

/// The reads every function makes: observe both sides, locate a change, read the quotas.
pub const READS: &[Action] = &[
    read("ec2:DescribeVpcPeeringConnections"),
    read("ec2:DescribeVpcs"),
    read("ec2:DescribeVpcAttribute"),
    read("ec2:DescribeRouteTables"),
    read("ec2:DescribeSubnets"),
    read("ec2:DescribeSecurityGroups"),
    read("ec2:DescribeManagedPrefixLists"),
    read("rds:DescribeDBInstances"),
    read("rds:DescribeDBClusters"),
    read("rds:DescribeDBSubnetGroups"),
    read("servicequotas:GetServiceQuota"),
    // Private hosted zones a rule names: their associated VPCs and peerwire's records.
    read("route53:GetHostedZone"),
    read("route53:ListTagsForResources"),
];

/// The request function's writes: decide a pending request; mark and delete only to roll back
/// its own accept when a colliding request was accepted at the same moment.
pub const DECIDE_WRITES: &[Action] = &[
    write("ec2:AcceptVpcPeeringConnection"),
    write("ec2:RejectVpcPeeringConnection"),
    write("ec2:CreateTags"),
    write("ec2:DeleteVpcPeeringConnection"),
];

/// The wiring and drift functions' writes. `DeleteVpcPeeringConnection` finishes a rollback
/// the request function marked but could not wait for: an active peering carrying
/// `peerwire:rollback` is deleted, never wired.
pub const WIRE_WRITES: &[Action] = &[
    write("ec2:CreateRoute"),
    write("ec2:ReplaceRoute"),
    write("ec2:AuthorizeSecurityGroupIngress"),
    write("ec2:AuthorizeSecurityGroupEgress"),
    write("ec2:UpdateSecurityGroupRuleDescriptionsIngress"),
    write("ec2:UpdateSecurityGroupRuleDescriptionsEgress"),
    write("ec2:DeleteVpcPeeringConnection"),
    write("ec2:ModifyVpcPeeringConnectionOptions"),
    write("ec2:ModifyVpcAttribute"),
    // A zone owner's: record, authorize, delete the used authorization; a VPC owner's: associate.
    write("route53:ChangeTagsForResource"),
    write("route53:CreateVPCAssociationAuthorization"),
    write("route53:DeleteVPCAssociationAuthorization"),
    write("route53:AssociateVPCWithHostedZone"),
];

/// The cleanup function's writes: it only removes (`ChangeTagsForResource` removes
/// peerwire's record of a zone association).
pub const CLEAN_WRITES: &[Action] = &[
    write("ec2:DeleteRoute"),
    write("ec2:RevokeSecurityGroupIngress"),
    write("ec2:RevokeSecurityGroupEgress"),
    write("route53:DisassociateVPCFromHostedZone"),
    write("route53:ChangeTagsForResource"),
];

/// What `peerwire diagnose` reads on top of [`READS`].
pub const DIAGNOSE_READS: &[Action] = &[
    read("ec2:DescribeNetworkAcls"),
    read("ec2:DescribeFlowLogs"),
    read("logs:FilterLogEvents"),
    read("route53:ListResourceRecordSets"),
];

/// A function's job in member accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    Decide,
    Wire,
    Clean,
    /// `peerwire pending`, `approve` and `deny`: the decide phase's reads in a dry run, and no
    /// write, whatever the member role allows the person running them.
    Review,
    /// The CLI: everything (its user's own role decides what it may do).
    All,
}

impl Job {
    /// Every action of this job.
    pub fn actions(self) -> Vec<Action> {
        let writes: &[&[Action]] = match self {
            // The request function wires the peering it has just accepted.
            Self::Decide => &[DECIDE_WRITES, WIRE_WRITES],
            Self::Wire => &[WIRE_WRITES],
            Self::Clean => &[CLEAN_WRITES],
            Self::Review => &[],
            Self::All => &[DECIDE_WRITES, WIRE_WRITES, CLEAN_WRITES, DIAGNOSE_READS],
        };
        READS
            .iter()
            .chain(writes.iter().flat_map(|w| w.iter()))
            .copied()
            .collect()
    }

    /// The session policy narrowing the member role to this job; `None` for [`Job::All`].
    /// Resource conditions stay the member role's: AWS intersects the two policies.
    pub fn session_policy(self) -> Option<String> {
        if self == Self::All {
            return None;
        }
        let actions: Vec<&str> = self.actions().iter().map(|a| a.name).collect();
        let policy = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "PeerwireJob",
                "Effect": "Allow",
                "Action": actions,
                "Resource": "*"
            }]
        });
        Some(policy.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleanup_may_only_remove_and_only_the_request_function_decides() {
        let clean = Job::Clean.actions();
        assert!(clean.iter().filter(|a| a.write).all(|a| {
            ["Delete", "Revoke", "Disassociate", "ChangeTagsForResource"]
                .iter()
                .any(|verb| a.name.contains(verb))
        }));
        let decide = Job::Decide.actions();
        assert!(decide.iter().any(|a| a.name == "ec2:CreateRoute"));
        assert!(decide
            .iter()
            .any(|a| a.name == "ec2:AcceptVpcPeeringConnection"));
        for job in [Job::Wire, Job::Clean] {
            assert!(!job
                .actions()
                .iter()
                .any(|a| a.name == "ec2:AcceptVpcPeeringConnection"
                    || a.name == "ec2:RejectVpcPeeringConnection"));
        }
        // A session policy fits STS's 2,048-character limit on packed policies.
        for job in [Job::Decide, Job::Wire, Job::Clean, Job::Review] {
            let policy = job.session_policy().unwrap();
            assert!(policy.len() < 2048, "{job:?}: {}", policy.len());
        }
        assert!(Job::All.session_policy().is_none());
    }

    #[test]
    fn the_approval_commands_may_read_what_a_decision_reads_and_write_nothing() {
        let review = Job::Review.actions();
        assert!(review.iter().all(|a| !a.write), "{review:?}");
        let decide = Job::Decide.actions();
        let reads: Vec<_> = decide.iter().filter(|a| !a.write).collect();
        assert_eq!(review.iter().collect::<Vec<_>>(), reads);
    }
}
