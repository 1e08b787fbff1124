"""Settings: values the patches read on every request, so a test may change them mid-run.

Each key has a parser, a default and a line of help (SETTING_SPECS); `--set KEY=VALUE` and the HTTP
endpoint (`GET`/`POST /peerwire-emulator/settings`) go through `apply_settings`, all or none. The
emulator's clock `_now` is here too: the peering lifecycle reads it, `clock_offset` moves it.
"""

import ipaddress
import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any


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


def _non_negative_int(value: Any) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must be 0 or more")
    return number


def _vgw_routes(value: Any) -> dict[str, tuple[str, ...]]:
    """A JSON object (or its text) of `{"vgw-...": ["CIDR", ...]}`: the prefixes each virtual
    private gateway advertises over BGP."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    routes = json.loads(value) if isinstance(value, (str, bytes)) else value
    if not isinstance(routes, dict):
        raise ValueError('must be a JSON object {"vgw-...": ["CIDR", ...]}')
    parsed: dict[str, tuple[str, ...]] = {}
    for vgw, prefixes in routes.items():
        if not re.fullmatch(r"vgw-[0-9a-f]+", str(vgw)):
            raise ValueError(f"{vgw!r} is not a virtual private gateway id (vgw-...)")
        if not isinstance(prefixes, (list, tuple)):
            raise ValueError(f"{vgw}: the prefixes must be a JSON list")
        try:
            parsed[str(vgw)] = tuple(str(ipaddress.ip_network(str(p).strip())) for p in prefixes)
        except ValueError as err:
            raise ValueError(f"{vgw}: {err}") from None
    return parsed


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
    "pending_closure_accounts": (
        _accounts,
        (),
        "Organizations describes these accounts as PENDING_CLOSURE (suspended_accounts wins for an account in both)",
    ),
    "vgw_advertised_routes": (
        _vgw_routes,
        {},
        'JSON {"vgw-...": ["CIDR", ...]}: the prefixes each virtual private gateway advertises (BGP); '
        "a route table with propagation from it shows one propagated route per prefix",
    ),
    "route53_tags_per_zone": (_positive_int, 10, "tags a Route 53 hosted zone may carry after ChangeTagsForResource"),
    "latency_ms": (_non_negative_int, 0, "milliseconds every AWS request waits before it is answered (benchmarks)"),
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
        elif isinstance(value, dict):
            view[key] = {k: list(v) for k, v in value.items()}
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
