"""Bitfinex ``book`` channels: their ids on one connection and their P0 level updates (sans-I/O)."""

from __future__ import annotations

from typing import Any

import orjson

from goquant_bot.domain.book import OrderBook
from goquant_bot.domain.instruments import Symbol
from goquant_bot.venues.bitfinex_rest import CHECKSUM_LEVELS, bitfinex_checksum
from goquant_bot.venues.bitfinex_trades import unsubscribe_frame


class BookChannel:
    """One subscribed book channel."""

    __slots__ = ("book", "crossed", "pending", "snapshot")

    def __init__(self, book: OrderBook) -> None:
        self.book = book
        self.snapshot = False  # the channel's snapshot has been applied
        self.crossed = False  # crossed after its last message (maybe in the middle of a batch)
        self.pending = False  # changed since its last checksum (checksums on)


class BookChannels:
    """The book channels of one connection: subscribed, pending and cancelled."""

    def __init__(self) -> None:
        self.channels: dict[int, BookChannel] = {}
        self.chan_of: dict[Symbol, int] = {}
        self.pending: set[Symbol] = set()  # subscribe sent, no answer yet
        self.cancelled: set[Symbol] = set()  # unsubscribed while the subscribe was pending

    def close(self) -> None:
        """Forget the channels of a closed connection (cancellations wait for the next open)."""
        self.channels.clear()
        self.chan_of.clear()
        self.pending.clear()

    def clear(self) -> None:
        self.close()
        self.cancelled.clear()

    def of(self, symbol: Symbol) -> BookChannel | None:
        return self.channels.get(self.chan_of.get(symbol, -1))

    def forget(self, symbol: Symbol) -> None:
        """Drop a book's channel state; its later messages count as an unknown channel."""
        chan_id = self.chan_of.get(symbol)
        if chan_id is not None:
            self.channels.pop(chan_id, None)

    def subscribe(self, symbol: Symbol, native: str, length: int) -> str | None:
        """The subscribe frame, or None when the channel is there or on its way (Bitfinex
        refuses a duplicate with 10301)."""
        self.cancelled.discard(symbol)
        if symbol in self.pending or symbol in self.chan_of:
            return None
        self.pending.add(symbol)
        frame = {
            "event": "subscribe",
            "channel": "book",
            "symbol": native,
            "prec": "P0",
            "freq": "F0",
            "len": str(length),
        }
        return orjson.dumps(frame).decode()

    def unsubscribe(self, symbol: Symbol) -> str | None:
        """The unsubscribe frame; a pending channel is dropped once its id is known."""
        chan_id = self.chan_of.pop(symbol, None)
        if chan_id is None:
            if symbol in self.pending:
                self.cancelled.add(symbol)
            return None
        self.channels.pop(chan_id, None)
        return unsubscribe_frame(chan_id)

    def drop_cancelled(self, symbol: Symbol | None, chan_id: int) -> str | None:
        """The frame that drops a channel unsubscribed while its subscribe was pending."""
        if symbol is None or symbol not in self.cancelled:
            return None
        self.cancelled.discard(symbol)
        self.pending.discard(symbol)
        return unsubscribe_frame(chan_id)

    def attach(self, chan_id: int, book: OrderBook) -> None:
        """The venue's answer: the channel now carries ``book`` (replacing an older one)."""
        symbol = book.key.symbol
        self.pending.discard(symbol)
        previous = self.chan_of.get(symbol)
        if previous is not None:
            self.channels.pop(previous, None)
        self.chan_of[symbol] = chan_id
        self.channels[chan_id] = BookChannel(book)


def apply_level(book: OrderBook, level: list[Any]) -> None:
    """``[PRICE, COUNT, AMOUNT]``: COUNT > 0 sets a level (AMOUNT > 0 bid, < 0 ask); COUNT 0
    removes it (AMOUNT 1 bid, -1 ask). Raises ValueError or TypeError on anything else."""
    price, count, amount = level
    price = float(price)
    amount = float(amount)
    if count > 0 and amount > 0:
        book.bids.set(price, amount)
    elif count > 0 and amount < 0:
        book.asks.set(price, -amount)
    elif count == 0 and amount == 1:
        book.bids.set(price, 0.0)
    elif count == 0 and amount == -1:
        book.asks.set(price, 0.0)
    else:
        msg = "count and amount disagree"
        raise ValueError(msg)


def checksum_matches(book: OrderBook, checksum: int) -> bool:
    """Whether the book's best 25 levels a side give the venue's checksum."""
    ours = bitfinex_checksum(book.bids.levels(CHECKSUM_LEVELS), book.asks.levels(CHECKSUM_LEVELS))
    return ours == checksum
