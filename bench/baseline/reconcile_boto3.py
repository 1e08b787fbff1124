#!/usr/bin/env python3
# =============================================================================================
#  BASELINE FOR COMPARISON ONLY - NOT PRODUCT CODE.
#
#  A reference Python/boto3 implementation of the same wiring reconcile that peerwire's Rust
#  `peerwire::wire` performs, written only so that `peerwire-bench cpu` and `peerwire-bench rss`
#  can measure client CPU, wall time and memory side by side against the same emulator.
#  It is never deployed, never imported by the product, and implements only the benchmark's
#  policy (every subnet routed, groups selected by tag, CIDR ingress source, DNS options; no
#  DB-instance selectors, no IPv6, no blackhole repair reporting).
# =============================================================================================
"""Wire one active VPC peering on both sides, the way peerwire does, with boto3.

The peering as the accepter sees it, then as the requester sees it (AWS shows each owner only
its own view's tags, and the policy's rule requires a tag). Per side, the same filtered reads as
peerwire: DescribeVpcs, DescribeRouteTables (vpc-id, pages of 100; with every subnet in scope
the tables' associations say which tables serve them, so no DescribeSubnets), DescribeVpcAttribute x2, DescribeSecurityGroups (vpc-id + tag filter). When a
side gets routes or rules, its account's two VPC quotas (Service Quotas GetServiceQuota, once
per process) and nothing past them. Then the missing routes (one CreateRoute per table in scope
lacking the peer CIDR), the missing security-group rules (one Authorize per group), the missing
DNS-resolution options (one ModifyVpcPeeringConnectionOptions per side, with that side's
credentials), and one PutEvents outcome when something changed.

Prints one JSON document: init cost (imports, session, hub clients), then per run the client's
own CPU (getrusage RUSAGE_SELF, user+system), wall time, and the API calls it sent.
"""

import time

_WALL0 = time.perf_counter()

import resource  # noqa: E402


def _cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


_CPU0 = _cpu()

import argparse  # noqa: E402
import collections  # noqa: E402
import ipaddress  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

import boto3  # noqa: E402


def status_kb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


