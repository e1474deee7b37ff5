"""Monitors over their life: one-shots that fire, changes in place, a damaged state file."""

from __future__ import annotations

import json
from pathlib import Path

from goquant_bot.bot.config import BotConfig
from goquant_bot.bot.users import MonitorRecord, UserStore
from goquant_bot.domain.events import ArbClosed, ArbOpened
from goquant_bot.domain.monitors import MarketViewMonitor
from goquant_bot.monitors.events import MonitorEvent
from goquant_bot.monitors.schema import records_from_entries
from tests.bot.harness import ALICE, BN, BOB, BTC, OK, Bot, text


def watch(bot: Bot) -> list[tuple[str, str]]:
    """The monitor service's announcements, as (change, monitor id)."""
    changes: list[tuple[str, str]] = []

    def on_event(event: MonitorEvent) -> None:
        changes.append((event.topic.removeprefix("monitor."), event.monitor_id))

    bot.events.subscribe("monitor.*", on_event)
    return changes


def open_btc(bot: Bot) -> list[object]:
    """Binance asks 100.0, OKX bids 101.0: 0.8 % net of the 0.1 % fees on each side."""
    bot.quote(BN, 99.9, 100.0)
    bot.quote(OK, 101.0, 101.1)
    return list(bot.arb.evaluate(BTC, bot.now))


def restarted(bot: Bot, tmp_path: Path) -> Bot:
    store, records = bot.saved()
    return Bot(tmp_path, store=store, records=records, now=bot.now, seq=bot.seq)


def test_unfired_one_shots_survive_commands_before_the_monitors_are_restored(
    tmp_path: Path,
) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3 once")
    again = restarted(bot, tmp_path)
    assert again.registry.monitors == {}  # the venues' instruments are not loaded yet
    again.say("/status", BOB)
    again.say("/status_arb")
    assert list(again.monitors.records) == ["m00001"]
    assert again.router.restore_monitors() == []
    assert list(again.registry.monitors) == ["m00001"]


def test_a_fired_one_shot_is_forgotten_at_once_and_frees_its_slot(tmp_path: Path) -> None:
    bot = Bot(tmp_path, config=BotConfig(max_arb_per_user=1))
    changes = watch(bot)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3 once")
    events = open_btc(bot)
    assert [type(e) for e in events] == [ArbOpened]
    bot.monitors.finished(bot.arb.finished)  # what the signal service does after evaluating
    assert changes == [("added", "m00001"), ("finished", "m00001")]
    assert bot.monitors.records == {}
    assert bot.monitors.frozen()() == []
    assert [r.id for r in bot.store.previous[ALICE.user_id]] == ["m00001"]  # reusable
    again = restarted(bot, tmp_path)
    assert again.router.restore_monitors() == []
    assert again.registry.monitors == {}  # not run again, so it cannot fire twice
    assert text(bot.say("/monitor_arb ETH-USDT binance okx 0.3")).startswith("✅")
    bot.monitors.finished(["m00001", "nope"])  # twice, or unknown: nothing happens
    assert changes[2:] == [("added", "m00002")]


def test_a_new_threshold_keeps_the_open_opportunity_unannounced(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    changes = watch(bot)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    opened_at = bot.now
    assert [type(e) for e in open_btc(bot)] == [ArbOpened]
    bot.now += 5
    assert text(bot.say("/threshold m00001 0.5")).startswith("✅ Threshold set to 0.50 %:")
    assert text(bot.say("/config_arb m00001 size=2000")).startswith("✅ Changed:")
    assert bot.published == []  # no second "opened" alert
    assert changes == [("added", "m00001"), ("changed", "m00001"), ("changed", "m00001")]
    assert bot.arb.monitors["m00001"].min_edge_pct == 0.5
    assert bot.monitors.records["m00001"].spec["notional"] == 2000.0
    bot.now += 1
    assert bot.arb.evaluate(BTC, bot.now) == []  # still open: neither opened nor closed
    (still,) = bot.arb.open_opportunities("m00001")
    assert still.opened_at == opened_at
    bot.say("/threshold m00001 2")  # above the edge now: it closes on the next evaluation
    bot.now += 1
    (closed,) = bot.arb.evaluate(BTC, bot.now)
    assert isinstance(closed, ArbClosed)
    assert closed.opened_at == opened_at


def test_config_market_changes_the_view_in_place(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    changes = watch(bot)
    bot.say("/view_market BTC-USDT binance okx")
    assert text(bot.say("/config_market m00001 every=10s")).startswith("✅ Changed:")
    assert changes == [("added", "m00001"), ("changed", "m00001")]
    view = bot.registry.monitors["m00001"]
    assert isinstance(view, MarketViewMonitor)
    assert view.cooldown_s == 10.0
    assert bot.monitors.records["m00001"].spec["cooldown_s"] == 10.0


def test_a_monitor_not_restored_can_still_be_changed(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    again = restarted(bot, tmp_path)  # restore_monitors not run: it is not in the registry
    assert text(again.say("/threshold m00001 0.5")).startswith("✅ Threshold set to 0.50 %:")
    assert again.arb.monitors["m00001"].min_edge_pct == 0.5


def test_a_damaged_entry_in_the_state_file_is_skipped_alone(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    bot.say("/monitor_arb ETH-USDT binance okx 0.3")
    bot.say("/stop_arb m00002")
    saved = json.loads(json.dumps(bot.store.to_dict()))
    monitors = json.loads(json.dumps(bot.monitors.frozen()()))
    good_record = monitors[0]
    (good_previous,) = saved["previous"]
    saved["users"].append({"user_id": "not a number"})
    monitors.append({**good_record, "id": "m00009", "symbols": ["??"]})
    saved["previous"] = [
        {"monitors": []},  # no user id
        {"user_id": "x", "monitors": []},
        "junk",
        {"user_id": 33, "monitors": [{"id": "broken"}, good_record]},
        good_previous,
    ]
    saved["flows"] = 5
    store = UserStore.from_dict(saved)
    assert list(store.users) == [ALICE.user_id]
    # Definitions are checked when the state loads: the damaged one is dropped, reported.
    records, problems = records_from_entries(monitors)
    assert [r.id for r in records] == ["m00001"]
    assert len(problems) == 1
    assert problems[0].startswith("invalid monitor m00009: ")
    assert problems[0].endswith("(damaged, dropped)")
    restarted = Bot(tmp_path, store=store, records=records)
    assert restarted.router.restore_monitors() == []
    assert list(restarted.registry.monitors) == ["m00001"]
    assert {uid: [r.id for r in kept] for uid, kept in store.previous.items()} == {
        33: ["m00001"],
        ALICE.user_id: ["m00002"],
    }
    assert store.flows == {}
    assert isinstance(store.previous[ALICE.user_id][0], MonitorRecord)
