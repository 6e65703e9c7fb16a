"""Gameball, as the rest of the gateway knows it (see gateway.vendors.descriptor)."""
from ..descriptor import Credential, VendorDescriptor

DESCRIPTOR = VendorDescriptor(
    name="gameball",
    title="Gameball v4.0 integrations API",
    spec="gameball.yaml",
    bundled_spec=True,
    # v4.0, and the v4 / v4.1 prefixes Gameball documents for the same paths (specs: x-prefix-aliases);
    # "/api/v4" makes any other v4-ish prefix (v4.2, v4.0.1) a Gameball-shaped 404
    path_prefixes=("/api/v4.0/", "/api/v4"),
    credentials=(Credential("apikey", prefix="gb-api", header="apikey", description="apikey header"),
                 Credential("secretkey", prefix="gb-secret", header="secretkey",
                            description="secretkey header (or transactionkey)")),
    identities=("gameball.customer",),
    settings={
        "high_security": {"type": "boolean", "description": "secretkey required on every endpoint"},
        "otp": {"type": "boolean",
                "description": "false (default): no OTP; true: a redeem (or hold) needs the OTP last sent by "
                               "POST /transactions/otp for that customer, unless ignoreOTP"},
        "replay_identical": {
            "type": "boolean",
            "description": "false (default): a reused transactionId/orderId/refundTransactionId is 9004, as "
                           "documented; true: an identical replay returns the first answer and changes nothing"}},
)
