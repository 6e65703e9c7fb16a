"""Altcraft, as the rest of the gateway knows it (see gateway.vendors.descriptor). Its token also works in the
body field `token` and the (legacy) query `token`; clients of the plugin send it as a Bearer header."""
from ..descriptor import Credential, VendorDescriptor

DESCRIPTOR = VendorDescriptor(
    name="altcraft",
    title="Altcraft Platform API v1.1, loyalty section (JSON and XML)",
    spec="altcraft.yaml",
    bundled_spec=True,
    path_prefixes=("/api/v1.1/",),
    credentials=(Credential("token", prefix="altcraft", header="Authorization", scheme="Bearer",
                            description="Authorization: Bearer <token>, the body's token, or the query's token"),),
    identities=("altcraft.email", "altcraft.phone", "altcraft.profile_id", "altcraft.field.<name>"),
    settings={"error_http_status": {
        "type": "boolean",
        "description": "false (default): errors as HTTP 200 with error != 0; true: HTTP status = error code"}},
    program_external={"altcraft.program_id": "Altcraft loyalty_program_id",
                      "altcraft.tiers_group_id": "Altcraft tiers_group_id of the program's tiers (account/tiers)"},
    currency_external={
        "altcraft.iid": "Altcraft points currency numeric id (points_currency_iid)",
        "altcraft.eid": "Altcraft points currency external id (points_currency_eid); a list gives aliases"},
)
