from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from goquant_bot.domain.events import ArbClosed, ArbFigures, ArbOpened
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.engine.history import HistoryWriter, OpportunityStats
from goquant_bot.storage.export import Skipped, history_files, read_history, to_csv
from tests.engine.test_arbitrage_engine import BIN, OKX, Books, calm, engine, monitor

BTC, ETH = Symbol("BTC", "USDT"), Symbol("ETH", "USDT")
AT_OPEN = ArbFigures(100.0, 100.5, 10.0, 1000.0, 0.5, 0.299401, 2.997)
AT_PEAK = ArbFigures(100.0, 100.6, 10.0, 1000.0, 0.6, 0.399202, 3.996)


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
    event = dataclasses.replace(closed(100.0, 5.0, 0.399202), peak_at=97.5, at_open=AT_OPEN,
                                at_peak=AT_PEAK)  # fmt: skip
    writer.add([event])
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
        "buy_venue": "binance", "sell_venue": "okx", "duration_s": 5.0,
        "peak_edge_pct": 0.399202, "last_edge_pct": 0.01, "reason": "below_threshold",
        "owner": 1, "opened_at": 95.0, "peak_at": 97.5,
        "at_open": {"buy_vwap": 100.0, "sell_vwap": 100.5, "size": 10.0, "notional": 1000.0,
                    "gross_edge_pct": 0.5, "net_edge_pct": 0.299401, "profit": 2.997},
        "at_peak": {"buy_vwap": 100.0, "sell_vwap": 100.6, "size": 10.0, "notional": 1000.0,
                    "gross_edge_pct": 0.6, "net_edge_pct": 0.399202, "profit": 3.996},
    }  # fmt: skip
    assert (lines[1]["peak_at"], lines[1]["at_open"], lines[1]["at_peak"]) == (None, None, None)
    assert writer.pending == 0


def test_history_round_trip_keeps_every_field(tmp_path: Path) -> None:
    path = tmp_path / "opportunities.jsonl"
    event = dataclasses.replace(closed(100.0, 5.0, 0.399202), peak_at=97.5, at_open=AT_OPEN,
                                at_peak=AT_PEAK)  # fmt: skip
    bare = closed(200.0, 1.0, 0.2, symbol=ETH)
    writer = HistoryWriter(path)
    writer.add([event, bare])
    writer.flush()
    stats = OpportunityStats()
    skipped = Skipped()
    assert stats.load(list(read_history([path], skipped=skipped))) == 2
    assert stats.closed(1) == [event, bare]
    assert (skipped.count, stats.skipped) == (0, 0)


def test_old_and_new_history_lines_both_feed_the_statistics(tmp_path: Path) -> None:
    path = tmp_path / "opportunities.jsonl"
    old = {  # a line as versions without the figures wrote it
        "ts": 1_000.0, "monitor": "m1", "kind": "arbitrage_close", "symbol": "BTC-USDT",
        "buy_venue": "binance", "sell_venue": "okx", "duration_s": 4.0, "peak_edge_pct": 0.3,
        "last_edge_pct": None, "reason": "stale", "owner": 1, "opened_at": 996.0,
    }  # fmt: skip
    new = dataclasses.replace(closed(1_100.0, 10.0, 0.5), peak_at=1_095.0, at_peak=AT_PEAK)
    with path.open("wb") as fh:
        fh.write(json.dumps(old).encode() + b"\n")
        fh.write(b'{"ts": "yesterday", "owner": 1}\n')  # parses, but is not an opportunity
        fh.write(json.dumps(new.to_record()).encode() + b"\n")
        fh.write(b'{"ts": 1200.0, "monitor": "\xff\xfe"}\n')  # not even UTF-8
    stats = OpportunityStats()
    skipped = Skipped()
    records = list(read_history([path], skipped=skipped))  # as the start-up does
    assert stats.load(records, skipped=skipped.count) == 2
    assert (skipped.count, skipped.first, stats.skipped) == (2, "opportunities.jsonl:2", 2)
    restored_old, restored_new = stats.closed(1)
    assert (restored_old.reason, restored_old.at_open, restored_old.peak_at) == (
        "stale",
        None,
        None,
    )
    assert restored_new == new
    pair = stats.summary(1, now=1_200.0)["BTC-USDT binance->okx"]
    assert pair["1h"] == {
        "count": 2, "mean_edge_pct": 0.4, "max_edge_pct": 0.5,
        "mean_duration_s": 7.0, "max_duration_s": 10.0,
    }  # fmt: skip


