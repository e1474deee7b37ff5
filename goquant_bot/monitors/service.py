"""The monitor service: the one home of monitor records and their lifecycle.

Synchronous and without I/O. It keeps every record (running or paused), registers the
running ones with the engines through the registry (which subscribes their books), checks
the limits, and announces every change on the dispatcher. The command layer asks it; alert
delivery and the state file listen to it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from goquant_bot.domain.events import Event
from goquant_bot.domain.instruments import Venue
from goquant_bot.domain.monitors import ArbMonitor
from goquant_bot.engine.registry import MonitorRegistry
from goquant_bot.errors import RejectedInput
from goquant_bot.logging import get_logger
from goquant_bot.monitors.dispatch import Dispatcher
from goquant_bot.monitors.events import (
    ChatBlocked,
    ChatMigrated,
    EngineSignals,
    MonitorAdded,
    MonitorChanged,
    MonitorEvent,
    MonitorFinished,
    MonitorPaused,
    MonitorRemoved,
    MonitorRestored,
    MonitorResumed,
)
from goquant_bot.monitors.records import Monitor, MonitorKind, MonitorRecord
from goquant_bot.monitors.schema import (
    kind_name,
    opening_from_dict,
    opening_to_dict,
    record_to_dict,
)

log = get_logger(__name__)


class LimitReached(RejectedInput):
    """A per-user or system-wide monitor limit; the message says how to free a slot."""


@dataclass(frozen=True, slots=True)
class MonitorLimits:
    max_arb_per_user: int = 10
    max_views_per_user: int = 10
    max_monitors_total: int = 10_000


class MonitorService:
    def __init__(
        self,
        registry: MonitorRegistry,
        events: Dispatcher,
        limits: MonitorLimits | None = None,
        *,
        records: Iterable[MonitorRecord] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``records`` (from the state file) are kept, not run: ``restore()`` runs them once
        the venues' listings are known."""
        self.registry = registry
        self.events = events
        self.limits = limits or MonitorLimits()
        self.clock = clock
        self._records: dict[str, MonitorRecord] = {r.id: r for r in records}

    # -- queries --------------------------------------------------------------------------

    @property
    def records(self) -> Mapping[str, MonitorRecord]:
        return self._records

    def get(self, monitor_id: str) -> MonitorRecord | None:
        return self._records.get(monitor_id)

    def running(self, monitor_id: str) -> bool:
        return monitor_id in self.registry.monitors

    def running_count(self) -> int:
        return len(self.registry.monitors)

    def running_monitor(self, monitor_id: str) -> Monitor | None:
        return self.registry.monitors.get(monitor_id)

    def of(
        self,
        *,
        user_id: int | None = None,
        chat_id: int | None = None,
        kind: MonitorKind | None = None,
    ) -> list[MonitorRecord]:
        """Records in creation order."""
        return sorted(
            (
                r
                for r in self._records.values()
                if (user_id is None or r.user_id == user_id)
                and (chat_id is None or r.chat_id == chat_id)
                and (kind is None or r.kind is kind)
            ),
            key=lambda r: r.created,  # ties: the order they were added (or saved) in
        )

    def is_taken(self, monitor_id: str) -> bool:
        return monitor_id in self._records or monitor_id in self.registry.monitors

    # -- changes --------------------------------------------------------------------------

    def check_limits(self, user_id: int, kind: MonitorKind, adding: int = 1) -> None:
        """Raise LimitReached when ``adding`` more monitors of ``kind`` would pass a limit."""
        lim = self.limits
        mine = len(self.of(user_id=user_id, kind=kind))
        if kind is MonitorKind.ARB:
            limit, what, stop = lim.max_arb_per_user, "arbitrage monitors", "/stop_arb"
        else:
            limit, what, stop = lim.max_views_per_user, "market views", "/stop_market"
        if mine + adding > limit:
            msg = (
                f"You have {mine} of your {limit} {what} (the limit per user). "
                f"Stop one with {stop} to free a slot."
            )
            raise LimitReached(msg)
        total = max(len(self.registry.monitors), len(self._records))
        if total + adding > lim.max_monitors_total:
            msg = (
                f"The bot runs its maximum of {lim.max_monitors_total} monitors for all users. "
                "Stop one of yours with /stop_arb or /stop_market, or try again later."
            )
            raise LimitReached(msg)

    def add(
        self, monitor: Monitor, user_id: int, *, follows: frozenset[str] = frozenset()
    ) -> MonitorRecord:
        """Run a new monitor (raise RejectedInput when it cannot work) and keep its record;
        ``follows``: the settings it takes from its chat's defaults."""
        if monitor.id in self._records:
            msg = f"a monitor with id {monitor.id!r} exists already"
            raise RejectedInput(msg)
        self._register(monitor)
        record = MonitorRecord.of(monitor, user_id, self.clock(), follows)
        self._records[record.id] = record
        log.info(
            "monitor_created", monitor=monitor.id, kind=record.kind.value, chat_id=record.chat_id
        )
        self._announce(MonitorAdded, record)
        return record

    def change(
        self, record: MonitorRecord, monitor: Monitor, *, follows: frozenset[str] | None = None
    ) -> MonitorRecord:
        """Change a monitor in place (same id); the old one keeps running on failure.

        Changed in the registry rather than removed and added again: an open opportunity
        stays open (its live alert keeps being edited), nothing is announced a second time.
        """
        updated = dataclasses.replace(
            record,
            monitor=monitor,
            chat_id=monitor.owner,
            follows=record.follows if follows is None else follows,
        )
        if record.runs:
            if record.id in self.registry.monitors:
                self._signals(self.registry.replace(monitor))
            else:  # it could not be restored after a restart: the changed one may work
                self._register(monitor)
        self._records[record.id] = updated
        self._announce(MonitorChanged, updated)
        return updated

    def remove(self, monitor_id: str) -> MonitorRecord | None:
        """Stop and forget a monitor (its owner stopped it)."""
        record = self._records.pop(monitor_id, None)
        if record is None:
            return None
        self.registry.remove(monitor_id)
        log.info("monitor_stopped", monitor=monitor_id, chat_id=record.chat_id)
        self._announce(MonitorRemoved, record)
        return record

    def finished(self, monitor_ids: Sequence[str]) -> None:
        """One-shot monitors that fired: forgotten; their last alert is still delivered."""
        for monitor_id in monitor_ids:
            self.registry.remove(monitor_id)
            record = self._records.pop(monitor_id, None)
            if record is not None:
                log.info("monitor_finished", monitor=monitor_id)
                self._announce(MonitorFinished, record)

    def pause(self, monitor_id: str) -> MonitorRecord | None:
        """Its user paused it: kept, its books released until ``resume``."""
        record = self._records.get(monitor_id)
        if record is None or record.paused:
            return record
        self.registry.remove(monitor_id)
        paused = self._records[monitor_id] = dataclasses.replace(record, paused=True)
        self._announce(MonitorPaused, paused)
        return paused

    def resume(self, monitor_id: str) -> MonitorRecord | None:
        """Run a paused monitor again; raise RejectedInput when it cannot run now (kept
        paused)."""
        record = self._records.get(monitor_id)
        if record is None or not record.paused:
            return record
        resumed = dataclasses.replace(record, paused=False)
        if resumed.runs:
            self._register(resumed.monitor)
        self._records[monitor_id] = resumed
        self._announce(MonitorResumed, resumed)
        return resumed

    def block_chat(self, chat_id: int) -> int:
        """The chat blocked or removed the bot: keep its monitors, stop running them."""
        paused = 0
        for record in self.of(chat_id=chat_id):
            if not record.chat_blocked:
                self.registry.remove(record.id)
                held = self._records[record.id] = dataclasses.replace(record, chat_blocked=True)
                self._announce(MonitorPaused, held)
                paused += 1
        self.events.publish(ChatBlocked(chat_id, paused))
        return paused

    def unblock_chat(self, chat_id: int) -> tuple[int, list[str]]:
        """/start in a chat that had blocked the bot: run its monitors again (those its users
        paused stay paused)."""
        resumed, problems = 0, []
        for record in self.of(chat_id=chat_id):
            if record.chat_blocked:
                record = self._records[record.id] = dataclasses.replace(record, chat_blocked=False)
                if not record.runs:
                    continue
                problem = self._run(record)
                if problem is None:
                    resumed += 1
                    self._announce(MonitorResumed, record)
                else:
                    problems.append(problem)
        return resumed, problems

    def migrate_chat(self, old: int, new: int) -> None:
        """A group became a supergroup: its monitors now alert the new chat id."""
        for record in self.of(chat_id=old):
            moved = dataclasses.replace(
                record, chat_id=new, monitor=dataclasses.replace(record.monitor, owner=new)
            )
            if self.registry.remove(record.id) is not None:
                self._announce(MonitorPaused, record)  # the old chat's live view ends
            self._records[record.id] = moved
            if moved.runs and self._run(moved) is None:
                self._announce(MonitorRestored, moved)
        self.events.publish(ChatMigrated(old, new))

    def restore(self) -> list[str]:
        """After a restart, or when a venue's listing arrives late: run every record that is
        not paused, widen running ones to the venues they missed; return the problems."""
        for monitor in list(self.registry.monitors.values()):
            if self._wanted_venues(monitor) - self.registry.venues_of(monitor.id):
                self._signals(self.registry.replace(monitor))  # open opportunities stay open
                log.info("monitor_widened", monitor=monitor.id)
                if (record := self._records.get(monitor.id)) is not None:
                    self._announce(MonitorChanged, record)
        problems = []
        for record in self.of():
            if record.runs and record.id not in self.registry.monitors:
                problem = self._run(record)
                if problem is None:
                    self._announce(MonitorRestored, record)
                else:
                    problems.append(problem)
        return problems

    # -- persistence ----------------------------------------------------------------------

    def frozen(self) -> Callable[[], list[dict[str, Any]]]:
        """The records now, turned into the schema's form later (off the event loop)."""
        records = list(self._records.values())
        return lambda: [record_to_dict(r) for r in records]

    def open_snapshot(self) -> Callable[[], dict[str, list[dict[str, Any]]]]:
        """The open opportunities now, in the state file's form later."""
        opened = self.registry.arbitrage.export_open()
        return lambda: {
            monitor_id: [opening_to_dict(o) for o in openings]
            for monitor_id, openings in opened.items()
        }

    def restore_open(
        self, saved: Mapping[str, Sequence[Mapping[str, Any]]], *, confirm_by: float
    ) -> int:
        """Opportunities open at the last save stay open (no second alert) if their books
        confirm them by ``confirm_by``; a damaged entry opens again, announced."""
        restored = 0
        for monitor_id, items in saved.items():
            openings = [o for o in (opening_from_dict(d) for d in items) if o is not None]
            if len(openings) != len(items):
                log.warning("opening_not_restored", monitor=monitor_id)
            restored += self.registry.arbitrage.restore_open(
                monitor_id, openings, confirm_by=confirm_by
            )
        return restored

    # -- internals ------------------------------------------------------------------------

    def _announce(self, kind: type[MonitorEvent], record: MonitorRecord) -> None:
        self.events.publish(
            kind(record.id, record.chat_id, kind_name(record.kind), record_to_dict(record))
        )

    def _signals(self, events: Sequence[Event]) -> None:
        if events:
            self.events.publish(EngineSignals(tuple(events)))

    def _register(self, monitor: Monitor) -> None:
        if isinstance(monitor, ArbMonitor):
            self._signals(self.registry.add_arbitrage(monitor))
        else:
            self.registry.add_market_view(monitor)

    def _run(self, record: MonitorRecord) -> str | None:
        try:
            self._register(record.monitor)
        except RejectedInput as exc:
            # Kept: it can run later (e.g. a venue's listing could not be loaded yet).
            log.warning("monitor_not_restored", monitor=record.id, error=str(exc))
            return f"{record.id}: {exc}"
        return None

    def _wanted_venues(self, monitor: Monitor) -> set[Venue]:
        symbols = monitor.symbols if isinstance(monitor, ArbMonitor) else (monitor.symbol,)
        return {
            venue
            for symbol in symbols
            for venue in self.registry.listing(symbol)
            if not monitor.venues or venue in monitor.venues
        }
