//! `peerwire check-permissions --account A --region R [--vpc V] [--json]`: before the first
//! peering, proves that the member role of account A lets peerwire do everything it does there.
//!
//! The actions are [`peerwire::aws::permissions`]'s: every function's job and diagnose's reads.
//! The role is assumed as the functions assume it (`App::from_env`, the ExternalId). Each read
//! is proven by a cheap real call (`MaxResults` small); each EC2 write by the same call with
//! `DryRun=true` against real resources of the VPC (a route table, a security group, a peering
//! of it), which AWS answers `DryRunOperation` when allowed and `UnauthorizedOperation` when
//! not, changing nothing. Where the VPC has no such resource, a well-formed id that exists
//! nowhere stands in: a `*.NotFound` answer is then "not proven" (nothing to prove it against),
//! never "denied". `ModifyVpcAttribute` has no DryRun: it is reported as not provable.

use std::collections::BTreeMap;
use std::process::ExitCode;

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, LogDestinationType, PeeringConnectionOptionsRequest,
    VpcAttributeName, VpcPeeringConnection,
};
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use peerwire::aws::permissions::{Job, DIAGNOSE_READS};
use peerwire::doors::Door;
use peerwire::error::{AwsError, AwsErrorKind};
use peerwire::model::{AccountId, IdError, Region, VpcId};
use peerwire::App;
use serde::Serialize;

use crate::diagnose::{progress, EXIT_BROKEN, EXIT_HEALTHY, EXIT_UNUSABLE};

/// Stand-ins where the VPC has no resource of the kind: well-formed ids that exist nowhere.
const NO_VPC: &str = "vpc-00000000000000000";
const NO_PEERING: &str = "pcx-00000000000000000";
const NO_ROUTE_TABLE: &str = "rtb-00000000000000000";
const NO_SECURITY_GROUP: &str = "sg-00000000000000000";
/// The destination and source of the DryRun routes and rules (TEST-NET-1, RFC 5737).
const TEST_CIDR: &str = "192.0.2.0/24";
/// `MaxResults` of the EC2 reads (the smallest most of them accept).
const FEW: i32 = 5;
/// The VPC quotas peerwire reads: routes per route table, rules per security group.
const QUOTA_CODES: [&str; 2] = ["L-93826ACB", "L-0EA8095F"];
/// Where the member role's statements are.
const TEMPLATE: &str = "templates/member-role.yaml";

#[derive(Debug, clap::Args)]
pub struct CheckPermissionsArgs {
    /// The member account whose role to check.
    #[arg(long)]
    pub account: String,
    /// The region to check it in.
    #[arg(long)]
    pub region: String,
    /// The VPC whose resources the DryRun writes aim at (default: the first VPC of the
    /// account, non-default ones first).
    #[arg(long)]
    pub vpc: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// [`CheckPermissionsArgs`] with its values parsed.
#[derive(Debug, Clone)]
pub struct CheckTarget {
    pub account: AccountId,
    pub region: Region,
    pub vpc: Option<VpcId>,
}

impl CheckPermissionsArgs {
    /// Refuses malformed ids before any configuration is read or call made.
    pub fn check(&self) -> Result<CheckTarget, String> {
        Ok(CheckTarget {
            account: self
                .account
                .parse()
                .map_err(|e: IdError| format!("--account {e}"))?,
            region: self
                .region
                .parse()
                .map_err(|e: IdError| format!("--region {e}"))?,
            vpc: self
                .vpc
                .as_deref()
                .map(|v| v.parse().map_err(|e: IdError| format!("--vpc {e}")))
                .transpose()?,
        })
    }
}

/// What a call showed of one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// AWS answered the read, or `DryRunOperation`.
    Allowed,
    /// Nothing was denied, and nothing proven either: no resource to try it on, no DryRun, or
    /// an answer that says neither.
    NotProven,
    /// `UnauthorizedOperation`, `AccessDenied`, `AccessDeniedException`.
    Denied,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::NotProven => "not proven",
            Self::Denied => "denied",
        }
    }
}

