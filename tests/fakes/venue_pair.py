"""Bybit and OKX quoting BTC-USDT from local servers, for whole-app tests (``build(settings)``).

Each venue answers its instruments REST call, acknowledges subscriptions, sends a snapshot of
its current quote to every subscriber and, on ``quote``, the update that moves the book there.
The quote survives connections: an app started again gets a snapshot of the latest one.

    async with VenuePair(("59990.0", "60010.0"), ("59990.0", "60010.0")) as venues:
        settings = Settings(venues=venues.settings(), ...)
        await venues.quote(bybit=("59980.0", "60000.0"), okx=("60600.0", "60620.0"))
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Any

from websockets.exceptions import ConnectionClosed

from goquant_bot.domain.instruments import Venue
from tests.fakes import bybit_frames as bybit
from tests.fakes import okx_frames as okx
from tests.fakes.rest_server import RestServer
from tests.fakes.ws_server import ScriptConn, ScriptedServer

Quote = tuple[str, str]  # (best bid, best ask) as the venue's decimal strings
SIZE = "50"  # BTC on the one level a side: deeper than the largest size tier needs
BYBIT_NATIVE, OKX_NATIVE = "BTCUSDT", "BTC-USDT"
BYBIT_DEPTH = 50  # topic orderbook.50: the app runs with marketdata.book_depth <= 50


def _now_ms() -> int:
    return int(time.time() * 1000)


def _moves(old: Quote, new: Quote) -> tuple[list[list[str]], list[list[str]]]:
    """The (bids, asks) level changes that turn a one-level book at ``old`` into ``new``."""
    sides: list[list[list[str]]] = []
    for before, after in zip(old, new, strict=True):
        changes = [] if before == after else [[before, "0"]]
        sides.append([*changes, [after, SIZE]])
    return sides[0], sides[1]


class _Venue:
    """One venue's server side: its WebSocket, its REST, the connections subscribed."""

    def __init__(self, quote: Quote) -> None:
        self.quote = quote
        self.ws = ScriptedServer(self._serve)
        self.rest = RestServer()
        self.subscribers: list[ScriptConn] = []
        self._books_sent = asyncio.Event()  # cleared: subscriptions are acked, books held back
        self._books_sent.set()

    def hold(self) -> None:
        """Acknowledge subscriptions but send no snapshot until ``release`` (a slow venue)."""
        self._books_sent.clear()

    def release(self) -> None:
        self._books_sent.set()

    async def _serve(self, conn: ScriptConn) -> None:
        try:
            while True:
                await self.on_client(conn, await conn.recv())
        finally:
            with contextlib.suppress(ValueError):
                self.subscribers.remove(conn)

    async def on_client(self, conn: ScriptConn, text: str) -> None:
        raise NotImplementedError

    def update_frame(self, old: Quote, new: Quote) -> str:
        raise NotImplementedError

    async def move(self, new: Quote) -> None:
        old, self.quote = self.quote, new
        if old == new:
            return
        frame = self.update_frame(old, new)
        for conn in list(self.subscribers):
            try:
                await conn.send(frame)
            except ConnectionClosed:
                self.subscribers.remove(conn)


class BybitVenue(_Venue):
    """Bybit v5 spot: ``{"op":"subscribe"}`` acked by req_id, ``{"op":"ping"}`` ponged."""

    def __init__(self, quote: Quote) -> None:
        super().__init__(quote)
        self.u = 1000
        entry = bybit.instrument_entry(BYBIT_NATIVE, "BTC", "USDT")
        self.rest.reply(
            "/v5/market/instruments-info", body=bybit.instruments_body([entry]), repeat=True
        )

    async def on_client(self, conn: ScriptConn, text: str) -> None:
        frame: dict[str, Any] = json.loads(text)
        op, req_id = frame.get("op"), str(frame.get("req_id", ""))
        if op == "ping":
            await conn.send(bybit.pong(req_id))
        elif op in ("subscribe", "unsubscribe"):
            await conn.send(bybit.op_ack(req_id, op))
            topic = f"orderbook.{BYBIT_DEPTH}.{BYBIT_NATIVE}"
            if op == "subscribe" and topic in frame.get("args", []):
                await self._books_sent.wait()
                self.u += 1
                bid, ask = self.quote
                await conn.send(
                    bybit.orderbook_frame(
                        "snapshot",
                        BYBIT_NATIVE,
                        self.u,
                        [[bid, SIZE]],
                        [[ask, SIZE]],
                        ts=_now_ms(),
                        depth=BYBIT_DEPTH,
                    )
                )
                self.subscribers.append(conn)
            elif conn in self.subscribers:
                self.subscribers.remove(conn)

    def update_frame(self, old: Quote, new: Quote) -> str:
        self.u += 1
        bids, asks = _moves(old, new)
        return bybit.orderbook_frame(
            "delta", BYBIT_NATIVE, self.u, bids, asks, ts=_now_ms(), depth=BYBIT_DEPTH
        )


