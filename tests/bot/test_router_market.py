"""Conversations: market views in one line, the one-shot CBBO table, changes and status."""

from __future__ import annotations

from pathlib import Path

import pytest

from goquant_bot.bot.config import BotConfig
from goquant_bot.bot.render_events import render_event
from goquant_bot.domain.book import BookState
from goquant_bot.domain.events import MarketViewSignal
from goquant_bot.domain.monitors import MarketViewMonitor
from tests.bot.harness import ALICE, BN, BOB, BTC, BY, ETH, OK, Bot, data, text


def view(bot: Bot, monitor_id: str) -> MarketViewMonitor:
    monitor = bot.registry.monitors[monitor_id]
    assert isinstance(monitor, MarketViewMonitor)
    return monitor


def test_view_market_creates_a_throttled_best_venue_monitor(tmp_path: Path) -> None:
    bot = Bot(tmp_path, config=BotConfig(view_alert_cooldown_s=600.0))
    # One message: the live view that delivery sends (and edits); no confirmation repeating it.
    assert bot.say("/view_market BTC-USDT binance okx") == []
    monitor = view(bot, "m00001")
    assert (monitor.owner, monitor.symbol, monitor.venues) == (ALICE.chat_id, BTC, (BN, OK))
    assert monitor.best_venue_change
    assert monitor.cooldown_s == 5.0
    assert monitor.crossed_min_bps is None  # a crossed book is shown, not alerted
    assert monitor.alert_cooldown_s == 600.0
    assert bot.views.monitors_for(BTC) == [monitor]


