//! Every AWS call peerwire makes, counted at the HTTP layer.
//!
//! The recorder wraps the SDK's HTTP client, so it sees what really goes on the wire: STS calls
//! made by the assume-role credential provider and each retry attempt included. Tests assert
//! exact call counts with it, and every invocation logs its totals.

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// One HTTP request to an AWS API.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiCall {
    /// The signing name from the SigV4 credential scope: `ec2`, `sts`, `events`, `ssm`.
    pub service: String,
    /// The API action, e.g. `DescribeRouteTables`.
    pub operation: String,
}

impl ApiCall {
    /// Whether the call changes state. STS and every `Describe*`/`Get*`/`List*`/`Filter*` are
    /// reads.
    pub fn is_write(&self) -> bool {
        !(self.service == "sts"
            || ["Describe", "Get", "List", "Filter"]
                .iter()
                .any(|prefix| self.operation.starts_with(prefix)))
    }
}

/// A shared, append-only log of [`ApiCall`]s.
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<Vec<ApiCall>>>);

impl CallLog {
    /// A snapshot of every call so far, in order.
    pub fn calls(&self) -> Vec<ApiCall> {
        self.0.lock().map(|calls| calls.clone()).unwrap_or_default()
    }

    /// Empties the log and returns what it held.
    pub fn take(&self) -> Vec<ApiCall> {
        self.0
            .lock()
            .map(|mut calls| std::mem::take(&mut *calls))
            .unwrap_or_default()
    }

    /// How many calls are logged.
    pub fn len(&self) -> usize {
        self.0.lock().map(|calls| calls.len()).unwrap_or_default()
    }

    /// Whether no call is logged.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many calls of `operation` were made.
    pub fn count(&self, operation: &str) -> usize {
        self.calls()
            .iter()
            .filter(|call| call.operation == operation)
            .count()
    }

    /// The EC2 calls that change state.
    pub fn ec2_writes(&self) -> Vec<ApiCall> {
        self.calls()
            .into_iter()
            .filter(|call| call.service == "ec2" && call.is_write())
            .collect()
    }

    fn push(&self, call: ApiCall) {
        if let Ok(mut calls) = self.0.lock() {
            calls.push(call);
        }
    }

    /// Wraps `inner` so that every request it sends is recorded here.
    pub fn wrap(&self, inner: SharedHttpClient) -> SharedHttpClient {
        SharedHttpClient::new(RecordingClient {
            inner,
            log: self.clone(),
        })
    }
}

#[derive(Debug)]
struct RecordingClient {
    inner: SharedHttpClient,
    log: CallLog,
}

impl HttpClient for RecordingClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(RecordingConnector {
            inner: self.inner.http_connector(settings, components),
            log: self.log.clone(),
        })
    }
}

#[derive(Debug)]
struct RecordingConnector {
    inner: SharedHttpConnector,
    log: CallLog,
}

impl HttpConnector for RecordingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        self.log.push(identify(&request));
        self.inner.call(request)
    }
}

/// Route 53 is the one REST service peerwire calls: its operation is the method and path.
fn route53_operation(method: &str, uri: &str) -> Option<&'static str> {
    // https://route53.amazonaws.com/2013-04-01/<collection>[/<id>[/<action>]][?query]
    let path = match uri.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => uri,
    };
    let parts: Vec<&str> = path
        .split('?')
        .next()?
        .trim_matches('/')
        .split('/')
        .collect();
    let operation = match (method, &parts[1..]) {
        ("GET", ["hostedzone", _]) => "GetHostedZone",
        ("GET", ["hostedzone"]) => "ListHostedZones",
        ("POST", ["hostedzone"]) => "CreateHostedZone",
        ("GET", ["hostedzonesbyvpc"]) => "ListHostedZonesByVPC",
        ("GET", ["hostedzone", _, "rrset"]) => "ListResourceRecordSets",
        ("POST", ["hostedzone", _, "authorizevpcassociation"]) => {
            "CreateVPCAssociationAuthorization"
        }
        ("GET", ["hostedzone", _, "authorizevpcassociation"]) => "ListVPCAssociationAuthorizations",
        ("POST", ["hostedzone", _, "deauthorizevpcassociation"]) => {
            "DeleteVPCAssociationAuthorization"
        }
        ("POST", ["hostedzone", _, "associatevpc"]) => "AssociateVPCWithHostedZone",
        ("POST", ["hostedzone", _, "disassociatevpc"]) => "DisassociateVPCFromHostedZone",
        ("POST", ["tags", _]) => "ListTagsForResources",
        ("GET", ["tags", _, _]) => "ListTagsForResource",
        ("POST", ["tags", _, _]) => "ChangeTagsForResource",
        _ => return None,
    };
    Some(operation)
}

/// Names the API call in a signed request: JSON protocols carry `X-Amz-Target`
/// (`AWSEvents.PutEvents`), query protocols (EC2, STS) an `Action=` form field, and Route 53
/// (REST) its method and path.
pub(crate) fn identify(request: &HttpRequest) -> ApiCall {
    let headers = request.headers();
    let service = headers
        .get("authorization")
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|scope| scope.split('/').nth(3))
        .unwrap_or("unknown")
        .to_owned();
    let operation = headers
        .get("x-amz-target")
        .and_then(|target| target.rsplit('.').next())
        .map(str::to_owned)
        .or_else(|| {
            let body = std::str::from_utf8(request.body().bytes()?).ok()?;
            body.split('&')
                .find_map(|pair| pair.strip_prefix("Action="))
                .map(str::to_owned)
        })
        .or_else(|| {
            (service == "route53")
                .then(|| route53_operation(request.method(), request.uri()))
                .flatten()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown".to_owned());
    ApiCall { service, operation }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes() {
        let call = |service: &str, operation: &str| ApiCall {
            service: service.into(),
            operation: operation.into(),
        };
        assert!(!call("ec2", "DescribeRouteTables").is_write());
        assert!(!call("sts", "AssumeRole").is_write());
        assert!(!call("ssm", "GetParameter").is_write());
        assert!(call("ec2", "AcceptVpcPeeringConnection").is_write());
        assert!(call("ec2", "CreateRoute").is_write());
        assert!(call("events", "PutEvents").is_write());
    }

    #[test]
    fn route53_operations_are_named_from_method_and_path() {
        let host = "https://route53.amazonaws.com/2013-04-01";
        let cases = [
            ("GET", "/hostedzone/Z123", Some("GetHostedZone")),
            (
                "POST",
                "/hostedzone/Z123/associatevpc",
                Some("AssociateVPCWithHostedZone"),
            ),
            (
                "POST",
                "/hostedzone/Z123/deauthorizevpcassociation",
                Some("DeleteVPCAssociationAuthorization"),
            ),
            ("POST", "/tags/hostedzone", Some("ListTagsForResources")),
            (
                "POST",
                "/tags/hostedzone/Z123",
                Some("ChangeTagsForResource"),
            ),
            (
                "GET",
                "/hostedzone/Z123/rrset?maxitems=300",
                Some("ListResourceRecordSets"),
            ),
            ("DELETE", "/hostedzone/Z123", None),
        ];
        for (method, path, operation) in cases {
            assert_eq!(
                route53_operation(method, &format!("{host}{path}")),
                operation,
                "{method} {path}"
            );
        }
        let call = ApiCall {
            service: "route53".into(),
            operation: "ChangeTagsForResource".into(),
        };
        assert!(call.is_write());
    }
}
