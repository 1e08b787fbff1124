//! `peerwire diagnose`, `plan` and `apply` against the patched emulator, through the library
//! functions the CLI calls. Each broken-layer test is a row of the field guides' table: break
//! one thing the way people do, and the diagnosis must name that layer, and only that layer,
//! with the resource and the subnets at fault.

use aws_sdk_ec2::types::RuleAction;
use peerwire::model::{PeeringRef, Side};
use peerwire::reconcile::Reconciled;
use peerwire::testing::id;
use peerwire_cli::{find, plan::reconcile};
use peerwire_diagnose::{diagnose_peering, Diagnosis, Layer, LayerId, Status};
use peerwire_integration::{db_instance_policy, TestEnv, DB_PORT, REGION};
use serde_json::Value;

/// The demo's policy: PostgreSQL on 5432 from the ECS task groups to DB instance `payments-db`,
/// whose DB subnet group spans the three accepter subnets.
fn policy() -> String {
    db_instance_policy()
}

/// A world with `payments-db` and a peering a person accepted, not wired yet.
async fn accepted() -> (TestEnv, String) {
    let env = TestEnv::new(&policy()).await;
    env.scenario.create_db("payments-db").await.unwrap();
    let pcx = env.active_peering().await;
    (env, pcx)
}

/// The same, wired by the wiring door; the call log starts empty.
async fn wired() -> (TestEnv, String) {
    let (env, pcx) = accepted().await;
    env.wire(&pcx).await;
    env.settle().await;
    (env, pcx)
}

/// Where `peerwire` finds `pcx`: through the policy's accepters.
async fn found(env: &TestEnv, pcx: &str) -> (peerwire::model::Peering, PeeringRef) {
    let policy = env.app.policies.current().await.unwrap();
    let candidates = find::candidates(&policy, None, None, Some(&id(REGION)));
    find::peering(&env.app, &id(pcx), &candidates)
        .await
        .unwrap()
        .unwrap()
}

/// What `peerwire diagnose <pcx>` computes: find, inspect, read the NACLs, diagnose.
async fn diagnose(env: &TestEnv, pcx: &str) -> Diagnosis {
    let (peering, _) = found(env, pcx).await;
    diagnose_peering(&env.app, peering).await.unwrap()
}

/// What `peerwire plan <pcx>` computes: the reconciler's dry run.
async fn plan(env: &TestEnv, pcx: &str) -> Reconciled {
    let (_, at) = found(env, pcx).await;
    reconcile(&env.app, at, true).await.unwrap()
}

fn layer(d: &Diagnosis, id: LayerId) -> &Layer {
    d.layer(id).unwrap()
}

fn assert_broken(d: &Diagnosis, expected: &[LayerId]) {
    assert_eq!(d.broken(), expected, "{d:#?}");
    assert!(!d.healthy);
    for l in &d.layers {
        if !expected.contains(&l.layer) && !traffic_unchecked(l) {
            assert_eq!(l.status, Status::Ok, "{l:#?}");
        }
    }
}

/// The traffic layer of a world without a flow log: skipped, and that is not a failure.
fn traffic_unchecked(l: &Layer) -> bool {
    l.layer == LayerId::Traffic && l.status == Status::Skipped
}

fn assert_read_only(env: &TestEnv) {
    let calls = env.calls().calls();
    assert!(calls.iter().all(|c| !c.is_write()), "{calls:?}");
}

