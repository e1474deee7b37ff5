"""The shared driver against scripted local WebSocket servers and faked REST."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import VenueUnavailable
from goquant_bot.supervisor import Backoff
from goquant_bot.venues.base import SymbolMap, VenueProtocol
from goquant_bot.venues.binance import BinanceProtocol
from goquant_bot.venues.feed import FeedConfig, VenueFeed
from goquant_bot.venues.net import AiohttpGet, websocket_connect
from goquant_bot.venues.transport import WsConnection
from tests.fakes.rest_server import RestServer
from tests.fakes.ws_server import ScriptConn, ScriptedServer
from tests.helpers import wait_until

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")
DEPTH = "/api/v3/depth"
NO_REST = "http://127.0.0.1:9"  # tests that must not need REST
FAST = Backoff(initial_s=0.01, factor=2.0, max_s=0.05, jitter=0.0)


def diff(symbol: str, first: int, last: int, bids: list[list[str]], asks: list[list[str]]) -> str:
    data = {
        "e": "depthUpdate",
        "E": 1_700_000_000_000 + last,
        "s": symbol,
        "U": first,
        "u": last,
        "b": bids,
        "a": asks,
    }
    return json.dumps({"stream": f"{symbol.lower()}@depth@100ms", "data": data})


def snapshot(
    last_update_id: int, bids: list[list[str]], asks: list[list[str]]
) -> dict[str, object]:
    return {"lastUpdateId": last_update_id, "bids": bids, "asks": asks}


class Changes:
    def __init__(self) -> None:
        self.symbols: set[Symbol] = set()
        self.calls = 0

    def __call__(self, venue: Venue, symbols: set[Symbol]) -> None:
        self.calls += 1
        self.symbols |= symbols


def make_feed(
    url: str,
    rest: str,
    changes: Changes,
    *,
    proto: type[VenueProtocol] = BinanceProtocol,
    connector: Callable[[str], object] | None = None,
    **config: object,
) -> tuple[VenueFeed, AiohttpGet]:
    http = AiohttpGet()
    config.setdefault("reconnect", FAST)
    cfg = FeedConfig(depth=100, ws_base=url, rest_base=rest, **config)  # type: ignore[arg-type]
    feed = VenueFeed(
        proto,
        SymbolMap([("BTCUSDT", BTC), ("ETHUSDT", ETH)]),
        cfg,
        connector=connector or websocket_connect,  # type: ignore[arg-type]
        http=http,
        on_change=changes,
    )
    return feed, http


@asynccontextmanager
async def running(feed: VenueFeed, http: AiohttpGet) -> AsyncIterator[None]:
    task = asyncio.ensure_future(feed.run())
    try:
        yield
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await http.close()


async def subscribed(conn: ScriptConn) -> dict[str, object]:
    frame = json.loads(await conn.recv_until(lambda t: '"SUBSCRIBE"' in t))
    await conn.send(json.dumps({"result": None, "id": frame["id"]}))
    return frame


async def test_snapshot_bootstrap_then_deltas_build_the_book() -> None:
    async def script(conn: ScriptConn) -> None:
        frame = await subscribed(conn)
        assert frame["params"] == ["btcusdt@depth@100ms"]
        await conn.send(diff("BTCUSDT", 101, 102, [["100.0", "2"]], [["102.0", "1"]]))
        await conn.send(diff("BTCUSDT", 103, 104, [["99.5", "3"]], [["101.0", "0"]]))
        await conn.hold()

    changes = Changes()
    async with RestServer() as rest:
        rest.reply(
            DEPTH, snapshot(101, [["100.0", "1"], ["99.0", "5"]], [["101.0", "1"], ["103.0", "4"]])
        )
        async with ScriptedServer(script) as srv:
            feed, http = make_feed(srv.url, rest.url, changes)
            feed.add([BTC])
            async with running(feed, http):
                await wait_until(
                    lambda: (b := feed.book(BTC)) is not None and b.bids.size_at(99.5) == 3.0
                )
                book = feed.book(BTC)
                assert book is not None
                assert book.state is BookState.LIVE
                assert book.bids.levels() == [(100.0, 2.0), (99.5, 3.0), (99.0, 5.0)]
                assert book.asks.levels() == [(102.0, 1.0), (103.0, 4.0)]
                assert book.venue_ts == pytest.approx(1_700_000_000.104)
                assert BTC in changes.symbols
                assert feed.connected


async def test_disconnect_resubscribes_and_rebuilds() -> None:
    async def first(conn: ScriptConn) -> None:
        await subscribed(conn)
        await conn.send(diff("BTCUSDT", 101, 101, [["100.0", "1"]], [["101.0", "1"]]))

    async def second(conn: ScriptConn) -> None:
        await subscribed(conn)
        await conn.send(diff("BTCUSDT", 201, 201, [["200.0", "1"]], [["201.0", "1"]]))
        await conn.hold()

    changes = Changes()
    async with RestServer() as rest:
        rest.reply(DEPTH, snapshot(101, [["100.0", "1"]], [["101.0", "1"]]))
        rest.reply(DEPTH, snapshot(201, [["200.0", "1"]], [["201.0", "1"]]))
        async with ScriptedServer(first, second) as srv:
            feed, http = make_feed(srv.url, rest.url, changes)
            feed.add([BTC])
            async with running(feed, http):
                await wait_until(lambda: len(srv.conns) == 2)
                await wait_until(
                    lambda: (b := feed.book(BTC)) is not None and b.bids.best_price() == 200.0
                )
                book = feed.book(BTC)
                assert book is not None
                assert book.state is BookState.LIVE
                assert book.bids.levels() == [(200.0, 1.0)]
                assert feed.connections[0].disconnects == 1


async def test_silent_stall_is_detected_by_the_watchdog() -> None:
    states: list[BookState] = []

    async def stalls(conn: ScriptConn) -> None:
        await subscribed(conn)
        await conn.send(diff("BTCUSDT", 101, 101, [["100.0", "1"]], [["101.0", "1"]]))
        await conn.hold()  # then says nothing at all

    changes = Changes()
    async with RestServer() as rest:
        rest.reply(DEPTH, snapshot(101, [["100.0", "1"]], [["101.0", "1"]]), repeat=True)
        async with ScriptedServer(stalls) as srv:
            feed, http = make_feed(srv.url, rest.url, changes, silence_s=0.3)
            feed.add([BTC])
            async with running(feed, http):
                await wait_until(
                    lambda: (b := feed.book(BTC)) is not None and b.state is BookState.LIVE
                )
                live_at = asyncio.get_running_loop().time()
                book = feed.book(BTC)
                assert book is not None
                await wait_until(lambda: book.state is BookState.SYNCING, within=3)
                states.append(book.state)
                detected_after = asyncio.get_running_loop().time() - live_at
                assert 0.25 <= detected_after < 2.0
                await wait_until(lambda: len(srv.conns) >= 2)  # and it reconnects
    assert states == [BookState.SYNCING]


async def test_garbage_frames_are_counted_and_the_connection_kept() -> None:
    async def script(conn: ScriptConn) -> None:
        await subscribed(conn)
        await conn.send("{not json")
        await conn.send(
            json.dumps(
                {"stream": "btcusdt@depth@100ms", "data": {"e": "depthUpdate", "s": "BTCUSDT"}}
            )
        )
        await conn.send(diff("BTCUSDT", 101, 101, [["100.0", "1"]], [["101.0", "1"]]))
        await conn.hold()

    changes = Changes()
    async with RestServer() as rest:
        rest.reply(DEPTH, snapshot(101, [["100.0", "1"]], [["101.0", "2"]]))
        async with ScriptedServer(script) as srv:
            feed, http = make_feed(srv.url, rest.url, changes)
            feed.add([BTC])
            async with running(feed, http):
                await wait_until(
                    lambda: (b := feed.book(BTC)) is not None and b.state is BookState.LIVE
                )
                proto = feed.connections[0].proto
                assert sum(proto.stats.errors.values()) == 2
                assert len(srv.conns) == 1
                assert feed.connections[0].disconnects == 0


async def test_a_5_mb_frame_is_accepted() -> None:
    levels = [[f"{50_000 - i * 0.01:.2f}", "0.12345678"] for i in range(180_000)]
    big = diff("BTCUSDT", 101, 102, levels, [["60000.00", "1"]])
    assert len(big) > 5_000_000

    async def script(conn: ScriptConn) -> None:
        await subscribed(conn)
        await conn.send(big)
        await conn.hold()

    changes = Changes()
    async with RestServer() as rest:
        rest.reply(DEPTH, snapshot(101, [["1.00", "1"]], [["60001.00", "1"]]))
        async with ScriptedServer(script) as srv:
            feed, http = make_feed(srv.url, rest.url, changes)
            feed.add([BTC])
            async with running(feed, http):
                await wait_until(
                    lambda: (b := feed.book(BTC)) is not None and b.state is BookState.LIVE,
                    within=15,
                )
                book = feed.book(BTC)
                assert book is not None
                assert book.bids.best() == (50_000.0, 0.12345678)
                assert len(srv.conns) == 1


async def test_planned_reconnect_before_the_venue_cut() -> None:
    async def script(conn: ScriptConn) -> None:
        await subscribed(conn)
        await conn.hold()

    changes = Changes()
    async with ScriptedServer(script) as srv:
        feed, http = make_feed(srv.url, NO_REST, changes, max_connection_age_s=0.2, silence_s=5.0)
        feed.add([BTC])
        async with running(feed, http):
            await wait_until(lambda: len(srv.conns) >= 3, within=5)
            assert feed.connections[0].disconnects == 0  # planned, not failures


async def test_symbols_are_spread_over_connections() -> None:
    class TwoPerConnection(BinanceProtocol):
        max_symbols_per_connection = 2

    async def script(conn: ScriptConn) -> None:
        await conn.hold()

    symbols = [Symbol(base, "USDT") for base in ("BTC", "ETH", "SOL", "XRP", "ADA")]
    changes = Changes()
    async with ScriptedServer(script) as srv:
        feed, http = make_feed(srv.url, NO_REST, changes, proto=TwoPerConnection)
        feed.add(symbols)
        feed.add(symbols[:2])  # already subscribed: no new stream
        async with running(feed, http):
            await wait_until(lambda: len(srv.conns) == 3)
            await wait_until(lambda: sum(len(c.received) for c in srv.conns) == 3)
        per_conn = sorted(sorted(json.loads(c.received[0])["params"]) for c in srv.conns)
    assert per_conn == [
        ["adausdt@depth@100ms"],
        ["btcusdt@depth@100ms", "ethusdt@depth@100ms"],
        ["solusdt@depth@100ms", "xrpusdt@depth@100ms"],
    ]


async def test_rest_polling_while_the_websocket_is_down_then_back_to_stream() -> None:
    attempts = 0
    srv_holder: list[ScriptedServer] = []

    async def flaky_connect(url: str) -> WsConnection:
        nonlocal attempts
        attempts += 1
        if attempts <= 4:
            raise VenueUnavailable("connection refused")
        return await websocket_connect(srv_holder[0].url + "/stream")

    async def script(conn: ScriptConn) -> None:
        await subscribed(conn)
        await conn.send(diff("BTCUSDT", 301, 301, [["300.0", "1"]], [["301.0", "1"]]))
        await conn.hold()

    changes = Changes()
    async with RestServer() as rest:
        rest.reply(DEPTH, snapshot(7, [["100.0", "1"]], [["101.0", "1"]]))
        rest.reply(DEPTH, snapshot(301, [["300.0", "1"]], [["301.0", "1"]]), repeat=True)
        async with ScriptedServer(script) as srv:
            srv_holder.append(srv)
            feed, http = make_feed(
                "ws://unused",
                rest.url,
                changes,
                connector=flaky_connect,
                poll_after_failures=2,
                poll_interval_s=10.0,
                reconnect=Backoff(initial_s=0.15, factor=1.0, max_s=0.15, jitter=0.0),
            )
            feed.add([BTC])
            async with running(feed, http):
                book = feed.book(BTC)
                assert book is not None
                await wait_until(lambda: book.state is BookState.POLLED)
                assert book.bids.levels() == [(100.0, 1.0)]
                assert feed.connections[0].polling
                await wait_until(
                    lambda: book.state is BookState.LIVE and book.bids.best_price() == 300.0
                )
                assert not feed.connections[0].polling


async def test_a_quiet_healthy_connection_is_probed_not_cut() -> None:
    probes: list[float] = []

    async def answers_probes(conn: ScriptConn) -> None:
        await subscribed(conn)
        loop = asyncio.get_running_loop()
        while True:
            frame = json.loads(
                await conn.recv_until(lambda t: "LIST_SUBSCRIPTIONS" in t, within=10)
            )
            probes.append(loop.time())
            await conn.send(json.dumps({"result": ["btcusdt@depth@100ms"], "id": frame["id"]}))

    changes = Changes()
    async with ScriptedServer(answers_probes) as srv:
        feed, http = make_feed(srv.url, NO_REST, changes, silence_s=0.4)
        feed.add([BTC])
        async with running(feed, http):
            await wait_until(lambda: len(probes) >= 5, within=5)
            assert len(srv.conns) == 1
            assert feed.connections[0].disconnects == 0
    gaps = [b - a for a, b in itertools.pairwise(probes)]
    assert all(0.15 <= gap < 0.4 for gap in gaps)  # one probe per half silence, no more
