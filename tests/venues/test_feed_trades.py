"""Trades through the driver and the hub against a scripted venue: on when acquired, off after."""

from __future__ import annotations

import json

from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.domain.trades import TakerSide
from goquant_bot.marketdata.hub import HubConfig, MarketDataHub
from goquant_bot.venues.base import SymbolMap
from goquant_bot.venues.bitfinex import BitfinexProtocol
from goquant_bot.venues.feed import FeedConfig, VenueFeed
from tests.fakes import binance_frames as bn
from tests.fakes.ws_server import ScriptConn, ScriptedServer
from tests.helpers import wait_until
from tests.venues.test_feed import BTC, NO_REST, Changes, make_feed, running, subscribed

KEY = InstrumentKey(Venue.BINANCE, BTC)
MS = 1_700_000_000_123


async def test_trades_reach_the_hub_while_acquired_and_stop_after_release() -> None:
    async def script(conn: ScriptConn) -> None:
        book = await subscribed(conn)
        trades = await subscribed(conn)
        assert (book["params"], trades["params"]) == (["btcusdt@depth@100ms"], ["btcusdt@trade"])
        await conn.send(bn.trade("BTCUSDT", "42000.5", "0.25", "sell", MS))
        frame = json.loads(await conn.recv_until(lambda t: '"UNSUBSCRIBE"' in t))
        assert frame["params"] == ["btcusdt@trade"]
        await conn.send(json.dumps({"result": None, "id": frame["id"]}))
        await conn.send(bn.trade("BTCUSDT", "42001", "1", "buy", MS + 5))  # already in flight
        await conn.send(json.dumps({"result": [], "id": 999}))  # then something else
        await conn.hold()

    hub = MarketDataHub(HubConfig(unsubscribe_grace_s=0.0))
    async with ScriptedServer(script) as srv:
        feed, http = make_feed(srv.url, NO_REST, Changes())
        hub.add_feed(feed)
        hub.acquire(KEY)  # the book keeps the connection open once the trades are released
        hub.acquire_trades(KEY)
        async with running(feed, http):
            await wait_until(lambda: hub.last_trade(KEY) is not None)
            last = hub.last_trade(KEY)
            assert last is not None
            assert (last.price, last.size, last.side) == (42000.5, 0.25, TakerSide.SELL)
            assert last.venue_ts == MS / 1000
            hub.release_trades(KEY)
            hub.check(hub.clock())
            # Two acks, the trade, the unsubscribe's ack, the late trade and the last reply.
            await wait_until(lambda: feed.connections[0].proto.stats.frames >= 6)
            assert hub.trades_since(0).cursor == 1  # the late trade was dropped
            assert feed.connections[0].proto.stats.skipped["trade_unsubscribed"] == 1
            assert hub.trading() == []


def test_bitfinex_trade_streams_count_against_the_25_channels_of_a_connection() -> None:
    async def no_ws(url: str) -> object:
        raise AssertionError("not running")

    symbols = [Symbol(f"A{i:02d}", "USD") for i in range(24)]
    feed = VenueFeed(
        BitfinexProtocol,
        SymbolMap((f"tA{i:02d}USD", s) for i, s in enumerate(symbols)),
        FeedConfig(),
        connector=no_ws,  # type: ignore[arg-type]
        http=no_ws,  # type: ignore[arg-type]
        on_change=lambda venue, changed: None,
    )
    feed.add(symbols)
    feed.add_trades(symbols[:1])  # the 25th channel: on the book's connection
    assert [c.proto.load() for c in feed.connections] == [25]
    feed.add_trades(symbols[1:2])  # no room left: a new connection
    assert [c.proto.load() for c in feed.connections] == [25, 1]
    assert feed.connections[1].proto.trade_symbols == {symbols[1]}
    feed.remove_trades(symbols[1:2])  # nothing left on it: the connection goes
    assert [c.proto.load() for c in feed.connections] == [25]