#[tokio::test]
async fn a_wired_peering_diagnoses_clean_with_reads_only() {
    let (env, pcx) = wired().await;

    let d = diagnose(&env, &pcx).await;

    assert!(d.healthy, "{d:#?}");
    assert_eq!(
        d.layers.iter().map(|l| l.layer).collect::<Vec<_>>(),
        LayerId::ALL
    );
    for l in d.layers.iter().filter(|l| !traffic_unchecked(l)) {
        assert_eq!(l.status, Status::Ok, "{l:#?}");
    }
    assert_eq!(d.rule.as_deref(), Some("payments-ecs-to-rds"));
    assert!(layer(&d, LayerId::Rds)
        .finding
        .contains("payments-db (primary in us-east-1"));
    assert_read_only(&env);
    assert_eq!(
        env.calls().count("DescribeNetworkAcls"),
        2,
        "one filtered describe per side"
    );
    // Found through the accepter; the rule's required tags are the requester's own tag set,
    // read through the requester's role (AWS shows each owner only its own tags).
    assert_eq!(env.calls().count("DescribeVpcPeeringConnections"), 2);
    assert_eq!(
        env.calls().count("DescribeFlowLogs"),
        2,
        "one filtered describe per side"
    );
}

#[tokio::test]
async fn dns_resolves_to_a_public_ip_when_the_accepter_turns_its_option_off() {
    let (env, pcx) = wired().await;
    env.scenario
        .accepter
        .set_remote_dns_resolution(&pcx, false)
        .await
        .unwrap();

    let d = diagnose(&env, &pcx).await;

    assert_broken(&d, &[LayerId::Dns]);
    let dns = layer(&d, LayerId::Dns);
    assert_eq!(dns.problems.len(), 1, "{dns:#?}");
    assert_eq!(dns.problems[0].side, Some(Side::Accepter));
    assert!(dns.finding.contains("RDS endpoint"), "{dns:?}");
}

#[tokio::test]
async fn connection_times_out_when_a_task_subnet_s_table_lost_its_route() {
    let (env, pcx) = wired().await;
    let requester = &env.scenario.requester;
    let table = &requester.route_tables[0];
    requester.delete_route(table, "10.1.0.0/16").await.unwrap();

    let d = diagnose(&env, &pcx).await;

    assert_broken(&d, &[LayerId::Routes]);
    let routes = layer(&d, LayerId::Routes);
    assert_eq!(routes.problems.len(), 1, "{routes:#?}");
    let problem = &routes.problems[0];
    assert_eq!(problem.side, Some(Side::Requester));
    assert_eq!(problem.resource.as_deref(), Some(table.as_str()));
    assert_eq!(problem.subnets, [requester.subnet_ids[0].clone()]);
    assert!(
        problem
            .finding
            .contains(&format!("has no route to 10.1.0.0/16 through {pcx}")),
        "{problem:?}"
    );
}

#[tokio::test]
async fn a_db_subnet_without_the_route_breaks_routes_and_rds_naming_subnet_and_az() {
    let (env, pcx) = wired().await;
    let accepter = &env.scenario.accepter;
    let table = &accepter.route_tables[1];
    accepter.delete_route(table, "10.0.0.0/16").await.unwrap();

    let d = diagnose(&env, &pcx).await;

    assert_broken(&d, &[LayerId::Routes, LayerId::Rds]);
    let subnet_b = accepter.subnet_ids[1].clone();
    let routes = layer(&d, LayerId::Routes);
    assert_eq!(routes.problems[0].resource.as_deref(), Some(table.as_str()));
    assert_eq!(routes.problems[0].subnets, std::slice::from_ref(&subnet_b));
    let rds = layer(&d, LayerId::Rds);
    assert_eq!(rds.problems.len(), 1, "{rds:#?}");
    assert_eq!(rds.problems[0].resource.as_deref(), Some("payments-db"));
    assert_eq!(rds.problems[0].subnets, std::slice::from_ref(&subnet_b));
    assert!(
        rds.finding
            .contains(&format!("DB subnet {subnet_b} (us-east-1b)")),
        "{rds:?}"
    );
}

#[tokio::test]
async fn connection_refused_when_the_db_group_lost_its_ingress_rule() {
    let (env, pcx) = wired().await;
    let accepter = &env.scenario.accepter;
    env.scenario.revoke_db_ingress().await.unwrap();

    let d = diagnose(&env, &pcx).await;

    assert_broken(&d, &[LayerId::SecurityGroups]);
    let sg = layer(&d, LayerId::SecurityGroups);
    assert_eq!(
        sg.problems[0].resource.as_deref(),
        Some(accepter.security_group_id.as_str())
    );
    assert!(
        sg.finding
            .contains("does not admit tcp/5432 from 10.0.0.0/16"),
        "{sg:?}"
    );
}

