"""The outbox: the latest state per (chat, monitor, subject), folded as events arrive.

``publish`` is synchronous and costs O(1) per event: Telegram being slow or down never slows
the engines, and a chat's queue is bounded by its keys, not by the number of events.

Monitors of one chat that match the same opportunity (symbol, venues and size class) share one
alert: the first one's key, with the others as aliases of it until the alert is finished.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from goquant_bot.alerts.history import AlertHistory, Outcome
from goquant_bot.alerts.state import (
    AlertKey,
    AlertKind,
    Payload,
    PendingAlert,
    ViewUpdate,
    subject_of,
)
from goquant_bot.domain.events import ArbClosed, ArbOpened
from goquant_bot.logging import get_logger

log = get_logger(__name__)
ClosedUnseen = Literal["summary", "drop"]
# Where the engines and the app find the event types they publish.
__all__ = ["ChatBox", "ClosedUnseen", "LiveMessage", "Outbox", "Payload", "ViewUpdate"]
# What makes two monitors' openings the same figures besides symbol and venues: their size
# (the app gives the engine's size tier and fees; the event's notional by default).
SizeClass = Callable[[ArbOpened], str]


def notional_class(event: ArbOpened) -> str:
    return f"{event.notional:.6g}"


@dataclass(slots=True, eq=False)
class LiveMessage:
    """A sent message still edited in place; ``texts`` keeps each part's last rendering."""

    message_id: int
    parts: list[AlertKey | str]
    texts: dict[AlertKey, str] = field(default_factory=dict)
    last_text: str | None = None  # None: unknown (an edit timed out, or restored)
    edited_at: float = float("-inf")
    refresh_at: float = float("inf")
    plain: bool = False


@dataclass(slots=True)
class ChatBox:
    items: dict[AlertKey, PendingAlert] = field(default_factory=dict)
    messages: dict[int, LiveMessage] = field(default_factory=dict)
    restored: dict[AlertKey, int] = field(default_factory=dict)  # from the state file
    # Combined arbitrage alerts: (subject, size class) -> the alert's key, a member's own key
    # -> the alert's key, the alert's key -> its (subject, size class).
    groups: dict[tuple[str, str], AlertKey] = field(default_factory=dict)
    aliases: dict[AlertKey, AlertKey] = field(default_factory=dict)
    classes: dict[AlertKey, tuple[str, str]] = field(default_factory=dict)
    # A restored combined alert's monitors, each still open or not (from the state file).
    restored_open: dict[AlertKey, dict[str, bool]] = field(default_factory=dict)

    def alias(self, key: AlertKey, group: tuple[str, str] | None) -> AlertKey:
        """The alert a monitor's arbitrage event belongs to (``group``: an opening's class)."""
        if (found := self.aliases.get(key)) is not None:
            return found
        if group is None:
            return key
        lead = self.groups.get(group)
        if lead is None or (lead not in self.items and lead not in self.restored):
            self.groups[group], self.classes[key], lead = key, group, key
        self.aliases[key] = lead
        return lead

    def ungroup(self, key: AlertKey) -> None:
        """The alert is finished: its monitors' next opening is a new alert."""
        group = self.classes.pop(key, None)
        if group is not None and self.groups.get(group) == key:
            del self.groups[group]
        for member in [m for m, lead in self.aliases.items() if lead == key]:
            del self.aliases[member]
        self.restored_open.pop(key, None)


