"""Conversations: /alerts (history, mute, snooze) and /config (size, fees, quiet hours...)."""

from __future__ import annotations

from pathlib import Path

import pytest

from goquant_bot.domain.users import ChatPrefs, QuietHours
from tests.bot.harness import ALICE, T0, Bot, Entry, button, data, text


def test_alerts_shows_recent_history_newest_first_and_escaped(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    bot.history[ALICE.chat_id] = [
        Entry(T0 + 60, "m00001", "BTC-USDT binance->okx", "sent"),
        Entry(T0, "m00001", "<b>BTC</b>", "dropped", "closed before it could be sent"),
    ]
    out = bot.say("/alerts")
    assert out[0].text.splitlines() == [
        "🔔 <b>Alerts of this chat</b>",
        "Delivery: on",
        "<b>Recent alerts</b> (newest first):",
        "• 22:14:20 UTC <code>m00001</code> BTC-USDT binance-&gt;okx: sent",
        "• 22:13:20 UTC <code>m00001</code> &lt;b&gt;BTC&lt;/b&gt;: dropped (closed before it "
        "could be sent)",
        "Commands: <code>/alerts mute ab12cd</code>, <code>/alerts snooze 2h</code>",
    ]
    assert data(out) == ["a:mute", "a:snz:3600", "a:snz:28800", "m:m00001:mute"]


def test_alerts_mute_and_snooze_with_buttons(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    answer, out = bot.tap("a:mute")
    assert answer.text == "Alerts muted"
    assert out[0].edit
    assert bot.store.prefs(ALICE.chat_id).muted
    assert "Delivery: 🔕 muted" in out[0].text
    assert data(out)[0] == "a:unmute"
    bot.tap("a:unmute")
    assert not bot.store.prefs(ALICE.chat_id).muted
    answer, out = bot.tap("a:snz:3600")
    assert answer.text == "Snoozed for 1 h"
    assert bot.store.prefs(ALICE.chat_id).snoozed_until == T0 + 3600
    assert "💤 snoozed until 2023-11-14 23:13:20 UTC" in out[0].text
    assert button(out, "End snooze") == "a:unsnz"
    bot.tap("a:unsnz")
    assert bot.store.prefs(ALICE.chat_id).snoozed_until == 0.0
    answer, out = bot.tap("m:m00001:mute")
    assert answer.text == "m00001 muted"
    assert out == []
    assert bot.store.prefs(ALICE.chat_id).muted_monitors == {"m00001"}
    assert button(bot.say("/alerts"), "Unmute m00001") == "m:m00001:unmute"
    bot.tap("m:m00001:unmute")
    assert bot.store.prefs(ALICE.chat_id).muted_monitors == frozenset()


@pytest.mark.parametrize("forged", ["a:snz:5", "a:snz:99999999", "a:snz:-1", "a:snz:", "a:x", "a"])
def test_forged_alert_buttons_are_refused(tmp_path: Path, forged: str) -> None:
    bot = Bot(tmp_path)
    answer, out = bot.tap(forged)
    assert (answer.text, out) == ("This button is no longer valid.", [])
    assert bot.store.prefs(ALICE.chat_id).snoozed_until == 0.0


def test_alerts_one_line_forms(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    assert "Delivery: 🔕 muted" in text(bot.say("/alerts mute"))
    assert "Delivery: on" in text(bot.say("/alerts unmute"))
    bot.say("/alerts snooze 90m")
    assert bot.store.prefs(ALICE.chat_id).snoozed_until == T0 + 5400
    bot.say("/alerts unsnooze")
    assert bot.store.prefs(ALICE.chat_id).snoozed_until == 0.0
    assert "Muted monitors: <code>m00001</code>" in text(bot.say("/alerts mute m00001"))
    bot.say("/alerts unmute m00001")
    assert bot.store.prefs(ALICE.chat_id).muted_monitors == frozenset()
    stopped = bot.say("/stop_arb m00001")
    assert stopped
    assert bot.store.prefs(ALICE.chat_id).muted_monitors == frozenset()


@pytest.mark.parametrize(
    ("command", "reply", "example"),
    [
        ("/alerts snooze 10d", "⚠️ The snooze must be between 1 min and 7 d.", "/alerts snooze 2h"),
        ("/alerts snooze later", "⚠️ The snooze 'later' is not a duration", "/alerts snooze 2h"),
        ("/alerts mute zz", "⚠️ This monitor is not yours, or it no longer exists.", "/alerts mute ab12cd"),
        ("/alerts dance", "⚠️ I don't understand 'dance'. Use: mute [id], unmute [id], snooze 2h, unsnooze.", "/alerts snooze 2h"),
        ("/alerts snooze", "⚠️ I don't understand 'snooze'.", "/alerts snooze 2h"),
    ],
)  # fmt: skip
def test_alerts_errors(tmp_path: Path, command: str, reply: str, example: str) -> None:
    out = text(Bot(tmp_path).say(command))
    assert out.startswith(reply), out
    assert out.endswith(f"Example: <code>{example}</code>")


def test_config_view_and_every_setting(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/config size 5k")
    bot.say("/config fee okx 0.08%")
    bot.say("/config quiet 22:00 7:30 Europe/Paris digest")
    bot.say("/config silent on")
    bot.say("/config cooldown 2m")
    out = bot.say("/config cap 20")
    prefs = bot.store.prefs(ALICE.chat_id)
    assert prefs.default_notional == 5000.0
    assert prefs.fees_pct == (("okx", 0.08),)
    assert prefs.quiet_hours == QuietHours("22:00", "07:30", "Europe/Paris", digest=True)
    assert (prefs.silent, prefs.cooldown_s, prefs.hourly_cap) == (True, 120.0, 20)
    assert out[0].text.splitlines() == [
        "⚙️ <b>Settings of this chat</b>",
        "Trade size: 5,000 · <code>/config size 5000</code>",
        "Taker fees: binance 0.10 %, okx 0.08 % (yours), bybit 0.10 %, deribit 0.10 %, "
        "coinbase 0.10 %, kraken 0.10 %, bitfinex 0.10 %, bitstamp 0.10 %, gemini 0.10 %, gateio 0.10 %, kucoin 0.10 %, bitget 0.10 %, cryptocom 0.10 %, htx 0.10 %, mexc 0.10 % · <code>/config fee okx 0.08</code>",
        "Quiet hours: 22:00 to 07:30 Europe/Paris, digest afterwards · "
        "<code>/config quiet 22:00 07:00 Europe/Paris</code>",
        "Silent delivery: on · <code>/config silent on</code>",
        "Cooldown per monitor: 2 min · <code>/config cooldown 60s</code>",
        "Hourly cap: 20 · <code>/config cap 20</code>",
    ]
    assert data(out) == ["g:silent:off", "g:quiet:off", "g:digest:off"]
    bot.say("/config size default")
    bot.say("/config fee okx default")
    bot.say("/config quiet off")
    bot.say("/config cooldown off")
    bot.say("/config cap off")
    prefs = bot.store.prefs(ALICE.chat_id)
    assert (prefs.default_notional, prefs.fees_pct, prefs.quiet_hours) == (None, (), None)
    assert (prefs.cooldown_s, prefs.hourly_cap) == (0.0, 0)


def test_config_buttons(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/config quiet 23:00 06:00 Asia/Tokyo")
    answer, out = bot.tap("g:digest:on")
    assert answer.text == "Saved"
    assert out[0].edit
    assert bot.store.prefs(ALICE.chat_id).quiet_hours == QuietHours(
        "23:00", "06:00", "Asia/Tokyo", True
    )
    bot.tap("g:silent:on")
    assert bot.store.prefs(ALICE.chat_id).silent
    bot.tap("g:quiet:off")
    assert bot.store.prefs(ALICE.chat_id).quiet_hours is None
    for forged in ("g:digest:on", "g:silent:loud", "g:quiet:on", "g:x", "g"):
        assert bot.tap(forged)[0].text == "This button is no longer valid."


@pytest.mark.parametrize(
    ("command", "reply", "example"),
    [
        ("/config colour blue", "⚠️ Unknown setting 'colour'. Settings: size, fee, quiet, silent, cooldown, cap.", "/config size 5000"),
        ("/config size", "⚠️ size needs a value.", "/config size 5000"),
        ("/config size 1", "⚠️ The size must be between 10 and 1,000,000", "/config size 5000"),
        ("/config fee ftx 0.1", "⚠️ Unknown exchange 'ftx'.", "/config fee okx 0.08"),
        ("/config fee okx 12", "⚠️ The fee must be a percentage from 0 to below 10.", "/config fee okx 0.08"),
        ("/config fee okx", "⚠️ Wrong values for fee.", "/config fee okx 0.08"),
        ("/config quiet 25:00 07:00 UTC", "⚠️ '25:00' is not a time of day (HH:MM, 24 h).", "/config quiet 22:00 07:00 Europe/Paris"),
        ("/config quiet 22:00 07:00 Mars/Base", "⚠️ Unknown time zone 'Mars/Base': use an IANA name such as Europe/Paris or UTC.", "/config quiet 22:00 07:00 Europe/Paris"),
        ("/config quiet 22:00 22:00 UTC", "⚠️ Quiet hours need different start and end times.", "/config quiet 22:00 07:00 Europe/Paris"),
        ("/config quiet 22:00 07:00 UTC loud", "⚠️ Unexpected 'loud': only 'digest' may follow.", "/config quiet 22:00 07:00 Europe/Paris"),
        ("/config silent maybe", "⚠️ Wrong values for silent.", "/config silent on"),
        ("/config cooldown 2d", "⚠️ The cooldown must be between 0 s and 1 d.", "/config cooldown 60s"),
        ("/config cap 2.5", "⚠️ The hourly cap must be a whole number from 1 to 1000, or off.", "/config cap 20"),
    ],
)  # fmt: skip
def test_config_errors(tmp_path: Path, command: str, reply: str, example: str) -> None:
    bot = Bot(tmp_path)
    out = text(bot.say(command))
    assert out.startswith(reply), out
    assert out.endswith(f"Example: <code>{example}</code>")
    assert bot.store.prefs(ALICE.chat_id) == ChatPrefs(ALICE.chat_id)
