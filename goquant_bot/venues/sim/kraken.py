"""Simulated Kraken spot WebSocket v2: ``book`` with a checksum on every message, ``ping``."""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.venues.kraken import DEPTHS
from goquant_bot.venues.kraken_rest import kraken_checksum
from goquant_bot.venues.sim import encoders as enc
from goquant_bot.venues.sim import trade_frames as tf
from goquant_bot.venues.sim.book import SimBook
from goquant_bot.venues.sim.model import MarketModel
from goquant_bot.venues.sim.sessions import DIFF, Delta, Stream, VenueSession
from goquant_bot.venues.sim.trades import SimTrade, TradeTap

HEARTBEAT_S = 1.0

Levels = list[tuple[int, int]]


def kraken_book(book: SimBook, kind: str, bids: Levels, asks: Levels) -> str:
    """A ``book`` message; numbers are written at the pair's precision (full, as Kraken does),
    and the checksum covers the venue's top 10 levels after the message."""
    top_asks = [(book.price_text(p), book.size_text(s)) for p, s in book.top(False, 10)]
    top_bids = [(book.price_text(p), book.size_text(s)) for p, s in book.top(True, 10)]

    def levels(pairs: Levels) -> str:
        return ",".join(
            f'{{"price":{book.price_text(p)},"qty":{book.size_text(s)}}}' for p, s in pairs
        )

    item = (
        f'{{"symbol":"{enc.native_name(Venue.KRAKEN, book.symbol)}","bids":[{levels(bids)}],'
        f'"asks":[{levels(asks)}],"checksum":{kraken_checksum(top_asks, top_bids)},'
        f'"timestamp":"{enc.iso_time(book.ts_ms)}"}}'
    )
    return f'{{"channel":"book","type":"{kind}","data":[{item}]}}'


class KrakenSession(VenueSession):
    """``{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":10}}``."""

    venue: ClassVar[Venue] = Venue.KRAKEN
    reports_touched: ClassVar[bool] = False

    def __init__(self, model: MarketModel, conn_id: str) -> None:
        super().__init__(model, conn_id)
        self._heartbeat_due = model.time + HEARTBEAT_S

    @staticmethod
    def native(symbol: Symbol) -> str:
        return enc.native_name(Venue.KRAKEN, symbol)

    def _answer(self, method: Any, req_id: Any, result: Any = None, error: str = "") -> None:
        msg: dict[str, Any] = {"method": method}
        if error:
            msg.update(error=error, success=False)
        else:
            msg.update(result=result, success=True)
        if req_id is not None:
            msg["req_id"] = req_id
        stamp = enc.iso_time(enc.book_time(self.model))
        msg.update(time_in=stamp, time_out=stamp)
        self.reply(msg)

    def handle(self, text: str) -> None:
        try:
            msg: Any = orjson.loads(text)
        except orjson.JSONDecodeError:
            msg = None
        if type(msg) is not dict:
            self._answer(None, None, error="EGeneral:Invalid arguments")
            return
        method, req_id = msg.get("method"), msg.get("req_id")
        if method == "ping":
            self._answer("pong", req_id)
            return
        params = msg.get("params")
        if method not in ("subscribe", "unsubscribe") or type(params) is not dict:
            self._answer(method, req_id, error="EGeneral:Invalid arguments")
            return
        depth, names = params.get("depth", 10), params.get("symbol")
        if params.get("channel") == "trade" and type(names) is list:
            self._trades(method, req_id, names)
            return
        if params.get("channel") != "book" or depth not in DEPTHS or type(names) is not list:
            self._answer(method, req_id, error="EGeneral:Invalid arguments:depth")
            return
        for name in names:
            book = self.find_book(name) if type(name) is str else None
            if book is None:
                self._answer(method, req_id, error=f"Currency pair not supported {name}")
                continue
            if method == "unsubscribe":
                self.streams.pop(name, None)
            else:
                self.streams.setdefault(name, Stream(name, book, DIFF, depth=depth))
            result = {"channel": "book", "depth": depth, "snapshot": True, "symbol": name}
            self._answer(method, req_id, result)

    def _trades(self, method: str, req_id: Any, names: list[Any]) -> None:
        for name in names:
            book = self.find_book(name) if type(name) is str else None
            if book is None:
                self._answer(method, req_id, error=f"Currency pair not supported {name}")
                continue
            self.tap(name, book if method == "subscribe" else None)
            self._answer(method, req_id, {"channel": "trade", "snapshot": False, "symbol": name})

    def trade_frame(self, tap: TradeTap, trade: SimTrade) -> str | None:
        return tf.kraken(tap.book, tap.name, trade)

    def keepalive(self) -> None:
        if (self.streams or self.taps) and self.model.time >= self._heartbeat_due:
            self._heartbeat_due = self.model.time + HEARTBEAT_S
            self.reply('{"channel":"heartbeat"}')

    def snapshot_frame(self, stream: Stream) -> str | None:
        book = stream.book
        return kraken_book(
            book, "snapshot", book.top(True, stream.depth), book.top(False, stream.depth)
        )

    def delta_frame(self, stream: Stream, delta: Delta, prev: int, seq: int) -> str | None:
        if not delta.bids and not delta.asks:
            return None
        bids = [(p, s) for p, s, _ in delta.bids]
        asks = [(p, s) for p, s, _ in delta.asks]
        return kraken_book(stream.book, "update", bids, asks)
