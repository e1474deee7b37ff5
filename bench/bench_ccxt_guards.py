"""Per update of a book read through ccxt: the cost of our guards (timestamp checks, copy of
the whole book ccxt hands over, crossed check, L1) at 15, 50 and 200 levels per side, and of
one REST cross-check of the top."""

from __future__ import annotations

import time

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.venues.base import SymbolMap
from goquant_bot.venues.ccxt_books import GuardConfig, protocol_for

SYMBOL = Symbol("BTC", "KRW")
UPDATES = 20_000
MID = 100_000_000.0


def books(levels: int, count: int, t0: float) -> list[dict[str, object]]:
    """Whole books as ccxt hands them over (floats, best first), the top moving a little."""
    out = []
    for i in range(count):
        top = MID + (i % 7) * 1000.0
        out.append(
            {
                "bids": [[top - 1000.0 * (k + 1), 0.1 + k] for k in range(levels)],
                "asks": [[top + 1000.0 * (k + 1), 0.2 + k] for k in range(levels)],
                "timestamp": int((t0 + i * 1e-4) * 1000),
            }
        )
    return out


def measure(levels: int) -> float:
    proto = protocol_for(Venue.UPBIT, GuardConfig())(SymbolMap())
    t0 = 1_700_000_000.0
    proto.subscribe([SYMBOL], t0)
    stream = books(levels, UPDATES, t0)
    book = proto.books[SYMBOL]
    start = time.perf_counter()
    for i, ccxt_book in enumerate(stream):
        proto.on_book(SYMBOL, ccxt_book, t0 + i * 1e-4)
        book.l1()
        proto.drain()
    return (time.perf_counter() - start) / UPDATES * 1e6


def crosscheck_us() -> float:
    proto = protocol_for(Venue.UPBIT, GuardConfig())(SymbolMap())
    t0 = 1_700_000_000.0
    proto.subscribe([SYMBOL], t0)
    (ccxt_book,) = books(15, 1, t0)
    proto.on_book(SYMBOL, ccxt_book, t0)
    start = time.perf_counter()
    for _ in range(UPDATES):
        proto.on_crosscheck(SYMBOL, ccxt_book, t0)
    return (time.perf_counter() - start) / UPDATES * 1e6


def main() -> dict[str, float]:
    print(f"ccxt book guards: {UPDATES:,} whole-book updates per depth, one core")
    results = {}
    for levels in (15, 50, 200):
        us = min(measure(levels) for _ in range(3))
        results[f"levels_{levels}"] = us
        print(f"  {levels:3d} levels/side: {us:7.2f} us/update ({1e6 / us:>9,.0f} updates/s)")
    check = min(crosscheck_us() for _ in range(3))
    results["crosscheck"] = check
    print(f"  REST cross-check of the top: {check:.2f} us (its request aside)")
    return results


if __name__ == "__main__":
    main()
