"""Prometheus metrics, read from the components at scrape time (no global registry)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from goquant_bot.domain.book import OrderBook
from goquant_bot.domain.instruments import Venue

LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1.0)


@dataclass(frozen=True, slots=True)
class VenueCounters:
    venue: Venue
    frames: int
    errors: Mapping[str, int]  # by reason
    books: Sequence[OrderBook]


class BotCollector(Collector):
    """Each source is a callable the app wires; a missing part simply yields nothing."""

    def __init__(
        self,
        *,
        venues: Callable[[], Iterable[VenueCounters]],
        latencies: Callable[[], Sequence[float]],
        guards: Callable[[], Mapping[str, int]],
        opportunities_open: Callable[[], int],
        monitors: Callable[[], Mapping[str, int]],
        users: Callable[[], int],
        alerts: Callable[[], Mapping[tuple[str, str], int]] = dict,
        telegram_errors: Callable[[], Mapping[str, int]] = dict,
        messages_dropped: Callable[[], Mapping[str, int]] = dict,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._venues = venues
        self._latencies = latencies
        self._guards = guards
        self._open = opportunities_open
        self._monitors = monitors
        self._users = users
        self._alerts = alerts
        self._telegram = telegram_errors
        self._dropped = messages_dropped
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        now = self._clock()
        frames = CounterMetricFamily("goquant_frames", "Frames received", labels=["venue"])
        errors = CounterMetricFamily(
            "goquant_frame_errors",
            "Frames rejected or integrity failures",
            labels=["venue", "reason"],
        )
        resyncs = CounterMetricFamily("goquant_book_resyncs", "Book rebuilds", labels=["venue"])
        states = GaugeMetricFamily("goquant_books", "Books by state", labels=["venue", "state"])
        age = GaugeMetricFamily(
            "goquant_book_age_seconds",
            "Time since a book was refreshed",
            labels=["venue", "symbol"],
        )
        for venue in self._venues():
            name = venue.venue.value
            frames.add_metric([name], venue.frames)
            for reason, count in venue.errors.items():
                errors.add_metric([name, reason], count)
            resyncs.add_metric([name], sum(b.resyncs for b in venue.books))
            by_state: dict[str, int] = {}
            for book in venue.books:
                by_state[book.state.value] = by_state.get(book.state.value, 0) + 1
                if book.recv_ts is not None:
                    age.add_metric([name, str(book.key.symbol)], max(0.0, now - book.recv_ts))
            for state, count in by_state.items():
                states.add_metric([name, state], count)
        yield from (frames, errors, resyncs, states, age)
        yield self._histogram(self._latencies())
        guards = CounterMetricFamily(
            "goquant_guard_failures", "Venue pairs refused", labels=["guard"]
        )
        for guard, count in self._guards().items():
            guards.add_metric([guard], count)
        yield guards
        yield GaugeMetricFamily(
            "goquant_opportunities_open", "Open opportunities", value=self._open()
        )
        monitors = GaugeMetricFamily("goquant_monitors", "Active monitors", labels=["kind"])
        for kind, count in self._monitors().items():
            monitors.add_metric([kind], count)
        yield monitors
        yield GaugeMetricFamily("goquant_users", "Active chats", value=self._users())
        alerts = CounterMetricFamily(
            "goquant_alerts", "Alerts by outcome", labels=["outcome", "reason"]
        )
        for (outcome, reason), count in self._alerts().items():
            alerts.add_metric([outcome, reason], count)
        yield alerts
        telegram = CounterMetricFamily(
            "goquant_telegram_errors", "Telegram errors", labels=["kind"]
        )
        for kind, count in self._telegram().items():
            telegram.add_metric([kind], count)
        yield telegram
        dropped = CounterMetricFamily(
            "goquant_messages_dropped",
            "Replies and notices given up (flood waits past their bound)",
            labels=["reason"],
        )
        for reason, count in self._dropped().items():
            dropped.add_metric([reason], count)
        yield dropped

    @staticmethod
    def _histogram(samples: Sequence[float]) -> HistogramMetricFamily:
        """Engine evaluation latency over the recent samples."""
        counts = [sum(1 for s in samples if s <= bound) for bound in LATENCY_BUCKETS]
        buckets = [
            (str(bound), float(count)) for bound, count in zip(LATENCY_BUCKETS, counts, strict=True)
        ]
        buckets.append(("+Inf", float(len(samples))))
        return HistogramMetricFamily(
            "goquant_engine_evaluation_seconds",
            "Time to evaluate the dirty symbols of one wake-up (recent samples)",
            buckets=buckets,
            sum_value=float(sum(samples)),
        )
