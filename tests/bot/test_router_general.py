"""Conversations: /start, /help, /menu, /status, /list_symbols, /cancel, /admin, access control."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from goquant_bot.bot.config import BotConfig
from goquant_bot.bot.render import COMMANDS
from goquant_bot.bot.types import Caller
from tests.bot.harness import ALICE, BN, BOB, OK, Bot, button, data, text

MENU = [
    "c:monitor_arb", "c:view_market", "c:arbitrage", "c:get_cbbo", "c:status_arb",
    "c:status_market", "c:arb_stats", "c:alerts", "c:config", "c:status", "c:list_symbols",
    "c:help",
]  # fmt: skip


def test_start_greets_by_first_name_registers_and_shows_the_menu(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    out = bot.say("/start")
    assert out[0].text.startswith("👋 Hello, Alice! I watch the order books of binance, okx,")
    assert data(out) == MENU
    assert bot.store.users[ALICE.user_id].first_name == "Alice"
    assert ALICE.chat_id in bot.store.chats
    assert bot.say("/start")[0].text.startswith("👋 Hello again, Alice!")


def test_start_escapes_the_name(tmp_path: Path) -> None:
    caller = dataclasses.replace(ALICE, first_name="<b>Eve</b> & co")
    out = Bot(tmp_path).say("/start", caller)
    assert "Hello, &lt;b&gt;Eve&lt;/b&gt; &amp; co!" in out[0].text


def test_start_reactivates_a_blocked_chat_and_resumes_its_monitors(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    assert bot.router.chat_blocked(ALICE.chat_id) == 1
    assert not bot.store.prefs(ALICE.chat_id).active
    assert bot.registry.monitors == {}
    paused = bot.say("/status_arb")
    assert "⏸ paused" in paused[0].text
    assert paused[-1].text == (
        "⏸ Alerts to this chat are paused since the bot was blocked here: send /start to resume."
    )
    out = bot.say("/start")
    assert (
        "Welcome back, Alice! Alerts to this chat are on again; 1 monitor(s) resumed."
        in out[0].text
    )
    assert bot.store.prefs(ALICE.chat_id).active
    assert list(bot.registry.monitors) == ["m00001"]


def test_start_offers_to_reuse_the_previous_configuration(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3 size=5000")
    bot.say("/view_market ETH-USDT")
    bot.say("/stop_arb all")
    bot.say("/stop_market all")
    out = bot.say("/start")
    assert len(out) == 2
    assert out[1].text.startswith("You had 2 monitor(s) before:")
    assert "BTC-USDT · binance, okx · ≥ 0.30 % · size 5,000" in out[1].text
    answer, restored = bot.tap(button(out, "Restore them"))
    assert answer.text == "Restored"
    assert restored[0].edit
    assert restored[0].text.startswith("♻️ Restored 2 monitor(s).")
    arb = bot.registry.monitors["m00003"]
    assert arb.owner == ALICE.chat_id
    assert arb.notional == 5000.0
    assert bot.store.previous[ALICE.user_id] == []
    assert len(bot.say("/start")) == 1  # nothing left to offer
    assert bot.tap("r:yes")[0].text == "Nothing to restore"


def test_start_restore_can_be_declined(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    bot.say("/stop_arb m00001")
    _, out = bot.tap(button(bot.say("/start"), "No thanks"))
    assert out[0].text == "Fine: start fresh with /menu."
    assert out[0].edit
    assert bot.registry.monitors == {}


def test_help_lists_every_command_with_an_example(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    help_text = text(bot.say("/help"))
    for command, _, example in COMMANDS:
        assert f"/{command} · " in help_text
        assert f"<code>{example}</code>" in help_text
    assert "/admin" not in help_text
    admin = Caller(99, 99, first_name="Root")
    assert "/admin · users, monitors and venue health" in text(bot.say("/help", admin))
    assert text(bot.say("/help /threshold")) == (
        "/threshold · Change a monitor's threshold\ne.g. <code>/threshold ab12cd 0.25</code>"
    )
    assert text(bot.say("/help <nope>")) == (
        "⚠️ No command '&lt;nope&gt;': /help lists them all.\n"
        "Example: <code>/help monitor_arb</code>"
    )


def test_menu_for_set_my_commands(tmp_path: Path) -> None:
    menu = Bot(tmp_path).router.menu()
    assert menu[0] == ("start", "Register and show the menu")
    assert [c for c, _ in menu] == [c for c, _, _ in COMMANDS]
    assert all(1 <= len(d) <= 256 and c.islower() and len(c) <= 32 for c, d in menu)


def test_menu_buttons_run_their_commands(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    assert data(bot.say("/menu")) == MENU
    answer, out = bot.tap("c:status")
    assert answer.text == ""
    assert out[0].text.startswith("🩺 <b>Status</b>")
    for forged in ("c:start", "c:rm -rf", "c:status:x", "c:"):
        answer, out = bot.tap(forged)
        assert (answer.text, answer.alert, out) == ("This button is no longer valid.", True, [])
    assert text(bot.say("/menu now")) == (
        "⚠️ /menu takes no arguments.\nExample: <code>/menu</code>"
    )


def test_status_shows_venues_monitors_and_uptime(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    bot.quote(BN, 100.0, 100.1)
    bot.now += 3725
    status = text(bot.say("/status"))
    checked = " · verified by sequence numbers or checksums"
    assert "• <b>binance</b>✓: disconnected · 1/1 books fresh" + checked in status
    assert "• <b>okx</b>✓: disconnected · 0/1 books fresh" + checked in status
    assert "<b>Monitors here</b>: 1 arbitrage, 0 market view(s)" in status
    assert "<code>m00001</code> BTC-USDT · binance, okx · ≥ 0.30 % · size 1,000" in status
    assert status.endswith("Up for 1 h 2 min.")
    bot.say("/alerts mute")
    assert "🔕 Alerts are muted: /alerts" in text(bot.say("/status"))


def test_list_symbols_pages_with_buttons(tmp_path: Path) -> None:
    bot = Bot(tmp_path, config=BotConfig(page_size=2))
    out = bot.say("/list_symbols")
    assert out[0].text.splitlines() == [
        "🔎 <b>5 symbols</b> · page 1/3",
        "<code>BTC-USDC</code>  <code>BTC-USDT</code>",
    ]
    assert data(out) == ["l:1:-:"]
    _, page2 = bot.tap("l:1:-:")
    assert page2[0].edit
    assert "page 2/3" in page2[0].text
    assert data(page2) == ["l:0:-:", "l:2:-:"]
    assert "page 3/3" in bot.tap("l:99:-:")[1][0].text  # clamped to the last page
    okx = bot.say("/list_symbols okx")
    assert okx[0].text.startswith("🔎 <b>3 symbols</b> on okx · page 1/2")
    assert data(okx) == ["l:1:okx:"]
    btc = bot.say("/list_symbols binance btc")
    assert "<b>2 symbols</b> on binance matching BTC" in btc[0].text
    assert "None found" in text(bot.say("/list_symbols XRP"))


@pytest.mark.parametrize(
    ("command", "reply"),
    [
        (
            "/list_symbols okx BTC extra",
            "⚠️ Too many arguments: an exchange and a filter at most.",
        ),
        ("/list_symbols ftx BTC", "⚠️ Unknown exchange 'ftx'. Supported: binance, okx,"),
        ("/list_symbols <b>", "⚠️ The filter '&lt;b&gt;' must be 1-20 letters, digits or '-'."),
    ],
)
def test_list_symbols_errors(tmp_path: Path, command: str, reply: str) -> None:
    out = text(Bot(tmp_path).say(command))
    assert out.startswith(reply)
    assert out.endswith("Example: <code>/list_symbols okx BTC</code>")


@pytest.mark.parametrize("forged", ["l:x:-:", "l:1:ftx:", "l:1:-:<b>", "l:1:-", "l:999999:-:"])
def test_forged_list_pages_are_refused(tmp_path: Path, forged: str) -> None:
    answer, out = Bot(tmp_path).tap(forged)
    assert answer.text == "This button is no longer valid."
    assert out == []


def test_unknown_commands_and_free_text(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    assert (
        text(bot.say("/frobnicate <x>")) == "Unknown command /frobnicate. Send /help for the list."
    )
    assert (
        text(bot.say("hello"))
        == "I answer commands: send /help for the list, or /menu for buttons."
    )
    assert text(bot.say("")) == "I answer commands: send /help for the list, or /menu for buttons."


def test_commands_for_another_bot_are_ignored(tmp_path: Path) -> None:
    bot = Bot(tmp_path, config=BotConfig(bot_username="GoQuantBot"))
    assert bot.say("/status@OtherBot") == []
    assert text(bot.say("/status@goquantbot")).startswith("🩺")


def test_cancel_without_a_flow(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    assert text(bot.say("/cancel")) == "Nothing to cancel."


def test_allowlist_refuses_others_politely(tmp_path: Path) -> None:
    bot = Bot(
        tmp_path, config=BotConfig(allowlist=frozenset({ALICE.user_id}), admin_ids=frozenset({99}))
    )
    assert text(bot.say("/start", BOB)) == (
        "🔒 This bot is private. Ask its operator to add your user id <code>22</code> to the "
        "allowlist."
    )
    assert text(bot.say("free text", BOB)).startswith("🔒 This bot is private.")
    answer, out = bot.tap("c:status", BOB)
    assert (answer.text, answer.alert, out) == ("This bot is private.", True, [])
    assert BOB.user_id not in bot.store.users
    assert text(bot.say("/start")).startswith("👋 Hello, Alice!")
    assert text(bot.say("/start", Caller(99, 99, first_name="Root"))).startswith("👋 Hello, Root!")


def test_admin_sees_users_monitors_and_venue_health(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    root = Caller(99, 99, first_name="Root")
    bot.say("/start")
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    bot.say("/view_market ETH-USDT", BOB)
    bot.router.chat_blocked(BOB.chat_id)
    report = text(bot.say("/admin", root))
    assert "Users: 3 · chats: 3 (1 inactive) · set-ups in progress: 0" in report
    assert (
        "Monitors: 1 arbitrage, 1 market views (1 paused) · running in the engine: 1 of at most 100"
        in report
    )
    assert "• <b>okx</b>✓: disconnected · 0/2 books fresh" in report
    assert "• <code>11</code> Alice @alice: 1 monitor(s)" in report
    assert text(bot.say("/admin")) == "⛔ /admin is for the operators of this bot."
    assert "/admin takes no arguments" in text(bot.say("/admin x", root))


def test_monitor_records_survive_a_restart(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    bot.say("/view_market ETH-USDT okx")
    bot.say("/config fee okx 0.05")
    store, records = bot.saved()
    again = Bot(tmp_path, store=store, records=records)
    assert again.registry.monitors == {}
    assert again.router.restore_monitors() == []
    assert sorted(again.registry.monitors) == ["m00001", "m00002"]
    assert again.registry.monitors["m00002"].venues == (OK,)
    assert again.store.prefs(ALICE.chat_id).fees_pct == (("okx", 0.05),)
