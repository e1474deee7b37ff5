"""Group chats: commands work for members, alerts go to the group, only the creator changes a
monitor, only monitor creators (and admins) change the group's settings, talk between members is
not answered; chat blocked, migrated; the per-user limit counts every chat."""

from __future__ import annotations

from pathlib import Path

from goquant_bot.bot.config import BotConfig
from goquant_bot.bot.context import GROUP_SETTINGS
from goquant_bot.bot.types import CallbackAnswer, Caller, ChatType
from goquant_bot.domain.monitors import ArbMonitor
from goquant_bot.domain.users import ChatPrefs
from tests.bot.harness import (
    ALICE,
    ALICE_IN_GROUP,
    BOB,
    BOB_IN_GROUP,
    GROUP,
    T0,
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
    record = bot.monitors.records["m00001"]
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
    answer, out = bot.tap("m:m00001:mute", BOB_IN_GROUP)  # the group's alerts: not Bob's call
    assert (answer.text, answer.alert, out) == (GROUP_SETTINGS, True, [])
    assert bot.store.prefs(GROUP).muted_monitors == frozenset()
    assert bot.tap("m:m00001:mute", ALICE_IN_GROUP)[0].text == "m00001 muted"
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
    assert bot.say("BTC-USDT", BOB_IN_GROUP) == []  # no set-up of his: group talk, ignored
    assert "step 2 of 4" in text(bot.say("BTC-USDT", ALICE_IN_GROUP))


def test_a_blocked_group_pauses_and_a_migrated_group_moves(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3", ALICE_IN_GROUP)
    bot.say("/config silent on", ALICE_IN_GROUP)
    new_group = -100_999
    bot.router.chat_migrated(GROUP, new_group)
    monitor = bot.registry.monitors["m00001"]
    assert monitor.owner == new_group
    assert bot.monitors.records["m00001"].chat_id == new_group
    assert bot.store.prefs(new_group).silent
    assert GROUP not in bot.store.chats
    assert bot.router.chat_blocked(new_group) == 1
    assert bot.registry.monitors == {}
    moved = ALICE_IN_GROUP.__class__(ALICE.user_id, new_group, ALICE_IN_GROUP.chat_type, "Alice")
    out = text(bot.say("/start", moved))
    assert "Welcome back, Alice! Alerts to this chat are on again; 1 monitor(s) resumed." in out
    assert bot.registry.monitors["m00001"].owner == new_group


def test_group_talk_and_other_bots_commands_get_no_answer(tmp_path: Path) -> None:
    bot = Bot(tmp_path, config=BotConfig(bot_username="GoQuantBot"))
    assert bot.say("good morning everyone", BOB_IN_GROUP) == []
    assert bot.say("/price BTC", BOB_IN_GROUP) == []  # another bot's command
    assert BOB_IN_GROUP.user_id not in bot.store.users  # chatter does not register anyone
    assert text(bot.say("/price@goquantbot", BOB_IN_GROUP)) == (
        "Unknown command /price. Send /help for the list."
    )
    assert bot.say("/status@OtherBot", BOB_IN_GROUP) == []
    assert text(bot.say("/status", BOB_IN_GROUP)).startswith("🩺")
    bot.say("/monitor_arb", ALICE_IN_GROUP)  # Alice's guided set-up reads her plain text
    assert "step 2 of 4" in text(bot.say("BTC-USDT", ALICE_IN_GROUP))
    assert bot.say("BTC-USDT", BOB_IN_GROUP) == []
    # A private chat is always talking to the bot.
    assert text(bot.say("hello", ALICE)).startswith("I answer commands")
    assert text(bot.say("/price", ALICE)).startswith("Unknown command /price.")


def test_group_talk_of_members_outside_the_allowlist_is_ignored(tmp_path: Path) -> None:
    bot = Bot(tmp_path, config=BotConfig(allowlist=frozenset({ALICE.user_id})))
    assert bot.say("lunch?", BOB_IN_GROUP) == []
    assert text(bot.say("/status", BOB_IN_GROUP)).startswith("🔒 This bot is private.")


def test_only_monitor_creators_and_admins_change_a_groups_settings(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3", ALICE_IN_GROUP)
    refused = f"⚠️ {GROUP_SETTINGS}"
    for command in (
        "/alerts mute",
        "/alerts snooze 7d",
        "/alerts unsnooze",
        "/alerts mute m00001",
        "/config size 5000",
        "/config fee okx 0.5",
        "/config cap 1",
        "/config quiet 22:00 07:00 UTC",
        "/config silent on",
    ):
        assert text(bot.say(command, BOB_IN_GROUP)) == refused, command
    for data_ in ("a:mute", "a:snz:3600", "a:unsnz", "g:silent:on", "g:quiet:off"):
        assert bot.tap(data_, BOB_IN_GROUP) == ((CallbackAnswer(GROUP_SETTINGS, alert=True)), [])
    assert bot.store.prefs(GROUP) == ChatPrefs(chat_id=GROUP)
    assert text(bot.say("/alerts", BOB_IN_GROUP)).startswith("🔔 <b>Alerts of this chat</b>")
    assert "Delivery: on" in text(bot.say("/alerts", BOB_IN_GROUP))
    bot.say("/config size 5000", BOB)  # his own private chat: his to set
    assert bot.store.prefs(BOB.chat_id).default_notional == 5000.0

    bot.say("/alerts snooze 2h", ALICE_IN_GROUP)
    assert bot.store.prefs(GROUP).snoozed_until == T0 + 7200
    root = Caller(99, GROUP, ChatType.SUPERGROUP, "Root")
    assert bot.tap("a:unsnz", root)[0].text == "Snooze ended"
    bot.say("/view_market ETH-USDT", BOB_IN_GROUP)  # now Bob runs a monitor here too
    bot.say("/config cap 5", BOB_IN_GROUP)
    assert bot.store.prefs(GROUP).hourly_cap == 5
