//! What a person does to one side of the scenario by hand, and what that side's owner reads
//! back: each helper is one row of the troubleshooting table set up (a secondary CIDR, a new
//! subnet with its own table, a deleted route, a revoked rule, a NACL deny, ...), or one view
//! of the side (its routes, its rules), with the side's own credentials.

use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, PeeringConnectionOptionsRequest, PortRange, RouteTable,
    RuleAction, SecurityGroup, Tag,
};

use super::{new_id, own_route_table, seed_err, Scenario, Side, ACCEPTER_ACCOUNT, DB_PORT};
use crate::{EmulatorError, REGION};

/// One rule of a group as its owner reads it: (protocol, from port, to port, peer,
/// description); the peer is a CIDR or `account/group`.
pub type RuleRow = (String, i32, i32, String, String);

/// TCP `port` from (or to) `cidr`, with a description when given.
pub(crate) fn tcp_permission(port: i32, cidr: &str, description: Option<&str>) -> IpPermission {
    IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port)
        .ip_ranges(
            IpRange::builder()
                .cidr_ip(cidr)
                .set_description(description.map(str::to_owned))
                .build(),
        )
        .build()
}

/// Every protocol to or from anywhere: a new group's default egress rule.
pub(crate) fn all_traffic_anywhere() -> IpPermission {
    IpPermission::builder()
        .ip_protocol("-1")
        .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
        .build()
}

