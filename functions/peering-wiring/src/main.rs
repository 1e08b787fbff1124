//! Lambda `peering-wiring`: makes an active peering carry traffic on both sides: routes in
//! every relevant route table, least-privilege security-group rules, DNS resolution options.
//!
//! Triggers: CloudTrail `AcceptVpcPeeringConnection`, peerwire's "Peering Request Accepted"
//! outcome, and a schedule. All meaning lives in `peerwire::wire`.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use peerwire::wire::handle_wiring_event;
use peerwire::App;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    peerwire::telemetry::init("peering-wiring");
    // Cold start: configuration and clients once, shared by every invocation.
    let app = App::from_env().await?;
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle_wiring_event(app, &event.payload)
            .await
            .map_err(Diagnostic::from)
    }))
    .await
}
