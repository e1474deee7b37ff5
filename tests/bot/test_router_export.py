from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

import pytest

from goquant_bot.domain.events import ArbClosed, ArbFigures
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.engine.history import OpportunityStats, closed_from_dict
from goquant_bot.storage.export import COLUMNS
from tests.bot.harness import ALICE, BOB, T0, Bot, text


def closed(owner: int, ts: float, peak: float = 0.4) -> ArbClosed:
    return ArbClosed(
        "m1",
        owner,
        Symbol("BTC", "USDT"),
        Venue.BINANCE,
        Venue.OKX,
        ts,
        ts - 5,
        peak,
        0.1,
        "below_threshold",
    )


def test_export_sends_the_chats_history_as_csv(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.stats.record(closed(ALICE.chat_id, T0 - 10 * 86_400, 0.9))
    bot.stats.record(closed(ALICE.chat_id, T0 - 3_600, 0.5))
    bot.stats.record(closed(BOB.chat_id, T0 - 60))
    (reply,) = bot.say("/export 7d")
    assert reply.document is not None
    name, content = reply.document
    assert name == "opportunities.csv"
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert [row["peak_edge_pct"] for row in rows] == ["0.5"]  # Bob's and the old one left out
    assert "1 closed opportunity" in reply.text
    (everything,) = bot.say("/export")
    assert everything.document is not None
    assert len(list(csv.DictReader(io.StringIO(everything.document[1].decode())))) == 2


def test_export_carries_venues_prices_size_edges_profit_and_times(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    event = dataclasses.replace(
        closed(ALICE.chat_id, T0 - 60, 0.42),
        peak_at=T0 - 62.5,
        at_open=ArbFigures(64_000.5, 64_300.25, 0.0156, 998.4078, 0.46836, 0.26836, 2.6794),
        at_peak=ArbFigures(64_000.5, 64_310.75, 0.0156, 998.4078, 0.48477, 0.42, 4.1933),
    )
    bot.stats.record(event)
    (reply,) = bot.say("/export 24h")
    assert reply.document is not None
    header, row = csv.reader(io.StringIO(reply.document[1].decode()))
    assert tuple(header) == COLUMNS
    assert dict(zip(header, row, strict=True)) == {
        "opened_at": "2023-11-14T22:12:15.000+00:00", "closed_at": "2023-11-14T22:12:20.000+00:00",
        "duration_s": "5.0", "symbol": "BTC-USDT", "quote_asset": "USDT", "buy_venue": "binance",
        "sell_venue": "okx", "peak_edge_pct": "0.42", "peak_at": "2023-11-14T22:12:17.500+00:00",
        "last_edge_pct": "0.1", "reason": "below_threshold",
        "open_buy_vwap": "64000.5", "open_sell_vwap": "64300.25", "open_size": "0.0156",
        "open_notional": "998.4078", "open_gross_edge_pct": "0.46836",
        "open_net_edge_pct": "0.26836", "open_profit": "2.6794",
        "peak_buy_vwap": "64000.5", "peak_sell_vwap": "64310.75", "peak_size": "0.0156",
        "peak_notional": "998.4078", "peak_gross_edge_pct": "0.48477", "peak_profit": "4.1933",
        "monitor": "m1", "owner": str(ALICE.chat_id),
    }  # fmt: skip
    assert "damaged" not in reply.text


def test_export_says_how_many_damaged_history_lines_are_missing(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    event = closed(ALICE.chat_id, T0 - 60)
    old_line = {**event.to_report(), "owner": ALICE.chat_id, "opened_at": event.opened_at}
    assert bot.stats.load([old_line, {"torn": True}, ["not", "a", "line"]], skipped=1) == 1
    (reply,) = bot.say("/export")
    assert reply.document is not None
    (row,) = csv.DictReader(io.StringIO(reply.document[1].decode()))
    assert (row["peak_edge_pct"], row["open_buy_vwap"], row["peak_at"]) == ("0.4", "", "")
    assert "3 damaged lines of the history file" in reply.text
    (nothing,) = bot.say("/export", BOB)
    assert nothing.document is None
    assert "No closed opportunities" in nothing.text
    assert "3 damaged lines" in nothing.text


@pytest.mark.parametrize("args", ["/export lastweek", "/export 7d 1h", "/export 0d"])
def test_export_refuses_bad_periods_with_an_example(tmp_path: Path, args: str) -> None:
    replies = Bot(tmp_path).say(args)
    assert "/export 7d" in text(replies)
    assert all(r.document is None for r in replies)


def test_export_without_history_says_so(tmp_path: Path) -> None:
    assert "No closed opportunities" in text(Bot(tmp_path).say("/export"))


def test_stats_and_export_survive_a_restart_through_the_history_file() -> None:
    before = OpportunityStats()
    event = closed(7, 1_000.0)
    before.record(event)
    record = {**event.to_report(), "owner": 7, "opened_at": event.opened_at}
    after = OpportunityStats()
    assert after.load([record, {"torn": True}]) == 1
    assert after.closed(7) == [closed_from_dict(record)]
    assert after.summary(7, 1_100.0) == before.summary(7, 1_100.0)
