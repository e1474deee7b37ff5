"""What happened to each alert of a chat (the last 100), behind ``/alerts``."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from goquant_bot.logging import get_logger

log = get_logger(__name__)
HISTORY_PER_CHAT = 100


class Outcome(StrEnum):
    SENT = "sent"
    MAYBE_SENT = "maybe sent"  # timed out: it may have been delivered, it is not resent
    MERGED = "merged"  # superseded by a newer state of the same alert before it was sent
    DROPPED = "dropped"
    MUTED = "muted"
    SNOOZED = "snoozed"
    HELD_QUIET = "held for quiet hours"
    COOLDOWN = "held for cooldown"
    CAPPED = "capped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One fact about one alert: when, which monitor and subject, what happened and why."""

    ts: float
    monitor_id: str
    subject: str
    outcome: Outcome
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ts": self.ts,
            "monitor": self.monitor_id,
            "subject": self.subject,
            "outcome": self.outcome.value,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HistoryEntry:
        return cls(
            float(data["ts"]),
            str(data["monitor"]),
            str(data["subject"]),
            Outcome(data["outcome"]),
            str(data.get("detail", "")),
        )


class AlertHistory:
    """A bounded log per chat; the oldest entries fall off."""

    def __init__(self, per_chat: int = HISTORY_PER_CHAT) -> None:
        self.per_chat = per_chat
        self.revision = 0  # bumped by every change: the state file is due for a save
        self._chats: dict[int, deque[HistoryEntry]] = {}

    def record(
        self,
        chat_id: int,
        ts: float,
        monitor_id: str,
        subject: str,
        outcome: Outcome,
        detail: str = "",
    ) -> None:
        entries = self._chats.get(chat_id)
        if entries is None:
            entries = self._chats[chat_id] = deque(maxlen=self.per_chat)
        entries.append(HistoryEntry(ts, monitor_id, subject, outcome, detail))
        self.revision += 1

    def recent(self, chat_id: int, limit: int | None = None) -> list[HistoryEntry]:
        """Newest first."""
        entries = list(reversed(self._chats.get(chat_id, ())))
        return entries if limit is None else entries[:limit]

    def move(self, old_chat: int, new_chat: int) -> None:
        """A migrated group keeps its history under its new id."""
        moved = self._chats.pop(old_chat, None)
        if moved is None:
            return
        target = self._chats.setdefault(new_chat, deque(maxlen=self.per_chat))
        merged = sorted([*moved, *target], key=lambda e: e.ts)
        target.clear()
        target.extend(merged)
        self.revision += 1

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        """Plain data for the state file (oldest first per chat)."""
        return {str(chat): [e.to_dict() for e in entries] for chat, entries in self._chats.items()}

    def load(self, data: dict[str, Iterable[dict[str, Any]]]) -> None:
        """Entries from the state file; an unreadable one is logged and skipped."""
        try:
            chats = list(data.items())
        except (AttributeError, TypeError):
            log.warning("alert_history_not_loaded", data=repr(data)[:200])
            return
        for chat, entries in chats:
            try:
                chat_id, loaded = int(chat), list(entries)
            except (TypeError, ValueError):
                log.warning("alert_history_chat_skipped", chat=repr(chat)[:64])
                continue
            target = self._chats.setdefault(chat_id, deque(maxlen=self.per_chat))
            for entry in loaded:
                try:
                    target.append(HistoryEntry.from_dict(entry))
                except (AttributeError, KeyError, TypeError, ValueError) as exc:
                    log.warning("alert_history_entry_skipped", chat_id=chat_id, error=str(exc))
