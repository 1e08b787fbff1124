//! The calls that prove each action, and what each answer proves: a cheap real call per read,
//! `DryRun=true` per EC2 write, a note per write that has no DryRun.

use std::collections::BTreeMap;

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, LogDestinationType, PeeringConnectionOptionsRequest, Tag,
    VpcAttributeName, VpcPeeringConnection,
};
use peerwire::error::{AwsError, AwsErrorKind};
use peerwire::model::ROLLBACK_TAG;
use peerwire::App;

use super::grants::{fix, needed_by};
use super::{actions, CheckTarget, Proof, Subjects, Verdict};
use crate::diagnose::progress;

/// Stand-ins where the VPC has no resource of the kind: well-formed ids that exist nowhere.
const NO_VPC: &str = "vpc-00000000000000000";
const NO_PEERING: &str = "pcx-00000000000000000";
const NO_ROUTE_TABLE: &str = "rtb-00000000000000000";
const NO_SECURITY_GROUP: &str = "sg-00000000000000000";
/// The zone the Route 53 reads aim at: the role may not list the account's zones.
const NO_ZONE: &str = "Z00000000000000000000";
/// The destination and source of the DryRun routes and rules (TEST-NET-1, RFC 5737).
const TEST_CIDR: &str = "192.0.2.0/24";
/// `MaxResults` of the EC2 reads (the smallest most of them accept).
const FEW: i32 = 5;
/// The VPC quotas peerwire reads: routes per route table, rules per security group.
const QUOTA_CODES: [&str; 2] = ["L-93826ACB", "L-0EA8095F"];

/// What the calls proved so far, by action.
#[derive(Debug, Default)]
pub(super) struct Prover {
    pub(super) found: BTreeMap<&'static str, (Verdict, Vec<String>)>,
    /// Actions a call of which AWS answered `*.NotFound`.
    not_found: Vec<&'static str>,
}

impl Prover {
    /// Records what `result` shows of `action` (the worst of every call made for it) and hands
    /// on a successful answer. `call` says which call, on what.
    pub(super) fn record<T, E>(
        &mut self,
        action: &'static str,
        call: String,
        result: Result<T, SdkError<E>>,
    ) -> Option<T>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        match result {
            Ok(answer) => {
                self.note(action, Verdict::Allowed, call);
                Some(answer)
            }
            Err(err) => {
                let err = peerwire::aws::error::from_sdk(operation(action), err);
                if err.kind == AwsErrorKind::NotFound {
                    self.not_found.push(action);
                }
                let verdict = judge(&err);
                self.note(action, verdict, explain(&call, verdict, &err));
                None
            }
        }
    }

    pub(super) fn note(&mut self, action: &'static str, verdict: Verdict, evidence: String) {
        let entry = self
            .found
            .entry(action)
            .or_insert((Verdict::Allowed, Vec::new()));
        entry.0 = entry.0.max(verdict);
        entry.1.push(evidence);
    }

    /// One proof per action of [`actions`], in its order.
    pub(super) fn proofs(&self, partition: &str, vpc_arn: &str) -> Vec<Proof> {
        actions()
            .into_iter()
            .map(|action| {
                let (verdict, evidence) = self.found.get(action.name).map_or_else(
                    || (Verdict::NotProven, "no call proves it".to_owned()),
                    |(verdict, calls)| (*verdict, calls.join("; ")),
                );
                Proof {
                    action: action.name,
                    write: action.write,
                    needed_by: needed_by(action.name),
                    verdict,
                    evidence,
                    fix: (verdict == Verdict::Denied).then(|| fix(action.name, partition, vpc_arn)),
                }
            })
            .collect()
    }
}

