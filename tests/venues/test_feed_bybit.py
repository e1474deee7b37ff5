"""VenueFeed end to end for Bybit over real local sockets: resyncs, failures, hub staleness."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from goquant_bot.domain.instruments import InstrumentKey, Venue
from goquant_bot.marketdata.hub import HubConfig, MarketDataHub
from goquant_bot.venues.bybit import BybitProtocol
from tests.fakes.feed_harness import (
    BTC,
    BYBIT_NAMES,
    ETH,
    LIVE,
    STALE,
    SYNCING,
    book_of,
    bybit_book,
    bybit_op,
    bybit_ops,
    levels,
    run_feed,
    updates,
)
from tests.fakes.ws_server import ScriptConn, ScriptedServer
from tests.helpers import wait_until


async def test_bybit_gap_resubscribes_that_symbol_only() -> None:
    gap = asyncio.Event()

    async def script(conn: ScriptConn) -> None:
        await bybit_op(conn, "subscribe")
        send = conn.send
        bids, asks = [["100.0", "1"], ["99.5", "2"]], [["100.5", "3"], ["101.0", "4"]]
        await send(bybit_book("snapshot", "BTCUSDT", 100, bids, asks))
        await send(bybit_book("snapshot", "ETHUSDT", 500, [["20.0", "5"]], [["20.5", "6"]]))
        await send(
            bybit_book("delta", "BTCUSDT", 101, [["100.0", "0"], ["99.8", "1.5"]], [["100.5", "2"]])
        )
        await send(bybit_book("delta", "BTCUSDT", 102, asks=[["100.4", "0.5"]]))
        await gap.wait()
        await send(bybit_book("delta", "BTCUSDT", 104, [["99.9", "9"]]))
        await bybit_op(conn, "unsubscribe")
        await bybit_op(conn, "subscribe")
        await send(bybit_book("snapshot", "BTCUSDT", 2000, [["98.0", "1"]], [["98.5", "2"]]))
        await send(bybit_book("delta", "BTCUSDT", 2001, [["97.5", "1"]]))
        await conn.hold()

    async with (
        ScriptedServer(script) as srv,
        run_feed(BybitProtocol, BYBIT_NAMES, srv.url) as (feed, log),
    ):
        feed.add([BTC, ETH])
        await wait_until(lambda: updates(feed, BTC) == 3 and updates(feed, ETH) == 1)
        btc, eth = book_of(feed, BTC), book_of(feed, ETH)
        assert (btc.state, eth.state) == (LIVE, LIVE)
        assert levels(btc) == (
            [(99.8, 1.5), (99.5, 2.0)],
            [(100.4, 0.5), (100.5, 2.0), (101.0, 4.0)],
        )
        gap.set()
        await wait_until(lambda: btc.resyncs == 1 and btc.bids.size_at(97.5) == 1.0)
        assert btc.state is LIVE
        assert levels(btc) == ([(98.0, 1.0), (97.5, 1.0)], [(98.5, 2.0)])
        assert levels(eth) == ([(20.0, 5.0)], [(20.5, 6.0)])
        assert (eth.state, eth.resyncs) == (LIVE, 0)
        assert log.states(BTC) == [SYNCING, LIVE, SYNCING, LIVE]
        assert log.states(ETH) == [SYNCING, LIVE]
        assert feed.connections[0].proto.stats.errors == Counter({"gap": 1})
        assert bybit_ops(srv.conns[0]) == [
            ("subscribe", ["orderbook.50.BTCUSDT", "orderbook.50.ETHUSDT"]),
            ("unsubscribe", ["orderbook.50.BTCUSDT"]),
            ("subscribe", ["orderbook.50.BTCUSDT"]),
        ]


async def test_bybit_snapshot_after_a_venue_restart_resets_the_book() -> None:
    restart = asyncio.Event()

    async def script(conn: ScriptConn) -> None:
        await bybit_op(conn, "subscribe")
        bids, asks = [["100.0", "1"], ["99.0", "2"]], [["101.0", "1"], ["102.0", "2"]]
        await conn.send(bybit_book("snapshot", "BTCUSDT", 7000, bids, asks))
        await conn.send(bybit_book("delta", "BTCUSDT", 7001, [["98.0", "3"]]))
        await restart.wait()
        await conn.send(bybit_book("snapshot", "BTCUSDT", 1, [["100.2", "4"]], [["100.8", "5"]]))
        await conn.send(bybit_book("delta", "BTCUSDT", 2, asks=[["100.7", "1"]]))
        await conn.hold()

    async with (
        ScriptedServer(script) as srv,
        run_feed(BybitProtocol, BYBIT_NAMES, srv.url) as (feed, log),
    ):
        feed.add([BTC])
        await wait_until(lambda: updates(feed, BTC) == 2)
        btc = book_of(feed, BTC)
        assert levels(btc) == (
            [(100.0, 1.0), (99.0, 2.0), (98.0, 3.0)],
            [(101.0, 1.0), (102.0, 2.0)],
        )
        restart.set()
        await wait_until(lambda: btc.updates == 4)
        assert levels(btc) == ([(100.2, 4.0)], [(100.7, 1.0), (100.8, 5.0)])
        assert (btc.state, btc.resyncs) == (LIVE, 0)
        assert log.states(BTC) == [SYNCING, LIVE]
        assert not feed.connections[0].proto.stats.errors
        assert bybit_ops(srv.conns[0]) == [("subscribe", ["orderbook.50.BTCUSDT"])]


# -- connection failures and staleness ---------------------------------------------------


async def test_bybit_disconnect_mid_stream_then_resubscribe_and_rebuild() -> None:
    cut = asyncio.Event()
    cut_at: list[float] = []

    async def first(conn: ScriptConn) -> None:
        await bybit_op(conn, "subscribe")
        await conn.send(bybit_book("snapshot", "BTCUSDT", 10, [["100.0", "1"]], [["101.0", "1"]]))
        await conn.send(bybit_book("snapshot", "ETHUSDT", 20, [["20.0", "1"]], [["21.0", "1"]]))
        await conn.send(bybit_book("delta", "BTCUSDT", 11, [["100.5", "2"]]))
        await cut.wait()
        cut_at.append(time.time())
        await conn.close()

    async def second(conn: ScriptConn) -> None:
        await bybit_op(conn, "subscribe")
        await conn.send(bybit_book("snapshot", "BTCUSDT", 90, [["200.0", "1"]], [["201.0", "1"]]))
        await conn.send(bybit_book("snapshot", "ETHUSDT", 95, [["30.0", "2"]], [["31.0", "2"]]))
        await conn.hold()

    async with (
        ScriptedServer(first, second) as srv,
        run_feed(BybitProtocol, BYBIT_NAMES, srv.url, silence_s=5.0) as (feed, log),
    ):
        feed.add([BTC, ETH])
        await wait_until(lambda: updates(feed, BTC) == 2 and updates(feed, ETH) == 1)
        btc, eth = book_of(feed, BTC), book_of(feed, ETH)
        assert levels(btc) == ([(100.5, 2.0), (100.0, 1.0)], [(101.0, 1.0)])
        cut.set()
        await wait_until(lambda: len(srv.conns) == 2 and btc.state is LIVE and eth.state is LIVE)
        assert levels(btc) == ([(200.0, 1.0)], [(201.0, 1.0)])
        assert levels(eth) == ([(30.0, 2.0)], [(31.0, 2.0)])
        for symbol in (BTC, ETH):
            assert log.states(symbol) == [SYNCING, LIVE, SYNCING, LIVE]
            # At once: far below the 5 s watchdog, only the local close handshake.
            assert log.first(symbol, SYNCING, after=cut_at[0]) - cut_at[0] < 0.5
        assert feed.connections[0].disconnects == 1
        topics = ["orderbook.50.BTCUSDT", "orderbook.50.ETHUSDT"]
        assert bybit_ops(srv.conns[1]) == [("subscribe", topics)]


async def test_bybit_silent_stall_is_cut_by_the_watchdog() -> None:
    silence_s = 0.3

    async def stalls(conn: ScriptConn) -> None:
        await bybit_op(conn, "subscribe")
        await conn.send(bybit_book("snapshot", "BTCUSDT", 10, [["100.0", "1"]], [["101.0", "1"]]))
        await conn.hold()  # and never says anything again

    async def serves(conn: ScriptConn) -> None:
        await bybit_op(conn, "subscribe")
        await conn.send(bybit_book("snapshot", "BTCUSDT", 50, [["150.0", "1"]], [["151.0", "1"]]))
        await conn.hold()

    async with (
        ScriptedServer(stalls, serves) as srv,
        run_feed(BybitProtocol, BYBIT_NAMES, srv.url, silence_s=silence_s) as (feed, log),
    ):
        feed.add([BTC])
        await wait_until(lambda: updates(feed, BTC) == 1)
        btc = book_of(feed, BTC)
        last_frame = btc.recv_ts
        assert last_frame is not None
        await wait_until(lambda: len(srv.conns) == 2 and btc.updates == 2, within=silence_s + 2)
        assert levels(btc) == ([(150.0, 1.0)], [(151.0, 1.0)])
        assert log.states(BTC) == [SYNCING, LIVE, SYNCING, LIVE]
        detected_after = log.first(BTC, SYNCING, after=last_frame) - last_frame
        assert silence_s <= detected_after < silence_s + 1.0
        assert feed.connections[0].disconnects == 1


async def test_bybit_garbage_frames_are_counted_and_the_connection_kept() -> None:
    async def script(conn: ScriptConn) -> None:
        await bybit_op(conn, "subscribe")
        await conn.send(bybit_book("snapshot", "BTCUSDT", 10, [["100.0", "1"]], [["101.0", "1"]]))
        await conn.send("{not json")
        await conn.send("[1, 2, 3]")
        await conn.send('{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1671179923028}')
        await conn.send(bybit_book("partial", "BTCUSDT", 11, [["99.0", "1"]]))
        await conn.send(bybit_book("snapshot", "BTCUSDT", 11, [["abc", "1"]]))
        await conn.send(bybit_book("delta", "BTCUSDT", 11, [["100.0", "4"]]))
        await conn.hold()

    async with (
        ScriptedServer(script) as srv,
        run_feed(BybitProtocol, BYBIT_NAMES, srv.url) as (feed, _),
    ):
        feed.add([BTC])
        await wait_until(lambda: updates(feed, BTC) == 2)
        btc = book_of(feed, BTC)
        conn = feed.connections[0]
        assert levels(btc) == ([(100.0, 4.0)], [(101.0, 1.0)])
        assert (btc.state, btc.resyncs) == (LIVE, 0)
        assert conn.proto.stats.frames == 8
        assert conn.proto.stats.errors == Counter(
            invalid_json=1, not_an_object=1, missing_field=1, bad_type=1, bad_level=1
        )
        assert (len(srv.conns), conn.disconnects, conn.connected) == (1, 0, True)


async def test_hub_marks_a_quiet_book_stale_then_live_on_its_next_update() -> None:
    max_age = 0.5
    frames: asyncio.Queue[str] = asyncio.Queue()

    async def script(conn: ScriptConn) -> None:
        await bybit_op(conn, "subscribe")

        async def push() -> None:
            while True:
                await conn.send(await frames.get())

        pusher = asyncio.ensure_future(push())
        try:
            await conn.hold()  # returns when the connection closes, so the server can stop
        finally:
            pusher.cancel()

    hub = MarketDataHub(HubConfig(book_max_age_s=max_age), clock=time.time)
    async with (
        ScriptedServer(script) as srv,
        run_feed(BybitProtocol, BYBIT_NAMES, srv.url, forward=hub.mark_changed) as (feed, _),
    ):
        hub.add_feed(feed)
        hub.acquire(InstrumentKey(Venue.BYBIT, BTC))
        hub.acquire(InstrumentKey(Venue.BYBIT, ETH))
        frames.put_nowait(bybit_book("snapshot", "BTCUSDT", 1, [["100.0", "1"]], [["101.0", "1"]]))
        frames.put_nowait(bybit_book("snapshot", "ETHUSDT", 1, [["20.0", "1"]], [["21.0", "1"]]))
        await wait_until(lambda: updates(feed, BTC) == 1 and updates(feed, ETH) == 1)
        btc, eth = book_of(feed, BTC), book_of(feed, ETH)
        assert btc.recv_ts is not None
        eth_u, last_push, stale_at = 1, 0.0, []

        def keep_eth_alive_and_check() -> bool:
            """The venue keeps streaming ETH (every 50 ms) while BTC stays quiet."""
            nonlocal eth_u, last_push
            now = time.time()
            if now - last_push >= 0.05:
                eth_u, last_push = eth_u + 1, now
                frames.put_nowait(bybit_book("delta", "ETHUSDT", eth_u, [["20.0", str(eth_u)]]))
            hub.check(now)
            if btc.state is STALE:
                stale_at.append(now)
            return bool(stale_at)

        await wait_until(keep_eth_alive_and_check, within=max_age + 2)
        stale_after = stale_at[0] - btc.recv_ts
        assert max_age < stale_after < max_age + 1.0
        assert levels(btc) == ([(100.0, 1.0)], [(101.0, 1.0)])  # kept, only flagged
        assert eth.state is LIVE
        assert eth.updates > 1
        assert hub.stale_transitions == 1
        assert BTC in await hub.wait_changed()
        frames.put_nowait(bybit_book("delta", "BTCUSDT", 2, [["100.5", "2"]]))
        await wait_until(lambda: btc.state is LIVE)
        assert levels(btc) == ([(100.5, 2.0), (100.0, 1.0)], [(101.0, 1.0)])
        hub.check(time.time())
        assert (btc.state, hub.stale_transitions) == (LIVE, 1)