class OkxVenue(_Venue):
    """OKX v5 public: ``books`` channel with a seqId chain, text ``ping`` answered ``pong``."""

    def __init__(self, quote: Quote) -> None:
        super().__init__(quote)
        self.seq = 5000
        entry = okx.instrument(OKX_NATIVE, "BTC", "USDT")
        self.rest.reply(
            "/api/v5/public/instruments", body=okx.instruments_body([entry]), repeat=True
        )

    async def on_client(self, conn: ScriptConn, text: str) -> None:
        if text == "ping":
            await conn.send("pong")
            return
        frame: dict[str, Any] = json.loads(text)
        op = frame.get("op")
        if op not in ("subscribe", "unsubscribe"):
            return
        inst_ids = [arg["instId"] for arg in frame.get("args", [])]
        for inst_id in inst_ids:
            await conn.send(okx.subscribe_ack(inst_id, op))
        if op == "subscribe" and OKX_NATIVE in inst_ids:
            await self._books_sent.wait()
            self.seq += 1
            bid, ask = self.quote
            await conn.send(
                okx.books_frame(
                    "snapshot", OKX_NATIVE, [(bid, SIZE)], [(ask, SIZE)], self.seq, -1, ts=_now_ms()
                )
            )
            self.subscribers.append(conn)
        elif op == "unsubscribe" and conn in self.subscribers:
            self.subscribers.remove(conn)

    def update_frame(self, old: Quote, new: Quote) -> str:
        self.seq += 1
        bids, asks = _moves(old, new)
        return okx.books_frame(
            "update",
            OKX_NATIVE,
            [(p, s) for p, s in bids],
            [(p, s) for p, s in asks],
            self.seq,
            self.seq - 1,
            ts=_now_ms(),
        )


class VenuePair:
    """``async with VenuePair() as venues``: Bybit and OKX on 127.0.0.1, both quoting BTC-USDT."""

    def __init__(self, bybit_quote: Quote, okx_quote: Quote) -> None:
        self.bybit = BybitVenue(bybit_quote)
        self.okx = OkxVenue(okx_quote)
        self._stack = AsyncExitStack()

    def settings(self, taker_fee_pct: float = 0.1) -> dict[str, Any]:
        """The ``venues`` settings section: these two venues here, the others disabled."""

        def here(venue: _Venue) -> dict[str, Any]:
            return {
                "taker_fee_pct": taker_fee_pct,
                "ws_url": venue.ws.url,
                "rest_url": venue.rest.url,
            }

        off = {"enabled": False, "taker_fee_pct": taker_fee_pct}
        # Every other venue off: a test never reaches the real network.
        others = {v.value: off for v in Venue if v not in (Venue.BYBIT, Venue.OKX)}
        return {**others, "bybit": here(self.bybit), "okx": here(self.okx)}

    async def quote(self, *, bybit: Quote, okx: Quote) -> None:
        """Move both books (an update to every subscriber; the next snapshots show it)."""
        await self.bybit.move(bybit)
        await self.okx.move(okx)

    def subscribed(self) -> bool:
        """Both venues stream the book to a client."""
        return bool(self.bybit.subscribers and self.okx.subscribers)

    async def __aenter__(self) -> VenuePair:
        for venue in (self.bybit, self.okx):
            await self._stack.enter_async_context(venue.ws)
            await self._stack.enter_async_context(venue.rest)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()