#[tokio::test]
async fn a_nacl_deny_for_the_db_port_names_the_acl_the_rule_and_every_db_subnet() {
    let (env, pcx) = wired().await;
    let accepter = &env.scenario.accepter;
    let acl = deny_db_port_in(&env).await;

    let d = diagnose(&env, &pcx).await;

    assert_broken(&d, &[LayerId::NetworkAcls]);
    let nacls = layer(&d, LayerId::NetworkAcls);
    assert_eq!(nacls.problems.len(), 1, "{nacls:#?}");
    let problem = &nacls.problems[0];
    assert_eq!(problem.side, Some(Side::Accepter));
    assert_eq!(problem.resource.as_deref(), Some(acl.as_str()));
    let mut subnets = accepter.subnet_ids.clone();
    subnets.sort();
    assert_eq!(problem.subnets, subnets);
    assert!(
        problem
            .finding
            .contains("inbound tcp/5432 from 10.0.0.0/16 is denied by rule 50"),
        "{problem:?}"
    );
}

#[tokio::test]
async fn a_custom_nacl_without_the_return_path_breaks_only_the_subnet_it_serves() {
    let (env, pcx) = wired().await;
    let accepter = &env.scenario.accepter;
    // A custom ACL that lets the tasks in on 5432 but lets no reply out: stateless.
    let custom = accepter.new_network_acl().await.unwrap();
    accepter
        .inbound_tcp_entry(&custom, 100, RuleAction::Allow, DB_PORT, "10.0.0.0/16")
        .await
        .unwrap();
    let subnet_a = &accepter.subnet_ids[0];
    accepter
        .move_subnet_to_acl(subnet_a, &custom)
        .await
        .unwrap();

    let d = diagnose(&env, &pcx).await;

    assert_broken(&d, &[LayerId::NetworkAcls]);
    let nacls = layer(&d, LayerId::NetworkAcls);
    assert_eq!(nacls.problems.len(), 1, "{nacls:#?}");
    let problem = &nacls.problems[0];
    assert_eq!(problem.resource.as_deref(), Some(custom.as_str()));
    assert_eq!(problem.subnets, std::slice::from_ref(subnet_a));
    assert!(
        problem
            .finding
            .contains("outbound tcp/1024-65535 to 10.0.0.0/16 (return traffic"),
        "{problem:?}"
    );
    assert!(problem.finding.contains("rule * denies it"), "{problem:?}");
}

#[tokio::test]
async fn a_pending_peering_is_named_and_nothing_after_it_is_checked() {
    let env = TestEnv::new(&policy()).await;
    env.scenario.create_db("payments-db").await.unwrap();
    let pcx = env.pending_peering().await;

    let d = diagnose(&env, &pcx).await;

    assert_eq!(d.status, "pending-acceptance");
    assert_eq!(d.broken(), [LayerId::PeeringStatus], "{d:#?}");
    let status = layer(&d, LayerId::PeeringStatus);
    assert!(
        status
            .finding
            .contains("pending acceptance by account 222222222222"),
        "{status:?}"
    );
    assert_eq!(
        layer(&d, LayerId::CidrOverlap).status,
        Status::Ok,
        "the accepter VPC is read for the overlap check"
    );
    for id in [
        LayerId::Routes,
        LayerId::SecurityGroups,
        LayerId::NetworkAcls,
        LayerId::Dns,
        LayerId::Rds,
    ] {
        assert_eq!(layer(&d, id).status, Status::Skipped, "{id}");
    }
    assert_read_only(&env);
}

