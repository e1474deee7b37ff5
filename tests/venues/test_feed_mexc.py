"""VenueFeed end to end for MEXC: binary protobuf pushes over a real local WebSocket server,
REST snapshots from a local HTTP server, a version gap, an unreadable frame, a reconnect."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from goquant_bot.domain.instruments import Symbol
from goquant_bot.venues.mexc import MexcProtocol
from tests.fakes import mexc_frames as mx
from tests.fakes.feed_harness import LIVE, SYNCING, book_of, levels, run_feed
from tests.fakes.rest_server import RestServer
from tests.fakes.ws_server import ScriptConn, ScriptedServer
from tests.helpers import wait_until

BTC = Symbol("BTC", "USDT")
NAMES = {"BTCUSDT": BTC}
CHANNEL = "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"


async def subscribed(conn: ScriptConn) -> list[str]:
    """Wait for a SUBSCRIPTION and answer it as MEXC does (JSON text); its channels."""
    frame = json.loads(await conn.recv_until(lambda t: '"SUBSCRIPTION"' in t))
    await conn.send(mx.answer(",".join(frame["params"]), frame["id"]))
    return frame["params"]


async def test_binary_pushes_a_gap_and_a_reconnect_with_rest_snapshots() -> None:
    live, drop = asyncio.Event(), asyncio.Event()

    async def first(conn: ScriptConn) -> None:
        assert await subscribed(conn) == [CHANNEL]
        await conn.ws.send(b"\x0a\xff\x01")  # unreadable: counted, the connection stays
        await conn.ws.send(mx.depth("BTCUSDT", 999, 1000, bids=[("100.0", "1")]))
        await live.wait()
        await conn.ws.send(mx.depth("BTCUSDT", 1001, 1001, asks=[("101.0", "5")]))
        await conn.ws.send(mx.depth("BTCUSDT", 1003, 1003, bids=[("100.0", "7")]))  # 1002 lost
        await drop.wait()

    async def second(conn: ScriptConn) -> None:
        assert await subscribed(conn) == [CHANNEL]
        await conn.ws.send(mx.depth("BTCUSDT", 2000, 2000, bids=[("99.5", "2")]))
        await conn.hold()

    async with RestServer() as rest, ScriptedServer(first, second, path="/ws") as srv:
        rest.reply("/api/v3/depth", body=mx.snapshot(1000, [("100.0", "1")], [("101.0", "3")]))
        rest.reply("/api/v3/depth", body=mx.snapshot(1002, [("100.0", "1")], [("101.0", "5")]))
        rest.reply("/api/v3/depth", body=mx.snapshot(1999, [("99.0", "1")], [("101.0", "4")]))
        async with run_feed(MexcProtocol, NAMES, srv.url, rest=rest.url) as (feed, log):
            feed.add([BTC])
            btc = book_of(feed, BTC)
            await wait_until(lambda: btc.state is LIVE)
            assert levels(btc) == ([(100.0, 1.0)], [(101.0, 3.0)])
            assert rest.requests[0] == ("/api/v3/depth", {"symbol": "BTCUSDT", "limit": "5000"})
            live.set()
            await wait_until(lambda: btc.resyncs == 1 and btc.state is LIVE)
            assert levels(btc) == ([(100.0, 7.0)], [(101.0, 5.0)])
            proto = feed.connections[0].proto
            assert proto.stats.errors == Counter({"bad_protobuf": 1, "gap": 1})
            drop.set()
            await wait_until(lambda: len(srv.conns) == 2 and btc.bids.best() == (99.5, 2.0))
            assert levels(btc) == ([(99.5, 2.0), (99.0, 1.0)], [(101.0, 4.0)])
            assert log.states(BTC) == [SYNCING, LIVE, SYNCING, LIVE, SYNCING, LIVE]
            assert rest.count("/api/v3/depth") == 3
