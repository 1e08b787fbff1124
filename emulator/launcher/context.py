"""Request context: who calls, and the gates patches put in front of every action.

Always installed (it is not a patch): the calling account and region for per-owner views, the
gates (`GATES`) the IAM and DryRun patches append to, and the helpers that answer an error in the
calling service's own protocol.
"""

import threading
from collections.abc import Callable
from typing import Any


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