#[tokio::test]
async fn plan_writes_nothing_and_apply_makes_exactly_the_planned_calls() {
    let (env, pcx) = accepted().await;
    env.calls().take();

    let planned_run = plan(&env, &pcx).await;

    assert_eq!(planned_run.left_alone(), None);
    let planned_steps = &planned_run.plan().expect("a plan").steps;
    assert!(!planned_steps.is_empty());
    assert!(
        env.calls().calls().iter().all(|c| !c.is_write()),
        "plan wrote: {:?}",
        env.calls().ec2_writes()
    );
    let planned: Vec<&str> = planned_steps.iter().map(|s| s.operation()).collect();

    env.calls().take();
    // The wiring function, on the same peering: it must write exactly what plan printed.
    let report = env.wire(&pcx).await;
    let applied = report.run.reconciled[0].applied();

    let written = env.written();
    assert_eq!(written, planned);
    assert_eq!(applied.len(), planned.len());
    // Routes in 3 + 3 tables, the DB group's ingress, DNS on both sides.
    assert_eq!(planned.iter().filter(|op| **op == "CreateRoute").count(), 6);
    assert_eq!(
        planned
            .iter()
            .filter(|op| **op == "AuthorizeSecurityGroupIngress")
            .count(),
        1
    );
    // Applied, the plan is empty and the peering diagnoses clean.
    assert!(plan(&env, &pcx)
        .await
        .plan()
        .is_some_and(|p| p.steps.is_empty()));
    assert!(diagnose(&env, &pcx).await.healthy);
}

// ---------------------------------------------------------------- the JSON schema

fn schema() -> Value {
    peerwire_integration::schema::load("diagnosis.schema.json")
}

fn violations(document: &Value) -> Vec<String> {
    peerwire_integration::schema::violations(&schema(), document)
}

#[tokio::test]
async fn the_json_output_validates_against_the_documented_schema() {
    let (env, pcx) = wired().await;
    let healthy = serde_json::to_value(diagnose(&env, &pcx).await).unwrap();
    // Break two layers, so problems with and without subnets are in the document too.
    let accepter = &env.scenario.accepter;
    accepter
        .delete_route(&accepter.route_tables[1], "10.0.0.0/16")
        .await
        .unwrap();
    env.scenario
        .accepter
        .set_remote_dns_resolution(&pcx, false)
        .await
        .unwrap();
    let broken = serde_json::to_value(diagnose(&env, &pcx).await).unwrap();
    assert_eq!(broken["healthy"], false);
    assert!(!broken["layers"][2]["problems"][0]["subnets"]
        .as_array()
        .unwrap()
        .is_empty());

    for document in [&healthy, &broken] {
        assert_eq!(violations(document), Vec::<String>::new(), "{document:#}");
    }

    // The checker does check: a document that breaks the schema is refused.
    let mut bad = broken.clone();
    bad["layers"][0]["status"] = "fine".into();
    bad.as_object_mut().unwrap().remove("healthy");
    bad["layers"][2]["problems"][0]["extra"] = true.into();
    let errors = violations(&bad);
    assert_eq!(errors.len(), 3, "{errors:?}");

    // Every layer id and status the code can emit is documented.
    let schema = schema();
    let layer_ids = &schema["$defs"]["layer"]["properties"]["layer"]["enum"];
    for id in LayerId::ALL {
        assert!(
            layer_ids.as_array().unwrap().contains(&id.as_str().into()),
            "{id}"
        );
    }
    let statuses = &schema["$defs"]["status"]["enum"];
    for status in [Status::Ok, Status::Warning, Status::Broken, Status::Skipped] {
        assert!(statuses
            .as_array()
            .unwrap()
            .contains(&status.as_str().into()));
    }
}

// ---------------------------------------------------------------- traffic (VPC flow logs)

/// The DB's address in accepter subnet a, and two tasks in requester subnets a and b.
const DB_IP: &str = "10.1.1.5";
const TASK_A: &str = "10.0.1.10";
const TASK_B: &str = "10.0.2.20";

