"""Bitget, Crypto.com and HTX: decode + apply + L1 per frame,
on each venue's frame shape, checksum verified on every frame.

Same generated stream as ``bench_books`` (>= 250 levels a side, 1-20 level changes a frame).
"""

from __future__ import annotations

import gzip
import json
import time

from bench.bench_books import Change, Stream, generate, measure
from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Symbol
from goquant_bot.venues.base import SymbolMap, VenueProtocol
from goquant_bot.venues.bitget import CHECKSUM_LEVELS, BitgetProtocol
from goquant_bot.venues.crc_books import interleaved_crc32, signed32
from goquant_bot.venues.cryptocom import CryptocomProtocol
from goquant_bot.venues.htx import HtxProtocol

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


def _top150(side: Side, bids: bool) -> dict[float, float]:
    return {p: side[p] for p in sorted(side, reverse=bids)[:150]}


def _view_diff(before: dict[float, float], after: dict[float, float]) -> list[list[float]]:
    """What turns one top-150 view into the next, as mbp.150 sends it (size 0 removes)."""
    out = [[p, s] for p, s in after.items() if before.get(p) != s]
    return out + [[p, 0.0] for p in before if p not in after]


def htx(stream: Stream) -> tuple[VenueProtocol, list[str]]:
    """mbp.150 pushes (the changes of the top-150 view, chained by seqNum) on a req snapshot,
    gunzipped by the protocol first (as on the wire)."""
    proto = HtxProtocol(SymbolMap([("btcusdt", BTC_USDT)]))
    proto.subscribe([BTC_USDT], 0.0)
    bids, asks = dict(stream.bids), dict(stream.asks)
    view_b, view_a = _top150(bids, True), _top150(asks, False)
    data = {"seqNum": 0, "bids": [[p, s] for p, s in view_b.items()],
            "asks": [[p, s] for p, s in view_a.items()]}  # fmt: skip
    rep = {"id": "2", "rep": "market.btcusdt.mbp.150", "status": "ok", "ts": 0, "data": data}
    proto.on_frame(json.dumps(rep), 0.0)
    frames = []
    for seq, changes in enumerate(stream.frames[:20000], start=1):
        _apply(bids, asks, changes)
        new_b, new_a = _top150(bids, True), _top150(asks, False)
        tick = {"seqNum": seq, "prevSeqNum": seq - 1, "bids": _view_diff(view_b, new_b),
                "asks": _view_diff(view_a, new_a)}  # fmt: skip
        view_b, view_a = new_b, new_a
        frames.append(json.dumps({"ch": "market.btcusdt.mbp.150", "ts": seq, "tick": tick}))
    return proto, frames


def measure_htx(stream: Stream) -> dict[str, float]:
    """As ``measure``, with each frame gzipped on the wire and decoded by the protocol."""
    proto, texts = htx(stream)
    frames = [gzip.compress(t.encode()) for t in texts]
    (book,) = proto.books.values()
    decode, on_frame, l1 = proto.decode_binary, proto.on_frame, book.l1
    start = time.perf_counter()
    for data in frames:
        text = decode(data)
        assert text is not None
        on_frame(text, 1.0)
        l1()
    elapsed = time.perf_counter() - start
    assert book.state is BookState.LIVE, proto.stats.errors
    assert not proto.stats.errors, proto.stats.errors
    return {"frames_per_s": len(frames) / elapsed, "us_per_frame": elapsed / len(frames) * 1e6}


def main() -> dict[str, dict[str, float]]:
    stream = generate()
    print(
        "Bitget, Crypto.com, HTX (decode + apply + checksum or sequence + L1, one core; same stream)"
    )
    results = {}
    for name, build in (("bitget", bitget), ("cryptocom", cryptocom)):
        best = max(
            (measure(name, build, stream) for _ in range(3)), key=lambda r: r["frames_per_s"]
        )
        results[name] = best
        print(f"  {name:9s} {best['frames_per_s']:>10,.0f} frames/s  "
              f"{best['level_updates_per_s']:>12,.0f} level-updates/s  "
              f"{best['us_per_frame']:6.2f} us/frame")  # fmt: skip
    best = max((measure_htx(stream) for _ in range(3)), key=lambda r: r["frames_per_s"])
    results["htx"] = best
    print(f"  htx       {best['frames_per_s']:>10,.0f} frames/s  (gunzip + mbp.150 changes "
          f"+ seqNum chain + L1)  {best['us_per_frame']:6.2f} us/frame")  # fmt: skip
    return results


if __name__ == "__main__":
    main()
