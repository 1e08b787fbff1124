"""IAM as a member account sees it: denied roles (STS AssumeRole) and missing permissions
(any service's action denied to an account).
"""

import fnmatch

from .context import GATES, _action_of, _answer_error, _caller_arn, _service_error
from .registry import patch
from .settings import SETTINGS


# IAM service prefixes where moto's service name differs.
_IAM_PREFIX = {"service-quotas": "servicequotas", "events": "events", "monitoring": "cloudwatch"}


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
