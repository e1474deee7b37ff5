"""Opportunity lifecycle for many monitors at once, at a cost independent of their number.

A ``ThresholdGroup`` holds the monitors that share one computation (symbol, ordered venue
pair, size tier, fees, polled-books policy), sorted by their edge threshold T. An opportunity
opens for a monitor when the edge e reaches T (after its minimum duration) and closes when e
falls below T * (1 - h), h being the hysteresis fraction, or when a guard fails.

Because the close level grows with T, the monitors with an open (or pending) opportunity are
always a prefix of the sorted list: after an update with edge e the prefix ends at
    max(#{T <= e}, min(previous end, #{T <= e / (1 - h)})).
An update therefore costs two bisections plus the monitors that actually open or close;
monitors the edge does not reach cost nothing.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    PENDING = "pending"  # crossed, waiting for its minimum duration
    OPEN = "open"


@dataclass(frozen=True, slots=True)
class Transition:
    """A monitor's opportunity opened or closed at ``ts``."""

    monitor_id: str
    opened: bool  # False: closed
    ts: float
    opened_at: float
    peak_edge: float
    reason: str = ""  # why it closed
    # Closings only: when the peak was seen (None: before a restart), and the figures the
    # caller passed with the update at the opening and at the peak (None when unknown).
    peak_at: float | None = None
    open_figures: object = None
    peak_figures: object = None


@dataclass(frozen=True, slots=True)
class Peak:
    """The highest edge since some time: its value, when it was seen, what came with it."""

    edge: float
    at: float | None  # None: restored after a restart, the real time is unknown
    figures: object


class PeakTracker:
    """The highest edge since any past time: a stack of suffix maxima (amortised O(1) push)."""

    __slots__ = ("_edges", "_extra", "_times")

    def __init__(self) -> None:
        self._times: list[float] = []
        self._edges: list[float] = []
        self._extra: list[tuple[float | None, object]] = []  # (time seen, figures)

    def push(self, ts: float, edge: float, figures: object = None, *, dated: bool = True) -> None:
        """``dated=False``: a peak restored after a restart, seen at an unknown time."""
        extra = (ts if dated else None, figures)
        while self._edges and self._edges[-1] <= edge:
            if self._edges[-1] == edge and self._extra[-1][0] is not None:
                extra = self._extra[-1]  # the same level again: the peak is when it was reached
            self._edges.pop()
            self._times.pop()
            self._extra.pop()
        self._times.append(ts)
        self._edges.append(edge)
        self._extra.append(extra)

    def max_since(self, ts: float) -> float | None:
        i = bisect_left(self._times, ts)
        return self._edges[i] if i < len(self._edges) else None

    def peak_since(self, ts: float) -> Peak | None:
        i = bisect_left(self._times, ts)
        if i >= len(self._edges):
            return None
        at, figures = self._extra[i]
        return Peak(self._edges[i], at, figures)

    def clear(self) -> None:
        self._times.clear()
        self._edges.clear()
        self._extra.clear()


