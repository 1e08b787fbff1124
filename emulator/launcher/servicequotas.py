"""Service Quotas: GetServiceQuota answers the VPC quotas the quota patches enforce."""

from .registry import patch
from .settings import SETTINGS


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
