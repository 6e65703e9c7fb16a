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
        "otp": {"type": ["boolean", "string"], "pattern": "^[0-9]{4,8}$",
                "description": "false (default): no OTP; true: POST /transactions/otp issues a random code and a "
                               "redeem or hold needs it (unless ignoreOTP); a string of 4-8 digits: the same, "
                               "every code issued being that one (what the customer's SMS would carry)"},
        "replay_identical": {
            "type": "boolean",
            "description": "false (default): a reused transactionId/orderId/refundTransactionId is 9004, as "
                           "documented; true: an identical replay returns the first answer and changes nothing"}},
)
