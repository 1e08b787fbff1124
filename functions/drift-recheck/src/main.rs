//! Lambda `drift-recheck`: keeps wired peerings true. Re-checks the peerings of a VPC after
//! CloudTrail EC2 changes (subnets, route tables, routes, rules, options, CIDRs), after RDS
//! failovers and modifications, and on a schedule. All meaning lives in `peerwire::drift`.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use peerwire::drift::handle_drift_event;
use peerwire::App;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    peerwire::telemetry::init("drift-recheck");
    // Cold start: configuration and clients once, shared by every invocation.
    let app = App::from_env().await?;
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle_drift_event(app, &event.payload)
            .await
            .map_err(Diagnostic::from)
    }))
    .await
}
