"""EC2 VPC peering: CIDR block sets, overlapping CIDRs, DescribeVpcPeeringConnections filters and
paging, who may modify which side's options and when, per-owner tags, and the lifecycle (dwell,
expiry, forgetting, ExpirationTime). `route-blackhole` reads the lifecycle helpers from here.
"""

import datetime
import fnmatch
import ipaddress

from moto.ec2.exceptions import EC2ClientError

from .context import _caller_ec2_backend
from .registry import patch
from .settings import SETTINGS, _now


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


@patch("peering-tags-per-owner")
def _peering_tags_per_owner() -> None:
    """AWS: tags on a VPC peering apply only in the account and region that created them (VPC
    Peering Guide, "VPC peering limitations"): a cross-account or cross-region peering has a
    requester view and an accepter view, each with its own tag set. The requester's
    TagSpecifications and CreateTags/DeleteTags touch only its view, the accepter's only its own,
    and DescribeVpcPeeringConnections (tag:/tag-key/tag-value filters included) shows each caller
    its own view's tags; a same-account, same-region peering has one tag set. moto: stores each
    account's tags apart (DescribeTags already answers per account) but describes every peering
    with the requester's tags, to both accounts."""
    from moto.ec2.models.vpc_peering_connections import VPCPeeringConnection

    def get_tags(self) -> list[dict[str, str]]:
        backend = _caller_ec2_backend()
        if backend is None or self.id not in backend.vpc_pcxs:
            backend = self.ec2_backend
        return backend.describe_tags(filters={"resource-id": [self.id]})

    VPCPeeringConnection.get_tags = get_tags


_TERMINAL_PEERING_STATES = ("failed", "rejected", "deleted", "expired")
# AWS expires an unanswered request after 7 days.
AWS_REQUEST_LIFETIME = 7 * 24 * 3600
_LIFECYCLE = {"on": False}


def _effective_status(status) -> tuple[str, str, float]:
    """(code, message, since) of a moto PeeringConnectionStatus as of the emulator's clock.

    The patched status records each status moto sets with its time; the dwell settings then
    decide what a reader sees now, so changing a setting mid-test takes effect at once."""
    events = status.__dict__["_pw_events"]
    code, message, at = events[-1]
    created = events[0][2]
    now = _now()
    if code in ("initiating-request", "pending-acceptance", "failed"):
        ready = created + SETTINGS["initiating_request_seconds"]
        if code == "initiating-request" or now < ready:
            return "initiating-request", f"Initiating Request to {status.accepter_id}", created
        if code == "failed":
            return code, message, ready
        expire_after = SETTINGS["expire_after"]
        if expire_after is not None and now >= ready + expire_after:
            return "expired", "Expired", ready + expire_after
        return code, message, ready
    if code == "active":
        ready = at + SETTINGS["provisioning_seconds"]
        return ("provisioning", "Provisioning", at) if now < ready else (code, message, ready)
    if code == "deleted":
        ready = at + SETTINGS["deleting_seconds"]
        return ("deleting", "Deleting", at) if now < ready else (code, message, ready)
    return code, message, at


def _peering_visible_to(pcx, account: str) -> bool:
    """False once a finished peering has vanished for `account` (the `forget_after` settings)."""
    if not _LIFECYCLE["on"]:
        return True
    code, _, since = _effective_status(pcx._status)
    if code not in _TERMINAL_PEERING_STATES:
        return True
    short = SETTINGS["forget_after"]
    long = SETTINGS["forget_after_other_party"]
    long = short if long == "same" else long
    one_account = pcx.vpc.owner_id == pcx.peer_vpc.owner_id
    if code == "failed":
        keep = short
    elif code == "expired":
        keep = long
    elif code == "rejected":
        keep = short if one_account or account != pcx.vpc.owner_id else long
    else:
        keep = short if one_account or account == getattr(pcx, "_pw_deleted_by", None) else long
    return keep is None or _now() < since + keep


def _peering_not_found(pcx_id: str) -> EC2ClientError:
    return EC2ClientError(
        "InvalidVpcPeeringConnectionID.NotFound", f"The vpcPeeringConnection ID '{pcx_id}' does not exist"
    )


