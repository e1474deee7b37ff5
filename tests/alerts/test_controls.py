"""Quiet hours in the user's zone (DST included), snooze, mute, cooldown, hourly cap."""

from __future__ import annotations

import pytest

from goquant_bot.alerts.controls import (
    Action,
    ChatControls,
    is_muted,
    judge_chat,
    local_clock,
    quiet_until,
)
from goquant_bot.alerts.history import Outcome
from goquant_bot.domain.users import ChatPrefs, QuietHours
from tests.alerts.scripted import utc

BERLIN_NIGHTS = QuietHours("22:00", "07:00", "Europe/Berlin")


def test_quiet_hours_end_at_local_time_across_spring_forward() -> None:
    # Berlin, night of 30-31 March 2024: 02:00 CET became 03:00 CEST.
    assert quiet_until(BERLIN_NIGHTS, utc("2024-03-30T20:59:00")) is None  # 21:59 CET
    ends = quiet_until(BERLIN_NIGHTS, utc("2024-03-30T21:00:00"))  # 22:00 CET
    assert ends == utc("2024-03-31T05:00:00")  # 07:00 CEST, not 06:00 UTC
    assert quiet_until(BERLIN_NIGHTS, utc("2024-03-31T04:59:00")) == ends  # 06:59 CEST
    assert quiet_until(BERLIN_NIGHTS, utc("2024-03-31T05:00:00")) is None


def test_quiet_hours_end_at_local_time_across_fall_back() -> None:
    # New York, 3 November 2024: 02:00 EDT became 01:00 EST.
    nights = QuietHours("23:00", "06:00", "America/New_York")
    ends = quiet_until(nights, utc("2024-11-03T03:30:00"))  # 23:30 EDT on the 2nd
    assert ends == utc("2024-11-03T11:00:00")  # 06:00 EST: a night one hour longer
    assert quiet_until(nights, utc("2024-11-03T10:30:00")) == ends  # 05:30 EST
    assert quiet_until(nights, utc("2024-11-03T11:00:00")) is None


def test_the_same_instant_is_quiet_in_one_zone_and_not_in_another() -> None:
    instant = utc("2024-06-01T14:30:00")  # 23:30 in Tokyo, 15:30 in London
    tokyo = QuietHours("23:00", "07:00", "Asia/Tokyo")
    london = QuietHours("23:00", "07:00", "Europe/London")
    assert quiet_until(tokyo, instant) == utc("2024-06-01T22:00:00")
    assert quiet_until(london, instant) is None


def test_daytime_quiet_hours_and_empty_ones() -> None:
    lunch = QuietHours("12:00", "13:30", "UTC")
    assert quiet_until(lunch, utc("2024-01-05T12:15:00")) == utc("2024-01-05T13:30:00")
    assert quiet_until(lunch, utc("2024-01-05T13:30:00")) is None
    assert quiet_until(lunch, utc("2024-01-05T11:59:59")) is None
    assert quiet_until(QuietHours("08:00", "08:00"), utc("2024-01-05T08:00:00")) is None
    assert quiet_until(QuietHours("8h", "9h"), utc("2024-01-05T08:30:00")) is None
    assert quiet_until(None, 0.0) is None


def test_an_unknown_zone_falls_back_to_utc() -> None:
    odd = QuietHours("00:00", "01:00", "Mars/Olympus")
    assert quiet_until(odd, utc("2024-01-05T00:30:00")) == utc("2024-01-05T01:00:00")


@pytest.mark.parametrize(
    ("prefs", "now", "action", "outcome", "silent"),
    [
        (ChatPrefs(1), utc("2024-03-31T03:00:00"), Action.SEND, None, False),
        (ChatPrefs(1, silent=True), 0.0, Action.SEND, None, True),
        (ChatPrefs(1, snoozed_until=500.0), 100.0, Action.HOLD, Outcome.SNOOZED, False),
        (ChatPrefs(1, snoozed_until=500.0), 500.0, Action.SEND, None, False),
        (
            ChatPrefs(1, quiet_hours=BERLIN_NIGHTS),
            utc("2024-03-31T03:00:00"),
            Action.SEND,
            None,
            True,
        ),
        (
            ChatPrefs(1, quiet_hours=QuietHours("22:00", "07:00", "Europe/Berlin", digest=True)),
            utc("2024-03-31T03:00:00"),
            Action.HOLD,
            Outcome.HELD_QUIET,
            False,
        ),
    ],
)
def test_chat_verdicts(
    prefs: ChatPrefs, now: float, action: Action, outcome: Outcome | None, silent: bool
) -> None:
    verdict = judge_chat(prefs, now)
    assert (verdict.action, verdict.outcome, verdict.silent) == (action, outcome, silent)


def test_digest_holds_until_the_local_end_of_quiet_hours() -> None:
    prefs = ChatPrefs(1, quiet_hours=QuietHours("22:00", "07:00", "Europe/Berlin", digest=True))
    assert judge_chat(prefs, utc("2024-03-31T03:00:00")).until == utc("2024-03-31T05:00:00")


def test_mute_all_or_one_monitor() -> None:
    assert is_muted(ChatPrefs(1, muted=True), "m1")
    assert is_muted(ChatPrefs(1, muted_monitors=frozenset({"m1"})), "m1")
    assert not is_muted(ChatPrefs(1, muted_monitors=frozenset({"m1"})), "m2")


def test_cooldown_per_monitor_and_the_hourly_cap() -> None:
    prefs = ChatPrefs(1, cooldown_s=60.0, hourly_cap=3)
    controls = ChatControls()
    assert controls.cooldown_until(prefs, "m1") == 0.0
    assert controls.room(prefs, 0.0) == 3
    controls.delivered([("m1",), ("m2",)], 100.0)
    assert controls.cooldown_until(prefs, "m1") == 160.0
    assert controls.cooldown_until(prefs, "m3") == 0.0
    controls.delivered([("m1",)], 200.0)
    assert controls.room(prefs, 250.0) == 0
    # A combined alert counts once for the hour and starts each of its monitors' cooldowns.
    combined = ChatControls()
    combined.delivered([("m1", "m2")], 100.0)
    assert combined.room(prefs, 150.0) == 2
    assert combined.cooldown_until(prefs, "m2") == 160.0
    assert controls.cap_frees_at() == 3_700.0
    assert controls.room(prefs, 3_700.0) == 2
    assert controls.room(ChatPrefs(1), 0.0) is None


def test_local_clock_uses_the_chat_zone() -> None:
    prefs = ChatPrefs(1, quiet_hours=QuietHours("22:00", "07:00", "Asia/Tokyo"))
    assert local_clock(utc("2024-06-01T14:30:00"), prefs) == "23:30"
    assert local_clock(utc("2024-06-01T14:30:00"), ChatPrefs(1)) == "14:30"
