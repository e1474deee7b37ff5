"""Cross-venue arbitrage math: depth-aware VWAP legs, net-of-fee edge, and the guards.

Buy on one venue's asks, sell the same base quantity on another venue's bids:
    cost     = buy_notional  * (1 + buy_fee)
    proceeds = sell_notional * (1 - sell_fee)
    profit   = proceeds - cost;  edge % = profit / cost * 100

When the two legs quote different currencies (a monitor with ``quotes=USD~USDT``), the cost
is turned into the sell leg's currency at a conversion rate taken from a real book, on the
side one would trade, net of that venue's taker fee (see ``conversion_from``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from goquant_bot.domain.book import DEFAULT_MIN_INTEGRITY, BookState, Integrity, OrderBook
from goquant_bot.domain.instruments import Symbol, Venue

# Below this many base units a leg is treated as empty (float dust).
_DUST = 1e-12


class Guard(StrEnum):
    """Why a venue pair is not evaluated; each is counted."""

    NOT_LIVE = "not_live"  # syncing, stale (or polled when not allowed)
    SKEW = "skew"  # the two books were refreshed too far apart in time
    CROSSED = "crossed"  # one of the books is crossed: broken data
    QUOTE_MISMATCH = "quote_mismatch"  # different quote assets
    NO_LIQUIDITY = "no_liquidity"  # an empty side
    SUSPECT = "suspect"  # an edge above the sanity cap: almost always bad data
    UNVERIFIED = "unverified"  # a book whose content nothing checks (signals need more)
    BELOW_TIER = "below_tier"  # a book weaker than the monitor's required integrity tier
    NO_CONVERSION = "no_conversion"  # different quotes and no usable conversion book


@dataclass(frozen=True, slots=True)
class PairQuote:
    """Gross legs for one ordered venue pair at one size tier (fees not applied)."""

    size: float  # base quantity both legs fill
    buy_notional: float  # quote paid on the buy venue before fees
    sell_notional: float  # quote received on the sell venue before fees
    complete: bool  # the whole tier could be filled

    @property
    def buy_vwap(self) -> float:
        return self.buy_notional / self.size

    @property
    def sell_vwap(self) -> float:
        return self.sell_notional / self.size

    def net(
        self, buy_fee_pct: float, sell_fee_pct: float, rate: float = 1.0
    ) -> tuple[float, float]:
        """(edge in percent of cost, profit in the sell leg's quote) after both taker fees.

        ``rate``: sell-quote units it costs to obtain one buy-quote unit (1 for one quote)."""
        cost = self.buy_notional * (1.0 + buy_fee_pct / 100.0) * rate
        proceeds = self.sell_notional * (1.0 - sell_fee_pct / 100.0)
        profit = proceeds - cost
        return profit / cost * 100.0, profit


def quote_pair(buy: OrderBook, sell: OrderBook, notional: float) -> PairQuote | None:
    """Walk the buy venue's asks for ``notional`` and sell that quantity into the other's bids.

    When the bids cannot absorb the quantity, the buy leg is re-walked for what they can
    take; ``complete`` is False when either side was too thin for the whole size.
    """
    qty, spent = buy.asks.fill_notional(notional)
    if qty <= _DUST:
        return None
    sold, proceeds = sell.bids.fill_qty(qty)
    if sold <= _DUST:
        return None
    complete = spent >= notional * (1 - 1e-9)
    if sold < qty * (1 - 1e-12):
        qty, spent = buy.asks.fill_qty(sold)
        complete = False
    return PairQuote(size=qty, buy_notional=spent, sell_notional=proceeds, complete=complete)


def check_pair(
    buy: OrderBook,
    sell: OrderBook,
    *,
    max_skew_s: float,
    allow_polled: bool,
    cross_quote: bool = False,
    min_integrity: Integrity = DEFAULT_MIN_INTEGRITY,
) -> Guard | None:
    """The first guard that fails for this pair of books, or None when both are usable.

    ``cross_quote``: the legs may quote different currencies (a conversion is applied).
    ``min_integrity``: the weakest tier (of the content now, see ``OrderBook.trust``) a leg
    may have; an unverified book below it is ``UNVERIFIED``, any other ``BELOW_TIER``."""
    usable = (BookState.LIVE, BookState.POLLED) if allow_polled else (BookState.LIVE,)
    if buy.state not in usable or sell.state not in usable:
        return Guard.NOT_LIVE
    if not cross_quote and buy.key.symbol.quote != sell.key.symbol.quote:
        return Guard.QUOTE_MISMATCH
    if buy.recv_ts is None or sell.recv_ts is None or abs(buy.recv_ts - sell.recv_ts) > max_skew_s:
        return Guard.SKEW
    if buy.is_crossed() or sell.is_crossed():
        return Guard.CROSSED
    buy_trust, sell_trust = buy.trust, sell.trust
    if not (buy_trust.meets(min_integrity) and sell_trust.meets(min_integrity)):
        if Integrity.UNVERIFIED in (buy_trust, sell_trust):
            return Guard.UNVERIFIED
        return Guard.BELOW_TIER
    if not len(buy.asks) or not len(sell.bids):
        return Guard.NO_LIQUIDITY
    return None


@dataclass(frozen=True, slots=True)
class Conversion:
    """The live rate that turned the buy leg's quote into the sell leg's."""

    book: Symbol  # the conversion book, e.g. USDT-USD (or its inverse USD-USDT)
    venue: Venue
    price: float  # the book's price used: its ask when buying its base, its bid when selling
    rate: float  # sell-quote units paid per buy-quote unit, the venue's taker fee included
    pay: str  # the buy leg's quote: the currency that must be acquired
    receive: str  # the sell leg's quote: the currency the sale brings in

    def describe(self) -> str:
        """``USDT-USD 0.9993 from kraken``."""
        return f"{self.book} {self.price:.6g} from {self.venue.value}"


def conversion_from(
    book: OrderBook,
    pay: str,
    receive: str,
    fee_pct: float,
    *,
    max_skew_s: float,
    legs_ts: tuple[float, float],
    allow_polled: bool,
    min_integrity: Integrity = DEFAULT_MIN_INTEGRITY,
) -> Conversion | None:
    """The conservative rate for acquiring ``pay`` with ``receive`` on ``book``, or None
    when that book is not usable (syncing, stale, crossed, below the tier, empty, refreshed too
    far from either leg) or is not a book of these two currencies.

    On PAY-RECEIVE the base is bought at the ask; on RECEIVE-PAY the base is sold at the
    bid. Either way the venue's taker fee is paid on top: the rate is what the conversion
    would really cost, so an edge that the conversion eats is never alerted."""
    usable = (BookState.LIVE, BookState.POLLED) if allow_polled else (BookState.LIVE,)
    if (
        book.state not in usable
        or not book.trust.meets(min_integrity)
        or book.is_crossed()
        or book.recv_ts is None
        or any(abs(book.recv_ts - ts) > max_skew_s for ts in legs_ts)
    ):
        return None
    symbol, fee = book.key.symbol, fee_pct / 100.0
    if (symbol.base, symbol.quote) == (pay, receive):
        ask = book.asks.best_price()
        if ask is None or ask <= 0:
            return None
        return Conversion(symbol, book.key.venue, ask, ask * (1.0 + fee), pay, receive)
    if (symbol.base, symbol.quote) == (receive, pay):
        bid = book.bids.best_price()
        if bid is None or bid <= 0 or fee >= 1.0:
            return None
        return Conversion(symbol, book.key.venue, bid, 1.0 / (bid * (1.0 - fee)), pay, receive)
    return None


def conversion_books(pay: str, receive: str) -> tuple[Symbol, Symbol]:
    """The two books that can convert between these currencies: PAY-RECEIVE, RECEIVE-PAY."""
    return Symbol(pay, receive), Symbol(receive, pay)
