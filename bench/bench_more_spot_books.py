"""Bitget and Crypto.com: decode + apply + L1 per frame,
on each venue's frame shape, checksum verified on every frame.

Same generated stream as ``bench_books`` (>= 250 levels a side, 1-20 level changes a frame).
"""

from __future__ import annotations

import json

from bench.bench_books import Change, Stream, generate, measure
from goquant_bot.domain.instruments import Symbol
from goquant_bot.venues.base import SymbolMap, VenueProtocol
from goquant_bot.venues.bitget import CHECKSUM_LEVELS, BitgetProtocol
from goquant_bot.venues.crc_books import interleaved_crc32, signed32
from goquant_bot.venues.cryptocom import CryptocomProtocol

BTC_USDT = Symbol("BTC", "USDT")
Side = dict[float, float]


def _text(price: float, size: float) -> list[str]:
    return [f"{price:.1f}", f"{size:.4f}"]


def _top(side: Side, bids: bool) -> list[list[str]]:
    prices = sorted(side, reverse=bids)[:CHECKSUM_LEVELS]
    return [_text(p, side[p]) for p in prices]


def _apply(bids: Side, asks: Side, changes: list[Change]) -> None:
    for sd, price, size in changes:
        side = bids if sd == "b" else asks
        if size:
            side[price] = size
        else:
            side.pop(price, None)


def bitget(stream: Stream) -> tuple[VenueProtocol, list[str]]:
    proto = BitgetProtocol(SymbolMap([("BTCUSDT", BTC_USDT)]), depth=1000)
    proto.subscribe([BTC_USDT], 0.0)
    bids, asks = dict(stream.bids), dict(stream.asks)
    arg = {"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"}

    def frame(action: str, b: list[list[str]], a: list[list[str]]) -> str:
        checksum = signed32(interleaved_crc32(_top(bids, True), _top(asks, False), CHECKSUM_LEVELS))
        item = {"asks": a, "bids": b, "checksum": checksum, "seq": 1, "ts": "1695716059516"}
        return json.dumps({"action": action, "arg": arg, "data": [item], "ts": 1695716059516})

    snapshot = frame(
        "snapshot",
        [_text(p, s) for p, s in sorted(bids.items(), reverse=True)],
        [_text(p, s) for p, s in sorted(asks.items())],
    )
    proto.on_frame(snapshot, 0.0)
    frames = []
    for changes in stream.frames:
        _apply(bids, asks, changes)
        b = [_text(p, s) for sd, p, s in changes if sd == "b"]
        a = [_text(p, s) for sd, p, s in changes if sd == "a"]
        frames.append(frame("update", b, a))
    return proto, frames


def cryptocom(stream: Stream) -> tuple[VenueProtocol, list[str]]:
    """Deltas chained by u/pu on a 50-level view (the generated book is cut to it)."""
    proto = CryptocomProtocol(SymbolMap([("BTC_USDT", BTC_USDT)]))
    proto.subscribe([BTC_USDT], 0.0)

    def push(channel: str, item: dict[str, object]) -> str:
        result = {"instrument_name": "BTC_USDT", "subscription": "book.BTC_USDT.50",
                  "channel": channel, "depth": 50, "data": [item]}  # fmt: skip
        return json.dumps({"id": -1, "method": "subscribe", "code": 0, "result": result})

    bids = [[*_text(p, s), "1"] for p, s in sorted(stream.bids.items(), reverse=True)]
    asks = [[*_text(p, s), "1"] for p, s in sorted(stream.asks.items())]
    proto.on_frame(push("book", {"bids": bids, "asks": asks, "t": 1, "tt": 1, "u": 0}), 0.0)
    frames = []
    for u, changes in enumerate(stream.frames, start=1):
        b = [[*_text(p, s), "1"] for sd, p, s in changes if sd == "b"]
        a = [[*_text(p, s), "1"] for sd, p, s in changes if sd == "a"]
        item = {"update": {"bids": b, "asks": a}, "t": 1, "tt": 1, "u": u, "pu": u - 1}
        frames.append(push("book.update", item))
    return proto, frames


def main() -> dict[str, dict[str, float]]:
    stream = generate()
    print("Bitget, Crypto.com (decode + apply + checksum or sequence + L1, one core; same stream)")
    results = {}
    for name, build in (("bitget", bitget), ("cryptocom", cryptocom)):
        best = max(
            (measure(name, build, stream) for _ in range(3)), key=lambda r: r["frames_per_s"]
        )
        results[name] = best
        print(f"  {name:9s} {best['frames_per_s']:>10,.0f} frames/s  "
              f"{best['level_updates_per_s']:>12,.0f} level-updates/s  "
              f"{best['us_per_frame']:6.2f} us/frame")  # fmt: skip
    return results


if __name__ == "__main__":
    main()
