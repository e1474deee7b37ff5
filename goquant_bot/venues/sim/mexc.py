"""Simulated MEXC spot v3: aggregated depth diffs and deals as binary protobuf frames (as the
venue sends them), JSON answers to SUBSCRIPTION / UNSUBSCRIPTION / PING, and its REST
(``/api/v3/exchangeInfo``, ``/api/v3/depth`` with the ``lastUpdateId`` the diffs chain on)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import orjson

from goquant_bot.domain.instruments import Venue
from goquant_bot.venues.mexc_pb2 import PushDataV3ApiWrapper
from goquant_bot.venues.sim.encoders import dumps, text_levels
from goquant_bot.venues.sim.model import MarketModel
from goquant_bot.venues.sim.sessions import DIFF, Delta, Stream, VenueSession
from goquant_bot.venues.sim.trades import SimTrade, TradeTap

DEPTH = "spot@public.aggre.depth.v3.api.pb@"
DEALS = "spot@public.aggre.deals.v3.api.pb@"
INTERVALS = frozenset({"10ms", "100ms"})
MAX_SUBSCRIPTIONS = 30


class MexcSession(VenueSession):
    """``{"method":"SUBSCRIPTION","params":["spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"],
    "id":1}`` and ``{"method":"PING"}``."""

    venue: ClassVar[Venue] = Venue.MEXC

    def handle(self, text: str) -> None:
        try:
            msg: Any = orjson.loads(text)
        except orjson.JSONDecodeError:
            msg = None
        method = msg.get("method") if type(msg) is dict else None
        request_id = msg.get("id", 0) if type(msg) is dict else 0
        if method == "PING":
            self.reply({"id": 0, "code": 0, "msg": "PONG"})
            return
        params = msg.get("params") if type(msg) is dict else None
        if method not in ("SUBSCRIPTION", "UNSUBSCRIPTION") or type(params) is not list:
            self.reply({"id": request_id, "code": 0, "msg": "Invalid request"})
            return
        done, refused = [], []
        for name in params:
            if self._apply(method, name):
                done.append(name)
            else:
                refused.append(str(name))
        if done:
            self.reply({"id": request_id, "code": 0, "msg": ",".join(done)})
        if refused:
            reason = f"Not Subscribed successfully! [{','.join(refused)}]. Reason: Blocked!"
            self.reply({"id": request_id, "code": 0, "msg": reason})

    def _apply(self, method: str, name: Any) -> bool:
        """Start or stop one channel; False for a channel MEXC would refuse."""
        parts = name.split("@") if type(name) is str else []
        if len(parts) != 4 or parts[2] not in INTERVALS:
            return False
        prefix = f"{parts[0]}@{parts[1]}@"
        book = self.find_book(parts[3])
        if book is None or prefix not in (DEPTH, DEALS):
            return False
        if method == "UNSUBSCRIPTION":
            self.streams.pop(name, None)
            self.tap(name, None)
            return True
        if name not in self.streams and name not in self.taps:
            if len(self.streams) + len(self.taps) >= MAX_SUBSCRIPTIONS:
                return False
            if prefix == DEALS:
                self.tap(name, book)
            else:
                self.streams[name] = Stream(name, book, DIFF)
        return True

    def snapshot_frame(self, stream: Stream) -> str | bytes | None:
        return None  # the client takes its snapshot over REST

    def delta_frame(self, stream: Stream, delta: Delta, prev: int, seq: int) -> str | bytes | None:
        if not delta.bids and not delta.asks:
            return None
        book = stream.book
        push = self._push(stream.name, book.ts_ms)
        depth = push.publicAggreDepths
        for price, size, _ in delta.asks:
            depth.asks.add(price=book.price_text(price), quantity=book.size_text(size))
        for price, size, _ in delta.bids:
            depth.bids.add(price=book.price_text(price), quantity=book.size_text(size))
        depth.eventType = stream.name.rpartition("@")[0]
        depth.fromVersion = str(delta.first_id)
        depth.toVersion = str(delta.last_id)
        return push.SerializeToString()

    def trade_frame(self, tap: TradeTap, trade: SimTrade) -> str | bytes | None:
        book = tap.book
        push = self._push(tap.name, trade.ts_ms)
        deals = push.publicAggreDeals
        deals.deals.add(
            price=book.price_text(trade.price),
            quantity=book.size_text(trade.size),
            tradeType=1 if trade.buy else 2,
            time=trade.ts_ms,
        )
        deals.eventType = tap.name.rpartition("@")[0]
        return push.SerializeToString()

    @staticmethod
    def _push(channel: str, ts_ms: int) -> PushDataV3ApiWrapper:
        push = PushDataV3ApiWrapper(channel=channel, symbol=channel.rpartition("@")[2])
        push.sendTime = ts_ms + 3
        return push


def mexc_rest(model: MarketModel, path: str, query: Mapping[str, str]) -> tuple[int, str]:
    """``/api/v3/exchangeInfo`` and ``/api/v3/depth``; 404 for anything else."""
    if path == "/api/v3/exchangeInfo":
        symbols = []
        for symbol in model.listings(Venue.MEXC):
            asset = model.asset(symbol.base)
            symbols.append({
                "symbol": f"{symbol.base}{symbol.quote}", "status": "1",
                "baseAsset": symbol.base, "baseAssetPrecision": asset.lot_decimals,
                "quoteAsset": symbol.quote, "quotePrecision": asset.tick_decimals,
                "quoteAssetPrecision": asset.tick_decimals,
                "baseSizePrecision": f"{10.0 ** -asset.lot_decimals:.{asset.lot_decimals}f}",
                "isSpotTradingAllowed": True, "permissions": ["SPOT"],
                "takerCommission": "0.0005", "makerCommission": "0",
            })  # fmt: skip
        return 200, dumps({"timezone": "CST", "serverTime": int(model.time * 1000),
                           "symbols": symbols})  # fmt: skip
    if path == "/api/v3/depth":
        native = query.get("symbol")
        book = next(
            (model.book(Venue.MEXC, s) for s in model.listings(Venue.MEXC)
             if f"{s.base}{s.quote}" == native),
            None,
        )  # fmt: skip
        if book is None:
            return 400, dumps({"code": -1121, "msg": "Invalid symbol."})
        try:
            limit = max(1, min(5000, int(query.get("limit", "100"))))
        except ValueError:
            limit = 100
        return 200, dumps({
            "lastUpdateId": book.last_id,
            "bids": text_levels(book, book.top(True, limit)),
            "asks": text_levels(book, book.top(False, limit)),
            "timestamp": book.ts_ms,
        })  # fmt: skip
    return 404, dumps({"code": 404, "msg": f"no such endpoint: {path}"})
