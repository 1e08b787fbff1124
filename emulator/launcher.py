"""Start the pinned moto server with the patches that make it behave like AWS where peerwire relies on it.

Usage: python launcher.py [--host 127.0.0.1] [--port 0] [--disable NAME[,NAME...]] [--list]

Port 0 picks a free port; the chosen one is printed as `PEERWIRE_EMULATOR_PORT=<port>` once the
server accepts connections, so a harness never races another process for a port.

Every patch restores one documented AWS behaviour that moto 5.2.5 lacks (see
../shared/emulator-gaps.md and docs/emulator.md). `--disable` turns patches off so that a test
can show each one is needed: the same assertion fails on the unpatched server.
"""

import argparse
import fnmatch
import ipaddress
import sys
import threading
from collections.abc import Callable

import moto
from moto.ec2.exceptions import EC2ClientError

PINNED_MOTO = "5.2.5"

PATCHES: dict[str, Callable[[], None]] = {}


def patch(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(fn: Callable[[], None]) -> Callable[[], None]:
        PATCHES[name] = fn
        return fn

    return register


def _vpc_cidrs(vpc, ipv6: bool) -> list[str]:
    """Associated CIDR blocks of a moto VPC, primary and secondary."""
    blocks = []
    for assoc in vpc.get_cidr_block_association_set(ipv6=ipv6):
        state = assoc.get("cidr_block_state", {}).get("state", "associated")
        if state == "associated":
            blocks.append(assoc["cidr_block"])
    return blocks


@patch("peering-cidr-block-set")
def _peering_cidr_block_set() -> None:
    """AWS: RequesterVpcInfo/AccepterVpcInfo carry CidrBlockSet and Ipv6CidrBlockSet, so the
    accepter sees every CIDR of the requester VPC, secondary associations included.
    moto: only the primary CidrBlock."""
    from moto.ec2.models.vpc_peering_connections import VPCPeeringConnection

    def info(vpc, options) -> dict:
        return {
            "OwnerId": vpc.owner_id,
            "Region": vpc.region,
            "VpcId": vpc.id,
            "CidrBlock": vpc.cidr_block,
            "CidrBlockSet": [{"CidrBlock": c} for c in _vpc_cidrs(vpc, ipv6=False)],
            "Ipv6CidrBlockSet": [{"Ipv6CidrBlock": c} for c in _vpc_cidrs(vpc, ipv6=True)],
            "PeeringOptions": options,
        }

    VPCPeeringConnection.requester_vpc_info = property(lambda self: info(self.vpc, self.requester_options))
    VPCPeeringConnection.accepter_vpc_info = property(lambda self: info(self.peer_vpc, self.accepter_options))


@patch("overlapping-cidrs-fail")
def _overlapping_cidrs_fail() -> None:
    """AWS: a peering request between VPCs with overlapping IPv4 CIDR blocks goes to status
    `failed` ("Overlapping CIDR range") and cannot be accepted. moto: it goes to
    pending-acceptance and can become active."""
    from moto.ec2.models.vpc_peering_connections import VPCPeeringConnectionBackend

    original = VPCPeeringConnectionBackend.create_vpc_peering_connection

    def create(self, vpc, peer_vpc, tags=None):
        pcx = original(self, vpc, peer_vpc, tags)
        mine = [ipaddress.ip_network(c) for c in _vpc_cidrs(vpc, ipv6=False)]
        theirs = [ipaddress.ip_network(c) for c in _vpc_cidrs(peer_vpc, ipv6=False)]
        if any(a.overlaps(b) for a in mine for b in theirs):
            pcx._status.code = "failed"
            pcx._status.message = "Overlapping CIDR range"
        return pcx

    VPCPeeringConnectionBackend.create_vpc_peering_connection = create


def _pcx_filter_values(pcx, name: str) -> list[str] | None:
    """Values of `pcx` for one DescribeVpcPeeringConnections filter; None for an unknown filter."""
    req, acc = pcx.requester_vpc_info, pcx.accepter_vpc_info

    def cidrs(info: dict) -> list[str]:
        return [info["CidrBlock"]] + [c["CidrBlock"] for c in info.get("CidrBlockSet", [])]

    by_name = {
        "status-code": lambda: [pcx._status.code],
        "status-message": lambda: [pcx._status.message],
        "vpc-peering-connection-id": lambda: [pcx.id],
        "requester-vpc-info.owner-id": lambda: [req["OwnerId"]],
        "requester-vpc-info.vpc-id": lambda: [req["VpcId"]],
        "requester-vpc-info.cidr-block": lambda: cidrs(req),
        "accepter-vpc-info.owner-id": lambda: [acc["OwnerId"]],
        "accepter-vpc-info.vpc-id": lambda: [acc["VpcId"]],
        "accepter-vpc-info.cidr-block": lambda: cidrs(acc),
        "tag-key": lambda: [t["key"] for t in pcx.get_tags()],
        "tag-value": lambda: [t["value"] for t in pcx.get_tags()],
    }
    if name.startswith("tag:"):
        key = name[4:]
        return [t["value"] for t in pcx.get_tags() if t["key"] == key]
    getter = by_name.get(name)
    return getter() if getter else None


@patch("describe-peering-filters")
def _describe_peering_filters() -> None:
    """AWS: DescribeVpcPeeringConnections applies Filters (status-code, requester-vpc-info.*,
    accepter-vpc-info.*, tag:*, tag-key, ...; values OR-ed, filters AND-ed, `*`/`?` wildcards),
    rejects unknown filter names, and pages with MaxResults (5..1000) and NextToken.
    moto: ignores all of it and returns every peering in one page."""
    from moto.core.responses import ActionResult
    from moto.ec2.responses.vpc_peering_connections import VPCPeeringConnections

    def describe(self) -> ActionResult:
        ids = self._get_param("VpcPeeringConnectionIds", [])
        pcxs = self.ec2_backend.describe_vpc_peering_connections(vpc_peering_ids=ids)
        for name, wanted in self._filters_from_querystring().items():
            kept = []
            for pcx in pcxs:
                values = _pcx_filter_values(pcx, name)
                if values is None:
                    raise EC2ClientError("InvalidParameterValue", f"The filter '{name}' is invalid")
                if any(fnmatch.fnmatchcase(v, w) for v in values for w in wanted):
                    kept.append(pcx)
            pcxs = kept
        pcxs.sort(key=lambda p: p.id)
        max_results = self._get_param("MaxResults")
        token = self._get_param("NextToken")
        start = 0
        if token:
            if not str(token).isdigit():
                raise EC2ClientError("InvalidPaginationToken", f"Invalid pagination token {token}")
            start = int(token)
        result: dict = {}
        if max_results is not None:
            size = int(max_results)
            if size < 5 or size > 1000:
                raise EC2ClientError(
                    "InvalidParameterValue",
                    f"Value ( {size} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.",
                )
            page = pcxs[start : start + size]
            if start + size < len(pcxs):
                result["NextToken"] = str(start + size)
        else:
            page = pcxs[start:]
        result["VpcPeeringConnections"] = page
        return ActionResult(result)

    VPCPeeringConnections.describe_vpc_peering_connections = describe


@patch("peering-options-owner-only")
def _peering_options_owner_only() -> None:
    """AWS: ModifyVpcPeeringConnectionOptions sets RequesterPeeringConnectionOptions only for the
    owner of the requester VPC and AccepterPeeringConnectionOptions only for the owner of the
    accepter VPC; anyone else gets OperationNotPermitted (HTTP 400) "User <account> does not have
    permission to modify the requester|accepter side peering options". moto: any account that
    sees the peering may set both sides."""
    from moto.ec2.exceptions import OperationNotPermitted
    from moto.ec2.responses.vpc_peering_connections import VPCPeeringConnections

    original = VPCPeeringConnections.modify_vpc_peering_connection_options

    def modify(self):
        pcx = self.ec2_backend.get_vpc_peering_connection(self._get_param("VpcPeeringConnectionId"))
        caller = self.current_account
        for side, owner in (("requester", pcx.vpc.owner_id), ("accepter", pcx.peer_vpc.owner_id)):
            given = self._get_param(f"{side.capitalize()}PeeringConnectionOptions", {})
            if given and caller != owner:
                raise OperationNotPermitted(
                    f"User {caller} does not have permission to modify the {side} side peering options"
                )
        return original(self)

    VPCPeeringConnections.modify_vpc_peering_connection_options = modify


@patch("peering-options-active-only")
def _peering_options_active_only() -> None:
    """AWS: peering options can be modified only on an `active` peering; on any other status
    ModifyVpcPeeringConnectionOptions fails with OperationNotPermitted (HTTP 400) "Peering <id> is
    not active. Peering options can be added only to active peerings." moto: accepts the change on
    a pending-acceptance, rejected, failed or deleted peering."""
    from moto.ec2.exceptions import OperationNotPermitted
    from moto.ec2.models.vpc_peering_connections import VPCPeeringConnectionBackend

    original = VPCPeeringConnectionBackend.modify_vpc_peering_connection_options

    def modify(self, vpc_pcx_id, accepter_options=None, requester_options=None):
        pcx = self.get_vpc_peering_connection(vpc_pcx_id)
        if pcx._status.code != "active":
            raise OperationNotPermitted(
                f"Peering {pcx.id} is not active. Peering options can be added only to active peerings."
            )
        return original(self, vpc_pcx_id, accepter_options, requester_options)

    VPCPeeringConnectionBackend.modify_vpc_peering_connection_options = modify


_sg_call = threading.local()


def _active_peering_between(backend, vpc_a: str, vpc_b: str, pcx_id: str | None):
    """The active peering of `backend`'s account that joins VPCs `vpc_a` and `vpc_b`, if any."""
    for pcx in backend.vpc_pcxs.values():
        if pcx_id and pcx.id != pcx_id:
            continue
        joined = {pcx.vpc.id, pcx.peer_vpc.id} == {vpc_a, vpc_b}
        same_region = pcx.vpc.region == pcx.peer_vpc.region
        if joined and same_region and pcx._status.code == "active":
            return pcx
    return None


@patch("cross-account-sg-reference")
def _cross_account_sg_reference() -> None:
    """AWS: a security-group rule may reference a group of another account (UserIdGroupPairs with
    UserId + GroupId, optionally VpcPeeringConnectionId) when the two groups' VPCs are joined by an
    active VPC peering in the same region; the rule is then described with that UserId and GroupId.
    Without such a peering: InvalidGroup.NotFound "You have specified two resources that belong to
    different networks." moto: looks the group up only in the caller's account, so every
    cross-account reference fails with InvalidGroup.NotFound."""
    from moto.ec2.exceptions import InvalidSecurityGroupNotFoundError
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.security_groups import SecurityGroupBackend

    original_add = SecurityGroupBackend._add_source_group

    def add_source_group(self, source_groups, vpc_id):
        resolved = []
        for item in source_groups or []:
            user = item.get("UserId")
            if not user or user == self.account_id or "GroupId" not in item:
                resolved.extend(original_add(self, [item], vpc_id))
                continue
            item.setdefault("OwnerId", user)
            if getattr(_sg_call, "authorizing", False):
                remote = ec2_backends[user][self.region_name].get_security_group_from_id(item["GroupId"])
                if remote is None:
                    raise InvalidSecurityGroupNotFoundError(item["GroupId"])
                target = _sg_call.target
                pcx_id = item.get("VpcPeeringConnectionId")
                if target is None or not _active_peering_between(self, target.vpc_id, remote.vpc_id, pcx_id):
                    raise EC2ClientError(
                        "InvalidGroup.NotFound", "You have specified two resources that belong to different networks."
                    )
            resolved.append(item)
        return resolved

    SecurityGroupBackend._add_source_group = add_source_group

    # Authorize* tell add_source_group which group gets the rule (moto passes no VPC down).
    # Revoke* pass cross-account pairs through unchecked, so a rule can be removed after its
    # peering is gone; the stored rule is matched as moto matches any other.
    def remember_target(name: str) -> None:
        original = getattr(SecurityGroupBackend, name)

        def call(self, *args, **kwargs):
            group_name_or_id = kwargs.get("group_name_or_id", args[0] if args else None)
            _sg_call.target = self.get_security_group_by_name_or_id(group_name_or_id, kwargs.get("vpc_id"))
            _sg_call.authorizing = True
            try:
                return original(self, *args, **kwargs)
            finally:
                _sg_call.target = None
                _sg_call.authorizing = False

        setattr(SecurityGroupBackend, name, call)

    remember_target("authorize_security_group_ingress")
    remember_target("authorize_security_group_egress")


@patch("sg-rule-reference-description")
def _sg_rule_reference_description() -> None:
    """AWS: a rule that references a group (UserIdGroupPairs[].Description) keeps its Description
    in DescribeSecurityGroupRules and in the SecurityGroupRules that AuthorizeSecurityGroupIngress/
    Egress return. moto: only CIDR rules carry one; group-reference rules come back without it
    (DescribeSecurityGroups shows it, DescribeSecurityGroupRules does not)."""
    from moto.ec2.models.security_groups import SecurityGroupRule

    SecurityGroupRule.description = property(
        lambda self: self.ip_range.get("Description") or (self.source_group or {}).get("Description")
    )


@patch("test-event-pattern")
def _test_event_pattern() -> None:
    """AWS: TestEventPattern answers {"Result": true|false}: whether the event matches the
    pattern. An invalid pattern is InvalidEventPatternException; an event that is not a JSON
    object with the mandatory fields id, account, source, time, region, resources and detail-type
    is refused (ValidationException here). moto: an empty body (not implemented), although its
    own EventPattern matcher, the one PutEvents routes with, works."""
    import json

    from moto.events.exceptions import ValidationException
    from moto.events.models import EventPattern, EventPatternParser
    from moto.events.responses import EventsHandler

    mandatory = ("id", "account", "source", "time", "region", "resources", "detail-type")

    def test_event_pattern(self) -> str:
        raw_pattern = self._get_param("EventPattern")
        pattern = EventPatternParser(raw_pattern).parse()
        try:
            event = json.loads(self._get_param("Event") or "")
        except ValueError:
            raise ValidationException("Parameter Event is not valid. Reason: not JSON")
        if not isinstance(event, dict):
            raise ValidationException("Parameter Event is not valid. Reason: not a JSON object")
        missing = [field for field in mandatory if field not in event]
        if missing:
            raise ValidationException(f"Parameter Event is not valid. Reason: missing {', '.join(missing)}")
        return json.dumps({"Result": EventPattern(raw_pattern, pattern).matches_event(event)})

    EventsHandler.test_event_pattern = test_event_pattern


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--disable", default="", help="comma-separated patch names, or 'all'")
    parser.add_argument("--list", action="store_true", help="list the patches and exit")
    args = parser.parse_args()

    if args.list:
        for name, fn in PATCHES.items():
            print(f"{name}: {' '.join((fn.__doc__ or '').split())}")
        return 0
    if moto.__version__ != PINNED_MOTO:
        print(f"launcher: moto {moto.__version__} found, {PINNED_MOTO} pinned", file=sys.stderr)
        return 2
    disabled = set(PATCHES) if args.disable == "all" else {d for d in args.disable.split(",") if d}
    unknown = disabled - set(PATCHES)
    if unknown:
        print(f"launcher: unknown patches {sorted(unknown)}", file=sys.stderr)
        return 2
    for name, fn in PATCHES.items():
        if name not in disabled:
            fn()

    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    print(f"PEERWIRE_EMULATOR_PORT={port}", flush=True)
    try:
        # The harness ends the server by closing our stdin or by killing us.
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