/// One action of the list and what proved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proof {
    /// `ec2:CreateRoute`.
    pub action: &'static str,
    pub write: bool,
    /// The functions (and `peerwire diagnose`) that need it.
    pub needed_by: Vec<&'static str>,
    pub verdict: Verdict,
    /// The calls made and what AWS answered.
    pub evidence: String,
    /// For a denied action: the statement that grants it, and what to set.
    pub fix: Option<String>,
}

/// What the DryRun writes aimed at; `None` where a stand-in id was used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Subjects {
    pub vpc_id: Option<String>,
    /// A pending (else active) peering into the VPC: accept, reject, delete.
    pub peering_into_vpc: Option<String>,
    /// An active peering of the VPC, on either side: options, route target.
    pub active_peering: Option<String>,
    /// The VPC's side of it (`accepter` or `requester`): the options it may set.
    pub active_side: Option<&'static str>,
    pub route_table: Option<String>,
    /// The destination of that table's route through the active peering, if any.
    pub route_destination: Option<String>,
    pub security_group: Option<String>,
    /// The CloudWatch Logs group of a flow log of the VPC.
    pub log_group: Option<String>,
}

/// The whole answer of `check-permissions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub account: String,
    pub region: String,
    /// Who the member role session is (`GetCallerIdentity`).
    pub identity: Option<String>,
    /// Why there is no answer (the role could not be assumed, the VPC does not exist).
    pub no_answer: Option<String>,
    pub subjects: Subjects,
    pub actions: Vec<Proof>,
}

impl Report {
    /// The actions with `verdict`.
    pub fn with(&self, verdict: Verdict) -> Vec<&'static str> {
        self.actions
            .iter()
            .filter(|p| p.verdict == verdict)
            .map(|p| p.action)
            .collect()
    }

    /// `2` without an answer, `1` when an action is denied, else `0`.
    pub fn exit_code(&self) -> u8 {
        if self.no_answer.is_some() {
            EXIT_UNUSABLE
        } else if self.with(Verdict::Denied).is_empty() {
            EXIT_HEALTHY
        } else {
            EXIT_BROKEN
        }
    }
}

/// Runs `peerwire check-permissions`. `Err` is "no answer" (exit 2).
pub async fn run(args: CheckPermissionsArgs) -> Result<ExitCode, String> {
    let target = args.check()?;
    let app = App::from_env(Job::All).await.map_err(|e| e.to_string())?;
    progress(&format!(
        "assuming the member role of {} and proving {} actions in {}",
        target.account,
        Job::All.actions().len(),
        target.region
    ));
    let report = check(&app, &target).await;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else if let Some(why) = &report.no_answer {
        return Err(why.clone());
    } else {
        print!("{}", render(&report));
    }
    Ok(ExitCode::from(report.exit_code()))
}

/// Assumes the member role of `target.account` and proves every action of
/// [`Job::All`]. Never fails: what cannot be answered is the report's `no_answer`.
pub async fn check(app: &App, target: &CheckTarget) -> Report {
    let (account, region) = (target.account.as_str(), target.region.as_str());
    let mut report = Report {
        account: account.to_owned(),
        region: region.to_owned(),
        identity: None,
        no_answer: None,
        subjects: Subjects::default(),
        actions: Vec::new(),
    };
    let config = app
        .aws
        .role_config(account)
        .await
        .to_builder()
        .region(aws_sdk_sts::config::Region::new(region.to_owned()))
        .build();
    // Needs no permission: it fails only when the role cannot be assumed.
    match aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
    {
        Ok(me) => report.identity = me.arn().map(str::to_owned),
        Err(err) => {
            // STS's own words, from the credentials error behind the call's.
            let said = std::iter::successors(Some(&err as &dyn std::error::Error), |e| e.source())
                .find_map(|e| e.downcast_ref::<AssumeRoleError>())
                .and_then(|e| e.message().map(str::to_owned));
            let err = AwsError::from_sdk("AssumeRole", err);
            report.no_answer = Some(cannot_assume(account, &err, said));
            return report;
        }
    }
    let mut prover = Prover::default();
    let ec2 = app.aws.ec2(account, region).await;
    // Boxed: the SDK futures are large, and callers (the demo) run on a test thread's stack.
    let subjects = match Box::pin(read_network(&mut prover, &ec2, target)).await {
        Ok(subjects) => subjects,
        Err(why) => {
            report.no_answer = Some(why);
            return report;
        }
    };
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    Box::pin(read_the_rest(&mut prover, app, &logs, target, &subjects)).await;
    Box::pin(dry_run_writes(&mut prover, &ec2, &subjects)).await;
    prover.note(
        "ec2:ModifyVpcAttribute",
        Verdict::NotProven,
        "ModifyVpcAttribute has no DryRun: not provable without changing the VPC (only \
         fix_vpc_dns_attributes: true uses it)"
            .to_owned(),
    );
    let partition = report
        .identity
        .as_deref()
        .and_then(|arn| arn.split(':').nth(1))
        .unwrap_or("aws")
        .to_owned();
    let vpc_arn = format!(
        "arn:{partition}:ec2:{region}:{account}:vpc/{}",
        subjects.vpc_id.as_deref().unwrap_or("<vpc-id>")
    );
    report.actions = prover.proofs(&partition, &vpc_arn);
    report.subjects = subjects;
    report
}