/// A default-format (version 2) flow-log record, as the accepter's interfaces write it.
fn flow_record(src: &str, dst: &str, sport: u16, dport: u16, action: &str) -> String {
    peerwire_emulator::flow_logs::flow_record(
        peerwire_integration::ACCEPTER_ACCOUNT,
        src,
        dst,
        sport,
        dport,
        action,
    )
}

/// Three requests from task a rejected, one from task b accepted with its reply.
fn rejected_from_task_a() -> Vec<String> {
    vec![
        flow_record(TASK_A, DB_IP, 49761, 5432, "REJECT"),
        flow_record(TASK_A, DB_IP, 49762, 5432, "REJECT"),
        flow_record(TASK_A, DB_IP, 49763, 5432, "REJECT"),
        flow_record(TASK_B, DB_IP, 40001, 5432, "ACCEPT"),
        flow_record(DB_IP, TASK_B, 5432, 40001, "ACCEPT"),
    ]
}

/// Creates a flow log of the accepter VPC to a CloudWatch Logs group, with the accepter's own
/// credentials, and seeds the group with `records` from a minute ago: what the VPC would have
/// delivered. Returns the group's name.
async fn accepter_flow_log(env: &TestEnv, records: &[String]) -> String {
    let config = env
        .scenario
        .seeder
        .role_config(peerwire_integration::ACCEPTER_ACCOUNT)
        .await
        .expect("accepter role");
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    peerwire_emulator::flow_logs::seed_flow_log(&env.scenario.accepter, &logs, records)
        .await
        .unwrap()
}

/// Adds rule 50 denying tcp/5432 in from the requester to the accepter's default ACL.
async fn deny_db_port_in(env: &TestEnv) -> String {
    let accepter = &env.scenario.accepter;
    let acl = accepter.default_network_acl().await.unwrap();
    accepter
        .inbound_tcp_entry(&acl, 50, RuleAction::Deny, DB_PORT, "10.0.0.0/16")
        .await
        .unwrap();
    acl
}

/// Only the flow-log reads beyond the static layers' calls: no EC2 write, no other write.
fn assert_reads_and_log_searches_only(env: &TestEnv) {
    let calls = env.calls().calls();
    assert!(env.calls().ec2_writes().is_empty(), "{calls:?}");
    assert!(
        calls
            .iter()
            .all(|c| !c.is_write() || c.operation == "FilterLogEvents"),
        "{calls:?}"
    );
}

#[tokio::test]
async fn without_a_flow_log_traffic_is_skipped_with_the_command_that_creates_one() {
    let (env, pcx) = wired().await;

    let d = diagnose(&env, &pcx).await;

    assert!(d.healthy, "{d:#?}");
    let traffic = layer(&d, LayerId::Traffic);
    assert_eq!(traffic.status, Status::Skipped, "{traffic:#?}");
    assert!(
        traffic.finding.contains("no flow log to CloudWatch Logs"),
        "{traffic:?}"
    );
    let fix = traffic.fix.as_deref().unwrap_or("");
    assert!(
        fix.contains(&format!(
            "aws ec2 create-flow-logs --region us-east-1 --resource-type VPC --resource-ids {}",
            env.scenario.accepter.vpc_id
        )),
        "{fix}"
    );
    assert_eq!(env.calls().count("DescribeFlowLogs"), 2);
    assert_eq!(env.calls().count("FilterLogEvents"), 0);
    assert!(d.traffic.is_none());
}

