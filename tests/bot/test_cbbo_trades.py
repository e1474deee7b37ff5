"""/get_cbbo shows each venue's last trade, read from trade streams it holds like its books."""

from __future__ import annotations

from pathlib import Path

from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from tests.bot.harness import BN, BTC, BY, OK, SOL, Bot, text
from tests.fakes import binance_frames as bn
from tests.fakes import okx_frames as ok


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
