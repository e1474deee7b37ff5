"""Users, chats and their monitors in memory; ``to_dict``/``from_dict`` for the state file.

Alert delivery reads each chat's ``ChatPrefs`` from here (mute, snooze, quiet hours, silent,
cooldown, hourly cap); the commands only ever replace them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from goquant_bot.bot.flows import Flow
from goquant_bot.bot.types import Caller
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor, FiringPolicy, MarketViewMonitor
from goquant_bot.domain.users import ChatPrefs, QuietHours
from goquant_bot.logging import get_logger

log = get_logger(__name__)
STATE_VERSION = 1
MAX_PREVIOUS = 30  # stopped monitors remembered per user, for "reuse my configuration"


class MonitorKind(StrEnum):
    ARB = "arb"
    VIEW = "view"


@dataclass(slots=True)
class UserInfo:
    user_id: int
    first_name: str
    username: str | None
    first_seen: float
    last_seen: float


@dataclass(frozen=True, slots=True)
class MonitorRecord:
    """A monitor a user created: who, where the alerts go, and its definition as plain data."""

    id: str
    kind: MonitorKind
    chat_id: int  # the chat that receives the alerts (the monitor's owner)
    user_id: int  # who created it: counts against their limit, may change it
    created: float
    spec: Mapping[str, Any]
    paused: bool = False  # the chat blocked the bot: kept, not running

    @classmethod
    def of(cls, monitor: ArbMonitor | MarketViewMonitor, user_id: int, now: float) -> MonitorRecord:
        if isinstance(monitor, ArbMonitor):
            spec: dict[str, Any] = {
                "symbols": [str(s) for s in monitor.symbols],
                "venues": [v.value for v in monitor.venues],
                "min_edge_pct": monitor.min_edge_pct,
                "notional": monitor.notional,
                "fees_pct": [[v.value, fee] for v, fee in monitor.fees_pct],
                "min_duration_s": monitor.min_duration_s,
                "allow_polled": monitor.allow_polled,
                "policy": monitor.policy.value,
            }
            kind = MonitorKind.ARB
        else:
            spec = {
                "symbol": str(monitor.symbol),
                "venues": [v.value for v in monitor.venues],
                "best_venue_change": monitor.best_venue_change,
                "mid_move_pct": monitor.mid_move_pct,
                "spread_above_bps": monitor.spread_above_bps,
                "venue_deviation_bps": monitor.venue_deviation_bps,
                "cooldown_s": monitor.cooldown_s,
                "crossed_min_bps": monitor.crossed_min_bps,
                "crossed_min_s": monitor.crossed_min_s,
                "alert_cooldown_s": monitor.alert_cooldown_s,
            }
            kind = MonitorKind.VIEW
        return cls(monitor.id, kind, monitor.owner, user_id, now, spec)

    @property
    def subject(self) -> str:
        """The symbol(s) watched, for buttons and short messages."""
        symbols = self.spec.get("symbols") or [self.spec.get("symbol", "")]
        return ", ".join(str(s) for s in symbols)

    def to_monitor(self) -> ArbMonitor | MarketViewMonitor:
        """The engine's monitor; raise ValueError (or KeyError) on a damaged record."""
        s = self.spec
        if self.kind is MonitorKind.ARB:
            return ArbMonitor(
                id=self.id,
                owner=self.chat_id,
                symbols=tuple(Symbol.parse(x) for x in s["symbols"]),
                venues=tuple(Venue(v) for v in s["venues"]),
                min_edge_pct=s["min_edge_pct"],
                notional=float(s["notional"]),
                fees_pct=tuple((Venue(v), float(fee)) for v, fee in s.get("fees_pct", [])),
                min_duration_s=float(s.get("min_duration_s", 0.0)),
                allow_polled=bool(s.get("allow_polled", False)),
                policy=FiringPolicy(s.get("policy", "each")),
            )
        return MarketViewMonitor(
            id=self.id,
            owner=self.chat_id,
            symbol=Symbol.parse(s["symbol"]),
            venues=tuple(Venue(v) for v in s["venues"]),
            best_venue_change=bool(s.get("best_venue_change", True)),
            mid_move_pct=s.get("mid_move_pct"),
            spread_above_bps=s.get("spread_above_bps"),
            venue_deviation_bps=s.get("venue_deviation_bps"),
            cooldown_s=float(s.get("cooldown_s", 30.0)),
            crossed_min_bps=s.get("crossed_min_bps"),
            crossed_min_s=float(s.get("crossed_min_s", 0.0)),
            alert_cooldown_s=float(s.get("alert_cooldown_s", 300.0)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "chat_id": self.chat_id,
            "user_id": self.user_id,
            "created": self.created,
            "spec": dict(self.spec),
            "paused": self.paused,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MonitorRecord:
        record = cls(
            id=str(data["id"]),
            kind=MonitorKind(data["kind"]),
            chat_id=int(data["chat_id"]),
            user_id=int(data["user_id"]),
            created=float(data["created"]),
            spec=dict(data["spec"]),
            paused=bool(data.get("paused", False)),
        )
        # Checked when it runs (restore_all): a damaged definition is dropped there, reported.
        return record


class UserStore:
    """Everything the command layer remembers about users and chats."""

    def __init__(self) -> None:
        self.users: dict[int, UserInfo] = {}
        self.chats: dict[int, ChatPrefs] = {}
        self.monitors: dict[str, MonitorRecord] = {}
        self.previous: dict[int, list[MonitorRecord]] = {}
        self.flows: dict[tuple[int, int], Flow] = {}  # (chat id, user id) -> flow

    # -- users and chats ------------------------------------------------------------------

    def register(self, caller: Caller, now: float) -> bool:
        """Record (or refresh) the caller; True when the user is new."""
        info = self.users.get(caller.user_id)
        if caller.chat_id not in self.chats:
            self.chats[caller.chat_id] = ChatPrefs(chat_id=caller.chat_id)
        if info is None:
            self.users[caller.user_id] = UserInfo(
                caller.user_id, caller.first_name, caller.username, now, now
            )
            return True
        info.first_name, info.username, info.last_seen = caller.first_name, caller.username, now
        return False

    def prefs(self, chat_id: int) -> ChatPrefs:
        return self.chats.get(chat_id) or ChatPrefs(chat_id=chat_id)

    def update_prefs(self, chat_id: int, **changes: Any) -> ChatPrefs:
        prefs = self.chats[chat_id] = dataclasses.replace(self.prefs(chat_id), **changes)
        return prefs

    # -- monitors -------------------------------------------------------------------------

    def add_monitor(self, record: MonitorRecord) -> None:
        self.monitors[record.id] = record

    def remove_monitor(self, monitor_id: str) -> MonitorRecord | None:
        """Forget a monitor, remembering its definition for a later "reuse my configuration"."""
        record = self.monitors.pop(monitor_id, None)
        if record is not None:
            kept = self.previous.setdefault(record.user_id, [])
            same = _spec_key(record)
            kept[:] = [r for r in kept if _spec_key(r) != same][-(MAX_PREVIOUS - 1) :]
            kept.append(dataclasses.replace(record, paused=False))
            chat = self.chats.get(record.chat_id)
            if chat is not None and monitor_id in chat.muted_monitors:
                self.update_prefs(record.chat_id, muted_monitors=chat.muted_monitors - {monitor_id})
        return record

    def monitors_of(
        self,
        *,
        user_id: int | None = None,
        chat_id: int | None = None,
        kind: MonitorKind | None = None,
    ) -> list[MonitorRecord]:
        return sorted(
            (
                r
                for r in self.monitors.values()
                if (user_id is None or r.user_id == user_id)
                and (chat_id is None or r.chat_id == chat_id)
                and (kind is None or r.kind is kind)
            ),
            key=lambda r: (r.created, r.id),
        )

    def migrate_chat(self, old: int, new: int) -> list[MonitorRecord]:
        """A group became a supergroup: move its prefs and monitors; return the moved records."""
        prefs = self.chats.pop(old, None)
        if prefs is not None:
            self.chats[new] = dataclasses.replace(prefs, chat_id=new)
        moved = [
            dataclasses.replace(r, chat_id=new) for r in self.monitors.values() if r.chat_id == old
        ]
        for record in moved:
            self.monitors[record.id] = record
        for chat, user in [k for k in self.flows if k[0] == old]:
            self.flows[(new, user)] = self.flows.pop((chat, user))
        return moved

    # -- persistence ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return self.frozen()()

    def frozen(self) -> Callable[[], dict[str, Any]]:
        """Copies taken now, turned into the saved dict later, off the event loop: records
        and preferences are immutable, so only the containers and the users are copied."""
        users = [dataclasses.replace(u) for u in self.users.values()]
        chats = list(self.chats.values())
        monitors = list(self.monitors.values())
        previous = [(uid, list(records)) for uid, records in self.previous.items()]
        flows = [(chat, user, flow.to_dict()) for (chat, user), flow in self.flows.items()]

        def build() -> dict[str, Any]:
            return {
                "version": STATE_VERSION,
                "users": [dataclasses.asdict(u) for u in users],
                "chats": [prefs_to_dict(p) for p in chats],
                "monitors": [r.to_dict() for r in monitors],
                "previous": [
                    {"user_id": uid, "monitors": [r.to_dict() for r in records]}
                    for uid, records in previous
                ],
                "flows": [
                    {"chat_id": chat, "user_id": user, "flow": flow} for chat, user, flow in flows
                ],
            }

        return build

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UserStore:
        """Rebuild the store; a damaged entry is logged and skipped, never fatal."""
        store = cls()
        if data.get("version") != STATE_VERSION:
            log.warning("user_state_version_unknown", version=data.get("version"))
        for item in _entries(data, "users"):
            _load(store.users, lambda d: (int(d["user_id"]), UserInfo(**d)), item, "user")
        for item in _entries(data, "chats"):
            _load(store.chats, lambda d: (int(d["chat_id"]), prefs_from_dict(d)), item, "chat")
        for item in _entries(data, "monitors"):
            _load(store.monitors, lambda d: _keyed(MonitorRecord.from_dict(d)), item, "monitor")
        for item in _entries(data, "previous"):
            _load(store.previous, _previous_from_dict, item, "previous")
        for item in _entries(data, "flows"):
            _load(
                store.flows,
                lambda d: ((int(d["chat_id"]), int(d["user_id"])), Flow.from_dict(d["flow"])),
                item,
                "flow",
            )
        return store


def prefs_to_dict(prefs: ChatPrefs) -> dict[str, Any]:
    data = dataclasses.asdict(prefs)
    data["muted_monitors"] = sorted(prefs.muted_monitors)
    data["fees_pct"] = [list(pair) for pair in prefs.fees_pct]
    return data


def prefs_from_dict(data: Mapping[str, Any]) -> ChatPrefs:
    quiet = data.get("quiet_hours")
    return ChatPrefs(
        chat_id=int(data["chat_id"]),
        active=bool(data.get("active", True)),
        muted=bool(data.get("muted", False)),
        muted_monitors=frozenset(str(m) for m in data.get("muted_monitors", [])),
        snoozed_until=float(data.get("snoozed_until", 0.0)),
        quiet_hours=None if quiet is None else QuietHours(**quiet),
        silent=bool(data.get("silent", False)),
        cooldown_s=float(data.get("cooldown_s", 0.0)),
        hourly_cap=int(data.get("hourly_cap", 0)),
        default_notional=(
            None if data.get("default_notional") is None else float(data["default_notional"])
        ),
        fees_pct=tuple((str(v), float(f)) for v, f in data.get("fees_pct", [])),
    )


def _previous_from_dict(data: Mapping[str, Any]) -> tuple[int, list[MonitorRecord]]:
    """One user's stopped monitors; a damaged record among them is skipped on its own."""
    user_id = int(data["user_id"])
    kept: dict[str, MonitorRecord] = {}
    for record in _entries(data, "monitors"):
        _load(kept, lambda d: _keyed(MonitorRecord.from_dict(d)), record, "previous")
    return user_id, list(kept.values())


def _entries(data: Mapping[str, Any], key: str) -> list[Any]:
    items = data.get(key, [])
    if not isinstance(items, list):
        log.warning(
            "user_state_entry_skipped", entry=key, error=f"not a list: {type(items).__name__}"
        )
        return []
    return items


def _keyed(record: MonitorRecord) -> tuple[str, MonitorRecord]:
    return record.id, record


def _spec_key(record: MonitorRecord) -> str:
    return record.kind.value + json.dumps(record.spec, sort_keys=True)


def _load(
    into: dict[Any, Any], build: Callable[[Any], tuple[Any, Any]], item: Any, what: str
) -> None:
    try:
        key, value = build(item)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        log.warning("user_state_entry_skipped", entry=what, error=repr(exc)[:200])
        return
    into[key] = value
