"""Opportunity history (JSON Lines, rotated) to CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

COLUMNS = (
    "opened_at", "closed_at", "duration_s", "symbol", "buy_venue", "sell_venue",
    "peak_edge_pct", "last_edge_pct", "reason", "monitor", "owner",
)  # fmt: skip


def history_files(path: Path) -> list[Path]:
    """The current history file and its rotated predecessors, oldest first."""
    rotated = sorted(path.parent.glob(path.name + ".*"), key=lambda p: p.suffix, reverse=True)
    return [p for p in rotated if p.suffix[1:].isdigit()] + ([path] if path.exists() else [])


def read_history(
    paths: Iterable[Path], *, since: float = 0.0, owner: int | None = None
) -> Iterator[dict[str, object]]:
    """Closed opportunities from ``since`` (epoch seconds), optionally of one owner.

    A line that does not parse (a torn last line after a crash) is skipped.
    """
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if not isinstance(record, dict) or float(record.get("ts", 0)) < since:
                    continue
                if owner is not None and record.get("owner") != owner:
                    continue
                yield record


def _iso(ts: object) -> str:
    return datetime.fromtimestamp(float(ts), tz=UTC).isoformat(timespec="seconds")  # type: ignore[arg-type]


def to_csv(records: Iterable[dict[str, object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in records:
        writer.writerow([
            _iso(r.get("opened_at", 0)), _iso(r.get("ts", 0)), r.get("duration_s"), r.get("symbol"),
            r.get("buy_venue"), r.get("sell_venue"), r.get("peak_edge_pct"), r.get("last_edge_pct"),
            r.get("reason"), r.get("monitor"), r.get("owner"),
        ])  # fmt: skip
    return out.getvalue()
