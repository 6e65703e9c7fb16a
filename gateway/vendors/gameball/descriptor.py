"""Gameball, as the rest of the gateway knows it (see gateway.vendors.descriptor)."""
from ..descriptor import Credential, VendorDescriptor

DESCRIPTOR = VendorDescriptor(
    name="gameball",
    title="Gameball v4.0 integrations API",
    spec="gameball.yaml",
    bundled_spec=True,
    path_prefixes=("/api/v4.0/",),
    credentials=(Credential("apikey", prefix="gb-api", header="apikey", description="apikey header"),
                 Credential("secretkey", prefix="gb-secret", header="secretkey",
                            description="secretkey header (or transactionkey)")),
    identities=("gameball.customer",),
    settings={
        "high_security": {"type": "boolean", "description": "secretkey required on every endpoint"},
        "replay_identical": {
            "type": "boolean",
            "description": "false (default): a reused transactionId/orderId/refundTransactionId is 9004, as "
                           "documented; true: an identical replay returns the first answer and changes nothing"}},
)
