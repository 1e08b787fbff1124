"""Start the pinned moto server with the patches that make it behave like AWS where peerwire relies on it.

Usage: python launcher.py [--host 127.0.0.1] [--port 0] [--disable NAME[,NAME...]|all]
                          [--set KEY=VALUE]... [--list]

Port 0 picks a free port; the chosen one is printed as `PEERWIRE_EMULATOR_PORT=<port>` once the
server accepts connections, so a harness never races another process for a port.

Every patch restores one documented AWS behaviour that moto 5.2.5 lacks; docs/emulator.md lists
them all. `--disable` turns patches off so that a test can show each one is needed: the same
assertion fails on the unpatched server.

Settings (`--set KEY=VALUE`, repeatable) tune the patches that model time, quotas and IAM
denials; every key and its default is in SETTINGS below and in docs/emulator.md. A running server
also takes settings over HTTP: `POST /peerwire-emulator/settings` with a JSON object of keys and
values changes them at once (all or none); `GET` on the same path answers the current settings.
"""

import argparse
import datetime
import fnmatch
import ipaddress
import json
import re
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import moto
from moto.ec2.exceptions import EC2ClientError

PINNED_MOTO = "5.2.5"

PATCHES: dict[str, Callable[[], None]] = {}


def patch(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(fn: Callable[[], None]) -> Callable[[], None]:
        PATCHES[name] = fn
        return fn

    return register


# ---------------------------------------------------------------------------------------------
# Settings: values the patches read on every request, so a test may change them mid-run.

NEVER = "never"


def _seconds(value: Any) -> float:
    seconds = float(value)
    if seconds < 0:
        raise ValueError("must be 0 or more seconds")
    return seconds


def _seconds_or_never(value: Any) -> float | None:
    if value is None or str(value).strip().lower() == NEVER:
        return None
    return _seconds(value)


def _seconds_never_or_same(value: Any) -> float | str | None:
    if str(value).strip().lower() == "same":
        return "same"
    return _seconds_or_never(value)


def _offset(value: Any) -> float:
    return float(value)


def _positive_int(value: Any) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be 1 or more")
    return number


def _list(value: Any) -> tuple[str, ...]:
    """A JSON list, or a comma-separated string ("" is the empty list)."""
    if isinstance(value, (list, tuple)):
        items = [str(v).strip() for v in value]
    else:
        items = [v.strip() for v in str(value).split(",")]
    return tuple(v for v in items if v)


def _accounts(value: Any) -> tuple[str, ...]:
    accounts = _list(value)
    for account in accounts:
        if not re.fullmatch(r"\d{12}", account):
            raise ValueError(f"{account!r} is not a 12-digit account id")
    return accounts


def _actions(value: Any) -> tuple[str, ...]:
    actions = _list(value)
    for action in actions:
        if not re.fullmatch(r"[\d*?]{1,12}:[\w*?-]+:[\w*?]+", action):
            raise ValueError(f"{action!r} is not ACCOUNT:service:Action")
    return actions


def _text_or_off(value: Any) -> str | None:
    text = "" if value is None else str(value)
    return text or None


# key: (parser, default, what it does). Defaults keep moto's timing: no dwell, nothing expires.
SETTING_SPECS: dict[str, tuple[Callable[[Any], Any], Any, str]] = {
    "initiating_request_seconds": (_seconds, 0.0, "a new peering shows `initiating-request` this long"),
    "provisioning_seconds": (_seconds, 0.0, "an accepted peering shows `provisioning` this long before `active`"),
    "deleting_seconds": (_seconds, 0.0, "a deleted peering shows `deleting` this long before `deleted`"),
    "expire_after": (_seconds_or_never, None, "a `pending-acceptance` request becomes `expired` (AWS: 604800)"),
    "forget_after": (
        _seconds_or_never,
        None,
        "a failed/rejected/deleted peering vanishes for the party that acted, or in one account (AWS: 7200)",
    ),
    "forget_after_other_party": (
        _seconds_never_or_same,
        "same",
        "as forget_after for the other account of a rejected/deleted peering and both of an expired one "
        "(AWS: 172800); `same` follows forget_after",
    ),
    "clock_offset": (_offset, 0.0, "seconds added to the emulator's clock for the peering lifecycle"),
    "deny_assume_role": (_accounts, (), "AssumeRole into a role of these accounts is AccessDenied"),
    "require_external_id": (_text_or_off, None, "AssumeRole without exactly this ExternalId is AccessDenied"),
    "deny_actions": (_actions, (), "ACCOUNT:service:Action entries (`*` wildcards) answered as a missing permission"),
    "sg_rules_per_group": (_positive_int, 60, "inbound (and, separately, outbound) rules per group, per IP family"),
    "routes_per_table": (_positive_int, 50, "non-local routes per route table, per IP family"),
    "suspended_accounts": (_accounts, (), "Organizations describes these accounts as SUSPENDED"),
}

SETTINGS: dict[str, Any] = {key: spec[1] for key, spec in SETTING_SPECS.items()}
_settings_lock = threading.Lock()


def apply_settings(values: dict[str, Any]) -> None:
    """Validates every value first, then applies them all (or none): ValueError names the key."""
    parsed = {}
    for key, raw in values.items():
        if key not in SETTING_SPECS:
            raise ValueError(f"unknown setting {key!r}; known: {', '.join(SETTING_SPECS)}")
        try:
            parsed[key] = SETTING_SPECS[key][0](raw)
        except (TypeError, ValueError) as err:
            raise ValueError(f"setting {key}: {err}") from None
    with _settings_lock:
        SETTINGS.update(parsed)


def settings_view() -> dict[str, Any]:
    """The settings as JSON: `never` for no limit, lists for lists, "" for an unset ExternalId."""
    view: dict[str, Any] = {}
    for key, value in SETTINGS.items():
        if key == "require_external_id":
            view[key] = value or ""
        elif value is None:
            view[key] = NEVER
        else:
            view[key] = list(value) if isinstance(value, tuple) else value
    return view


SETTINGS_PATH = "/peerwire-emulator/settings"


def _settings_endpoint(environ: dict, start_response: Callable) -> list[bytes]:
    """`GET` answers the settings; `POST` a JSON object applies it (400 and nothing changed on error)."""

    def answer(status: str, body: dict) -> list[bytes]:
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    method = environ.get("REQUEST_METHOD", "GET")
    if method == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            values = json.loads(raw or b"{}")
            if not isinstance(values, dict):
                raise ValueError("the body must be a JSON object of settings")
            apply_settings(values)
        except ValueError as err:
            return answer("400 Bad Request", {"error": str(err)})
    elif method != "GET":
        return answer("405 Method Not Allowed", {"error": "GET or POST"})
    return answer("200 OK", settings_view())


def _install_settings_endpoint() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.__call__

    def call(self, environ, start_response):
        if environ.get("PATH_INFO") == SETTINGS_PATH:
            return _settings_endpoint(environ, start_response)
        return original(self, environ, start_response)

    DomainDispatcherApplication.__call__ = call


def _now() -> float:
    """The emulator's clock: wall time plus `clock_offset`, so a test can jump ahead."""
    return time.time() + SETTINGS["clock_offset"]


# ---------------------------------------------------------------------------------------------
# Request context: who calls, and the gates patches put in front of every action.

_request = threading.local()

# A gate sees the response object before moto dispatches the action; it returns a finished
# (status, headers, body) to answer instead, or None to let the call through.
GATES: list[Callable[[Any], Any]] = []


def _install_request_context() -> None:
    from moto.core.responses import BaseResponse

    original = BaseResponse.call_action

    def call_action(self):
        _request.account = getattr(self, "current_account", None)
        _request.region = getattr(self, "region", None)
        try:
            for gate in GATES:
                answered = gate(self)
                if answered is not None:
                    return answered
            return original(self)
        finally:
            _request.account = None
            _request.region = None

    BaseResponse.call_action = call_action


def _caller_ec2_backend():
    """The EC2 backend of the calling account and region, inside a request; else None."""
    account, region = getattr(_request, "account", None), getattr(_request, "region", None)
    if not account or not region:
        return None
    from moto.ec2.models import ec2_backends

    return ec2_backends[account][region]


def _answer_error(response, error: Exception, status: int):
    """A finished error response in the service's own protocol, with AWS's HTTP status."""
    from moto.core.responses import ActionResult

    _, headers, body = response.serialized(ActionResult(error))
    headers["status"] = status
    _, headers, body = response._transform_response(dict(response.response_headers), (body, headers))
    headers, body = response._enrich_response(headers, body)
    return status, headers, body


def _service_error(code: str, message: str) -> Exception:
    """An error to serialize in any service's protocol (defined here, so moto looks its shape up
    in the answering service's model only)."""
    from moto.core.exceptions import ServiceException

    class EmulatedError(ServiceException):
        pass

    return EmulatedError(code, message)


def _caller_arn(response) -> str:
    """The ARN moto's STS reports for the caller's access key (an assumed role, a user, or root)."""
    account = response.current_account
    try:
        from moto.sts.models import sts_backends

        backend = sts_backends[account]["aws"]
        return backend.get_caller_identity(response.get_access_key(), response.region)[1]
    except Exception:  # noqa: BLE001 - any lookup failure falls back to the account root
        return f"arn:aws:iam::{account}:root"


def _action_of(response) -> str:
    try:
        return response._get_action() or ""
    except Exception:  # noqa: BLE001 - an unroutable request has no action to gate
        return ""


# IAM service prefixes where moto's service name differs.
_IAM_PREFIX = {"service-quotas": "servicequotas", "events": "events", "monitoring": "cloudwatch"}


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


# ---------------------------------------------------------------------------------------------
# Peering views, lifecycle and routes


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


@patch("route-blackhole")
def _route_blackhole() -> None:
    """AWS: a route whose target VPC peering is deleted, rejected, failed or expired (or no
    longer known) shows `State: blackhole` in DescribeRouteTables (Route, "blackhole: the route's
    target isn't available"), and the `route.state` filter (`active` | `blackhole`) selects by it;
    `route.vpc-peering-connection-id` still matches the dead peering. moto: every route is
    `active` forever, and a `route.state` filter is an HTTP 500 (filter not implemented)."""
    from moto.ec2.models.route_tables import Route, RouteTable

    def state(self) -> str:
        pcx = self.vpc_pcx
        if pcx is None:
            return "active"
        owner = self.route_table.ec2_backend.account_id
        dead = pcx._status.code in _TERMINAL_PEERING_STATES + ("deleting",)
        return "blackhole" if dead or not _peering_visible_to(pcx, owner) else "active"

    Route.state = property(state)
    original_filter_value = RouteTable.get_filter_value

    def get_filter_value(self, filter_name, method_name=None):
        if filter_name == "route.state":
            return [route.state for route in self._routes.values()]
        return original_filter_value(self, filter_name, method_name)

    RouteTable.get_filter_value = get_filter_value


# ---------------------------------------------------------------------------------------------
# IAM as a member account sees it: denied roles and missing permissions


def _access_denied(response, service: str, action: str, resource: str | None = None) -> Exception:
    """The error a service answers for a call its IAM policy does not allow."""
    from moto.core.utils import get_service_model

    arn = _caller_arn(response)
    where = f" on resource: {resource}" if resource else ""
    reason = f"User: {arn} is not authorized to perform: {service}:{action}{where}"
    if service == "ec2":
        return _service_error(
            "UnauthorizedOperation",
            f"You are not authorized to perform this operation. {reason} "
            f"because no identity-based policy allows the {service}:{action} action",
        )
    if resource is None:
        reason += f" because no identity-based policy allows the {service}:{action} action"
    try:
        protocol = get_service_model(response.boto3_service_name).protocol
    except Exception:  # noqa: BLE001 - an unknown model: most newer services speak JSON
        protocol = "json"
    code = "AccessDenied" if protocol in ("query", "rest-xml") else "AccessDeniedException"
    return _service_error(code, reason)


@patch("assume-role-denied")
def _assume_role_denied() -> None:
    """AWS: AssumeRole into a role that does not exist, does not trust the caller, or whose
    trust policy requires an sts:ExternalId the caller did not send exactly, is `AccessDenied`
    (HTTP 403) "User: <caller> is not authorized to perform: sts:AssumeRole on resource: <role>"
    (STS API reference, AssumeRole errors; IAM User Guide, "How to use an external ID").
    Settings: `deny_assume_role` (accounts whose member role is missing or distrusts the hub) and
    `require_external_id` (the ExternalId every member role's trust policy requires). moto: any
    caller assumes any role, existing or not, with any or no ExternalId."""
    from moto.core.exceptions import ServiceException

    def gate(response):
        if response.service_name != "sts" or _action_of(response) != "AssumeRole":
            return None
        role_arn = str(response._get_param("RoleArn") or "")
        parts = role_arn.split(":")
        account = parts[4] if len(parts) > 5 else ""
        required = SETTINGS["require_external_id"]
        external_id = response._get_param("ExternalId")
        if account in SETTINGS["deny_assume_role"] or (required is not None and external_id != required):
            error = _service_error(
                "AccessDenied",
                f"User: {_caller_arn(response)} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            )
            return _answer_error(response, error, 403)
        return None

    GATES.append(gate)


@patch("denied-actions")
def _denied_actions() -> None:
    """AWS: a call that the caller's IAM policies do not allow is refused with HTTP 403 and the
    service's own code: EC2 `UnauthorizedOperation` "You are not authorized to perform this
    operation." (EC2 API reference, "Error codes"), also when the call carries DryRun=true;
    query and REST-XML services (STS, IAM, RDS, SQS, Route 53) `AccessDenied`; JSON services
    (EventBridge, CloudWatch Logs, DynamoDB, Organizations, Service Quotas)
    `AccessDeniedException`. Setting `deny_actions`: entries `ACCOUNT:service:Action` (IAM service
    prefix, `*`/`?` wildcards, case-insensitive service and action) denied to callers of ACCOUNT.
    moto: authorises every call."""

    def gate(response):
        denied = SETTINGS["deny_actions"]
        if not denied:
            return None
        action = _action_of(response)
        if not action:
            return None
        service = _IAM_PREFIX.get(response.service_name, response.service_name or "")
        account = response.current_account
        for entry in denied:
            account_pattern, service_pattern, action_pattern = entry.split(":", 2)
            if (
                fnmatch.fnmatchcase(account, account_pattern)
                and fnmatch.fnmatchcase(service.lower(), service_pattern.lower())
                and fnmatch.fnmatchcase(action.lower(), action_pattern.lower())
            ):
                return _answer_error(response, _access_denied(response, service, action), 403)
        return None

    GATES.append(gate)


@patch("ec2-dry-run")
def _ec2_dry_run() -> None:
    """AWS: every EC2 action with DryRun=true checks the caller's permissions and changes nothing:
    `DryRunOperation` (HTTP 412) "Request would have succeeded, but DryRun flag is set." when
    allowed, `UnauthorizedOperation` (HTTP 403) when not (EC2 API reference, DryRun parameter of
    each action). moto 5.2.5 ignores DryRun in AcceptVpcPeeringConnection (and accepts the
    peering), RejectVpcPeeringConnection, CreateRoute, ReplaceRoute, DeleteRoute,
    ModifyVpcPeeringConnectionOptions, CreateVpcPeeringConnection, DeleteVpcPeeringConnection,
    DescribeVpcPeeringConnections, DescribeRouteTables, DescribeSecurityGroups,
    DescribeVpcAttribute and DescribeNetworkAcls: it performs them. The check runs before
    dispatch, after `denied-actions`, for every EC2 action."""
    from moto.ec2.exceptions import DryRunClientError

    def gate(response):
        if response.service_name != "ec2":
            return None
        if str(response._get_param("DryRun", "false")).lower() != "true":
            return None
        return _answer_error(response, DryRunClientError(), 412)

    GATES.append(gate)


# ---------------------------------------------------------------------------------------------
# Quotas


def _is_ipv6_range(ip_range: Any) -> bool:
    if isinstance(ip_range, dict):
        return bool(ip_range.get("CidrIpv6"))
    return ":" in str(ip_range)


@patch("sg-rule-quota")
def _sg_rule_quota() -> None:
    """AWS (Amazon VPC User Guide, "Amazon VPC quotas", Security groups): inbound or outbound
    rules per security group, default 60 (quota L-0EA8095F), enforced separately for IPv4 and
    IPv6 rules and separately for inbound and outbound; each CIDR is one rule, and a rule that
    references a security group counts once for IPv4 and once for IPv6. Exceeding it is
    `RulesPerSecurityGroupLimitExceeded` "The maximum number of rules per security group has been
    reached." Setting `sg_rules_per_group`. moto: a fixed 60 that adds IPv4 and IPv6 rules
    together."""
    from moto.ec2.exceptions import RulesPerSecurityGroupLimitExceededError
    from moto.ec2.models.security_groups import SecurityGroupBackend

    def verify(self, group, current_rule_nb, ip_ranges, source_groups=None, egress=False):
        existing = group.egress_rules if egress else group.ingress_rules
        ipv4 = ipv6 = 0
        for rule in existing:
            if rule.ip_range:
                ipv6 += _is_ipv6_range(rule.ip_range)
                ipv4 += not _is_ipv6_range(rule.ip_range)
            else:
                ipv4 += 1
                ipv6 += 1
        for ip_range in ip_ranges or []:
            ipv6 += _is_ipv6_range(ip_range)
            ipv4 += not _is_ipv6_range(ip_range)
        references = len(source_groups or [])
        limit = SETTINGS["sg_rules_per_group"]
        if ipv4 + references > limit or ipv6 + references > limit:
            raise RulesPerSecurityGroupLimitExceededError()

    SecurityGroupBackend._verify_group_will_respect_rule_count_limit = verify


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


_QUOTA_SETTINGS = {("vpc", "L-0EA8095F"): "sg_rules_per_group", ("vpc", "L-93826ACB"): "routes_per_table"}


@patch("service-quotas-vpc")
def _service_quotas_vpc() -> None:
    """AWS: Service Quotas GetServiceQuota answers the quota applied to the caller's account and
    Region, with QuotaArn `arn:aws:servicequotas:<region>:<account>:vpc/<code>`; for an unknown
    quota code it is `NoSuchResourceException`. Here `vpc` L-0EA8095F (inbound or outbound rules
    per security group) answers `sg_rules_per_group` and L-93826ACB (routes per route table)
    `routes_per_table`, the values the quota patches enforce. moto: the AWS defaults (60, 50)
    whatever is enforced, with an ARN of another Region and no account."""
    from moto.servicequotas.models import ServiceQuotasBackend

    original = ServiceQuotasBackend.get_service_quota

    def get_service_quota(self, service_code, quota_code):
        quota = dict(original(self, service_code, quota_code))
        setting = _QUOTA_SETTINGS.get((service_code, quota_code))
        if setting:
            quota["Value"] = float(SETTINGS[setting])
        quota["QuotaArn"] = f"arn:aws:servicequotas:{self.region_name}:{self.account_id}:{service_code}/{quota_code}"
        return quota

    ServiceQuotasBackend.get_service_quota = get_service_quota


# ---------------------------------------------------------------------------------------------
# Organizations, Route 53 and CloudWatch Logs


@patch("organizations-suspended-accounts")
def _organizations_suspended_accounts() -> None:
    """AWS: an organization's member account can be SUSPENDED (closed, or suspended by AWS);
    DescribeAccount, ListAccounts and ListAccountsForParent then show `Status: SUSPENDED` and
    `State: SUSPENDED` (Organizations API reference, Account). Setting `suspended_accounts`.
    moto: every account is ACTIVE and nothing can change it."""
    from moto.organizations.models import FakeAccount

    def account_field(name: str) -> property:
        def get(self) -> str:
            if self.id in SETTINGS["suspended_accounts"]:
                return "SUSPENDED"
            return self.__dict__.get(f"_pw_{name}", "ACTIVE")

        def put(self, value: str) -> None:
            self.__dict__[f"_pw_{name}"] = value

        return property(get, put)

    FakeAccount.status = account_field("status")
    FakeAccount.state = account_field("state")


_R53_AUTHORIZATIONS: dict[tuple[str, str], list[dict[str, str]]] = {}


@patch("route53-vpc-association-authorization")
def _route53_vpc_association_authorization() -> None:
    """AWS (Route 53 Developer Guide, "Associating an Amazon VPC and a private hosted zone that you
    created with different AWS accounts"): the zone's account first calls
    CreateVPCAssociationAuthorization for the other account's VPC (ListVPCAssociationAuthorizations
    lists them, DeleteVPCAssociationAuthorization removes one: VPCAssociationAuthorizationNotFound
    if absent); then the VPC's account calls AssociateVPCWithHostedZone on the zone. Without the
    authorization that call is `NotAuthorizedException` (HTTP 401). GetHostedZone lists every
    associated VPC; the VPC's account may disassociate it and sees the zone in
    ListHostedZonesByVPC with the zone's account as owner. The association outlives a later
    DeleteVPCAssociationAuthorization. moto: the three authorization calls do not exist (404), and
    another account's zone is NoSuchHostedZone to the VPC's account."""
    from moto.core.responses import ActionResult, EmptyResult
    from moto.core.utils import utcnow
    from moto.route53 import urls
    from moto.route53.models import Route53Backend, route53_backends
    from moto.route53.responses import Route53

    for suffix in ("authorizevpcassociation", "deauthorizevpcassociation"):
        urls.url_paths[rf"{{0}}/(?P<api_version>[\d_-]+)/hostedzone/(?P<zone_id>[^/]+)/{suffix}$"] = Route53.dispatch

    def raw_id(zone_id: str) -> str:
        return str(zone_id or "").replace("/hostedzone/", "")

    def find_zone(zone_id: str):
        """(owner account, zone) of a hosted zone in any account, or (None, None)."""
        for account in list(route53_backends.keys()):
            backend = route53_backends[account]["aws"]
            zone = backend.zones.get(raw_id(zone_id))
            if zone is not None:
                return account, zone
        return None, None

    def vpc_param(response) -> dict[str, str]:
        return {"VPCRegion": response._get_param("VPC.VPCRegion"), "VPCId": response._get_param("VPC.VPCId")}

    def change_info(comment=None) -> ActionResult:
        return ActionResult(
            {"ChangeInfo": {"Id": "/change/C1PA6795UKMFR9", "Status": "INSYNC", "SubmittedAt": utcnow(), "Comment": comment}}
        )

    def create_authorization(self):
        zone = self.backend.get_hosted_zone(raw_id(self._get_param("HostedZoneId")))
        vpc = vpc_param(self)
        authorized = _R53_AUTHORIZATIONS.setdefault((self.current_account, zone.resource_id), [])
        if vpc not in authorized:
            authorized.append(vpc)
        return ActionResult({"HostedZoneId": zone.resource_id, "VPC": vpc})

    def delete_authorization(self):
        zone = self.backend.get_hosted_zone(raw_id(self._get_param("HostedZoneId")))
        vpc = vpc_param(self)
        authorized = _R53_AUTHORIZATIONS.get((self.current_account, zone.resource_id), [])
        if vpc not in authorized:
            raise _service_error(
                "VPCAssociationAuthorizationNotFound",
                f"The VPC: {vpc['VPCId']} has not authorized to associate with your hosted zone.",
            )
        authorized.remove(vpc)
        return EmptyResult()

    def list_authorizations(self):
        zone = self.backend.get_hosted_zone(raw_id(self._get_param("HostedZoneId")))
        authorized = _R53_AUTHORIZATIONS.get((self.current_account, zone.resource_id), [])
        return ActionResult({"HostedZoneId": zone.resource_id, "VPCs": list(authorized)})

    Route53.create_vpc_association_authorization = create_authorization
    Route53.delete_vpc_association_authorization = delete_authorization
    Route53.list_vpc_association_authorizations = list_authorizations

    original_associate = Route53.associate_vpc_with_hosted_zone
    original_disassociate = Route53.disassociate_vpc_from_hosted_zone

    def associate(self):
        zone_id = raw_id(self._get_param("HostedZoneId"))
        owner, zone = find_zone(zone_id)
        if zone is None or owner == self.current_account:
            return original_associate(self)
        vpc = vpc_param(self)
        if vpc not in _R53_AUTHORIZATIONS.get((owner, zone_id), []):
            raise _service_error(
                "NotAuthorizedException",
                f"The VPC: {vpc['VPCId']} has not authorized to associate with your hosted zone.",
            )
        zone.add_vpc(vpc["VPCId"], vpc["VPCRegion"])
        return change_info(self._get_param("Comment"))

    def disassociate(self):
        zone_id = raw_id(self._get_param("HostedZoneId"))
        owner, zone = find_zone(zone_id)
        if zone is None or owner == self.current_account:
            return original_disassociate(self)
        owner_backend = route53_backends[owner]["aws"]
        owner_backend.disassociate_vpc_from_hosted_zone(zone_id, self._get_param("VPC.VPCId"))
        return change_info(self._get_param("Comment"))

    Route53.associate_vpc_with_hosted_zone = associate
    Route53.disassociate_vpc_from_hosted_zone = disassociate

    def list_by_vpc(self, vpc_id):
        summaries = []
        for account in list(route53_backends.keys()):
            for zone in route53_backends[account]["aws"].zones.values():
                if zone.private_zone and any(v.get("vpc_id") == vpc_id for v in zone.vpcs):
                    summaries.append(
                        {"HostedZoneId": zone.resource_id, "Name": zone.name, "Owner": {"OwningAccount": account}}
                    )
        return summaries

    Route53Backend.list_hosted_zones_by_vpc = list_by_vpc


_FLOW_COMPARISON = re.compile(r"^\s*([A-Za-z_][\w.-]*)\s*(!=|>=|<=|=|>|<)\s*(.+?)\s*$")


def _split_top_level(text: str, separator: str) -> list[str]:
    """`text` split on `separator` outside double quotes."""
    parts, current, quoted, i = [], "", False, 0
    while i < len(text):
        if text[i] == '"':
            quoted = not quoted
        if not quoted and text.startswith(separator, i):
            parts.append(current)
            current = ""
            i += len(separator)
            continue
        current += text[i]
        i += 1
    parts.append(current)
    return parts


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


class SpaceDelimitedPattern:
    """A CloudWatch Logs filter pattern for space-delimited events: `[name, name=value, ...]`.

    Each field is `...` (any number of fields), a bare name, or conditions on that name joined by
    `&&` / `||`: `=` and `!=` (a number compares numerically; text may use `*`), `>`, `<`, `>=`,
    `<=` (numbers). Without `...` an event must have exactly as many fields as the pattern. An
    event's fields are split on spaces; text in double quotes or square brackets is one field."""

    def __init__(self, pattern: str):
        body = pattern.strip()
        if not (body.startswith("[") and body.endswith("]")):
            raise ValueError("a space-delimited pattern is enclosed in [ ]")
        self.fields: list[Any] = []
        for raw in _split_top_level(body[1:-1], ","):
            field = raw.strip()
            if not field:
                raise ValueError("empty field")
            if field == "...":
                self.fields.append(None)
                continue
            alternatives, names = [], set()
            for alternative in _split_top_level(field, "||"):
                conditions = []
                for term in _split_top_level(alternative, "&&"):
                    term = term.strip()
                    if re.fullmatch(r"[A-Za-z_][\w.-]*", term):
                        names.add(term)
                        continue
                    match = _FLOW_COMPARISON.match(term)
                    if not match:
                        raise ValueError(f"cannot read {term!r}")
                    names.add(match.group(1))
                    conditions.append((match.group(2), match.group(3).strip().strip('"')))
                alternatives.append(conditions)
            if len(names) > 1:
                raise ValueError(f"conditions of one field name one field: {field!r}")
            self.fields.append(alternatives)

    @staticmethod
    def tokens(message: str) -> list[str]:
        return [
            t.strip('"') if t.startswith('"') else t[1:-1] if t.startswith("[") else t
            for t in re.findall(r'"[^"]*"|\[[^\]]*\]|\S+', message)
        ]

    @staticmethod
    def _holds(op: str, wanted: str, value: str) -> bool:
        wanted_number, number = _number(wanted), _number(value)
        if op in ("=", "!="):
            if wanted_number is not None and number is not None:
                equal = wanted_number == number
            else:
                equal = fnmatch.fnmatchcase(value, wanted)
            return equal if op == "=" else not equal
        if wanted_number is None or number is None:
            return False
        return {">": number > wanted_number, "<": number < wanted_number, ">=": number >= wanted_number}.get(
            op, number <= wanted_number
        )

    def _field_matches(self, alternatives, value: str) -> bool:
        return any(all(self._holds(op, wanted, value) for op, wanted in conditions) for conditions in alternatives)

    def _match(self, fields: list[Any], values: list[str]) -> bool:
        if not fields:
            return not values
        head, rest = fields[0], fields[1:]
        if head is None:
            return any(self._match(rest, values[skip:]) for skip in range(len(values) + 1))
        return bool(values) and self._field_matches(head, values[0]) and self._match(rest, values[1:])

    def matches(self, message: str) -> bool:
        return self._match(self.fields, self.tokens(message))


@patch("logs-space-delimited-filter")
def _logs_space_delimited_filter() -> None:
    """AWS (CloudWatch Logs User Guide, "Filter pattern syntax", "Using filter patterns to match
    terms in space-delimited log events"): FilterLogEvents (and subscription/metric filters) take
    `[field, field=value, ...]` patterns over space-delimited events such as VPC flow log records
    (`[version, account, eni, src, dst, srcport, dstport=5432, protocol, packets, bytes, start,
    end, action=REJECT, status]`); an unreadable pattern is InvalidParameterException. moto: a
    pattern starting with `[` matches every event."""
    from moto.logs.exceptions import InvalidParameterException
    from moto.logs.utils import EventMessageFilter

    original_init = EventMessageFilter.__init__
    original_matches = EventMessageFilter.matches

    def init(self, pattern: str):
        self._pw_space_delimited = None
        if pattern and pattern.strip().startswith("["):
            try:
                self._pw_space_delimited = SpaceDelimitedPattern(pattern)
            except ValueError as err:
                raise InvalidParameterException(f"Invalid filter pattern: {err}") from None
            return
        original_init(self, pattern)

    def matches(self, message: str) -> bool:
        if self._pw_space_delimited is not None:
            return self._pw_space_delimited.matches(message)
        return original_matches(self, message)

    EventMessageFilter.__init__ = init
    EventMessageFilter.matches = matches


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--disable", default="", help="comma-separated patch names, or 'all'")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="a setting (repeatable; see --list)"
    )
    parser.add_argument("--list", action="store_true", help="list the patches and settings and exit")
    args = parser.parse_args()

    if args.list:
        for name, fn in PATCHES.items():
            print(f"{name}: {' '.join((fn.__doc__ or '').split())}")
        print()
        defaults = settings_view()
        for key, (_, _, what) in SETTING_SPECS.items():
            print(f"setting {key} (default {json.dumps(defaults[key])}): {what}")
        return 0
    if moto.__version__ != PINNED_MOTO:
        print(f"launcher: moto {moto.__version__} found, {PINNED_MOTO} pinned", file=sys.stderr)
        return 2
    disabled = set(PATCHES) if args.disable == "all" else {d for d in args.disable.split(",") if d}
    unknown = disabled - set(PATCHES)
    if unknown:
        print(f"launcher: unknown patches {sorted(unknown)}", file=sys.stderr)
        return 2
    try:
        pairs = [item.split("=", 1) for item in args.set]
        if any(len(pair) != 2 for pair in pairs):
            raise ValueError("--set takes KEY=VALUE")
        apply_settings(dict(pairs))
    except ValueError as err:
        print(f"launcher: {err}", file=sys.stderr)
        return 2
    _install_request_context()
    _install_settings_endpoint()
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
