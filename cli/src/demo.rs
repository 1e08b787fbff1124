//! The demo: the whole request story on the emulator, through the real handler, and the
//! fleet it leaves as `peerwire status` sees it (`fleet.rs`).

mod fleet;

use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::error::SdkError;
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, PeeringConnectionOptionsRequest, PortRange, RuleAction,
};
use peerwire::doors::cleanup::handle_cleanup_event;
use peerwire::doors::drift::handle_drift_event;
use peerwire::doors::request::handle_request_event;
use peerwire::doors::wiring::handle_wiring_event;
use peerwire::App;
use peerwire_diagnose::LayerId;
use peerwire_emulator::outcomes::OutcomeCapture;
use peerwire_emulator::samples::{
    cloudtrail_create_peering, cloudtrail_ec2_call, rds_event, PeeringRequestEvent,
};
use peerwire_emulator::scenario::{Scenario, ACCEPTER_ACCOUNT, REQUESTER_ACCOUNT};
use peerwire_emulator::world::{AppBuilder, World, WorldOptions};
use peerwire_emulator::REGION;

use crate::status;

/// The policy the demo runs under; README documents the format.
pub const DEMO_POLICY: &str = include_str!("../../examples/policy.yaml");

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Also send a request from an unknown account (999999999999), to see it refused.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub with_stranger: bool,
    /// After the wiring, break one layer on purpose and watch `diagnose` point at it.
    #[arg(long = "break", value_enum, value_name = "LAYER")]
    pub break_layer: Option<BreakLayer>,
    /// Where the closing `peerwire status` writes its page.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "target/peerwire-demo/status.html"
    )]
    pub html: PathBuf,
}

fn step(title: &str) {
    println!("\n== {title}");
}

fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Plays the story; `Err` says which part did not come out as it should.
pub async fn run(args: DemoArgs) -> Result<(), String> {
    story(args).await.map(|_| ())
}

/// The story, and the fleet its closing `peerwire status` showed.
pub async fn story(args: DemoArgs) -> Result<status::Fleet, String> {
    step("starting the emulator (moto 5.2.5, patched) on a free loopback port");
    let world = World::start(DEMO_POLICY, WorldOptions::captured())
        .await
        .map_err(|e| e.to_string())?;
    println!("endpoint {}", world.endpoint());

    step(
        "seeding account A (111111111111, ECS, 10.0.0.0/16) and B (222222222222, RDS, 10.1.0.0/16)",
    );
    let scenario = &world.scenario;
    println!(
        "A: {} subnets {:?}\nB: {} subnets {:?}",
        scenario.requester.vpc_id,
        scenario.requester.subnet_ids,
        scenario.accepter.vpc_id,
        scenario.accepter.subnet_ids
    );
    println!("  … creating payments-db in B (Multi-AZ PostgreSQL, DB subnet group over 3 AZs)");
    scenario
        .create_db("payments-db")
        .await
        .map_err(|e| e.to_string())?;

    // The capture queue has its own call log: only peerwire's calls are counted. The policy
    // file is the world's own: demos run side by side in one test process.
    let capture = world
        .outcomes
        .as_ref()
        .ok_or("the world captures no outcome")?;
    let product = world.product().policy_ttl(Duration::from_secs(60));
    let app = product.build().await;
    // Built inside the box: this future is large, and the story already fills a test
    // thread's stack.
    Box::pin(async { check_permissions(&product, scenario).await }).await?;
    step("policy in force");
    print!("{DEMO_POLICY}");

    step("account A requests peering (tag team=payments)");
    let pcx = scenario
        .request_peering(&[("team", "payments")])
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{pcx} is {}",
        scenario.status(&pcx).await.map_err(|e| e.to_string())?
    );
    let mut requests = vec![(
        pcx.clone(),
        REQUESTER_ACCOUNT.to_owned(),
        scenario.requester.vpc_id.clone(),
    )];

    if args.with_stranger {
        step("an unknown account 999999999999 requests peering too (peer phishing)");
        let (vpc, stranger) = scenario
            .request_from_new_vpc("999999999999", "10.9.0.0/16", &[("team", "payments")])
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "{stranger} is {}",
            scenario
                .status(&stranger)
                .await
                .map_err(|e| e.to_string())?
        );
        requests.push((stranger, "999999999999".to_owned(), vpc));
    }

    for (index, (id, account, vpc)) in requests.iter().enumerate() {
        step(&format!(
            "CloudTrail event CreateVpcPeeringConnection for {id} reaches peering-request"
        ));
        let event_id = format!("00000000-0000-4000-8000-{:012}", index + 1);
        let event = cloudtrail_create_peering(&PeeringRequestEvent {
            event_id: &event_id,
            peering_id: id,
            requester_account: account,
            requester_vpc: vpc,
            accepter_account: ACCEPTER_ACCOUNT,
            accepter_vpc: &scenario.accepter.vpc_id,
            region: REGION,
        });
        let report = handle_request_event(&app, &event)
            .await
            .map_err(|e| e.to_string())?;
        for outcome in &report.run.outcomes {
            println!("decision: {:?} (rule {:?})", outcome.kind, outcome.rule);
            for reason in &outcome.reasons {
                println!("  because {reason}");
            }
        }
        println!(
            "{id} is now {}",
            scenario.status(id).await.map_err(|e| e.to_string())?
        );
    }

    step("outcome events delivered on the bus (rule source=peerwire -> SQS)");
    let delivered = capture.drain().await.map_err(|e| e.to_string())?;
    for event in &delivered {
        println!("{}", pretty(event));
    }

    wire_and_diagnose(&app, scenario, capture, &pcx, &delivered, args.break_layer).await?;
    if args.break_layer.is_none() {
        keep_true_and_clean_up(&app, scenario, capture, &pcx).await?;
    }
    print_calls(&app);

    let expected = match args.break_layer {
        None => Box::pin(fleet::seed(&world, &app)).await?,
        // peerwire wires routes, rules and DNS options, not network ACLs: a NACL that drops the
        // traffic is diagnose's to find, and the wiring stays what the policy asks.
        Some(BreakLayer::Nacl) => vec![(pcx.clone(), status::Health::Healthy)],
        Some(BreakLayer::Dns | BreakLayer::Routes | BreakLayer::Sg) => {
            vec![(pcx.clone(), status::Health::Broken)]
        }
    };
    Box::pin(fleet::status(&product, &args.html, &expected)).await
}

