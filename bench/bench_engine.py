"""Arbitrage engine: per-update cost with 10,000 users holding up to 100,000 monitors.

50 symbols x 4 venues of live books (250 levels a side). Each update is a delta frame in
Bybit's format for one book: decoded (orjson), applied to the book, then the symbol is
evaluated and the resulting alerts are appended to a queue: "frame received to alert
enqueued". Monitors: 1-3 symbols, 2-4 venues, thresholds 0.15-2 %, sizes from the tiers,
5 % with their own fees. Calm runs never cross a threshold; the alert run adds dislocations.
"""

from __future__ import annotations

import gc
import random
import resource
import statistics
import time
from collections.abc import Iterable

import orjson

from goquant_bot.domain.book import BookState, OrderBook
from goquant_bot.domain.events import Event
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor
from goquant_bot.engine.arb_records import DEFAULT_TIERS, ArbConfig
from goquant_bot.engine.arbitrage import ArbitrageEngine

VENUES = (Venue.BINANCE, Venue.OKX, Venue.BYBIT, Venue.DERIBIT)  # four, whatever the enum holds
SYMBOLS = tuple(Symbol(f"C{i:02d}", "USDT") for i in range(50))
LEVELS = 250
UPDATES = 20_000
FEES = {venue: 0.1 for venue in VENUES}


class Books:
    def __init__(self) -> None:
        self.by_symbol: dict[Symbol, list[OrderBook]] = {s: [] for s in SYMBOLS}
        self.books: dict[InstrumentKey, OrderBook] = {}

    def books_for(self, symbol: Symbol, venues: Iterable[Venue] | None = None) -> list[OrderBook]:
        return self.by_symbol[symbol]


def build_books(rng: random.Random) -> tuple[Books, dict[Symbol, float]]:
    books, mids = Books(), {}
    for symbol in SYMBOLS:
        mid = round(rng.uniform(1, 60_000), 2)
        mids[symbol] = mid
        tick = mid * 0.0001
        for venue in VENUES:
            book = OrderBook(InstrumentKey(venue, symbol))
            book.bids.replace(
                [(mid - tick * (i + 1), rng.uniform(0.5, 5) * 1000 / mid) for i in range(LEVELS)]
            )
            book.asks.replace(
                [(mid + tick * (i + 1), rng.uniform(0.5, 5) * 1000 / mid) for i in range(LEVELS)]
            )
            book.state, book.recv_ts = BookState.LIVE, 0.0
            books.books[book.key] = book
            books.by_symbol[symbol].append(book)
    return books, mids


def build_monitors(count: int, rng: random.Random) -> list[ArbMonitor]:
    monitors = []
    for i in range(count):
        venues = tuple(rng.sample(VENUES, rng.randint(2, 4)))
        fees = tuple((v, 0.05) for v in venues) if rng.random() < 0.05 else ()
        monitors.append(
            ArbMonitor(
                id=f"m{i}",
                owner=i % 10_000,
                symbols=tuple(rng.sample(SYMBOLS, rng.choice((1, 1, 1, 2, 3)))),
                venues=venues,
                min_edge_pct=round(rng.uniform(0.15, 2.0), 2),
                notional=rng.choice(DEFAULT_TIERS[:5]),
                fees_pct=fees,
            )
        )
    return monitors


def snapshot(book: OrderBook, mid: float, shift: float, n: int) -> bytes:
    """A full-book frame with every price moved by ``shift`` (a dislocation, or its end)."""
    tick = mid * 0.0001
    bids = [[f"{(mid - tick * (i + 1)) * shift:.6f}", f"{3000 / mid:.8f}"] for i in range(LEVELS)]
    asks = [[f"{(mid + tick * (i + 1)) * shift:.6f}", f"{3000 / mid:.8f}"] for i in range(LEVELS)]
    frame = {
        "topic": "orderbook.200.X",
        "type": "snapshot",
        "ts": n,
        "data": {"s": "X", "b": bids, "a": asks, "u": n},
    }
    return orjson.dumps(frame)


