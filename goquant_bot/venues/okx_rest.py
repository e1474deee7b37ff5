"""OKX v5 off the stream path: REST books and instruments, snapshot alignment, the checksum.

The documented REST books body (``asks``, ``bids``, ``ts``) has no ``seqId``; when one is
present it is matched against the buffered updates, otherwise ``ts`` orders the snapshot among
them. Levels are absolute sizes, so replaying buffered updates that the snapshot already
contains is harmless: the snapshot only has to be at least as new as the first buffered update.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import orjson

from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import RestRequest
from goquant_bot.venues.crc_books import interleaved_crc32, signed32
from goquant_bot.venues.levels import float_levels
from goquant_bot.venues.symbols import spot_instrument

BOOKS_PATH = "/api/v5/market/books"
INSTRUMENTS_PATH = "/api/v5/public/instruments"
DEFAULT_REST_BASE = "https://www.okx.com"
CHECKSUM_LEVELS = 25

Levels = Sequence[Sequence[str]]


class BookUpdate(NamedTuple):
    """The content of one ``books`` message, kept until the book has a snapshot to apply it to."""

    prev: int
    seq: int
    ts_ms: int
    bids: Levels
    asks: Levels


class RestBook(NamedTuple):
    """A REST order book snapshot."""

    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]
    ts_ms: int
    seq: int | None


def okx_checksum(bids: Levels, asks: Levels) -> int:
    """Signed CRC32 of ``bid1px:bid1sz:ask1px:ask1sz:bid2px:...`` over the top 25 levels."""
    return signed32(interleaved_crc32(bids, asks, CHECKSUM_LEVELS))


def align_snapshot(
    snapshot: RestBook, buffered: Iterable[BookUpdate]
) -> tuple[int, list[BookUpdate]] | None:
    """(seqId to resume from if nothing is replayed, updates to replay); None: too old."""
    updates = list(buffered)
    if snapshot.seq is not None:
        anchor: int | None = snapshot.seq
        updates = [u for u in updates if u.seq > snapshot.seq]
        usable = not updates or updates[0].prev <= snapshot.seq
    else:
        anchor = updates[-1].seq if updates else None
        usable = bool(updates) and snapshot.ts_ms >= updates[0].ts_ms
        updates = [u for u in updates if u.ts_ms >= snapshot.ts_ms]
    if not usable or anchor is None:
        return None
    return anchor, updates


def parse_rest_books(body: str) -> RestBook:
    """Parse ``{"code":"0","msg":"","data":[{"asks":[["41006.8","0.6","0","1"]],"bids":[["41006.3","0.3","0","2"]],"ts":"1629966436396"}]}``."""
    data = _ok_data(body, "books")
    if len(data) != 1:
        text = f"OKX books: expected one book in data, got {len(data)}"
        raise VenueProtocolError(text)
    item = data[0]
    try:
        seq = item.get("seqId")
        return RestBook(
            bids=float_levels(item["bids"]),
            asks=float_levels(item["asks"]),
            ts_ms=int(item["ts"]),
            seq=None if seq is None else int(seq),
        )
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        text = f"OKX books: malformed book ({type(exc).__name__}: {exc})"
        raise VenueProtocolError(text) from exc


def _ok_data(body: str, what: str) -> list[Any]:
    """The ``data`` list of a successful ``{"code":"0","msg":"","data":[...]}`` body."""
    try:
        msg = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        text = f"OKX {what}: the body is not JSON"
        raise VenueProtocolError(text) from exc
    if type(msg) is not dict:
        text = f"OKX {what}: expected a JSON object"
        raise VenueProtocolError(text)
    if msg.get("code") != "0":
        text = f"OKX {what}: error code {msg.get('code')!r}: {msg.get('msg')!r}"
        raise VenueProtocolError(text)
    data = msg.get("data")
    if type(data) is not list:
        text = f"OKX {what}: 'data' is not a list"
        raise VenueProtocolError(text)
    return data


def books_request(
    rest_base: str, native: str, symbol: Symbol, size: int, purpose: str
) -> RestRequest:
    """``GET /api/v5/market/books?instId=BTC-USDT&sz=400``: a snapshot or a poll."""
    return RestRequest(
        venue=Venue.OKX,
        url=f"{rest_base}{BOOKS_PATH}",
        params=(("instId", native), ("sz", str(size))),
        weight=1,
        purpose=purpose,
        symbol=symbol,
    )


def instruments_request(rest_base: str | None = None) -> RestRequest:
    """The REST request listing OKX spot instruments."""
    return RestRequest(
        venue=Venue.OKX,
        url=f"{rest_base or DEFAULT_REST_BASE}{INSTRUMENTS_PATH}",
        params=(("instType", "SPOT"),),
        weight=1,
        purpose="instruments",
    )


def parse_instruments(body: str) -> list[Instrument]:
    """Parse ``{"code":"0","data":[{"instId":"BTC-USDT","instType":"SPOT","baseCcy":"BTC","quoteCcy":"USDT","state":"live","tickSz":"0.1","lotSz":"0.00000001"}]}``."""
    instruments: list[Instrument] = []
    for index, item in enumerate(_ok_data(body, "instruments")):
        try:
            if item.get("instType", "SPOT") != "SPOT" or item["state"] != "live":
                continue
            native, base, quote = item["instId"], item["baseCcy"], item["quoteCcy"]
            tick, lot = float(item["tickSz"]), float(item["lotSz"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            text = f"OKX instruments: entry {index} is malformed ({type(exc).__name__}: {exc})"
            raise VenueProtocolError(text) from exc
        instrument = spot_instrument(Venue.OKX, base, quote, native, tick, lot)
        if instrument is not None:
            instruments.append(instrument)
    return instruments
