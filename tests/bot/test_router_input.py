"""Conversations about what users type: thresholds against the sanity cap, one number grammar."""

from __future__ import annotations

from pathlib import Path

from goquant_bot.alerts.delivery import DeliveryConfig
from goquant_bot.alerts.state import AlertKey, AlertKind, AlertSnapshot, Phase
from goquant_bot.app.bot_config import bot_config
from goquant_bot.bot.alert_text import AlertRenderer
from goquant_bot.bot.config import BotConfig
from goquant_bot.domain.events import ArbOpened, MarketViewSignal
from goquant_bot.domain.instruments import Instrument, Symbol
from goquant_bot.domain.monitors import ArbMonitor
from goquant_bot.settings import load_settings
from tests.bot.harness import BN, BTC, BY, OK, Bot, button, data, text

BTC_USD = Symbol("BTC", "USD")

CAP_REASON = (
    "edges above the cap are treated as bad data and never alerted, so this monitor could "
    "never fire."
)


def arb(bot: Bot, monitor_id: str) -> ArbMonitor:
    monitor = bot.registry.monitors[monitor_id]
    assert isinstance(monitor, ArbMonitor)
    return monitor


def test_one_line_threshold_above_the_sanity_cap_is_refused(tmp_path: Path) -> None:
    bot = Bot(tmp_path, config=BotConfig(sanity_cap_pct=2.0))
    out = text(bot.say("/monitor_arb BTC-USDT binance okx 3"))
    assert out.startswith("⚠️ A threshold of 3.00 % is above the sanity cap of 2.00 %: ")
    assert CAP_REASON in out
    assert bot.registry.monitors == {}
    assert text(bot.say("/monitor_arb BTC-USDT binance okx 2")).startswith("✅")


def test_default_threshold_above_the_sanity_cap_is_refused(tmp_path: Path) -> None:
    bot = Bot(tmp_path, config=BotConfig(sanity_cap_pct=0.2, default_threshold_pct=0.3))
    out = text(bot.say("/monitor_arb BTC-USDT binance okx"))
    assert out.startswith("⚠️ A threshold of 0.30 % is above the sanity cap of 0.20 %")
    assert bot.registry.monitors == {}


def test_threshold_and_config_arb_refuse_a_threshold_above_the_cap(tmp_path: Path) -> None:
    bot = Bot(tmp_path, config=BotConfig(sanity_cap_pct=2.0))
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    out = text(bot.say("/threshold m00001 2.5"))
    assert out.startswith("⚠️ A threshold of 2.50 % is above the sanity cap of 2.00 %")
    assert CAP_REASON in out
    out = text(bot.say("/config_arb m00001 threshold=4"))
    assert out.startswith("⚠️ A threshold of 4.00 % is above the sanity cap of 2.00 %")
    assert arb(bot, "m00001").min_edge_pct == 0.3
    assert text(bot.say("/threshold m00001 1e0")).startswith("✅ Threshold set to 1.00 %:")
    assert arb(bot, "m00001").min_edge_pct == 1.0


def test_guided_flow_offers_and_accepts_only_thresholds_within_the_cap(tmp_path: Path) -> None:
    config = BotConfig(sanity_cap_pct=0.4, threshold_choices=(0.1, 0.3, 0.5, 1.0))
    bot = Bot(tmp_path, config=config)
    bot.say("/monitor_arb")
    bot.say("BTC-USDT")
    out = bot.say("binance okx")
    assert [d for d in data(out) if ":t:" in d and "!" not in d] == ["f:f001:t:0.1", "f:f001:t:0.3"]
    assert "0.10 %" in [b.text for r in out for row in r.buttons for b in row]
    typed = text(bot.say("0.5"))
    assert "⚠️ A threshold of 0.50 % is above the sanity cap of 0.40 %" in typed
    assert "step 3 of 4" in typed
    answer, _ = bot.tap("f:f001:t:1")  # a button of an older message, or forged
    assert answer.alert
    assert answer.text.startswith("A threshold of 1.00 % is above the sanity cap of 0.40 %")
    assert "step 4 of 4" in text(bot.say("0.4"))
    _, created = bot.tap("f:f001:c:!ok")
    assert "✅ Arbitrage monitor <code>m00002</code> created" in text(created)
    assert arb(bot, "m00002").min_edge_pct == 0.4


