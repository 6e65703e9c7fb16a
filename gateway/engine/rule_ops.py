"""Spending points through configured rules, and one-time passwords that guard spending.

- A **redemption rule** of the member's program names a fixed number of points (a 5 USD discount for 100
  points, free shipping for 500): holding for a rule reserves exactly those points. A rule with no fixed
  number cannot be held by itself (the caller says how many points), an inactive one is refused.
- A **one-time password** is issued for a member (the code comes from the caller: the gateway has no SMS) and
  is valid for `OTP_MINUTES`; `verify_otp` checks a code against the last one issued.

`RuleOperations` is mixed into `Tenant`: each public method is one engine operation."""
from __future__ import annotations

from datetime import timedelta

from .errors import DefinitionNotFound, InvalidAmount, RuleInactive, VerificationFailed
from .model import Hold, Member, PointCurrency, RedemptionRule

OTP_MINUTES = 5
OTP_RECORD = "otp"        # store records: member id -> (code, expires_at)


class RuleOperations:
    def redemption_rule(self, member: Member, rule_id) -> RedemptionRule:
        program = self.program(member.program_id)
        rule = next((r for r in program.redemption_rules if str(r.id) == str(rule_id)), None)
        if rule is None:
            raise DefinitionNotFound("redemption rule not found", rule=rule_id)
        return rule

    def hold_for_rule(self, member: Member, currency: PointCurrency, rule_id) -> Hold:
        """Reserve the points a redemption rule takes (one engine operation: the rule read and the hold)."""
        rule = self.redemption_rule(member, rule_id)
        if not rule.active:
            raise RuleInactive("redemption rule is not active", rule=rule_id)
        if rule.points is None:
            raise InvalidAmount("this redemption rule takes any number of points: say how many", rule=rule_id)
        return self.hold(member, currency, rule.points)

    def issue_otp(self, member: Member, code: str) -> None:
        def op(now):
            self.store.put_record(OTP_RECORD, member.id, (str(code), now + timedelta(minutes=OTP_MINUTES)))
        self.run(op)

    def verify_otp(self, member: Member, code: str | None) -> None:
        """Nothing if `code` is the member's current one-time password; VerificationFailed otherwise."""
        def op(now):
            if not code:
                raise VerificationFailed("a one-time password is required", missing=True)
            issued = self.store.record(OTP_RECORD, member.id)
            if issued is None or issued[0] != str(code) or issued[1] <= now:
                raise VerificationFailed("the one-time password is wrong or expired", missing=False)
        self.run(op)
