"""/get_cbbo shows each venue's last trade, read from trade streams it holds like its books."""

from __future__ import annotations

import asyncio
from pathlib import Path

from goquant_bot.app import build
from goquant_bot.bot.types import Caller
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.settings import Settings
from tests.bot.harness import BN, BTC, BY, OK, SOL, Bot, text
from tests.fakes import binance_frames as bn
from tests.fakes import okx_frames as ok
from tests.helpers import wait_until


def _deliver(bot: Bot, venue: Venue, symbol: Symbol, frame: str) -> None:
    """A trade frame arriving on the connection that reads the symbol's trades."""
    feed = bot.hub.feeds[venue]
    (conn,) = [c for c in feed.connections if symbol in c.proto.trade_symbols]
    conn.proto.on_frame(frame, bot.now)
    conn.take()


def test_get_cbbo_shows_each_venues_last_trade(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.quote(BN, 100.0, 100.2)
    bot.quote(OK, 100.0, 100.1)
    bot.quote(BY, 99.9, 100.3)
    first = text(bot.say("/get_cbbo BTC-USDT"))
    assert "binance    no trade seen yet" in first  # its trade stream starts with this answer
    ms = int(bot.now * 1000)
    _deliver(bot, BN, BTC, bn.trade("BTCUSDT", "100.15", "0.75", "buy", ms - 500))
    _deliver(bot, OK, BTC, ok.trade("BTC-USDT", "100.05", "2", "sell", ms))
    bot.now += 2.0
    bot.quote(BN, 100.0, 100.2)
    bot.quote(OK, 100.0, 100.1)
    bot.quote(BY, 99.9, 100.3)
    lines = text(bot.say("/get_cbbo BTC-USDT")).splitlines()
    start = lines.index("<pre>last trade        price       size side    age")
    assert lines[start + 1 : start + 4] == [
        "binance        100.1500       0.75  buy   2.5s",
        "bybit      no trade seen yet",
        "okx            100.0500          2 sell   2.0s</pre>",
    ]


def test_get_cbbo_holds_the_trade_streams_while_it_waits_and_releases_them(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    keys = [InstrumentKey(BN, SOL), InstrumentKey(OK, SOL)]
    bot.say("/get_cbbo SOL-USDT")
    assert [bot.hub.trade_refcount(k) for k in keys] == [1, 1]
    assert bot.hub.trading() == keys
    bot.quote(BN, 150.0, 150.2, symbol=SOL)
    bot.quote(OK, 150.1, 150.3, symbol=SOL)
    ((_, answer),) = bot.router.due_answers()
    assert "okx        no trade seen yet" in text(answer)
    assert [bot.hub.trade_refcount(k) for k in keys] == [0, 0]
    bot.hub.check(bot.now)  # no grace in the harness: the trade streams stop at once
    assert bot.hub.trading() == []


async def test_the_demo_venues_trades_reach_get_cbbo_through_the_real_protocols(
    tmp_path: Path,
) -> None:
    settings = Settings(
        _env_file=None,
        app={"demo": True, "mode": "headless", "data_dir": str(tmp_path), "shutdown_timeout_s": 3},  # type: ignore[arg-type]
        logging={"file": None},  # type: ignore[arg-type]
        observability={"enabled": False},  # type: ignore[arg-type]
        marketdata={"unsubscribe_grace_s": 30.0},  # type: ignore[arg-type]
    )
    app = build(settings)
    assert app.market is not None
    assert app.chat is not None
    hub, router = app.market.hub, app.chat.router
    key = InstrumentKey(BN, BTC)
    runner = asyncio.ensure_future(app.run())
    try:
        await wait_until(lambda: app.market is not None and app.market.ready.is_set(), within=10)
        await wait_until(lambda: (b := hub.book(key)) is not None and b.state.value == "live")
        router.handle(Caller(7, 7), "/get_cbbo BTC-USDT binance")  # holds the trade stream
        assert key in hub.trading()
        await wait_until(lambda: hub.last_trade(key) is not None, within=10)
        table = router.handle(Caller(7, 7), "/get_cbbo BTC-USDT binance")[0].text
        last = hub.last_trade(key)
        assert last is not None
        trades = table.split("<pre>last trade")[1].splitlines()
        assert trades[1].startswith(f"binance    {last.price:>12,.2f} ")
        assert last.side.value in trades[1]
    finally:
        app.request_stop()
        assert await asyncio.wait_for(runner, 10) == 0
