"""VenueFeed end to end for HTX: gzip binary frames over a real local WebSocket server."""

from __future__ import annotations

import asyncio
import json

from goquant_bot.domain.instruments import Symbol
from goquant_bot.venues.htx import HtxProtocol
from tests.fakes import htx_frames as hx
from tests.fakes.feed_harness import LIVE, SYNCING, book_of, levels, run_feed
from tests.fakes.ws_server import ScriptConn, ScriptedServer
from tests.helpers import wait_until

BTC, ETH = Symbol("BTC", "USDT"), Symbol("ETH", "USDT")
NAMES = {"btcusdt": BTC, "ethusdt": ETH}


async def subs(conn: ScriptConn, count: int) -> list[str]:
    """Wait for ``count`` sub requests and acknowledge each, gzipped as HTX does."""
    topics = []
    while len(topics) < count:
        frame = json.loads(await conn.recv_until(lambda t: '"sub"' in t))
        await conn.ws.send(hx.gz(hx.subbed(frame["sub"], frame["id"])))
        topics.append(frame["sub"])
    return sorted(topics)


async def test_gzip_books_ping_pong_and_a_reconnect() -> None:
    drop = asyncio.Event()
    topics = ["market.btcusdt.depth.step0", "market.ethusdt.depth.step0"]

    async def first(conn: ScriptConn) -> None:
        assert await subs(conn, 2) == topics
        await conn.ws.send(hx.gz(hx.ping(1700000000123)))
        pong = await conn.recv_until(lambda t: '"pong"' in t)
        assert json.loads(pong) == {"pong": 1700000000123}
        await conn.ws.send(hx.gz(hx.depth("btcusdt", [(100.0, 1.0)], [(101.0, 3.0)])))
        await conn.ws.send(hx.gz(hx.depth("ethusdt", [(20.0, 1.0)], [(21.0, 1.0)])))
        await conn.ws.send(b"\x1f\x8bcorrupt")  # counted, the connection stays
        await conn.ws.send(hx.gz(hx.depth("btcusdt", [(100.5, 2.0)], [(101.0, 3.0)], ts=hx.TS + 1)))
        await drop.wait()

    async def second(conn: ScriptConn) -> None:
        assert await subs(conn, 2) == topics
        await conn.ws.send(hx.gz(hx.depth("btcusdt", [(99.0, 7.0)], [(101.0, 3.0)])))
        await conn.ws.send(hx.gz(hx.depth("ethusdt", [(20.0, 2.0)], [(21.0, 1.0)])))
        await conn.hold()

    async with (
        ScriptedServer(first, second, path="/ws") as srv,
        run_feed(HtxProtocol, NAMES, srv.url) as (feed, log),
    ):
        feed.add([BTC, ETH])
        btc, eth = book_of(feed, BTC), book_of(feed, ETH)
        await wait_until(lambda: btc.updates == 2 and eth.state is LIVE)
        assert levels(btc) == ([(100.5, 2.0)], [(101.0, 3.0)])
        proto = feed.connections[0].proto
        assert proto.stats.errors["bad_gzip"] == 1
        drop.set()
        await wait_until(lambda: len(srv.conns) == 2 and btc.bids.best() == (99.0, 7.0))
        await wait_until(lambda: eth.bids.best() == (20.0, 2.0))
        assert log.states(BTC) == [SYNCING, LIVE, SYNCING, LIVE]
