"""Closed opportunities: JSON Lines history on disk and the statistics behind /arb_stats."""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from goquant_bot.domain.events import ArbClosed
from goquant_bot.logging import get_logger

log = get_logger(__name__)
MAX_PENDING = 100_000  # lines kept while the disk refuses writes
WINDOWS_S = {"1h": 3_600.0, "24h": 86_400.0}


@dataclass(slots=True)
class Aggregate:
    """Count, mean and max of peak edge and duration."""

    count: int = 0
    edge_sum: float = 0.0
    edge_max: float = float("-inf")
    duration_sum: float = 0.0
    duration_max: float = 0.0

    def add(self, edge: float, duration: float) -> None:
        self.count += 1
        self.edge_sum += edge
        self.edge_max = max(self.edge_max, edge)
        self.duration_sum += duration
        self.duration_max = max(self.duration_max, duration)

    def as_dict(self) -> dict[str, float | int]:
        if not self.count:
            return {"count": 0}
        return {
            "count": self.count,
            "mean_edge_pct": round(self.edge_sum / self.count, 4),
            "max_edge_pct": round(self.edge_max, 4),
            "mean_duration_s": round(self.duration_sum / self.count, 3),
            "max_duration_s": round(self.duration_max, 3),
        }


StatKey = tuple[int, str, str, str]  # owner, symbol, buy venue, sell venue
PER_OWNER = 1_000  # closed opportunities kept in memory per chat (for /export)


@dataclass(slots=True)
class OpportunityStats:
    """Per owner, symbol and venue pair: last hour, last day and since start."""

    recent: deque[tuple[float, StatKey, float, float]] = field(default_factory=deque)
    all_time: dict[StatKey, Aggregate] = field(default_factory=dict)
    by_owner: dict[int, deque[ArbClosed]] = field(default_factory=dict)
    skipped: int = 0  # damaged history lines left out when the history was loaded

    def record(self, event: ArbClosed) -> None:
        key = (event.owner, str(event.symbol), event.buy_venue.value, event.sell_venue.value)
        self.recent.append((event.ts, key, event.peak_edge_pct, event.duration_s))
        self.all_time.setdefault(key, Aggregate()).add(event.peak_edge_pct, event.duration_s)
        self.by_owner.setdefault(event.owner, deque(maxlen=PER_OWNER)).append(event)

    def closed(self, owner: int, since: float = 0.0) -> list[ArbClosed]:
        """The chat's latest closed opportunities (at most PER_OWNER), oldest first."""
        return [e for e in self.by_owner.get(owner, ()) if e.ts >= since]

    def load(self, records: Iterable[object], *, skipped: int = 0) -> int:
        """Rebuild from the history after a restart (lines, or events already read from them);
        damaged lines are skipped and counted, with the ``skipped`` ones the reader left out."""
        loaded = 0
        self.skipped += skipped
        for record in records:
            event = record if isinstance(record, ArbClosed) else closed_from_dict(record)
            if event is None:
                self.skipped += 1
                continue
            self.record(event)
            loaded += 1
        return loaded

    def summary(self, owner: int, now: float) -> dict[str, dict[str, dict[str, float | int]]]:
        """``{"BTC-USDT binance->okx": {"1h": {...}, "24h": {...}, "all": {...}}}``."""
        longest = max(WINDOWS_S.values())
        while self.recent and self.recent[0][0] < now - longest:
            self.recent.popleft()
        windows: dict[str, dict[StatKey, Aggregate]] = {name: {} for name in WINDOWS_S}
        for ts, key, edge, duration in self.recent:
            if key[0] != owner:
                continue
            for name, span in WINDOWS_S.items():
                if ts >= now - span:
                    windows[name].setdefault(key, Aggregate()).add(edge, duration)
        result: dict[str, dict[str, dict[str, float | int]]] = {}
        for key, total in sorted(self.all_time.items()):
            if key[0] != owner:
                continue
            label = f"{key[1]} {key[2]}->{key[3]}"
            result[label] = {
                **{name: windows[name].get(key, Aggregate()).as_dict() for name in WINDOWS_S},
                "all": total.as_dict(),
            }
        return result


def closed_from_dict(data: object) -> ArbClosed | None:
    """A history line back into the event (None for a line that does not fit)."""
    if not isinstance(data, dict):
        return None
    try:
        return ArbClosed.from_record(data)
    except (KeyError, TypeError, ValueError):
        return None


class HistoryWriter:
    """Appends closed opportunities to a JSON Lines file; ``flush`` does the (blocking) write."""

    def __init__(self, path: Path, *, max_bytes: int = 20_000_000, backups: int = 10) -> None:
        """Rotated at ``max_bytes`` into ``<name>.1`` .. ``<name>.<backups>`` (oldest dropped)."""
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self._pending: list[str] = []

    def add(self, events: Iterable[ArbClosed]) -> None:
        for event in events:
            self._pending.append(json.dumps(event.to_record(), separators=(",", ":")))

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> None:
        """Write what is pending; call it off the event loop (``asyncio.to_thread``)."""
        if not self._pending:
            return
        lines, self._pending = self._pending, []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._rotate()
            with self.path.open("a+b") as fh:
                # A line torn by a crash would swallow the first new one: end it first.
                if fh.tell():
                    fh.seek(-1, os.SEEK_END)
                    if fh.read(1) != b"\n":
                        fh.write(b"\n")
                fh.write(("\n".join(lines) + "\n").encode())
        except OSError as exc:
            kept = (lines + self._pending)[-MAX_PENDING:]  # keep them for the next attempt
            dropped = len(lines) + len(self._pending) - len(kept)
            self._pending = kept
            log.error("history_write_failed", path=str(self.path), error=repr(exc), dropped=dropped)

    def _rotate(self) -> None:
        try:
            if self.path.stat().st_size < self.max_bytes:
                return
        except FileNotFoundError:
            return
        for n in range(self.backups, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if n == self.backups:
                older.unlink(missing_ok=True)
            else:
                newer = self.path.with_name(f"{self.path.name}.{n + 1}")
                if older.exists():
                    older.replace(newer)
        if self.backups:
            self.path.replace(self.path.with_name(f"{self.path.name}.1"))
        else:
            self.path.unlink()
