"""Per venue: frames/s and level-updates/s for decode + apply + L1 on a generated stream.

The stream keeps at least 200 levels per side and changes 1-20 levels per frame (mostly size
changes near the top, some deletions and insertions), encoded in each venue's wire format.
"""

from __future__ import annotations

import heapq
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Symbol
from goquant_bot.venues.base import RestRequest, SymbolMap, VenueProtocol
from goquant_bot.venues.binance import BinanceProtocol
from goquant_bot.venues.bybit import BybitProtocol
from goquant_bot.venues.coinbase import CoinbaseProtocol
from goquant_bot.venues.deribit import DeribitProtocol
from goquant_bot.venues.kraken import KrakenProtocol
from goquant_bot.venues.kraken_rest import kraken_checksum
from goquant_bot.venues.okx import OkxProtocol

LEVELS = 250
FRAMES = 60_000
TICK = 0.1
MID = 50_000.0
Change = tuple[str, float, float]  # side ("b"/"a"), price, size (0 = delete)


@dataclass
class Stream:
    bids: dict[float, float]
    asks: dict[float, float]
    frames: list[list[Change]]


def generate(seed: int = 7) -> Stream:
    rng = random.Random(seed)
    bids = {round(MID - TICK * (i + 1), 1): round(rng.uniform(0.01, 3), 4) for i in range(LEVELS)}
    asks = {round(MID + TICK * i, 1): round(rng.uniform(0.01, 3), 4) for i in range(LEVELS)}
    start_bids, start_asks = dict(bids), dict(asks)
    frames = []
    for _ in range(FRAMES):
        changes: list[Change] = []
        for _ in range(rng.randint(1, 20)):
            side, book = ("b", bids) if rng.random() < 0.5 else ("a", asks)
            top = max(book) if side == "b" else min(book)
            offset = round(TICK * int(rng.expovariate(1 / 15)), 1)
            price = round(top - offset if side == "b" else top + offset, 1)
            if price in book and rng.random() < 0.15 and len(book) > LEVELS:
                del book[price]
                changes.append((side, price, 0.0))
            else:
                size = round(rng.uniform(0.01, 3), 4)
                if side == "b" and asks and price >= min(asks):
                    continue  # never cross the generated book
                if side == "a" and bids and price <= max(bids):
                    continue
                book[price] = size
                changes.append((side, price, size))
        if changes:
            frames.append(changes)
    return Stream(start_bids, start_asks, frames)


def _levels(changes: list[Change], side: str) -> list[list[str]]:
    return [[f"{p:.1f}", f"{s:.4f}"] for sd, p, s in changes if sd == side]


def _snapshot_levels(book: dict[float, float]) -> list[list[str]]:
    return [[f"{p:.1f}", f"{s:.4f}"] for p, s in book.items()]


def binance(stream: Stream) -> tuple[VenueProtocol, list[str]]:
    proto = BinanceProtocol(SymbolMap([("BTCUSDT", Symbol("BTC", "USDT"))]), depth=LEVELS * 2)
    proto.subscribe([Symbol("BTC", "USDT")], 0.0)
    frames = []
    for n, changes in enumerate(stream.frames, start=1):
        data = {"e": "depthUpdate", "E": 1_700_000_000_000 + n, "s": "BTCUSDT", "U": n, "u": n,
                "b": _levels(changes, "b"), "a": _levels(changes, "a")}  # fmt: skip
        frames.append(json.dumps({"stream": "btcusdt@depth@100ms", "data": data}))
    proto.on_frame(frames[0], 0.0)  # buffered; asks for the snapshot
    request: RestRequest = proto.drain().requests[-1]
    body = {
        "lastUpdateId": 1,
        "bids": _snapshot_levels(stream.bids),
        "asks": _snapshot_levels(stream.asks),
    }
    proto.on_rest(request, 200, json.dumps(body), 0.0)
    return proto, frames[1:]


def bybit(stream: Stream) -> tuple[VenueProtocol, list[str]]:
    proto = BybitProtocol(SymbolMap([("BTCUSDT", Symbol("BTC", "USDT"))]), depth=LEVELS)
    proto.subscribe([Symbol("BTC", "USDT")], 0.0)
    topic = "orderbook.200.BTCUSDT"

    def frame(kind: str, u: int, bids: list[list[str]], asks: list[list[str]]) -> str:
        data = {"s": "BTCUSDT", "b": bids, "a": asks, "u": u, "seq": 1000 + u}
        return json.dumps(
            {"topic": topic, "type": kind, "ts": 1_700_000_000_000 + u, "data": data, "cts": 1}
        )

    proto.on_frame(
        frame("snapshot", 1, _snapshot_levels(stream.bids), _snapshot_levels(stream.asks)), 0.0
    )
    frames = [
        frame("delta", n, _levels(c, "b"), _levels(c, "a"))
        for n, c in enumerate(stream.frames, start=2)
    ]
    return proto, frames


