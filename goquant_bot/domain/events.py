"""What the signal engines emit: opportunity openings and closings, market-view signals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from goquant_bot.domain.arbitrage import Conversion, PairQuote
from goquant_bot.domain.book import Integrity
from goquant_bot.domain.instruments import Symbol, Venue


@dataclass(frozen=True, slots=True)
class ArbOpened:
    """An arbitrage opportunity crossed a monitor's threshold (after its minimum duration)."""

    monitor_id: str
    owner: int
    symbol: Symbol
    buy_venue: Venue
    sell_venue: Venue
    ts: float
    buy_price: float  # VWAP over the asks walked
    sell_price: float  # VWAP over the bids walked
    size: float  # base quantity both legs can fill
    notional: float  # cost of the buy leg before fees, in the quote currency
    edge_pct: float  # net of both taker fees
    profit: float  # net, in the quote currency
    complete: bool  # False: the books could not fill the monitor's whole size
    # Set when the legs quote different currencies: the rate that made them comparable
    # (buy_price and notional are then in its ``pay`` currency, profit in ``receive``).
    conversion: Conversion | None = None
    route: tuple[Symbol, Symbol] | None = None  # across quotes: (buy symbol, sell symbol)
    trust: tuple[Integrity, Integrity] | None = None  # the buy and sell books' tiers

    @property
    def legs(self) -> str:
        """`` BTC-USDT->BTC-USD`` for legs in different quotes, else empty."""
        return _legs(self.route)

    def to_report(self) -> dict[str, Any]:
        extra: dict[str, Any] = _route_report(self.route)
        if self.conversion is not None:
            extra["conversion"] = self.conversion.describe()
            extra["conversion_rate"] = self.conversion.rate
        return {
            "ts": self.ts,
            "monitor": self.monitor_id,
            "kind": "arbitrage_open",
            "symbol": str(self.symbol),
            "buy_venue": self.buy_venue.value,
            "sell_venue": self.sell_venue.value,
            "buy_price": self.buy_price,
            "sell_price": self.sell_price,
            "size": self.size,
            "edge_pct": round(self.edge_pct, 6),
            "profit": round(self.profit, 8),
            "complete": self.complete,
            **extra,
        }


@dataclass(frozen=True, slots=True)
class ArbFigures:
    """One evaluation of an opportunity at its size: both VWAPs, the size, gross and net edge."""

    buy_price: float  # VWAP over the asks walked
    sell_price: float  # VWAP over the bids walked
    size: float  # base quantity both legs fill
    notional: float  # cost of the buy leg before fees, in the quote currency
    gross_edge_pct: float  # before fees
    edge_pct: float  # net of both taker fees
    profit: float  # net, in the quote currency

    @classmethod
    def of(cls, quote: PairQuote, edge_pct: float, profit: float) -> ArbFigures:
        gross = (quote.sell_notional - quote.buy_notional) / quote.buy_notional * 100.0
        return cls(
            quote.buy_vwap, quote.sell_vwap, quote.size, quote.buy_notional, gross, edge_pct, profit
        )

    def to_dict(self) -> dict[str, float]:
        return {
            "buy_vwap": _sig(self.buy_price),
            "sell_vwap": _sig(self.sell_price),
            "size": _sig(self.size),
            "notional": _sig(self.notional),
            "gross_edge_pct": round(self.gross_edge_pct, 6),
            "net_edge_pct": round(self.edge_pct, 6),
            "profit": round(self.profit, 8),
        }

    @classmethod
    def from_dict(cls, data: object) -> ArbFigures | None:
        """Raises ValueError for a value that is not a dict of numbers (None stays None)."""
        if data is None:
            return None
        if not isinstance(data, dict):
            msg = "figures are not an object"
            raise ValueError(msg)
        keys = ("buy_vwap", "sell_vwap", "size", "notional", "gross_edge_pct", "net_edge_pct")
        values = [_number(data[k]) for k in (*keys, "profit")]
        return cls(*values)


