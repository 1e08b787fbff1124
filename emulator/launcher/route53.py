"""Route 53: associating a VPC with another account's private hosted zone through a VPC association
authorization, and the number of tags a hosted zone may carry.
"""

from .context import _service_error
from .registry import patch
from .settings import SETTINGS


_R53_AUTHORIZATIONS: dict[tuple[str, str], list[dict[str, str]]] = {}


@patch("route53-vpc-association-authorization")
def _route53_vpc_association_authorization() -> None:
    """AWS (Route 53 Developer Guide, "Associating an Amazon VPC and a private hosted zone that you
    created with different AWS accounts"): the zone's account first calls
    CreateVPCAssociationAuthorization for the other account's VPC (ListVPCAssociationAuthorizations
    lists them, DeleteVPCAssociationAuthorization removes one: VPCAssociationAuthorizationNotFound
    if absent); then the VPC's account calls AssociateVPCWithHostedZone on the zone. Without the
    authorization that call is `NotAuthorizedException` (HTTP 401). GetHostedZone lists every
    associated VPC; the VPC's account may disassociate it and sees the zone in
    ListHostedZonesByVPC with the zone's account as owner. The association outlives a later
    DeleteVPCAssociationAuthorization. moto: the three authorization calls do not exist (404), and
    another account's zone is NoSuchHostedZone to the VPC's account."""
    from moto.core.responses import ActionResult, EmptyResult
    from moto.core.utils import utcnow
    from moto.route53 import urls
    from moto.route53.models import Route53Backend, route53_backends
    from moto.route53.responses import Route53

    for suffix in ("authorizevpcassociation", "deauthorizevpcassociation"):
        urls.url_paths[rf"{{0}}/(?P<api_version>[\d_-]+)/hostedzone/(?P<zone_id>[^/]+)/{suffix}$"] = Route53.dispatch

    def raw_id(zone_id: str) -> str:
        return str(zone_id or "").replace("/hostedzone/", "")

    def find_zone(zone_id: str):
        """(owner account, zone) of a hosted zone in any account, or (None, None)."""
        for account in list(route53_backends.keys()):
            backend = route53_backends[account]["aws"]
            zone = backend.zones.get(raw_id(zone_id))
            if zone is not None:
                return account, zone
        return None, None

    def vpc_param(response) -> dict[str, str]:
        return {"VPCRegion": response._get_param("VPC.VPCRegion"), "VPCId": response._get_param("VPC.VPCId")}

    def change_info(comment=None) -> ActionResult:
        return ActionResult(
            {"ChangeInfo": {"Id": "/change/C1PA6795UKMFR9", "Status": "INSYNC", "SubmittedAt": utcnow(), "Comment": comment}}
        )

    def create_authorization(self):
        zone = self.backend.get_hosted_zone(raw_id(self._get_param("HostedZoneId")))
        vpc = vpc_param(self)
        authorized = _R53_AUTHORIZATIONS.setdefault((self.current_account, zone.resource_id), [])
        if vpc not in authorized:
            authorized.append(vpc)
        return ActionResult({"HostedZoneId": zone.resource_id, "VPC": vpc})

    def delete_authorization(self):
        zone = self.backend.get_hosted_zone(raw_id(self._get_param("HostedZoneId")))
        vpc = vpc_param(self)
        authorized = _R53_AUTHORIZATIONS.get((self.current_account, zone.resource_id), [])
        if vpc not in authorized:
            raise _service_error(
                "VPCAssociationAuthorizationNotFound",
                f"The VPC: {vpc['VPCId']} has not authorized to associate with your hosted zone.",
            )
        authorized.remove(vpc)
        return EmptyResult()

    def list_authorizations(self):
        zone = self.backend.get_hosted_zone(raw_id(self._get_param("HostedZoneId")))
        authorized = _R53_AUTHORIZATIONS.get((self.current_account, zone.resource_id), [])
        return ActionResult({"HostedZoneId": zone.resource_id, "VPCs": list(authorized)})

    Route53.create_vpc_association_authorization = create_authorization
    Route53.delete_vpc_association_authorization = delete_authorization
    Route53.list_vpc_association_authorizations = list_authorizations

    original_associate = Route53.associate_vpc_with_hosted_zone
    original_disassociate = Route53.disassociate_vpc_from_hosted_zone

    def associate(self):
        zone_id = raw_id(self._get_param("HostedZoneId"))
        owner, zone = find_zone(zone_id)
        if zone is None or owner == self.current_account:
            return original_associate(self)
        vpc = vpc_param(self)
        if vpc not in _R53_AUTHORIZATIONS.get((owner, zone_id), []):
            raise _service_error(
                "NotAuthorizedException",
                f"The VPC: {vpc['VPCId']} has not authorized to associate with your hosted zone.",
            )
        zone.add_vpc(vpc["VPCId"], vpc["VPCRegion"])
        return change_info(self._get_param("Comment"))

    def disassociate(self):
        zone_id = raw_id(self._get_param("HostedZoneId"))
        owner, zone = find_zone(zone_id)
        if zone is None or owner == self.current_account:
            return original_disassociate(self)
        owner_backend = route53_backends[owner]["aws"]
        owner_backend.disassociate_vpc_from_hosted_zone(zone_id, self._get_param("VPC.VPCId"))
        return change_info(self._get_param("Comment"))

    Route53.associate_vpc_with_hosted_zone = associate
    Route53.disassociate_vpc_from_hosted_zone = disassociate

    def list_by_vpc(self, vpc_id):
        summaries = []
        for account in list(route53_backends.keys()):
            for zone in route53_backends[account]["aws"].zones.values():
                if zone.private_zone and any(v.get("vpc_id") == vpc_id for v in zone.vpcs):
                    summaries.append(
                        {"HostedZoneId": zone.resource_id, "Name": zone.name, "Owner": {"OwningAccount": account}}
                    )
        return summaries

    Route53Backend.list_hosted_zones_by_vpc = list_by_vpc


