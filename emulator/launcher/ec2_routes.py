"""EC2 route tables: blackhole routes to a peering that is not active (and the `route.state`
filter), the routes-per-table quota, and routes propagated by a virtual private gateway.
"""

import ipaddress

from moto.ec2.exceptions import EC2ClientError

from .ec2_peering import _peering_visible_to
from .registry import patch
from .settings import SETTINGS


@patch("route-blackhole")
def _route_blackhole() -> None:
    """AWS: a route whose target VPC peering is not `active` shows `State: blackhole` in
    DescribeRouteTables. VPC Peering Guide, "Update your route tables for a VPC peering
    connection": "You can add a route for a VPC peering connection that's in the
    pending-acceptance state. However, the route has a state of blackhole, and has no effect until
    the VPC peering connection is in the active state." The same holds for a peering that is
    deleted, rejected, failed or expired, or no longer known to the table's account (Route,
    "blackhole: the route's target isn't available"). The `route.state` filter (`active` |
    `blackhole`) selects by it; `route.vpc-peering-connection-id` still matches. CreateRoute
    through a pending-acceptance peering is allowed (moto already allows it). moto: every route is
    `active` forever, and a `route.state` filter is an HTTP 500 (filter not implemented)."""
    from moto.ec2.models.route_tables import Route, RouteTable

    def state(self) -> str:
        pcx = self.vpc_pcx
        if pcx is None:
            return "active"
        owner = self.route_table.ec2_backend.account_id
        live = pcx._status.code == "active" and _peering_visible_to(pcx, owner)
        return "active" if live else "blackhole"

    Route.state = property(state)
    original_filter_value = RouteTable.get_filter_value

    def get_filter_value(self, filter_name, method_name=None):
        if filter_name == "route.state":
            return [route.state for route in self.routes]
        return original_filter_value(self, filter_name, method_name)

    RouteTable.get_filter_value = get_filter_value


@patch("route-quota")
def _route_quota() -> None:
    """AWS (Amazon VPC User Guide, "Amazon VPC quotas", Route tables): routes per route table
    (non-propagated), default 50 (quota L-93826ACB), enforced separately for IPv4 and IPv6 routes;
    CreateRoute past it is `RouteLimitExceeded` "The maximum number of routes has been reached."
    The local routes AWS creates with the table are not counted here. Setting
    `routes_per_table`. moto: no limit."""
    from moto.ec2.models.route_tables import RouteBackend

    original = RouteBackend.create_route

    def create_route(self, route_table_id, destination_cidr_block, destination_ipv6_cidr_block=None, *args, **kwargs):
        if not kwargs.get("local") and not (len(args) > 1 and args[1]):
            table = self.get_route_table(route_table_id)
            ipv6 = bool(destination_ipv6_cidr_block)
            same_family = [
                r for r in table._routes.values() if not r.local and bool(r.destination_ipv6_cidr_block) == ipv6
            ]
            if len(same_family) >= SETTINGS["routes_per_table"]:
                raise EC2ClientError("RouteLimitExceeded", "The maximum number of routes has been reached.")
        return original(self, route_table_id, destination_cidr_block, destination_ipv6_cidr_block, *args, **kwargs)

    RouteBackend.create_route = create_route


