from __future__ import annotations

import csv
import dataclasses
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from goquant_bot.cli import main
from goquant_bot.domain.events import ArbClosed, ArbFigures
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.engine.history import HistoryWriter
from goquant_bot.storage.export import Skipped, history_files, read_closed, read_history, to_csv
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
        csv.DictReader(
            io.StringIO(to_csv(e for _, e in read_closed([path], since=1_700_000_050.0, owner=1)))
        )
    )
    assert len(rows) == 1
    assert rows[0]["closed_at"] == "2023-11-14T22:16:40.000+00:00"
    assert rows[0]["opened_at"] == "2023-11-14T22:16:36.000+00:00"
    assert (rows[0]["symbol"], rows[0]["buy_venue"], rows[0]["sell_venue"]) == (
        "BTC-USDT",
        "binance",
        "okx",
    )
    assert rows[0]["peak_edge_pct"] == "0.42"


HEADER = (
    "opened_at,closed_at,duration_s,symbol,quote_asset,buy_venue,sell_venue,peak_edge_pct,"
    "peak_at,last_edge_pct,reason,open_buy_vwap,open_sell_vwap,open_size,open_notional,"
    "open_gross_edge_pct,open_net_edge_pct,open_profit,peak_buy_vwap,peak_sell_vwap,peak_size,"
    "peak_notional,peak_gross_edge_pct,peak_profit,monitor,owner"
)


def full(ts: float) -> ArbClosed:
    """A closing with every figure, as the engine writes it today."""
    return dataclasses.replace(
        closed(ts),
        peak_at=ts - 1.25,
        at_open=ArbFigures(64_000.5, 64_300.25, 0.0156, 998.4078, 0.46836, 0.26836, 2.6794),
        at_peak=ArbFigures(64_000.5, 64_310.75, 0.0156, 998.4078, 0.48477, 0.42, 4.1933),
    )


def test_csv_header_and_row_exactly() -> None:
    lines = to_csv([full(1_700_000_000.0)]).splitlines()
    assert lines == [
        HEADER,
        "2023-11-14T22:13:16.000+00:00,2023-11-14T22:13:20.000+00:00,4.0,BTC-USDT,USDT,binance,"
        "okx,0.42,2023-11-14T22:13:18.750+00:00,0.1,below_threshold,64000.5,64300.25,0.0156,"
        "998.4078,0.46836,0.26836,2.6794,64000.5,64310.75,0.0156,998.4078,0.48477,4.1933,m1,1",
    ]


def test_old_lines_export_with_the_new_columns_empty(tmp_path: Path) -> None:
    path = tmp_path / "opportunities.jsonl"
    old = {  # as versions without the figures wrote it (the guard had failed: no last edge)
        "ts": 1_700_000_000.0, "monitor": "m1", "kind": "arbitrage_close", "symbol": "ETH-USDC",
        "buy_venue": "okx", "sell_venue": "bybit", "duration_s": 2.5, "peak_edge_pct": 0.31,
        "last_edge_pct": None, "reason": "stale", "owner": 5, "opened_at": 1_699_999_997.5,
    }  # fmt: skip
    path.write_text(json.dumps(old) + "\n" + json.dumps(full(1_700_000_100.0).to_record()) + "\n")
    rows = list(csv.DictReader(io.StringIO(to_csv(e for _, e in read_closed([path])))))
    assert len(rows) == 2
    assert rows[0] == {
        **dict.fromkeys(HEADER.split(","), ""),
        "opened_at": "2023-11-14T22:13:17.500+00:00", "closed_at": "2023-11-14T22:13:20.000+00:00",
        "duration_s": "2.5", "symbol": "ETH-USDC", "quote_asset": "USDC", "buy_venue": "okx",
        "sell_venue": "bybit", "peak_edge_pct": "0.31", "reason": "stale", "monitor": "m1",
        "owner": "5",
    }  # fmt: skip
    assert rows[1]["peak_profit"] == "4.1933"


def test_damaged_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "opportunities.jsonl"
    good = json.dumps(full(1_700_000_000.0).to_record(), separators=(",", ":"))
    damaged = [
        '{"ts": 1700000001.0, "monitor": "m1"',  # cut short
        '["a", "list"]',
        good.replace('"owner":1', '"owner":"one"'),
        good.replace('"size":0.0156', '"size":null'),  # figures present but damaged
    ]
    path.write_text("\n".join([good, *damaged, "", good]) + "\n")  # a blank line is no damage
    skipped = Skipped()
    events = [e for _, e in read_closed([path], skipped=skipped)]
    assert len(events) == 2
    assert (skipped.count, skipped.first) == (4, "opportunities.jsonl:2")


def test_export_command(tmp_path: Path) -> None:
    path = tmp_path / "data" / "opportunities.jsonl"
    writer = HistoryWriter(path)
    writer.add([full(1_700_000_000.0)])
    writer.flush()
    with path.open("a") as fh:
        fh.write("not json\n")
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "main.py"), "export", "--since", "2023-11-01", "--out", "-"],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == to_csv([full(1_700_000_000.0)]).splitlines()
    assert result.stdout.splitlines()[0] == HEADER
    assert "skipped 1 damaged history line (first at opportunities.jsonl:2)" in result.stderr


def test_export_refuses_a_date_it_cannot_read(capsys: pytest.CaptureFixture[str]) -> None:
    # The entry point itself is exercised above; argument errors need no second process.
    with pytest.raises(SystemExit) as info:
        main(["export", "--since", "last week", "--out", "-"])
    assert info.value.code == 2
    assert "is not a date" in capsys.readouterr().err
