//! Lambda `peering-request`: accepts, rejects or holds VPC peering requests by policy.
//!
//! Triggers: CloudTrail `CreateVpcPeeringConnection` via EventBridge, a schedule (sweep of
//! pending requests), and `peerwire.approval` events. All meaning lives in `peerwire::doors`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    peerwire::doors::serve(peerwire::doors::Door::Request).await
}
