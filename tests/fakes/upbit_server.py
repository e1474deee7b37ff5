"""A local Upbit as ccxt's upbit client reads it: markets and order books over REST, order
books and trades over WebSocket (Upbit pushes its whole top of book in every message).

Each book is pushed every ``interval_s`` stamped with the current time in milliseconds,
unless it is ``stalled`` (its stamp stops advancing), ``silent`` (nothing is pushed),
``crossed`` (best bid above best ask) or ``refused`` (its streams are closed at once). REST
answers its book ``rest_offset`` away from the stream's.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from types import TracebackType

from aiohttp import WSMsgType, web


@dataclass
class FakeUpbitBook:
    bid: float
    ask: float
    stalled_at_ms: int | None = None
    silent: bool = False
    crossed: bool = False
    refused: bool = False
    rest_offset: float = 0.0

    def units(self, offset: float = 0.0) -> list[dict[str, float]]:
        bid = self.ask + 5.0 if self.crossed else self.bid
        return [
            {
                "ask_price": self.ask + offset + i,
                "bid_price": bid + offset - i,
                "ask_size": 1.0 + i,
                "bid_size": 2.0 + i,
            }
            for i in range(3)
        ]

    def stamp(self) -> int:
        return self.stalled_at_ms if self.stalled_at_ms is not None else int(time.time() * 1000)


@dataclass
class FakeUpbit:
    """``async with FakeUpbit(books) as upbit``: REST at ``upbit.url``, WS at ``upbit.ws_url``."""

    books: dict[str, FakeUpbitBook] = field(default_factory=dict)  # by market code, KRW-BTC
    interval_s: float = 0.02
    url: str = ""
    ws_url: str = ""
    streams: Counter[str] = field(default_factory=Counter)  # subscriptions seen per code
    rest_books: Counter[str] = field(default_factory=Counter)  # REST order books asked
    _trade_id: int = 0
    _runner: web.AppRunner | None = None

    def stall(self, code: str) -> None:
        self.books[code].stalled_at_ms = int(time.time() * 1000)

    async def _markets(self, request: web.Request) -> web.StreamResponse:
        rows = [{"market": code, "english_name": code.split("-")[1]} for code in self.books]
        rows.append({"market": "BTC-@107", "english_name": "an index-named listing"})
        return web.json_response(rows)

    async def _orderbook(self, request: web.Request) -> web.StreamResponse:
        answer = []
        for code in request.query.get("markets", "").split(","):
            book = self.books.get(code)
            if book is None:
                return web.json_response({"error": {"name": "404"}}, status=404)
            self.rest_books[code] += 1
            units = book.units(book.rest_offset)
            answer.append({"market": code, "timestamp": book.stamp(), "orderbook_units": units})
        return web.json_response(answer)

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        books: set[str] = set()
        trades: set[str] = set()
        sent: set[str] = set()  # the first book of each stream is a snapshot
        while not ws.closed:
            try:
                msg = await ws.receive(timeout=self.interval_s)
            except TimeoutError:
                if not await self._push(ws, books, trades, sent):
                    break
                continue
            if msg.type is not WSMsgType.TEXT:
                break
            for item in json.loads(msg.data):
                codes = item.get("codes", [])
                if item.get("type") == "orderbook":
                    books.update(codes)
                    self.streams.update(codes)
                elif item.get("type") == "trade":
                    trades.update(codes)
        return ws

    async def _push(
        self, ws: web.WebSocketResponse, books: set[str], trades: set[str], sent: set[str]
    ) -> bool:
        for code in sorted(books):
            book = self.books[code]
            if book.refused:
                await ws.close()
                return False
            if book.silent:
                continue
            message = {
                "type": "orderbook",
                "code": code,
                "timestamp": book.stamp(),
                "orderbook_units": book.units(),
                "stream_type": "REALTIME" if code in sent else "SNAPSHOT",
            }
            sent.add(code)
            await ws.send_str(json.dumps(message))
        for code in sorted(trades):
            self._trade_id += 1
            now_ms = int(time.time() * 1000)
            message = {
                "type": "trade",
                "code": code,
                "timestamp": now_ms,
                "trade_timestamp": now_ms,
                "trade_price": self.books[code].bid,
                "trade_volume": 0.5,
                "ask_bid": "ASK",
                "sequential_id": self._trade_id,
                "stream_type": "REALTIME",
            }
            await ws.send_str(json.dumps(message))
        return True

    async def __aenter__(self) -> FakeUpbit:
        app = web.Application()
        app.router.add_get("/v1/market/all", self._markets)
        app.router.add_get("/v1/orderbook", self._orderbook)
        app.router.add_get("/websocket/v1", self._ws)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/websocket/v1"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await asyncio.wait_for(self._runner.cleanup(), 5)
