"""The interleaved CRC32 over the top levels of a book that OKX and Bitget send, and the
original price and size strings it is computed from."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

Levels = Sequence[Sequence[str]]
StringSide = dict[float, Sequence[str]]
MISSING = ("", "")


def interleaved_crc32(bids: Levels, asks: Levels, depth: int) -> int:
    """Unsigned CRC32 of ``bid1px:bid1sz:ask1px:ask1sz:bid2px:...`` over the best ``depth``
    levels a side (each best first); a side that runs out simply stops contributing."""
    parts: list[str] = []
    for i in range(min(max(len(bids), len(asks)), depth)):
        if i < len(bids):
            parts += (bids[i][0], bids[i][1])
        if i < len(asks):
            parts += (asks[i][0], asks[i][1])
    return zlib.crc32(":".join(parts).encode())


def signed32(value: int) -> int:
    """A CRC32 as the signed 32-bit integer Java-based venues print."""
    return value - (1 << 32) if value >= 1 << 31 else value


def remember(strings: StringSide, levels: Levels) -> None:
    """Keep the venue's own strings per price (size 0 deletes): the checksum is computed
    over them, never over a float rendering."""
    for level in levels:
        price = float(level[0])
        if float(level[1]) == 0.0:
            strings.pop(price, None)
        else:
            strings[price] = level