def okx(stream: Stream) -> tuple[VenueProtocol, list[str]]:
    proto = OkxProtocol(SymbolMap([("BTC-USDT", Symbol("BTC", "USDT"))]), depth=LEVELS)
    proto.subscribe([Symbol("BTC", "USDT")], 0.0)

    def frame(
        action: str, seq: int, prev: int, bids: list[list[str]], asks: list[list[str]]
    ) -> str:
        data = {"asks": [[*a, "0", "1"] for a in asks], "bids": [[*b, "0", "1"] for b in bids],
                "ts": str(1_700_000_000_000 + seq), "checksum": 0, "prevSeqId": prev, "seqId": seq}  # fmt: skip
        return json.dumps(
            {"arg": {"channel": "books", "instId": "BTC-USDT"}, "action": action, "data": [data]}
        )

    proto.on_frame(
        frame("snapshot", 1, -1, _snapshot_levels(stream.bids), _snapshot_levels(stream.asks)), 0.0
    )
    frames = [
        frame("update", n, n - 1, _levels(c, "b"), _levels(c, "a"))
        for n, c in enumerate(stream.frames, start=2)
    ]
    return proto, frames


def deribit(stream: Stream) -> tuple[VenueProtocol, list[str]]:
    proto = DeribitProtocol(SymbolMap([("BTC_USDC", Symbol("BTC", "USDC"))]), depth=LEVELS)
    proto.subscribe([Symbol("BTC", "USDC")], 0.0)
    channel = "book.BTC_USDC.100ms"

    def frame(kind: str, change_id: int, bids: list[list[object]], asks: list[list[object]]) -> str:
        data = {"type": kind, "timestamp": 1_700_000_000_000 + change_id, "instrument_name": "BTC_USDC",
                "change_id": change_id, "bids": bids, "asks": asks}  # fmt: skip
        if kind == "change":
            data["prev_change_id"] = change_id - 1
        return json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "subscription",
                "params": {"channel": channel, "data": data},
            }
        )

    def levels(changes: list[Change], side: str) -> list[list[object]]:
        return [["delete" if s == 0 else "change", p, s] for sd, p, s in changes if sd == side]

    snap_b = [["new", p, s] for p, s in stream.bids.items()]
    snap_a = [["new", p, s] for p, s in stream.asks.items()]
    proto.on_frame(frame("snapshot", 1, snap_b, snap_a), 0.0)
    frames = [
        frame("change", n, levels(c, "b"), levels(c, "a"))
        for n, c in enumerate(stream.frames, start=2)
    ]
    return proto, frames


def coinbase(stream: Stream) -> tuple[VenueProtocol, list[str]]:
    """``l2_data`` messages: one update entry per level, numbered per connection."""
    proto = CoinbaseProtocol(SymbolMap([("BTC-USD", Symbol("BTC", "USD"))]), depth=LEVELS)
    proto.subscribe([Symbol("BTC", "USD")], 0.0)
    stamp = "2023-02-09T20:32:50.714964855Z"

    def frame(seq: int, kind: str, levels: list[tuple[str, float, float]]) -> str:
        updates = [{"side": "bid" if sd == "b" else "offer", "event_time": stamp,
                    "price_level": f"{p:.1f}", "new_quantity": f"{q:.4f}"} for sd, p, q in levels]  # fmt: skip
        event = {"type": kind, "product_id": "BTC-USD", "updates": updates}
        return json.dumps({"channel": "l2_data", "client_id": "", "timestamp": stamp,
                           "sequence_num": seq, "events": [event]})  # fmt: skip

    snapshot = [("b", p, q) for p, q in stream.bids.items()]
    snapshot += [("a", p, q) for p, q in stream.asks.items()]
    proto.on_frame(frame(0, "snapshot", snapshot), 0.0)
    frames = [frame(n, "update", c) for n, c in enumerate(stream.frames, start=1)]
    return proto, frames