def _same_destination(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    try:
        return ipaddress.ip_network(a, strict=False) == ipaddress.ip_network(b, strict=False)
    except ValueError:
        return a == b


def _propagating_vgws(table) -> list[str]:
    """The VGW ids propagating into a moto RouteTable, in the order they were enabled."""
    return table.__dict__.setdefault("_pw_vgws", [])


def _propagated_routes(table) -> list:
    """The routes each propagating VGW puts in `table` now: one per prefix it advertises
    (`vgw_advertised_routes`), while it is attached to the table's VPC."""
    from moto.ec2.models.route_tables import Route

    routes = []
    for vgw_id in _propagating_vgws(table):
        vgw = table.ec2_backend.vpn_gateways.get(vgw_id)
        attachment = vgw.attachments.get(table.vpc_id) if vgw is not None else None
        if vgw is None or vgw.state == "deleted" or attachment is None or attachment.state != "attached":
            continue
        for prefix in SETTINGS["vgw_advertised_routes"].get(vgw_id, ()):
            ipv6 = ":" in prefix
            route = Route(table, None if ipv6 else prefix, prefix if ipv6 else None, gateway=vgw)
            route.__dict__["_pw_propagated"] = True
            routes.append(route)
    return routes


@patch("route-propagation")
def _route_propagation() -> None:
    """AWS (EC2 API reference, EnableVgwRoutePropagation / DisableVgwRoutePropagation; VPC User
    Guide, "Route tables", Propagation): a virtual private gateway attached to the VPC
    ("The virtual private gateway must be attached to the same VPC that the routing tables are
    associated with") propagates its routes into a route table once EnableVgwRoutePropagation
    (GatewayId, RouteTableId) is called, until DisableVgwRoutePropagation. DescribeRouteTables lists
    the table's `PropagatingVgws` (GatewayId) and each propagated route with `GatewayId` = the VGW,
    `Origin: EnableVgwRoutePropagation` and `State: active`; the local route is `CreateRouteTable`
    and every other `CreateRoute` (Route, origin); the `route.origin` filter selects by origin
    (DescribeRouteTables filters). The prefixes come from BGP, not from an API: setting
    `vgw_advertised_routes` (`{"vgw-...": ["CIDR", ...]}`) says what each VGW advertises, one
    propagated route per prefix. Propagated routes do not count against `routes_per_table`
    ("Routes per route table (non-propagated routes)", L-93826ACB, vs "BGP advertised routes per
    route table (propagated routes)" 100, Amazon VPC quotas). A static route to the same
    destination may be added and both are listed ("If the destination of a propagated route is
    identical to the destination of a static route, the static route takes priority", VPC User
    Guide, "How route priority works"). DeleteRoute and ReplaceRoute of a destination that exists
    only as a propagated route are refused: AWS documents no error for it (DisableVgwRoutePropagation
    is the documented way to remove propagated routes); the emulator answers
    `InvalidRoute.NotFound` (EC2 error codes: "The specified route does not exist in the specified
    route table"), its own choice. Enabling a VGW that is not attached to the table's VPC is
    `InvalidVpnGatewayAttachment.NotFound` (EC2 error codes: "An attachment between the specified
    virtual private gateway and specified VPC does not exist"), also the emulator's choice of
    code. Detaching (or deleting) the VGW ends its propagation: its routes and its PropagatingVgws
    entry go. moto: EnableVgwRoutePropagation and DisableVgwRoutePropagation are not implemented
    (HTTP 500), no route is ever propagated, and a `route.origin` filter is an HTTP 500."""
    from moto.core.responses import EmptyResult
    from moto.ec2.exceptions import InvalidVpnGatewayAttachmentError
    from moto.ec2.models.route_tables import Route, RouteBackend, RouteTable
    from moto.ec2.models.vpn_gateway import VpnGatewayBackend
    from moto.ec2.responses.route_tables import RouteTables

    def origin(self) -> str:
        if self.__dict__.get("_pw_propagated"):
            return "EnableVgwRoutePropagation"
        return "CreateRouteTable" if self.local else "CreateRoute"

    Route.origin = property(origin)
    RouteTable.routes = property(lambda self: list(self._routes.values()) + _propagated_routes(self))
    RouteTable.propagating_vgws = property(lambda self: [{"GatewayId": v} for v in _propagating_vgws(self)])

    original_filter_value = RouteTable.get_filter_value

    def get_filter_value(self, filter_name, method_name=None):
        if filter_name == "route.origin":
            return [route.origin for route in self.routes]
        if filter_name == "route.destination-cidr-block":
            return [r.destination_cidr_block for r in self.routes if r.destination_cidr_block is not None]
        if filter_name == "route.gateway-id":
            return [r.gateway.id for r in self.routes if r.gateway is not None]
        return original_filter_value(self, filter_name, method_name)

    RouteTable.get_filter_value = get_filter_value

    def enable(self, gateway_id: str, route_table_id: str) -> None:
        table = self.get_route_table(route_table_id)
        vgw = self.get_vpn_gateway(gateway_id)
        attachment = vgw.attachments.get(table.vpc_id)
        if attachment is None or attachment.state != "attached":
            raise InvalidVpnGatewayAttachmentError(vgw.id, table.vpc_id)
        if vgw.id not in _propagating_vgws(table):
            _propagating_vgws(table).append(vgw.id)

    def disable(self, gateway_id: str, route_table_id: str) -> None:
        table = self.get_route_table(route_table_id)
        vgw = self.get_vpn_gateway(gateway_id)
        if vgw.id in _propagating_vgws(table):
            _propagating_vgws(table).remove(vgw.id)

    RouteBackend.enable_vgw_route_propagation = enable
    RouteBackend.disable_vgw_route_propagation = disable

    def enable_action(self):
        self.ec2_backend.enable_vgw_route_propagation(self._get_param("GatewayId"), self._get_param("RouteTableId"))
        return EmptyResult()

    def disable_action(self):
        self.ec2_backend.disable_vgw_route_propagation(self._get_param("GatewayId"), self._get_param("RouteTableId"))
        return EmptyResult()

    RouteTables.enable_vgw_route_propagation = enable_action
    RouteTables.disable_vgw_route_propagation = disable_action

    def stop_propagating(backend, vgw_id: str, vpc_id: str | None) -> None:
        for table in backend.route_tables.values():
            if (vpc_id is None or table.vpc_id == vpc_id) and vgw_id in _propagating_vgws(table):
                _propagating_vgws(table).remove(vgw_id)

    original_detach = VpnGatewayBackend.detach_vpn_gateway
    original_delete_vgw = VpnGatewayBackend.delete_vpn_gateway

    def detach(self, vpn_gateway_id, vpc_id):
        detached = original_detach(self, vpn_gateway_id, vpc_id)
        stop_propagating(self, vpn_gateway_id, vpc_id)
        return detached

    def delete_vgw(self, vpn_gateway_id):
        deleted = original_delete_vgw(self, vpn_gateway_id)
        stop_propagating(self, vpn_gateway_id, None)
        return deleted

    VpnGatewayBackend.detach_vpn_gateway = detach
    VpnGatewayBackend.delete_vpn_gateway = delete_vgw

    def refuse_propagated_only(backend, route_table_id, cidr: str | None, verb: str) -> None:
        if not cidr:
            return
        table = backend.get_route_table(route_table_id)
        static = any(
            _same_destination(r.destination_cidr_block or r.destination_ipv6_cidr_block, cidr)
            for r in table._routes.values()
        )
        if static:
            return
        if any(
            _same_destination(r.destination_cidr_block or r.destination_ipv6_cidr_block, cidr)
            for r in _propagated_routes(table)
        ):
            raise EC2ClientError(
                "InvalidRoute.NotFound",
                f"The route identified by {cidr} was propagated by a virtual private gateway and cannot be "
                f"{verb}; disable route propagation instead",
            )

    for name, verb in (("delete_route", "deleted"), ("replace_route", "replaced")):
        original = getattr(RouteBackend, name)

        def guarded(self, route_table_id, destination_cidr_block=None, destination_ipv6_cidr_block=None,
                    *args, _original=original, _verb=verb, **kwargs):
            refuse_propagated_only(self, route_table_id, destination_ipv6_cidr_block or destination_cidr_block, _verb)
            return _original(self, route_table_id, destination_cidr_block, destination_ipv6_cidr_block, *args, **kwargs)

        setattr(RouteBackend, name, guarded)
