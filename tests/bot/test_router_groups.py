"""Group chats: commands work for members, alerts go to the group, only the creator changes a
monitor; chat blocked, migrated; the per-user limit counts every chat."""

from __future__ import annotations

from pathlib import Path

from goquant_bot.bot.config import BotConfig
from goquant_bot.domain.monitors import ArbMonitor
from tests.bot.harness import (
    ALICE,
    ALICE_IN_GROUP,
    BOB_IN_GROUP,
    GROUP,
    Bot,
    data,
    text,
)


def test_a_group_monitor_alerts_the_group(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    assert text(bot.say("/start", ALICE_IN_GROUP)).startswith("👋 Hello, Alice!")
    bot.say("/monitor_arb BTC-USDT binance okx 0.3", ALICE_IN_GROUP)
    monitor = bot.registry.monitors["m00001"]
    assert isinstance(monitor, ArbMonitor)
    assert monitor.owner == GROUP
    record = bot.store.monitors["m00001"]
    assert (record.chat_id, record.user_id) == (GROUP, ALICE.user_id)
    assert GROUP in bot.store.chats


def test_members_see_the_groups_monitors_but_only_the_creator_changes_them(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3", ALICE_IN_GROUP)
    seen = bot.say("/status_arb", BOB_IN_GROUP)
    assert "<code>m00001</code> BTC-USDT" in text(seen)
    assert data(seen) == ["c:monitor_arb"]  # no stop button for a monitor Bob did not create
    answer, out = bot.tap("m:m00001:stop", BOB_IN_GROUP)
    assert answer.text == "Only the member who created this monitor (or an admin) can stop it."
    assert out == []
    assert "m00001" in bot.registry.monitors
    assert text(bot.say("/threshold m00001 1", BOB_IN_GROUP)).startswith(
        "⚠️ Only the member who created m00001 (or an admin) can change it."
    )
    assert bot.tap("m:m00001:mute", BOB_IN_GROUP)[0].text == "m00001 muted"  # the group's alerts
    assert bot.store.prefs(GROUP).muted_monitors == {"m00001"}
    assert text(bot.say("/stop_arb all", BOB_IN_GROUP)) == "⏹ Stopped 0 arbitrage monitor(s)."
    assert bot.tap("m:m00001:stop", ALICE_IN_GROUP)[0].text == "Stopped"


def test_the_creator_manages_group_monitors_from_a_private_chat(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/view_market BTC-USDT", ALICE_IN_GROUP)
    assert "<code>m00001</code> BTC-USDT" in text(bot.say("/status_market", ALICE))
    assert text(bot.say("/stop_market m00001", ALICE)) == "⏹ Stopped <code>m00001</code>."


def test_an_admin_may_stop_any_monitor(tmp_path: Path) -> None:
    bot = Bot(tmp_path, config=BotConfig(admin_ids=frozenset({BOB_IN_GROUP.user_id})))
    bot.say("/monitor_arb BTC-USDT binance okx 0.3", ALICE_IN_GROUP)
    assert bot.tap("m:m00001:stop", BOB_IN_GROUP)[0].text == "Stopped"


def test_the_per_user_limit_counts_every_chat(tmp_path: Path) -> None:
    bot = Bot(tmp_path, config=BotConfig(max_arb_per_user=1))
    bot.say("/monitor_arb BTC-USDT binance okx 0.3", ALICE_IN_GROUP)
    assert text(bot.say("/monitor_arb ETH-USDT binance okx 0.3", ALICE)).startswith(
        "⛔ You have 1 of your 1 arbitrage monitors"
    )
    assert text(bot.say("/monitor_arb ETH-USDT binance okx 0.3", BOB_IN_GROUP)).startswith("✅")


def test_group_flows_are_per_member(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    alice_flow = bot.say("/monitor_arb", ALICE_IN_GROUP)
    assert data(alice_flow)[0] == "f:f001:s:BTC-USDT"
    answer, out = bot.tap("f:f001:s:BTC-USDT", BOB_IN_GROUP)
    assert (answer.text, answer.alert, out) == (
        "This set-up is not yours, or it has ended.",
        True,
        [],
    )
    assert text(bot.say("BTC-USDT", BOB_IN_GROUP)).startswith("I answer commands")
    assert "step 2 of 4" in text(bot.say("BTC-USDT", ALICE_IN_GROUP))


def test_a_blocked_group_pauses_and_a_migrated_group_moves(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3", ALICE_IN_GROUP)
    bot.say("/config silent on", ALICE_IN_GROUP)
    new_group = -100_999
    bot.router.chat_migrated(GROUP, new_group)
    monitor = bot.registry.monitors["m00001"]
    assert monitor.owner == new_group
    assert bot.store.monitors["m00001"].chat_id == new_group
    assert bot.store.prefs(new_group).silent
    assert GROUP not in bot.store.chats
    assert bot.router.chat_blocked(new_group) == 1
    assert bot.registry.monitors == {}
    moved = ALICE_IN_GROUP.__class__(ALICE.user_id, new_group, ALICE_IN_GROUP.chat_type, "Alice")
    out = text(bot.say("/start", moved))
    assert "Welcome back, Alice! Alerts to this chat are on again; 1 monitor(s) resumed." in out
    assert bot.registry.monitors["m00001"].owner == new_group
