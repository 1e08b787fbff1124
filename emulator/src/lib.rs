//! The local AWS for tests, the demo and benchmarks: the pinned moto server started through
//! `launcher.py` (which patches the gaps listed in docs/emulator.md), plus the two-account
//! scenario seeded exactly as production reaches accounts: STS AssumeRole with an ExternalId.

pub mod outcomes;
pub mod samples;
pub mod scenario;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use peerwire::aws::calls::CallLog;
use peerwire::aws::clients::default_https_client;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Region of every emulated resource.
pub const REGION: &str = "us-east-1";

/// Why the emulator could not be started or seeded.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot start {python} {launcher}: {source} (run scripts/setup-emulator first)")]
    Spawn {
        python: String,
        launcher: String,
        source: std::io::Error,
    },
    #[error("the emulator did not report its port: {0}")]
    NoPort(String),
    #[error("seeding the scenario: {0}")]
    Seed(String),
}

/// A running moto server on a free loopback port. Dropping it stops the server.
#[derive(Debug)]
pub struct Emulator {
    endpoint: String,
    _child: Child,
}

/// The Python interpreter of the project's venv, or `PEERWIRE_PYTHON`.
pub fn python() -> PathBuf {
    std::env::var_os("PEERWIRE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/python"))
}

/// The repository root (this crate lives in `emulator/`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

impl Emulator {
    /// Starts a server with every patch applied.
    pub async fn start() -> Result<Self, EmulatorError> {
        Self::start_with_disabled(&[]).await
    }

    /// Starts a server with the named patches turned off, to show what each one restores.
    pub async fn start_with_disabled(disabled: &[&str]) -> Result<Self, EmulatorError> {
        Self::start_on(0, disabled).await
    }

    /// Starts a server on `port` (0 picks a free one) with the named patches turned off.
    pub async fn start_on(port: u16, disabled: &[&str]) -> Result<Self, EmulatorError> {
        let python = python();
        let launcher = workspace_root().join("emulator/launcher.py");
        let mut command = Command::new(&python);
        command
            .arg(&launcher)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        if !disabled.is_empty() {
            command.arg("--disable").arg(disabled.join(","));
        }
        match std::env::var_os("PEERWIRE_EMULATOR_LOG") {
            Some(path) => {
                let log = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| EmulatorError::NoPort(format!("log file: {e}")))?;
                command.stderr(log);
            }
            None => {
                command.stderr(Stdio::null());
            }
        }
        let mut child = command.spawn().map_err(|source| EmulatorError::Spawn {
            python: python.display().to_string(),
            launcher: launcher.display().to_string(),
            source,
        })?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| EmulatorError::NoPort("no stdout".into()))?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .map_err(|_| EmulatorError::NoPort("timed out after 60 s".into()))?
            .map_err(|e| EmulatorError::NoPort(e.to_string()))?
            .ok_or_else(|| {
                EmulatorError::NoPort("launcher exited (is moto 5.2.5 installed?)".into())
            })?;
        let port: u16 = line
            .strip_prefix("PEERWIRE_EMULATOR_PORT=")
            .and_then(|p| p.trim().parse().ok())
            .ok_or_else(|| EmulatorError::NoPort(format!("unexpected line `{line}`")))?;
        Ok(Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            _child: child,
        })
    }

    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL`.
    pub fn endpoint_url(&self) -> &str {
        &self.endpoint
    }

    /// The hub's SDK configuration: static test credentials of moto's default account,
    /// `us-east-1`, this endpoint, and an HTTP client that records into `calls`.
    pub async fn hub_config(&self, calls: &CallLog) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new("test", "test", None, None, "emulator"))
            .http_client(calls.wrap(default_https_client()))
            .load()
            .await
    }
}