/// `CreateRoute` of `ec2:CreateRoute`.
fn operation(action: &'static str) -> &'static str {
    action.split_once(':').map_or(action, |(_, op)| op)
}

/// What an error answer proves: `DryRunOperation` is the allowed write; only a missing
/// permission (not `OperationNotPermitted`, a rule of the resource) is a denial.
pub fn judge(err: &AwsError) -> Verdict {
    let code = err.code.as_deref().unwrap_or_default();
    if code == "DryRunOperation" {
        Verdict::Allowed
    } else if code == "UnauthorizedOperation" || code.starts_with("AccessDenied") {
        Verdict::Denied
    } else {
        Verdict::NotProven
    }
}

pub(super) fn explain(call: &str, verdict: Verdict, err: &AwsError) -> String {
    let code = err.code.as_deref().unwrap_or("no code");
    match verdict {
        Verdict::Allowed | Verdict::Denied => format!("{call}: {code}"),
        Verdict::NotProven if err.kind == AwsErrorKind::NotFound => format!(
            "{call}: {code}: not denied, but there was no such resource to prove it against"
        ),
        Verdict::NotProven => format!("{call}: {err}"),
    }
}

fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.iter().map(|v| (*v).to_owned()).collect()))
        .build()
}

/// The items of a read's answer; none when there was no answer.
fn listed<T, I>(answer: &Option<T>, items: impl Fn(&T) -> &[I]) -> &[I] {
    answer.as_ref().map(items).unwrap_or_default()
}

/// `prover.record` of `$request` sent as is, described as its operation `$on` something;
/// evaluates to the answer, when AWS gave one.
macro_rules! read {
    ($prover:ident, $action:literal on $on:expr => $request:expr) => {
        $prover.record(
            $action,
            format!("{} {}", operation($action), $on),
            $request.send().await,
        )
    };
}

/// Each request sent with `DryRun=true`, so that nothing is ever written, and recorded.
macro_rules! dry_run {
    ($prover:ident, $( $action:literal on $on:expr => $request:expr; )+) => {
        $(
            $prover.record(
                $action,
                format!("DryRun on {}", $on),
                $request.dry_run(true).send().await,
            );
        )+
    };
}

