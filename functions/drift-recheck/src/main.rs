//! Lambda `drift-recheck`: keeps wired peerings true. Re-checks the peerings of a VPC after
//! CloudTrail EC2 changes (subnets, route tables, routes, rules, options, CIDRs), after RDS
//! failovers and modifications, and on a schedule. All meaning lives in `peerwire::doors`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    peerwire::doors::serve(peerwire::doors::Door::Drift).await
}
