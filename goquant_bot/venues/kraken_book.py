"""Kraken book upkeep: the texts the checksum needs, v1 payloads, truncation to the depth."""

from __future__ import annotations

from typing import Any, NamedTuple

from goquant_bot.domain.book import BookSide, OrderBook
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.kraken_rest import CHECKSUM_LEVELS, kraken_checksum, pad, plain

Texts = list[tuple[str, str]]
Strings = dict[float, tuple[str, str]]  # price -> (price text, qty text) as on the wire


class KrakenBook:
    """What the checksum and the truncation need beside the OrderBook."""

    __slots__ = ("asks", "bids", "book", "depth", "depth_known", "price_dp", "qty_dp", "synced")

    def __init__(self, book: OrderBook, depth: int, depth_known: bool) -> None:
        self.book = book
        self.depth = depth
        self.depth_known = depth_known  # from our subscription or the venue's answer
        self.synced = False
        self.bids: Strings = {}
        self.asks: Strings = {}
        # Most decimals seen: restores trailing zeros a re-encoded capture may have lost.
        self.price_dp = 0
        self.qty_dp = 0

    def reset(self) -> None:
        self.synced = False
        self.bids.clear()
        self.asks.clear()

    def checksum(self) -> int:
        """The checksum of the book as it stands, from the texts of its top levels."""
        book = self.book
        asks = _top_texts(book.asks, self.asks, self.price_dp, self.qty_dp)
        bids = _top_texts(book.bids, self.bids, self.price_dp, self.qty_dp)
        return kraken_checksum(asks, bids)


def _top_texts(side: BookSide, strings: Strings, pdp: int, qdp: int) -> Texts:
    out = []
    for price, qty in side.levels(CHECKSUM_LEVELS):
        known = strings.get(price)
        p, q = known if known is not None else (f"{price:.{pdp}f}", f"{qty:.{qdp}f}")
        out.append((pad(p, pdp), pad(q, qdp)))
    return out


def load(side: BookSide, strings: Strings, levels: Texts) -> None:
    """A snapshot side; raises ValueError on a level that is not a number."""
    pairs = []
    for price_text, qty_text in levels:
        price, qty = float(price_text), float(qty_text)
        pairs.append((price, qty))
        if qty:
            strings[price] = (price_text, qty_text)
    side.replace(pairs)


def update(side: BookSide, strings: Strings, levels: Texts) -> None:
    """Absolute quantities, 0 deleting; raises ValueError on a level that is not a number."""
    for price_text, qty_text in levels:
        price, qty = float(price_text), float(qty_text)
        side.set(price, qty)
        if qty:
            strings[price] = (price_text, qty_text)
        else:
            strings.pop(price, None)


def truncate(side: BookSide, strings: Strings, depth: int) -> None:
    """Levels pushed out of the subscribed depth are never deleted by Kraken: drop them."""
    if len(side) > depth:
        side.trim(depth)
    if len(strings) > 2 * depth:  # texts of trimmed levels: harmless, but bounded
        kept = {price for price, _ in side.levels()}
        for price in [p for p in strings if p not in kept]:
            del strings[price]


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