/// The answer when the member role cannot be assumed.
fn cannot_assume(account: &str, err: &AwsError, said: Option<String>) -> String {
    if err.kind == AwsErrorKind::AccessDenied {
        format!(
            "no answer: AssumeRole into the member role of {account} was denied: the role's trust \
             policy does not admit this caller, or the ExternalId is wrong (PEERWIRE_EXTERNAL_ID \
             must equal the member stack's ExternalId; the caller must be a hub role under \
             HubRolePath, or one of HubRoleArns, in HubAccountId, and of OrgId when set). STS \
             said: {}",
            said.as_deref().unwrap_or("AccessDenied")
        )
    } else {
        format!("no answer: the member role of {account} could not be assumed: {err}")
    }
}

/// What the calls proved so far, by action.
#[derive(Debug, Default)]
struct Prover {
    found: BTreeMap<&'static str, (Verdict, Vec<String>)>,
    /// Actions a call of which AWS answered `*.NotFound`.
    not_found: Vec<&'static str>,
}

impl Prover {
    /// Records what `result` shows of `action` (the worst of every call made for it) and hands
    /// on a successful answer. `call` says which call, on what.
    fn record<T, E>(
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
                let err = AwsError::from_sdk(operation(action), err);
                if err.kind == AwsErrorKind::NotFound {
                    self.not_found.push(action);
                }
                let verdict = judge(&err);
                self.note(action, verdict, explain(&call, verdict, &err));
                None
            }
        }
    }

    fn note(&mut self, action: &'static str, verdict: Verdict, evidence: String) {
        let entry = self
            .found
            .entry(action)
            .or_insert((Verdict::Allowed, Vec::new()));
        entry.0 = entry.0.max(verdict);
        entry.1.push(evidence);
    }

    /// One proof per action of [`Job::All`], in its order.
    fn proofs(&self, partition: &str, vpc_arn: &str) -> Vec<Proof> {
        Job::All
            .actions()
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
                    fix: (verdict == Verdict::Denied)
                        .then(|| fix(action.name, action.write, partition, vpc_arn)),
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

fn explain(call: &str, verdict: Verdict, err: &AwsError) -> String {
    let code = err.code.as_deref().unwrap_or("no code");
    match verdict {
        Verdict::Allowed | Verdict::Denied => format!("{call}: {code}"),
        Verdict::NotProven if err.kind == AwsErrorKind::NotFound => format!(
            "{call}: {code}: not denied, but there was no such resource to prove it against"
        ),
        Verdict::NotProven => format!("{call}: {err}"),
    }
}

/// The functions (and `peerwire diagnose`) that need `action`.
fn needed_by(action: &str) -> Vec<&'static str> {
    let mut by: Vec<&'static str> = [Door::Request, Door::Wiring, Door::Drift, Door::Cleanup]
        .into_iter()
        .filter(|door| door.job().actions().iter().any(|a| a.name == action))
        .map(Door::function_name)
        .collect();
    if DIAGNOSE_READS.iter().any(|a| a.name == action) {
        by.push("peerwire diagnose");
    }
    by
}

