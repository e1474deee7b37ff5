from __future__ import annotations

import json
from pathlib import Path

import pytest

from goquant_bot.domain.events import ArbClosed
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.engine.history import HistoryWriter, OpportunityStats

BTC, ETH = Symbol("BTC", "USDT"), Symbol("ETH", "USDT")


def closed(ts: float, duration: float, peak: float, *, owner: int = 1, symbol: Symbol = BTC,
           buy: Venue = Venue.BINANCE, sell: Venue = Venue.OKX) -> ArbClosed:  # fmt: skip
    return ArbClosed(
        "m1", owner, symbol, buy, sell, ts, ts - duration, peak, 0.01, "below_threshold"
    )


def test_stats_per_pair_over_one_hour_one_day_and_all() -> None:
    stats = OpportunityStats()
    now = 200_000.0
    stats.record(closed(now - 100_000, 10, 0.9))  # older than a day: "all" only
    stats.record(closed(now - 7_200, 20, 0.5))  # within 24 h
    stats.record(closed(now - 60, 4, 0.3))  # within 1 h
    stats.record(closed(now - 30, 2, 0.1, buy=Venue.OKX, sell=Venue.BINANCE))
    stats.record(closed(now - 30, 2, 0.7, owner=2))  # someone else's
    summary = stats.summary(owner=1, now=now)
    assert set(summary) == {"BTC-USDT binance->okx", "BTC-USDT okx->binance"}
    pair = summary["BTC-USDT binance->okx"]
    assert pair["1h"] == {
        "count": 1,
        "mean_edge_pct": 0.3,
        "max_edge_pct": 0.3,
        "mean_duration_s": 4.0,
        "max_duration_s": 4.0,
    }
    assert pair["24h"]["count"] == 2
    assert pair["24h"]["mean_edge_pct"] == pytest.approx(0.4)
    assert pair["24h"]["max_duration_s"] == 20.0
    assert pair["all"]["count"] == 3
    assert pair["all"]["max_edge_pct"] == 0.9
    assert stats.summary(owner=3, now=now) == {}
    assert len(stats.recent) == 4  # the day-old one left the recent window


def test_history_appends_json_lines(tmp_path: Path) -> None:
    writer = HistoryWriter(tmp_path / "data" / "opportunities.jsonl")
    writer.add([closed(100.0, 5.0, 0.4)])
    assert writer.pending == 1
    writer.flush()
    writer.add([closed(200.0, 1.0, 0.2, symbol=ETH)])
    writer.flush()
    lines = [
        json.loads(line)
        for line in (tmp_path / "data" / "opportunities.jsonl").read_text().splitlines()
    ]
    assert [line["symbol"] for line in lines] == ["BTC-USDT", "ETH-USDT"]
    assert lines[0] == {
        "ts": 100.0, "monitor": "m1", "kind": "arbitrage_close", "symbol": "BTC-USDT",
        "buy_venue": "binance", "sell_venue": "okx", "duration_s": 5.0, "peak_edge_pct": 0.4,
        "last_edge_pct": 0.01, "reason": "below_threshold", "owner": 1, "opened_at": 95.0,
    }  # fmt: skip
    assert writer.pending == 0


def test_history_keeps_lines_when_the_disk_refuses(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the directory should be")
    writer = HistoryWriter(blocker / "opportunities.jsonl")
    writer.add([closed(100.0, 5.0, 0.4)])
    writer.flush()
    assert writer.pending == 1  # kept for the next attempt
    blocker.unlink()
    writer.flush()
    assert writer.pending == 0
    assert len((blocker / "opportunities.jsonl").read_text().splitlines()) == 1