/// Every AWS call `app` made, by operation.
fn print_calls(app: &App) {
    step("AWS calls made by peerwire, counted at the HTTP layer");
    let calls = app.aws.calls().calls();
    let mut counts = std::collections::BTreeMap::new();
    for call in &calls {
        *counts
            .entry((
                call.is_write(),
                call.service.clone(),
                call.operation.clone(),
            ))
            .or_insert(0usize) += 1;
    }
    for ((write, service, operation), count) in counts {
        let kind = if write { "write" } else { "read" };
        println!("  {count:>3} × {kind:<5} {service:<6} {operation}");
    }
    println!("  {} calls in all", calls.len());
}

/// `peerwire check-permissions` in account B before the first peering, as an operator runs it
/// after deploying the member role: its own process, so its own call log. Every action must be
/// allowed or not provable; a denied one fails the demo.
async fn check_permissions(product: &AppBuilder, scenario: &Scenario) -> Result<(), String> {
    let args = crate::permissions::CheckPermissionsArgs {
        account: ACCEPTER_ACCOUNT.to_owned(),
        region: REGION.to_owned(),
        vpc: Some(scenario.accepter.vpc_id.clone()),
        json: false,
    };
    step(&format!(
        "peerwire check-permissions --account {} --region {} --vpc {} (B's member role, before the first peering)",
        args.account, args.region, scenario.accepter.vpc_id
    ));
    let target = args.check()?;
    let app = product.build().await;
    let report = crate::permissions::check(&app, &target).await;
    print!("{}", crate::permissions::render(&report));
    match report.exit_code() {
        0 => Ok(()),
        _ => Err(format!(
            "B's member role should allow everything peerwire does; denied: {:?}, no answer: {:?}",
            report.with(crate::permissions::Verdict::Denied),
            report.no_answer
        )),
    }
}

/// A layer `--break` breaks after the wiring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BreakLayer {
    /// Turn the accepter's AllowDnsResolutionFromRemoteVpc off.
    Dns,
    /// Delete the peering route from one accepter route table.
    Routes,
    /// Revoke peerwire's ingress rule on the DB group.
    Sg,
    /// Deny the DB port in the accepter subnets' network ACL.
    Nacl,
}

impl BreakLayer {
    /// The layer the diagnosis must find broken.
    fn layer(self) -> LayerId {
        match self {
            Self::Dns => LayerId::Dns,
            Self::Routes => LayerId::Routes,
            Self::Sg => LayerId::SecurityGroups,
            Self::Nacl => LayerId::NetworkAcls,
        }
    }
}

