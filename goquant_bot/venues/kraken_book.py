"""Kraken book upkeep: each level's checksum text, v2 items and v1 payloads, truncation to the depth.

A level's part of the checksum is rendered once, when the level arrives, at the pair's
precision: AssetPairs gives it (tick and lot sizes) and every snapshot shows it (Kraken writes
numbers with all their decimals). A capture that re-encoded the frames lost trailing zeros;
rendering at the known precision puts them back.
"""

from __future__ import annotations

import zlib
from typing import Any, NamedTuple

from goquant_bot.domain.book import BookSide, OrderBook
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.coinbase_rest import parse_iso_time
from goquant_bot.venues.kraken_rest import CHECKSUM_LEVELS, decimals, pad, plain, render_level

Texts = list[tuple[str, str]]
Rendered = dict[float, str]  # price -> the level's checksum text


def render(price: str, qty: str, price_dp: int, qty_dp: int) -> str:
    """A level's checksum text at the pair's precision (the texts usually have it already)."""
    dot = price.find(".")
    if (len(price) - dot - 1 if dot >= 0 else 0) < price_dp:
        price = pad(price, price_dp)
    dot = qty.find(".")
    if (len(qty) - dot - 1 if dot >= 0 else 0) < qty_dp:
        qty = pad(qty, qty_dp)
    return render_level(price, qty)


class KrakenBook:
    """What the checksum and the truncation need beside the OrderBook."""

    __slots__ = ("asks", "bids", "book", "depth", "depth_known", "price_dp", "qty_dp", "synced")

    def __init__(self, book: OrderBook, depth: int, depth_known: bool) -> None:
        self.book = book
        self.depth = depth
        self.depth_known = depth_known  # from our subscription or the venue's answer
        self.synced = False
        self.bids: Rendered = {}
        self.asks: Rendered = {}
        self.price_dp = 0  # the pair's precision: AssetPairs, raised by what snapshots show
        self.qty_dp = 0

    def reset(self) -> None:
        self.synced = False
        self.bids.clear()
        self.asks.clear()

    def learn_precision(self, levels: Texts) -> None:
        for price, qty in levels:
            self.price_dp = max(self.price_dp, decimals(price))
            self.qty_dp = max(self.qty_dp, decimals(qty))

    def load(self, bids: Texts, asks: Texts) -> None:
        """A snapshot; raises ValueError on a level that is not a number."""
        self.learn_precision(bids)
        self.learn_precision(asks)
        self._load(self.book.bids, self.bids, bids)
        self._load(self.book.asks, self.asks, asks)

    def _load(self, side: BookSide, rendered: Rendered, levels: Texts) -> None:
        pdp, qdp = self.price_dp, self.qty_dp
        pairs = []
        for price_text, qty_text in levels:
            price, qty = float(price_text), float(qty_text)
            pairs.append((price, qty))
            if qty:
                rendered[price] = render(price_text, qty_text, pdp, qdp)
        side.replace(pairs)

    def update(self, bids: Texts, asks: Texts) -> None:
        """Absolute quantities, 0 deleting; raises ValueError on a level that is not a number."""
        self._update(self.book.bids, self.bids, bids)
        self._update(self.book.asks, self.asks, asks)

    def _update(self, side: BookSide, rendered: Rendered, levels: Texts) -> None:
        pdp, qdp = self.price_dp, self.qty_dp
        for price_text, qty_text in levels:
            price, qty = float(price_text), float(qty_text)
            side.set(price, qty)
            if qty:
                rendered[price] = render(price_text, qty_text, pdp, qdp)
            else:
                rendered.pop(price, None)

    def truncate(self) -> None:
        """Levels pushed out of the subscribed depth are never deleted by Kraken: drop them."""
        for side, rendered in ((self.book.bids, self.bids), (self.book.asks, self.asks)):
            if len(side) > self.depth:
                side.trim(self.depth)
            if len(rendered) > 2 * self.depth:  # texts of trimmed levels: harmless, bounded
                kept = {price for price, _ in side.levels()}
                for price in [p for p in rendered if p not in kept]:
                    del rendered[price]

    def checksum(self) -> int:
        """The checksum of the book as it stands (top 10 asks, then top 10 bids)."""
        book = self.book
        parts = [self._part(self.asks, p, q) for p, q in book.asks.levels(CHECKSUM_LEVELS)]
        parts += [self._part(self.bids, p, q) for p, q in book.bids.levels(CHECKSUM_LEVELS)]
        return zlib.crc32("".join(parts).encode())

    def _part(self, rendered: Rendered, price: float, qty: float) -> str:
        text = rendered.get(price)
        if text is None:  # never expected: every level was rendered on arrival
            text = render(f"{price:.{self.price_dp}f}", f"{qty:.{self.qty_dp}f}", 0, 0)
        return text


