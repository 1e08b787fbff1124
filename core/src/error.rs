//! Errors of peerwire. AWS errors keep their code, so that throttling, not-found and
//! access-denied stay distinguishable all the way to the Lambda's retry decision.
//!
//! The types are plain data: turning an SDK error into an [`AwsError`] is the adapters' job
//! (`peerwire::aws::error`), so nothing here knows the SDK.

use std::fmt;

use crate::events::EventError;
use crate::policy::PolicyError;

/// What kind of failure an AWS error code stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AwsErrorKind {
    /// `RequestLimitExceeded`, `Throttling*`, `TooManyRequests*`: retry later.
    Throttling,
    /// Any `*.NotFound` / `*NotFound*` code (matched case-insensitively: moto spells
    /// `InvalidVpcPeeringConnectionId.NotFound`, AWS `...ID.NotFound`).
    NotFound,
    /// `AccessDenied*`, `UnauthorizedOperation`, `OperationNotPermitted`, `AuthFailure`.
    AccessDenied,
    /// `RouteLimitExceeded`, `RulesPerSecurityGroupLimitExceeded` and every other
    /// `*LimitExceeded` but the request rate's: a quota of the account is full.
    Quota,
    /// `RouteAlreadyExists`, `InvalidPermission.Duplicate`: the desired state already holds.
    AlreadyExists,
    /// `InvalidStateTransition` and kin: the resource moved on since it was observed.
    InvalidState,
    /// No response or a 5xx: the network, a timeout, or the service.
    Unavailable,
    /// Anything else (validation errors and the like): permanent.
    Other,
}

impl AwsErrorKind {
    /// Classifies an AWS error code; `status` is the HTTP status when known.
    pub fn classify(code: Option<&str>, status: Option<u16>) -> Self {
        let Some(code) = code else {
            return match status {
                Some(s) if s >= 500 => Self::Unavailable,
                Some(429) => Self::Throttling,
                _ => Self::Other,
            };
        };
        let lower = code.to_ascii_lowercase();
        if lower.contains("throttl")
            || lower == "requestlimitexceeded"
            || lower.starts_with("toomanyrequests")
            || lower == "slowdown"
            // Route 53: a change to the same zone is still in flight; retry later.
            || lower == "priorrequestnotcomplete"
        {
            Self::Throttling
        } else if lower.contains("notfound")
            || lower.ends_with(".notfound")
            // Route 53: NoSuchHostedZone, ...
            || lower.starts_with("nosuch")
        {
            Self::NotFound
        } else if lower.starts_with("accessdenied")
            || lower == "unauthorizedoperation"
            || lower == "operationnotpermitted"
            || lower == "authfailure"
            // Route 53: an association without the zone owner's authorization.
            || lower == "notauthorizedexception"
        {
            Self::AccessDenied
        } else if lower.ends_with("limitexceeded")
            || lower.ends_with("limitsexceeded")
            || lower.starts_with("toomany")
        {
            Self::Quota
        } else if lower == "routealreadyexists" || lower == "invalidpermission.duplicate" {
            Self::AlreadyExists
        } else if lower.contains("invalidstatetransition") || lower.contains("incorrectstate") {
            Self::InvalidState
        } else if lower == "internalerror"
            || lower == "internalfailure"
            || lower == "serviceunavailable"
            || lower == "unavailable"
            || status.is_some_and(|s| s >= 500)
        {
            Self::Unavailable
        } else {
            Self::Other
        }
    }
}

/// One failed AWS call, with the operation and the error code AWS returned.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AwsError {
    pub operation: &'static str,
    pub kind: AwsErrorKind,
    pub code: Option<String>,
    pub message: Option<String>,
}

