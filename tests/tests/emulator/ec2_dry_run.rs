//! The `ec2-dry-run` patch (`ec2_dry_run.py`).

use aws_sdk_ec2::types::{IpPermission, IpRange, Tag};
use peerwire_emulator::scenario::REQUESTER_ACCOUNT;

use super::ec2_peering::tags_seen;
use super::ec2_routes::{route_over, route_state};
use super::*;

const EC2_DRY_RUN: &str = "ec2-dry-run";

// ---------------------------------------------------------------------------------------------
// ec2-dry-run

fn postgres_from(cidr: &str) -> IpPermission {
    IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(5432)
        .to_port(5432)
        .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
        .build()
}

#[tokio::test]
async fn ec2_dry_run_answers_dry_run_operation_and_changes_nothing() {
    let (scenario, _emulator) = world(&[]).await;
    let (requester, accepter) = (&scenario.requester.ec2, &scenario.accepter.ec2);
    let pending = scenario.request_peering(&[]).await.unwrap();
    let (_, active) = scenario
        .request_from_new_vpc(REQUESTER_ACCOUNT, "10.8.0.0/16", &[])
        .await
        .unwrap();
    scenario.accept_directly(&active).await.unwrap();
    let table = &scenario.requester.route_tables[0];
    requester
        .create_route()
        .route_table_id(table)
        .destination_cidr_block("10.9.0.0/16")
        .vpc_peering_connection_id(&active)
        .send()
        .await
        .unwrap();
    let group = &scenario.requester.security_group_id;
    let vpc = &scenario.requester.vpc_id;
    let rule = || postgres_from("10.1.0.0/16");

    let answers = [
        (
            "AcceptVpcPeeringConnection",
            refusal(
                accepter
                    .accept_vpc_peering_connection()
                    .vpc_peering_connection_id(&pending)
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "RejectVpcPeeringConnection",
            refusal(
                accepter
                    .reject_vpc_peering_connection()
                    .vpc_peering_connection_id(&pending)
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "CreateRoute",
            refusal(
                requester
                    .create_route()
                    .route_table_id(table)
                    .destination_cidr_block("10.1.0.0/16")
                    .vpc_peering_connection_id(&active)
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "ReplaceRoute",
            refusal(
                requester
                    .replace_route()
                    .route_table_id(table)
                    .destination_cidr_block("10.9.0.0/16")
                    .vpc_peering_connection_id(&pending)
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "DeleteRoute",
            refusal(
                requester
                    .delete_route()
                    .route_table_id(table)
                    .destination_cidr_block("10.9.0.0/16")
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "AuthorizeSecurityGroupIngress",
            refusal(
                requester
                    .authorize_security_group_ingress()
                    .group_id(group)
                    .ip_permissions(rule())
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "AuthorizeSecurityGroupEgress",
            refusal(
                requester
                    .authorize_security_group_egress()
                    .group_id(group)
                    .ip_permissions(rule())
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "RevokeSecurityGroupIngress",
            refusal(
                requester
                    .revoke_security_group_ingress()
                    .group_id(group)
                    .ip_permissions(rule())
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "RevokeSecurityGroupEgress",
            refusal(
                requester
                    .revoke_security_group_egress()
                    .group_id(group)
                    .ip_permissions(rule())
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "ModifyVpcPeeringConnectionOptions",
            refusal(
                requester
                    .modify_vpc_peering_connection_options()
                    .vpc_peering_connection_id(&active)
                    .requester_peering_connection_options(dns_resolution())
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "DescribeVpcPeeringConnections",
            refusal(
                accepter
                    .describe_vpc_peering_connections()
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "DescribeVpcs",
            refusal(requester.describe_vpcs().dry_run(true).send().await),
        ),
        (
            "DescribeRouteTables",
            refusal(requester.describe_route_tables().dry_run(true).send().await),
        ),
        (
            "DescribeSubnets",
            refusal(requester.describe_subnets().dry_run(true).send().await),
        ),
        (
            "DescribeSecurityGroups",
            refusal(
                requester
                    .describe_security_groups()
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "DescribeVpcAttribute",
            refusal(
                requester
                    .describe_vpc_attribute()
                    .vpc_id(vpc)
                    .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "DescribeNetworkAcls",
            refusal(requester.describe_network_acls().dry_run(true).send().await),
        ),
        (
            "CreateTags",
            refusal(
                requester
                    .create_tags()
                    .resources(&active)
                    .tags(Tag::builder().key("k").value("v").build())
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
    ];
    for (action, answer) in &answers {
        assert_eq!(answer, &("DryRunOperation".to_owned(), 412), "{action}");
    }

    // Nothing changed.
    assert_eq!(
        scenario.status(&pending).await.unwrap(),
        "pending-acceptance"
    );
    let routes = requester
        .describe_route_tables()
        .route_table_ids(table)
        .send()
        .await
        .unwrap();
    let routes: Vec<(Option<&str>, Option<&str>)> = routes.route_tables()[0]
        .routes()
        .iter()
        .map(|r| (r.destination_cidr_block(), r.vpc_peering_connection_id()))
        .collect();
    assert!(routes.contains(&(Some("10.9.0.0/16"), Some(active.as_str()))));
    assert!(!routes.iter().any(|r| r.0 == Some("10.1.0.0/16")));
    assert_eq!(
        dns_options(requester, &active).await,
        (Some(false), Some(false))
    );
    assert!(tags_seen(requester, &active).await.is_empty());
}

#[tokio::test]
async fn without_ec2_dry_run_moto_performs_dry_run_calls() {
    let (scenario, _emulator) = world(&[EC2_DRY_RUN]).await;
    let pcx = scenario.request_peering(&[]).await.unwrap();
    scenario
        .accepter
        .ec2
        .accept_vpc_peering_connection()
        .vpc_peering_connection_id(&pcx)
        .dry_run(true)
        .send()
        .await
        .expect("moto ignores DryRun");
    assert_eq!(scenario.status(&pcx).await.unwrap(), "active");
    let table = route_over(&scenario, &pcx).await;
    scenario
        .requester
        .ec2
        .delete_route()
        .route_table_id(&table)
        .destination_cidr_block(&scenario.accepter.cidr)
        .dry_run(true)
        .send()
        .await
        .expect("moto ignores DryRun");
    assert_eq!(
        route_state(&scenario.requester.ec2, &table, &pcx).await,
        None
    );
}
