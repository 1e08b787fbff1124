//! `peerwire emulator`: a seeded emulator that stays up, for driving the Lambda binaries
//! locally (`cargo lambda watch` + `cargo lambda invoke --data-file`).

use std::path::PathBuf;

use peerwire::aws::calls::CallLog;
use peerwire_emulator::outcomes::OutcomeCapture;
use peerwire_emulator::samples::{
    approval_granted, cloudtrail_create_peering, schedule_sweep, PeeringRequestEvent,
};
use peerwire_emulator::scenario::{
    Scenario, ACCEPTER_ACCOUNT, EXTERNAL_ID, REQUESTER_ACCOUNT, ROLE_ARN_TEMPLATE,
};
use peerwire_emulator::{workspace_root, Emulator, REGION};

#[derive(Debug, clap::Args)]
pub struct EmulatorArgs {
    /// Loopback port to listen on.
    #[arg(long, default_value_t = 4566)]
    pub port: u16,
    /// Where to write the policy and the sample events carrying the seeded ids.
    #[arg(long, default_value = "target/peerwire-emulator")]
    pub out: PathBuf,
}

pub async fn run(args: EmulatorArgs) -> Result<(), String> {
    let emulator = Emulator::start_on(args.port, &[])
        .await
        .map_err(|e| e.to_string())?;
    let scenario = Scenario::seed(&emulator).await.map_err(|e| e.to_string())?;
    // The demo policy names this DB instance for the wiring.
    scenario
        .create_db("payments-db")
        .await
        .map_err(|e| e.to_string())?;
    let hub = emulator.hub_config(&CallLog::default()).await;
    let capture = OutcomeCapture::create(&hub, "peerwire-outcomes")
        .await
        .map_err(|e| e.to_string())?;
    let pcx = scenario
        .request_peering(&[("team", "payments")])
        .await
        .map_err(|e| e.to_string())?;
    let out = if args.out.is_absolute() {
        args.out
    } else {
        workspace_root().join(args.out)
    };
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let write = |name: &str, text: String| -> Result<PathBuf, String> {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path)
    };
    let policy = write("policy.yaml", crate::demo::DEMO_POLICY.to_owned())?;
    let event = cloudtrail_create_peering(&PeeringRequestEvent {
        event_id: "6f87d04b-9f74-4f04-a780-7acf4b0a9b38",
        peering_id: &pcx,
        requester_account: REQUESTER_ACCOUNT,
        requester_vpc: &scenario.requester.vpc_id,
        accepter_account: ACCEPTER_ACCOUNT,
        accepter_vpc: &scenario.accepter.vpc_id,
        region: REGION,
    });
    let request = write(
        "cloudtrail-create-vpc-peering-connection.json",
        serde_json::to_string_pretty(&event).unwrap_or_default(),
    )?;
    write(
        "schedule-sweep.json",
        serde_json::to_string_pretty(&schedule_sweep("3e5f7a9b-1c2d-4e3f-8a5b-6c7d8e9f0a1b"))
            .unwrap_or_default(),
    )?;
    write(
        "approval-granted.json",
        serde_json::to_string_pretty(&approval_granted(
            "9d1f3b5c-7e9a-4b1c-9d3e-5f7a9b1c3d5e",
            &pcx,
            ACCEPTER_ACCOUNT,
            "you@example.com",
        ))
        .unwrap_or_default(),
    )?;
    println!(
        "emulator up at {}; pending request {pcx}",
        emulator.endpoint_url()
    );
    println!("\n# in another shell, for cargo lambda watch:");
    println!(
        "export AWS_ENDPOINT_URL={} AWS_REGION={REGION}",
        emulator.endpoint_url()
    );
    println!("export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test");
    println!("export PEERWIRE_POLICY_FILE={}", policy.display());
    println!("export PEERWIRE_EXTERNAL_ID={EXTERNAL_ID} PEERWIRE_ROLE_ARN_TEMPLATE='{ROLE_ARN_TEMPLATE}'");
    println!("export PEERWIRE_OUTCOME_BUS={}", capture.bus_name);
    println!(
        "\n# then: cargo lambda invoke peering-request --data-file {}",
        request.display()
    );
    println!("\nCtrl-C stops the emulator.");
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    Ok(())
}
