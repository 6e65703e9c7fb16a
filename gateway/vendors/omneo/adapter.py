"""Omneo's Laravel error bodies (`{"message"}`; `{"message", "errors": {field: [..]}}` on 422) and how
validation failures, engine errors and armed faults map onto them."""
from __future__ import annotations

import re
from decimal import Decimal

from ...codecs import jsonable
from ...engine import errors as E
from ...specs import Operation, Violation
from ..base import Reply, Vendor
from . import auth, render, responses

PROFILE_MODEL = render.PROFILE_MODEL

# fault case -> (status, Laravel production text, headers)
FAULTS = {
    "rate_limit": (429, "Too Many Attempts.", {"Retry-After": "60"}),
    "server_error": (500, "Server Error.", {}),
    "unavailable": (503, "Service Unavailable", {}),
    "unauthorized": (401, "Unauthenticated.", {}),
    "forbidden": (403, "This action is unauthorized.", {}),
}

# A field whose every refusal reads as one rule's text (the currency must be one configured in the tenant:
# a lower-case or unknown code is "not a configured currency", whichever layer refuses it).
FIELD_TEXT = {"currency": responses.CURRENCY_INVALID}

TYPE_TEXT = {"integer": "The {a} must be an integer.", "number": "The {a} must be a number.",
             "string": "The {a} must be a string.", "boolean": "The {a} field must be true or false.",
             "array": "The {a} must be an array.", "object": "The {a} must be an array."}
FORMAT_TEXT = {"uuid": "The {a} must be a valid UUID.", "date-time": "The {a} is not a valid date.",
               "email": "The {a} must be a valid email address.", "uri": "The {a} must be a valid URL."}


def _dotted(field: str) -> str:
    """A query parameter's name as Laravel's validator names it: `page[size]` is the array input `page.size`."""
    return re.sub(r"\[([^\]]*)\]", r".\1", field)


def _attribute(field: str) -> str:
    return field.replace("_", " ")


def _num(value) -> str:
    d = Decimal(str(value))
    return str(int(d)) if d == d.to_integral_value() else str(d.normalize())


def _schema_at(op: Operation, v: Violation) -> dict:
    """The schema of the offending value (for bounds, types and formats in the message)."""
    parts = [p for p in v.pointer.strip("/").split("/") if p]
    if v.location in ("path", "query"):
        return next((p.schema for p in op.params_in(v.location) if parts[1:2] == [p.name]), {})
    node = op.body_schema or {}
    for part in parts[1:]:
        if not isinstance(node, dict):
            return {}
        props = dict(node.get("properties", {}))
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in node.get(key, ()):
                props.update({k: s for k, s in sub.get("properties", {}).items() if k not in props})
        if part in props:
            node = props[part]
        elif "items" in node and part.isdigit():
            node = node["items"]
        else:
            return {}
    return node if isinstance(node, dict) else {}


# engine refusal reason -> Omneo's words for refusing a reversal (`errors.redemption`)
REVERSAL_TEXT = {
    "not_reversible": "Only redemptions of type redeem can be reversed.",
    "already_reversed": "The redemption has already been reversed.",
    "reversal_window_closed": "The redemption can only be reversed within {minutes} minutes.",
    "entry_cancelled": "The redemption has already been cancelled.",
}


# the same refusals, for a return (POST /v3/redemptions/{id}/return)
RETURN_TEXT = {
    "not_reversible": "Only redemptions of type redeem can be returned.",
    "already_reversed": "Nothing of the redemption is left to return.",
}

# and for a benefit return (POST /v3/redemptions/{id}/benefit/return)
BENEFIT_RETURN_TEXT = {
    "not_reversible": "Only redemptions of type redeem can be returned.",
    "already_reversed": "Every benefit of the redemption has been returned.",
}

# path parameter -> the model Laravel binds it to, where the parameter's name alone does not say
PATH_MODELS = {(op, "definition"): "App\\Models\\PointDefinition"
               for op in ("get_point_definition", "update_point_definition", "delete_point_definition")}
# a point definition's deletion refused (not cascaded): errors.point_definition
DEFINITION_KEPT = {"currency_in_use": "The point definition is in use.",
                   "last_currency": "The program's last point definition cannot be deleted."}
