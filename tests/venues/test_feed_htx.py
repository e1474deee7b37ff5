"""VenueFeed end to end for HTX: gzip binary frames over a real local WebSocket server, mbp
books on their req snapshots, a gap rebuilding one book, a reconnect, and REST polling."""

from __future__ import annotations

import asyncio
import json

from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Symbol
from goquant_bot.domain.trades import Trade
from goquant_bot.venues.base import SymbolMap
from goquant_bot.venues.feed import FeedConfig, VenueFeed
from goquant_bot.venues.htx import HtxProtocol
from goquant_bot.venues.net import AiohttpGet, websocket_connect
from tests.fakes import htx_frames as hx
from tests.fakes.feed_harness import LIVE, SYNCING, book_of, levels, run_feed
from tests.fakes.rest_server import RestServer
from tests.fakes.ws_server import ScriptConn, ScriptedServer
from tests.helpers import wait_until

BTC, ETH = Symbol("BTC", "USDT"), Symbol("ETH", "USDT")
NAMES = {"btcusdt": BTC, "ethusdt": ETH}
TOPICS = ["market.btcusdt.mbp.150", "market.ethusdt.mbp.150"]


async def send(conn: ScriptConn, text: str) -> None:
    await conn.ws.send(hx.gz(text))


async def sub_and_req(conn: ScriptConn, count: int) -> dict[str, str]:
    """Acknowledge ``count`` sub requests and wait for as many snapshot requests; returns the
    topic -> id of the reqs."""
    subs: list[str] = []
    reqs: dict[str, str] = {}
    while len(subs) < count or len(reqs) < count:
        frame = json.loads(await conn.recv_until(lambda t: '"sub"' in t or '"req"' in t))
        if "sub" in frame:
            await send(conn, hx.subbed(frame["sub"], frame["id"]))
            subs.append(frame["sub"])
        else:
            reqs[frame["req"]] = frame["id"]
    assert sorted(subs) == sorted(reqs) == TOPICS
    return reqs


async def test_snapshots_pushes_a_gap_on_one_book_and_a_reconnect() -> None:
    drop = asyncio.Event()

    async def first(conn: ScriptConn) -> None:
        reqs = await sub_and_req(conn, 2)
        await send(conn, hx.ping(1700000000123))
        pong = await conn.recv_until(lambda t: '"pong"' in t)
        assert json.loads(pong) == {"pong": 1700000000123}
        await send(conn, hx.mbp("btcusdt", 100, 101, [(100.0, 2.0)]))  # before the snapshot
        await send(conn, hx.mbp_snapshot("btcusdt", 100, [(100.0, 1.0)], [(101.0, 3.0)],
                                         reqs[TOPICS[0]]))  # fmt: skip
        await send(conn, hx.mbp_snapshot("ethusdt", 7, [(20.0, 1.0)], [(21.0, 1.0)],
                                         reqs[TOPICS[1]]))  # fmt: skip
        await conn.ws.send(b"\x1f\x8bcorrupt")  # counted, the connection stays
        await send(conn, hx.mbp("btcusdt", 101, 102, [(100.5, 2.0)]))
        await send(conn, hx.mbp("btcusdt", 103, 104, [(100.7, 1.0)]))  # 103 lost: rebuild
        again = json.loads(await conn.recv_until(lambda t: '"req"' in t))
        assert again["req"] == TOPICS[0]
        await send(conn, hx.mbp("ethusdt", 7, 8, [(20.0, 5.0)]))
        await send(conn, hx.mbp_snapshot("btcusdt", 104, [(100.7, 1.0)], [(101.0, 3.0)],
                                         again["id"]))  # fmt: skip
        await drop.wait()

    async def second(conn: ScriptConn) -> None:
        reqs = await sub_and_req(conn, 2)
        await send(conn, hx.mbp_snapshot("btcusdt", 500, [(99.0, 7.0)], [(101.0, 3.0)],
                                         reqs[TOPICS[0]]))  # fmt: skip
        await send(conn, hx.mbp_snapshot("ethusdt", 50, [(20.0, 2.0)], [(21.0, 1.0)],
                                         reqs[TOPICS[1]]))  # fmt: skip
        await conn.hold()

    async with (
        ScriptedServer(first, second, path="/feed") as srv,
        run_feed(HtxProtocol, NAMES, srv.url) as (feed, log),
    ):
        feed.add([BTC, ETH])
        btc, eth = book_of(feed, BTC), book_of(feed, ETH)
        try:
            await wait_until(lambda: btc.resyncs == 1 and btc.state is LIVE)
            await wait_until(lambda: eth.bids.best() == (20.0, 5.0))
            assert levels(btc) == ([(100.7, 1.0)], [(101.0, 3.0)])
            assert eth.resyncs == 0
            proto = feed.connections[0].proto
            assert (proto.stats.errors["bad_gzip"], proto.stats.errors["seq_gap"]) == (1, 1)
            assert log.states(ETH) == [SYNCING, LIVE]  # untouched by BTC's rebuild
        finally:
            drop.set()  # the first connection ends even when a check above failed
        await wait_until(lambda: len(srv.conns) == 2 and btc.bids.best() == (99.0, 7.0))
        await wait_until(lambda: eth.bids.best() == (20.0, 2.0))
        assert log.states(ETH) == [SYNCING, LIVE, SYNCING, LIVE]
        assert sorted(json.loads(f)["sub"] for f in srv.conns[1].received if '"sub"' in f) == TOPICS


