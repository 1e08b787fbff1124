//! The demo: the whole request story on the emulator, through the real handler.

use std::time::Duration;

use peerwire::aws::calls::CallLog;
use peerwire::aws::clients::AwsContext;
use peerwire::config::{Config, PolicySource};
use peerwire::request::handle_request_event;
use peerwire::App;
use peerwire_emulator::outcomes::OutcomeCapture;
use peerwire_emulator::samples::{cloudtrail_create_peering, PeeringRequestEvent};
use peerwire_emulator::scenario::{self, Scenario, ACCEPTER_ACCOUNT, REQUESTER_ACCOUNT};
use peerwire_emulator::{Emulator, REGION};

/// The policy the demo runs under; README documents the format.
pub const DEMO_POLICY: &str = r#"version: 1
unmatched: reject
accepters:
  - account: "222222222222"
    regions: [us-east-1]
rules:
  - name: payments-ecs-to-rds
    requester_accounts: ["111111111111"]
    allowed_cidrs: ["10.0.0.0/8"]
    min_prefix_length: 16
    regions: [us-east-1]
    required_tags: { team: payments }
"#;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Also send a request from an unknown account (999999999999), to see it refused.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub with_stranger: bool,
}

fn step(title: &str) {
    println!("\n== {title}");
}

fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

pub async fn run(args: DemoArgs) -> Result<(), String> {
    step("starting the emulator (moto 5.2.5, patched) on a free loopback port");
    let emulator = Emulator::start().await.map_err(|e| e.to_string())?;
    println!("endpoint {}", emulator.endpoint_url());

    step(
        "seeding account A (111111111111, ECS, 10.0.0.0/16) and B (222222222222, RDS, 10.1.0.0/16)",
    );
    let scenario = Scenario::seed(&emulator).await.map_err(|e| e.to_string())?;
    println!(
        "A: {} subnets {:?}\nB: {} subnets {:?}",
        scenario.requester.vpc_id,
        scenario.requester.subnet_ids,
        scenario.accepter.vpc_id,
        scenario.accepter.subnet_ids
    );

    let calls = CallLog::default();
    let hub = emulator.hub_config(&calls).await;
    // The capture queue has its own call log: only peerwire's calls are counted.
    let capture_hub = emulator.hub_config(&CallLog::default()).await;
    let capture = OutcomeCapture::create(&capture_hub, "peerwire-outcomes")
        .await
        .map_err(|e| e.to_string())?;
    let policy_path =
        std::env::temp_dir().join(format!("peerwire-demo-{}.yaml", std::process::id()));
    std::fs::write(&policy_path, DEMO_POLICY).map_err(|e| e.to_string())?;
    let config = Config {
        policy: PolicySource::File(policy_path.clone()),
        policy_ttl: Duration::from_secs(60),
        roles: scenario::roles(),
        outcome_bus: capture.bus_name.clone(),
    };
    let app = App::new(&config, AwsContext::new(hub, scenario::roles(), calls));
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
    for event in capture.drain().await.map_err(|e| e.to_string())? {
        println!("{}", pretty(&event));
    }

    step("AWS calls made by peerwire");
    for call in app.aws.calls().calls() {
        println!("  {:<6} {}", call.service, call.operation);
    }
    let _ = std::fs::remove_file(policy_path);
    Ok(())
}
