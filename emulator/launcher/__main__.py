"""Start the pinned moto server with the patches that make it behave like AWS where peerwire relies on it.

Usage: python emulator/launcher [--host 127.0.0.1] [--port 0] [--disable NAME[,NAME...]|all]
                                [--set KEY=VALUE]... [--list]

Port 0 picks a free port; the chosen one is printed as `PEERWIRE_EMULATOR_PORT=<port>` once the
server accepts connections, so a harness never races another process for a port.

Every patch restores one documented AWS behaviour that moto 5.2.5 lacks; docs/emulator.md lists
them all. `--disable` turns patches off so that a test can show each one is needed: the same
assertion fails on the unpatched server.

Settings (`--set KEY=VALUE`, repeatable) tune the patches that model time, quotas and IAM
denials; every key and its default is in settings.py and in docs/emulator.md. A running server
also takes settings over HTTP: `POST /peerwire-emulator/settings` with a JSON object of keys and
values changes them at once (all or none); `GET` on the same path answers the current settings.
"""

import os
import sys

if not __package__:
    # `python emulator/launcher`: Python put this directory on sys.path. Put its parent there
    # instead, so the modules load as the package `launcher` and their plain names (logs, events,
    # settings, ...) shadow no module of the same name that moto or its dependencies import.
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]
    sys.path.insert(0, os.path.dirname(_here))

import argparse  # noqa: E402
import json  # noqa: E402

# Each service module registers its patches on import; registry.ORDER fixes the order they are
# listed and applied in.
from launcher import (  # noqa: E402, F401
    ec2_peering,
    ec2_security_groups,
    events,
    ec2_routes,
    sts_iam,
    ec2_dry_run,
    servicequotas,
    organizations,
    route53,
    logs,
    latency,
)
from launcher.context import _install_request_context  # noqa: E402
from launcher.registry import moto_version_problem, ordered_patches  # noqa: E402
from launcher.settings import SETTING_SPECS, _install_settings_endpoint, apply_settings, settings_view  # noqa: E402


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
    patches = ordered_patches()

    if args.list:
        for name, fn in patches.items():
            print(f"{name}: {' '.join((fn.__doc__ or '').split())}")
        print()
        defaults = settings_view()
        for key, (_, _, what) in SETTING_SPECS.items():
            print(f"setting {key} (default {json.dumps(defaults[key])}): {what}")
        return 0
    problem = moto_version_problem()
    if problem:
        print(f"launcher: {problem}", file=sys.stderr)
        return 2
    disabled = set(patches) if args.disable == "all" else {d for d in args.disable.split(",") if d}
    unknown = disabled - set(patches)
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
    for name, fn in patches.items():
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