# (part B: rewards, redemptions, tiers)
PATH_MODELS.update({(op, "definition"): "App\\Models\\RewardDefinition"
                    for op in ("get_reward_definition", "update_reward_definition", "delete_reward_definition")})
PATH_MODELS.update({(op, "definition"): "App\\Models\\TierDefinition"
                    for op in ("get_tier_definition", "update_tier_definition", "delete_tier_definition")})
REQUIRED_WITHOUT_B = {("create_profile_reward", "reward_definition_id"): "reward definition handle"}
PATH_MODELS.update({("get_redemption_item", "item"): "App\\Models\\RedemptionItem",
                    ("get_tier_point", "point"): "App\\Models\\TierPoint"})


# Laravel `required_without`: the reward definition is named by id or by handle
REQUIRED_WITHOUT = {("create_reward", "reward_definition_id"): "reward definition handle"}


def _message(op: Operation, v: Violation) -> str:
    a = _attribute(_dotted(v.field)) if v.field else "body"
    if v.keyword == "required":
        other = REQUIRED_WITHOUT.get((op.handler, v.field)) or REQUIRED_WITHOUT_B.get((op.handler, v.field))
        if other:
            return f"The {a} field is required when {other} is not present."
        return f"The {a} field is required."
    if v.field in FIELD_TEXT:
        return FIELD_TEXT[v.field]
    if v.keyword == "type" and v.value is None and v.location == "body" \
            and v.field in (op.body_schema or {}).get("required", ()):
        return f"The {a} field is required."      # Laravel's `required` refuses null too
    s = _schema_at(op, v)
    if v.keyword == "type":
        types = s.get("type", "string")
        types = [types] if isinstance(types, str) else [t for t in types if t != "null"] or ["string"]
        return TYPE_TEXT.get(types[0], "The {a} is invalid.").format(a=a)
    if v.keyword == "format":
        return FORMAT_TEXT.get(s.get("format", ""), "The {a} format is invalid.").format(a=a)
    if v.keyword == "pattern":
        return f"The {a} format is invalid."
    if v.keyword == "anyOf" and v.field.endswith(("_at", "_time")):   # InputTimestamp: neither accepted form
        return f"The {a} is not a valid date."
    if v.keyword == "uniqueItems":
        return f"The {a} field has a duplicate value."
    if v.keyword in ("enum", "const"):
        return f"The selected {a} is invalid."
    if v.keyword == "minimum" and "minimum" in s:
        return f"The {a} must be at least {_num(s['minimum'])}."
    if v.keyword == "exclusiveMinimum" and "exclusiveMinimum" in s:
        return f"The {a} must be greater than {_num(s['exclusiveMinimum'])}."
    if v.keyword == "maximum" and "maximum" in s:
        return f"The {a} must not be greater than {_num(s['maximum'])}."
    if v.keyword == "exclusiveMaximum" and "exclusiveMaximum" in s:
        return f"The {a} must be less than {_num(s['exclusiveMaximum'])}."
    if v.keyword == "minLength" and "minLength" in s:
        return f"The {a} must be at least {s['minLength']} characters."
    if v.keyword == "maxLength" and "maxLength" in s:
        return f"The {a} must not be greater than {s['maxLength']} characters."
    if v.keyword == "minItems" and "minItems" in s:
        return f"The {a} must have at least {s['minItems']} items."
    if v.keyword == "maxItems" and "maxItems" in s:
        return f"The {a} must not have more than {s['maxItems']} items."
    return f"The {a} is invalid."


