"""Brevo, as the rest of the gateway knows it (see gateway.vendors.descriptor)."""
from ..descriptor import Credential, VendorDescriptor

DESCRIPTOR = VendorDescriptor(
    name="brevo",
    title="Brevo Loyalty Balance API v3",
    spec="brevo.yaml",
    bundled_spec=True,
    path_prefixes=("/v3/",),
    credentials=(Credential("api_key", prefix="brevo", header="api-key", description="api-key header"),),
    identities=("brevo.contact", "brevo.subscription"),
    settings={"organization_id": {
        "type": "integer", "minimum": 1,
        "description": "organizationId in balance records (default 5456004, Brevo's example)"}},
    program_external={"brevo.program_id": "Brevo loyalty program id (pid, a UUID)"},
    currency_external={"brevo.balance_definition_id": "Brevo balance definition id (a UUID)"},
)
