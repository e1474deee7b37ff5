"""The outcome of a replay: final books, counters, and the JSON report printed from them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from goquant_bot.domain.book import OrderBook
from goquant_bot.domain.instruments import InstrumentKey
from goquant_bot.domain.trades import Trade
from goquant_bot.venues.capture import CaptureHeader


@dataclass(slots=True)
class ReplayResult:
    """Books and counters at the end of a replay."""

    books: dict[InstrumentKey, OrderBook]
    updates: dict[InstrumentKey, int]  # summed over every connection that held the book
    resyncs: dict[InstrumentKey, int]
    skipped: Counter[str]
    errors: Counter[str]
    record_types: Counter[str]
    records: int
    files: int
    headers: list[CaptureHeader | None] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # in words: where a file broke off
    last_trades: dict[InstrumentKey, Trade] = field(default_factory=dict)
    trade_counts: Counter[InstrumentKey] = field(default_factory=Counter)

    def report(self) -> dict[str, Any]:
        """A JSON-serialisable summary; the same captures always give the same report."""
        books: dict[str, dict[str, Any]] = {}
        for key in sorted(self.books, key=str):
            book = self.books[key]
            l1 = book.l1()
            books[str(key)] = {
                "bid": l1.bid,
                "bid_size": l1.bid_size,
                "ask": l1.ask,
                "ask_size": l1.ask_size,
                "bid_levels": len(book.bids),
                "ask_levels": len(book.asks),
                "updates": self.updates[key],
                "resyncs": self.resyncs[key],
                "state": book.state.value,
                "integrity": book.trust.value,  # what the messages that built it let us check
            }
            trade = self.last_trades.get(key)
            if trade is not None:
                books[str(key)]["trades"] = self.trade_counts[key]
                books[str(key)]["last_trade"] = trade_report(trade)
        # Book keys ("venue:BASE-QUOTE") sit at the top level beside the counters.
        return {
            **books,
            "files": self.files,
            "records": self.records,
            "record_types": dict(sorted(self.record_types.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "errors": dict(sorted(self.errors.items())),
            "problems": list(self.problems),
        }


def trade_report(trade: Trade) -> dict[str, Any]:
    """A trade as the replay report shows it."""
    return {
        "price": trade.price,
        "size": trade.size,
        "side": trade.side.value,
        "venue_ts": trade.venue_ts,
        "recv_ts": trade.recv_ts,
        "trade_id": trade.trade_id,
    }