class V2Book(NamedTuple):
    """The content of one v2 book item."""

    native: str
    bids: Texts
    asks: Texts
    checksum: int
    venue_ts: float | None


def _text(value: Any) -> str:
    """A price or quantity as its wire text (v2 numbers arrive as float texts or ints)."""
    if type(value) is str:
        return plain(value)
    if type(value) is int:
        return str(value)
    msg = f"not a number: {value!r}"
    raise VenueProtocolError(msg)


def parse_v2_item(item: Any) -> V2Book:
    """``{"symbol":"BTC/USD","bids":[{"price":65000.1,"qty":0.5}],"asks":[...],
    "checksum":2439117997,"timestamp":"2023-10-06T17:35:55.440295Z"}`` (timestamp: updates)."""
    try:
        native = item["symbol"]
        bids = [(_text(lv["price"]), _text(lv["qty"])) for lv in item["bids"]]
        asks = [(_text(lv["price"]), _text(lv["qty"])) for lv in item["asks"]]
        checksum = item["checksum"]
        stamp = item.get("timestamp")
        venue_ts = parse_iso_time(stamp) if type(stamp) is str else None
    except (KeyError, TypeError) as exc:
        msg = f"malformed v2 book item ({type(exc).__name__}: {exc})"
        raise VenueProtocolError(msg) from exc
    if type(checksum) is not int or type(native) is not str:
        msg = "v2 book item without an integer checksum or a symbol"
        raise VenueProtocolError(msg)
    return V2Book(native, bids, asks, checksum, venue_ts)


class V1Book(NamedTuple):
    """The content of one v1 book message."""

    snapshot: bool
    bids: Texts
    asks: Texts
    checksum: int | None
    venue_ts: float | None


def parse_v1_payloads(payloads: list[Any]) -> V1Book:
    """``{"as":[["5541.30000","2.50700000","1534614248.123678"]],"bs":[...]}`` (a snapshot), or
    ``{"a":[...]}`` and/or ``{"b":[...],"c":"974942666"}`` (an update; ``"r"`` marks a level
    republished after a price moved back into range, applied the same way)."""
    snapshot = False
    bids: Texts = []
    asks: Texts = []
    checksum: int | None = None
    venue_ts: float | None = None
    try:
        for payload in payloads:
            for key, levels in payload.items():
                if key == "c":
                    checksum = int(levels)
                    continue
                side = bids if key[0] == "b" else asks if key[0] == "a" else None
                if side is None:
                    continue
                snapshot = snapshot or len(key) == 2  # "as"/"bs"
                for level in levels:
                    side.append((plain(level[0]), plain(level[1])))
                    stamp = float(level[2])
                    venue_ts = stamp if venue_ts is None or stamp > venue_ts else venue_ts
    except (AttributeError, TypeError, ValueError, IndexError) as exc:
        msg = f"malformed v1 book payload ({type(exc).__name__}: {exc})"
        raise VenueProtocolError(msg) from exc
    return V1Book(snapshot, bids, asks, checksum, venue_ts)
