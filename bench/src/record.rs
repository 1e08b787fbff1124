//! A second HTTP-layer recorder, for the write-rate benchmark: like the product's `CallLog`,
//! but every request also carries the instant it went on the wire and the access key that
//! signed it (one member-role session per account, so one key per EC2 bucket).
//!
//! It sits inside the product's write limiter (`AwsContext::ec2` wraps the configured HTTP
//! client), so a write is stamped when the limiter lets it go.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use peerwire::aws::calls::ApiCall;

/// One request as it went on the wire.
#[derive(Debug, Clone)]
pub struct Sent {
    pub at: Instant,
    pub call: ApiCall,
    /// The access key id of the SigV4 credential scope.
    pub access_key: String,
    /// For `ModifyVpcPeeringConnectionOptions`: `requester` or `accepter`, the side whose
    /// options it sets (only that side's owner may, so it names the account of the key).
    pub options_side: Option<&'static str>,
}

/// Shared, append-only.
#[derive(Debug, Clone, Default)]
pub struct TimedLog(Arc<Mutex<Vec<Sent>>>);

impl TimedLog {
    pub fn take(&self) -> Vec<Sent> {
        self.0
            .lock()
            .map(|mut sent| std::mem::take(&mut *sent))
            .unwrap_or_default()
    }

    fn push(&self, sent: Sent) {
        if let Ok(mut log) = self.0.lock() {
            log.push(sent);
        }
    }

    /// Wraps `inner` so that every request it sends is stamped here.
    pub fn wrap(&self, inner: SharedHttpClient) -> SharedHttpClient {
        SharedHttpClient::new(TimedClient {
            inner,
            log: self.clone(),
        })
    }
}

#[derive(Debug)]
struct TimedClient {
    inner: SharedHttpClient,
    log: TimedLog,
}

impl HttpClient for TimedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(TimedConnector {
            inner: self.inner.http_connector(settings, components),
            log: self.log.clone(),
        })
    }
}

#[derive(Debug)]
struct TimedConnector {
    inner: SharedHttpConnector,
    log: TimedLog,
}

impl HttpConnector for TimedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        self.log.push(stamp(&request));
        self.inner.call(request)
    }
}

/// Same naming rules as the product's recorder (`peerwire::aws::calls`).
fn stamp(request: &HttpRequest) -> Sent {
    let at = Instant::now();
    let headers = request.headers();
    let scope = headers
        .get("authorization")
        .and_then(|auth| auth.split("Credential=").nth(1))
        .unwrap_or_default();
    let mut parts = scope.split('/');
    let access_key = parts.next().unwrap_or_default().to_owned();
    let service = parts.nth(2).unwrap_or("unknown").to_owned();
    let body = request
        .body()
        .bytes()
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or_default();
    let operation = headers
        .get("x-amz-target")
        .and_then(|target| target.rsplit('.').next())
        .map(str::to_owned)
        .or_else(|| {
            body.split('&')
                .find_map(|pair| pair.strip_prefix("Action="))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let options_side = if operation == "ModifyVpcPeeringConnectionOptions" {
        if body.contains("RequesterPeeringConnectionOptions") {
            Some("requester")
        } else if body.contains("AccepterPeeringConnectionOptions") {
            Some("accepter")
        } else {
            None
        }
    } else {
        None
    };
    Sent {
        at,
        call: ApiCall { service, operation },
        access_key,
        options_side,
    }
}
