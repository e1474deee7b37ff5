"""Gate and KuCoin: decode + apply + L1 per frame, on each venue's frame shape.

Same generated stream as ``bench_books`` (>= 250 levels a side, 1-20 level changes a frame).
"""

from __future__ import annotations

import json
from dataclasses import replace

from bench.bench_books import LEVELS, Change, Stream, generate, measure
from goquant_bot.domain.instruments import Symbol
from goquant_bot.venues.base import SymbolMap, VenueProtocol
from goquant_bot.venues.gateio import GateioProtocol
from goquant_bot.venues.kucoin import KucoinProtocol

BTC_USDT = Symbol("BTC", "USDT")
T_MS = 1_700_000_000_000


def _pairs(changes: list[Change], side: str) -> list[list[str]]:
    return [[f"{p:.1f}", f"{s:.4f}"] for sd, p, s in changes if sd == side]


def gateio(stream: Stream) -> tuple[VenueProtocol, list[str]]:
    """``spot.obu``: a full book, then updates chained by U/u."""
    proto = GateioProtocol(SymbolMap([("BTC_USDT", BTC_USDT)]), depth=LEVELS * 2)
    proto.subscribe([BTC_USDT], 0.0)
    full = {"t": T_MS, "full": True, "s": "ob.BTC_USDT.400", "u": 1,
            "b": [[f"{p:.1f}", f"{s:.4f}"] for p, s in stream.bids.items()],
            "a": [[f"{p:.1f}", f"{s:.4f}"] for p, s in stream.asks.items()]}  # fmt: skip
    proto.on_frame(json.dumps({"channel": "spot.obu", "result": full}), 0.0)
    frames = []
    for n, changes in enumerate(stream.frames, 2):
        result = {"t": T_MS + n, "s": "ob.BTC_USDT.400", "U": n, "u": n,
                  "b": _pairs(changes, "b"), "a": _pairs(changes, "a")}  # fmt: skip
        frames.append(json.dumps({"channel": "spot.obu", "result": result}))
    return proto, frames


def kucoin(stream: Stream) -> tuple[VenueProtocol, list[str]]:
    """``/market/level2`` deltas (one sequence per change) on a full REST snapshot."""
    proto = KucoinProtocol(SymbolMap([("BTC-USDT", BTC_USDT)]), depth=LEVELS * 2)
    proto.subscribe([BTC_USDT], 0.0)
    frames, seq = [], 1
    for changes in stream.frames:
        data: dict[str, object] = {"sequenceStart": seq + 1, "symbol": "BTC-USDT", "time": T_MS}
        side_changes: dict[str, list[list[str]]] = {"asks": [], "bids": []}
        for side, price, size in changes:
            seq += 1
            side_changes["bids" if side == "b" else "asks"].append(
                [f"{price:.1f}", f"{size:.4f}", str(seq)]
            )
        data["sequenceEnd"], data["changes"] = seq, side_changes
        frames.append(json.dumps({"topic": "/market/level2:BTC-USDT", "type": "message",
                                  "subject": "trade.l2update", "data": data}))  # fmt: skip
    proto.on_frame(frames[0], 0.0)  # buffered; asks for the snapshot
    request = proto.drain().requests[-1]
    body = {"code": "200000", "data": {"time": T_MS, "sequence": "1",
            "bids": [[f"{p:.1f}", f"{s:.4f}"] for p, s in stream.bids.items()],
            "asks": [[f"{p:.1f}", f"{s:.4f}"] for p, s in stream.asks.items()]}}  # fmt: skip
    # A full book (as a keyed client gets it): every level is known.
    full = request.url.replace(
        "/api/v1/market/orderbook/level2_100", "/api/v3/market/orderbook/level2"
    )
    proto.on_rest(replace(request, url=full), 200, json.dumps(body), 0.0)
    return proto, frames[1:]


BUILDERS = (("gateio", gateio), ("kucoin", kucoin))


def main() -> dict[str, dict[str, float]]:
    stream = generate()
    print("gate and kucoin (decode + apply + L1, one core; same stream as above)")
    results = {}
    for name, build in BUILDERS:
        best = max(
            (measure(name, build, stream) for _ in range(3)), key=lambda r: r["frames_per_s"]
        )
        results[name] = best
        print(f"  {name:8s} {best['frames_per_s']:>10,.0f} frames/s  {best['level_updates_per_s']:>12,.0f} "
              f"level-updates/s  {best['us_per_frame']:6.2f} us/frame")  # fmt: skip
    return results


if __name__ == "__main__":
    main()