/// The statements of `templates/member-role.yaml` that grant `action` (all of them are needed
/// for a write whose call names several resources). `tests/tests/templates.rs` holds this
/// table equal to the template.
pub fn granted_by(action: &str) -> &'static [&'static str] {
    match action {
        "ec2:DescribeVpcPeeringConnections"
        | "ec2:DescribeVpcs"
        | "ec2:DescribeVpcAttribute"
        | "ec2:DescribeRouteTables"
        | "ec2:DescribeSubnets"
        | "ec2:DescribeSecurityGroups"
        | "ec2:DescribeManagedPrefixLists"
        | "ec2:DescribeNetworkAcls" => &["ReadNetwork"],
        "rds:DescribeDBInstances" | "rds:DescribeDBClusters" | "rds:DescribeDBSubnetGroups" => {
            &["ReadDatabases"]
        }
        "servicequotas:GetServiceQuota" => &["ReadNetworkQuotas"],
        "ec2:DescribeFlowLogs" => &["ReadFlowLogs"],
        "logs:FilterLogEvents" => &["ReadFlowLogRecords"],
        "ec2:AcceptVpcPeeringConnection" => {
            &["AcceptOrRejectIntoManagedVpcs", "AcceptWithManagedVpcs"]
        }
        "ec2:RejectVpcPeeringConnection" => &["AcceptOrRejectIntoManagedVpcs"],
        "ec2:DeleteVpcPeeringConnection" => &["RollBackAcceptIntoManagedVpcs"],
        "ec2:ModifyVpcPeeringConnectionOptions" => {
            &["PeeringOptionsAsAccepter", "PeeringOptionsAsRequester"]
        }
        "ec2:CreateRoute" | "ec2:ReplaceRoute" => &[
            "RoutesInManagedVpcs",
            "RouteTargetPeeringAsAccepter",
            "RouteTargetPeeringAsRequester",
        ],
        "ec2:DeleteRoute" => &["RoutesInManagedVpcs"],
        "ec2:AuthorizeSecurityGroupIngress" | "ec2:AuthorizeSecurityGroupEgress" => &[
            "SecurityGroupRulesInManagedVpcs",
            "SecurityGroupRuleResources",
        ],
        "ec2:RevokeSecurityGroupIngress" | "ec2:RevokeSecurityGroupEgress" => {
            &["SecurityGroupRulesInManagedVpcs"]
        }
        "ec2:ModifyVpcAttribute" => &["VpcDnsAttributesOfManagedVpcs"],
        _ => &[],
    }
}

/// The inline policy of the member role that holds the statements of a read or a write.
pub fn policy_of(write: bool) -> &'static str {
    if write {
        "peerwire-member-write"
    } else {
        "peerwire-member-read"
    }
}

