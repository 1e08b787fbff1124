//! From the SDK's errors to [`AwsError`]: the AWS error code is kept, so that throttling,
//! not-found and access-denied stay distinguishable all the way to the retry decision. The one
//! place that reads the SDK's error types.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use peerwire_core::error::{AwsError, AwsErrorKind};

/// Converts any SDK error of `operation`, keeping its code.
pub fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match &err {
        SdkError::ServiceError(service) => {
            let status = Some(service.raw().status().as_u16());
            let meta = service.err();
            AwsError {
                operation,
                kind: AwsErrorKind::classify(meta.code(), status),
                code: meta.code().map(str::to_owned),
                message: meta.message().map(str::to_owned),
            }
        }
        SdkError::DispatchFailure(_) if credential_error_code(&err).is_some() => {
            // The member role could not be assumed: keep STS's code, so that a denied
            // AssumeRole (wrong trust or ExternalId) is permanent, not retried.
            let code = credential_error_code(&err);
            AwsError {
                operation,
                kind: AwsErrorKind::classify(code.as_deref(), None),
                code,
                message: Some(error_chain(&err)),
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => AwsError {
            operation,
            kind: AwsErrorKind::Unavailable,
            code: None,
            message: Some(error_chain(&err)),
        },
        SdkError::ResponseError(resp) => AwsError {
            operation,
            kind: AwsErrorKind::classify(None, Some(resp.raw().status().as_u16())),
            code: None,
            message: Some(error_chain(&err)),
        },
        _ => AwsError {
            operation,
            kind: AwsErrorKind::Other,
            code: None,
            message: Some(error_chain(&err)),
        },
    }
}

/// The STS error code behind a credentials failure, found in the error's source chain.
fn credential_error_code(err: &dyn std::error::Error) -> Option<String> {
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;
    let mut source = err.source();
    while let Some(cause) = source {
        if let Some(sts) = cause.downcast_ref::<AssumeRoleError>() {
            return sts.code().map(str::to_owned);
        }
        source = cause.source();
    }
    None
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
