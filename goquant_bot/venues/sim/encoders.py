"""Venue wire formats for the demo simulator: stream frames and JSON-RPC answers.

Pure functions of a ``SimBook`` (or the model): what the real venue would send in the same
situation, in its exact shape, so the real protocol classes parse it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import orjson

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.venues.sim.book import SimBook
from goquant_bot.venues.sim.model import MarketModel

Levels = Iterable[tuple[int, int]]
# (price, size, the client already had this price): Deribit tells "new" from "change".
Entries = Iterable[tuple[int, int, bool]]


def dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def native_name(venue: Venue, symbol: Symbol) -> str:
    """The venue's own name of a pair: BTCUSDT, BTC-USDT, BTC_USDC (or BTC/USD for Kraken)."""
    if venue in (Venue.OKX, Venue.COINBASE):
        return f"{symbol.base}-{symbol.quote}"
    if venue is Venue.DERIBIT:
        return f"{symbol.base}_{symbol.quote}"
    if venue is Venue.KRAKEN:
        return f"{symbol.base}/{symbol.quote}"
    return f"{symbol.base}{symbol.quote}"


def text_levels(book: SimBook, levels: Levels) -> list[list[str]]:
    """``[["65000.01", "0.15000"], ...]``: decimal strings (Binance, Bybit)."""
    return [[book.price_text(p), book.size_text(s)] for p, s in levels]


def okx_levels(book: SimBook, levels: Levels) -> list[list[str]]:
    """``[[price, size, "0", orders], ...]``: the order count is a stable fake."""
    return [
        [book.price_text(p), book.size_text(s), "0", str(1 + (p + s) % 9 if s else 0)]
        for p, s in levels
    ]


def number_levels(book: SimBook, levels: Levels) -> list[list[float]]:
    """``[[65000.01, 0.15], ...]``: JSON numbers (Deribit)."""
    return [[float(book.price_text(p)), float(book.size_text(s))] for p, s in levels]


def deribit_changes(book: SimBook, entries: Entries) -> list[list[Any]]:
    """``[["new", 65000.01, 0.15], ["change", ...], ["delete", 64999.5, 0.0]]``."""
    out: list[list[Any]] = []
    for price, size, known in entries:
        action = "delete" if size == 0 else "change" if known else "new"
        out.append([action, float(book.price_text(price)), float(book.size_text(size))])
    return out


# -- stream frames -------------------------------------------------------------------------


def binance_depth_update(
    book: SimBook, first: int, last: int, bids: Levels, asks: Levels
) -> dict[str, Any]:
    return {
        "e": "depthUpdate",
        "E": book.ts_ms,
        "s": native_name(Venue.BINANCE, book.symbol),
        "U": first,
        "u": last,
        "b": text_levels(book, bids),
        "a": text_levels(book, asks),
    }


def binance_partial_depth(book: SimBook, depth: int) -> dict[str, Any]:
    return {
        "lastUpdateId": book.last_id,
        "bids": text_levels(book, book.top(True, depth)),
        "asks": text_levels(book, book.top(False, depth)),
    }


def binance_book_ticker(book: SimBook) -> dict[str, Any]:
    (bid, bid_size), (ask, ask_size) = book.top(True, 1)[0], book.top(False, 1)[0]
    return {
        "u": book.last_id,
        "s": native_name(Venue.BINANCE, book.symbol),
        "b": book.price_text(bid),
        "B": book.size_text(bid_size),
        "a": book.price_text(ask),
        "A": book.size_text(ask_size),
    }


def okx_books(book: SimBook, action: str, prev: int, seq: int, bids: Levels, asks: Levels) -> str:
    """A ``books`` push: a snapshot (``prev`` -1) or an update chained by seqId."""
    name = native_name(Venue.OKX, book.symbol)
    item = {
        "asks": okx_levels(book, asks),
        "bids": okx_levels(book, bids),
        "ts": str(book.ts_ms),
        "checksum": 0,
        "prevSeqId": prev,
        "seqId": seq,
    }
    return dumps({"arg": {"channel": "books", "instId": name}, "action": action, "data": [item]})