def frames(
    books: Books, mids: dict[Symbol, float], rng: random.Random, dislocate: float
) -> list[tuple[OrderBook, bytes]]:
    """Delta frames near the top of random books; ``dislocate``: the share of updates that move
    one venue's whole book 0.6 % up (a snapshot), followed by one that moves it back."""
    out = []
    keys = list(books.books)
    n = 0
    while n < UPDATES:
        book = books.books[keys[rng.randrange(len(keys))]]
        mid = mids[book.key.symbol]
        tick = mid * 0.0001
        if rng.random() < dislocate:
            out.append((book, snapshot(book, mid, 1.006, n)))
            out.append((book, snapshot(book, mid, 1.0, n + 1)))
            n += 2
            continue
        bids = [
            [f"{mid - tick * rng.randint(1, 20):.6f}", f"{rng.uniform(0.1, 5) * 1000 / mid:.8f}"]
            for _ in range(rng.randint(1, 10))
        ]
        asks = [
            [f"{mid + tick * rng.randint(1, 20):.6f}", f"{rng.uniform(0.1, 5) * 1000 / mid:.8f}"]
            for _ in range(rng.randint(1, 10))
        ]
        frame = {
            "topic": "orderbook.200.X",
            "type": "delta",
            "ts": n,
            "data": {"s": "X", "b": bids, "a": asks, "u": n},
        }
        out.append((book, orjson.dumps(frame)))
        n += 1
    return out


def run(count: int, dislocate: float, seed: int = 3) -> dict[str, float]:
    rng = random.Random(seed)
    books, mids = build_books(rng)
    engine = ArbitrageEngine(books, ArbConfig(fees_pct=FEES))
    for monitor in build_monitors(count, rng):
        engine.add_monitor(monitor, 0.0)
    stream = frames(books, mids, rng, dislocate)
    queue: list[Event] = []
    latencies = []
    alert_time = 0.0
    gc.collect()
    gc.freeze()  # as the app does after start-up: long-lived monitors leave the GC scans
    started = time.perf_counter()
    for n, (book, text) in enumerate(stream):
        t0 = time.perf_counter()
        msg = orjson.loads(text)
        data = msg["data"]
        if msg["type"] == "snapshot":
            book.bids.replace([(float(p), float(q)) for p, q in data["b"]])
            book.asks.replace([(float(p), float(q)) for p, q in data["a"]])
        else:
            book.bids.apply_text(data["b"])
            book.asks.apply_text(data["a"])
        book.recv_ts = n * 0.001
        before = len(queue)
        queue.extend(engine.evaluate(book.key.symbol, n * 0.001))
        latencies.append(time.perf_counter() - t0)
        if len(queue) > before:
            alert_time += latencies[-1]
    elapsed = time.perf_counter() - started
    gc.unfreeze()
    latencies.sort()
    return {
        "monitors": count,
        "updates_per_s": len(stream) / elapsed,
        "p50_us": latencies[len(latencies) // 2] * 1e6,
        "p99_us": latencies[int(len(latencies) * 0.99)] * 1e6,
        "max_us": latencies[-1] * 1e6,
        "alerts": len(queue),
        "mean_us": statistics.fmean(latencies) * 1e6,
        "us_per_alert": alert_time / len(queue) * 1e6 if queue else 0.0,
    }


def main() -> None:
    print(
        "arbitrage engine benchmark: 50 symbols x 4 venues, 250 levels/side, frame -> alert enqueued"
    )
    calm = {}
    for count in (1_000, 10_000, 100_000):
        calm[count] = result = run(count, dislocate=0.0)
        print(f"  calm   {count:>7,} monitors: {result['updates_per_s']:>8,.0f} updates/s  "
              f"p50 {result['p50_us']:6.1f} us  p99 {result['p99_us']:6.1f} us  alerts {result['alerts']}")  # fmt: skip
    ratio = calm[100_000]["updates_per_s"] / calm[1_000]["updates_per_s"]
    print(f"  throughput 100k vs 1k monitors: {ratio:.1%} (target: within 10 %)")
    result = run(100_000, dislocate=0.001)
    print(f"  alerts 100,000 monitors, 0.2 % of updates dislocate or restore a book: p50 {result['p50_us']:.1f} us  "
          f"p99 {result['p99_us']:.1f} us  max {result['max_us']:.0f} us  alerts {result['alerts']:,}  "
          f"{result['us_per_alert']:.1f} us per alert")  # fmt: skip
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS: {rss_mb:.0f} MB (target p99 < 1,000 us)")


if __name__ == "__main__":
    main()
