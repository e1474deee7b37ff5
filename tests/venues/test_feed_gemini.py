"""VenueFeed end to end for Gemini over real local sockets and a real REST server."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from goquant_bot.domain.instruments import Symbol
from goquant_bot.venues.gemini import GeminiProtocol
from tests.fakes import gemini_frames as gm
from tests.fakes.feed_harness import LIVE, SYNCING, book_of, is_frame, levels, run_feed
from tests.fakes.rest_server import RestServer
from tests.fakes.ws_server import ScriptConn, ScriptedServer
from tests.helpers import wait_until

BTC, ETH = Symbol("BTC", "USD"), Symbol("ETH", "USD")
NAMES = {"BTCUSD": BTC, "ETHUSD": ETH}
BTC_BOOK = [("buy", "100", "1"), ("sell", "101", "3")]
ETH_BOOK = [("buy", "20", "1"), ("sell", "21", "1")]


async def subscribe(conn: ScriptConn) -> list[str]:
    frame = json.loads(await conn.recv_until(is_frame("type", "subscribe")))
    return [s for sub in frame["subscriptions"] for s in sub["symbols"]]


async def test_initial_books_changes_a_crossed_resync_and_a_reconnect() -> None:
    cross, drop = asyncio.Event(), asyncio.Event()

    async def first(conn: ScriptConn) -> None:
        assert sorted(await subscribe(conn)) == ["BTCUSD", "ETHUSD"]
        await conn.send(gm.initial("BTCUSD", BTC_BOOK))
        await conn.send(gm.initial("ETHUSD", ETH_BOOK))
        await conn.send(gm.update("BTCUSD", [("buy", "100.5", "2")]))
        await conn.send(gm.trade("BTCUSD"))
        await cross.wait()
        await conn.send(gm.update("ETHUSD", [("sell", "19", "1")]))  # below the best bid
        await conn.recv_until(is_frame("type", "unsubscribe"))
        assert await subscribe(conn) == ["ETHUSD"]
        await conn.send(gm.update("ETHUSD", [("buy", "5", "5")]))  # the old one, in flight
        await conn.send(gm.initial("ETHUSD", [("buy", "19", "1"), ("sell", "19.5", "2")]))
        await drop.wait()

    async def second(conn: ScriptConn) -> None:
        await subscribe(conn)
        await conn.send(gm.initial("BTCUSD", BTC_BOOK))
        await conn.send(gm.initial("ETHUSD", ETH_BOOK))
        await conn.hold()

    async with RestServer() as rest, ScriptedServer(first, second) as srv:
        rest.reply("/v1/symbols/details/btcusd", body=gm.details("BTCUSD", "BTC", "USD"))
        rest.reply("/v1/symbols/details/ethusd", body=gm.details("ETHUSD", "ETH", "USD"))
        async with run_feed(GeminiProtocol, NAMES, srv.url, rest=rest.url) as (feed, log):
            feed.add([BTC, ETH])
            btc, eth = book_of(feed, BTC), book_of(feed, ETH)
            await wait_until(lambda: btc.updates == 2 and eth.state is LIVE)
            assert levels(btc) == ([(100.5, 2.0), (100.0, 1.0)], [(101.0, 3.0)])
            proto = feed.connections[0].proto
            assert isinstance(proto, GeminiProtocol)
            await wait_until(lambda: len(proto.details) == 2)
            cross.set()
            await wait_until(lambda: eth.resyncs == 1 and eth.state is LIVE)
            assert levels(eth) == ([(19.0, 1.0)], [(19.5, 2.0)])
            assert (btc.state, btc.resyncs) == (LIVE, 0)
            assert proto.stats.errors == Counter({"crossed": 1})
            drop.set()
            await wait_until(lambda: len(srv.conns) == 2 and eth.state is LIVE)
            await wait_until(lambda: btc.state is LIVE and eth.asks.best() == (21.0, 1.0))
            assert log.states(ETH) == [SYNCING, LIVE, SYNCING, LIVE, SYNCING, LIVE]
            assert log.states(BTC) == [SYNCING, LIVE, SYNCING, LIVE]
            # Details are asked once per symbol and connection protocol, not on every reconnect.
            assert rest.count("/v1/symbols/details/btcusd") == 1
