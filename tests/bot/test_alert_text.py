from __future__ import annotations

from goquant_bot.alerts.state import (
    VIEW_SUBJECT,
    AlertKey,
    AlertKind,
    AlertSnapshot,
    Phase,
    ViewUpdate,
)
from goquant_bot.bot.alert_text import AlertRenderer, stable_text
from goquant_bot.domain.events import ArbClosed, ArbOpened
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.users import ChatPrefs


def test_stable_text_ignores_what_only_the_clock_changes() -> None:
    before = (
        "📊 BTC-USDT\n<pre>venue bid ask bps age\nokx 1 2 0.1   0.3s\nbybit 1 2 0.1  12.0s</pre>\n"
        "View <code>ab12cd</code> · updated 10:00:01 UTC"
    )
    after = before.replace("0.3s", "4.1s").replace("12.0s", "1.0s").replace("10:00:01", "10:00:09")
    assert stable_text(before) == stable_text(after)
    assert stable_text(before) != stable_text(before.replace("okx 1 2", "okx 1.5 2"))
    live = "🟢 open\nNet edge 0.40 %\nOpen for 12 s\nMonitor <code>m1</code> · 10:00:01 UTC"
    assert stable_text(live) == stable_text(
        live.replace("12 s", "2 min").replace("10:00:01", "10:02:01")
    )
    assert stable_text(live) != stable_text(live.replace("0.40", "0.45"))


def test_a_live_market_view_carries_its_stop_and_list_buttons() -> None:
    renderer = AlertRenderer(
        open_opportunities=lambda monitor_id: [],
        live_view=lambda monitor_id: "📊 live",
        prefs=lambda chat_id: ChatPrefs(),
    )
    key = AlertKey(7, "ab12cd", VIEW_SUBJECT)
    live = AlertSnapshot(key, AlertKind.VIEW, Phase.VIEW, ViewUpdate("ab12cd", 7, 1.0))
    assert [[b.data for b in row] for row in renderer.buttons([live])] == [
        ["m:ab12cd:stop", "c:status_market"]
    ]
    stopped = AlertSnapshot(
        key, AlertKind.VIEW, Phase.VIEW_STOPPED, ViewUpdate("ab12cd", 7, 2.0, True)
    )
    assert renderer.buttons([stopped]) == ()


def _combined(
    monitors: tuple[str, ...], phase: Phase, event: ArbOpened | ArbClosed
) -> AlertSnapshot:
    key = AlertKey(7, monitors[0], "BTC-USDT binance->okx")
    return AlertSnapshot(key, AlertKind.ARBITRAGE, phase, event, monitors, ())


def test_a_combined_alert_names_every_monitor_and_offers_each_its_buttons() -> None:
    renderer = AlertRenderer(
        open_opportunities=lambda monitor_id: [],
        live_view=lambda monitor_id: None,
        prefs=ChatPrefs,
    )
    btc = Symbol("BTC", "USDT")
    close = ArbClosed(
        "ab12cd", 7, btc, Venue.BINANCE, Venue.OKX, 1_060.0, 1_000.0, 0.5, 0.1, "below_threshold"
    )
    snapshot = _combined(("ab12cd", "ef34gh"), Phase.CLOSED, close)
    text = renderer.render(snapshot, 1_060.0)
    assert "Arbitrage closed" in text
    assert "\nMonitors <code>ab12cd</code>, <code>ef34gh</code> · " in text
    assert stable_text(text) == stable_text(text.replace("00:17", "00:19"))
    assert [[b.data for b in row] for row in renderer.buttons([snapshot])] == [
        ["m:ab12cd:mute", "m:ab12cd:stop"],
        ["m:ef34gh:mute", "m:ef34gh:stop"],
    ]
    many = _combined(("a1", "b2", "c3", "d4"), Phase.CLOSED, close)
    assert [[b.data for b in row] for row in renderer.buttons([many])] == [["c:status_arb"]]
    single = AlertSnapshot(
        AlertKey(7, "ab12cd", "BTC-USDT binance->okx"), AlertKind.ARBITRAGE, Phase.CLOSED, close
    )
    assert "\nMonitor <code>ab12cd</code> · " in renderer.render(single, 1_060.0)
    assert [[b.data for b in row] for row in renderer.buttons([single])] == [
        ["m:ab12cd:mute", "m:ab12cd:stop"]
    ]
