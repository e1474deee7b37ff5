"""Bitfinex ``trades`` channels: their ids on one connection and their messages (sans-I/O).

A trades channel counts against the 25 channels of a connection like a book does.
Messages: the snapshot ``[CHAN,[[ID,MTS,AMOUNT,PRICE],...],SEQ]``, an executed trade
``[CHAN,"te",[ID,MTS,AMOUNT,PRICE],SEQ]`` (its ``tu`` repeat is skipped) and heartbeats.
AMOUNT > 0: the taker bought; < 0: the taker sold.
"""

from __future__ import annotations

from typing import Any

import orjson

from goquant_bot.domain.instruments import Symbol
from goquant_bot.domain.trades import TakerSide

TRADES = "trades"


class TradeChannels:
    """The trades channels of one connection: subscribed, pending and cancelled."""

    def __init__(self) -> None:
        self.symbol_of: dict[int, Symbol] = {}
        self.chan_of: dict[Symbol, int] = {}
        self.pending: set[Symbol] = set()
        self.cancelled: set[Symbol] = set()

    def clear(self) -> None:
        self.symbol_of.clear()
        self.chan_of.clear()
        self.pending.clear()
        self.cancelled.clear()

    def subscribe(self, symbol: Symbol, native: str) -> str | None:
        """The subscribe frame, or None when the channel is there or on its way."""
        self.cancelled.discard(symbol)
        if symbol in self.pending or symbol in self.chan_of:
            return None
        self.pending.add(symbol)
        return orjson.dumps({"event": "subscribe", "channel": TRADES, "symbol": native}).decode()

    def unsubscribe(self, symbol: Symbol) -> str | None:
        """The unsubscribe frame; a pending channel is dropped once its id is known."""
        chan_id = self.chan_of.pop(symbol, None)
        if chan_id is None:
            if symbol in self.pending:
                self.cancelled.add(symbol)
            return None
        self.symbol_of.pop(chan_id, None)
        return unsubscribe_frame(chan_id)

    def subscribed(self, chan_id: int, symbol: Symbol) -> str | None:
        """The venue's answer: the channel is ours, or (cancelled meanwhile) the frame that
        drops it."""
        self.pending.discard(symbol)
        if symbol in self.cancelled:
            self.cancelled.discard(symbol)
            return unsubscribe_frame(chan_id)
        previous = self.chan_of.get(symbol)
        if previous is not None:
            self.symbol_of.pop(previous, None)
        self.chan_of[symbol] = chan_id
        self.symbol_of[chan_id] = symbol
        return None


def unsubscribe_frame(chan_id: int) -> str:
    return orjson.dumps({"event": "unsubscribe", "chanId": chan_id}).decode()


def trade_entries(kind: str | None, payload: Any, msg: list[Any]) -> list[Any] | None:
    """The ``[ID,MTS,AMOUNT,PRICE]`` entries of a trades message; [] for heartbeats and
    ``tu`` repeats; None when the message has no readable shape."""
    if kind is None:
        return payload if type(payload) is list and all(type(e) is list for e in payload) else None
    if kind == "te":
        entry = msg[2] if len(msg) > 2 else None
        return [entry] if type(entry) is list else None
    if kind in ("hb", "tu"):
        return []
    return None


def read_entry(entry: list[Any]) -> tuple[str, float, float, float, TakerSide] | None:
    """``(id, venue seconds, size, price, taker side)`` of one entry, or None."""
    if len(entry) < 4:
        return None
    trade_id, mts, amount, price = entry[:4]
    if type(mts) is not int or type(amount) not in (int, float) or amount == 0:
        return None
    if type(price) not in (int, float):
        return None
    side = TakerSide.BUY if amount > 0 else TakerSide.SELL
    return str(trade_id), mts / 1000, abs(float(amount)), float(price), side