def test_a_torn_last_line_does_not_swallow_the_next_one(tmp_path: Path) -> None:
    path = tmp_path / "opportunities.jsonl"
    path.write_text('{"ts": 50.0, "monitor": "m1", "sym')  # the process died mid-line
    writer = HistoryWriter(path)
    writer.add([closed(100.0, 5.0, 0.4)])
    writer.flush()
    skipped = Skipped()
    assert [r["ts"] for r in read_history(history_files(path), skipped=skipped)] == [100.0]
    assert skipped.count == 1


def test_engine_closings_carry_the_figures_at_opening_and_at_the_peak(tmp_path: Path) -> None:
    books = Books()
    calm(books)
    arb = engine(books)
    arb.add_monitor(monitor(), 100.0)
    books.set(OKX, 100.5, 100.7, ts=101.0)  # buy Binance at 100, sell OKX at 100.5
    books.set(BIN, 99.9, 100.0, ts=101.0)
    (opened,) = arb.evaluate(BTC, 101.0)
    assert isinstance(opened, ArbOpened)
    books.set(OKX, 100.6, 100.8, ts=102.0)  # the peak
    assert arb.evaluate(BTC, 102.0) == []
    books.set(OKX, 100.48, 100.8, ts=103.0)  # lower, inside the hysteresis band
    assert arb.evaluate(BTC, 103.0) == []
    calm(books, ts=104.0)
    (event,) = arb.evaluate(BTC, 104.0)
    assert isinstance(event, ArbClosed)
    assert (event.opened_at, event.peak_at, event.ts) == (101.0, 102.0, 104.0)
    assert event.at_open is not None
    assert event.at_peak is not None
    assert event.at_open == ArbFigures(
        opened.buy_price, opened.sell_price, opened.size, opened.notional,
        pytest.approx(0.5), opened.edge_pct, opened.profit,
    )  # fmt: skip
    cost, proceeds = 1000 * 1.001, 1006 * 0.999
    assert event.at_peak.sell_price == pytest.approx(100.6)
    assert event.at_peak.gross_edge_pct == pytest.approx(0.6)
    assert event.at_peak.profit == pytest.approx(proceeds - cost)
    assert (
        event.at_peak.edge_pct
        == event.peak_edge_pct
        == pytest.approx((proceeds - cost) / cost * 100)
    )
    # What the bot exports from memory is what the CLI exports from the file.
    path = tmp_path / "opportunities.jsonl"
    writer = HistoryWriter(path)
    writer.add([event])
    writer.flush()
    stats = OpportunityStats()
    stats.load(read_history([path]))
    assert to_csv(stats.closed(7)) == to_csv([event])


def test_an_opportunity_open_across_a_restart_closes_without_what_was_lost() -> None:
    books = Books()
    books.set(BIN, 99.9, 100.0, ts=101.0)
    books.set(OKX, 100.6, 100.8, ts=101.0)
    before = engine(books)
    before.add_monitor(monitor(), 100.0)
    before.evaluate(BTC, 101.0)
    saved = before.export_open()["m1"]
    after = engine(books)
    after.add_monitor(monitor(), 200.0)
    after.restore_open("m1", saved)
    books.set(OKX, 100.5, 100.7, ts=201.0)  # below the peak seen before the restart
    books.set(BIN, 99.9, 100.0, ts=201.0)
    assert after.evaluate(BTC, 201.0) == []
    calm(books, ts=202.0)
    (event,) = after.evaluate(BTC, 202.0)
    assert isinstance(event, ArbClosed)
    assert event.peak_edge_pct == pytest.approx(saved[0].peak_edge_pct)
    assert (event.peak_at, event.at_open, event.at_peak) == (None, None, None)


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
