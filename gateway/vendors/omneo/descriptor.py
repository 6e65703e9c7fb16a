"""Omneo, as the rest of the gateway knows it (see gateway.vendors.descriptor)."""
from ..descriptor import Credential, VendorDescriptor

DESCRIPTOR = VendorDescriptor(
    name="omneo",
    title="Omneo API v3",
    spec="omneo.yaml",
    bundled_spec=True,
    path_prefixes=("/api/v3/",),
    credentials=(Credential("token", prefix="omneo", header="Authorization", scheme="Bearer",
                            description="Authorization: Bearer <token>"),),
    test_headers={"Accept": "application/json"},
    identities=("omneo.profile", "omneo.identity.<name>"),
    settings={},
    settings_description="Omneo has no settings yet",
    currency_external={"omneo.point_definition_id": "Omneo point definition id"},
)
