"""VenueFeed end to end for Deribit over real local sockets."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from goquant_bot.venues.deribit import DeribitProtocol
from tests.fakes import deribit_frames as deribit
from tests.fakes.feed_harness import (
    BTC_USDC,
    DERIBIT_NAMES,
    ETH_USDC,
    LIVE,
    SYNCING,
    book_of,
    deribit_book,
    deribit_call,
    deribit_methods,
    levels,
    run_feed,
    sent,
    updates,
)
from tests.fakes.ws_server import ScriptConn, ScriptedServer
from tests.helpers import wait_until


async def test_deribit_change_id_mismatch_resubscribes_that_channel_only() -> None:
    mismatch = asyncio.Event()

    async def script(conn: ScriptConn) -> None:
        await deribit_call(conn, "public/set_heartbeat")
        await deribit_call(conn, "public/subscribe")
        bids = [("new", 42000.0, 1.0), ("new", 41999.5, 2.0)]
        asks = [("new", 42001.0, 0.5), ("new", 42002.0, 3.0)]
        await conn.send(deribit_book("snapshot", "BTC_USDC", 1000, None, bids, asks))
        eth_bids, eth_asks = [("new", 2000.0, 10.0)], [("new", 2001.0, 8.0)]
        await conn.send(deribit_book("snapshot", "ETH_USDC", 500, None, eth_bids, eth_asks))
        bids = [("change", 42000.0, 1.5), ("delete", 41999.5, 0.0)]
        asks = [("new", 42000.5, 0.25)]
        ts = deribit.TS + 100
        await conn.send(deribit_book("change", "BTC_USDC", 1003, 1000, bids, asks, timestamp=ts))
        await conn.send(deribit_book("change", "ETH_USDC", 507, 500, [("new", 2000.5, 1.0)]))
        await mismatch.wait()
        await conn.send(deribit_book("change", "BTC_USDC", 1010, 1005, [("new", 41990.0, 9.0)]))
        await deribit_call(conn, "public/unsubscribe")
        await deribit_call(conn, "public/subscribe")
        bids, asks = [("new", 41000.0, 1.0)], [("new", 41001.0, 1.0)]
        await conn.send(deribit_book("snapshot", "BTC_USDC", 2000, None, bids, asks))
        await conn.hold()

    async with (
        ScriptedServer(script) as srv,
        run_feed(DeribitProtocol, DERIBIT_NAMES, srv.url) as (feed, log),
    ):
        feed.add([BTC_USDC, ETH_USDC])
        await wait_until(lambda: updates(feed, BTC_USDC) == 2 and updates(feed, ETH_USDC) == 2)
        btc, eth = book_of(feed, BTC_USDC), book_of(feed, ETH_USDC)
        assert (btc.state, eth.state) == (LIVE, LIVE)
        assert levels(btc) == ([(42000.0, 1.5)], [(42000.5, 0.25), (42001.0, 0.5), (42002.0, 3.0)])
        assert levels(eth) == ([(2000.5, 1.0), (2000.0, 10.0)], [(2001.0, 8.0)])
        assert btc.venue_ts == pytest.approx((deribit.TS + 100) / 1000)
        mismatch.set()
        await wait_until(lambda: btc.resyncs == 1 and btc.state is LIVE)
        assert levels(btc) == ([(41000.0, 1.0)], [(41001.0, 1.0)])
        assert levels(eth) == ([(2000.5, 1.0), (2000.0, 10.0)], [(2001.0, 8.0)])
        assert (eth.state, eth.resyncs) == (LIVE, 0)
        assert log.states(BTC_USDC) == [SYNCING, LIVE, SYNCING, LIVE]
        assert log.states(ETH_USDC) == [SYNCING, LIVE]
        assert feed.connections[0].proto.stats.errors == Counter({"change_id_gap": 1})
        assert deribit_methods(srv.conns[0]) == [
            ("public/set_heartbeat", None),
            ("public/subscribe", ["book.BTC_USDC.100ms", "book.ETH_USDC.100ms"]),
            ("public/unsubscribe", ["book.BTC_USDC.100ms"]),
            ("public/subscribe", ["book.BTC_USDC.100ms"]),
        ]
        assert sent(srv.conns[0])[0]["params"] == {"interval": 30}


async def test_deribit_test_request_is_answered_with_public_test() -> None:
    answered = asyncio.Event()

    async def script(conn: ScriptConn) -> None:
        await deribit_call(conn, "public/set_heartbeat")
        await deribit_call(conn, "public/subscribe")
        bids, asks = [("new", 100.0, 1.0)], [("new", 101.0, 1.0)]
        await conn.send(deribit_book("snapshot", "BTC_USDC", 1, None, bids, asks))
        await conn.send(deribit.heartbeat("heartbeat"))
        await conn.send(deribit.heartbeat("test_request"))
        await deribit_call(conn, "public/test")
        answered.set()
        await conn.hold()

    async with (
        ScriptedServer(script) as srv,
        run_feed(DeribitProtocol, DERIBIT_NAMES, srv.url) as (feed, _),
    ):
        feed.add([BTC_USDC])
        await wait_until(answered.is_set)
        test = sent(srv.conns[0])[-1]
        assert test["jsonrpc"] == "2.0"
        assert (test["method"], test["params"]) == ("public/test", {})
        conn = feed.connections[0]
        await wait_until(lambda: conn.proto.stats.frames == 6)  # 2 answers, book, 2 beats, test
        assert not conn.proto.stats.errors
        assert book_of(feed, BTC_USDC).state is LIVE
        assert (len(srv.conns), conn.disconnects) == (1, 0)
