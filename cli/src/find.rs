//! Where the CLI looks for a peering it is given only the id of.

use peerwire::aws::observe;
use peerwire::model::{AccountId, Location, Peering, PeeringId, PeeringRef, Region};
use peerwire::policy::Policy;
use peerwire::{App, Result};

/// `(account, region)` pairs to try, in order. With `account`, that account in `region`, else
/// in the policy's regions for it, else in `default_region`; without, every accepter account
/// of the policy in its regions (only `region` when given).
pub fn candidates(
    policy: &Policy,
    account: Option<&AccountId>,
    region: Option<&Region>,
    default_region: Option<&Region>,
) -> Vec<(AccountId, Region)> {
    let mut out: Vec<(AccountId, Region)> = Vec::new();
    let mut push = |a: &AccountId, r: &Region| {
        let pair = (a.clone(), r.clone());
        if !out.contains(&pair) {
            out.push(pair);
        }
    };
    match (account, region) {
        (Some(account), Some(region)) => push(account, region),
        (Some(account), None) => {
            let policy_regions = policy
                .accepter_regions()
                .into_iter()
                .filter(|(a, _)| a == account)
                .map(|(_, r)| r);
            for r in policy_regions.chain(default_region.cloned()) {
                push(account, &r);
            }
        }
        (None, region) => {
            for (a, r) in policy.accepter_regions() {
                if region.is_none_or(|wanted| wanted == &r) {
                    push(&a, &r);
                }
            }
            if let Some(region) = region {
                for scope in &policy.accepters {
                    push(&scope.account, region);
                }
            }
        }
    }
    out
}

/// The peering as the first of `candidates` that sees it describes it, with where it was
/// found. `None` when none does.
pub async fn peering(
    app: &App,
    peering_id: &PeeringId,
    candidates: &[(AccountId, Region)],
) -> Result<Option<(Peering, PeeringRef)>> {
    for (account, region) in candidates {
        let at = Location::new(account.clone(), region.clone());
        let ec2 = app.aws.ec2(&at).await;
        if let Some(peering) = observe::describe_peering(&ec2, &at, peering_id).await? {
            let found = PeeringRef {
                peering_id: peering_id.clone(),
                account: account.clone(),
                region: region.clone(),
            };
            return Ok(Some((peering, found)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use peerwire::testing::{id, policy};

    use super::*;

    #[test]
    fn an_account_and_region_given_are_the_only_place_looked() {
        let p = policy(peerwire::testing::ECS_TO_RDS);
        let found = candidates(&p, Some(&id("333333333333")), Some(&id("eu-west-1")), None);
        assert_eq!(found, vec![(id("333333333333"), id("eu-west-1"))]);
    }

    #[test]
    fn an_account_without_a_region_is_tried_in_its_policy_regions_then_the_default() {
        let p = policy(peerwire::testing::ECS_TO_RDS);
        let requester = id(peerwire::testing::REQUESTER);
        let found = candidates(&p, Some(&requester), None, Some(&id("eu-west-1")));
        assert_eq!(found, vec![(requester, id("eu-west-1"))]);
        let accepter = id(peerwire::testing::ACCEPTER);
        let found = candidates(&p, Some(&accepter), None, Some(&id("us-east-1")));
        assert_eq!(found, vec![(accepter, id("us-east-1"))]);
    }

    #[test]
    fn without_an_account_every_accepter_scope_is_tried() {
        let p = policy(peerwire::testing::ECS_TO_RDS);
        assert_eq!(
            candidates(&p, None, None, None),
            vec![(id("222222222222"), id("us-east-1"))]
        );
        let found = candidates(&p, None, Some(&id("eu-west-1")), None);
        assert_eq!(found, vec![(id("222222222222"), id("eu-west-1"))]);
    }
}
