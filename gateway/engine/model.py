"""Vendor-neutral domain records. Frozen: the engine replaces, never mutates, so a store can
undo or persist each change it is handed."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Mapping

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class CurrencyRules:
    """Limits and rounding a point currency enforces on every credit and debit."""

    min_balance: Decimal | None = None
    max_balance: Decimal | None = None
    max_credit: Decimal | None = None
    max_debit: Decimal | None = None
    overtaking: str = "strict"          # strict | partial: what a credit over max_balance does
    credit_rounding: str | None = None  # None (keep decimals) | lower | upper | natural
    debit_rounding: str | None = None
    max_amount: Decimal = Decimal("1000000000")  # anything above is absurd, whatever the rules say


@dataclass(frozen=True, slots=True)
class PointCurrency:
    id: str
    name: str
    value: Decimal                      # money value of one point
    decimals: int = 2                   # precision of point amounts
    pending_days: int = 0               # return window: days before earned points are available
    expiry_days: int | None = None      # counted from availability; None = never
    fixed_expiry: str | None = None     # "dd/mm": expires when that date next comes (instead of expiry_days)
    hold_minutes: int = 10
    temp_timeout_sec: int = 600         # default timeout of a temporary transaction
    rules: CurrencyRules = CurrencyRules()
    external: Mapping[str, Any] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None  # added to its program then (engine/catalog.py); None: from the start
    updated_at: datetime | None = None
    expiry_rule: Any = None             # an expiry.ExpiryRule (calendar units), instead of expiry_days
    limits: tuple = ()                  # limits.BalanceLimit: transactions or points per window, per direction


@dataclass(frozen=True, slots=True)
class Tier:
    id: int
    handle: str
    name: str
    value_min: Decimal
    value_maintain: Decimal
    is_floor: bool = False
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RewardDefinition:
    id: int
    handle: str
    name: str
    value: Decimal
    period_days: int | None = None
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RedemptionRule:
    """A configured way to spend points (a discount, free shipping, a product): `points` a customer gives for it
    (None: any number), what one point is worth under it (None: the currency's value), whether it is offered."""
    id: int
    points: Decimal | None = None
    kind: str = "fixed_rate"
    value_per_point: Decimal | None = None
    active: bool = True
    created_at: datetime | None = None
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Program:
    id: str
    name: str
    money_currency: str
    currencies: tuple[PointCurrency, ...]
    tiers: tuple[Tier, ...] = ()
    tier_window_days: int = 365
    reward_definitions: tuple[RewardDefinition, ...] = ()
    currency_rates: Mapping[str, Decimal] = field(default_factory=dict)  # money currency -> rate
    earn_per_money: Decimal = Decimal(1)   # points earned per unit of money paid
    reversal_window_minutes: int = 10      # how long a redemption may be reversed
    external: Mapping[str, Any] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)
    currency_drafts: Mapping[str, PointCurrency] = field(default_factory=dict)   # changes not published yet
    redemption_rules: tuple[RedemptionRule, ...] = ()
    promotions: tuple = ()                 # promotions.Promotion, by id

    @property
    def default_currency(self) -> PointCurrency:
        return self.currencies[0]

    def currency(self, currency_id: str | None) -> PointCurrency | None:
        if currency_id is None:
            return self.default_currency
        for c in self.currencies:
            if c.id == currency_id:
                return c
        return None


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    seq: int                             # small integer id (profile tier record id etc.)
    program_id: str
    identities: Mapping[str, str]        # identity kind -> value; kinds are opaque to the engine
    joined_at: datetime
    active: bool = True                  # False once deleted / unregistered
    attributes: Mapping[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Lot:
    """A credit: points that become available, may expire, and are consumed by debits."""

    id: str
    member_id: str
    currency_id: str
    amount: Decimal
    remaining: Decimal
    earned_at: datetime
    available_at: datetime
    expires_at: datetime | None
    entry_id: str                        # the credit entry that created it
    provisional: bool = False            # a temporary credit, not yet committed
    counts_for_tier: bool = True


@dataclass(frozen=True, slots=True)
class Hold:
    id: str
    member_id: str
    currency_id: str
    amount: Decimal
    created_at: datetime
    expires_at: datetime
    state: str = "active"                # active | used | released | expired
    entry_id: str | None = None          # the temporary debit entry it backs, if any
    used_by: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One immutable ledger operation; its status may move on (temporary -> committed...)."""

    id: str
    seq: int
    member_id: str
    currency_id: str
    kind: str                 # credit | debit | expire | cancel
    amount: Decimal           # always positive; kind gives the direction
    at: datetime
    status: str = "committed"  # committed | temporary | rolled_back | cancelled
    origin: str = ""          # what caused it (order, cashback, manual, redeem, refund, fixture...)
    refs: Mapping[str, Any] = field(default_factory=dict)
    lots: tuple[tuple[str, Decimal], ...] = ()   # debit: (lot id, amount taken); credit: (lot id, amount)
    hold_id: str | None = None
    deadline: datetime | None = None  # temporary entries: auto-rollback instant
    reverses: str | None = None       # cancel/refund: the entry it reverses
    reversed_amount: Decimal = ZERO   # how much of this entry has been reversed since
    balance_after: Decimal | None = None   # available points right after it
    total_after: Decimal | None = None     # available + pending right after it
    money: Decimal | None = None      # the money amount behind it (order paid, redeemed value), for refunds
    recorded_at: datetime | None = None   # when the engine wrote it (`at` is when it happened, e.g. back-dated)
    description: str | None = None        # what the client attached to it, kept and echoed as sent
    meta: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Draft:
    """A two-phase transaction that changes nothing until completed (or rejected, cancelled, expired)."""

    id: str
    member_id: str
    currency_id: str
    direction: str                    # credit | debit
    amount: Decimal                   # positive; direction gives the sign
    created_at: datetime
    status: str = "draft"             # draft | completed | rejected | cancelled | expired
    expires_at: datetime | None = None   # ttl: a draft still open then becomes expired
    event_time: datetime | None = None
    lot_expires_in_minutes: int | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    entry_id: str | None = None
    reject_reason: str | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    rejected_at: datetime | None = None
    updated_at: datetime | None = None
    balance_after: Decimal | None = None
    negative: bool | None = None      # the amount was given negative (shown so); None: as its direction says
    order_id: str | None = None       # the order it pays, if any
    entry_mark: int = 0               # ledger entries written before it: places it among them in a history
    lot_expires_at: datetime | None = None   # a completed credit: when the points it added expire

    @property
    def signed_amount(self) -> Decimal:
        """The amount with the sign it was given (a debit is negative unless said otherwise)."""
        negative = self.direction == "debit" if self.negative is None else self.negative
        return -self.amount if negative else self.amount


@dataclass(frozen=True, slots=True)
class Order:
    """An order to be paid in points: a draft transaction with a due date and an expiry; processed when that
    draft completes."""

    id: str
    member_id: str
    currency_id: str
    draft_id: str
    direction: str                    # credit | debit (the draft's)
    amount: Decimal                   # positive, the draft's amount; direction gives the sign
    due_at: datetime
    created_at: datetime
    expires_at: datetime | None = None
    source: str | None = None         # who placed it (opaque to the engine)
    meta: Mapping[str, Any] = field(default_factory=dict)
    negative: bool | None = None      # as Draft.negative
    processed_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def signed_amount(self) -> Decimal:
        negative = self.direction == "debit" if self.negative is None else self.negative
        return -self.amount if negative else self.amount


@dataclass(frozen=True, slots=True)
class BalanceRecord:
    """A member's balance of one point currency, opened explicitly (one per member and currency); it expires
    when points earned at its opening would."""

    id: str
    member_id: str
    currency_id: str
    created_at: datetime
    expires_at: datetime | None = None
    amount: Decimal = ZERO
    consumed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Redemption:
    """A money amount redeemed across instruments (rewards, then points...), reversible as a whole."""

    id: int
    member_id: str
    kind: str                         # redeem | reversal
    total: Decimal                    # money redeemed
    items: tuple[tuple[str, Any, Decimal, Decimal], ...]   # (instrument, record id, money value, units)
    created_at: datetime
    reverses: int | None = None
    reversed_by: int | None = None
    meta: Mapping[str, Any] | None = None
    refs: Mapping[str, Any] = field(default_factory=dict)
    part_ids: tuple[int, ...] = ()    # one id per part, in `items` order: a reward, or a lot a points debit took from
    currency: str | None = None       # the money currency `amount` was asked in (None: the program's own)
    total_localised: Decimal | None = None   # `total` in that currency (None: same as total)
    returned: tuple[Decimal, ...] = ()   # money given back so far per item (returns and a reversal), `items` order


@dataclass(frozen=True, slots=True)
class Payment:
    """What refunds of one transaction (a ledger entry with money behind it) read and keep: the money refunded so
    far, and the entries that paid for it (points a purchase burned), given back in proportion. Kept beside the
    entry, under its id."""

    entry_id: str
    refunded_money: Decimal = ZERO
    paid_with: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reward:
    """Money-valued credit with an expiry (Omneo rewards)."""

    id: int
    member_id: str
    definition_id: int
    value_initial: Decimal
    value_remaining: Decimal
    issued_at: datetime
    expires_at: datetime | None
    timezone: str = "UTC"
    external_id: str | None = None
    meta: Mapping[str, Any] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    extended_at: datetime | None = None   # when its expiry was extended (once at most)

    def is_active(self, now: datetime) -> bool:
        """Spendable now: something left, already issued, not expired (the one definition every dialect uses)."""
        return self.is_open(now) and not self.is_expired(now)

    def is_open(self, now: datetime) -> bool:
        """Issued and not used up, whether or not it has expired since."""
        return self.value_remaining > 0 and self.issued_at <= now

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True, slots=True)
class Totals:
    """Running sums per member and currency: the ledger invariant is checked against them."""

    earned: Decimal = ZERO
    spent: Decimal = ZERO
    expired: Decimal = ZERO
    cancelled: Decimal = ZERO

    @property
    def balance(self) -> Decimal:
        return self.earned - self.spent - self.expired - self.cancelled


@dataclass(frozen=True, slots=True)
class TierCredit:
    """One tier-points movement of a member (earned points, a reversal's negative, points added by hand): what tier
    standing is computed from, listed as the member's tier points."""

    id: int
    member_id: str
    at: datetime
    amount: Decimal
    source: str | None = None           # the ledger entry behind it, if any


@dataclass(frozen=True, slots=True)
class TierStatus:
    """A member's tier as last evaluated (attained, maintained or dropped on the anniversary, or assigned)."""

    member_id: str
    tier_id: int
    achieved_at: datetime
    anniversary_at: datetime
    credit: Decimal = ZERO              # points over the tier's minimum when it was achieved (toward maintaining it)
    evaluated_at: datetime | None = None   # tier credits up to this instant have been looked at
    assigned_at: datetime | None = None
    maintained_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EarnRate:
    """Points earned per unit of money spent, for the purchases it applies to (see engine/rates.py)."""

    id: int
    program_id: str
    handle: str
    rate: Decimal                          # points per unit of money
    name: str | None = None
    type: str | None = None                # None/default/spend: all spend; sku|category|brand|product: items whose
    code: str | None = None                # attribute `type` equals `code`
    location: str | None = None            # only purchases at this location (its code), if set
    location_id: int | None = None         # only purchases at this location (its id), if set
    start_time: datetime | None = None     # applies from
    end_time: datetime | None = None       # applies until (excluded)
    priority: int = 0                      # the highest applicable priority wins
    is_default: bool = False
    is_archived: bool = False
    is_published: bool = True
    created_at: datetime | None = None
    updated_at: datetime | None = None
    info: Mapping[str, Any] = field(default_factory=dict)   # descriptive fields, kept and echoed


@dataclass(frozen=True, slots=True)
class Receipt:
    """A purchase recorded with its lines (engine/receipts.py): what it earned through the rates, and what of that
    a void or a lower total took back since."""

    id: int
    member_id: str
    currency_id: str
    total: Decimal                        # money, as it stands now (a return lowers it)
    original_total: Decimal               # money when first recorded
    transacted_at: datetime
    points: Decimal = ZERO                # points it earned, net of what was taken back
    entries: tuple[str, ...] = ()         # the credits it made (the first, then one per raise of the total)
    rate_id: int | None = None            # the rate its (first) line earned at; None: the program's base rate
    line_points: tuple[Decimal, ...] = () # points each line earned when recorded
    external_id: str | None = None
    receipt_ref: str | None = None
    location_id: int | None = None
    is_void: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    info: Mapping[str, Any] = field(default_factory=dict)   # what the client sent that the engine does not read


@dataclass(frozen=True, slots=True)
class StoreCredit:
    """Money a member holds as store credit (a gift card, a credit note): what is left of what was issued, an
    optional security code a spend must present, and an optional expiry. Not part of the points economy."""

    id: int
    member_id: str
    value_initial: Decimal
    value_remaining: Decimal
    issued_at: datetime
    expires_at: datetime | None = None
    security_code: str | None = None
    name: str | None = None
    external_id: str | None = None
    meta: Mapping[str, Any] | None = None
    updated_at: datetime | None = None

    def is_active(self, now: datetime) -> bool:
        """Spendable now: something left, issued, not expired."""
        return (self.value_remaining > 0 and self.issued_at <= now
                and (self.expires_at is None or self.expires_at > now))


@dataclass(frozen=True, slots=True)
class Benefit:
    """A countable entitlement (a free coffee, a voucher): how many of it were issued and are left, what one is
    worth in money (0: an entitlement with no cash value), an optional expiry."""

    id: int
    member_id: str
    handle: str
    name: str
    quantity_initial: int
    quantity_remaining: int
    issued_at: datetime
    value: Decimal = Decimal(0)
    expires_at: datetime | None = None
    meta: Mapping[str, Any] | None = None
    updated_at: datetime | None = None

    def is_active(self, now: datetime) -> bool:
        return (self.quantity_remaining > 0 and self.issued_at <= now
                and (self.expires_at is None or self.expires_at > now))
