"""Simulated KuCoin spot: token, ``/market/level2`` deltas, ``/market/match``, ping and REST."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import orjson

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.venues.sim.book import SimBook
from goquant_bot.venues.sim.encoders import dumps
from goquant_bot.venues.sim.model import MarketModel
from goquant_bot.venues.sim.sessions import DIFF, Delta, Stream, VenueSession
from goquant_bot.venues.sim.trades import SimTrade, TradeTap

LEVEL2, MATCH = "/market/level2:", "/market/match:"
ENDPOINT = "wss://ws-api-spot.kucoin.com/"


def _ok(data: Any) -> str:
    return dumps({"code": "200000", "data": data})


class KucoinSession(VenueSession):
    """``{"id":"1","type":"subscribe","topic":"/market/level2:BTC-USDT","response":true}``."""

    venue: ClassVar[Venue] = Venue.KUCOIN

    def __init__(self, model: MarketModel, conn_id: str) -> None:
        super().__init__(model, conn_id)
        self.reply({"id": conn_id, "type": "welcome"})

    @staticmethod
    def native(symbol: Symbol) -> str:
        return f"{symbol.base}-{symbol.quote}"

    def handle(self, text: str) -> None:
        try:
            msg = orjson.loads(text)
        except orjson.JSONDecodeError:
            msg = None
        if type(msg) is not dict:
            self.reply({"id": "", "type": "error", "code": 400, "data": "malformed request"})
            return
        kind, topic, request_id = msg.get("type"), msg.get("topic"), msg.get("id")
        if kind == "ping":
            self.reply({"id": request_id, "type": "pong"})
            return
        if kind not in ("subscribe", "unsubscribe") or type(topic) is not str or ":" not in topic:
            self.reply({"id": request_id, "type": "error", "code": 400, "data": "bad request"})
            return
        prefix, names = topic.split(":", 1)
        books = [(name, self.find_book(name)) for name in names.split(",")]
        if prefix + ":" not in (LEVEL2, MATCH) or any(book is None for _, book in books):
            error = f"topic {topic} is not found"
            self.reply({"id": request_id, "type": "error", "code": 404, "data": error})
            return
        for name, book in books:
            assert book is not None
            channel = f"{prefix}:{name}"
            if prefix + ":" == MATCH:
                self.tap(channel, book if kind == "subscribe" else None)
            elif kind == "subscribe":
                self.streams.setdefault(channel, Stream(channel, book, DIFF))
            else:
                self.streams.pop(channel, None)
        if msg.get("response"):
            self.reply({"id": request_id, "type": "ack"})

    def snapshot_frame(self, stream: Stream) -> str | None:
        return None  # from REST

    def delta_frame(self, stream: Stream, delta: Delta, prev: int, seq: int) -> str | None:
        book = stream.book
        seq_text = str(delta.last_id)
        changes = {
            "asks": [[book.price_text(p), book.size_text(s), seq_text] for p, s, _ in delta.asks],
            "bids": [[book.price_text(p), book.size_text(s), seq_text] for p, s, _ in delta.bids],
        }
        data = {"changes": changes, "sequenceEnd": delta.last_id,
                "sequenceStart": delta.first_id, "symbol": self.native(book.symbol),
                "time": book.ts_ms}  # fmt: skip
        return dumps({"topic": stream.name, "type": "message", "subject": "trade.l2update",
                      "data": data})  # fmt: skip

    def trade_frame(self, tap: TradeTap, trade: SimTrade) -> str | None:
        book, native = tap.book, self.native(tap.book.symbol)
        data = {"makerOrderId": f"m{trade.trade_id}", "price": book.price_text(trade.price),
                "sequence": str(trade.trade_id), "side": "buy" if trade.buy else "sell",
                "size": book.size_text(trade.size), "symbol": native,
                "takerOrderId": f"t{trade.trade_id}", "time": str(trade.ts_ms * 1_000_000),
                "tradeId": str(trade.trade_id), "type": "match"}  # fmt: skip
        return dumps({"topic": f"{MATCH}{native}", "type": "message",
                      "subject": "trade.l3match", "data": data})  # fmt: skip


def _book(model: MarketModel, native: str | None) -> SimBook | None:
    for symbol in model.listings(Venue.KUCOIN):
        if KucoinSession.native(symbol) == native:
            return model.book(Venue.KUCOIN, symbol)
    return None


def rest_answer(model: MarketModel, path: str, query: Mapping[str, str]) -> tuple[int, str] | None:
    """Token, symbols and the public partial book; None for other paths."""
    if path == "/api/v1/bullet-public":
        server = {"endpoint": ENDPOINT, "encrypt": True, "protocol": "websocket",
                  "pingInterval": 18000, "pingTimeout": 10000}  # fmt: skip
        return 200, _ok({"token": "sim-public-token", "instanceServers": [server]})
    if path in ("/api/v2/symbols", "/api/v1/symbols"):
        entries = []
        for symbol in model.listings(Venue.KUCOIN):
            asset = model.asset(symbol.base)
            entries.append({"symbol": KucoinSession.native(symbol),
                            "name": KucoinSession.native(symbol), "baseCurrency": symbol.base,
                            "quoteCurrency": symbol.quote, "market": symbol.quote,
                            "baseIncrement": f"{10.0 ** -asset.lot_decimals:.{asset.lot_decimals}f}",
                            "priceIncrement": f"{10.0 ** -asset.tick_decimals:.{asset.tick_decimals}f}",
                            "enableTrading": True})  # fmt: skip
        return 200, _ok(entries)
    if path == "/api/v1/market/orderbook/level2_100":
        book = _book(model, query.get("symbol"))
        if book is None:
            return 200, dumps({"code": "400100", "msg": "symbol not exists"})
        data = {"time": book.ts_ms, "sequence": str(book.last_id),
                "bids": [[book.price_text(p), book.size_text(s)] for p, s in book.top(True, 100)],
                "asks": [[book.price_text(p), book.size_text(s)] for p, s in book.top(False, 100)]}  # fmt: skip
        return 200, _ok(data)
    return None
