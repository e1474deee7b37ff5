"""The dispatcher and the service's events: topics, order, failures, the stable dict form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from goquant_bot.domain.instruments import InstrumentKey
from goquant_bot.monitors.dispatch import ALL, LocalDispatcher
from goquant_bot.monitors.events import (
    ChatBlocked,
    ChatMigrated,
    MonitorAdded,
    MonitorPaused,
    MonitorRemoved,
    event_from_dict,
)
from tests.bot.harness import ALICE, BTC, OK, Bot, text


def test_delivery_by_type_topic_prefix_and_all_in_subscription_order() -> None:
    events = LocalDispatcher()
    seen: list[tuple[str, str]] = []
    events.subscribe(MonitorAdded, lambda e: seen.append(("type", e.topic)))
    events.subscribe("monitor.*", lambda e: seen.append(("prefix", e.topic)))
    events.subscribe(ALL, lambda e: seen.append(("all", e.topic)))
    events.subscribe("chat.blocked", lambda e: seen.append(("topic", e.topic)))
    events.publish(MonitorAdded("m1", 11, "arbitrage", {"id": "m1"}))
    events.publish(ChatBlocked(11, 2))
    assert seen == [
        ("type", "monitor.added"),
        ("prefix", "monitor.added"),
        ("all", "monitor.added"),
        ("topic", "chat.blocked"),
        ("all", "chat.blocked"),
    ]


def test_a_failing_consumer_does_not_keep_the_event_from_the_others() -> None:
    events = LocalDispatcher()
    seen: list[Any] = []

    def broken(event: Any) -> None:
        raise RuntimeError("bug")

    events.subscribe(ChatBlocked, broken)
    events.subscribe(ChatBlocked, seen.append)
    events.publish(ChatBlocked(5, 0))
    assert seen == [ChatBlocked(5, 0)]


def test_events_have_a_stable_dict_form() -> None:
    for event in (
        MonitorRemoved("m1", -100, "market_view", {"id": "m1", "kind": "market_view"}),
        ChatBlocked(7, 3),
        ChatMigrated(-1, -100_1),
    ):
        assert event_from_dict(event.to_dict()) == event
    assert MonitorPaused("m", 1, "arbitrage", {}).to_dict() == {
        "topic": "monitor.paused",
        "monitor_id": "m",
        "chat_id": 1,
        "kind": "arbitrage",
        "definition": {},
    }


def test_the_service_announces_each_change_and_releases_books_while_paused(
    tmp_path: Path,
) -> None:
    bot = Bot(tmp_path)
    seen: list[Any] = []
    bot.events.subscribe(ALL, seen.append)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    key = InstrumentKey(OK, BTC)
    assert bot.hub.refcount(key) == 1
    paused = bot.monitors.pause("m00001")
    assert paused is not None
    assert paused.paused
    assert bot.hub.refcount(key) == 0  # its books are released
    assert bot.registry.monitors == {}
    assert bot.monitors.pause("m00001") == paused  # twice: nothing more happens
    resumed = bot.monitors.resume("m00001")
    assert resumed is not None
    assert not resumed.paused
    assert bot.hub.refcount(key) == 1
    assert [e.topic for e in seen] == ["monitor.added", "monitor.paused", "monitor.resumed"]
    assert {e.chat_id for e in seen} == {ALICE.chat_id}


def test_pause_all_and_resume_all_without_monitors_say_so(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    for command in ("/pause all", "/resume all"):
        out = text(bot.say(command))
        assert "There is no monitor here that you can" in out
        assert "/status_arb" in out