class Outbox:
    """Pending and live alerts of every chat. ``touched`` lists the chats changed since read."""

    def __init__(
        self,
        history: AlertHistory,
        *,
        closed_unseen: ClosedUnseen = "summary",
        max_keys_per_chat: int = 500,
        size_class: SizeClass = notional_class,
    ) -> None:
        self.history = history
        self.size_class = size_class
        self.closed_unseen = closed_unseen
        self.max_keys_per_chat = max_keys_per_chat
        self.chats: dict[int, ChatBox] = {}
        self.touched: set[int] = set()

    def publish(self, events: Iterable[Payload]) -> None:
        for event in events:
            subject, kind = subject_of(event)
            key = AlertKey(event.owner, event.monitor_id, subject)
            box = self.chats.get(key.chat_id)
            if box is None:
                box = self.chats[key.chat_id] = ChatBox()
            if kind is AlertKind.ARBITRAGE:
                group = (subject, self.size_class(event)) if isinstance(event, ArbOpened) else None
                key = box.alias(key, group)
            item = box.items.get(key)
            if item is None:
                self._first(box, key, event)
            else:
                self._fold(box, item, event)
            self.touched.add(key.chat_id)

    def _first(self, box: ChatBox, key: AlertKey, event: Payload) -> None:
        if isinstance(event, ViewUpdate) and event.stopped:
            return
        named = box.restored_open.get(key)
        if named is not None and isinstance(event, ArbClosed) and event.monitor_id in named:
            named[event.monitor_id] = False
            if any(named.values()):
                return  # another monitor of its restored alert still has it open
        if isinstance(event, ArbClosed) and key not in box.restored:
            box.ungroup(key)
            self.history.record(
                key.chat_id,
                event.ts,
                key.monitor_id,
                key.subject,
                Outcome.DROPPED,
                "closed, its opening was not shown",
            )
            return
        item = PendingAlert(key, event)
        if len(box.items) >= self.max_keys_per_chat:
            self._record(item, Outcome.DROPPED, "too many pending alerts in this chat")
            box.ungroup(key)
            return
        if named:
            item.adopt(named)
        box.restored_open.pop(key, None)
        box.items[key] = item
        restored = box.restored.pop(key, None)
        if restored is not None and restored in box.messages:
            item.follow_up(restored)
        elif isinstance(event, ArbClosed):
            item.follow_up()  # its opening was shown before a restart

    def _fold(self, box: ChatBox, item: PendingAlert, event: Payload) -> None:
        ts = item.event.ts
        if item.fold(event, drop_unseen=self.closed_unseen == "drop"):
            self.history.record(
                item.key.chat_id,
                ts,
                item.key.monitor_id,
                item.key.subject,
                Outcome.MERGED,
                "superseded by a newer state before sending",
            )
        if isinstance(event, ArbClosed):
            self.settle(item)
        elif isinstance(event, ViewUpdate) and event.stopped and item.unbound:
            del box.items[item.key]

    def settle(self, item: PendingAlert) -> None:
        """A close whose opening never went out is 'opened and closed unseen' (or dropped)."""
        if item.settle() and self.closed_unseen == "drop":
            event = item.event
            lasted = event.duration_s if isinstance(event, ArbClosed) else 0.0
            self._record(item, Outcome.DROPPED, f"opened and closed within {lasted:.0f} s")
            self.remove(item)

    def remove(self, item: PendingAlert) -> None:
        box = self.chats.get(item.key.chat_id)
        if box is not None and box.items.get(item.key) is item:
            del box.items[item.key]
            box.ungroup(item.key)

    def _record(self, item: PendingAlert, outcome: Outcome, detail: str) -> None:
        key = item.key
        self.history.record(
            key.chat_id, item.event.ts, key.monitor_id, key.subject, outcome, detail
        )

    def note(self, item: PendingAlert, outcome: Outcome, detail: str = "") -> None:
        """Record what happened to the alert in its chat's history."""
        self._record(item, outcome, detail)

    def drop(self, item: PendingAlert, outcome: Outcome, detail: str = "") -> None:
        """Record why the alert goes no further, and forget it."""
        self._record(item, outcome, detail)
        self.remove(item)

    def drop_message(self, chat_id: int, message_id: int | None) -> None:
        """A live message that can no longer be edited (deleted, or an edit refused)."""
        box = self.chats.get(chat_id)
        if box is not None and message_id is not None:
            box.messages.pop(message_id, None)

    def forget_monitor(self, chat_id: int, monitor_id: str, *, keep_view: bool = False) -> None:
        """The monitor was removed: its waiting alerts go; its messages stay as last shown
        (``keep_view``: but its live view stays, for its last edit)."""
        box = self.chats.get(chat_id)
        if box is None:
            return
        for item in [i for i in box.items.values() if monitor_id in i.members]:
            if keep_view and item.kind is AlertKind.VIEW:
                continue
            if len(item.members) > 1 and item.leave(monitor_id):
                # Another monitor of the combined alert keeps it open: it goes on for them.
                box.aliases.pop(AlertKey(chat_id, monitor_id, item.key.subject), None)
                continue
            if item.dirty and not item.in_flight:
                self.drop(item, Outcome.DROPPED, "monitor removed")
            else:
                self.remove(item)
        for named in box.restored_open.values():
            named.pop(monitor_id, None)
        self.touched.add(chat_id)

    def migrate(self, old_chat: int, new_chat: int) -> None:
        """A group became a supergroup: its pending alerts and live messages move along."""
        box = self.chats.pop(old_chat, None)
        if box is None:
            return
        target = self.chats.setdefault(new_chat, ChatBox())

        def moved(key: AlertKey) -> AlertKey:
            return AlertKey(new_chat, key.monitor_id, key.subject)

        for item in box.items.values():
            target.items[item.rekey(new_chat)] = item
        for group, lead in box.groups.items():
            target.groups[group] = moved(lead)
        for member, lead in box.aliases.items():
            target.aliases[moved(member)] = moved(lead)
        for lead, group in box.classes.items():
            target.classes[moved(lead)] = group
        for lead, named in box.restored_open.items():
            target.restored_open[moved(lead)] = named
        for message_id, message in box.messages.items():
            message.parts = [moved(p) if isinstance(p, AlertKey) else p for p in message.parts]
            message.texts = {moved(k): text for k, text in message.texts.items()}
            target.messages[message_id] = message
        for key, message_id in box.restored.items():
            target.restored[moved(key)] = message_id
        self.touched.discard(old_chat)
        self.touched.add(new_chat)

    def pending(self) -> int:
        """Keys waiting for a delivery."""
        return sum(item.dirty for box in self.chats.values() for item in box.items.values())

    def message_ids(self) -> list[dict[str, Any]]:
        """Live messages as plain data, so a restart edits them instead of sending anew."""
        saved = []
        for chat_id, box in self.chats.items():
            for message in box.messages.values():
                live = [
                    p
                    for p in message.parts
                    if isinstance(p, AlertKey)
                    and (
                        ((item := box.items.get(p)) is not None and item.live)
                        # restored, and no news of it since: still open for all we know
                        or (item is None and box.restored.get(p) == message.message_id)
                    )
                ]
                if not live:
                    continue
                saved.append(
                    {
                        "chat_id": chat_id,
                        "message_id": message.message_id,
                        "parts": [
                            _saved_part(box, p, text)
                            for p in message.parts
                            if isinstance(p, AlertKey) and (text := message.texts.get(p))
                        ],
                    }
                )
        return saved

    def restore_message_ids(self, saved: Iterable[dict[str, Any]]) -> None:
        """Live messages from the state file; an unreadable entry is logged and skipped."""
        try:
            entries = list(saved)
        except TypeError:
            log.warning("alert_messages_not_restored", saved=repr(saved)[:200])
            return
        for entry in entries:
            try:
                chat_id, message, combined = _saved_message(entry)
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("alert_message_not_restored", entry=repr(entry)[:200], error=str(exc))
                continue
            box = self.chats.setdefault(chat_id, ChatBox())
            for key in message.texts:
                box.restored[key] = message.message_id
            for key, (size, named) in combined.items():
                box.groups[(key.subject, size)] = key
                box.classes[key] = (key.subject, size)
                box.restored_open[key] = named
                for monitor_id in named:
                    box.aliases[AlertKey(chat_id, monitor_id, key.subject)] = key
            box.messages[message.message_id] = message


