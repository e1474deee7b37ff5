"""Simulated Bitget v2 public WebSocket: ``books`` with a checksum on every message, ``trade``,
the text ``ping``; and its spot symbol list."""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.venues.bitget import CHECKSUM_LEVELS
from goquant_bot.venues.crc_books import interleaved_crc32, signed32
from goquant_bot.venues.sim import encoders as enc
from goquant_bot.venues.sim.book import SimBook
from goquant_bot.venues.sim.model import MarketModel
from goquant_bot.venues.sim.sessions import DIFF, Delta, Stream, VenueSession
from goquant_bot.venues.sim.trades import SimTrade, TradeTap

Levels = list[tuple[int, int]]


def _rows(book: SimBook, levels: Levels) -> list[list[str]]:
    return [[book.price_text(p), book.size_text(s)] for p, s in levels]


def bitget_books(book: SimBook, action: str, seq: int, bids: Levels, asks: Levels) -> str:
    """A ``books`` push; the checksum covers the venue's best 25 levels after the message,
    printed signed as Bitget does."""
    top_bids = _rows(book, book.top(True, CHECKSUM_LEVELS))
    top_asks = _rows(book, book.top(False, CHECKSUM_LEVELS))
    item = {
        "asks": _rows(book, asks),
        "bids": _rows(book, bids),
        "checksum": signed32(interleaved_crc32(top_bids, top_asks, CHECKSUM_LEVELS)),
        "seq": seq,
        "ts": str(book.ts_ms),
    }
    arg = {"instType": "SPOT", "channel": "books", "instId": BitgetSession.native(book.symbol)}
    return enc.dumps({"action": action, "arg": arg, "data": [item], "ts": book.ts_ms})


def bitget_trade(book: SimBook, native: str, t: SimTrade) -> str:
    item = {"ts": str(t.ts_ms), "price": book.price_text(t.price),
            "size": book.size_text(t.size), "side": "buy" if t.buy else "sell",
            "tradeId": str(t.trade_id)}  # fmt: skip
    arg = {"instType": "SPOT", "channel": "trade", "instId": native}
    return enc.dumps({"action": "update", "arg": arg, "data": [item], "ts": t.ts_ms})


def bitget_symbols(model: MarketModel, query: Any) -> tuple[int, str]:
    """``/api/v2/spot/public/symbols``: every listed pair online, precisions as strings."""
    data = []
    for symbol in model.listings(Venue.BITGET):
        asset = model.asset(symbol.base)
        data.append(
            {
                "symbol": BitgetSession.native(symbol),
                "baseCoin": symbol.base,
                "quoteCoin": symbol.quote,
                "pricePrecision": str(asset.tick_decimals),
                "quantityPrecision": str(asset.lot_decimals),
                "status": "online",
            }
        )
    return 200, enc.dumps({"code": "00000", "msg": "success", "data": data})


def bitget_orderbook(model: MarketModel, query: Any) -> tuple[int, str]:
    """``/api/v2/spot/market/orderbook``: the top ``limit`` levels (150 at most)."""
    native = query.get("symbol")
    book = next(
        (model.book(Venue.BITGET, s) for s in model.listings(Venue.BITGET)
         if BitgetSession.native(s) == native),
        None,
    )  # fmt: skip
    if book is None:
        body = {"code": "40034", "msg": "Parameter symbol does not exist", "data": None}
        return 400, enc.dumps(body)
    try:
        limit = max(1, min(150, int(query.get("limit", 150))))
    except ValueError:
        limit = 150
    data = {"asks": _rows(book, book.top(False, limit)), "bids": _rows(book, book.top(True, limit)),
            "ts": str(book.ts_ms)}  # fmt: skip
    return 200, enc.dumps({"code": "00000", "msg": "success", "requestTime": book.ts_ms,
                           "data": data})  # fmt: skip


class BitgetSession(VenueSession):
    """``{"op":"subscribe","args":[{"instType":"SPOT","channel":"books","instId":"BTCUSDT"}]}``."""

    venue: ClassVar[Venue] = Venue.BITGET
    reports_touched: ClassVar[bool] = False

    @staticmethod
    def native(symbol: Symbol) -> str:
        return f"{symbol.base}{symbol.quote}"

    def _error(self, code: int, text: str, arg: Any = None) -> None:
        msg: dict[str, Any] = {"event": "error", "code": code, "msg": text}
        if arg is not None:
            msg["arg"] = arg
        self.reply(msg)

    def handle(self, text: str) -> None:
        if text == "ping":
            self.reply("pong")
            return
        try:
            msg: Any = orjson.loads(text)
        except orjson.JSONDecodeError:
            msg = None
        if type(msg) is not dict:
            self._error(30001, f"param error: {text[:100]}")
            return
        op, args = msg.get("op"), msg.get("args")
        if op not in ("subscribe", "unsubscribe") or type(args) is not list:
            self._error(30001, f"param error: {text[:100]}")
            return
        for arg in args:
            fields = arg if type(arg) is dict else {}
            channel, inst = fields.get("channel"), fields.get("instId")
            book = self.find_book(inst) if type(inst) is str else None
            spot = fields.get("instType") == "SPOT"
            if not spot or book is None or channel not in ("books", "trade"):
                self._error(30001, f"instType:{fields.get('instType')},channel:{channel},"
                            f"instId:{inst} doesn't exist", arg)  # fmt: skip
                continue
            key = f"{channel}:{inst}"
            if channel == "trade":
                self.tap(key, book if op == "subscribe" else None)
            elif op == "unsubscribe":
                self.streams.pop(key, None)
            else:
                self.streams.setdefault(key, Stream(key, book, DIFF))
            self.reply({"event": op, "arg": arg})

    def trade_frame(self, tap: TradeTap, trade: SimTrade) -> str | None:
        return bitget_trade(tap.book, self.native(tap.book.symbol), trade)

    def snapshot_frame(self, stream: Stream) -> str | None:
        book = stream.book
        return bitget_books(book, "snapshot", stream.seq, book.top(True), book.top(False))

    def delta_frame(self, stream: Stream, delta: Delta, prev: int, seq: int) -> str | None:
        if not delta.bids and not delta.asks:
            return None
        bids = [(p, s) for p, s, _ in delta.bids]
        asks = [(p, s) for p, s, _ in delta.asks]
        return bitget_books(stream.book, "update", seq, bids, asks)