/// The wiring door handles the accepted outcome event, `--break` breaks a layer, and the
/// diagnosis must be clean, or point at the broken layer.
async fn wire_and_diagnose(
    app: &App,
    scenario: &Scenario,
    capture: &OutcomeCapture,
    pcx: &str,
    delivered: &[serde_json::Value],
    break_layer: Option<BreakLayer>,
) -> Result<(), String> {
    step("the accepted outcome event reaches peering-wiring");
    let accepted = delivered
        .iter()
        .find(|e| {
            e["detail-type"] == "Peering Request Accepted" && e["detail"]["peering_id"] == pcx
        })
        .ok_or_else(|| format!("no Peering Request Accepted event for {pcx}"))?;
    println!("  … observing both sides through their member roles, then wiring");
    let report = handle_wiring_event(app, accepted)
        .await
        .map_err(|e| e.to_string())?;
    for outcome in &report.run.outcomes {
        println!(
            "wiring: {:?} ({} changes)",
            outcome.kind,
            outcome.changes.len()
        );
        for change in &outcome.changes {
            println!("  {}", change);
        }
        for reason in &outcome.reasons {
            println!("  because {reason}");
        }
    }
    for event in capture.drain().await.map_err(|e| e.to_string())? {
        println!("outcome event: {}", event["detail-type"]);
    }

    if let Some(layer) = break_layer {
        step(&format!("breaking {} on purpose", layer.layer()));
        println!("{}", break_on_purpose(scenario, pcx, layer).await?);
    }
    step("account B turns on a VPC flow log to CloudWatch Logs; the ECS tasks connect to the database");
    println!("{}", log_connections(scenario, break_layer).await?);

    step(&format!("peerwire diagnose {pcx}"));
    println!("  … reading the peering, both VPCs and their network ACLs");
    let policy = app.policies.current().await.map_err(|e| e.to_string())?;
    let region = REGION
        .parse()
        .map_err(|e: peerwire::model::IdError| e.to_string())?;
    let peering_id = pcx
        .parse()
        .map_err(|e: peerwire::model::IdError| e.to_string())?;
    let candidates = crate::find::candidates(&policy, None, None, Some(&region));
    let (peering, _) = crate::find::peering(app, &peering_id, &candidates)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{pcx} not found"))?;
    let diagnosis = peerwire_diagnose::diagnose_peering(app, peering)
        .await
        .map_err(|e| e.to_string())?;
    print!(
        "{}",
        crate::diagnose::render(&diagnosis, crate::diagnose::colour_stdout())
    );
    match break_layer {
        None if !diagnosis.healthy => Err(format!(
            "the wired peering should diagnose clean; broken: {:?}",
            diagnosis.broken()
        )),
        Some(layer) if !diagnosis.broken().contains(&layer.layer()) => Err(format!(
            "the diagnosis missed the broken {} layer",
            layer.layer()
        )),
        Some(layer @ (BreakLayer::Sg | BreakLayer::Nacl))
            if !diagnosis.broken().contains(&LayerId::Traffic) =>
        {
            Err(format!(
                "the flow logs should show the rejections behind the broken {} layer",
                layer.layer()
            ))
        }
        _ => Ok(()),
    }
}

/// The DB's address in B's subnet a, and a task in A's subnet a.
const DB_IP: &str = "10.1.1.5";
const TASK_IP: &str = "10.0.1.10";

/// A flow log of B's VPC with what its interfaces would record as a task opens three
/// connections: accepted both ways, or rejected when a group or NACL drops them, or nothing when
/// the traffic never arrives (DNS to a public address, no route). The emulator carries no
/// packets, so the demo writes the records; diagnose reads them as it reads real ones.
async fn log_connections(
    scenario: &Scenario,
    break_layer: Option<BreakLayer>,
) -> Result<String, String> {
    use peerwire_emulator::flow_logs::{flow_record, seed_flow_log};
    let record = |src: &str, dst: &str, sport: u16, dport: u16, action: &str| {
        flow_record(ACCEPTER_ACCOUNT, src, dst, sport, dport, action)
    };
    let ports = [49761_u16, 49762, 49763];
    let records: Vec<String> = match break_layer {
        None => ports
            .iter()
            .flat_map(|&p| {
                [
                    record(TASK_IP, DB_IP, p, 5432, "ACCEPT"),
                    record(DB_IP, TASK_IP, 5432, p, "ACCEPT"),
                ]
            })
            .collect(),
        Some(BreakLayer::Sg | BreakLayer::Nacl) => ports
            .iter()
            .map(|&p| record(TASK_IP, DB_IP, p, 5432, "REJECT"))
            .collect(),
        Some(BreakLayer::Dns | BreakLayer::Routes) => Vec::new(),
    };
    let config = scenario
        .seeder
        .role_config(ACCEPTER_ACCOUNT)
        .await
        .map_err(|e| e.to_string())?;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let group = seed_flow_log(&scenario.accepter, &logs, &records)
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "flow log of {} -> {group}; {} records from {TASK_IP} to the database at {DB_IP}:5432 \
         (written by the demo: the emulator carries no packets)",
        scenario.accepter.vpc_id,
        records.len()
    ))
}