/// The EC2 reads that also find the DryRun subjects. `Err` when the given VPC does not exist.
pub(super) async fn read_network(
    prover: &mut Prover,
    ec2: &aws_sdk_ec2::Client,
    target: &CheckTarget,
) -> Result<Subjects, String> {
    let mut subjects = Subjects::default();
    let vpcs = match &target.vpc {
        Some(vpc) => {
            read!(prover, "ec2:DescribeVpcs" on vpc => ec2.describe_vpcs().vpc_ids(vpc.as_str()))
        }
        None => {
            let page = format!("(MaxResults {FEW})");
            read!(prover, "ec2:DescribeVpcs" on page => ec2.describe_vpcs().max_results(FEW))
        }
    };
    let answered_without_it = vpcs.as_ref().is_some_and(|v| v.vpcs().is_empty());
    let vpcs = listed(&vpcs, |v| v.vpcs());
    subjects.vpc_id = match &target.vpc {
        // Answered without it, or `InvalidVpcID.NotFound`; not when denied or unanswered.
        Some(vpc) if answered_without_it || prover.not_found.contains(&"ec2:DescribeVpcs") => {
            return Err(format!(
                "no answer: VPC {vpc} does not exist in {} {} (as its member role sees it)",
                target.account, target.region
            ))
        }
        Some(vpc) => Some(vpc.to_string()),
        None => vpcs
            .iter()
            .find(|v| v.is_default() != Some(true))
            .or_else(|| vpcs.first())
            .and_then(|v| v.vpc_id())
            .map(str::to_owned),
    };
    let vpc = subjects.vpc_id.clone().unwrap_or_else(|| NO_VPC.to_owned());
    let (of_vpc, in_vpc) = (format!("of {vpc}"), filter("vpc-id", &[&vpc]));

    progress(&format!("reading {vpc}: peerings, route tables, groups"));
    let (into, from) = (format!("into {vpc}"), format!("from {vpc}"));
    let pending_or_active = filter("status-code", &["pending-acceptance", "active"]);
    let into_vpc = read!(prover, "ec2:DescribeVpcPeeringConnections" on into => ec2
        .describe_vpc_peering_connections()
        .filters(filter("accepter-vpc-info.vpc-id", &[&vpc]))
        .filters(pending_or_active)
        .max_results(FEW));
    let from_vpc = read!(prover, "ec2:DescribeVpcPeeringConnections" on from => ec2
        .describe_vpc_peering_connections()
        .filters(filter("requester-vpc-info.vpc-id", &[&vpc]))
        .filters(filter("status-code", &["active"]))
        .max_results(FEW));
    let into_vpc = listed(&into_vpc, |p| p.vpc_peering_connections());
    let from_vpc = listed(&from_vpc, |p| p.vpc_peering_connections());
    let status_is = |p: &&VpcPeeringConnection, code: &str| {
        p.status()
            .and_then(|s| s.code())
            .is_some_and(|c| c.as_str() == code)
    };
    let id = |p: &VpcPeeringConnection| p.vpc_peering_connection_id().map(str::to_owned);
    subjects.peering_into_vpc = into_vpc
        .iter()
        .find(|p| status_is(p, "pending-acceptance"))
        .or_else(|| into_vpc.first())
        .and_then(id);
    let active = [("accepter", into_vpc), ("requester", from_vpc)]
        .into_iter()
        .find_map(|(side, peerings)| {
            let peering = peerings.iter().find(|p| status_is(p, "active"))?;
            Some((side, id(peering)?))
        });
    subjects.active_side = active.as_ref().map(|(side, _)| *side);
    subjects.active_peering = active.map(|(_, id)| id);

    let tables = read!(prover, "ec2:DescribeRouteTables" on of_vpc => ec2
        .describe_route_tables()
        .filters(in_vpc.clone())
        .max_results(FEW));
    let tables = listed(&tables, |t| t.route_tables());
    // A table routing through the active peering, else the main table, else the first.
    let through_peering = tables.iter().find_map(|t| {
        let route = t.routes().iter().find(|r| {
            r.vpc_peering_connection_id().is_some()
                && r.vpc_peering_connection_id() == subjects.active_peering.as_deref()
        })?;
        Some((t, route.destination_cidr_block()?))
    });
    let main = tables
        .iter()
        .find(|t| t.associations().iter().any(|a| a.main() == Some(true)));
    subjects.route_destination = through_peering.map(|(_, cidr)| cidr.to_owned());
    subjects.route_table = through_peering
        .map(|(t, _)| t)
        .or(main)
        .or_else(|| tables.first())
        .and_then(|t| t.route_table_id())
        .map(str::to_owned);

    let groups = read!(prover, "ec2:DescribeSecurityGroups" on of_vpc => ec2
        .describe_security_groups()
        .filters(in_vpc.clone())
        .max_results(FEW));
    let groups = listed(&groups, |g| g.security_groups());
    subjects.security_group = groups
        .iter()
        .find(|g| g.group_name() == Some("default"))
        .or_else(|| groups.first())
        .and_then(|g| g.group_id())
        .map(str::to_owned);

    let flow_logs = read!(prover, "ec2:DescribeFlowLogs" on of_vpc => ec2
        .describe_flow_logs()
        .filter(filter("resource-id", &[&vpc]))
        .max_results(FEW));
    subjects.log_group = listed(&flow_logs, |f| f.flow_logs())
        .iter()
        .filter(|f| f.log_destination_type() == Some(&LogDestinationType::CloudWatchLogs))
        .find_map(|f| f.log_group_name())
        .map(str::to_owned);

    let dns_support = VpcAttributeName::EnableDnsSupport;
    read!(prover, "ec2:DescribeVpcAttribute" on format!("enableDnsSupport {of_vpc}") => ec2
        .describe_vpc_attribute()
        .vpc_id(&vpc)
        .attribute(dns_support));
    read!(prover, "ec2:DescribeSubnets" on of_vpc => ec2
        .describe_subnets()
        .filters(in_vpc.clone())
        .max_results(FEW));
    read!(prover, "ec2:DescribeNetworkAcls" on of_vpc => ec2
        .describe_network_acls()
        .filters(in_vpc)
        .max_results(FEW));
    read!(prover, "ec2:DescribeManagedPrefixLists" on format!("(MaxResults {FEW})") => ec2
        .describe_managed_prefix_lists()
        .max_results(FEW));
    Ok(subjects)
}

