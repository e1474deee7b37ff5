from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from goquant_bot.cli import main
from goquant_bot.domain.events import ArbClosed
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.engine.history import HistoryWriter
from goquant_bot.storage.export import history_files, read_history, to_csv
from tests.helpers import REPO_ROOT


def closed(ts: float, owner: int = 1) -> ArbClosed:
    return ArbClosed(
        "m1",
        owner,
        Symbol("BTC", "USDT"),
        Venue.BINANCE,
        Venue.OKX,
        ts,
        ts - 4.0,
        0.42,
        0.1,
        "below_threshold",
    )


def test_history_rotates_at_its_size_and_keeps_the_newest_files(tmp_path: Path) -> None:
    path = tmp_path / "opportunities.jsonl"
    writer = HistoryWriter(path, max_bytes=600, backups=2)
    for i in range(20):
        writer.add([closed(1_000.0 + i)])
        writer.flush()
    files = history_files(path)
    assert [f.name for f in files] == [
        "opportunities.jsonl.2",
        "opportunities.jsonl.1",
        "opportunities.jsonl",
    ]
    assert all(f.stat().st_size <= 600 + 400 for f in files)
    times = [r["ts"] for r in read_history(files)]
    assert times == sorted(times)  # oldest first across the rotated files
    assert times[-1] == 1_019.0
    assert len(times) < 20  # the oldest file was dropped


def test_csv_filters_by_time_and_owner(tmp_path: Path) -> None:
    path = tmp_path / "opportunities.jsonl"
    writer = HistoryWriter(path)
    writer.add([closed(1_700_000_000.0), closed(1_700_000_100.0, owner=2), closed(1_700_000_200.0)])
    writer.flush()
    with path.open("a") as fh:
        fh.write('{"torn": ')  # a crash mid-line
    rows = list(
        csv.DictReader(io.StringIO(to_csv(read_history([path], since=1_700_000_050.0, owner=1))))
    )
    assert len(rows) == 1
    assert rows[0]["closed_at"] == "2023-11-14T22:16:40+00:00"
    assert rows[0]["opened_at"] == "2023-11-14T22:16:36+00:00"
    assert (rows[0]["symbol"], rows[0]["buy_venue"], rows[0]["sell_venue"]) == (
        "BTC-USDT",
        "binance",
        "okx",
    )
    assert rows[0]["peak_edge_pct"] == "0.42"


def test_export_command(tmp_path: Path) -> None:
    writer = HistoryWriter(tmp_path / "data" / "opportunities.jsonl")
    writer.add([closed(1_700_000_000.0)])
    writer.flush()
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "main.py"), "export", "--since", "2023-11-01", "--out", "-"],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith(
        "2023-11-14T22:13:16+00:00,2023-11-14T22:13:20+00:00,4.0,BTC-USDT"
    )


def test_export_refuses_a_date_it_cannot_read(capsys: pytest.CaptureFixture[str]) -> None:
    # The entry point itself is exercised above; argument errors need no second process.
    with pytest.raises(SystemExit) as info:
        main(["export", "--since", "last week", "--out", "-"])
    assert info.value.code == 2
    assert "is not a date" in capsys.readouterr().err