def test_numbers_are_read_the_same_way_in_every_command(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    assert text(bot.say("/monitor_arb BTC-USDT binance okx 2.5e-1 size=1e4")).startswith("✅")
    monitor = arb(bot, "m00001")
    assert (monitor.min_edge_pct, monitor.notional) == (0.25, 10_000.0)
    bot.say("/config size 1,000")
    assert "Trade size: 1,000 ·" in text(bot.say("/config"))
    assert "The fee 'nan' is not a finite number." in text(bot.say("/config fee okx nan"))
    assert "okx 0.075 % (yours)" in text(bot.say("/config fee okx 0.075"))
    assert "The hourly cap 'inf' is not a finite number." in text(bot.say("/config cap inf"))
    assert "The snooze 'infs' is not a finite number." in text(bot.say("/alerts snooze infs"))
    out = text(bot.say("/view_market BTC-USDT all spread=nan"))
    assert out.startswith("⚠️ spread= 'nan' is not a finite number")
    out = text(bot.say("/view_market BTC-USDT all move=0.0000001"))
    assert out.startswith("⚠️ The mid move 0.0000001 % is below the smallest step, 0.01 %.")
    assert bot.say("/view_market BTC-USDT all move=1e-1 every=1e1s") == []  # started
    views = [m for m in bot.registry.monitors.values() if hasattr(m, "mid_move_pct")]
    assert [(m.mid_move_pct, m.cooldown_s) for m in views] == [(0.1, 10.0)]


def test_alerts_unmute_without_an_id_unmutes_everything_and_says_so(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    bot.say("/monitor_arb ETH-USDT binance okx 0.3")
    assert text(bot.say("/alerts mute m00001")).startswith("Monitor <code>m00001</code> muted.")
    bot.say("/alerts mute m00002")
    out = text(bot.say("/alerts mute"))
    assert out.startswith("🔕 Every alert of this chat is muted: <code>/alerts unmute</code>")
    out = text(bot.say("/alerts unmute"))
    assert out.splitlines()[0] == (
        "🔔 Unmuted everything: the chat-wide mute and monitors <code>m00001</code>, "
        "<code>m00002</code>."
    )
    prefs = bot.store.prefs(11)
    assert (prefs.muted, prefs.muted_monitors) == (False, frozenset())
    assert "Muted monitors" not in out
    assert text(bot.say("/alerts unmute")).startswith("🔔 Nothing was muted in this chat.")


def test_unmute_all_button_also_lifts_monitor_mutes(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    out = bot.say("/alerts mute m00001")  # only a monitor muted: the button is offered
    answer, view = bot.tap(button(out, "Unmute all"))
    assert answer.text == "Everything unmuted"
    assert text(view).startswith("🔔 Unmuted everything: monitor <code>m00001</code>.")
    assert bot.store.prefs(11).muted_monitors == frozenset()


def test_venue_spellings_of_symbols_are_accepted(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    assert text(bot.say("/monitor_arb btcusdt binance okx 0.3")).startswith("✅")
    assert arb(bot, "m00001").symbols == (BTC,)
    bot.quote(BN, 100.0, 100.1)
    assert text(bot.say("/get_cbbo BTCUSDT binance")).startswith("📊 <b>BTC-USDT</b>")
    bot.directory.set_instruments(OK, [Instrument(OK, s, str(s)) for s in (BTC, BTC_USD)])
    assert text(bot.say("/get_cbbo XBTUSD")).startswith("⏳ <b>BTC-USD</b> is not streamed yet")
    bot.say("/view_market")
    assert "<b>BTC-USDT</b>: pick one or more exchanges" in text(bot.say("xbtusdt"))


def test_an_ambiguous_spelling_is_answered_with_the_candidates(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    assert text(bot.say("/get_cbbo XBTUSD")) == (
        "⚠️ 'XBTUSD' could be BTC-USDC, BTC-USDT: write the one you mean.\n"
        "Example: <code>/get_cbbo BTC-USDC</code>"
    )
    assert text(bot.say("/monitor_arb ETHUSD all 0.3")).startswith(
        "⚠️ 'ETHUSD' is not listed as written. Did you mean ETH-USDT?"
    )
    bot.say("/monitor_arb")
    out = bot.say("btc")
    assert "⚠️ 'btc' could be BTC-USDC, BTC-USDT: write the one you mean." in text(out)
    assert data(out)[:2] == ["f:f001:s:BTC-USDC", "f:f001:s:BTC-USDT"]
    assert bot.registry.monitors == {}


def test_a_live_view_states_the_edit_pacing_that_delivery_applies(tmp_path: Path) -> None:
    config = BotConfig(edit_interval_s=8.0, view_refresh_s=10.0)
    bot = Bot(tmp_path, config=config)
    assert bot.say("/view_market BTC-USDT all every=1s") == []  # the live view is the reply
    out = bot.router.live_view_text("m00001") or ""
    assert (
        "It is edited when the best bid or offer moves to another venue (each side at most "
        "once every 1 s, edits at least 8 s apart) and its figures are refreshed every 10 s."
    ) in out
    bot.say("/view_market")
    bot.say("ETH-USDT")
    confirm = text(bot.say("binance okx"))
    assert "edits at least 8 s apart" in confirm


def test_the_stated_edit_interval_is_the_configured_one(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_text("[bot]\nedit_interval_s = 7.0\n", encoding="utf-8")
    config = bot_config(load_settings(path, env_file=None))
    assert (config.edit_interval_s, config.view_refresh_s) == (7.0, DeliveryConfig().refresh_s)
    bot = Bot(tmp_path, config=config)
    assert bot.say("/view_market BTC-USDT") == []
    assert "edits at least 7 s apart" in (bot.router.live_view_text("m00001") or "")


def with_ticks(bot: Bot) -> None:
    bot.directory.set_instruments(BN, [Instrument(BN, BTC, "BTCUSDT", tick_size=0.01)])
    bot.directory.set_instruments(OK, [Instrument(OK, BTC, "BTC-USDT", tick_size=0.1)])
    bot.directory.set_instruments(BY, [])


def test_prices_at_the_tick_size_percentages_and_bps_with_two_decimals(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    with_ticks(bot)
    bot.quote(BN, 64_000.01, 64_000.5, size=1_234_567.5)
    bot.quote(OK, 64_000.1, 64_000.3, size=0.000012)
    lines = text(bot.say("/get_cbbo BTC-USDT binance okx")).splitlines()
    assert lines[1:4] == [
        "Best bid <b>64,000.1</b> (size 0.000012) on <b>okx</b>",
        "Best ask <b>64,000.3</b> (size 0.000012) on <b>okx</b>",
        "Spread 0.20 (0.03 bps) · mid 64,000.200",
    ]
    assert lines[5] == "binance✓     64,000.01    64,000.50   0.08   0.0s"
    assert lines[6] == "okx✓          64,000.1     64,000.3   0.03   0.0s</pre>"
    assert lines[7] == "✓ verified by sequence numbers or checksums"
    assert lines[8].startswith("Depth within 10 / 50 / 100 bps of mid: bids 1,234,568 / ")


def test_one_shot_opportunities_at_the_tick_size_and_two_decimals(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    with_ticks(bot)
    bot.quote(BN, 99.9, 100.0)
    bot.quote(OK, 101.0, 101.1)
    lines = text(bot.say("/arbitrage BTC-USDT")).splitlines()
    assert lines[1] == (
        "🟢 1. <b>BTC-USDT</b> buy binance 100.00 → sell okx 101.0: <b>0.80 %</b> (7.99 USDT)"
    )


def test_alerts_show_prices_at_the_tick_size(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    with_ticks(bot)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    bot.quote(BN, 99.9, 100.0)
    bot.quote(OK, 101.0, 101.1)
    (opened,) = bot.arb.evaluate(BTC, bot.now)
    assert isinstance(opened, ArbOpened)
    renderer = AlertRenderer(
        open_opportunities=bot.arb.open_opportunities,
        live_view=bot.router.live_view_text,
        prefs=bot.store.prefs,
        price_decimals=bot.router.ctx.price_decimals,
    )
    key = AlertKey(11, "m00001", "BTC-USDT binance->okx")
    live = AlertSnapshot(key, AlertKind.ARBITRAGE, Phase.OPEN, opened)
    prices = "Buy on <b>binance</b>✓ at 100.00 · sell on <b>okx</b>✓ at 101.0"  # both verified
    assert renderer.render(live, bot.now).splitlines()[1] == prices
    bot.arb.remove_monitor("m00001")  # no current figures: the opening as it was
    assert renderer.render(live, bot.now).splitlines()[1] == prices
    details = (("move_pct", 0.5), ("mid", 100.05), ("previous_mid", 99.55))
    move = MarketViewSignal("v1", 11, BTC, bot.now, "mid_move", details)
    signal = AlertSnapshot(AlertKey(11, "v1", "mid"), AlertKind.SIGNAL, Phase.SIGNAL, move)
    assert renderer.render(signal, bot.now).splitlines()[1] == (
        "Mid moved +0.50 % to 100.050 (from 99.550)"
    )