def _saved_part(box: ChatBox, key: AlertKey, text: str) -> dict[str, Any]:
    """A message part as plain data; a combined alert keeps its class and open monitors."""
    part: dict[str, Any] = {"monitor": key.monitor_id, "subject": key.subject, "text": text}
    item, group = box.items.get(key), box.classes.get(key)
    if group is None:
        return part
    if item is not None and len(item.members) > 1:
        named = {m: m in item.open_members for m in item.members}
    elif item is None and key in box.restored_open:
        named = box.restored_open[key]
    else:
        return part
    part["size"] = group[1]
    part["members"] = sorted(m for m, is_open in named.items() if is_open)
    part["named"] = sorted(named)
    return part


Combined = dict[AlertKey, tuple[str, dict[str, bool]]]  # size class, monitors and if open


def _saved_message(entry: dict[str, Any]) -> tuple[int, LiveMessage, Combined]:
    chat_id, message_id = int(entry["chat_id"]), int(entry["message_id"])
    message = LiveMessage(message_id, [])
    combined: Combined = {}
    for part in entry["parts"]:
        key = AlertKey(chat_id, str(part["monitor"]), str(part["subject"]))
        message.parts.append(key)
        message.texts[key] = str(part["text"])
        if "members" in part:
            still_open = {str(m) for m in part["members"]}
            named = sorted({*still_open, *(str(m) for m in part.get("named", ()))})
            combined[key] = (str(part["size"]), {m: m in still_open for m in named})
    return chat_id, message, combined
