"""A simulated GoMarket gateway: the simulated venues' books under GoMarket's addresses.

Any simulated venue is served under its exchange id (``/ws/l2-orderbook/binance/BTC-USDT``):
one book per connection, the whole book (top ``DEPTH`` levels) on every tick, stamped with
the model's clock in milliseconds. Symbols are listed as ``BASE-QUOTE``. A stalled venue stops
its GoMarket streams too, as a real upstream outage would.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import unquote

import orjson

from goquant_bot.domain.instruments import Venue
from goquant_bot.venues.sim import encoders as enc
from goquant_bot.venues.sim.book import SimBook
from goquant_bot.venues.sim.model import MarketModel
from goquant_bot.venues.sim.sessions import TOP, Stream, VenueSession

HOST_MARK = "gomarket"
WS_PREFIX = "/ws/l2-orderbook/"
DEPTH = 50


def _venue(exchange: str) -> Venue | None:
    try:
        return Venue(exchange)
    except ValueError:
        return None


class GoMarketSession(VenueSession):
    """One GoMarket L2 stream; the subscription is the address, nothing is ever received."""

    venue: ClassVar[Venue] = Venue.BINANCE

    def handle(self, text: str) -> None:
        """GoMarket streams take no input: anything sent is ignored."""

    def snapshot_frame(self, stream: Stream) -> str | None:
        return None

    def delta_frame(self, stream: Stream, delta: Any, prev: int, seq: int) -> str | None:
        return None

    def _refresh(self, stream: Stream) -> None:
        """Every tick brings the whole book, changed or not."""
        stream.tick = self.model.tick
        self.outbox.append(book_message(self.model, self.venue, stream.name, stream.book))


def book_message(model: MarketModel, venue: Venue, native: str, book: SimBook) -> str:
    return enc.dumps(
        {
            "timestamp": round(model.time * 1000),
            "exchange": venue.value,
            "symbol": native,
            "bids": [[book.price_text(p), book.size_text(s)] for p, s in book.top(True, DEPTH)],
            "asks": [[book.price_text(p), book.size_text(s)] for p, s in book.top(False, DEPTH)],
        }
    )


def _find(model: MarketModel, venue: Venue, native: str) -> SimBook | None:
    for symbol in model.listings(venue):
        if str(symbol) == native:
            return model.book(venue, symbol)
    return None


def open_gomarket(model: MarketModel, path: str, conn_id: str) -> VenueSession | None:
    """The stream at ``/ws/l2-orderbook/{exchange}/{symbol}``; None when nothing is there."""
    parts = path.removeprefix(WS_PREFIX).split("/")
    venue = _venue(parts[0]) if len(parts) == 2 else None
    book = _find(model, venue, unquote(parts[1])) if venue is not None else None
    if venue is None or book is None:
        return None
    cls = type(f"GoMarket{venue.name.title()}Session", (GoMarketSession,), {"venue": venue})
    session = cls(model, conn_id)
    native = unquote(parts[1])
    session.streams[native] = Stream(native, book, TOP, DEPTH)
    return session


def gomarket_rest(model: MarketModel, path: str) -> tuple[int, str]:
    """Symbols, L1 and L2 answers."""
    parts = path.strip("/").split("/")
    if len(parts) == 4 and parts[:2] == ["api", "symbols"] and parts[3] == "spot":
        venue = _venue(parts[2])
        listed = model.listings(venue) if venue is not None else []
        return 200, enc.dumps([str(s) for s in listed])
    if len(parts) == 4 and parts[0] == "api" and parts[1] in ("l1-orderbook", "l2-orderbook"):
        venue = _venue(parts[2])
        native = unquote(parts[3])
        book = _find(model, venue, native) if venue is not None else None
        if venue is None or book is None:
            return 404, enc.dumps({"error": f"unknown symbol {native}"})
        text = book_message(model, venue, native, book)
        if parts[1] == "l1-orderbook":
            msg = orjson.loads(text)
            msg["bids"], msg["asks"] = msg["bids"][:1], msg["asks"][:1]
            text = enc.dumps(msg)
        return 200, text
    return 404, enc.dumps({"error": f"no such endpoint: {path}"})
