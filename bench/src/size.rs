//! Size and init time of the release Lambda binary.
//!
//! Init time: the binary is started with `AWS_LAMBDA_RUNTIME_API` pointing at a loopback
//! listener that stands in for the Lambda Runtime API. The clock runs from just before the
//! spawn to the moment the runtime connects for its first `GET /invocation/next`: by then
//! `main` has initialised tracing, read its configuration and built every client, so the
//! process is ready for its first event. No network beyond that loopback connection: the
//! policy lives in SSM and is read on the first event, credentials come from the environment.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::procfs::{median, range, status_kb};
use crate::world::Result;

/// `$CARGO_TARGET_DIR/release/<name>`, or the workspace's `target/`.
pub fn release_binary(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| peerwire_emulator::workspace_root().join("target"));
    target.join("release").join(name)
}

struct Start {
    ready: Duration,
    rss_kb: Option<u64>,
}

async fn start_once(binary: &PathBuf) -> Result<Start> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let api = listener.local_addr()?.to_string();
    let mut command = tokio::process::Command::new(binary);
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "peering-wiring")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "ASIAEXAMPLEEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "example")
        .env("AWS_SESSION_TOKEN", "example")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/peerwire-bench")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/peerwire-bench")
        .env("PEERWIRE_POLICY_PARAMETER", "/peerwire/policy")
        .env("PEERWIRE_EXTERNAL_ID", "peerwire-bench-external-id")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let started = Instant::now();
    let mut child = command.spawn()?;
    let accepted = tokio::time::timeout(Duration::from_secs(10), listener.accept()).await;
    let ready = started.elapsed();
    let rss_kb = child
        .id()
        .and_then(|pid| status_kb(&pid.to_string(), "VmRSS"));
    child.kill().await?;
    match accepted {
        Ok(Ok(_)) => Ok(Start { ready, rss_kb }),
        Ok(Err(err)) => Err(err.into()),
        Err(_) => Err(format!("{} never called the runtime API", binary.display()).into()),
    }
}

pub async fn run(binary: Option<PathBuf>, runs: usize) -> Result<()> {
    let binary = binary.unwrap_or_else(|| release_binary("peering-wiring"));
    let bytes = std::fs::metadata(&binary)
        .map_err(|e| {
            format!(
                "{}: {e} (build it first: cargo build --release -p peering-wiring)",
                binary.display()
            )
        })?
        .len();
    let gzip = tokio::process::Command::new("gzip")
        .args(["-9", "-c"])
        .arg(&binary)
        .stderr(Stdio::null())
        .output()
        .await
        .ok()
        .filter(|o| o.status.success())
        .map(|o| o.stdout.len());

    // One untimed start warms the page cache, as a Lambda's snapshot of the code would be.
    start_once(&binary).await?;
    let mut ready = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..runs {
        let start = start_once(&binary).await?;
        ready.push(start.ready.as_secs_f64() * 1000.0);
        if let Some(kb) = start.rss_kb {
            rss.push(kb as f64 / 1024.0);
        }
    }
    let (lo, hi) = range(&ready);
    println!("## Size and init\n");
    println!("| measure | value |");
    println!("|---|---:|");
    println!("| binary | `{}` |", binary.display());
    println!(
        "| stripped release binary (opt-level z, LTO, strip) | {bytes} bytes ({:.2} MiB) |",
        bytes as f64 / 1048576.0
    );
    if let Some(gz) = gzip {
        println!(
            "| gzip -9 (≈ the deployment zip) | {gz} bytes ({:.2} MiB) |",
            gz as f64 / 1048576.0
        );
    }
    println!(
        "| init: process start → first Runtime API call, median of {runs} ({lo:.1}–{hi:.1}) | {:.1} ms |",
        median(&ready)
    );
    if !rss.is_empty() {
        println!(
            "| RSS when ready for the first event (median) | {:.1} MiB |",
            median(&rss)
        );
    }
    Ok(())
}
