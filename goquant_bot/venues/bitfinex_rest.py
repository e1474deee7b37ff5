"""Bitfinex v2 off the stream path: flags, pair names, instruments, the checksum, REST books.

Bitfinex sends prices and amounts as JSON numbers and computes its checksum over their
JavaScript renderings, so the checksum re-renders our floats the way JavaScript's
``Number.prototype.toString`` does (shortest round-trip digits, exponent below 1e-6 and from
1e21 on). Python's ``repr`` gives the same shortest digits; only the layout differs.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson

from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import RestRequest

DEFAULT_REST_BASE = "https://api-pub.bitfinex.com"
PAIRS_PATH = "/v2/conf/pub:list:pair:exchange"
BOOK_PATH = "/v2/book"  # + /t{PAIR}/P0?len=N
CHECKSUM_LEVELS = 25
SEQ_ALL = 65536  # conf flag: a sequence number on every message
OB_CHECKSUM = 131072  # conf flag: a checksum message after every book change
FLAGS = SEQ_ALL | OB_CHECKSUM
BOOK_LENGTHS = (25, 100, 250)  # P0 book lengths; 25 at least, the checksum covers 25
POLL_LENGTH = 100
# Info codes: the server restarts (reconnect), maintenance starts, maintenance ends.
INFO_RESTART, INFO_MAINTENANCE, INFO_MAINTENANCE_END = 20051, 20060, 20061
# Bitfinex's own short codes for currencies other venues spell out (its pub:map:currency:sym).
CURRENCY_ALIASES = {"UST": "USDT", "UDC": "USDC"}
# Amounts have 8 decimals; prices have 5 significant digits, so there is no fixed tick.
LOT_SIZE = 1e-8


def book_length(depth: int) -> int:
    """The smallest P0 ``len`` holding ``depth`` levels (250 at most)."""
    return next((n for n in BOOK_LENGTHS if depth <= n), BOOK_LENGTHS[-1])


def split_pair(pair: str) -> tuple[str, str] | None:
    """``BTCUSD`` -> (BTC, USD); ``TESTBTC:TESTUSD`` style names carry a colon."""
    if ":" in pair:
        base, _, quote = pair.partition(":")
    elif len(pair) == 6:
        base, quote = pair[:3], pair[3:]
    else:
        return None
    if not base or not quote:
        return None
    return base, quote


def is_spot_pair(pair: str) -> bool:
    """Spot pairs only: derivatives end in F0 (``BTCF0:USTF0``), paper pairs start with TEST."""
    parts = split_pair(pair)
    if parts is None:
        return False
    base, quote = parts
    return not (
        base.endswith("F0") or quote.endswith("F0") or base.startswith("TEST") or pair.isdigit()
    )


def pair_symbol(pair: str) -> Symbol | None:
    """Our symbol for a Bitfinex pair (``ETHUST`` -> ETH-USDT); None when it is not spot."""
    if not is_spot_pair(pair):
        return None
    parts = split_pair(pair)
    if parts is None:
        return None
    base, quote = (CURRENCY_ALIASES.get(p, p) for p in parts)
    try:
        return Symbol.parse(f"{base}-{quote}")
    except ValueError:
        return None


def pair_native(symbol: Symbol) -> str:
    """The Bitfinex name of a pair we were not told about: ``tBTCUSD``, or ``tDOGE:USD``
    when a currency code is not three letters long."""
    native = f"t{symbol.base}{symbol.quote}"
    return native if len(native) == 7 else f"t{symbol.base}:{symbol.quote}"


@lru_cache(maxsize=65536)
def js_number(value: float) -> str:
    """``value`` as JavaScript prints it: 1.0 -> "1", 1e-07 -> "1e-7", 1e21 -> "1e+21"."""
    text = repr(float(value))
    if "e" not in text and text != "-0.0":
        # Python prints 1e-4 <= |x| < 1e16 in fixed notation with the same shortest digits
        # as JavaScript; only the ".0" of whole numbers differs.
        return text[:-2] if text.endswith(".0") else text
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    digits_tuple, exponent = Decimal(repr(abs(float(value)))).as_tuple()[1:]
    digits = "".join(map(str, digits_tuple)).rstrip("0")
    assert isinstance(exponent, int)
    # Decimal point position n: value = 0.d1d2...dk x 10^n.
    n = len("".join(map(str, digits_tuple))) + exponent
    k = len(digits)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        text = f"0.{'0' * -n}{digits}"
    else:
        mantissa = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
        text = f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return sign + text


def bitfinex_checksum(
    bids: Sequence[tuple[float, float]], asks: Sequence[tuple[float, float]]
) -> int:
    """Signed CRC32 of ``bid1px:bid1amt:ask1px:-ask1amt:...`` over the best 25 of each side.

    ``bids`` and ``asks`` are best-first (price, positive size) levels; ask amounts are
    negative on the wire and in the checksum."""
    parts: list[str] = []
    for i in range(CHECKSUM_LEVELS):
        if i < len(bids):
            parts += (js_number(bids[i][0]), js_number(bids[i][1]))
        if i < len(asks):
            parts += (js_number(asks[i][0]), js_number(-asks[i][1]))
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def parse_book_levels(levels: Any) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """``[[PRICE, COUNT, AMOUNT], ...]`` (amount > 0 bid, < 0 ask) as (bids, asks)."""
    if type(levels) is not list:
        msg = "Bitfinex book: expected a list of [price, count, amount]"
        raise VenueProtocolError(msg)
    bids: list[tuple[float, float]] = []
    asks: list[tuple[float, float]] = []
    try:
        for price, count, amount in levels:
            if count <= 0:
                continue
            if amount > 0:
                bids.append((float(price), float(amount)))
            elif amount < 0:
                asks.append((float(price), -float(amount)))
    except (TypeError, ValueError) as exc:
        msg = f"Bitfinex book: malformed level ({exc})"
        raise VenueProtocolError(msg) from exc
    return bids, asks


def book_request(rest_base: str, native: str, symbol: Symbol) -> RestRequest:
    """``GET /v2/book/tBTCUSD/P0?len=100``: a book while the stream is down."""
    return RestRequest(
        venue=Venue.BITFINEX,
        url=f"{rest_base}{BOOK_PATH}/{native}/P0",
        params=(("len", str(POLL_LENGTH)),),
        weight=1,
        purpose="poll",
        symbol=symbol,
    )


def parse_rest_book(
    status: int, body: str
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """``GET /v2/book/tBTCUSD/P0``: ``[[PRICE, COUNT, AMOUNT], ...]``."""
    if status != 200:
        msg = f"Bitfinex book: HTTP {status}"
        raise VenueProtocolError(msg)
    try:
        levels = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        msg = "Bitfinex book: the body is not JSON"
        raise VenueProtocolError(msg) from exc
    return parse_book_levels(levels)


def instruments_request(rest_base: str | None = None) -> RestRequest:
    """``GET /v2/conf/pub:list:pair:exchange``: the spot (exchange) pairs."""
    return RestRequest(
        venue=Venue.BITFINEX,
        url=f"{rest_base or DEFAULT_REST_BASE}{PAIRS_PATH}",
        params=(),
        weight=1,
        purpose="instruments",
    )


def parse_instruments(body: str) -> list[Instrument]:
    """``[["BTCUSD","ETHUST","TESTBTC:TESTUSD",...]]`` -> spot instruments (``tBTCUSD``)."""
    try:
        msg = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        text = "Bitfinex pairs: the body is not JSON"
        raise VenueProtocolError(text) from exc
    if type(msg) is not list or len(msg) != 1 or type(msg[0]) is not list:
        text = "Bitfinex pairs: expected [[pair, ...]]"
        raise VenueProtocolError(text)
    instruments = []
    for pair in msg[0]:
        if type(pair) is not str:
            text = f"Bitfinex pairs: {pair!r} is not a pair name"
            raise VenueProtocolError(text)
        symbol = pair_symbol(pair)
        if symbol is None:
            continue
        instruments.append(
            Instrument(Venue.BITFINEX, symbol, f"t{pair}", tick_size=None, lot_size=LOT_SIZE)
        )
    return instruments