class Baseline:
    def __init__(self, args):
        self.args = args
        self.session = boto3.session.Session(
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name=args.region,
        )
        self.calls = collections.Counter()
        self.session.events.register("before-send", self._count)
        self.sts = self.session.client("sts", endpoint_url=args.endpoint)
        self.events = self.session.client("events", endpoint_url=args.endpoint)
        # Load the EC2 model once at init, as a Lambda would before its first event.
        self.session.client("ec2", endpoint_url=args.endpoint)
        self.members = {}
        self.credentials = {}
        self.quota_cache = {}

    def _count(self, request, event_name, **_):
        # event_name: before-send.<service>.<Operation>
        _, service, operation = event_name.split(".", 2)
        self.calls[f"{service}:{operation}"] += 1

    def member(self, account, service):
        """A client of `service` acting as `account` through its member role (assumed once)."""
        creds = self.credentials.get(account)
        if creds is None:
            role = self.args.role_template.replace("{account}", account)
            creds = self.sts.assume_role(
                RoleArn=role,
                RoleSessionName="peerwire",
                ExternalId=self.args.external_id,
            )["Credentials"]
            self.credentials[account] = creds
        key = (account, service)
        client = self.members.get(key)
        if client is None:
            client = self.session.client(
                service,
                endpoint_url=self.args.endpoint,
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
            )
            self.members[key] = client
        return client

    def ec2(self, account):
        return self.member(account, "ec2")

    def quotas(self, account):
        """(routes per table, rules per group) of `account`: two GetServiceQuota, once."""
        found = self.quota_cache.get(account)
        if found is None:
            client = self.member(account, "service-quotas")
            found = tuple(
                int(client.get_service_quota(ServiceCode="vpc", QuotaCode=code)["Quota"]["Value"])
                for code in ("L-93826ACB", "L-0EA8095F")
            )
            self.quota_cache[account] = found
        return found

    # ---- observe --------------------------------------------------------------------------

    def observe_side(self, ec2, vpc_id, tags):
        vpc_filter = [{"Name": "vpc-id", "Values": [vpc_id]}]
        vpc = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
        cidrs = [
            a["CidrBlock"]
            for a in vpc.get("CidrBlockAssociationSet", [])
            if a.get("CidrBlockState", {}).get("State", "associated") == "associated"
        ] or [vpc["CidrBlock"]]
        tables = []
        for page in ec2.get_paginator("describe_route_tables").paginate(
            Filters=vpc_filter, PaginationConfig={"PageSize": 100}
        ):
            tables.extend(page["RouteTables"])
        dns_support = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport")[
            "EnableDnsSupport"
        ]["Value"]
        dns_hostnames = ec2.describe_vpc_attribute(
            VpcId=vpc_id, Attribute="enableDnsHostnames"
        )["EnableDnsHostnames"]["Value"]
        group_filters = vpc_filter + [
            {"Name": f"tag:{k}", "Values": [v]} for k, v in sorted(tags.items())
        ]
        groups = []
        for page in ec2.get_paginator("describe_security_groups").paginate(
            Filters=group_filters, PaginationConfig={"PageSize": 1000}
        ):
            groups.extend(page["SecurityGroups"])
        return {
            "vpc_id": vpc_id,
            "cidrs": [str(ipaddress.ip_network(c, strict=False)) for c in cidrs],
            "tables": tables,
            "dns": (dns_support, dns_hostnames),
            "groups": sorted(groups, key=lambda g: g["GroupId"]),
        }

    # ---- plan -----------------------------------------------------------------------------

    @staticmethod
    def tables_in_scope(side):
        main = next(
            (t["RouteTableId"] for t in side["tables"]
             if any(a.get("Main") for a in t.get("Associations", []))),
            None,
        )
        explicit = {}
        for table in side["tables"]:
            for assoc in table.get("Associations", []):
                if assoc.get("SubnetId"):
                    explicit[assoc["SubnetId"]] = table["RouteTableId"]
        # Every subnet is in scope: the tables explicitly associated with a subnet, and the main
        # table for the others (and for subnets created later), as peerwire does.
        scope = set(explicit.values())
        scope.add(main)
        scope.discard(None)
        return sorted(scope)

    @staticmethod
    def plan_routes(pcx, side, peers):
        steps = []
        by_id = {t["RouteTableId"]: t for t in side["tables"]}
        for table_id in Baseline.tables_in_scope(side):
            routes = by_id[table_id].get("Routes", [])
            for peer in peers:
                existing = next(
                    (r for r in routes
                     if r.get("DestinationCidrBlock")
                     and str(ipaddress.ip_network(r["DestinationCidrBlock"], strict=False)) == peer),
                    None,
                )
                if existing is None:
                    steps.append(("route", table_id, peer))
                elif existing.get("VpcPeeringConnectionId") == pcx and existing.get("State") == "blackhole":
                    steps.append(("replace", table_id, peer))
        return steps

    @staticmethod
    def covers(permission, port, peer):
        protocol = str(permission.get("IpProtocol", "-1")).lower()
        if protocol not in ("-1", "tcp", "6"):
            return False
        if protocol != "-1":
            lo, hi = permission.get("FromPort"), permission.get("ToPort")
            if (lo is not None and lo > port) or (hi is not None and port > hi):
                return False
        want = ipaddress.ip_network(peer)
        return any(
            want.subnet_of(ipaddress.ip_network(r["CidrIp"], strict=False))
            for r in permission.get("IpRanges", [])
        )

    @staticmethod
    def missing_rules(groups, key, ports, peers):
        steps = []
        for group in groups:
            missing = [
                (port, peer)
                for port in sorted(set(ports))
                for peer in peers
                if not any(Baseline.covers(p, port, peer) for p in group.get(key, []))
            ]
            if missing:
                steps.append((group["GroupId"], missing))
        return steps

    # ---- reconcile ------------------------------------------------------------------------

    def allowed(self, pcx, requester_view):
        """The benchmark policy's rule: requester account, team=payments on the requester's own
        view of the peering, CIDRs in 10.0.0.0/8 no broader than /16."""
        tags = {t["Key"]: t.get("Value", "") for t in requester_view.get("Tags", [])}
        requester = pcx["RequesterVpcInfo"]
        cidrs = [b["CidrBlock"] for b in requester.get("CidrBlockSet", [])] or [requester["CidrBlock"]]
        allowed = ipaddress.ip_network("10.0.0.0/8")
        return (
            requester["OwnerId"] in self.args.requester_accounts
            and tags.get("team") == "payments"
            and all(
                ipaddress.ip_network(c).subnet_of(allowed) and ipaddress.ip_network(c).prefixlen >= 16
                for c in cidrs
            )
        )

    def reconcile(self):
        args = self.args
        accepter_ec2 = self.ec2(args.accepter_account)
        found = accepter_ec2.describe_vpc_peering_connections(
            VpcPeeringConnectionIds=[args.peering]
        )["VpcPeeringConnections"]
        if not found or found[0]["Status"]["Code"] != "active":
            return {"changes": [], "ignored": True}
        pcx = found[0]
        pcx_id = pcx["VpcPeeringConnectionId"]
        req_info, acc_info = pcx["RequesterVpcInfo"], pcx["AccepterVpcInfo"]
        if req_info["OwnerId"] not in args.requester_accounts:
            return {"changes": [], "ignored": True}
        requester_ec2 = self.ec2(req_info["OwnerId"])
        requester_view = requester_ec2.describe_vpc_peering_connections(
            VpcPeeringConnectionIds=[pcx_id]
        )["VpcPeeringConnections"]
        if not requester_view or not self.allowed(pcx, requester_view[0]):
            return {"changes": [], "ignored": True}
        requester = self.observe_side(requester_ec2, req_info["VpcId"], args.requester_tags)
        accepter = self.observe_side(accepter_ec2, acc_info["VpcId"], args.accepter_tags)

        plan = []
        for route in self.plan_routes(pcx_id, requester, accepter["cidrs"]):
            plan.append((requester_ec2, "requester") + route)
        for route in self.plan_routes(pcx_id, accepter, requester["cidrs"]):
            plan.append((accepter_ec2, "accepter") + route)
        ingress = self.missing_rules(accepter["groups"], "IpPermissions", args.ports, requester["cidrs"])
        egress = self.missing_rules(requester["groups"], "IpPermissionsEgress", args.ports, accepter["cidrs"])
        # Quotas before adding: read for a side that gets routes or rules; what would not fit
        # is reported, not attempted.
        over_quota = []
        for side, owner, state, routes, rules, key in (
            ("requester", req_info["OwnerId"], requester,
             [p for p in plan if p[1] == "requester"], egress, "IpPermissionsEgress"),
            ("accepter", acc_info["OwnerId"], accepter,
             [p for p in plan if p[1] == "accepter"], ingress, "IpPermissions"),
        ):
            if not routes and not rules:
                continue
            routes_limit, rules_limit = self.quotas(owner)
            for table in state["tables"]:
                needed = [p for p in routes if p[3] == table["RouteTableId"]]
                used = sum(1 for r in table.get("Routes", []) if r.get("GatewayId") != "local")
                if needed and used + len(needed) > routes_limit:
                    over_quota.extend(needed)
            for group_id, missing in rules:
                group = next(g for g in state["groups"] if g["GroupId"] == group_id)
                used = sum(len(p.get("IpRanges", [])) for p in group.get(key, []))
                if used + len(missing) > rules_limit:
                    over_quota.append(group_id)
        plan = [p for p in plan if p not in over_quota]
        ingress = [r for r in ingress if r[0] not in over_quota]
        egress = [r for r in egress if r[0] not in over_quota]
        findings = [f"quota: {q}" for q in over_quota] + [
            f"{side}: {name} is off"
            for side, state in (("requester", requester), ("accepter", accepter))
            for name, on in zip(("enableDnsSupport", "enableDnsHostnames"), state["dns"])
            if not on
        ]

        changes = []
        marker = f"peerwire:{pcx_id}"
        for ec2, side, kind, table_id, peer in plan:
            call = ec2.create_route if kind == "route" else ec2.replace_route
            try:
                call(RouteTableId=table_id, DestinationCidrBlock=peer, VpcPeeringConnectionId=pcx_id)
            except ec2.exceptions.ClientError as err:
                if err.response["Error"]["Code"] != "RouteAlreadyExists":
                    raise
            changes.append(f"{side} {table_id}: route {peer} -> {pcx_id}")
        for ec2, call_name, steps in (
            (accepter_ec2, "authorize_security_group_ingress", ingress),
            (requester_ec2, "authorize_security_group_egress", egress),
        ):
            for group_id, missing in steps:
                permissions = [
                    {"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
                     "IpRanges": [{"CidrIp": peer, "Description": marker}]}
                    for port, peer in missing
                ]
                try:
                    getattr(ec2, call_name)(GroupId=group_id, IpPermissions=permissions)
                except ec2.exceptions.ClientError as err:
                    if err.response["Error"]["Code"] != "InvalidPermission.Duplicate":
                        raise
                changes.append(f"{group_id}: {call_name} {missing}")
        for ec2, side, info, key in (
            (requester_ec2, "requester", req_info, "RequesterPeeringConnectionOptions"),
            (accepter_ec2, "accepter", acc_info, "AccepterPeeringConnectionOptions"),
        ):
            if not info.get("PeeringOptions", {}).get("AllowDnsResolutionFromRemoteVpc", False):
                ec2.modify_vpc_peering_connection_options(
                    VpcPeeringConnectionId=pcx_id, **{key: {"AllowDnsResolutionFromRemoteVpc": True}}
                )
                changes.append(f"{side}: DNS resolution from the remote VPC")

        if changes or findings:
            detail = {
                "kind": "wired",
                "peering_id": pcx_id,
                "trigger": "peering-accepted",
                "reasons": [f"missing: {c}" for c in changes] + findings,
                "changes": changes,
            }
            self.events.put_events(Entries=[{
                "EventBusName": args.bus,
                "Source": "peerwire-baseline",
                "DetailType": "Peering Wired",
                "Resources": [f"arn:aws:ec2:{args.region}:{args.accepter_account}:vpc-peering-connection/{pcx_id}"],
                "Detail": json.dumps(detail),
            }])
        return {"changes": changes, "findings": findings}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--peering", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--accepter-account", default="222222222222")
    parser.add_argument("--requester-accounts", nargs="+", default=["111111111111"])
    parser.add_argument("--role-template", default="arn:aws:iam::{account}:role/peerwire-member")
    parser.add_argument("--external-id", default="peerwire-emulator-external-id")
    parser.add_argument("--ports", type=int, nargs="+", default=[5432])
    parser.add_argument("--requester-tag", default="role=ecs-tasks")
    parser.add_argument("--accepter-tag", default="role=rds-db")
    parser.add_argument("--bus", default="default")
    parser.add_argument("--repeat", type=int, default=1,
                        help="reconciles in this process: the first wires, the next re-check")
    args = parser.parse_args()
    args.requester_tags = dict([args.requester_tag.split("=", 1)])
    args.accepter_tags = dict([args.accepter_tag.split("=", 1)])

    baseline = Baseline(args)
    init = {"wall_s": time.perf_counter() - _WALL0, "cpu_s": _cpu() - _CPU0}
    hwm_after_init = status_kb("VmHWM")
    runs = []
    for _ in range(args.repeat):
        baseline.calls.clear()
        cpu0, wall0 = _cpu(), time.perf_counter()
        result = baseline.reconcile()
        wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
        calls = dict(sorted(baseline.calls.items()))
        writes = sum(
            n for k, n in calls.items()
            if k.startswith("ec2:") and not k.split(":", 1)[1].startswith(("Describe", "Get", "List"))
        )
        runs.append({
            "wall_s": wall,
            "cpu_s": cpu,
            "calls_total": sum(calls.values()),
            "ec2_writes": writes,
            "calls": calls,
            "changes": len(result.get("changes", [])),
            "hwm_kb": status_kb("VmHWM"),
        })
    json.dump({
        "init": init,
        "hwm_after_init_kb": hwm_after_init,
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "runs": runs,
    }, sys.stdout)
    print()


if __name__ == "__main__":
    main()
