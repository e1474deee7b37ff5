"""Users and chats in memory; ``to_dict``/``from_dict`` for the state file.

The monitors themselves live in the monitor service; this keeps what a user stopped (for
"reuse my configuration").

Alert delivery reads each chat's ``ChatPrefs`` from here (mute, snooze, quiet hours, silent,
cooldown, hourly cap); the commands only ever replace them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from goquant_bot.bot.flows import Flow
from goquant_bot.bot.types import Caller
from goquant_bot.domain.users import ChatPrefs, QuietHours
from goquant_bot.errors import RejectedInput
from goquant_bot.logging import get_logger
from goquant_bot.monitors.records import MonitorKind, MonitorRecord
from goquant_bot.monitors.schema import record_from_dict, record_to_dict

__all__ = ["MonitorKind", "MonitorRecord", "UserInfo", "UserStore"]

log = get_logger(__name__)
STATE_VERSION = 1
MAX_PREVIOUS = 30  # stopped monitors remembered per user, for "reuse my configuration"


@dataclass(slots=True)
class UserInfo:
    user_id: int
    first_name: str
    username: str | None
    first_seen: float
    last_seen: float


class UserStore:
    """Everything the command layer remembers about users and chats."""

    def __init__(self) -> None:
        self.users: dict[int, UserInfo] = {}
        self.chats: dict[int, ChatPrefs] = {}
        self.previous: dict[int, list[MonitorRecord]] = {}
        self.flows: dict[tuple[int, int], Flow] = {}  # (chat id, user id) -> flow
        # A user's named monitor settings (/template save NAME ID), in creation order.
        self.templates: dict[int, dict[str, MonitorRecord]] = {}

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

    def remember(self, record: MonitorRecord) -> None:
        """A monitor stopped or finished: keep its definition for a later "reuse my
        configuration", and drop its mute."""
        kept = self.previous.setdefault(record.user_id, [])
        same = _spec_key(record)
        kept[:] = [r for r in kept if _spec_key(r) != same][-(MAX_PREVIOUS - 1) :]
        kept.append(dataclasses.replace(record, paused=False, chat_blocked=False))
        chat = self.chats.get(record.chat_id)
        if chat is not None and record.id in chat.muted_monitors:
            self.update_prefs(record.chat_id, muted_monitors=chat.muted_monitors - {record.id})

    def migrate_chat(self, old: int, new: int) -> None:
        """A group became a supergroup: move its prefs and pending set-ups."""
        prefs = self.chats.pop(old, None)
        if prefs is not None:
            self.chats[new] = dataclasses.replace(prefs, chat_id=new)
        for chat, user in [k for k in self.flows if k[0] == old]:
            self.flows[(new, user)] = self.flows.pop((chat, user))

    # -- persistence ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return self.frozen()()

    def frozen(self) -> Callable[[], dict[str, Any]]:
        """Copies taken now, turned into the saved dict later, off the event loop: records
        and preferences are immutable, so only the containers and the users are copied."""
        users = [dataclasses.replace(u) for u in self.users.values()]
        chats = list(self.chats.values())
        previous = [(uid, list(records)) for uid, records in self.previous.items()]
        flows = [(chat, user, flow.to_dict()) for (chat, user), flow in self.flows.items()]
        templates = [
            (uid, name, record)
            for uid, named in self.templates.items()
            for name, record in named.items()
        ]

        def build() -> dict[str, Any]:
            return {
                "version": STATE_VERSION,
                "users": [dataclasses.asdict(u) for u in users],
                "chats": [prefs_to_dict(p) for p in chats],
                "previous": [
                    {"user_id": uid, "monitors": [record_to_dict(r) for r in records]}
                    for uid, records in previous
                ],
                "flows": [
                    {"chat_id": chat, "user_id": user, "flow": flow} for chat, user, flow in flows
                ],
                "templates": [
                    {"user_id": uid, "name": name, "monitor": record_to_dict(record)}
                    for uid, name, record in templates
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
        for item in _entries(data, "previous"):
            _load(store.previous, _previous_from_dict, item, "previous")
        for item in _entries(data, "flows"):
            _load(
                store.flows,
                lambda d: ((int(d["chat_id"]), int(d["user_id"])), Flow.from_dict(d["flow"])),
                item,
                "flow",
            )
        for item in _entries(data, "templates"):
            try:
                uid, name = int(item["user_id"]), str(item["name"])
                store.templates.setdefault(uid, {})[name] = record_from_dict(item["monitor"])
            except (KeyError, TypeError, ValueError, RejectedInput) as exc:
                log.warning("user_state_entry_skipped", entry="template", error=repr(exc)[:200])
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
        _load(kept, lambda d: _keyed(record_from_dict(d)), record, "previous")
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
    """Equal for two monitors with the same settings (whatever their ids)."""
    spec = {k: v for k, v in record.spec.items() if k != "id"}
    return json.dumps(spec, sort_keys=True)


def _load(
    into: dict[Any, Any], build: Callable[[Any], tuple[Any, Any]], item: Any, what: str
) -> None:
    try:
        key, value = build(item)
    except (KeyError, TypeError, ValueError, AttributeError, RejectedInput) as exc:
        log.warning("user_state_entry_skipped", entry=what, error=repr(exc)[:200])
        return
    into[key] = value
