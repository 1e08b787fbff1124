//! Lambda `peering-wiring`: makes an active peering carry traffic on both sides: routes in
//! every relevant route table, least-privilege security-group rules, DNS resolution options.
//!
//! Triggers: CloudTrail `AcceptVpcPeeringConnection`, peerwire's "Peering Request Accepted"
//! outcome, and a schedule. All meaning lives in `peerwire::doors`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    peerwire::doors::serve(peerwire::doors::Door::Wiring).await
}
