//! The local AWS for tests, the demo and benchmarks: the pinned moto server started through
//! `launcher.py` (which patches the gaps listed in docs/emulator.md), plus the two-account
//! scenario seeded exactly as production reaches accounts: STS AssumeRole with an ExternalId.
//!
//! Settings (dwell times of the peering lifecycle, IAM denials, quotas; every key is in
//! docs/emulator.md) are given at start with [`EmulatorOptions`] and changed mid-test with
//! [`Emulator::set`], which posts them to the server's `/peerwire-emulator/settings`.

pub mod flow_logs;
pub mod organizations;
pub mod outcomes;
pub mod samples;
pub mod scenario;
pub mod world;

use std::io::{Read, Write};
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

/// moto's default account: the hub's static test credentials act in it.
pub const HUB_ACCOUNT: &str = "123456789012";

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
    #[error("talking to the emulator: {0}")]
    Http(String),
    #[error("the emulator refused settings: {0}")]
    Settings(String),
}

/// How to start an emulator: the port, the patches to turn off and the settings to start with
/// (`--set KEY=VALUE` each; keys and values as in docs/emulator.md).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmulatorOptions {
    /// 0 picks a free port.
    pub port: u16,
    /// Patch names, as `launcher.py --list` prints them.
    pub disabled: Vec<String>,
    /// (key, value) pairs, applied in order.
    pub settings: Vec<(String, String)>,
}

impl EmulatorOptions {
    /// Every patch on, default settings, a free port.
    pub fn new() -> Self {
        Self::default()
    }

    /// Turns the patch `name` off.
    pub fn disable(mut self, name: &str) -> Self {
        self.disabled.push(name.to_owned());
        self
    }

    /// Starts with setting `key` at `value`.
    pub fn setting(mut self, key: &str, value: &str) -> Self {
        self.settings.push((key.to_owned(), value.to_owned()));
        self
    }
}

/// An HTTP answer from the emulator: status code and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    pub status: u16,
    pub body: String,
}

