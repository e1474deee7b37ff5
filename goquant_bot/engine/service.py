"""The signal loop: wake on changed books, evaluate each dirty symbol once, publish events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from goquant_bot.domain.events import ArbClosed, Event
from goquant_bot.domain.instruments import Symbol
from goquant_bot.domain.monitors import is_internal
from goquant_bot.engine.arbitrage import ArbitrageEngine
from goquant_bot.engine.history import HistoryWriter, OpportunityStats
from goquant_bot.engine.market_view import MarketViewEngine
from goquant_bot.logging import get_logger

log = get_logger(__name__)
EventSink = Callable[[Sequence[Event]], None]


class ChangeSource(Protocol):
    """What the loop waits on (the market-data hub)."""

    async def wait_changed(self) -> set[Symbol]: ...


@dataclass(slots=True)
class LoopStats:
    """Evaluation latency samples (seconds) for metrics and benchmarks."""

    samples: list[float] = field(default_factory=list)
    limit: int = 10_000

    def add(self, seconds: float) -> None:
        if len(self.samples) >= self.limit:
            del self.samples[: self.limit // 2]
        self.samples.append(seconds)


class SignalService:
    """Conflated evaluation: a burst of updates on a symbol costs one evaluation."""

    def __init__(
        self,
        changes: ChangeSource,
        arbitrage: ArbitrageEngine,
        market_view: MarketViewEngine,
        sink: EventSink,
        *,
        stats: OpportunityStats,
        history: HistoryWriter,
        tick_s: float = 0.25,
        flush_s: float = 1.0,
        on_finished: Callable[[list[str]], None] = lambda ids: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.changes = changes
        self.on_finished = on_finished
        self.arbitrage = arbitrage
        self.market_view = market_view
        self.sink = sink
        self.stats = stats
        self.history = history
        self.tick_s = tick_s
        self.flush_s = flush_s
        self.clock = clock
        self.latency = LoopStats()

    def process(self, symbols: set[Symbol], now: float) -> list[Event]:
        """One round: evaluate the dirty symbols, promote pending openings, publish."""
        started = time.perf_counter()
        events: list[Event] = []
        for symbol in sorted(symbols):  # a firing order that does not depend on hashing
            events += self.arbitrage.evaluate(symbol, now)
            events += self.market_view.evaluate(symbol, now)
        events += self.arbitrage.tick(now)
        closed = [e for e in events if isinstance(e, ArbClosed)]
        for event in closed:
            self.stats.record(event)
        self.history.add(closed)
        if events:
            # The bot's own monitors (the demo's watch) only log: the sink, which leads to
            # the chats, never sees them.
            public = [e for e in events if not is_internal(e.owner)]
            if len(public) != len(events):
                log_events([e for e in events if is_internal(e.owner)])
            if public:
                self.sink(public)
        if self.arbitrage.finished:
            finished, self.arbitrage.finished = self.arbitrage.finished, []
            self.on_finished(finished)
        self.latency.add(time.perf_counter() - started)
        return events

    async def run(self) -> None:
        next_flush = self.clock() + self.flush_s
        try:
            while True:
                try:
                    async with asyncio.timeout(self.tick_s):
                        dirty = await self.changes.wait_changed()
                except TimeoutError:
                    dirty = set()
                now = self.clock()
                self.process(dirty, now)
                if now >= next_flush:
                    next_flush = now + self.flush_s
                    if self.history.pending:
                        await asyncio.to_thread(self.history.flush)
        finally:
            self.history.flush()


def log_events(events: Sequence[Event]) -> None:
    """The sink until alerts are delivered: one log line per event."""
    for event in events:
        report = event.to_report()
        log.info(report.pop("kind"), **report)
