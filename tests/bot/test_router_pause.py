"""/pause and /resume: a paused monitor keeps everything, releases its books, survives restarts."""

from __future__ import annotations

from pathlib import Path

from goquant_bot.domain.instruments import InstrumentKey
from tests.bot.harness import ALICE_IN_GROUP, BN, BOB_IN_GROUP, BTC, OK, Bot, data, text

BOOK = InstrumentKey(OK, BTC)


def test_pause_releases_the_books_and_says_paused_until_resumed(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    bot.say("/view_market ETH-USDT binance okx")
    assert bot.hub.refcount(BOOK) == 1
    assert text(bot.say("/pause m00001")) == (
        "⏸ Paused <code>m00001</code> (BTC-USDT): no alerts until /resume m00001."
    )
    assert bot.hub.refcount(BOOK) == 0
    assert "m00001" not in bot.registry.monitors
    status = bot.say("/status_arb")
    assert status[0].text.splitlines()[1].endswith("· ⏸ paused")
    assert data(status) == ["m:m00001:stop", "m:m00001:resume", "c:monitor_arb"]
    assert text(bot.say("/pause m00001")) == "⏸ <code>m00001</code> (BTC-USDT) is paused already."

    # A restart keeps it paused: not run again at restore.
    store, records = bot.saved()
    again = Bot(tmp_path, store=store, records=records, now=bot.now, seq=bot.seq)
    assert again.router.restore_monitors() == []
    assert sorted(again.registry.monitors) == ["m00002"]
    assert text(again.say("/resume m00001")) == "▶️ Resumed <code>m00001</code> (BTC-USDT)."
    assert again.hub.refcount(BOOK) == 1
    assert "⏸" not in again.say("/status_arb")[0].text
    assert text(again.say("/resume m00001")) == "▶️ <code>m00001</code> (BTC-USDT) is not paused."


def test_buttons_pause_and_resume_from_the_status_lists(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/view_market BTC-USDT binance okx")
    assert data(bot.say("/status_market")) == ["m:m00001:stop", "m:m00001:pause", "c:view_market"]
    answer, out = bot.tap("m:m00001:pause")
    assert answer.text == "Paused"
    assert text(out).startswith("⏸ Paused <code>m00001</code>")
    assert bot.registry.monitors == {}
    answer, out = bot.tap("m:m00001:resume")
    assert answer.text == "Resumed"
    assert list(bot.registry.monitors) == ["m00001"]


def test_pause_all_and_wrong_ids(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    bot.say("/view_market BTC-USDT binance okx")
    assert text(bot.say("/pause")).startswith("⚠️ Which monitor should I pause? Give its id")
    assert text(bot.say("/pause zz9")).startswith("⚠️ No monitor of yours has the id 'zz9'")
    out = text(bot.say("/pause all"))
    assert out.count("⏸ Paused") == 2
    assert bot.registry.monitors == {}
    assert text(bot.say("/resume all")).count("▶️ Resumed") == 2
    assert sorted(bot.registry.monitors) == ["m00001", "m00002"]


def test_only_the_creator_pauses_a_group_monitor(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3", ALICE_IN_GROUP)
    assert text(bot.say("/pause m00001", BOB_IN_GROUP)).startswith(
        "⚠️ Only the member who created m00001 (or an admin) can change it."
    )
    answer, _ = bot.tap("m:m00001:pause", BOB_IN_GROUP)
    assert answer.alert
    assert list(bot.registry.monitors) == ["m00001"]


def test_a_paused_monitor_stays_paused_when_its_blocked_chat_comes_back(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    bot.say("/monitor_arb BTC-USDT binance okx 0.5")
    bot.say("/pause m00002")
    assert bot.router.chat_blocked(11) == 2
    assert text(bot.say("/resume m00002")).startswith(
        "▶️ <code>m00002</code> is no longer paused; it runs again once this chat is active"
    )
    bot.say("/pause m00002")
    assert "1 monitor(s) resumed" in text(bot.say("/start"))
    assert list(bot.registry.monitors) == ["m00001"]
    bot.quote(BN, 99.9, 100.0)  # the running one still alerts
    bot.quote(OK, 101.0, 101.1)
    assert [e.monitor_id for e in bot.arb.evaluate(BTC, bot.now)] == ["m00001"]