fn aws_error<E>(operation: &'static str) -> impl Fn(SdkError<E>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    move |e| peerwire::aws::error::from_sdk(operation, e).to_string()
}

/// Breaks one layer the way people do, with the accepter's own credentials; says what it did.
async fn break_on_purpose(
    scenario: &Scenario,
    pcx: &str,
    layer: BreakLayer,
) -> Result<String, String> {
    let accepter = &scenario.accepter;
    let requester_cidr = &scenario.requester.cidr;
    match layer {
        BreakLayer::Dns => {
            let off = PeeringConnectionOptionsRequest::builder()
                .allow_dns_resolution_from_remote_vpc(false)
                .build();
            accepter
                .ec2
                .modify_vpc_peering_connection_options()
                .vpc_peering_connection_id(pcx)
                .accepter_peering_connection_options(off)
                .send()
                .await
                .map_err(aws_error("ModifyVpcPeeringConnectionOptions"))?;
            Ok(format!(
                "B turned AllowDnsResolutionFromRemoteVpc off on {pcx}"
            ))
        }
        BreakLayer::Routes => {
            let table = accepter
                .route_tables
                .get(1)
                .ok_or("the scenario has no second accepter route table")?;
            accepter
                .ec2
                .delete_route()
                .route_table_id(table)
                .destination_cidr_block(requester_cidr)
                .send()
                .await
                .map_err(aws_error("DeleteRoute"))?;
            Ok(format!(
                "B deleted the route {requester_cidr} -> {pcx} from {table}"
            ))
        }
        BreakLayer::Sg => {
            let rule = IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(5432)
                .to_port(5432)
                .ip_ranges(IpRange::builder().cidr_ip(requester_cidr).build())
                .build();
            accepter
                .ec2
                .revoke_security_group_ingress()
                .group_id(&accepter.security_group_id)
                .ip_permissions(rule)
                .send()
                .await
                .map_err(aws_error("RevokeSecurityGroupIngress"))?;
            Ok(format!(
                "B revoked tcp/5432 from {requester_cidr} on {}",
                accepter.security_group_id
            ))
        }
        BreakLayer::Nacl => {
            let acls = accepter
                .ec2
                .describe_network_acls()
                .filters(
                    Filter::builder()
                        .name("vpc-id")
                        .values(&accepter.vpc_id)
                        .build(),
                )
                .filters(Filter::builder().name("default").values("true").build())
                .send()
                .await
                .map_err(aws_error("DescribeNetworkAcls"))?;
            let acl = acls
                .network_acls()
                .first()
                .and_then(|a| a.network_acl_id())
                .ok_or("the accepter VPC has no default network ACL")?
                .to_owned();
            accepter
                .ec2
                .create_network_acl_entry()
                .network_acl_id(&acl)
                .rule_number(50)
                .egress(false)
                .protocol("6")
                .rule_action(RuleAction::Deny)
                .cidr_block(requester_cidr)
                .port_range(PortRange::builder().from(5432).to(5432).build())
                .send()
                .await
                .map_err(aws_error("CreateNetworkAclEntry"))?;
            Ok(format!(
                "B added rule 50 to {acl}: deny inbound tcp/5432 from {requester_cidr}"
            ))
        }
    }
}