def test_an_identical_view_in_the_same_chat_is_refused(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/view_market BTC-USDT binance okx")
    out = text(bot.say("/view_market btc-usdt okx binance every=10s"))
    assert out.startswith(
        "⚠️ This chat already has that view: m00001 (BTC-USDT). Change it with "
        "/config_market m00001 ..., or stop it with /stop_market m00001."
    )
    assert "Example: <code>/config_market m00001 crossed=2</code>" in out
    assert list(bot.registry.monitors) == ["m00001"]
    # Other venues, all venues, or another chat: different views.
    assert bot.say("/view_market BTC-USDT binance") == []
    assert bot.say("/view_market BTC-USDT") == []
    assert bot.say("/view_market BTC-USDT binance okx", BOB) == []
    assert len(bot.registry.monitors) == 4


def test_crossed_alert_is_opt_in_with_size_and_duration(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    assert bot.say("/view_market BTC-USDT binance okx crossed=2 crossed_for=5s") == []
    monitor = view(bot, "m00001")
    assert (monitor.crossed_min_bps, monitor.crossed_min_s) == (2.0, 5.0)
    status = text(bot.say("/status_market"))
    assert (
        "<code>m00001</code> BTC-USDT · binance, okx · every 5 s · crossed ≥ 2.00 bps for 5 s"
        in (status)
    )
    assert text(bot.say("/config_market m00001 crossed=off")).startswith("✅ Changed:")
    assert view(bot, "m00001").crossed_min_bps is None
    assert text(bot.say("/config_market m00001 crossed=0.5")).startswith("✅ Changed:")
    assert (view(bot, "m00001").crossed_min_bps, view(bot, "m00001").crossed_min_s) == (0.5, 5.0)
    assert text(bot.say("/view_market ETH-USDT crossed_for=5s")).startswith(
        "⚠️ crossed_for= needs a crossed alert: add crossed=, e.g. crossed=2."
    )
    assert text(bot.say("/view_market ETH-USDT crossed=-1")).startswith(
        "⚠️ crossed= is the crossing in bps to alert on (0 to 1000), or off."
    )
    # It survives a restart (the record keeps it).
    record = bot.monitors.records["m00001"]
    restored = record.to_monitor()
    assert isinstance(restored, MarketViewMonitor)
    assert (restored.crossed_min_bps, restored.alert_cooldown_s) == (0.5, 300.0)


def test_view_market_options_and_all_venues(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    out = text(bot.say("/view_market eth-usdt every=30s move=0.2 spread=8 dev=15"))
    assert out == ""
    monitor = view(bot, "m00001")
    assert (monitor.venues, monitor.cooldown_s, monitor.mid_move_pct) == ((), 30.0, 0.2)
    assert (monitor.spread_above_bps, monitor.venue_deviation_bps) == (8.0, 15.0)


@pytest.mark.parametrize(
    ("command", "reply"),
    [
        ("/view_market", None),  # the guided flow
        ("/view_market FOO-BAR", "⚠️ Unknown symbol 'FOO-BAR'."),
        ("/view_market BTC-USDT ftx", "⚠️ Unknown exchange 'ftx'."),
        ("/view_market BTC-USDT okx okx", "⚠️ okx is given twice."),
        ("/view_market BTC-USDT deribit", "⚠️ BTC-USDT is not listed on deribit"),
        ("/view_market BTC-USDT okx 0.3", "⚠️ Unexpected '0.3': numbers go in options such as move=0.1."),
        ("/view_market BTC-USDT move=0", "⚠️ move= must be a number above 0 and at most 50."),
        ("/view_market BTC-USDT every=2h", "⚠️ The update interval must be between 1 s and 1 h."),
        ("/view_market BTC-USDT speed=9", "⚠️ Unknown option 'speed'. Options: every=, move=, spread=, dev=, crossed=, crossed_for=, integrity=."),
    ],
)  # fmt: skip
def test_view_market_errors(tmp_path: Path, command: str, reply: str | None) -> None:
    bot = Bot(tmp_path)
    out = text(bot.say(command))
    if reply is None:
        assert out.startswith("<b>New market view</b> · step 1 of 3")
    else:
        assert out.startswith(reply), out
        assert "\nExample: <code>/view_market " in out
    assert bot.registry.monitors == {}


def test_get_cbbo_table(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.quote(BN, 100.0, 100.2, size=2.0)
    bot.quote(OK, 100.0, 100.1, size=1.5)
    bot.quote(BY, 99.0, 99.5).state = BookState.STALE
    out = bot.say("/get_cbbo btc-usdt")
    assert out[0].text.splitlines() == [
        "📊 <b>BTC-USDT</b> consolidated book",
        "Best bid <b>100.0000</b> (size 3.5) on <b>binance</b>, <b>okx</b>",
        "Best ask <b>100.1000</b> (size 1.5) on <b>okx</b>",
        "Spread 0.1000 (10.00 bps) · mid 100.0500",
        "<pre>venue              bid          ask    bps    age",
        "binance✓      100.0000     100.2000  19.98   0.0s",
        "bybit✓    not counted: stale",
        "okx✓          100.0000     100.1000  10.00   0.0s</pre>",
        "✓ verified by sequence numbers or checksums",
        "Depth within 10 / 50 / 100 bps of mid: bids 3.5 / 3.5 / 3.5 · asks 1.5 / 3.5 / 3.5",
        "<pre>last trade        price       size side    age",
        "binance    no trade seen yet",
        "bybit      no trade seen yet",
        "okx        no trade seen yet</pre>",
        "22:13:20 UTC",
    ]
    assert data(out) == ["q:BTC-USDT"]
    _, again = bot.tap("q:BTC-USDT")
    assert again[0].edit
    assert again[0].text == out[0].text
    okx_only = text(bot.say("/get_cbbo BTC-USDT okx"))
    assert "binance" not in okx_only
    assert "Best ask <b>100.1000</b>" in okx_only


def test_get_cbbo_crossed_and_not_streamed(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.quote(BN, 101.0, 101.2)
    bot.quote(OK, 100.0, 100.1)
    assert "⚠️ Crossed across venues: a buy-low/sell-high gap before fees." in text(
        bot.say("/get_cbbo BTC-USDT binance okx")
    )
    assert "is not streamed yet: subscribing" in text(bot.say("/get_cbbo ETH-USDT"))


def test_get_cbbo_prompt_and_errors(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    out = bot.say("/get_cbbo")
    assert text(out) == "Which symbol? Tap one or send e.g. <code>/get_cbbo BTC-USDT</code>"
    assert data(out) == ["q:BTC-USDT", "q:ETH-USDT", "q:SOL-USDT", "q:BTC-USDC"]
    assert text(bot.say("/get_cbbo BTC-USDT ftx")).startswith("⚠️ Unknown exchange 'ftx'.")
    assert text(bot.say("/get_cbbo XYZ-USDT")) == (
        "⚠️ Unknown symbol 'XYZ-USDT'. Did you mean SOL-USDT, ETH-USDT, BTC-USDT?\n"
        "Example: <code>/get_cbbo SOL-USDT</code>"
    )
    for forged in ("q:NOPE-USDT", "q:<b>", "q:", "q:BTC-USDT:x"):
        assert bot.tap(forged) == (bot.tap("zz")[0], [])


def test_stop_config_and_status_market(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    assert "No market view yet." in text(bot.say("/status_market"))
    bot.say("/view_market BTC-USDT binance okx")
    bot.say("/view_market ETH-USDT")
    out = text(bot.say("/config_market m00001 every=10s move=0.1 spread=off"))
    assert out == (
        "✅ Changed:\n<code>m00001</code> BTC-USDT · binance, okx · every 10 s · move 0.10 %"
    )
    assert view(bot, "m00001").cooldown_s == 10.0
    assert text(bot.say("/config_market m00001 dev=-4")).startswith(
        "⚠️ dev= must be a number above 0 and at most 5000, or off."
    )
    assert text(bot.say("/config_market m00001")).startswith(
        "⚠️ Say what to change, e.g. every=10s."
    )
    assert text(bot.say("/config_market")).startswith("⚠️ Give the view's id and what to change.")
    status = bot.say("/status_market")
    assert status[0].text.splitlines()[1:] == [
        "<code>m00001</code> BTC-USDT · binance, okx · every 10 s · move 0.10 %",
        "<code>m00002</code> ETH-USDT · all venues · every 5 s",
    ]
    assert data(status) == [
        "m:m00001:stop",
        "m:m00001:pause",
        "m:m00002:stop",
        "m:m00002:pause",
        "c:view_market",
    ]
    assert text(bot.say("/stop_market m00002 m00002")) == "⏹ Stopped <code>m00002</code>."
    assert text(bot.say("/stop_market m00001", BOB)).startswith("⚠️ No market view of yours")
    assert text(bot.say("/stop_arb m00001")).startswith("⚠️ No arbitrage monitor of yours")
    assert text(bot.say("/stop_market all")) == "⏹ Stopped 1 market view(s)."
    assert bot.registry.monitors == {}


def test_live_view_text_and_signal_alerts(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/view_market BTC-USDT binance okx")
    bot.quote(BN, 100.0, 100.2)
    bot.quote(OK, 100.1, 100.3)
    live = bot.router.live_view_text("m00001")
    assert live is not None
    assert live.startswith("📊 <b>BTC-USDT</b> consolidated book · live")
    assert live.endswith("View <code>m00001</code> · updated 22:13:20 UTC")
    assert bot.router.live_view_text("nope") is None
    signals = bot.views.evaluate(BTC, bot.now)
    assert signals == []  # the first view only sets the reference
    bot.quote(BN, 100.2, 100.25)
    (signal,) = bot.views.evaluate(BTC, bot.now + 10)
    assert isinstance(signal, MarketViewSignal)
    assert signal.owner == ALICE.chat_id
    assert render_event(signal).splitlines() == [
        "👁 <b>BTC-USDT</b> · best bid venue",
        "Best bid now on <b>binance✓</b> at 100.2000 (was okx✓)",
        "Monitor <code>m00001</code> · 22:13:30 UTC",
    ]
    assert ETH not in bot.views.symbols()


def test_get_cbbo_shows_how_long_each_venue_held_the_best(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.quote(BN, 100.0, 100.3)
    bot.quote(OK, 99.9, 100.1)
    bot.views.evaluate(BTC, bot.now)
    bot.now += 30  # binance best bid, okx best offer for 30 s
    bot.quote(BN, 99.8, 100.3)
    bot.quote(OK, 99.9, 100.1)
    bot.views.evaluate(BTC, bot.now)
    bot.now += 10  # then okx holds both for 10 s
    last = text(bot.say("/get_cbbo BTC-USDT binance okx")).splitlines()[-1]
    assert last == (
        "Time at the best (since start, 40 s): bid binance 75.00 % · okx 25.00 %; "
        "offer okx 100.00 % · binance 0.00 %"
    )
    bot.now += 860  # 15 min of data: the full window
    bot.quote(BN, 99.8, 100.3)
    bot.quote(OK, 99.9, 100.1)
    bot.views.evaluate(BTC, bot.now)
    last = text(bot.say("/get_cbbo BTC-USDT binance okx")).splitlines()[-1]
    assert last.startswith("Time at the best (last 15 min): bid okx 97.75 % · binance 2.25 %;")


def test_get_cbbo_shows_no_ranking_before_a_second_of_data(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.quote(BN, 100.0, 100.3)
    bot.quote(OK, 99.9, 100.1)
    bot.views.evaluate(BTC, bot.now)
    bot.now += 0.5
    assert "Time at the best" not in text(bot.say("/get_cbbo BTC-USDT binance okx"))
    bot.now += 0.5
    assert "Time at the best (since start, 1 s): bid binance 100.00 %" in text(
        bot.say("/get_cbbo BTC-USDT binance okx")
    )
