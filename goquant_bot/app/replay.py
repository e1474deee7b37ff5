"""``replay --monitors``: the bot's own signal path, driven by captured books."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from goquant_bot.app.signals import build_signal_path
from goquant_bot.domain.events import Event
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.engine.arb_records import ArbConfig
from goquant_bot.engine.history import HistoryWriter
from goquant_bot.engine.replay import ReplayBooks
from goquant_bot.errors import RejectedInput
from goquant_bot.monitors.dispatch import LocalDispatcher
from goquant_bot.monitors.events import EngineSignals
from goquant_bot.monitors.records import MonitorRecord
from goquant_bot.monitors.service import MonitorLimits


def replay_with_signals(
    paths: Sequence[Path],
    records: Sequence[MonitorRecord],
    config: ArbConfig,
    *,
    book_max_age_s: float,
    depth: int = 200,
    gomarket_max_lag_s: float = 10.0,
) -> dict[str, Any]:
    """The replay report plus ``alerts``: every event in firing order, at capture time."""
    books = ReplayBooks(depth, gomarket_max_lag_s)
    events = LocalDispatcher()
    alerts: list[Event] = []
    # A capture names its own venues: every venue counts as listing every symbol.
    path = build_signal_path(
        books,
        lambda symbol: list(Venue),
        config,
        events,
        records=records,
        limits=MonitorLimits(),
        book_max_age_s=book_max_age_s,
        history=HistoryWriter(Path(os.devnull)),  # never flushed: a replay writes no history
        publish_signals=False,  # the loop's events are collected below, each once
        clock=books.clock,
    )
    events.subscribe(EngineSignals, lambda batch: alerts.extend(batch.events))

    def start() -> None:
        for problem in path.monitors.restore():
            raise RejectedInput(problem)

    def evaluate(symbols: set[Symbol], ts: float) -> None:
        alerts.extend(path.loop.process(symbols, ts))

    report = books.run(paths, start=start, evaluate=evaluate, book_max_age_s=book_max_age_s)
    report["alerts"] = [event.to_report() for event in alerts]
    report["guards"] = dict(sorted(path.arbitrage.guards.items()))
    return report