async def test_rest_polling_keeps_the_book_while_the_websocket_is_down() -> None:
    async with RestServer() as rest:
        rest.reply("/market/depth", body=hx.depth_body([(99.5, 2.0)], [(100.5, 1.0)]), repeat=True)
        async with run_feed(
            HtxProtocol,
            NAMES,
            "ws://127.0.0.1:9",  # nothing listens there
            rest=rest.url,
            poll_after_failures=1,
            poll_interval_s=0.2,
        ) as (feed, _):
            feed.add([BTC])
            btc = book_of(feed, BTC)
            await wait_until(lambda: btc.updates >= 1)
            assert btc.state is BookState.POLLED
            assert levels(btc) == ([(99.5, 2.0)], [(100.5, 1.0)])
            assert rest.requests[0] == ("/market/depth", {"symbol": "btcusdt", "type": "step0"})


async def test_trades_go_on_a_connection_of_their_own_to_the_general_endpoint() -> None:
    async def script(conn: ScriptConn) -> None:
        assert conn.ws.request is not None
        frame = json.loads(await conn.recv_until(lambda t: '"sub"' in t))
        await send(conn, hx.subbed(frame["sub"], frame["id"]))
        if conn.ws.request.path == "/ws":  # HTX serves trade.detail here, not on /feed
            assert frame["sub"] == "market.btcusdt.trade.detail"
            await send(conn, hx.trades("btcusdt", [(100.5, 0.25, "buy")]))
        else:
            assert frame["sub"] == TOPICS[0]
            req = json.loads(await conn.recv_until(lambda t: '"req"' in t))
            await send(conn, hx.mbp_snapshot("btcusdt", 9, [(100.0, 1.0)], [(101.0, 1.0)],
                                             req["id"]))  # fmt: skip
        await conn.hold()

    async with (
        ScriptedServer(script, path="/feed") as srv,
        run_feed(HtxProtocol, NAMES, srv.url) as (feed, _),
    ):
        trades: list[Trade] = []
        feed.on_trades = trades.extend
        feed.add([BTC])
        feed.add_trades([BTC])
        await wait_until(lambda: len(trades) == 1 and book_of(feed, BTC).state is LIVE)
        assert (trades[0].price, trades[0].size, trades[0].side) == (100.5, 0.25, "buy")
        assert sorted(c.ws.request.path for c in srv.conns if c.ws.request) == ["/feed", "/ws"]
        assert [c.proto.for_trades for c in feed.connections] == [False, True]
        feed.remove_trades([BTC])  # the trades connection closes, the book's stays
        await wait_until(lambda: len(feed.connections) == 1)
        assert book_of(feed, BTC).state is LIVE


def test_the_feed_is_connected_only_while_its_book_connection_is() -> None:
    feed = VenueFeed(
        HtxProtocol,
        SymbolMap(NAMES.items()),
        FeedConfig(),
        connector=websocket_connect,
        http=AiohttpGet(),
        on_change=lambda venue, symbols: None,
    )
    feed.add_trades([BTC])  # trades alone: their connection is the feed's
    (trades,) = feed.connections
    trades.connected = True
    assert feed.connected
    feed.add([BTC])
    books = next(c for c in feed.connections if not c.proto.for_trades)
    assert not feed.connected  # HTX's /ws up, its /feed down: the books' stream is down
    books.connected = True
    assert feed.connected
