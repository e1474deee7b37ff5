"""A chat's preferences and delivery controls, shared by the commands and alert delivery."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local times ``HH:MM`` in an IANA zone; ``digest``: hold alerts until the end instead of
    delivering them silently."""

    start: str
    end: str
    timezone: str = "UTC"
    digest: bool = False


@dataclass(frozen=True, slots=True)
class ChatPrefs:
    """Everything a user (or a group) chose about receiving alerts. Replaced, never mutated."""

    chat_id: int
    active: bool = True  # False after the bot was blocked or kicked; /start reactivates
    muted: bool = False  # all alerts
    muted_monitors: frozenset[str] = field(default_factory=frozenset)
    snoozed_until: float = 0.0  # epoch seconds; alerts held until then
    quiet_hours: QuietHours | None = None
    silent: bool = False  # deliver without a notification sound
    cooldown_s: float = 0.0  # minimum interval between two alerts of one monitor
    hourly_cap: int = 0  # deliveries per hour before a summary takes over (0: no cap)
    default_notional: float | None = None
    fees_pct: tuple[tuple[str, float], ...] = ()  # venue -> taker fee override