@patch("route53-zone-tag-limit")
def _route53_zone_tag_limit() -> None:
    """AWS (Route 53 API reference): a hosted zone carries at most 10 tags. ChangeTagsForResource,
    AddTags: "You can add a maximum of 10 tags to a health check or a hosted zone"; ResourceTagSet
    (what ListTagsForResource(s) answers for a zone), Tags: "Array Members: Minimum number of 1
    item. Maximum number of 10 items". A ChangeTagsForResource on a hosted zone that would leave it
    with more tags than the setting `route53_tags_per_zone` (default 10; AddTags applied, then
    RemoveTagKeys, as moto applies them) is refused with `InvalidInput` (HTTP 400) and changes
    nothing. The code and message are the emulator's choice: no AWS document found names the
    error (InvalidInput is among the operation's documented errors). Health checks are not
    limited. moto: no limit."""
    from moto.route53.exceptions import InvalidInput
    from moto.route53.models import Route53Backend

    original = Route53Backend.change_tags_for_resource

    def change_tags_for_resource(self, resource_type, resource_id, add_tags, remove_tag_keys):
        if resource_type == "hostedzone" and resource_id in self.zones:
            tags = dict(self.resource_tags.get(resource_id, {}))
            for tag in add_tags or []:
                tags[tag["Key"]] = tag["Value"]
            for key in remove_tag_keys or []:
                tags.pop(key, None)
            limit = SETTINGS["route53_tags_per_zone"]
            if len(tags) > limit:
                raise InvalidInput(
                    f"The hosted zone {resource_id} would have {len(tags)} tags; "
                    f"a hosted zone can have at most {limit} tags."
                )
        return original(self, resource_type, resource_id, add_tags, remove_tag_keys)

    Route53Backend.change_tags_for_resource = change_tags_for_resource
