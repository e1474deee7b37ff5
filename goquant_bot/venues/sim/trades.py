"""Simulated public trades: drawn from the seed per book and tick, at the book's best price.

A trade takes the best ask (a taker buy) or the best bid (a taker sell) of the book as it is
when the session reports it, for a fraction of that level. Each book trades at random about
every two seconds and at least once every three, so a demo always has a recent last price.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass

from goquant_bot.domain.instruments import Venue
from goquant_bot.venues.sim.book import SimBook
from goquant_bot.venues.sim.model import MarketModel

TRADE_CHANCE = 0.05  # per tick (0.1 s): one trade every 2 s on average
EVERY_TICKS = 30  # and at least one every 30 ticks (3 s)
BACKLOG_TICKS = 50  # after a stall, only the last few seconds of trades are reported


@dataclass(frozen=True, slots=True)
class SimTrade:
    """One trade: ``price`` and ``size`` in the book's integer units."""

    trade_id: int
    ts_ms: int
    price: int
    size: int
    buy: bool  # the taker's side


@dataclass(slots=True)
class TradeTap:
    """One trade subscription of one session: the last tick it reported."""

    name: str
    book: SimBook
    tick: int


def trades_between(model: MarketModel, venue: Venue, book: SimBook, after: int) -> list[SimTrade]:
    """The trades of ``book`` in the ticks after ``after`` up to the model's current tick."""
    out: list[SimTrade] = []
    salt = zlib.crc32(f"{model.seed}:{venue.value}:{book.symbol}".encode())
    tick_s = model.config.tick_s
    for tick in range(max(after, model.tick - BACKLOG_TICKS) + 1, model.tick + 1):
        draw = random.Random(salt * 1_000_003 + tick)
        if draw.random() >= TRADE_CHANCE and (tick + salt) % EVERY_TICKS:
            continue
        buy = draw.random() < 0.5
        top = book.top(not buy, 1)  # a buyer lifts the best ask, a seller hits the best bid
        if not top:
            continue
        price, level = top[0]
        size = max(1, int(level * draw.uniform(0.02, 0.3)))
        ts_ms = round((model.time - (model.tick - tick) * tick_s) * 1000)
        out.append(SimTrade(tick, ts_ms, price, size, buy))
    return out