impl AwsError {
    /// Worth retrying the whole invocation: throttling or an unavailable service.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            AwsErrorKind::Throttling | AwsErrorKind::Unavailable
        )
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed", self.operation)?;
        if let Some(code) = &self.code {
            write!(f, ": {code}")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AwsError {}

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("invalid event: {0}")]
    Event(#[from] EventError),
    #[error("invalid policy: {0}")]
    Policy(#[from] PolicyError),
    #[error("configuration: {0}")]
    Config(String),
    /// A peering an event named stayed in a transient state (provisioning, deleting, ...)
    /// longer than the run could wait: retried, by which time it has settled.
    #[error("peering {peering_id} is still {status}; retrying once it settles")]
    NotSettled { peering_id: String, status: String },
    /// AWS answered without a field the API documents as always present.
    #[error("unexpected {operation} response: {detail}")]
    Response {
        operation: &'static str,
        detail: String,
    },
}

impl Error {
    /// Transient errors fail the invocation so that Lambda retries it; everything else is
    /// permanent and is reported as an outcome event instead.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Aws(aws) if aws.is_transient())
            || matches!(self, Self::NotSettled { .. })
    }

    /// AWS refused the caller: a denied action, or a member role that cannot be assumed.
    pub fn is_access_denied(&self) -> bool {
        matches!(self, Self::Aws(aws) if aws.kind == AwsErrorKind::AccessDenied)
    }

    /// A stable type name for Lambda's error report and for outcome events.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Aws(aws) => match aws.kind {
                AwsErrorKind::Throttling => "peerwire.AwsThrottling",
                AwsErrorKind::NotFound => "peerwire.AwsNotFound",
                AwsErrorKind::AccessDenied => "peerwire.AwsAccessDenied",
                AwsErrorKind::Quota => "peerwire.AwsQuota",
                AwsErrorKind::AlreadyExists => "peerwire.AwsAlreadyExists",
                AwsErrorKind::InvalidState => "peerwire.AwsInvalidState",
                AwsErrorKind::Unavailable => "peerwire.AwsUnavailable",
                AwsErrorKind::Other => "peerwire.AwsError",
            },
            Self::Event(_) => "peerwire.InvalidEvent",
            Self::Policy(_) => "peerwire.InvalidPolicy",
            Self::Config(_) => "peerwire.Config",
            Self::NotSettled { .. } => "peerwire.NotSettled",
            Self::Response { .. } => "peerwire.UnexpectedResponse",
        }
    }
}

/// Result of the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::AwsErrorKind::*;
    use super::*;

    #[test]
    fn codes_are_told_apart() {
        let cases = [
            ("RequestLimitExceeded", Throttling),
            ("ThrottlingException", Throttling),
            ("Throttling", Throttling),
            ("InvalidVpcPeeringConnectionID.NotFound", NotFound),
            ("InvalidVpcPeeringConnectionId.NotFound", NotFound),
            ("InvalidRouteTableID.NotFound", NotFound),
            ("InvalidRoute.NotFound", NotFound),
            ("ResourceNotFoundException", NotFound),
            ("UnauthorizedOperation", AccessDenied),
            ("AccessDenied", AccessDenied),
            ("AccessDeniedException", AccessDenied),
            ("OperationNotPermitted", AccessDenied),
            ("RouteAlreadyExists", AlreadyExists),
            ("RouteLimitExceeded", Quota),
            ("RulesPerSecurityGroupLimitExceeded", Quota),
            ("InvalidPermission.Duplicate", AlreadyExists),
            ("NoSuchHostedZone", NotFound),
            ("VPCAssociationNotFound", NotFound),
            ("PriorRequestNotComplete", Throttling),
            ("NotAuthorizedException", AccessDenied),
            ("LimitsExceeded", Quota),
            ("TooManyVPCAssociationAuthorizations", Quota),
            ("InvalidStateTransition", InvalidState),
            ("InternalError", Unavailable),
            ("InvalidParameterValue", Other),
        ];
        for (code, kind) in cases {
            assert_eq!(
                AwsErrorKind::classify(Some(code), Some(400)),
                kind,
                "{code}"
            );
        }
        assert_eq!(AwsErrorKind::classify(None, Some(503)), Unavailable);
        assert_eq!(AwsErrorKind::classify(None, Some(429)), Throttling);
    }

    #[test]
    fn only_throttling_and_unavailable_are_transient() {
        let err = |kind| AwsError {
            operation: "AcceptVpcPeeringConnection",
            kind,
            code: None,
            message: None,
        };
        assert!(err(Throttling).is_transient());
        assert!(err(Unavailable).is_transient());
        for kind in [
            NotFound,
            AccessDenied,
            Quota,
            AlreadyExists,
            InvalidState,
            Other,
        ] {
            assert!(!err(kind).is_transient(), "{kind:?}");
        }
    }
}