/// RDS, Service Quotas and CloudWatch Logs: one cheap call each.
pub(super) async fn read_the_rest(
    prover: &mut Prover,
    app: &App,
    logs: &aws_sdk_cloudwatchlogs::Client,
    target: &CheckTarget,
    subjects: &Subjects,
) {
    progress("reading RDS, the VPC quotas and the flow-log records");
    // RDS's smallest MaxRecords.
    let few = 20;
    let rds = app.aws.rds(&target.location()).await;
    let page = format!("(MaxRecords {few})");
    read!(prover, "rds:DescribeDBInstances" on page => rds
        .describe_db_instances()
        .max_records(few));
    read!(prover, "rds:DescribeDBClusters" on page => rds
        .describe_db_clusters()
        .max_records(few));
    read!(prover, "rds:DescribeDBSubnetGroups" on page => rds
        .describe_db_subnet_groups()
        .max_records(few));
    let quotas = app.aws.servicequotas(&target.location()).await;
    for code in QUOTA_CODES {
        let answer = quotas
            .get_service_quota()
            .service_code("vpc")
            .quota_code(code)
            .send()
            .await;
        let value = answer
            .as_ref()
            .ok()
            .and_then(|a| a.quota()?.value())
            .map(|v| format!(" = {v}"))
            .unwrap_or_default();
        prover.record(
            "servicequotas:GetServiceQuota",
            format!("GetServiceQuota vpc/{code}{value}"),
            answer,
        );
    }
    match &subjects.log_group {
        Some(group) => {
            read!(prover, "logs:FilterLogEvents" on format!("{group} (limit 1)") => logs
                .filter_log_events()
                .log_group_name(group)
                .limit(1));
        }
        None => prover.note(
            "logs:FilterLogEvents",
            Verdict::NotProven,
            format!(
                "no flow log of {} delivers to CloudWatch Logs: no log group to read",
                subjects.vpc_id.as_deref().unwrap_or("any VPC")
            ),
        ),
    }
}

/// The Route 53 reads, on a zone that exists nowhere: without `ListHostedZones` the role
/// cannot find one of the account's. `NoSuchHostedZone` is "not proven", a missing permission
/// "denied" (IAM is evaluated before the zone is looked up).
pub(super) async fn read_zones(prover: &mut Prover, app: &App, target: &CheckTarget) {
    progress("reading Route 53 (a stand-in zone)");
    let route53 = app.aws.route53(&target.location()).await;
    let zone = format!("{NO_ZONE} (none)");
    read!(prover, "route53:GetHostedZone" on zone => route53
        .get_hosted_zone()
        .id(NO_ZONE));
    read!(prover, "route53:ListTagsForResources" on zone => route53
        .list_tags_for_resources()
        .resource_type("hostedzone".into())
        .resource_ids(NO_ZONE));
    read!(prover, "route53:ListResourceRecordSets" on format!("{zone} (MaxItems 1)") => route53
        .list_resource_record_sets()
        .hosted_zone_id(NO_ZONE)
        .max_items(1));
}

/// The id to aim at, and how to show it: the subject, or the stand-in marked `(none)`.
fn aim(subject: &Option<String>, stand_in: &str) -> (String, String) {
    match subject {
        Some(id) => (id.clone(), id.clone()),
        None => (stand_in.to_owned(), format!("{stand_in} (none)")),
    }
}