#[tokio::test]
async fn flow_log_rejections_behind_a_nacl_deny_are_attributed_to_that_acl() {
    let (env, pcx) = wired().await;
    let acl = deny_db_port_in(&env).await;
    let group = accepter_flow_log(&env, &rejected_from_task_a()).await;
    env.calls().take();

    let d = diagnose(&env, &pcx).await;

    assert_broken(&d, &[LayerId::NetworkAcls, LayerId::Traffic]);
    let traffic = layer(&d, LayerId::Traffic);
    assert_eq!(traffic.problems.len(), 1, "{traffic:#?}");
    let problem = &traffic.problems[0];
    assert_eq!(problem.side, Some(Side::Accepter));
    assert_eq!(problem.resource.as_deref(), Some(acl.as_str()));
    assert_eq!(
        problem.subnets,
        [env.scenario.accepter.subnet_ids[0].clone()]
    );
    assert!(
        problem.finding.starts_with(&format!(
            "REJECT {TASK_A} → {DB_IP}:5432 ×3 over the last 15m, logged by the accepter; the \
             accepter's NACL {acl} denies tcp/5432 in from 10.0.0.0/16 (rule 50)"
        )),
        "{problem:?}"
    );
    let summary = d.traffic.as_ref().unwrap();
    assert_eq!(summary.log_groups, [group]);
    assert_eq!(
        summary.records, 5,
        "each event once, though both searches return it"
    );
    // Per side one DescribeFlowLogs; the accepter's group searched for requests and replies.
    assert_eq!(env.calls().count("DescribeFlowLogs"), 2);
    assert_eq!(env.calls().count("FilterLogEvents"), 2);
    assert_eq!(
        env.calls().count("AssumeRole"),
        0,
        "the member roles are reused"
    );
    assert_reads_and_log_searches_only(&env);
}

#[tokio::test]
async fn flow_log_rejections_at_a_db_group_without_the_rule_are_attributed_to_the_group() {
    let (env, pcx) = wired().await;
    let accepter = &env.scenario.accepter;
    env.scenario.revoke_db_ingress().await.unwrap();
    accepter_flow_log(&env, &rejected_from_task_a()).await;

    let d = diagnose(&env, &pcx).await;

    assert_broken(&d, &[LayerId::SecurityGroups, LayerId::Traffic]);
    let problem = &layer(&d, LayerId::Traffic).problems[0];
    assert_eq!(
        problem.resource.as_deref(),
        Some(accepter.security_group_id.as_str())
    );
    assert!(
        problem.finding.contains(&format!(
            "the accepter's security group {} does not admit tcp/5432 from 10.0.0.0/16",
            accepter.security_group_id
        )),
        "{problem:?}"
    );
    assert!(!problem.finding.contains("NACL"), "{problem:?}");
}

#[tokio::test]
async fn accept_both_ways_in_the_flow_log_points_at_dns_or_the_application() {
    let (env, pcx) = wired().await;
    accepter_flow_log(
        &env,
        &[
            flow_record(TASK_A, DB_IP, 49761, 5432, "ACCEPT"),
            flow_record(DB_IP, TASK_A, 5432, 49761, "ACCEPT"),
        ],
    )
    .await;

    let d = diagnose(&env, &pcx).await;

    assert!(d.healthy, "{d:#?}");
    let traffic = layer(&d, LayerId::Traffic);
    assert_eq!(traffic.status, Status::Ok, "{traffic:#?}");
    assert!(
        traffic.finding.starts_with("ACCEPT both ways"),
        "{traffic:?}"
    );
    assert!(traffic.finding.contains("look at DNS"), "{traffic:?}");
    // The healthy document with a traffic summary validates too.
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(violations(&json), Vec::<String>::new(), "{json:#}");
}

#[tokio::test]
async fn a_peering_no_rule_matches_is_refused_by_the_reconciler_itself() {
    let (env, pcx) = accepted().await;
    env.set_policy(&policy().replace("team: payments", "team: billing"));
    let (peering, _) = found(&env, &pcx).await;

    let inspection = peerwire_diagnose::inspect(&env.app, peering).await.unwrap();

    assert_eq!(inspection.rule, None);
    assert!(
        inspection
            .refusal
            .as_deref()
            .unwrap_or_default()
            .contains("no policy rule"),
        "{:?}",
        inspection.refusal
    );
    // Still observed in the default scope, so its layers can be explained.
    assert!(inspection.state.is_some());
}
