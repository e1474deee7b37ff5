"""Simulated HTX market WebSocket: ``depth.step0`` (the top 150 levels, whole, whenever they
change), ``trade.detail``, the server's ``ping``; and its symbol list. These frames are the
JSON a real client reads after gunzipping: the demo skips the gzip, which would only cost time."""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.venues.sim import encoders as enc
from goquant_bot.venues.sim.model import MarketModel
from goquant_bot.venues.sim.sessions import TOP, Stream, VenueSession
from goquant_bot.venues.sim.trades import SimTrade, TradeTap

DEPTH = 150
PING_S = 5.0


def htx_symbols(model: MarketModel, query: Any) -> tuple[int, str]:
    """``/v1/common/symbols``: lower-case names, precisions as numbers of decimals."""
    data = []
    for symbol in model.listings(Venue.HTX):
        asset = model.asset(symbol.base)
        data.append({
            "base-currency": symbol.base.lower(), "quote-currency": symbol.quote.lower(),
            "price-precision": asset.tick_decimals, "amount-precision": asset.lot_decimals,
            "symbol-partition": "main", "symbol": HtxSession.native(symbol), "state": "online",
        })  # fmt: skip
    return 200, enc.dumps({"status": "ok", "data": data})


class HtxSession(VenueSession):
    """``{"sub":"market.btcusdt.depth.step0","id":"1"}`` and ``{"pong": n}``."""

    venue: ClassVar[Venue] = Venue.HTX

    def __init__(self, model: MarketModel, conn_id: str) -> None:
        super().__init__(model, conn_id)
        self._ping_due = model.time + PING_S

    @staticmethod
    def native(symbol: Symbol) -> str:
        return f"{symbol.base}{symbol.quote}".lower()

    def handle(self, text: str) -> None:
        try:
            msg: Any = orjson.loads(text)
        except orjson.JSONDecodeError:
            msg = None
        if type(msg) is not dict:
            self.reply({"status": "error", "err-code": "bad-request", "err-msg": "invalid json"})
            return
        if "pong" in msg:
            return
        op = next((k for k in ("sub", "unsub", "req") if k in msg), None)
        topic: str = msg.get(op, "") if op else ""
        parts = topic.split(".") if type(topic) is str else []
        book = self.find_book(parts[1]) if len(parts) > 2 else None
        kind = ".".join(parts[2:])
        if op is None or book is None or kind not in ("depth.step0", "trade.detail"):
            self.reply({"id": msg.get("id"), "status": "error", "err-code": "bad-request",
                        "err-msg": f"invalid topic {topic}"})  # fmt: skip
            return
        stamp = int(self.model.time * 1000)
        if op == "req":
            self.reply({"id": msg.get("id"), "status": "ok", "rep": topic, "ts": stamp,
                        "data": self._tick(book)})  # fmt: skip
            return
        if kind == "trade.detail":
            self.tap(topic, book if op == "sub" else None)
        elif op == "unsub":
            self.streams.pop(topic, None)
        else:
            self.streams.setdefault(topic, Stream(topic, book, TOP, depth=DEPTH))
        done = "subbed" if op == "sub" else "unsubbed"
        self.reply({"id": msg.get("id"), "status": "ok", done: topic, "ts": stamp})

    def keepalive(self) -> None:
        if self.model.time >= self._ping_due:
            self._ping_due = self.model.time + PING_S
            self.reply({"ping": int(self.model.time * 1000)})

    @staticmethod
    def _tick(book: Any) -> dict[str, Any]:
        def rows(bids: bool) -> list[list[float]]:
            return [[float(book.price_text(p)), float(book.size_text(s))]
                    for p, s in book.top(bids, DEPTH)]  # fmt: skip

        return {"bids": rows(True), "asks": rows(False), "version": book.last_id,
                "ts": book.ts_ms}  # fmt: skip

    def top_frame(self, stream: Stream) -> str:
        book = stream.book
        return enc.dumps({"ch": stream.name, "ts": book.ts_ms, "tick": self._tick(book)})

    def snapshot_frame(self, stream: Stream) -> str | None:
        return None  # TOP streams only

    def delta_frame(self, stream: Stream, delta: Any, prev: int, seq: int) -> str | None:
        return None

    def trade_frame(self, tap: TradeTap, trade: SimTrade) -> str | None:
        book = tap.book
        item = {"id": trade.trade_id, "ts": trade.ts_ms, "tradeId": trade.trade_id,
                "amount": float(book.size_text(trade.size)),
                "price": float(book.price_text(trade.price)),
                "direction": "buy" if trade.buy else "sell"}  # fmt: skip
        tick = {"id": trade.trade_id, "ts": trade.ts_ms, "data": [item]}
        return enc.dumps({"ch": tap.name, "ts": trade.ts_ms, "tick": tick})
