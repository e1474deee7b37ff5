"""A local GoMarket API: symbols, L1 and L2 over REST, L2 books over WebSocket, one base URL.

Each stream pushes the whole book every ``interval_s`` stamped with the current time in
milliseconds. A book can be ``stalled`` (its stamp stops advancing while it is still pushed)
or ``crossed`` (best bid above best ask); ``throttle`` answers the next REST requests 429.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from types import TracebackType

from aiohttp import WSMsgType, web


@dataclass
class FakeBook:
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]
    stalled_at_ms: int | None = None
    crossed: bool = False

    def message(self, exchange: str, symbol: str) -> str:
        now_ms = int(time.time() * 1000)
        bids, asks = self.bids, self.asks
        if self.crossed:
            bids = [(asks[0][0] + 5.0, 1.0), *bids]
        return json.dumps(
            {
                "timestamp": self.stalled_at_ms if self.stalled_at_ms is not None else now_ms,
                "exchange": exchange,
                "symbol": symbol,
                "bids": [[f"{p}", f"{q}"] for p, q in bids],
                "asks": [[f"{p}", f"{q}"] for p, q in asks],
            }
        )


@dataclass
class FakeGoMarket:
    """``async with FakeGoMarket() as gm``: GoMarket at ``gm.url``."""

    symbols: dict[str, list[str]] = field(default_factory=dict)
    books: dict[tuple[str, str], FakeBook] = field(default_factory=dict)
    interval_s: float = 0.02
    throttle: int = 0  # answer the next N REST requests 429
    retry_after: str | None = None
    url: str = ""
    rest_calls: list[tuple[str, float]] = field(default_factory=list)
    api_keys: list[str | None] = field(default_factory=list)
    streams_open: int = 0
    streams_seen: list[str] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    def stall(self, exchange: str, symbol: str) -> None:
        """The upstream stops: the same book keeps coming with its old stamp."""
        self.books[(exchange, symbol)].stalled_at_ms = int(time.time() * 1000)

    async def _symbols(self, request: web.Request) -> web.StreamResponse:
        return self._rest(request) or web.json_response(
            self.symbols.get(request.match_info["exchange"], [])
        )

    async def _book(self, request: web.Request) -> web.StreamResponse:
        throttled = self._rest(request)
        if throttled is not None:
            return throttled
        key = (request.match_info["exchange"], request.match_info["symbol"])
        book = self.books.get(key)
        if book is None:
            return web.json_response({"error": "unknown symbol"}, status=404)
        text = book.message(*key)
        if request.path.startswith("/api/l1-orderbook/"):
            msg = json.loads(text)
            msg["bids"], msg["asks"] = msg["bids"][:1], msg["asks"][:1]
            text = json.dumps(msg)
        return web.Response(text=text, content_type="application/json")

    def _rest(self, request: web.Request) -> web.Response | None:
        self.rest_calls.append((request.path, time.monotonic()))
        self.api_keys.append(request.headers.get("X-API-Key"))
        if self.throttle > 0:
            self.throttle -= 1
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return web.json_response({"error": "rate limited"}, status=429, headers=headers)
        return None

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        key = (request.match_info["exchange"], request.match_info["symbol"])
        self.api_keys.append(request.headers.get("X-API-Key"))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.streams_open += 1
        self.streams_seen.append(f"{key[0]}/{key[1]}")
        try:
            while not ws.closed:
                book = self.books.get(key)
                if book is not None:
                    await ws.send_str(book.message(*key))
                try:
                    msg = await ws.receive(timeout=self.interval_s)
                except TimeoutError:
                    continue
                if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR):
                    break
        except ConnectionResetError:
            pass
        finally:
            self.streams_open -= 1
        return ws

    async def __aenter__(self) -> FakeGoMarket:
        app = web.Application()
        app.router.add_get("/api/symbols/{exchange}/spot", self._symbols)
        app.router.add_get("/api/l2-orderbook/{exchange}/{symbol}", self._book)
        app.router.add_get("/api/l1-orderbook/{exchange}/{symbol}", self._book)
        app.router.add_get("/ws/l2-orderbook/{exchange}/{symbol}", self._stream)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._runner is not None
        await asyncio.wait_for(self._runner.cleanup(), 5.0)
