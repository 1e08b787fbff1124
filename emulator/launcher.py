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