/// Waits for one call made by hand; its error names `operation`.
async fn sent<T, E: std::error::Error>(
    operation: &str,
    call: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, EmulatorError> {
    call.await.map_err(|e| seed_err(operation, e))
}

impl Side {
    // ---- the VPC and its subnets

    /// Associates a secondary `cidr` with the VPC (the VPC grows).
    pub async fn associate_cidr(&self, cidr: &str) -> Result<(), EmulatorError> {
        let call = self.ec2.associate_vpc_cidr_block().vpc_id(&self.vpc_id);
        sent("AssociateVpcCidrBlock", call.cidr_block(cidr).send()).await?;
        Ok(())
    }

    /// A new subnet with `cidr` in `zone` (e.g. `us-east-1d`), on the main route table; its id.
    pub async fn add_subnet(&self, cidr: &str, zone: &str) -> Result<String, EmulatorError> {
        super::create_subnet(&self.ec2, &self.vpc_id, cidr, zone).await
    }

    /// A new subnet with `cidr` in `zone`, associated with a new route table of its own:
    /// (subnet id, table id).
    pub async fn add_subnet_with_table(
        &self,
        cidr: &str,
        zone: &str,
    ) -> Result<(String, String), EmulatorError> {
        let subnet = self.add_subnet(cidr, zone).await?;
        let table = own_route_table(&self.ec2, &self.vpc_id, &subnet).await?;
        Ok((subnet, table))
    }

    // ---- route tables

    /// A new route table of the VPC, associated with nothing (a bare table); its id.
    pub async fn new_route_table(&self) -> Result<String, EmulatorError> {
        super::create_route_table(&self.ec2, &self.vpc_id).await
    }

    /// Associates `subnet` (served by the main table) with `table`.
    pub async fn associate_route_table(
        &self,
        table: &str,
        subnet: &str,
    ) -> Result<(), EmulatorError> {
        super::associate_route_table(&self.ec2, table, subnet).await
    }

    /// The id of the first subnet association of `table`.
    async fn association_of(&self, table: &str) -> Result<String, EmulatorError> {
        let call = self.ec2.describe_route_tables().route_table_ids(table);
        let described = sent("DescribeRouteTables", call.send()).await?;
        let association = described.route_tables().first().and_then(|t| {
            t.associations()
                .first()
                .and_then(|a| a.route_table_association_id())
        });
        association
            .map(str::to_owned)
            .ok_or_else(|| EmulatorError::Seed(format!("{table} serves no subnet")))
    }

    /// Moves the subnet `from` serves to `to`, unannounced (ReplaceRouteTableAssociation).
    pub async fn move_subnet(&self, from: &str, to: &str) -> Result<(), EmulatorError> {
        let association = self.association_of(from).await?;
        let replace = self.ec2.replace_route_table_association();
        let call = replace.association_id(association).route_table_id(to);
        sent("ReplaceRouteTableAssociation", call.send()).await?;
        Ok(())
    }

    /// Moves the subnet `table` serves back to the main table, then deletes `table`.
    pub async fn delete_route_table(&self, table: &str) -> Result<(), EmulatorError> {
        let association = self.association_of(table).await?;
        let ec2 = &self.ec2;
        let call = ec2.disassociate_route_table().association_id(association);
        sent("DisassociateRouteTable", call.send()).await?;
        let call = ec2.delete_route_table().route_table_id(table);
        sent("DeleteRouteTable", call.send()).await?;
        Ok(())
    }

    /// Every route table of the VPC, as its owner describes them (one filtered describe).
    pub async fn route_tables(&self) -> Result<Vec<RouteTable>, EmulatorError> {
        let call = self.ec2.describe_route_tables().filters(self.in_vpc());
        Ok(sent("DescribeRouteTables", call.send())
            .await?
            .route_tables()
            .to_vec())
    }

    /// (destination, target) of every IPv4 route of `table` through a peering, a gateway
    /// (`local` included) or a transit gateway.
    pub async fn routes(&self, table: &str) -> Result<Vec<(String, String)>, EmulatorError> {
        let call = self.ec2.describe_route_tables().route_table_ids(table);
        let described = sent("DescribeRouteTables", call.send()).await?;
        let routes = described.route_tables().iter().flat_map(|t| t.routes());
        Ok(routes
            .filter_map(|r| {
                let target = r
                    .vpc_peering_connection_id()
                    .or(r.gateway_id())
                    .or(r.transit_gateway_id())?;
                Some((r.destination_cidr_block()?.to_owned(), target.to_owned()))
            })
            .collect())
    }

    /// The destinations `table` sends through `pcx`.
    pub async fn destinations_via(
        &self,
        table: &str,
        pcx: &str,
    ) -> Result<Vec<String>, EmulatorError> {
        let routes = self.routes(table).await?.into_iter();
        Ok(routes.filter(|(_, t)| t == pcx).map(|(d, _)| d).collect())
    }

    /// How many routes of every table of the account (not only the VPC's) still go through
    /// `pcx`.
    pub async fn routes_via(&self, pcx: &str) -> Result<usize, EmulatorError> {
        let described = sent(
            "DescribeRouteTables",
            self.ec2.describe_route_tables().send(),
        )
        .await?;
        let routes = described.route_tables().iter().flat_map(|t| t.routes());
        Ok(routes
            .filter(|r| r.vpc_peering_connection_id() == Some(pcx))
            .count())
    }

    /// A route to `destination` through the peering `pcx`, added by hand.
    pub async fn route_via_peering(
        &self,
        table: &str,
        destination: &str,
        pcx: &str,
    ) -> Result<(), EmulatorError> {
        let call = self
            .new_route(table, destination)
            .vpc_peering_connection_id(pcx);
        sent("CreateRoute", call.send()).await?;
        Ok(())
    }

    /// A route to `destination` through the gateway `gateway` (`local` included).
    pub async fn route_via_gateway(
        &self,
        table: &str,
        destination: &str,
        gateway: &str,
    ) -> Result<(), EmulatorError> {
        let call = self.new_route(table, destination).gateway_id(gateway);
        sent("CreateRoute", call.send()).await?;
        Ok(())
    }

    /// A new transit gateway, and a route to `destination` through it in `table`: the
    /// corporate network already reaching the peer's range. Returns the transit gateway id.
    pub async fn route_via_new_transit_gateway(
        &self,
        table: &str,
        destination: &str,
    ) -> Result<String, EmulatorError> {
        let created = sent(
            "CreateTransitGateway",
            self.ec2.create_transit_gateway().send(),
        )
        .await?;
        let tgw = created
            .transit_gateway()
            .and_then(|t| t.transit_gateway_id());
        let tgw = new_id("CreateTransitGateway", tgw)?;
        let call = self.new_route(table, destination).transit_gateway_id(&tgw);
        sent("CreateRoute", call.send()).await?;
        Ok(tgw)
    }

    /// `CreateRoute` in `table` to `destination`, its target still to set.
    fn new_route(
        &self,
        table: &str,
        destination: &str,
    ) -> aws_sdk_ec2::operation::create_route::builders::CreateRouteFluentBuilder {
        let call = self.ec2.create_route().route_table_id(table);
        call.destination_cidr_block(destination)
    }

    /// Deletes the route to `destination` from `table`, out of band.
    pub async fn delete_route(&self, table: &str, destination: &str) -> Result<(), EmulatorError> {
        let call = self.ec2.delete_route().route_table_id(table);
        sent(
            "DeleteRoute",
            call.destination_cidr_block(destination).send(),
        )
        .await?;
        Ok(())
    }

    // ---- security groups

    /// Every security group of the VPC (one filtered describe).
    pub async fn security_groups(&self) -> Result<Vec<SecurityGroup>, EmulatorError> {
        let call = self.ec2.describe_security_groups().filters(self.in_vpc());
        let described = sent("DescribeSecurityGroups", call.send()).await?;
        Ok(described.security_groups().to_vec())
    }

    /// The side's tagged group (ECS tasks or the DB), as its owner describes it.
    pub async fn security_group(&self) -> Result<SecurityGroup, EmulatorError> {
        let id = &self.security_group_id;
        let call = self.ec2.describe_security_groups().group_ids(id);
        let described = sent("DescribeSecurityGroups", call.send()).await?;
        let group = described.security_groups().first().cloned();
        group.ok_or_else(|| EmulatorError::Seed(format!("no group {id}")))
    }

    /// The inbound rules of the tagged group, one row per CIDR or group.
    pub async fn ingress_rules(&self) -> Result<Vec<RuleRow>, EmulatorError> {
        Ok(rule_rows(self.security_group().await?.ip_permissions()))
    }

    /// The outbound rules of the tagged group, one row per CIDR or group.
    pub async fn egress_rules(&self) -> Result<Vec<RuleRow>, EmulatorError> {
        Ok(rule_rows(
            self.security_group().await?.ip_permissions_egress(),
        ))
    }

    /// The descriptions of the tagged group's inbound CIDR rules.
    pub async fn ingress_descriptions(&self) -> Result<Vec<String>, EmulatorError> {
        let group = self.security_group().await?;
        let ranges = group.ip_permissions().iter().flat_map(|p| p.ip_ranges());
        Ok(ranges
            .map(|r| r.description().unwrap_or_default().to_owned())
            .collect())
    }

    /// A person opens TCP `port` from `cidr` in the tagged group, with `description`.
    pub async fn authorize_tcp_ingress(
        &self,
        port: i32,
        cidr: &str,
        description: &str,
    ) -> Result<(), EmulatorError> {
        let call = self.ec2.authorize_security_group_ingress();
        let call = call.group_id(&self.security_group_id);
        let rule = tcp_permission(port, cidr, Some(description));
        sent(
            "AuthorizeSecurityGroupIngress",
            call.ip_permissions(rule).send(),
        )
        .await?;
        Ok(())
    }

    /// A person revokes TCP `port` from `cidr` in the tagged group.
    pub async fn revoke_tcp_ingress(&self, port: i32, cidr: &str) -> Result<(), EmulatorError> {
        let call = self.ec2.revoke_security_group_ingress();
        let call = call.group_id(&self.security_group_id);
        let rule = tcp_permission(port, cidr, None);
        sent(
            "RevokeSecurityGroupIngress",
            call.ip_permissions(rule).send(),
        )
        .await?;
        Ok(())
    }

    /// The tagged group loses its default allow-all egress rule (a locked-down group).
    pub async fn revoke_default_egress(&self) -> Result<(), EmulatorError> {
        let call = self.ec2.revoke_security_group_egress();
        let call = call.group_id(&self.security_group_id);
        let rule = all_traffic_anywhere();
        sent(
            "RevokeSecurityGroupEgress",
            call.ip_permissions(rule).send(),
        )
        .await?;
        Ok(())
    }

    // ---- network ACLs

    /// The VPC's default network ACL.
    pub async fn default_network_acl(&self) -> Result<String, EmulatorError> {
        let call = self.ec2.describe_network_acls().filters(self.in_vpc());
        let call = call.filters(Filter::builder().name("default").values("true").build());
        let described = sent("DescribeNetworkAcls", call.send()).await?;
        let acl = described
            .network_acls()
            .first()
            .and_then(|a| a.network_acl_id());
        let vpc = &self.vpc_id;
        acl.map(str::to_owned)
            .ok_or_else(|| EmulatorError::Seed(format!("{vpc} has no default ACL")))
    }

    /// A new network ACL of the VPC (denying everything but what is added); its id.
    pub async fn new_network_acl(&self) -> Result<String, EmulatorError> {
        let call = self.ec2.create_network_acl().vpc_id(&self.vpc_id);
        let created = sent("CreateNetworkAcl", call.send()).await?;
        let acl = created.network_acl().and_then(|a| a.network_acl_id());
        new_id("CreateNetworkAcl", acl)
    }

    /// Rule `rule` of `acl`: inbound TCP `port` from `cidr`, allowed or denied.
    pub async fn inbound_tcp_entry(
        &self,
        acl: &str,
        rule: i32,
        action: RuleAction,
        port: i32,
        cidr: &str,
    ) -> Result<(), EmulatorError> {
        let entry = self.ec2.create_network_acl_entry().network_acl_id(acl);
        let entry = entry.rule_number(rule).egress(false).protocol("6");
        let entry = entry.rule_action(action).cidr_block(cidr);
        let ports = PortRange::builder().from(port).to(port).build();
        sent("CreateNetworkAclEntry", entry.port_range(ports).send()).await?;
        Ok(())
    }

    /// Moves `subnet` to `acl` (ReplaceNetworkAclAssociation).
    pub async fn move_subnet_to_acl(&self, subnet: &str, acl: &str) -> Result<(), EmulatorError> {
        let serving = Filter::builder()
            .name("association.subnet-id")
            .values(subnet);
        let call = self.ec2.describe_network_acls().filters(serving.build());
        let described = sent("DescribeNetworkAcls", call.send()).await?;
        let associations = described
            .network_acls()
            .iter()
            .flat_map(|a| a.associations());
        let association = associations
            .filter(|a| a.subnet_id() == Some(subnet))
            .find_map(|a| a.network_acl_association_id())
            .ok_or_else(|| EmulatorError::Seed(format!("{subnet} has no ACL")))?;
        let replace = self.ec2.replace_network_acl_association();
        let replaced = replace
            .association_id(association)
            .network_acl_id(acl)
            .send();
        sent("ReplaceNetworkAclAssociation", replaced).await?;
        Ok(())
    }

    // ---- the peering, as this side's owner

    /// Tags `pcx` in this owner's own view.
    pub async fn tag_peering(
        &self,
        pcx: &str,
        key: &str,
        value: &str,
    ) -> Result<(), EmulatorError> {
        let tag = Tag::builder().key(key).value(value).build();
        let call = self.ec2.create_tags().resources(pcx).tags(tag);
        sent("CreateTags", call.send()).await?;
        Ok(())
    }

    /// A new virtual private gateway, attached to this side's VPC: its id.
    pub async fn attached_vpn_gateway(&self) -> Result<String, EmulatorError> {
        let created = sent(
            "CreateVpnGateway",
            self.ec2
                .create_vpn_gateway()
                .r#type(aws_sdk_ec2::types::GatewayType::Ipsec1)
                .send(),
        )
        .await?;
        let vgw = created
            .vpn_gateway()
            .and_then(|g| g.vpn_gateway_id())
            .unwrap_or_default()
            .to_owned();
        let attach = self.ec2.attach_vpn_gateway().vpn_gateway_id(&vgw);
        sent("AttachVpnGateway", attach.vpc_id(&self.vpc_id).send()).await?;
        Ok(vgw)
    }

    /// Turns this side's `AllowDnsResolutionFromRemoteVpc` of `pcx` on or off.
    pub async fn set_remote_dns_resolution(
        &self,
        pcx: &str,
        on: bool,
    ) -> Result<(), EmulatorError> {
        let options = PeeringConnectionOptionsRequest::builder()
            .allow_dns_resolution_from_remote_vpc(on)
            .build();
        let call = self.ec2.modify_vpc_peering_connection_options();
        let call = call.vpc_peering_connection_id(pcx);
        let call = match self.role {
            peerwire::model::Side::Requester => call.requester_peering_connection_options(options),
            peerwire::model::Side::Accepter => call.accepter_peering_connection_options(options),
        };
        sent("ModifyVpcPeeringConnectionOptions", call.send()).await?;
        Ok(())
    }

    /// `AllowDnsResolutionFromRemoteVpc` of `pcx` as this owner reads it: (requester side,
    /// accepter side); `None` when it describes no such peering.
    pub async fn dns_options(&self, pcx: &str) -> Result<Option<(bool, bool)>, EmulatorError> {
        let call = self.ec2.describe_vpc_peering_connections();
        let call = call.vpc_peering_connection_ids(pcx);
        let described = sent("DescribeVpcPeeringConnections", call.send()).await?;
        let on = |info: Option<&aws_sdk_ec2::types::VpcPeeringConnectionVpcInfo>| {
            let options = info.and_then(|i| i.peering_options());
            options
                .and_then(|o| o.allow_dns_resolution_from_remote_vpc())
                .unwrap_or(false)
        };
        let peering = described.vpc_peering_connections().first();
        Ok(peering.map(|p| (on(p.requester_vpc_info()), on(p.accepter_vpc_info()))))
    }

    /// Only this side's VPC.
    fn in_vpc(&self) -> Filter {
        Filter::builder()
            .name("vpc-id")
            .values(&self.vpc_id)
            .build()
    }
}

impl Scenario {
    /// A request tagged `tags`, accepted by a person (no peerwire involved): an active
    /// peering, not wired.
    pub async fn accepted_peering(&self, tags: &[(&str, &str)]) -> Result<String, EmulatorError> {
        let pcx = self.request_peering(tags).await?;
        self.accept_directly(&pcx).await?;
        Ok(pcx)
    }

    /// The requester deletes `peering_id`.
    pub async fn delete_peering(&self, peering_id: &str) -> Result<(), EmulatorError> {
        let call = self.requester.ec2.delete_vpc_peering_connection();
        let call = call.vpc_peering_connection_id(peering_id).send();
        sent("DeleteVpcPeeringConnection", call).await?;
        Ok(())
    }

    /// The accepter rejects `peering_id` directly, as a person would.
    pub async fn reject_peering(&self, peering_id: &str) -> Result<(), EmulatorError> {
        let call = self.accepter.ec2.reject_vpc_peering_connection();
        let call = call.vpc_peering_connection_id(peering_id).send();
        sent("RejectVpcPeeringConnection", call).await?;
        Ok(())
    }

    /// The DB group loses its rule for the database port from the requester VPC.
    pub async fn revoke_db_ingress(&self) -> Result<(), EmulatorError> {
        let requester = &self.requester.cidr;
        self.accepter.revoke_tcp_ingress(DB_PORT, requester).await
    }

    /// RDS fails the Multi-AZ instance `id` over to its standby.
    pub async fn fail_over_db(&self, id: &str) -> Result<(), EmulatorError> {
        let rds = self.seeder.rds(ACCEPTER_ACCOUNT, REGION).await?;
        let call = rds.reboot_db_instance().db_instance_identifier(id);
        sent("RebootDBInstance", call.force_failover(true).send()).await?;
        Ok(())
    }
}

/// One row per CIDR and per group pair of `permissions` (IPv6 ranges are not listed).
fn rule_rows(permissions: &[IpPermission]) -> Vec<RuleRow> {
    let mut rows = Vec::new();
    for p in permissions {
        let proto = p.ip_protocol().unwrap_or_default().to_owned();
        let (from, to) = (p.from_port().unwrap_or(-1), p.to_port().unwrap_or(-1));
        for r in p.ip_ranges() {
            rows.push((
                proto.clone(),
                from,
                to,
                r.cidr_ip().unwrap_or_default().to_owned(),
                r.description().unwrap_or_default().to_owned(),
            ));
        }
        for g in p.user_id_group_pairs() {
            rows.push((
                proto.clone(),
                from,
                to,
                format!(
                    "{}/{}",
                    g.user_id().unwrap_or_default(),
                    g.group_id().unwrap_or_default()
                ),
                g.description().unwrap_or_default().to_owned(),
            ));
        }
    }
    rows
}