/// How to grant a denied action.
fn fix(action: &str, write: bool, partition: &str, vpc_arn: &str) -> String {
    let statements = granted_by(action).join(", ");
    let grant = format!(
        "{TEMPLATE} grants it in statement {statements} (policy {})",
        policy_of(write)
    );
    let what = if write {
        format!(
            "; that policy exists only when ManagedVpcArns names VPCs: set ManagedVpcArns to \
             include {vpc_arn} (or arn:{partition}:ec2:*:*:vpc/* for every VPC of the account) \
             and update the member stack (or the rollout's StackSet) to the current template"
        )
    } else {
        "; update the member stack (or the rollout's StackSet) to the current template".to_owned()
    };
    format!(
        "{grant}{what}. If it is deployed so, a service control policy or a permissions \
         boundary denies {action}."
    )
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
async fn read_network(
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
async fn read_the_rest(
    prover: &mut Prover,
    app: &App,
    logs: &aws_sdk_cloudwatchlogs::Client,
    target: &CheckTarget,
    subjects: &Subjects,
) {
    let (account, region) = (target.account.as_str(), target.region.as_str());
    progress("reading RDS, the VPC quotas and the flow-log records");
    // RDS's smallest MaxRecords.
    let few = 20;
    let rds = app.aws.rds(account, region).await;
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
    let quotas = app.aws.servicequotas(account, region).await;
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

/// The id to aim at, and how to show it: the subject, or the stand-in marked `(none)`.
fn aim(subject: &Option<String>, stand_in: &str) -> (String, String) {
    match subject {
        Some(id) => (id.clone(), id.clone()),
        None => (stand_in.to_owned(), format!("{stand_in} (none)")),
    }
}

/// Every EC2 write with `DryRun=true`, against the subjects (or stand-ins).
async fn dry_run_writes(prover: &mut Prover, ec2: &aws_sdk_ec2::Client, subjects: &Subjects) {
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
            .ip_permissions(rule);
    );
}

const ACTION_WIDTH: usize = 39;
const VERDICT_WIDTH: usize = 12;

/// The table for people: one row per action, the fix under each denied one, and a verdict.
pub fn render(report: &Report) -> String {
    let mut out = format!("member role of {} in {}", report.account, report.region);
    if let Some(identity) = &report.identity {
        out.push_str(&format!(", acting as {identity}"));
    }
    out.push('\n');
    if let Some(why) = &report.no_answer {
        out.push_str(&format!("{why}\n"));
        return out;
    }
    let s = &report.subjects;
    let name = |id: &Option<String>| id.as_deref().unwrap_or("none").to_owned();
    out.push_str(&format!(
        "  DryRun writes aim at VPC {}: route table {}, security group {}, peering into it {}, \
         active peering {}\n",
        name(&s.vpc_id),
        name(&s.route_table),
        name(&s.security_group),
        name(&s.peering_into_vpc),
        name(&s.active_peering)
    ));
    out.push_str(&format!(
        "\n{:<ACTION_WIDTH$}{:<VERDICT_WIDTH$}EVIDENCE / FIX\n",
        "ACTION", "RESULT"
    ));
    let indent = " ".repeat(ACTION_WIDTH + VERDICT_WIDTH);
    for proof in &report.actions {
        out.push_str(&format!(
            "{:<ACTION_WIDTH$}{:<VERDICT_WIDTH$}{}\n",
            proof.action,
            proof.verdict.as_str(),
            proof.evidence
        ));
        if let Some(fix) = &proof.fix {
            out.push_str(&format!(
                "{indent}fix: {fix} (needed by {})\n",
                proof.needed_by.join(", ")
            ));
        }
    }
    let denied = report.with(Verdict::Denied);
    let not_proven = report.with(Verdict::NotProven);
    out.push_str(&format!(
        "\n{} actions: {} allowed, {} denied, {} not proven\n",
        report.actions.len(),
        report.with(Verdict::Allowed).len(),
        denied.len(),
        not_proven.len()
    ));
    if denied.is_empty() {
        out.push_str("nothing denied\n");
    } else {
        out.push_str(&format!("denied: {}\n", denied.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws_error(code: &str, kind: AwsErrorKind) -> AwsError {
        AwsError {
            operation: "CreateRoute",
            kind,
            code: Some(code.to_owned()),
            message: Some("m".to_owned()),
        }
    }

    #[test]
    fn dry_run_operation_is_allowed_a_missing_permission_denied_anything_else_not_proven() {
        let judged = |code: &str| judge(&aws_error(code, AwsErrorKind::classify(Some(code), None)));
        assert_eq!(judged("DryRunOperation"), Verdict::Allowed);
        assert_eq!(judged("UnauthorizedOperation"), Verdict::Denied);
        assert_eq!(judged("AccessDenied"), Verdict::Denied);
        assert_eq!(judged("AccessDeniedException"), Verdict::Denied);
        // A rule of the resource, not a missing permission.
        assert_eq!(judged("OperationNotPermitted"), Verdict::NotProven);
        assert_eq!(
            judged("InvalidVpcPeeringConnectionID.NotFound"),
            Verdict::NotProven
        );
        assert_eq!(judged("InvalidRouteTableID.NotFound"), Verdict::NotProven);
        assert_eq!(judged("InvalidStateTransition"), Verdict::NotProven);
    }

    #[test]
    fn a_stand_in_that_does_not_exist_is_not_proven_and_says_why() {
        let err = aws_error(
            "InvalidVpcPeeringConnectionID.NotFound",
            AwsErrorKind::NotFound,
        );
        let text = explain("DryRun on pcx-00000000000000000 (none)", judge(&err), &err);
        assert!(text.contains("not denied"), "{text}");
    }

    #[test]
    fn the_worst_answer_of_an_action_wins() {
        let mut prover = Prover::default();
        prover.note(
            "servicequotas:GetServiceQuota",
            Verdict::Allowed,
            "a".into(),
        );
        prover.note("servicequotas:GetServiceQuota", Verdict::Denied, "b".into());
        prover.note(
            "servicequotas:GetServiceQuota",
            Verdict::NotProven,
            "c".into(),
        );
        let (verdict, evidence) = &prover.found["servicequotas:GetServiceQuota"];
        assert_eq!(*verdict, Verdict::Denied);
        assert_eq!(evidence, &["a", "b", "c"]);
    }

    #[test]
    fn every_action_is_granted_by_a_statement_and_needed_by_someone() {
        for action in Job::All.actions() {
            assert!(!granted_by(action.name).is_empty(), "{}", action.name);
            assert!(!needed_by(action.name).is_empty(), "{}", action.name);
        }
        assert_eq!(
            needed_by("ec2:CreateRoute"),
            ["peering-wiring", "drift-recheck"]
        );
        assert_eq!(needed_by("logs:FilterLogEvents"), ["peerwire diagnose"]);
    }

    #[test]
    fn a_denied_write_names_its_statement_and_the_vpc_to_manage() {
        let text = fix(
            "ec2:CreateRoute",
            true,
            "aws",
            "arn:aws:ec2:us-east-1:222222222222:vpc/vpc-12345678",
        );
        assert!(text.contains("RoutesInManagedVpcs"), "{text}");
        assert!(text.contains("peerwire-member-write"), "{text}");
        assert!(
            text.contains(
                "ManagedVpcArns to include arn:aws:ec2:us-east-1:222222222222:vpc/vpc-12345678"
            ),
            "{text}"
        );
        let text = fix("ec2:DescribeVpcs", false, "aws", "");
        assert!(
            text.contains("ReadNetwork (policy peerwire-member-read)"),
            "{text}"
        );
        assert!(!text.contains("ManagedVpcArns"), "{text}");
    }

    fn report(verdicts: &[Verdict]) -> Report {
        Report {
            account: "222222222222".into(),
            region: "us-east-1".into(),
            identity: None,
            no_answer: None,
            subjects: Subjects::default(),
            actions: verdicts
                .iter()
                .map(|verdict| Proof {
                    action: "ec2:CreateRoute",
                    write: true,
                    needed_by: vec!["peering-wiring"],
                    verdict: *verdict,
                    evidence: "e".into(),
                    fix: (*verdict == Verdict::Denied).then(|| "f".to_owned()),
                })
                .collect(),
        }
    }

    #[test]
    fn exit_0_when_nothing_is_denied_1_when_something_is_2_without_an_answer() {
        assert_eq!(
            report(&[Verdict::Allowed, Verdict::NotProven]).exit_code(),
            0
        );
        let denied = report(&[Verdict::Allowed, Verdict::Denied]);
        assert_eq!(denied.exit_code(), 1);
        let text = render(&denied);
        assert!(text.contains("fix: f (needed by peering-wiring)"), "{text}");
        assert!(text.ends_with("denied: ec2:CreateRoute\n"), "{text}");
        let mut none = report(&[]);
        none.no_answer = Some("no answer: AssumeRole ... denied".into());
        assert_eq!(none.exit_code(), 2);
    }

    #[test]
    fn malformed_ids_are_usage_errors() {
        let args = |account: &str, region: &str, vpc: Option<&str>| CheckPermissionsArgs {
            account: account.into(),
            region: region.into(),
            vpc: vpc.map(str::to_owned),
            json: false,
        };
        assert!(args("222222222222", "us-east-1", Some("vpc-12345678"))
            .check()
            .is_ok());
        assert!(args("2222", "us-east-1", None).check().is_err());
        assert!(args("222222222222", "mars", None).check().is_err());
        assert!(args("222222222222", "us-east-1", Some("subnet-12345678"))
            .check()
            .is_err());
    }
}
