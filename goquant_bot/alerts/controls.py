"""A chat's own rules for receiving alerts: mute, snooze, quiet hours, cooldown, hourly cap.

Pure: the time comes in as ``now`` (epoch seconds). Quiet hours are wall-clock times in the
user's IANA zone, so a DST change moves them in UTC as it should.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as wall_time
from enum import Enum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from goquant_bot.alerts.history import Outcome
from goquant_bot.domain.users import ChatPrefs, QuietHours

HOUR_S = 3_600.0


def zone(name: str) -> ZoneInfo:
    """The named zone; an unknown name (validated elsewhere) falls back to UTC."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def quiet_until(quiet: QuietHours | None, now: float) -> float | None:
    """End (epoch) of the quiet period ``now`` falls in; None outside quiet hours."""
    if quiet is None:
        return None
    try:
        start, end = _minutes(quiet.start), _minutes(quiet.end)
    except ValueError:
        return None
    if start == end:
        return None
    tz = zone(quiet.timezone)
    local = datetime.fromtimestamp(now, tz)
    minute = local.hour * 60 + local.minute + local.second / 60
    inside = start <= minute < end if start < end else (minute >= start or minute < end)
    if not inside:
        return None
    end_day = local.date() if minute < end else local.date() + timedelta(days=1)
    end_local = datetime.combine(end_day, wall_time(end // 60, end % 60), tzinfo=tz)
    ends = end_local.timestamp()
    return ends if ends > now else None


def local_clock(now: float, prefs: ChatPrefs) -> str:
    """``HH:MM`` in the chat's zone (its quiet-hours zone, UTC otherwise)."""
    tz = zone(prefs.quiet_hours.timezone) if prefs.quiet_hours else UTC
    return datetime.fromtimestamp(now, tz).strftime("%H:%M")


class Action(Enum):
    SEND = "send"
    HOLD = "hold"
    DROP = "drop"


@dataclass(frozen=True, slots=True)
class Verdict:
    action: Action
    outcome: Outcome | None = None  # what the history records for a hold or a drop
    until: float = 0.0  # HOLD: when to look again
    silent: bool = False  # SEND: without a notification sound
    detail: str = ""


SEND = Verdict(Action.SEND)
SEND_SILENT = Verdict(Action.SEND, silent=True)


def judge_chat(prefs: ChatPrefs, now: float) -> Verdict:
    """The chat-wide rules for a new message: snooze, then quiet hours."""
    if now < prefs.snoozed_until:
        return Verdict(Action.HOLD, Outcome.SNOOZED, prefs.snoozed_until)
    ends = quiet_until(prefs.quiet_hours, now)
    if ends is not None and prefs.quiet_hours is not None:
        if prefs.quiet_hours.digest:
            return Verdict(Action.HOLD, Outcome.HELD_QUIET, ends)
        return SEND_SILENT
    return SEND_SILENT if prefs.silent else SEND


def is_muted(prefs: ChatPrefs, monitor_id: str) -> bool:
    return prefs.muted or monitor_id in prefs.muted_monitors


@dataclass(slots=True)
class ChatControls:
    """What the rules remember about one chat: the last alert per monitor, the hour's count."""

    last_alert: dict[str, float] = field(default_factory=dict)
    sent: deque[float] = field(default_factory=deque)  # alert times within the last hour
    capped: int = 0  # alerts skipped by the cap since the last summary
    cap_notice_until: float = 0.0  # the cap notice of the current window was sent

    def cooldown_until(self, prefs: ChatPrefs, monitor_id: str) -> float:
        last = self.last_alert.get(monitor_id)
        return 0.0 if last is None or prefs.cooldown_s <= 0 else last + prefs.cooldown_s

    def room(self, prefs: ChatPrefs, now: float) -> int | None:
        """Alerts the hourly cap still allows now; None without a cap."""
        if prefs.hourly_cap <= 0:
            return None
        while self.sent and self.sent[0] <= now - HOUR_S:
            self.sent.popleft()
        return max(prefs.hourly_cap - len(self.sent), 0)

    def cap_frees_at(self) -> float:
        return self.sent[0] + HOUR_S if self.sent else 0.0

    def delivered(self, alerts: list[tuple[str, ...]], now: float) -> None:
        """Alerts went out now: each starts its monitors' cooldowns and counts once for the
        hour (a combined alert names several monitors)."""
        for monitor_ids in alerts:
            for monitor_id in monitor_ids:
                self.last_alert[monitor_id] = now
            self.sent.append(now)
