//! Lambda `peering-request`: accepts, rejects or holds VPC peering requests by policy.
//!
//! Triggers: CloudTrail `CreateVpcPeeringConnection` via EventBridge, a schedule (sweep of
//! pending requests), and `peerwire.approval` events. All meaning lives in `peerwire::request`.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use peerwire::request::handle_request_event;
use peerwire::App;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    peerwire::telemetry::init("peering-request");
    // Cold start: configuration and clients once, shared by every invocation.
    let app = App::from_env().await?;
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle_request_event(app, &event.payload)
            .await
            .map_err(Diagnostic::from)
    }))
    .await
}
