"""EC2 security groups: cross-account group references over an active peering, descriptions of
group-reference rules (described and updated), and the rules-per-group quota.
"""

import threading
from typing import Any

from moto.ec2.exceptions import EC2ClientError

from .registry import patch
from .settings import SETTINGS


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


@patch("sg-rule-description-update")
def _sg_rule_description_update() -> None:
    """AWS (EC2 API reference, UpdateSecurityGroupRuleDescriptionsIngress / ...Egress): "Updates the
    description of an ingress (inbound) [egress (outbound)] security group rule. You can replace an
    existing description, or add a description to a rule that did not have one previously. You can
    remove a description for a security group rule by omitting the description parameter in the
    request." The rule is named by its IpPermissions: protocol, ports and one CIDR (IpRanges,
    Ipv6Ranges) or one referenced group (UserIdGroupPairs, with the UserId of another account for
    a cross-account reference); DescribeSecurityGroups then shows the new description (and
    DescribeSecurityGroupRules, with `sg-rule-reference-description` for group references).
    moto: replaces a CIDR rule's description, but never a group-reference rule's (it compares the
    stored pair, description included, with the request's), and never removes a description
    whose parameter is omitted. Still as moto: a permission that names no existing rule changes
    nothing and is not an error (AWS's answer is not documented), and the
    SecurityGroupRuleDescriptions (by rule id) form is ignored."""
    from moto.ec2.exceptions import InvalidCIDRSubnetError, InvalidSecurityGroupNotFoundError
    from moto.ec2.models.security_groups import SecurityGroupBackend, SecurityGroupRule
    from moto.ec2.utils import is_valid_cidr, is_valid_ipv6_cidr

    def set_description(target: dict, given: dict) -> None:
        if "Description" in given:
            target["Description"] = given["Description"]
        else:
            target.pop("Description", None)

    def same_ports(rule, probe) -> bool:
        if rule.ip_protocol != probe.ip_protocol:
            return False
        return probe.ip_protocol == "-1" or (rule.from_port, rule.to_port) == (probe.from_port, probe.to_port)

    def update(self, egress: bool, group_name_or_id, ip_protocol, from_port, to_port, ip_ranges,
               source_groups=None, prefix_list_ids=None, security_rule_ids=None, vpc_id=None):
        group = self.get_security_group_by_name_or_id(group_name_or_id, vpc_id)
        if group is None:
            raise InvalidSecurityGroupNotFoundError(group_name_or_id)
        ip_ranges = [r for r in ip_ranges or [] if isinstance(r, dict)]
        for cidr in ip_ranges:
            if not (is_valid_cidr(cidr.get("CidrIp", "")) or is_valid_ipv6_cidr(cidr.get("CidrIpv6", ""))):
                raise InvalidCIDRSubnetError(cidr=cidr)
        pairs = self._add_source_group(source_groups, vpc_id)
        if not ip_protocol:
            return group
        rules = group.egress_rules if egress else group.ingress_rules
        try:  # moto's normalisation of the protocol ("6" is "tcp") and of the ports
            probe = SecurityGroupRule(self, ip_protocol, group.id, from_port, to_port, None, None, None, is_egress=egress)
        except (TypeError, ValueError):
            return group
        for given in ip_ranges:
            key = "CidrIp" if given.get("CidrIp") else "CidrIpv6"
            for rule in rules:
                if same_ports(rule, probe) and rule.ip_range and rule.ip_range.get(key) == given.get(key):
                    set_description(rule.ip_range, given)
        for given in pairs:
            user = given.get("UserId") or self.account_id
            for rule in rules:
                stored = rule.source_group
                if (
                    same_ports(rule, probe)
                    and stored
                    and stored.get("GroupId") == given.get("GroupId")
                    and (stored.get("UserId") or self.account_id) == user
                ):
                    set_description(stored, given)
        return group

    SecurityGroupBackend.update_security_group_rule_descriptions_ingress = (
        lambda self, *args, **kwargs: update(self, False, *args, **kwargs)
    )
    SecurityGroupBackend.update_security_group_rule_descriptions_egress = (
        lambda self, *args, **kwargs: update(self, True, *args, **kwargs)
    )


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
