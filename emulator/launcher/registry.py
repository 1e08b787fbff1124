"""The patch registry: `@patch("name")` registers a patch; `ORDER` is the order patches are listed
(`--list`) and applied in; the moto version the patches are written against is pinned here.
"""

from collections.abc import Callable

import moto

PINNED_MOTO = "5.2.5"

PATCHES: dict[str, Callable[[], None]] = {}

# The order `--list` prints the patches in and the launcher applies them in, service modules
# interleaved as docs/emulator.md lists them. It matters beyond the listing: the gates run in the
# order their patches were applied, so `denied-actions` answers before `ec2-dry-run`.
ORDER = (
    "peering-cidr-block-set",
    "overlapping-cidrs-fail",
    "describe-peering-filters",
    "peering-options-owner-only",
    "peering-options-active-only",
    "cross-account-sg-reference",
    "sg-rule-reference-description",
    "sg-rule-description-update",
    "test-event-pattern",
    "events-deliver-account",
    "peering-tags-per-owner",
    "peering-lifecycle",
    "one-peering-per-vpc-pair",
    "route-blackhole",
    "assume-role-denied",
    "denied-actions",
    "ec2-dry-run",
    "sg-rule-quota",
    "route-quota",
    "route-propagation",
    "service-quotas-vpc",
    "organizations-suspended-accounts",
    "route53-vpc-association-authorization",
    "route53-zone-tag-limit",
    "logs-space-delimited-filter",
    "latency",
)


def patch(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(fn: Callable[[], None]) -> Callable[[], None]:
        if name in PATCHES:
            raise RuntimeError(f"patch {name!r} is registered twice")
        PATCHES[name] = fn
        return fn

    return register


def ordered_patches() -> dict[str, Callable[[], None]]:
    """The registered patches in ORDER; a patch missing from either side is a launcher bug."""
    unlisted = [name for name in PATCHES if name not in ORDER]
    unregistered = [name for name in ORDER if name not in PATCHES]
    if unlisted or unregistered:
        raise RuntimeError(f"registry.ORDER is out of date: unlisted {unlisted}, unregistered {unregistered}")
    return {name: PATCHES[name] for name in ORDER}


def moto_version_problem() -> str | None:
    """Why the installed moto is not the pinned one, or None when it is."""
    if moto.__version__ != PINNED_MOTO:
        return f"moto {moto.__version__} found, {PINNED_MOTO} pinned"
    return None
