"""EC2 DryRun: every EC2 action answers DryRunOperation instead of acting."""

from .context import GATES, _answer_error
from .registry import patch


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
