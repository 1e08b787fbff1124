//! Executes plan steps with the credentials of the side that owns each resource.

use crate::error::{AwsError, Result};
use crate::plan::PlanStep;

/// Executes `step` through `ec2`, which must act as the account that owns the resource.
///
/// Errors keep their AWS code: the caller decides whether "already done" or "not found" means
/// converged, re-observe, or fail.
pub async fn execute(ec2: &aws_sdk_ec2::Client, step: &PlanStep) -> Result<()> {
    match step {
        PlanStep::AcceptPeering { peering_id, .. } => {
            ec2.accept_vpc_peering_connection()
                .vpc_peering_connection_id(peering_id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("AcceptVpcPeeringConnection", e))?;
        }
        PlanStep::RejectPeering { peering_id, .. } => {
            ec2.reject_vpc_peering_connection()
                .vpc_peering_connection_id(peering_id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("RejectVpcPeeringConnection", e))?;
        }
    }
    Ok(())
}