impl HttpAnswer {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The answer to `what` when it is a 200, else an error with its status and body.
    pub fn success(self, what: &str) -> Result<Self, EmulatorError> {
        if self.status == 200 {
            return Ok(self);
        }
        let (status, body) = (self.status, self.body);
        Err(EmulatorError::Http(format!(
            "{what} answered {status}: {body}"
        )))
    }
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
        Self::start_with(&EmulatorOptions {
            port,
            disabled: disabled.iter().map(|d| (*d).to_owned()).collect(),
            settings: Vec::new(),
        })
        .await
    }

    /// Starts a server with `options`: its port, patches turned off and initial settings.
    pub async fn start_with(options: &EmulatorOptions) -> Result<Self, EmulatorError> {
        let port = options.port;
        let python = python();
        let launcher = workspace_root().join("emulator/launcher");
        let mut command = Command::new(&python);
        command
            .arg(&launcher)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        if !options.disabled.is_empty() {
            command.arg("--disable").arg(options.disabled.join(","));
        }
        for (key, value) in &options.settings {
            command.arg("--set").arg(format!("{key}={value}"));
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

    /// Changes one setting of the running server, effective for the next request.
    pub async fn set(&self, key: &str, value: &str) -> Result<(), EmulatorError> {
        self.set_all(&[(key, value)]).await
    }

    /// Changes several settings at once: all of them, or none when one is refused.
    pub async fn set_all(&self, settings: &[(&str, &str)]) -> Result<(), EmulatorError> {
        let body: serde_json::Map<String, serde_json::Value> = settings
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned())))
            .collect();
        let answer = self
            .http(
                "POST",
                SETTINGS_PATH,
                &[("Content-Type", "application/json")],
                serde_json::Value::Object(body).to_string(),
            )
            .await?;
        match answer.status {
            200 => Ok(()),
            _ => Err(EmulatorError::Settings(
                answer.json()["error"]
                    .as_str()
                    .map_or_else(|| answer.body.clone(), str::to_owned),
            )),
        }
    }

    /// Every setting of the running server, as the JSON object it answers.
    pub async fn settings(&self) -> Result<serde_json::Value, EmulatorError> {
        let answer = self.http("GET", SETTINGS_PATH, &[], String::new()).await?;
        Ok(answer.json())
    }

    /// A call in AWS's JSON protocol (`X-Amz-Target`) as `account`, for services the workspace
    /// has no SDK for: `service` is the signing name (`logs`, `organizations`, `servicequotas`,
    /// `dynamodb`), `target` e.g. `Logs_20140328.FilterLogEvents`. moto reads the service from
    /// the credential scope and the account from `x-moto-account-id`; it checks no signature.
    pub async fn call_json(
        &self,
        account: &str,
        service: &str,
        target: &str,
        body: &serde_json::Value,
    ) -> Result<HttpAnswer, EmulatorError> {
        let authorization = unsigned_authorization(service);
        let content_type = if service == "dynamodb" {
            "application/x-amz-json-1.0"
        } else {
            "application/x-amz-json-1.1"
        };
        self.http(
            "POST",
            "/",
            &[
                ("Authorization", authorization.as_str()),
                ("X-Amz-Target", target),
                ("Content-Type", content_type),
                ("x-moto-account-id", account),
            ],
            body.to_string(),
        )
        .await
    }

    /// A call in AWS's query protocol (STS, for one) as `account`: `params` are the form
    /// fields, `Action` and `Version` included. Values are sent percent-encoded.
    pub async fn call_query(
        &self,
        account: &str,
        service: &str,
        params: &[(&str, &str)],
    ) -> Result<HttpAnswer, EmulatorError> {
        let authorization = unsigned_authorization(service);
        let body = params
            .iter()
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.http(
            "POST",
            "/",
            &[
                ("Authorization", authorization.as_str()),
                (
                    "Content-Type",
                    "application/x-www-form-urlencoded; charset=utf-8",
                ),
                ("x-moto-account-id", account),
            ],
            body,
        )
        .await
    }

    /// A REST call (Route 53's XML API, for one) as `account`: `path` such as
    /// `/2013-04-01/hostedzone/Z1/authorizevpcassociation`, `body` the XML document or "".
    pub async fn call_rest(
        &self,
        account: &str,
        service: &str,
        method: &str,
        path: &str,
        body: &str,
    ) -> Result<HttpAnswer, EmulatorError> {
        let authorization = unsigned_authorization(service);
        self.http(
            method,
            path,
            &[
                ("Authorization", authorization.as_str()),
                ("Content-Type", "application/xml"),
                ("x-moto-account-id", account),
            ],
            body.to_owned(),
        )
        .await
    }

    /// One HTTP/1.1 exchange with the server (std::net on a blocking thread: loopback only,
    /// `Connection: close`, so the answer ends with the stream).
    async fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: String,
    ) -> Result<HttpAnswer, EmulatorError> {
        let address = self
            .endpoint
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(&body);
        tokio::task::spawn_blocking(move || exchange(&address, request.as_bytes()))
            .await
            .map_err(|e| EmulatorError::Http(e.to_string()))?
    }

    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL`.
    pub fn endpoint_url(&self) -> &str {
        &self.endpoint
    }

    /// The hub's SDK configuration: static test credentials of moto's default account,
    /// `us-east-1`, this endpoint, and an HTTP client that records into `calls`.
    pub async fn hub_config(&self, calls: &CallLog) -> SdkConfig {
        hub_config_at(
            &self.endpoint,
            calls.wrap(default_https_client()),
            None,
            None,
        )
        .await
    }

    /// Empties every service of the server (`/moto-api/reset`); its settings stay.
    pub async fn reset(&self) -> Result<(), EmulatorError> {
        self.http("POST", "/moto-api/reset", &[], String::new())
            .await?
            .success("moto-api/reset")?;
        Ok(())
    }
}

/// The hub's SDK configuration against `endpoint` (the emulator, or a proxy in front of it):
/// static test credentials of moto's default account, `us-east-1`, `http` as the HTTP client,
/// and the SDK's default retry and timeouts unless given.
pub async fn hub_config_at(
    endpoint: &str,
    http: aws_sdk_ec2::config::SharedHttpClient,
    retry: Option<aws_config::retry::RetryConfig>,
    timeouts: Option<aws_config::timeout::TimeoutConfig>,
) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "emulator"))
        .http_client(http);
    if let Some(retry) = retry {
        loader = loader.retry_config(retry);
    }
    if let Some(timeouts) = timeouts {
        loader = loader.timeout_config(timeouts);
    }
    loader.load().await
}

/// Where the launcher serves its settings.
pub const SETTINGS_PATH: &str = "/peerwire-emulator/settings";

/// An Authorization header whose credential scope names `service` in [`REGION`]; moto routes
/// on it and verifies no signature.
fn unsigned_authorization(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=test/20260101/{REGION}/{service}/aws4_request, \
         SignedHeaders=host, Signature=0"
    )
}

fn exchange(address: &str, request: &[u8]) -> Result<HttpAnswer, EmulatorError> {
    let http_err = |e: std::io::Error| EmulatorError::Http(e.to_string());
    let mut stream = std::net::TcpStream::connect(address).map_err(http_err)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(http_err)?;
    stream.write_all(request).map_err(http_err)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(http_err)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| EmulatorError::Http(format!("no header end in `{text}`")))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| EmulatorError::Http(format!("no status in `{head}`")))?;
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok(HttpAnswer { status, body })
}

/// `text` with every byte outside RFC 3986's unreserved set percent-encoded.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The body of a `Transfer-Encoding: chunked` answer.
fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        let (Some(chunk), Some(next)) = (after.get(..size), after.get(size..)) else {
            break;
        };
        if size == 0 {
            break;
        }
        body.push_str(chunk);
        rest = next.trim_start_matches("\r\n");
    }
    body
}
