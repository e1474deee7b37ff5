"""Conversations: arbitrage monitors in one line, their errors, limits, changes and queries."""

from __future__ import annotations

from pathlib import Path

import pytest

from goquant_bot.bot.config import BotConfig
from goquant_bot.domain.book import BookState
from goquant_bot.domain.events import ArbClosed, ArbOpened
from goquant_bot.domain.instruments import InstrumentKey
from goquant_bot.domain.monitors import ArbMonitor, FiringPolicy
from tests.bot.harness import ALICE, BN, BOB, BTC, BY, DOGE, ETH, OK, T0, Bot, data, text

EXAMPLE = "Example: <code>/monitor_arb BTC-USDT binance okx 0.3</code>"


def arb(bot: Bot, monitor_id: str) -> ArbMonitor:
    monitor = bot.registry.monitors[monitor_id]
    assert isinstance(monitor, ArbMonitor)
    return monitor


def test_one_line_creates_a_monitor(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    out = bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    assert text(out) == (
        "✅ Arbitrage monitor <code>m00001</code> created\n"
        "BTC-USDT on binance, okx\n"
        "Alert when the net edge after fees reaches <b>0.30 %</b> at 1,000 USDT "
        "(computed at the 1,000 size tier)"
    )
    assert data(out) == ["m:m00001:stop", "c:status_arb"]
    monitor = arb(bot, "m00001")
    assert (monitor.owner, monitor.symbols, monitor.venues) == (ALICE.chat_id, (BTC,), (BN, OK))
    assert (monitor.min_edge_pct, monitor.notional, monitor.policy) == (
        0.3,
        1000.0,
        FiringPolicy.EACH,
    )
    record = bot.monitors.records["m00001"]
    assert (record.user_id, record.chat_id, record.created) == (ALICE.user_id, ALICE.chat_id, T0)


def test_one_line_with_all_size_and_options_uses_the_chats_fees(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/config fee okx 0.05")
    bot.say("/config fee deribit 0.01")
    out = text(bot.say("/monitor_arb ETH-USDT all 0.2 size=5000 min=10s once"))
    assert "ETH-USDT on binance, okx, bybit" in out
    assert "at 5,000 USDT (computed at the 5,000 size tier)" in out
    assert "Only after it lasts 10 s." in out
    assert "One alert only, then the monitor ends." in out
    monitor = arb(bot, "m00001")
    assert monitor.symbols == (ETH,)
    assert monitor.venues == (BN, OK, BY)
    assert monitor.fees_pct == ((OK, 0.05),)  # deribit does not list ETH-USDT here
    assert (monitor.min_duration_s, monitor.policy) == (10.0, FiringPolicy.ONCE)


def test_the_chats_default_size_and_the_default_threshold(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/config size 2500")
    bot.say("/monitor_arb BTC-USDT okx bybit")
    monitor = arb(bot, "m00001")
    assert (monitor.min_edge_pct, monitor.notional) == (0.3, 2500.0)


@pytest.mark.parametrize(
    ("command", "reply"),
    [
        ("/monitor_arb BTX-USDT binance okx 0.3", "⚠️ Unknown symbol 'BTX-USDT'. Did you mean BTC-USDT"),
        ("/monitor_arb BTC-USDT binance ftx 0.3", "⚠️ Unknown exchange 'ftx'. Supported: binance, okx, bybit, deribit, coinbase, kraken, bitfinex, bitstamp, gemini, gateio, kucoin, bitget, cryptocom, htx, mexc."),
        ("/monitor_arb BTC-USDT binance binance 0.3", "⚠️ binance is given twice."),
        ("/monitor_arb BTC-USDT binance 0.3", "⚠️ Pick at least two different exchanges (or 'all')."),
        ("/monitor_arb BTC-USDT binance deribit 0.3", "⚠️ BTC-USDT is not listed on deribit (it is on binance, okx, bybit)."),
        ("/monitor_arb DOGE-USDT all 0.3", "⚠️ DOGE-USDT is listed on binance: this needs at least 2."),
        ("/monitor_arb BTC-USDT binance okx abc", "⚠️ 'abc' is neither an exchange nor a threshold (a number in percent, e.g. 0.3)."),
        ("/monitor_arb BTC-USDT binance okx 0.3x", "⚠️ The threshold '0.3x' is not a number (write it in percent, e.g. 0.3)."),
        ("/monitor_arb BTC-USDT binance okx -1", "⚠️ The threshold cannot be negative."),
        ("/monitor_arb BTC-USDT binance okx 0", "⚠️ The threshold must be above 0 %."),
        ("/monitor_arb BTC-USDT binance okx 75", "⚠️ A threshold of 75.00 % is above the sanity cap of 5.00 %: edges above the cap are treated as bad data and never alerted"),
        ("/monitor_arb BTC-USDT binance okx 5.5", "⚠️ A threshold of 5.50 % is above the sanity cap of 5.00 %"),
        ("/monitor_arb BTC-USDT binance okx nan", "⚠️ The threshold 'nan' is not a finite number."),
        ("/monitor_arb BTC-USDT binance okx inf", "⚠️ The threshold 'inf' is not a finite number."),
        ("/monitor_arb BTC-USDT binance okx 0.0000001", "⚠️ The threshold 0.0000001 % is below the smallest step, 0.01 %."),
        ("/monitor_arb BTC-USDT binance okx 0.3 0.5", "⚠️ Unexpected '0.5': give one threshold."),
        ("/monitor_arb BTC-USDT binance okx 0.3 size=5", "⚠️ The size must be between 10 and 1,000,000 (got 5.00)."),
        ("/monitor_arb BTC-USDT binance okx 0.3 size=big", "⚠️ The size 'big' is not a number (quote currency, e.g. 5000 or 5k)."),
        ("/monitor_arb BTC-USDT binance okx 0.3 fee=1", "⚠️ Unknown option 'fee'. Options: size=, min=, min_profit=, quotes=, integrity=."),
        ("/monitor_arb BTC-USDT", "⚠️ Missing the exchanges: name at least two, or 'all'."),
        ("/monitor_arb <b>x</b> binance okx", "⚠️ Unknown symbol '&lt;b&gt;x&lt;/b&gt;'."),
    ],
)  # fmt: skip
def test_one_line_errors_say_what_is_wrong_and_show_an_example(
    tmp_path: Path, command: str, reply: str
) -> None:
    bot = Bot(tmp_path)
    out = text(bot.say(command))
    assert out.startswith(reply), out
    assert "\nExample: <code>/monitor_arb " in out
    assert bot.registry.monitors == {}
    assert bot.monitors.records == {}


def test_unknown_symbol_example_uses_a_suggestion(tmp_path: Path) -> None:
    out = text(Bot(tmp_path).say("/monitor_arb ETH-USDX binance okx 0.3"))
    assert out.endswith("Example: <code>/monitor_arb ETH-USDT binance okx 0.3</code>")


def test_per_user_limit_names_the_limit_and_how_to_free_a_slot(tmp_path: Path) -> None:
    bot = Bot(tmp_path, config=BotConfig(max_arb_per_user=2, max_views_per_user=1))
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    bot.say("/monitor_arb ETH-USDT binance okx 0.3")
    assert text(bot.say("/monitor_arb SOL-USDT binance okx 0.3")) == (
        "⛔ You have 2 of your 2 arbitrage monitors (the limit per user). "
        "Stop one with /stop_arb to free a slot."
    )
    answer, _ = bot.tap("c:monitor_arb")  # the guided flow checks before it starts
    assert answer.alert
    assert answer.text.startswith("You have 2 of your 2 arbitrage monitors")
    bot.say("/view_market BTC-USDT")
    assert text(bot.say("/view_market ETH-USDT")).startswith(
        "⛔ You have 1 of your 1 market views (the limit per user). Stop one with /stop_market"
    )
    assert text(bot.say("/monitor_arb SOL-USDT binance okx 0.3", BOB)).startswith("✅")
    bot.say("/stop_arb m00001")
    assert text(bot.say("/monitor_arb SOL-USDT binance okx 0.3")).startswith("✅")


def test_system_wide_limit(tmp_path: Path) -> None:
    bot = Bot(tmp_path, config=BotConfig(max_monitors_total=2))
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    bot.say("/view_market BTC-USDT", BOB)
    assert text(bot.say("/monitor_arb ETH-USDT binance okx 0.3")) == (
        "⛔ The bot runs its maximum of 2 monitors for all users. Stop one of yours with "
        "/stop_arb or /stop_market, or try again later."
    )


def test_stop_arb_by_list_id_and_all(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    assert text(bot.say("/stop_arb")).endswith(
        "No arbitrage monitor yet. Create one with /monitor_arb (guided) or the one-line form."
    )
    for symbol in ("BTC-USDT", "ETH-USDT", "SOL-USDT"):
        bot.say(f"/monitor_arb {symbol} binance okx 0.3")
    out = bot.say("/stop_arb")
    assert out[0].text.startswith("Which arbitrage monitor should stop? Tap one, or /stop_arb all.")
    assert data(out) == ["m:m00001:stop", "m:m00002:stop", "m:m00003:stop", "c:monitor_arb"]
    answer, stopped = bot.tap("m:m00002:stop")
    assert answer.text == "Stopped"
    assert text(stopped) == "⏹ Monitor <code>m00002</code> (ETH-USDT) stopped."
    assert text(bot.say("/stop_arb m00001")) == "⏹ Stopped <code>m00001</code>."
    assert text(bot.say("/stop_arb m00001")) == (
        "⚠️ No arbitrage monitor of yours has the id 'm00001': see the ids in /status_arb.\n"
        "Example: <code>/stop_arb ab12cd</code>"
    )
    assert text(bot.say("/stop_arb all")) == "⏹ Stopped 1 arbitrage monitor(s)."
    assert bot.registry.monitors == {}
    assert bot.monitors.records == {}


def test_foreign_and_forged_monitor_ids_are_refused(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    for forged in ("m:m00001:stop", "m:m00001:mute", "m:nope:stop"):
        answer, out = bot.tap(forged, BOB)
        assert (answer.text, answer.alert, out) == (
            "This monitor is not yours, or it no longer exists.",
            True,
            [],
        )
    for forged in ("m:m00001:explode", "m:m00001", "m::stop:x"):
        assert bot.tap(forged)[0].text == "This button is no longer valid."
    assert text(bot.say("/stop_arb m00001", BOB)).startswith(
        "⚠️ No arbitrage monitor of yours has the id 'm00001'"
    )
    assert text(bot.say("/threshold m00001 0.5", BOB)).startswith("⚠️ No arbitrage monitor of yours")
    assert list(bot.registry.monitors) == ["m00001"]


def test_config_arb_changes_the_monitor_in_place(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    out = text(bot.say("/config_arb m00001 threshold=0.5 size=10k min=1m mode=once polled=on"))
    assert out == (
        "✅ Changed:\n<code>m00001</code> BTC-USDT · binance, okx · ≥ 0.50 % · "
        "size 10,000 (own) · min 1 min · once · polled ok"
    )
    monitor = arb(bot, "m00001")
    assert (monitor.min_edge_pct, monitor.notional, monitor.min_duration_s) == (0.5, 10_000.0, 60.0)
    assert monitor.policy is FiringPolicy.ONCE
    assert monitor.allow_polled
    assert bot.arb.monitors["m00001"] is monitor


@pytest.mark.parametrize(
    ("command", "reply"),
    [
        ("/config_arb", "⚠️ Give the monitor's id and what to change."),
        ("/config_arb m00001", "⚠️ Say what to change, e.g. threshold=0.4."),
        ("/config_arb m00001 threshold=90", "⚠️ A threshold of 90.00 % is above the sanity cap of 5.00 %"),
        ("/config_arb m00001 threshold=NaN", "⚠️ The threshold 'NaN' is not a finite number."),
        ("/config_arb m00001 colour=red", "⚠️ Unknown option 'colour'. Options: threshold=, size=, min=, min_profit=, mode=, polled=, quotes=, integrity=."),
        ("/config_arb m00001 mode=twice", "⚠️ mode= is 'once' or 'each'."),
        ("/config_arb m00001 polled=maybe", "⚠️ polled= is 'on' or 'off'."),
        ("/config_arb zzz threshold=1", "⚠️ No arbitrage monitor of yours has the id 'zzz'"),
    ],
)  # fmt: skip
def test_config_arb_errors(tmp_path: Path, command: str, reply: str) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    out = text(bot.say(command))
    assert out.startswith(reply), out
    assert "\nExample: <code>/config_arb " in out
    assert arb(bot, "m00001").min_edge_pct == 0.3


def test_threshold_command(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    assert text(bot.say("/threshold")) == "No arbitrage monitor yet: /monitor_arb"
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    assert text(bot.say("/threshold 0.4")).startswith("✅ Threshold set to 0.40 %:")
    assert arb(bot, "m00001").min_edge_pct == 0.4
    bot.say("/monitor_arb ETH-USDT binance okx 0.3")
    assert text(bot.say("/threshold 0.4")).startswith(
        "⚠️ Which monitor? Give its id before the threshold."
    )
    assert text(bot.say("/threshold m00002 0.25")).startswith("✅ Threshold set to 0.25 %:")
    assert text(bot.say("/threshold m00002 0.25 more")).startswith("⚠️ Too many arguments")
    assert text(bot.say("/threshold m00002 -3")).startswith("⚠️ The threshold cannot be negative.")
    listing = text(bot.say("/threshold"))
    assert "≥ 0.40 %" in listing
    assert "≥ 0.25 %" in listing


def test_status_arb_shows_open_opportunities(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    bot.quote(BN, 99.9, 100.0)
    bot.quote(OK, 101.0, 101.1)
    events = bot.arb.evaluate(BTC, bot.now)
    assert [type(e) for e in events] == [ArbOpened]
    bot.now += 42
    out = bot.say("/status_arb")
    assert out[0].text.splitlines() == [
        "📋 <b>Arbitrage monitors</b>",
        "<code>m00001</code> BTC-USDT · binance, okx · ≥ 0.30 % · size 1,000",
        "   🟢 binance → okx 0.80 % (peak 0.80 %) for 42 s",
    ]
    assert data(out) == ["m:m00001:stop", "m:m00001:pause", "c:monitor_arb"]
    assert text(bot.say("/status_arb now")).startswith("⚠️ /status_arb takes no arguments.")


def test_a_new_monitor_on_an_open_opportunity_alerts_at_once(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    bot.quote(BN, 99.9, 100.0)
    bot.quote(OK, 101.0, 101.1)
    bot.arb.evaluate(BTC, bot.now)
    out = text(bot.say("/monitor_arb BTC-USDT binance okx 0.5", BOB))
    assert out.endswith("🟢 An opportunity is open right now: its alert follows.")
    assert [(type(e), e.monitor_id, e.owner) for e in bot.published] == [
        (ArbOpened, "m00002", BOB.chat_id)
    ]


def test_arbitrage_one_shot_ranks_pairs_net_of_fees(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/config fee okx 0.0")
    bot.quote(BN, 99.9, 100.0)
    bot.quote(OK, 101.0, 101.1)
    bot.quote(BY, 100.2, 100.3)
    lines = text(bot.say("/arbitrage BTC-USDT")).splitlines()
    assert lines[0] == "💹 <b>Best opportunities now</b> at 1,000 per trade, net of fees"
    assert lines[1] == (
        "🟢 1. <b>BTC-USDT</b> buy binance 100.0000 → sell okx 101.0000: <b>0.90 %</b> (9.00 USDT)"
    )
    assert lines[2].startswith("🟢 2. <b>BTC-USDT</b> buy bybit 100.3000 → sell okx 101.0000")
    assert len([x for x in lines if ". <b>BTC-USDT</b>" in x]) == 6
    assert lines[-1] == "1 symbol(s) checked. Set your size with /config size 5000."


def test_arbitrage_reports_guards_and_unstreamed_symbols(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.quote(BN, 99.9, 100.0)
    bot.quote(OK, 101.0, 101.1)
    bot.now += 60  # okx refreshed now, binance a minute ago
    bot.quote(OK, 101.0, 101.1)
    bot.quote(BY, 100.0, 100.1).state = BookState.STALE
    out = text(bot.say("/arbitrage BTC-USDT"))
    assert "No venue pair can be quoted right now." in out
    assert "Pairs left out: not live 4, skew 2." in out
    assert text(bot.say("/arbitrage DOGE-USDT")) == (
        "DOGE-USDT is listed on binance only: arbitrage needs two exchanges."
    )
    assert bot.hub.book(InstrumentKey(BN, DOGE)) is None  # nothing subscribed for it
    assert text(bot.say("/arbitrage")).endswith(
        "Nothing is streamed yet: start a monitor or name a symbol, e.g. /arbitrage BTC-USDT"
    )
    assert text(bot.say("/arbitrage BTC-USDT ETH-USDT")).startswith("⚠️ Give at most one symbol.")
    assert text(bot.say("/arbitrage FOO-BAR")).startswith("⚠️ Unknown symbol 'FOO-BAR'.")


def test_arb_stats(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    assert "Nothing yet" in text(bot.say("/arb_stats"))
    for ts, peak in ((T0 - 7200, 0.5), (T0 - 60, 0.7)):
        bot.stats.record(
            ArbClosed(
                "m00001", ALICE.chat_id, BTC, BN, OK, ts, ts - 30, peak, 0.1, "below_threshold"
            )
        )
    bot.stats.record(ArbClosed("x", BOB.chat_id, BTC, BN, OK, T0, T0 - 5, 3.0, None, "stale"))
    assert text(bot.say("/arb_stats")).splitlines() == [
        "📈 <b>Opportunity statistics</b> (closed opportunities of this chat)",
        "<b>BTC-USDT binance-&gt;okx</b>",
        "  1h: 1 · mean peak 0.70 % · max 0.70 % · mean 30 s",
        "  24h: 2 · mean peak 0.60 % · max 0.70 % · mean 30 s",
        "  all: 2 · mean peak 0.60 % · max 0.70 % · mean 30 s",
    ]
    assert text(bot.say("/arb_stats x")).startswith("⚠️ /arb_stats takes no arguments.")