def kraken(stream: Stream) -> tuple[VenueProtocol, list[str]]:
    """v2 ``book`` messages with full-precision numbers and the CRC32 of the top 10 levels."""
    proto = KrakenProtocol(SymbolMap([("BTC/USD", Symbol("BTC", "USD"))]), depth=1000)
    proto.subscribe([Symbol("BTC", "USD")], 0.0)
    bids, asks = dict(stream.bids), dict(stream.asks)

    def frame(
        kind: str, bid_levels: list[tuple[float, float]], ask_levels: list[tuple[float, float]]
    ) -> str:
        top_bids = [(f"{p:.1f}", f"{bids[p]:.4f}") for p in heapq.nlargest(10, bids)]
        top_asks = [(f"{p:.1f}", f"{asks[p]:.4f}") for p in heapq.nsmallest(10, asks)]

        def levels(pairs: list[tuple[float, float]]) -> str:
            return ",".join(f'{{"price":{p:.1f},"qty":{q:.4f}}}' for p, q in pairs)

        return (f'{{"channel":"book","type":"{kind}","data":[{{"symbol":"BTC/USD",'
                f'"bids":[{levels(bid_levels)}],"asks":[{levels(ask_levels)}],'
                f'"checksum":{kraken_checksum(top_asks, top_bids)},'
                f'"timestamp":"2023-10-06T17:35:55.440295Z"}}]}}')  # fmt: skip

    proto.on_frame(frame("snapshot", list(bids.items()), list(asks.items())), 0.0)
    frames = []
    for changes in stream.frames:
        for sd, p, q in changes:
            side = bids if sd == "b" else asks
            if q:
                side[p] = q
            else:
                side.pop(p, None)
        b = [(p, q) for sd, p, q in changes if sd == "b"]
        a = [(p, q) for sd, p, q in changes if sd == "a"]
        frames.append(frame("update", b, a))
    return proto, frames


def coinbase_big_snapshot() -> tuple[int, float]:
    """(bytes, seconds) for the one-frame BTC-USD snapshot Coinbase sends on subscribe."""
    rng = random.Random(3)
    stamp = "2023-02-09T20:32:50.714964855Z"
    updates = [
        {"side": side, "event_time": stamp, "price_level": f"{MID + sign * 0.01 * (i + 1):.2f}",
         "new_quantity": f"{rng.uniform(0.0001, 3):.8f}"}
        for side, sign in (("bid", -1), ("offer", 1)) for i in range(23_000)
    ]  # fmt: skip
    event = {"type": "snapshot", "product_id": "BTC-USD", "updates": updates}
    text = json.dumps({"channel": "l2_data", "client_id": "", "timestamp": stamp,
                       "sequence_num": 0, "events": [event]})  # fmt: skip
    proto = CoinbaseProtocol(SymbolMap([("BTC-USD", Symbol("BTC", "USD"))]))
    proto.subscribe([Symbol("BTC", "USD")], 0.0)
    start = time.perf_counter()
    proto.on_frame(text, 0.0)
    elapsed = time.perf_counter() - start
    assert proto.books[Symbol("BTC", "USD")].state is BookState.LIVE
    return len(text), elapsed


def measure(
    name: str, build: Callable[[Stream], tuple[VenueProtocol, list[str]]], stream: Stream
) -> dict[str, float]:
    proto, frames = build(stream)
    (book,) = proto.books.values()
    assert book.state is BookState.LIVE, f"{name}: book not live after its snapshot"
    level_updates = sum(len(c) for c in stream.frames[-len(frames) :])
    on_frame = proto.on_frame
    l1 = book.l1
    start = time.perf_counter()
    for text in frames:
        on_frame(text, 1.0)
        l1()
    elapsed = time.perf_counter() - start
    assert book.state is BookState.LIVE, f"{name}: book broke during the run ({proto.stats.errors})"
    assert sum(proto.stats.errors.values()) == 0, proto.stats.errors
    return {"frames_per_s": len(frames) / elapsed, "level_updates_per_s": level_updates / elapsed,
            "frames": len(frames), "us_per_frame": elapsed / len(frames) * 1e6}  # fmt: skip


def main() -> dict[str, dict[str, float]]:
    stream = generate()
    avg = sum(len(c) for c in stream.frames) / len(stream.frames)
    print(f"book apply benchmark: {len(stream.frames)} frames, {avg:.1f} level changes/frame, "
          f">= {LEVELS} levels/side, decode + apply + L1, one core")  # fmt: skip
    results = {}
    venues = (("binance", binance), ("okx", okx), ("bybit", bybit), ("deribit", deribit),
              ("coinbase", coinbase), ("kraken", kraken))  # fmt: skip
    for name, build in venues:
        best = max(
            (measure(name, build, stream) for _ in range(3)), key=lambda r: r["frames_per_s"]
        )
        results[name] = best
        print(f"  {name:8s} {best['frames_per_s']:>10,.0f} frames/s  {best['level_updates_per_s']:>12,.0f} "
              f"level-updates/s  {best['us_per_frame']:6.2f} us/frame")  # fmt: skip
    size, seconds = coinbase_big_snapshot()
    print(f"  coinbase full-depth snapshot: {size / 1e6:.1f} MB, 46,000 levels: "
          f"{seconds * 1000:.0f} ms to decode and apply")  # fmt: skip
    target = 150_000
    verdict = "meets" if results["bybit"]["frames_per_s"] >= target else "BELOW"
    print(f"  target: >= {target:,} frames/s for Bybit-style deltas: {verdict}")
    return results


if __name__ == "__main__":
    main()