@dataclass(frozen=True, slots=True)
class ArbClosed:
    """An open opportunity ended: the edge fell below the hysteresis band, or a guard failed."""

    monitor_id: str
    owner: int
    symbol: Symbol
    buy_venue: Venue
    sell_venue: Venue
    ts: float
    opened_at: float
    peak_edge_pct: float
    last_edge_pct: float | None  # None when a guard failed (no trustworthy edge)
    reason: str  # "below_threshold", or the guard that failed ("stale", "skew", ...)
    # None when unknown: history written before these were kept, or an opportunity that was
    # open across a restart (its opening figures and the time of an earlier peak are lost).
    peak_at: float | None = None
    at_open: ArbFigures | None = None
    at_peak: ArbFigures | None = None
    route: tuple[Symbol, Symbol] | None = None  # across quotes: (buy symbol, sell symbol)

    @property
    def legs(self) -> str:
        """`` BTC-USDT->BTC-USD`` for legs in different quotes, else empty."""
        return _legs(self.route)

    @property
    def duration_s(self) -> float:
        return self.ts - self.opened_at

    def to_record(self) -> dict[str, Any]:
        """The history file's line: the report plus owner, opening time and the figures."""
        return {
            **self.to_report(),
            "owner": self.owner,
            "opened_at": self.opened_at,
            "peak_at": self.peak_at,
            "at_open": None if self.at_open is None else self.at_open.to_dict(),
            "at_peak": None if self.at_peak is None else self.at_peak.to_dict(),
        }

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> ArbClosed:
        """A history line back into the event; raises KeyError, TypeError or ValueError.

        Lines written before the figures were kept lack them: they come back as None.
        """
        last, peak_at = data.get("last_edge_pct"), data.get("peak_at")
        return cls(
            monitor_id=str(data["monitor"]),
            owner=_integer(data["owner"]),
            symbol=Symbol.parse(str(data["symbol"])),
            buy_venue=Venue(str(data["buy_venue"])),
            sell_venue=Venue(str(data["sell_venue"])),
            ts=_number(data["ts"]),
            opened_at=_number(data["opened_at"]),
            peak_edge_pct=_number(data["peak_edge_pct"]),
            last_edge_pct=None if last is None else _number(last),
            reason=str(data.get("reason", "")),
            peak_at=None if peak_at is None else _number(peak_at),
            at_open=ArbFigures.from_dict(data.get("at_open")),
            at_peak=ArbFigures.from_dict(data.get("at_peak")),
            route=(
                (Symbol.parse(str(data["buy_symbol"])), Symbol.parse(str(data["sell_symbol"])))
                if "buy_symbol" in data
                else None
            ),
        )

    def to_report(self) -> dict[str, Any]:
        return {
            "ts": self.ts,
            "monitor": self.monitor_id,
            "kind": "arbitrage_close",
            "symbol": str(self.symbol),
            "buy_venue": self.buy_venue.value,
            "sell_venue": self.sell_venue.value,
            "duration_s": round(self.duration_s, 6),
            "peak_edge_pct": round(self.peak_edge_pct, 6),
            "last_edge_pct": None if self.last_edge_pct is None else round(self.last_edge_pct, 6),
            "reason": self.reason,
            **_route_report(self.route),
        }


@dataclass(frozen=True, slots=True)
class MarketViewSignal:
    """A change on the consolidated market that a market-view monitor asked for.

    ``kind`` is one of: best_bid_venue, best_ask_venue, mid_move, spread_wide,
    venue_deviation; ``details`` holds the figures the message shows.
    """

    monitor_id: str
    owner: int
    symbol: Symbol
    ts: float
    kind: str
    details: tuple[tuple[str, Any], ...]
    # The integrity tier of each venue counted in the consolidated book the signal read.
    trust: tuple[tuple[Venue, Integrity], ...] = ()

    def to_report(self) -> dict[str, Any]:
        return {
            "ts": self.ts,
            "monitor": self.monitor_id,
            "kind": f"market_view_{self.kind}",
            "symbol": str(self.symbol),
            **dict(self.details),
            "integrity": {venue.value: tier.value for venue, tier in self.trust},
        }


Event = ArbOpened | ArbClosed | MarketViewSignal


def _legs(route: tuple[Symbol, Symbol] | None) -> str:
    return "" if route is None else f" {route[0]}->{route[1]}"


def _route_report(route: tuple[Symbol, Symbol] | None) -> dict[str, str]:
    if route is None:
        return {}
    return {"buy_symbol": str(route[0]), "sell_symbol": str(route[1])}


def _sig(value: float) -> float:
    """Twelve significant digits: exact enough for prices and sizes, short in the file."""
    return float(f"{value:.12g}")


def _number(value: object) -> float:
    # bool is an int, and "1.5" would parse: neither was written by this code.
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{value!r} is not a number"
        raise ValueError(msg)
    return float(value)  # NaN stays: the engine writes it for a peak it could not tell


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{value!r} is not an integer"
        raise ValueError(msg)
    return value
