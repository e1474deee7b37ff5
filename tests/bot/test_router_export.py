from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from goquant_bot.domain.events import ArbClosed
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.engine.history import OpportunityStats, closed_from_dict
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
