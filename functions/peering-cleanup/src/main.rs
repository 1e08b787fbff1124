//! Lambda `peering-cleanup`: when a peering is deleted or rejected, removes the routes that
//! target it and the security-group rules peerwire made for it, on both sides, and nothing
//! else. All meaning lives in `peerwire::cleanup`.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use peerwire::cleanup::handle_cleanup_event;
use peerwire::App;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    peerwire::telemetry::init("peering-cleanup");
    // Cold start: configuration and clients once, shared by every invocation.
    let app = App::from_env().await?;
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle_cleanup_event(app, &event.payload)
            .await
            .map_err(Diagnostic::from)
    }))
    .await
}
