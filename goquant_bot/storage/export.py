"""Opportunity history (JSON Lines, rotated) to CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from goquant_bot.domain.events import ArbClosed, ArbFigures

FIGURES = ("buy_vwap", "sell_vwap", "size", "notional", "gross_edge_pct", "net_edge_pct", "profit")
COLUMNS = (
    "opened_at", "closed_at", "duration_s", "symbol", "quote_asset", "buy_venue", "sell_venue",
    "peak_edge_pct", "peak_at", "last_edge_pct", "reason",
    *(f"open_{name}" for name in FIGURES),
    *(f"peak_{name}" for name in FIGURES if name != "net_edge_pct"),  # that is peak_edge_pct
    "monitor", "owner",
)  # fmt: skip


@dataclass(slots=True)
class Skipped:
    """Damaged history lines left out while reading: how many, and where the first one was."""

    count: int = 0
    first: str = ""  # "file:line"

    def add(self, path: Path, line: int) -> None:
        if not self.count:
            self.first = f"{path.name}:{line}"
        self.count += 1


def history_files(path: Path) -> list[Path]:
    """The current history file and its rotated predecessors, oldest first."""
    rotated = sorted(path.parent.glob(path.name + ".*"), key=lambda p: p.suffix, reverse=True)
    return [p for p in rotated if p.suffix[1:].isdigit()] + ([path] if path.exists() else [])


def read_closed(
    paths: Iterable[Path],
    *,
    since: float = 0.0,
    owner: int | None = None,
    skipped: Skipped | None = None,
) -> Iterator[tuple[dict[str, object], ArbClosed]]:
    """Closed opportunities from ``since`` (epoch seconds), optionally of one owner, with the
    line each came from.

    A line that is not a closed opportunity (a torn last line after a crash, a damaged
    file) is skipped and counted in ``skipped``; lines of older versions, which lack
    some fields, are read with those fields empty.
    """
    for path in paths:
        try:
            fh = path.open("rb")  # bytes: invalid UTF-8 is one more damaged line
        except FileNotFoundError:
            continue  # rotated away while reading
        with fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    event = ArbClosed.from_record(record)
                except (ValueError, KeyError, TypeError, AttributeError):
                    if skipped is not None:
                        skipped.add(path, number)
                    continue
                if event.ts < since or (owner is not None and event.owner != owner):
                    continue
                yield record, event


def read_history(
    paths: Iterable[Path],
    *,
    since: float = 0.0,
    owner: int | None = None,
    skipped: Skipped | None = None,
) -> Iterator[dict[str, object]]:
    """The history lines of ``read_closed`` as they were written."""
    for record, _ in read_closed(paths, since=since, owner=owner, skipped=skipped):
        yield record


def _iso(ts: float | None) -> str:
    if ts is None:
        return ""
    try:
        return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="milliseconds")
    except (ValueError, OverflowError, OSError):  # NaN or out of range: no date to show
        return ""


def _round(value: float | None, digits: int) -> float | str:
    return "" if value is None else round(value, digits)


def _sig(value: float) -> float:
    return float(f"{value:.12g}")


def _figures(figures: ArbFigures | None, *, with_net: bool) -> list[float | str]:
    if figures is None:
        return [""] * (len(FIGURES) - (0 if with_net else 1))
    prices = [_sig(figures.buy_price), _sig(figures.sell_price), _sig(figures.size)]
    edges = [round(figures.gross_edge_pct, 6)] + ([round(figures.edge_pct, 6)] if with_net else [])
    return [*prices, _sig(figures.notional), *edges, round(figures.profit, 8)]


def csv_row(e: ArbClosed) -> list[object]:
    """One closed opportunity in the order of ``COLUMNS``; unknown figures are left empty."""
    return [
        _iso(e.opened_at), _iso(e.ts), round(e.duration_s, 3), str(e.symbol), e.symbol.quote,
        e.buy_venue.value, e.sell_venue.value, round(e.peak_edge_pct, 6), _iso(e.peak_at),
        _round(e.last_edge_pct, 6), e.reason,
        *_figures(e.at_open, with_net=True), *_figures(e.at_peak, with_net=False),
        e.monitor_id, e.owner,
    ]  # fmt: skip


def to_csv(events: Iterable[ArbClosed]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(csv_row(e) for e in events)
    return out.getvalue()