/// Every EC2 write with `DryRun=true`, against the subjects (or stand-ins).
pub(super) async fn dry_run_writes(
    prover: &mut Prover,
    ec2: &aws_sdk_ec2::Client,
    subjects: &Subjects,
) {
    progress("DryRun of every EC2 write");
    let (into_vpc, into_shown) = aim(&subjects.peering_into_vpc, NO_PEERING);
    let (active, active_shown) = aim(&subjects.active_peering, NO_PEERING);
    let (table, table_shown) = aim(&subjects.route_table, NO_ROUTE_TABLE);
    let (group, group_shown) = aim(&subjects.security_group, NO_SECURITY_GROUP);
    // Each owner may set only its own side's options.
    let side = subjects.active_side.unwrap_or("accepter");
    let dns = PeeringConnectionOptionsRequest::builder()
        .allow_dns_resolution_from_remote_vpc(true)
        .build();
    let options = ec2
        .modify_vpc_peering_connection_options()
        .vpc_peering_connection_id(&active);
    let options = if side == "requester" {
        options.requester_peering_connection_options(dns)
    } else {
        options.accepter_peering_connection_options(dns)
    };
    let options_shown = format!("{active_shown} ({side} side)");
    let mark_shown = format!("{into_shown} tag {ROLLBACK_TAG}");
    let destination = subjects.route_destination.as_deref().unwrap_or(TEST_CIDR);
    let new_route = format!("{table_shown} {TEST_CIDR} -> {active_shown}");
    let route = format!("{table_shown} {destination} -> {active_shown}");
    let rule = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(5432)
        .to_port(5432)
        .ip_ranges(
            IpRange::builder()
                .cidr_ip(TEST_CIDR)
                .description("peerwire check-permissions (DryRun)")
                .build(),
        )
        .build();
    let ingress = format!("{group_shown} tcp/5432 from {TEST_CIDR}");
    let egress = format!("{group_shown} tcp/5432 to {TEST_CIDR}");
    dry_run!(prover,
        "ec2:AcceptVpcPeeringConnection" on into_shown => ec2
            .accept_vpc_peering_connection()
            .vpc_peering_connection_id(&into_vpc);
        "ec2:RejectVpcPeeringConnection" on into_shown => ec2
            .reject_vpc_peering_connection()
            .vpc_peering_connection_id(&into_vpc);
        "ec2:DeleteVpcPeeringConnection" on into_shown => ec2
            .delete_vpc_peering_connection()
            .vpc_peering_connection_id(&into_vpc);
        "ec2:CreateTags" on mark_shown => ec2
            .create_tags()
            .resources(&into_vpc)
            .tags(Tag::builder().key(ROLLBACK_TAG).value(NO_PEERING).build());
        "ec2:ModifyVpcPeeringConnectionOptions" on options_shown => options;
        "ec2:CreateRoute" on new_route => ec2
            .create_route()
            .route_table_id(&table)
            .destination_cidr_block(TEST_CIDR)
            .vpc_peering_connection_id(&active);
        "ec2:ReplaceRoute" on route => ec2
            .replace_route()
            .route_table_id(&table)
            .destination_cidr_block(destination)
            .vpc_peering_connection_id(&active);
        "ec2:DeleteRoute" on route => ec2
            .delete_route()
            .route_table_id(&table)
            .destination_cidr_block(destination);
        "ec2:AuthorizeSecurityGroupIngress" on ingress => ec2
            .authorize_security_group_ingress()
            .group_id(&group)
            .ip_permissions(rule.clone());
        "ec2:AuthorizeSecurityGroupEgress" on egress => ec2
            .authorize_security_group_egress()
            .group_id(&group)
            .ip_permissions(rule.clone());
        "ec2:RevokeSecurityGroupIngress" on ingress => ec2
            .revoke_security_group_ingress()
            .group_id(&group)
            .ip_permissions(rule.clone());
        "ec2:RevokeSecurityGroupEgress" on egress => ec2
            .revoke_security_group_egress()
            .group_id(&group)
            .ip_permissions(rule.clone());
        "ec2:UpdateSecurityGroupRuleDescriptionsIngress" on ingress => ec2
            .update_security_group_rule_descriptions_ingress()
            .group_id(&group)
            .ip_permissions(rule.clone());
        "ec2:UpdateSecurityGroupRuleDescriptionsEgress" on egress => ec2
            .update_security_group_rule_descriptions_egress()
            .group_id(&group)
            .ip_permissions(rule);
    );
}

/// The writes no call can prove without making them: `ModifyVpcAttribute` and every Route 53
/// write have no DryRun.
pub(super) fn note_unprovable(prover: &mut Prover) {
    prover.note(
        "ec2:ModifyVpcAttribute",
        Verdict::NotProven,
        "ModifyVpcAttribute has no DryRun: not provable without changing the VPC (only \
         fix_vpc_dns_attributes: true uses it)"
            .to_owned(),
    );
    for action in actions() {
        if action.write && action.name.starts_with("route53:") {
            prover.note(
                action.name,
                Verdict::NotProven,
                format!(
                    "{} has no DryRun (no Route 53 write has): not provable without changing a \
                     zone (only rules naming private_hosted_zones use it)",
                    operation(action.name)
                ),
            );
        }
    }
}
