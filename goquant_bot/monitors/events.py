"""What the monitor service announces: plain frozen dataclasses with a stable dict form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from goquant_bot.domain.events import Event


@dataclass(frozen=True, slots=True)
class MonitorEvent:
    """A change of one monitor; ``definition`` is its record in the schema's dict form."""

    topic: ClassVar[str] = "monitor"
    monitor_id: str
    chat_id: int
    kind: str  # "arbitrage" or "market_view" (the schema's kinds)
    definition: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True, slots=True)
class MonitorAdded(MonitorEvent):
    topic: ClassVar[str] = "monitor.added"


@dataclass(frozen=True, slots=True)
class MonitorChanged(MonitorEvent):
    topic: ClassVar[str] = "monitor.changed"


@dataclass(frozen=True, slots=True)
class MonitorPaused(MonitorEvent):
    """Stopped running, kept: by its user, or because its chat blocked the bot."""

    topic: ClassVar[str] = "monitor.paused"


@dataclass(frozen=True, slots=True)
class MonitorResumed(MonitorEvent):
    topic: ClassVar[str] = "monitor.resumed"


@dataclass(frozen=True, slots=True)
class MonitorRestored(MonitorEvent):
    """Running again as it was: after a restart, a venue's late listing, or a chat's move."""

    topic: ClassVar[str] = "monitor.restored"


@dataclass(frozen=True, slots=True)
class MonitorRemoved(MonitorEvent):
    """Stopped by its user (or an admin): forgotten."""

    topic: ClassVar[str] = "monitor.removed"


@dataclass(frozen=True, slots=True)
class MonitorFinished(MonitorEvent):
    """A one-shot monitor fired: forgotten, but its last alert is still to be delivered."""

    topic: ClassVar[str] = "monitor.finished"


@dataclass(frozen=True, slots=True)
class ChatBlocked:
    """The chat blocked or removed the bot: its monitors are paused, its alerts stop."""

    topic: ClassVar[str] = "chat.blocked"
    chat_id: int
    paused: int

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True, slots=True)
class ChatMigrated:
    """A group became a supergroup: its monitors now alert ``new_chat_id``."""

    topic: ClassVar[str] = "chat.migrated"
    old_chat_id: int
    new_chat_id: int

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True, slots=True)
class EngineSignals:
    """A batch of engine events (opportunities opened or closed, market-view signals)."""

    topic: ClassVar[str] = "engine.signals"
    events: Sequence[Event]

    def to_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "events": [event.to_report() for event in self.events]}


AnyEvent = MonitorEvent | ChatBlocked | ChatMigrated | EngineSignals
MONITOR_EVENTS: tuple[type[MonitorEvent], ...] = (
    MonitorAdded,
    MonitorChanged,
    MonitorPaused,
    MonitorResumed,
    MonitorRestored,
    MonitorRemoved,
    MonitorFinished,
)
_BY_TOPIC: dict[str, type[MonitorEvent]] = {cls.topic: cls for cls in MONITOR_EVENTS}


def event_from_dict(data: Mapping[str, Any]) -> MonitorEvent | ChatBlocked | ChatMigrated:
    """The inverse of ``to_dict`` for the service's own events; KeyError on an unknown topic."""
    topic = data["topic"]
    if topic == ChatBlocked.topic:
        return ChatBlocked(int(data["chat_id"]), int(data["paused"]))
    if topic == ChatMigrated.topic:
        return ChatMigrated(int(data["old_chat_id"]), int(data["new_chat_id"]))
    cls = _BY_TOPIC[topic]
    return cls(
        str(data["monitor_id"]), int(data["chat_id"]), str(data["kind"]), dict(data["definition"])
    )


def _plain(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else value


def _as_dict(event: Any) -> dict[str, Any]:
    """An event's stable form: its topic and its fields as plain values."""
    return {"topic": event.topic, **{f.name: _plain(getattr(event, f.name)) for f in fields(event)}}
