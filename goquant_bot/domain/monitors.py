"""Monitor definitions: what a user asked to watch, validated, immutable."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from goquant_bot.domain.book import DEFAULT_MIN_INTEGRITY, Integrity
from goquant_bot.domain.instruments import Symbol, Venue

# The owner of the bot's own monitors (the demo's watch): below every Telegram chat id (they
# fit in 52 bits) and never the console's user (0); the signal service logs their events
# instead of handing them to delivery.
INTERNAL_OWNER = -(2**53)


def is_internal(owner: int) -> bool:
    """Whether alerts of this owner are the bot's own (logged, never sent)."""
    return owner == INTERNAL_OWNER


# Quote currencies a monitor may compare across with a live conversion (``quotes=USD~USDT``).
CONVERTIBLE_QUOTES = ("USD", "USDT", "USDC")


class FiringPolicy(StrEnum):
    EACH = "each"  # alert every time an opportunity opens (after its minimum duration)
    ONCE = "once"  # alert the first opening, then the monitor is done


@dataclass(frozen=True, slots=True)
class ArbMonitor:
    """Cross-venue arbitrage on one or more symbols between two or more venues."""

    id: str
    owner: int  # the chat that receives the alerts
    symbols: tuple[Symbol, ...]
    venues: tuple[Venue, ...]  # at least two
    min_edge_pct: float | None = None  # net of fees, percent of cost
    min_profit: float | None = None  # net, in the quote currency, at the monitor's size
    notional: float = 1000.0  # trade size in the quote currency (mapped to a size tier)
    fees_pct: tuple[tuple[Venue, float], ...] = ()  # taker fee overrides per venue
    min_duration_s: float = 0.0
    allow_polled: bool = False  # also use books kept from REST polling
    policy: FiringPolicy = FiringPolicy.EACH
    # Quote currencies compared across with a live conversion, e.g. ("USD", "USDT"); empty:
    # only books of the monitor's own symbols are compared (different quotes never are).
    quotes: tuple[str, ...] = ()
    # The weakest integrity tier a book may have to be used (see ``Integrity``).
    min_integrity: Integrity = DEFAULT_MIN_INTEGRITY

    def __post_init__(self) -> None:
        problems = []
        if self.allow_polled and self.min_integrity is Integrity.VERIFIED:
            # A book kept from REST polls is a snapshot: the two options contradict.
            problems.append("either polled books or integrity=verified, not both")
        if self.quotes:
            if len(set(self.quotes)) < 2 or any(q not in CONVERTIBLE_QUOTES for q in self.quotes):
                problems.append(
                    "two or more different quotes among " + ", ".join(CONVERTIBLE_QUOTES)
                )
            elif any(s.quote not in self.quotes for s in self.symbols):
                problems.append("its symbols' quotes among the compared quotes")
        if not self.symbols:
            problems.append("at least one symbol")
        # Identity, not a set: enum members are unique, and hashing one is slow (100,000
        # monitors are checked at every start).
        first = self.venues[0] if self.venues else None
        if not any(venue is not first for venue in self.venues):
            problems.append("at least two different venues")
        if self.min_edge_pct is None and self.min_profit is None:
            problems.append("a minimum edge or a minimum profit")
        if self.min_edge_pct is not None and not 0 < self.min_edge_pct <= 100:
            problems.append("a minimum edge above 0 and at most 100 %")
        if self.min_profit is not None and self.min_profit <= 0:
            problems.append("a minimum profit above 0")
        if not self.notional > 0:
            problems.append("a trade size above 0")
        if self.min_duration_s < 0:
            problems.append("a minimum duration of 0 s or more")
        if any(not 0 <= fee < 10 for _, fee in self.fees_pct):
            problems.append("fees between 0 and 10 %")
        if problems:
            msg = f"monitor {self.id!r} needs " + ", ".join(problems)
            raise ValueError(msg)

    def fee_overrides(self) -> dict[Venue, float]:
        return dict(self.fees_pct)

    def alternatives(self, symbol: Symbol) -> tuple[Symbol, ...]:
        """The same base in the other compared quotes (none without ``quotes``)."""
        return tuple(Symbol(symbol.base, q) for q in self.quotes if q != symbol.quote)


@dataclass(frozen=True, slots=True)
class MarketViewMonitor:
    """Change signals on the consolidated market of one symbol.

    Each signal is off when its value is None (or False for the venue changes).
    """

    id: str
    owner: int
    symbol: Symbol
    venues: tuple[Venue, ...]  # empty: every enabled venue listing the symbol
    best_venue_change: bool = False  # the venue holding the best bid or the best offer changed
    mid_move_pct: float | None = None  # the mid moved this much since the last signal
    spread_above_bps: float | None = None  # the consolidated spread is wider than this
    venue_deviation_bps: float | None = None  # a venue's quote is this far from the CBBO
    cooldown_s: float = 30.0  # the live view changes at most this often (best-venue changes)
    # Opt-in alert on a crossed (or, at 0, locked) consolidated book: crossed by at least this
    # many bps for at least crossed_min_s. Off (None) by default: the live view shows it.
    crossed_min_bps: float | None = None
    crossed_min_s: float = 0.0
    # At most one alert of a kind (mid move, wide spread, deviation per venue, crossed) per this.
    alert_cooldown_s: float = 300.0
    # The weakest integrity tier a venue's book may have to be counted (see ``Integrity``).
    min_integrity: Integrity = DEFAULT_MIN_INTEGRITY

    def __post_init__(self) -> None:
        problems = []
        if not (
            self.best_venue_change
            or self.mid_move_pct is not None
            or self.spread_above_bps is not None
            or self.venue_deviation_bps is not None
            or self.crossed_min_bps is not None
        ):
            problems.append("at least one signal")
        if self.crossed_min_bps is not None and not 0 <= self.crossed_min_bps <= 10_000:
            problems.append("crossed_min_bps between 0 and 10000")
        if self.crossed_min_s < 0:
            problems.append("a crossed minimum duration of 0 s or more")
        if self.alert_cooldown_s < 0:
            problems.append("an alert cooldown of 0 s or more")
        for name, value in (
            ("mid_move_pct", self.mid_move_pct),
            ("spread_above_bps", self.spread_above_bps),
            ("venue_deviation_bps", self.venue_deviation_bps),
        ):
            if value is not None and not value > 0:
                problems.append(f"{name} above 0")
        if self.cooldown_s < 0:
            problems.append("a cooldown of 0 s or more")
        if problems:
            msg = f"monitor {self.id!r} needs " + ", ".join(problems)
            raise ValueError(msg)