/// Steps 5 to 8 of the story: a failover and a new subnet, the re-check that repairs them,
/// then deletion and cleanup.
async fn keep_true_and_clean_up(
    app: &App,
    scenario: &Scenario,
    capture: &OutcomeCapture,
    pcx: &str,
) -> Result<(), String> {
    let (requester, accepter) = (&scenario.requester, &scenario.accepter);
    step("drift: account A adds an ECS subnet with its own route table; in account B the standby's subnet moves to a bare table, then RDS fails over into it");
    let subnet = requester
        .ec2
        .create_subnet()
        .vpc_id(&requester.vpc_id)
        .cidr_block("10.0.20.0/24")
        .availability_zone(format!("{REGION}d"))
        .send()
        .await
        .map_err(aws_error("CreateSubnet"))?
        .subnet()
        .and_then(|s| s.subnet_id())
        .map(str::to_owned)
        .ok_or("CreateSubnet returned no id")?;
    let new_table = new_route_table(&requester.ec2, &requester.vpc_id).await?;
    requester
        .ec2
        .associate_route_table()
        .route_table_id(&new_table)
        .subnet_id(&subnet)
        .send()
        .await
        .map_err(aws_error("AssociateRouteTable"))?;
    println!("account A: new subnet {subnet} on new table {new_table}");
    let bare = new_route_table(&accepter.ec2, &accepter.vpc_id).await?;
    let association = accepter
        .ec2
        .describe_route_tables()
        .route_table_ids(&accepter.route_tables[1])
        .send()
        .await
        .map_err(aws_error("DescribeRouteTables"))?
        .route_tables()
        .first()
        .and_then(|t| t.associations().first())
        .and_then(|a| a.route_table_association_id())
        .map(str::to_owned)
        .ok_or("the standby subnet has no association")?;
    accepter
        .ec2
        .replace_route_table_association()
        .association_id(association)
        .route_table_id(&bare)
        .send()
        .await
        .map_err(aws_error("ReplaceRouteTableAssociation"))?;
    scenario
        .seeder
        .rds(ACCEPTER_ACCOUNT, REGION)
        .await
        .map_err(|e| e.to_string())?
        .reboot_db_instance()
        .db_instance_identifier("payments-db")
        .force_failover(true)
        .send()
        .await
        .map_err(aws_error("RebootDBInstance"))?;
    println!(
        "account B: subnet {} moved to bare table {bare}; payments-db failed over",
        accepter.subnet_ids[1]
    );

    step("re-check: the CloudTrail AssociateRouteTable event and the RDS failover event reach drift-recheck");
    let events = [
        cloudtrail_ec2_call(
            "00000000-0000-4000-8000-000000000101",
            "AssociateRouteTable",
            REQUESTER_ACCOUNT,
            REGION,
            serde_json::json!({"routeTableId": new_table, "subnetId": subnet}),
        ),
        rds_event(
            "00000000-0000-4000-8000-000000000102",
            ACCEPTER_ACCOUNT,
            REGION,
            "payments-db",
            false,
            "RDS-EVENT-0049",
        ),
    ];
    for event in &events {
        let report = handle_drift_event(app, event)
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "{}: {} outcome(s)",
            event["detail-type"],
            report.run.outcomes.len()
        );
        for outcome in &report.run.outcomes {
            println!("  {:?}", outcome.kind);
            for reason in &outcome.reasons {
                println!("    {reason}");
            }
        }
    }
    println!("(level-triggered: each re-check reconciles the whole peering, so whichever event comes first repairs everything)");
    for event in capture.drain().await.map_err(|e| e.to_string())? {
        println!("outcome event: {}", event["detail-type"]);
    }

    step("account A deletes the peering");
    scenario
        .requester
        .ec2
        .delete_vpc_peering_connection()
        .vpc_peering_connection_id(pcx)
        .send()
        .await
        .map_err(aws_error("DeleteVpcPeeringConnection"))?;
    println!(
        "{pcx} is {}",
        scenario.status(pcx).await.map_err(|e| e.to_string())?
    );

    step("cleanup: the CloudTrail DeleteVpcPeeringConnection event reaches peering-cleanup");
    let deleted = cloudtrail_ec2_call(
        "00000000-0000-4000-8000-000000000103",
        "DeleteVpcPeeringConnection",
        REQUESTER_ACCOUNT,
        REGION,
        serde_json::json!({"vpcPeeringConnectionId": pcx}),
    );
    let report = handle_cleanup_event(app, &deleted)
        .await
        .map_err(|e| e.to_string())?;
    for outcome in &report.run.outcomes {
        println!("{:?}: {} removed", outcome.kind, outcome.changes.len());
        for change in &outcome.changes {
            println!("  {}", change);
        }
    }
    for event in capture.drain().await.map_err(|e| e.to_string())? {
        println!("outcome event: {}", event["detail-type"]);
    }
    let replay = handle_cleanup_event(app, &deleted)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "replaying the deletion event: {} outcome(s), nothing left to remove",
        replay.run.outcomes.len()
    );
    Ok(())
}

async fn new_route_table(ec2: &aws_sdk_ec2::Client, vpc_id: &str) -> Result<String, String> {
    ec2.create_route_table()
        .vpc_id(vpc_id)
        .send()
        .await
        .map_err(aws_error("CreateRouteTable"))?
        .route_table()
        .and_then(|t| t.route_table_id())
        .map(str::to_owned)
        .ok_or_else(|| "CreateRouteTable returned no id".to_owned())
}