def okx_top(book: SimBook, channel: str, depth: int) -> str:
    """A ``books5`` or ``bbo-tbt`` push: the top levels, whole."""
    name = native_name(Venue.OKX, book.symbol)
    item = {
        "asks": okx_levels(book, book.top(False, depth)),
        "bids": okx_levels(book, book.top(True, depth)),
        "instId": name,
        "ts": str(book.ts_ms),
        "seqId": book.last_id,
    }
    return dumps({"arg": {"channel": channel, "instId": name}, "data": [item]})


def bybit_orderbook(
    book: SimBook, topic: str, kind: str, update_id: int, bids: Levels, asks: Levels
) -> str:
    return dumps(
        {
            "topic": topic,
            "type": kind,
            "ts": book.ts_ms,
            "data": {
                "s": native_name(Venue.BYBIT, book.symbol),
                "b": text_levels(book, bids),
                "a": text_levels(book, asks),
                "u": update_id,
                "seq": book.last_id,
            },
            "cts": book.ts_ms - 3,
        }
    )


def deribit_book(
    book: SimBook, channel: str, prev: int | None, change_id: int, bids: Entries, asks: Entries
) -> str:
    """A ``book.{inst}.100ms`` notification: a snapshot (``prev`` None) or a change."""
    data: dict[str, Any] = {
        "type": "snapshot" if prev is None else "change",
        "timestamp": book.ts_ms,
        "instrument_name": native_name(Venue.DERIBIT, book.symbol),
        "change_id": change_id,
        "bids": deribit_changes(book, bids),
        "asks": deribit_changes(book, asks),
    }
    if prev is not None:
        data["prev_change_id"] = prev
    return deribit_notification(channel, data)


def deribit_grouped_book(book: SimBook, channel: str, depth: int) -> str:
    """A ``book.{inst}.none.{depth}.100ms`` notification: the top levels, no actions."""
    data = {
        "timestamp": book.ts_ms,
        "instrument_name": native_name(Venue.DERIBIT, book.symbol),
        "change_id": book.last_id,
        "bids": number_levels(book, book.top(True, depth)),
        "asks": number_levels(book, book.top(False, depth)),
    }
    return deribit_notification(channel, data)


def deribit_notification(channel: str, data: Any) -> str:
    return dumps(
        {"jsonrpc": "2.0", "method": "subscription", "params": {"channel": channel, "data": data}}
    )


def deribit_reply(request_id: Any, ts_ms: int, result: Any = None, error: Any = None) -> str:
    """A JSON-RPC answer; REST answers carry no ``id`` (``request_id`` None)."""
    msg: dict[str, Any] = {"jsonrpc": "2.0"}
    if request_id is not None:
        msg["id"] = request_id
    if error is not None:
        msg["error"] = error
    else:
        msg["result"] = result
    us = ts_ms * 1000
    msg.update(usIn=us, usOut=us + 35, usDiff=35, testnet=False)
    return dumps(msg)


def iso_time(ts_ms: int) -> str:
    """Epoch milliseconds as ``2023-02-09T20:32:50.714Z`` (Coinbase's and Kraken's format)."""
    seconds, ms = divmod(ts_ms, 1000)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(seconds))}.{ms:03d}Z"


def coinbase_updates(book: SimBook, bids: Levels, asks: Levels) -> list[dict[str, str]]:
    """``[{"side":"bid","event_time":...,"price_level":"65000.01","new_quantity":"0.15"}]``."""
    stamp = iso_time(book.ts_ms)
    return [
        {
            "side": side,
            "event_time": stamp,
            "price_level": book.price_text(p),
            "new_quantity": book.size_text(s),
        }
        for side, levels in (("bid", bids), ("offer", asks))
        for p, s in levels
    ]


def coinbase_l2(book: SimBook, seq: int, kind: str, bids: Levels, asks: Levels) -> str:
    """An ``l2_data`` message numbered ``seq`` on its connection."""
    event = {
        "type": kind,
        "product_id": native_name(Venue.COINBASE, book.symbol),
        "updates": coinbase_updates(book, bids, asks),
    }
    return coinbase_message("l2_data", seq, book.ts_ms, [event])


def coinbase_message(channel: str, seq: int, ts_ms: int, events: list[Any]) -> str:
    return dumps(
        {
            "channel": channel,
            "client_id": "",
            "timestamp": iso_time(ts_ms),
            "sequence_num": seq,
            "events": events,
        }
    )


def book_time(model: MarketModel) -> int:
    """The model's current time in epoch milliseconds."""
    return round(model.time * 1000)