class OmneoVendor(Vendor):
    name = "omneo"
    responses = responses
    fault_cases = {k: f"HTTP {status}, {text!r}" for k, (status, text, _) in FAULTS.items()}

    def authenticate(self, request, op, engine, body):
        return auth.authenticate(request, engine)

    def malformed(self, op, message, fmt="json"):
        if "too large" in message:
            return render.error(413, "The request body is too large.")
        # Laravel reads a malformed JSON body as an empty one; the dispatcher refuses it before the handler,
        # so the gateway answers with the validation errors an empty body gets (or, when an empty body would
        # be valid, says the body is not JSON).
        violations = op.validate_body({}) if op is not None and op.body_schema is not None else []
        if violations:
            return self.invalid(op, violations)
        return render.validation({"body": ["The request body must be valid JSON."]})

    def invalid(self, op: Operation, violations: list[Violation]) -> Reply:
        path = [v for v in violations if v.location == "path"]
        if path:   # route model binding runs before validation: an unusable id is simply not found
            field = path[0].field
            model = PROFILE_MODEL if field == "profile" else PATH_MODELS.get((op.handler, field), _model(field))
            return render.not_found(model, getattr(path[0], "value", None))
        if any(v.location == "body" and v.pointer == "/body" and v.keyword == "required" for v in violations):
            # no body at all: Laravel validates an empty input
            violations = [v for v in violations if v.pointer != "/body"] + op.validate_body({})
        # Laravel lists errors in the order of its rules: the body's fields in their declared order
        order = {name: i for i, name in enumerate((op.body_schema or {}).get("properties", {}))}
        violations = sorted(violations, key=lambda v: order.get(v.field.split(".")[0], len(order)))
        errors: dict[str, list[str]] = {}
        for v in violations:
            msg = _message(op, v)
            key = _dotted(v.field) if v.field else "body"
            if msg not in errors.setdefault(key, []):
                errors[key].append(msg)
        return render.validation(errors)

    def engine_error(self, op, exc: E.EngineError) -> Reply:
        if isinstance(exc, (E.MemberNotFound, E.MemberInactive)):   # soft-deleted profiles are not bound either
            return render.not_found(PROFILE_MODEL, exc.detail.get(responses.PROFILE))
        if isinstance(exc, (E.TransactionNotFound, E.RedemptionNotFound)):
            return render.not_found("App\\Models\\Redemption", next(iter(exc.detail.values()), None))
        if isinstance(exc, E.NotFound):
            return render.not_found(_model(exc.code.removesuffix("_not_found")), next(iter(exc.detail.values()), None))
        if exc.code in DEFINITION_KEPT and op is not None and op.handler == "delete_point_definition":
            return render.validation({"point_definition": [DEFINITION_KEPT[exc.code]]})
        if exc.code in REVERSAL_TEXT:
            text = REVERSAL_TEXT[exc.code]
            if op is not None and op.handler == "return_redemption":
                text = RETURN_TEXT.get(exc.code, text)
            elif op is not None and op.handler == "return_redemption_benefits":
                text = BENEFIT_RETURN_TEXT.get(exc.code, text)
            return render.validation({"redemption": [text.format(**exc.detail)]})
        field = responses.AMOUNT_FIELD.get(op.handler, "amount") if op is not None else "amount"
        if isinstance(exc, E.InsufficientPoints):
            return render.validation({field: [f"The {_attribute(field)} exceeds the available balance."]})
        if isinstance(exc, (E.InvalidAmount, E.LimitExceeded)):
            return render.validation({field: [_amount_text(field, exc.message)]})
        return render.validation({next(iter(exc.detail), "request"): [_sentence(exc.message)]})

    def not_found_route(self, path):
        return render.error(404, f"The route {path.lstrip('/')} could not be found.")

    def method_not_allowed(self, path, method, allowed):
        # Laravel's MethodNotAllowedHttpException text
        return render.error(405, f"The {method} method is not supported for route {path.lstrip('/')}. "
                                 f"Supported methods: {', '.join(allowed)}.")

    def internal(self, op):
        return render.error(500, "Server Error.")

    def fault(self, case, op):
        status, text, headers = FAULTS[case]
        return render.error(status, text, headers)

    def not_implemented(self, op):
        return render.error(501, f"{op.operation_id} is not served by this gateway yet.")

    def member_view(self, tenant, member):
        """Exactly the `data` of GET /api/v3/profiles/{profile}/balances (no ?currency=), as JSON values."""
        return jsonable(responses.profile_balances(tenant, member))


def _model(name: str) -> str:
    return "App\\Models\\" + "".join(p.capitalize() for p in name.replace(".", "_").split("_"))


def _sentence(text: str) -> str:
    text = text.strip() or "The given data was invalid"
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _amount_text(field: str, text: str) -> str:
    """The engine's amount refusal ("amount must be greater than 0") worded for the request field."""
    text = text.strip()
    if text.startswith("amount "):
        return _sentence(f"The {_attribute(field)} {text[len('amount '):]}")
    return _sentence(text)