@patch("peering-lifecycle")
def _peering_lifecycle() -> None:
    """AWS (VPC Peering Guide, "VPC peering connection lifecycle"): a request is
    `initiating-request`, then `pending-acceptance` (or `failed`); accepting goes through
    `provisioning` to `active`; deleting through `deleting` to `deleted`; an unanswered request
    expires after 7 days (`expired`). Only a `pending-acceptance` request can be accepted or
    rejected (InvalidStateTransition otherwise); only an `active` or `pending-acceptance` peering
    can be deleted ("You cannot delete a VPC peering connection that's in the failed or rejected
    state", DeleteVpcPeeringConnection API reference). Finished peerings stay visible for a while
    (failed: 2 h; expired: 2 days; rejected: 2 days to the requester, 2 h to the accepter; deleted:
    2 h to the deleter, 2 days to the other party; 2 h within one account) and are then gone:
    a describe by id answers InvalidVpcPeeringConnectionID.NotFound, as it does for any unknown id.
    Each dwell is a setting (0 s and `never` by default, so moto's instant transitions stay the
    default). A `pending-acceptance` request shows its `ExpirationTime` (VpcPeeringConnection:
    "the time that an unaccepted VPC peering connection will expire"), in whole seconds: 7 days
    after it became pending, or `expire_after` when set; no other status shows one. moto: jumps straight to the
    end state, lets anyone delete in any state, never forgets, answers an empty list for an
    unknown id, and shows no expiration time."""
    from moto.ec2.models.vpc_peering_connections import (
        PeeringConnectionStatus,
        VPCPeeringConnection,
        VPCPeeringConnectionBackend,
    )

    def set_code(self, code: str) -> None:
        self.__dict__.setdefault("_pw_events", []).append([code, "", _now()])

    def set_message(self, message: str) -> None:
        self.__dict__["_pw_events"][-1][1] = message

    PeeringConnectionStatus.code = property(lambda self: _effective_status(self)[0], set_code)
    PeeringConnectionStatus.message = property(lambda self: _effective_status(self)[1], set_message)

    def describe(self, vpc_peering_ids=None):
        visible = [p for p in self.vpc_pcxs.values() if _peering_visible_to(p, self.account_id)]
        if not vpc_peering_ids:
            return visible
        known = {p.id for p in visible}
        for pcx_id in vpc_peering_ids:
            if pcx_id not in known:
                raise _peering_not_found(pcx_id)
        return [p for p in visible if p.id in vpc_peering_ids]

    def get(self, vpc_pcx_id):
        pcx = self.vpc_pcxs.get(vpc_pcx_id)
        if pcx is None or not _peering_visible_to(pcx, self.account_id):
            raise _peering_not_found(vpc_pcx_id)
        return pcx

    original_delete = VPCPeeringConnectionBackend.delete_vpc_peering_connection

    def delete(self, vpc_pcx_id):
        pcx = self.get_vpc_peering_connection(vpc_pcx_id)
        if pcx._status.code not in ("active", "pending-acceptance"):
            raise EC2ClientError(
                "InvalidStateTransition",
                f"VpcPeeringConnectionID {pcx.id} is not in the correct state for the request.",
            )
        deleted = original_delete(self, vpc_pcx_id)
        deleted._pw_deleted_by = self.account_id
        return deleted

    def expiration_time(self):
        code, _, since = _effective_status(self._status)
        if code != "pending-acceptance":
            return None
        after = SETTINGS["expire_after"]
        after = AWS_REQUEST_LIFETIME if after is None else after
        # Whole seconds, as AWS shows it ("2014-04-09T20:38:56.000Z" in the API reference).
        return datetime.datetime.fromtimestamp(int(since + after), tz=datetime.timezone.utc)

    VPCPeeringConnection.expiration_time = property(expiration_time)
    VPCPeeringConnectionBackend.describe_vpc_peering_connections = describe
    VPCPeeringConnectionBackend.get_vpc_peering_connection = get
    VPCPeeringConnectionBackend.delete_vpc_peering_connection = delete
    _LIFECYCLE["on"] = True


@patch("one-peering-per-vpc-pair")
def _one_peering_per_vpc_pair() -> None:
    """AWS (VPC Peering Guide, "VPC peering limitations"): "You cannot have more than one VPC
    peering connection between two VPCs at the same time." Accepting a request between two VPCs
    that another `provisioning` or `active` peering already joins (either way round) is
    `VpcPeeringConnectionAlreadyExists` "A VPC peering connection between the VPCs already
    exists." (EC2 API reference, "Error codes"). Requests themselves are not refused: the guide
    does not say at which step AWS enforces the limit, and refusing the accept is the latest
    point that keeps it. moto: any number of active peerings between the same two VPCs."""
    from moto.ec2.models.vpc_peering_connections import VPCPeeringConnectionBackend

    original_accept = VPCPeeringConnectionBackend.accept_vpc_peering_connection

    def accept(self, vpc_pcx_id):
        pcx = self.get_vpc_peering_connection(vpc_pcx_id)
        pair = {pcx.vpc.id, pcx.peer_vpc.id}
        for other in self.vpc_pcxs.values():
            if other.id == pcx.id or {other.vpc.id, other.peer_vpc.id} != pair:
                continue
            if other._status.code in ("provisioning", "active"):
                raise EC2ClientError(
                    "VpcPeeringConnectionAlreadyExists",
                    "A VPC peering connection between the VPCs already exists.",
                )
        return original_accept(self, vpc_pcx_id)

    VPCPeeringConnectionBackend.accept_vpc_peering_connection = accept
