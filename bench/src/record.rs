//! When each call went on the wire, and which credential signed it: a clock beside the
//! product's recorder. The calls themselves are named and counted by
//! `peerwire::aws::calls::CallLog` alone; the clock adds what that log does not keep.
//!
//! The clock wraps the CallLog-wrapped HTTP client and stamps each request under one lock
//! together with the CallLog's own record of it, so the n-th stamp belongs to the n-th call
//! of the log ([`Clock::pair`]). It sits inside the product's write limiter
//! (`AwsContext::ec2` wraps the configured HTTP client), so a write is stamped when the
//! limiter lets it go.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use peerwire::aws::calls::ApiCall;

/// The SigV4 credential that signed a request: one member-role session per account (the
/// product assumes each role once), in one region: one EC2 bucket.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signer {
    pub access_key: String,
    pub region: String,
}

/// What the request names: the peering (`VpcPeeringConnectionId`, or the first id of a
/// describe by ids) and, for a `ModifyVpcPeeringConnectionOptions`, whether it sets the
/// requester's side (only that side's owner may, so it names the signer's account).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    pub peering_id: Option<String>,
    pub requester_options: Option<bool>,
}

#[derive(Debug, Clone)]
struct Stamp {
    at: Instant,
    /// Index into `Stamps::signers`.
    signer: usize,
    names: Names,
}

#[derive(Debug, Default)]
struct Stamps {
    signers: Vec<Signer>,
    stamps: Vec<Stamp>,
}

/// One call as it went on the wire: the product's record of it, and the clock's.
#[derive(Debug, Clone)]
pub struct Sent {
    pub at: Instant,
    pub call: ApiCall,
    pub signer: Signer,
    pub names: Names,
}

/// Shared, append-only.
#[derive(Debug, Clone, Default)]
pub struct Clock(Arc<Mutex<Stamps>>);

impl Clock {
    /// Stamps taken so far.
    pub fn len(&self) -> usize {
        self.0.lock().map(|s| s.stamps.len()).unwrap_or(0)
    }

    /// Empties the clock and pairs its stamps with `calls`, the CallLog's calls taken at the
    /// same time (the CallLog wrapped by this clock).
    pub fn pair(&self, calls: Vec<ApiCall>) -> Result<Vec<Sent>, String> {
        let stamps = self
            .0
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .map_err(|_| "the clock's lock is poisoned".to_owned())?;
        if stamps.stamps.len() != calls.len() {
            return Err(format!(
                "{} stamps for {} calls: the clock must wrap the app's CallLog",
                stamps.stamps.len(),
                calls.len()
            ));
        }
        Ok(stamps
            .stamps
            .into_iter()
            .zip(calls)
            .map(|(stamp, call)| Sent {
                at: stamp.at,
                call,
                signer: stamps.signers.get(stamp.signer).cloned().unwrap_or(Signer {
                    access_key: String::new(),
                    region: String::new(),
                }),
                names: stamp.names,
            })
            .collect())
    }

    /// Wraps `inner`, the HTTP client the app's CallLog wrapped.
    pub fn wrap(&self, inner: SharedHttpClient) -> SharedHttpClient {
        SharedHttpClient::new(ClockClient {
            inner,
            clock: self.clone(),
        })
    }
}

#[derive(Debug)]
struct ClockClient {
    inner: SharedHttpClient,
    clock: Clock,
}

impl HttpClient for ClockClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(ClockConnector {
            inner: self.inner.http_connector(settings, components),
            clock: self.clock.clone(),
        })
    }
}

#[derive(Debug)]
struct ClockConnector {
    inner: SharedHttpConnector,
    clock: Clock,
}

impl HttpConnector for ClockConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let at = Instant::now();
        let (signer, names) = signer_of(&request);
        match self.clock.0.lock() {
            Ok(mut stamps) => {
                let index = match stamps.signers.iter().position(|s| s == &signer) {
                    Some(index) => index,
                    None => {
                        stamps.signers.push(signer);
                        stamps.signers.len() - 1
                    }
                };
                stamps.stamps.push(Stamp {
                    at,
                    signer: index,
                    names,
                });
                // The CallLog inside records this same request now, under our lock: the
                // stamps and its calls stay in the same order.
                self.inner.call(request)
            }
            Err(_) => self.inner.call(request),
        }
    }
}

/// The credential scope (`Credential=<key>/<date>/<region>/<service>/aws4_request`) and what
/// an EC2 request names.
fn signer_of(request: &HttpRequest) -> (Signer, Names) {
    let scope = request
        .headers()
        .get("authorization")
        .and_then(|auth| auth.split("Credential=").nth(1))
        .unwrap_or_default();
    let mut parts = scope.split('/');
    let access_key = parts.next().unwrap_or_default().to_owned();
    let region = parts.nth(1).unwrap_or_default().to_owned();
    let body = request
        .body()
        .bytes()
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or_default();
    let peering_id = body.split('&').find_map(|pair| {
        pair.strip_prefix("VpcPeeringConnectionId=")
            .or_else(|| pair.strip_prefix("VpcPeeringConnectionId.1="))
            .map(str::to_owned)
    });
    let requester_options = body
        .contains("Action=ModifyVpcPeeringConnectionOptions")
        .then(|| body.contains("RequesterPeeringConnectionOptions"));
    (
        Signer { access_key, region },
        Names {
            peering_id,
            requester_options,
        },
    )
}
