"""Simulated Crypto.com Exchange v1 market data: ``book.{instrument}.50`` snapshot then
``book.update`` deltas chained by ``u``/``pu``, ``trade.{instrument}``, ``public/heartbeat``;
and its instrument list."""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.venues.cryptocom import BOOK_DEPTH
from goquant_bot.venues.sim import encoders as enc
from goquant_bot.venues.sim.book import SimBook, decimal_text
from goquant_bot.venues.sim.model import MarketModel
from goquant_bot.venues.sim.sessions import DIFF, Delta, Stream, VenueSession
from goquant_bot.venues.sim.trades import SimTrade, TradeTap

HEARTBEAT_S = 30.0
Levels = list[tuple[int, int]]


def _rows(book: SimBook, levels: Levels) -> list[list[str]]:
    return [[book.price_text(p), book.size_text(s), str(1 + (p + s) % 5 if s else 0)]
            for p, s in levels]  # fmt: skip


def _push(book: SimBook, channel: str, subscription: str, data: list[Any]) -> str:
    result: dict[str, Any] = {"instrument_name": CryptocomSession.native(book.symbol),
              "subscription": subscription, "channel": channel, "data": data}  # fmt: skip
    if channel != "trade":
        result["depth"] = BOOK_DEPTH
    return enc.dumps({"id": -1, "method": "subscribe", "code": 0, "result": result})


def cryptocom_instruments(model: MarketModel, query: Any) -> tuple[int, str]:
    """``public/get-instruments``: the listed pairs as ``CCY_PAIR``, plus one perpetual."""
    data: list[dict[str, Any]] = []
    for symbol in model.listings(Venue.CRYPTOCOM):
        asset = model.asset(symbol.base)
        data.append({
            "symbol": CryptocomSession.native(symbol), "inst_type": "CCY_PAIR",
            "display_name": f"{symbol.base}/{symbol.quote}", "base_ccy": symbol.base,
            "quote_ccy": symbol.quote, "quote_decimals": asset.tick_decimals,
            "quantity_decimals": asset.lot_decimals,
            "price_tick_size": decimal_text(1, asset.tick_decimals),
            "qty_tick_size": decimal_text(1, asset.lot_decimals), "tradable": True,
        })  # fmt: skip
    data.append({"symbol": "BTCUSD-PERP", "inst_type": "PERPETUAL_SWAP", "base_ccy": "BTC",
                 "quote_ccy": "USD", "price_tick_size": "0.1", "qty_tick_size": "0.0001",
                 "tradable": True})  # fmt: skip
    body = {"id": 1, "method": "public/get-instruments", "code": 0, "result": {"data": data}}
    return 200, enc.dumps(body)


def cryptocom_book(model: MarketModel, query: Any) -> tuple[int, str]:
    """``public/get-book``: the top ``depth`` levels (50 at most)."""
    native = query.get("instrument_name")
    book = next(
        (model.book(Venue.CRYPTOCOM, s) for s in model.listings(Venue.CRYPTOCOM)
         if CryptocomSession.native(s) == native),
        None,
    )  # fmt: skip
    if book is None:
        body = {"id": -1, "method": "public/get-book", "code": 40004, "message": "INVALID_REQUEST"}
        return 400, enc.dumps(body)
    try:
        depth = max(1, min(BOOK_DEPTH, int(query.get("depth", BOOK_DEPTH))))
    except ValueError:
        depth = BOOK_DEPTH
    item = {"asks": _rows(book, book.top(False, depth)), "bids": _rows(book, book.top(True, depth)),
            "t": book.ts_ms}  # fmt: skip
    result = {"depth": depth, "data": [item], "instrument_name": native}
    return 200, enc.dumps({"id": -1, "method": "public/get-book", "code": 0, "result": result})


class CryptocomSession(VenueSession):
    """``{"id":1,"method":"subscribe","params":{"channels":["book.BTC_USDT.50"],...}}``."""

    venue: ClassVar[Venue] = Venue.CRYPTOCOM
    reports_touched: ClassVar[bool] = False

    def __init__(self, model: MarketModel, conn_id: str) -> None:
        super().__init__(model, conn_id)
        self._heartbeat_due = model.time + HEARTBEAT_S

    @staticmethod
    def native(symbol: Symbol) -> str:
        return f"{symbol.base}_{symbol.quote}"

    def handle(self, text: str) -> None:
        try:
            msg: Any = orjson.loads(text)
        except orjson.JSONDecodeError:
            msg = None
        if type(msg) is not dict:
            self.reply({"id": -1, "code": 40001, "message": "BAD_REQUEST"})
            return
        method, req_id = msg.get("method"), msg.get("id")
        if method == "public/respond-heartbeat":
            return
        params = msg.get("params")
        channels = params.get("channels") if type(params) is dict else None
        if method not in ("subscribe", "unsubscribe") or type(channels) is not list:
            self.reply({"id": req_id, "method": method, "code": 40001, "message": "BAD_REQUEST"})
            return
        for channel in channels:
            parts = channel.split(".") if type(channel) is str else []
            book = self.find_book(parts[1]) if len(parts) > 1 else None
            if method == "unsubscribe":
                self.streams.pop(channel, None)
                self.taps.pop(channel, None)
            elif book is not None and parts[0] == "trade" and len(parts) == 2:
                self.tap(channel, book)
            elif book is not None and parts[0] == "book" and parts[2:] in (["10"], ["50"]):
                self.streams.setdefault(channel, Stream(channel, book, DIFF, depth=int(parts[2])))
            else:
                self.reply({"id": req_id, "method": method, "code": 40003,
                            "message": f"UNKNOWN_CHANNEL {channel}"})  # fmt: skip
                continue
        self.reply({"id": req_id, "method": method, "code": 0})

    def keepalive(self) -> None:
        if self.model.time >= self._heartbeat_due:
            self._heartbeat_due = self.model.time + HEARTBEAT_S
            stamp = int(self.model.time * 1000)
            self.reply({"id": stamp, "method": "public/heartbeat", "code": 0})

    def trade_frame(self, tap: TradeTap, trade: SimTrade) -> str | None:
        book = tap.book
        item = {"d": str(trade.trade_id), "t": trade.ts_ms, "p": book.price_text(trade.price),
                "q": book.size_text(trade.size), "s": "BUY" if trade.buy else "SELL",
                "i": self.native(book.symbol)}  # fmt: skip
        return _push(book, "trade", tap.name, [item])

    def snapshot_frame(self, stream: Stream) -> str | None:
        book = stream.book
        item = {"asks": _rows(book, book.top(False, stream.depth)),
                "bids": _rows(book, book.top(True, stream.depth)),
                "t": book.ts_ms, "tt": book.ts_ms, "u": stream.seq}  # fmt: skip
        return _push(book, "book", stream.name, [item])

    def delta_frame(self, stream: Stream, delta: Delta, prev: int, seq: int) -> str | None:
        if not delta.bids and not delta.asks:
            return None
        book = stream.book
        update = {"asks": _rows(book, [(p, s) for p, s, _ in delta.asks]),
                  "bids": _rows(book, [(p, s) for p, s, _ in delta.bids])}  # fmt: skip
        item = {"update": update, "t": book.ts_ms, "tt": book.ts_ms, "u": seq, "pu": prev}
        return _push(book, "book.update", stream.name, [item])
