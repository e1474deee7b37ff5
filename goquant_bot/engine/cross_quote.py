"""Cross-quote routes of the arbitrage engine: legs in different quotes (BTC-USDT bought on
one venue, BTC-USD sold on another) made comparable by a live conversion book."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from goquant_bot.domain.arbitrage import Conversion, conversion_books, conversion_from
from goquant_bot.domain.book import OrderBook
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor


class Route(NamedTuple):
    """One ordered venue pair whose legs are on two symbols of the same base."""

    buy: Venue
    buy_symbol: Symbol
    sell: Venue
    sell_symbol: Symbol

    def watched(self) -> tuple[Symbol, ...]:
        """Every symbol whose change can move this route's edge: both legs and the
        conversion books in either orientation."""
        return (
            self.buy_symbol,
            self.sell_symbol,
            *conversion_books(self.buy_symbol.quote, self.sell_symbol.quote),
        )


def cross_routes(monitor: ArbMonitor) -> Iterable[tuple[Symbol, Route]]:
    """(the monitor's symbol, route) for every cross-quote leg pair it asks for.

    One leg is always on the monitor's own symbol, the other on the same base in another
    compared quote, on a different venue (the same-quote pairs are the engine's usual ones).
    """
    for symbol in monitor.symbols:
        for other in monitor.alternatives(symbol):
            for buy in monitor.venues:
                for sell in monitor.venues:
                    if buy is not sell:
                        yield symbol, Route(buy, symbol, sell, other)
                        yield symbol, Route(buy, other, sell, symbol)


def conversion_symbols(monitor: ArbMonitor) -> set[Symbol]:
    """The conversion books a monitor may use (both orientations of each quote pair)."""
    found: set[Symbol] = set()
    for _, route in cross_routes(monitor):
        found.update(route.watched()[2:])
    return found


def best_conversion(
    route: Route,
    candidates: Iterable[tuple[Venue, float]],
    books: Mapping[Symbol, Mapping[Venue, OrderBook]],
    *,
    legs_ts: tuple[float, float],
    max_skew_s: float,
    allow_polled: bool,
) -> Conversion | None:
    """The cheapest usable conversion among the candidate venues (with their taker fees)."""
    pay, receive = route.buy_symbol.quote, route.sell_symbol.quote
    best: Conversion | None = None
    for symbol in conversion_books(pay, receive):
        on = books.get(symbol, {})
        for venue, fee in candidates:
            book = on.get(venue)
            if book is None:
                continue
            found = conversion_from(
                book,
                pay,
                receive,
                fee,
                max_skew_s=max_skew_s,
                legs_ts=legs_ts,
                allow_polled=allow_polled,
            )
            if found is not None and (best is None or found.rate < best.rate):
                best = found
    return best