class ThresholdGroup:
    """Monitors sharing one edge computation, indexed by threshold."""

    def __init__(self, hysteresis: float) -> None:
        if not 0 <= hysteresis < 1:
            msg = "hysteresis must be in [0, 1)"
            raise ValueError(msg)
        self.keep_factor = 1.0 / (1.0 - hysteresis)
        self.thresholds: list[float] = []
        self.ids: list[str] = []
        self.min_durations: dict[str, float] = {}
        self.threshold_of: dict[str, float] = {}
        self.due: set[str] = set()  # waited long enough, but the edge is inside the band
        self.active = 0  # length of the prefix whose opportunities are open or pending
        self.phase: dict[str, Phase] = {}
        self.since: dict[str, float] = {}  # open time, or the start of the pending period
        self.dormant: set[str] = set()  # inside the prefix but never crossed (added late)
        self._pending: list[tuple[float, str, float]] = []  # (due, id, since) heap
        self.peaks = PeakTracker()
        self.last_edge: float | None = None
        self.last_figures: object = None  # what came with the last edge
        self.open_figures: dict[str, object] = {}  # per open monitor, the figures at opening

    def __len__(self) -> int:
        return len(self.ids)

    def _index(self, monitor_id: str, threshold: float) -> int:
        i = bisect_left(self.thresholds, threshold)
        while self.ids[i] != monitor_id:
            i += 1
        return i

    def add(
        self, monitor_id: str, threshold: float, min_duration_s: float, ts: float
    ) -> list[Transition]:
        """Register a monitor; it crosses at once if the current edge is past its threshold."""
        i = bisect_right(self.thresholds, threshold)
        self.thresholds.insert(i, threshold)
        self.ids.insert(i, monitor_id)
        self.min_durations[monitor_id] = min_duration_s
        self.threshold_of[monitor_id] = threshold
        reached = self.last_edge is not None and threshold <= self.last_edge
        if i >= self.active:
            # Every monitor the last edge reached is in the prefix, so i == active here.
            if not reached:
                return []
            self.active = i + 1
            return self._cross(monitor_id, ts)
        self.active += 1
        if reached:
            return self._cross(monitor_id, ts)
        self.dormant.add(monitor_id)  # in the hysteresis band: waits for the edge to reach T
        return []

    def restore(self, monitor_id: str, opened_at: float, peak_edge: float) -> None:
        """Mark a just-added monitor's opportunity as open since ``opened_at`` (after a
        restart): no transition now; the next update keeps or closes it as usual."""
        i = self._index(monitor_id, self.threshold_of[monitor_id])
        if i >= self.active:
            self.dormant.update(self.ids[self.active : i])
            self.active = i + 1
        self.dormant.discard(monitor_id)
        self.phase[monitor_id] = Phase.OPEN
        self.since[monitor_id] = opened_at
        self.peaks.push(opened_at, peak_edge, dated=False)

    def remove(self, monitor_id: str, threshold: float) -> None:
        """Forget a monitor (stopped by its owner): no close transition."""
        i = self._index(monitor_id, threshold)
        del self.thresholds[i]
        del self.ids[i]
        del self.min_durations[monitor_id]
        del self.threshold_of[monitor_id]
        self.due.discard(monitor_id)
        if i < self.active:
            self.active -= 1
        self.phase.pop(monitor_id, None)
        self.since.pop(monitor_id, None)
        self.open_figures.pop(monitor_id, None)
        self.dormant.discard(monitor_id)

    def update(self, edge: float, ts: float, figures: object = None) -> list[Transition]:
        """A new trustworthy edge for the group; ``figures`` come back on the closings."""
        self.last_edge = edge
        self.last_figures = figures
        self.peaks.push(ts, edge, figures)
        thresholds = self.thresholds
        reached = bisect_right(thresholds, edge)
        kept = bisect_right(thresholds, edge * self.keep_factor)
        new_active = max(reached, min(self.active, kept))
        out: list[Transition] = []
        if new_active < self.active:
            for monitor_id in self.ids[new_active : self.active]:
                out += self._drop(monitor_id, ts, "below_threshold")
        elif new_active > self.active:
            for monitor_id in self.ids[self.active : new_active]:
                out += self._cross(monitor_id, ts)
        self.active = new_active
        if self.dormant:
            for monitor_id in [m for m in self.dormant if self.threshold_of[m] <= edge]:
                self.dormant.discard(monitor_id)
                out += self._cross(monitor_id, ts)
        if self.due:
            for monitor_id in [m for m in self.due if self.threshold_of[m] <= edge]:
                self.due.discard(monitor_id)
                out.append(self._open(monitor_id, ts))
        return out + self.promote(ts)

    def fail(self, ts: float, reason: str) -> list[Transition]:
        """No trustworthy edge (a guard failed): every open opportunity closes."""
        out: list[Transition] = []
        for monitor_id in self.ids[: self.active]:
            out += self._drop(monitor_id, ts, reason)
        self.active = 0
        self.dormant.clear()
        self.due.clear()
        self._pending.clear()
        self.peaks.clear()
        self.last_edge = None
        self.last_figures = None
        return out

    def promote(self, ts: float) -> list[Transition]:
        """Open the pending opportunities whose minimum duration has passed."""
        out = []
        while self._pending and self._pending[0][0] <= ts:
            _, monitor_id, since = heapq.heappop(self._pending)
            # A pending period that was interrupted left a stale heap entry: skip it.
            if self.phase.get(monitor_id) is not Phase.PENDING or self.since[monitor_id] != since:
                continue
            if self.last_edge is not None and self.last_edge >= self.threshold_of[monitor_id]:
                out.append(self._open(monitor_id, ts))
            else:
                self.due.add(monitor_id)  # never announce an edge below the threshold
        return out

    def has_pending(self) -> bool:
        return bool(self._pending)

    def is_open(self, monitor_id: str) -> bool:
        return self.phase.get(monitor_id) is Phase.OPEN

    def opened_at(self, monitor_id: str) -> float:
        return self.since[monitor_id]

    def open_ids(self) -> list[str]:
        return [m for m in self.ids[: self.active] if self.phase.get(m) is Phase.OPEN]

    def _cross(self, monitor_id: str, ts: float) -> list[Transition]:
        min_duration = self.min_durations[monitor_id]
        if min_duration <= 0:
            return [self._open(monitor_id, ts)]
        self.phase[monitor_id] = Phase.PENDING
        self.since[monitor_id] = ts
        heapq.heappush(self._pending, (ts + min_duration, monitor_id, ts))
        return []

    def _open(self, monitor_id: str, ts: float) -> Transition:
        self.phase[monitor_id] = Phase.OPEN
        self.since[monitor_id] = ts
        if self.last_figures is not None:
            self.open_figures[monitor_id] = self.last_figures
        peak = self.last_edge if self.last_edge is not None else float("nan")
        return Transition(monitor_id, True, ts, ts, peak)

    def _drop(self, monitor_id: str, ts: float, reason: str) -> list[Transition]:
        phase = self.phase.pop(monitor_id, None)
        since = self.since.pop(monitor_id, ts)
        opening = self.open_figures.pop(monitor_id, None)
        self.dormant.discard(monitor_id)
        self.due.discard(monitor_id)
        if phase is not Phase.OPEN:
            return []  # pending (or dormant): nothing was announced
        peak = self.peaks.peak_since(since)
        if peak is None:
            return [Transition(monitor_id, False, ts, since, float("nan"), reason, None, opening)]
        # A level first reached before this opening was, for this opportunity, reached at it.
        at = None if peak.at is None else max(peak.at, since)
        return [
            Transition(monitor_id, False, ts, since, peak.edge, reason, at, opening, peak.figures)
        ]
