"""Gemini, Bitstamp, Bitfinex and MEXC: decode + apply + L1 per frame, on each venue's frame shape.

Same generated stream as ``bench_books`` (>= 250 levels a side, 1-20 level changes a frame).
Bitfinex sends one message per changed level followed by a checksum message, so its figure
is given both per message and per book change (the batch of messages one frame becomes,
checksum verified, which is what the other venues' frames are). MEXC's frames are protobuf:
its figures give the decode alone (protobuf to the JSON form the protocol reads) and the
whole path per frame.
"""

from __future__ import annotations

import json
import time

from bench.bench_books import LEVELS, Change, Stream, generate, measure
from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Symbol
from goquant_bot.venues.base import RestRequest, SymbolMap, VenueProtocol
from goquant_bot.venues.bitfinex import BitfinexProtocol
from goquant_bot.venues.bitfinex_rest import bitfinex_checksum, js_number
from goquant_bot.venues.bitstamp import BitstampProtocol
from goquant_bot.venues.gemini import GeminiProtocol
from goquant_bot.venues.mexc import MexcProtocol
from goquant_bot.venues.mexc_pb2 import PushDataV3ApiWrapper

BTC_USD = Symbol("BTC", "USD")
BTC_USDT = Symbol("BTC", "USDT")
MEXC_CHANNEL = "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"
T_US = 1_700_000_000_000_000


def _pairs(changes: list[Change], side: str) -> list[list[str]]:
    return [[f"{p:.1f}", f"{s:.4f}"] for sd, p, s in changes if sd == side]


def gemini(stream: Stream) -> tuple[VenueProtocol, list[str]]:
    proto = GeminiProtocol(SymbolMap([("BTCUSD", BTC_USD)]), depth=LEVELS * 2)
    proto.subscribe([BTC_USD], 0.0)
    changes = [["buy", f"{p:.1f}", f"{s:.4f}"] for p, s in stream.bids.items()]
    changes += [["sell", f"{p:.1f}", f"{s:.4f}"] for p, s in stream.asks.items()]
    first = {"type": "l2_updates", "symbol": "BTCUSD", "changes": changes, "trades": []}
    proto.on_frame(json.dumps(first), 0.0)
    frames = [
        json.dumps(
            {
                "type": "l2_updates",
                "symbol": "BTCUSD",
                "changes": [
                    ["buy" if sd == "b" else "sell", f"{p:.1f}", f"{s:.4f}"] for sd, p, s in c
                ],
            }
        )
        for c in stream.frames
    ]
    return proto, frames


def bitstamp(stream: Stream) -> tuple[VenueProtocol, list[str]]:
    proto = BitstampProtocol(SymbolMap([("btcusd", BTC_USD)]), depth=LEVELS * 2)
    proto.subscribe([BTC_USD], 0.0)

    def frame(ts: int, bids: list[list[str]], asks: list[list[str]]) -> str:
        data = {"timestamp": str(ts // 1_000_000), "microtimestamp": str(ts), "bids": bids,
                "asks": asks}  # fmt: skip
        return json.dumps({"data": data, "channel": "diff_order_book_btcusd", "event": "data"})

    frames = [
        frame(T_US + n, _pairs(c, "b"), _pairs(c, "a")) for n, c in enumerate(stream.frames, 1)
    ]
    proto.on_frame(frames[0], 0.0)  # buffered; asks for the snapshot
    request: RestRequest = proto.drain().requests[-1]
    body = {
        "timestamp": str(T_US // 1_000_000),
        "microtimestamp": str(T_US + 1),
        "bids": [[f"{p:.1f}", f"{s:.4f}"] for p, s in stream.bids.items()],
        "asks": [[f"{p:.1f}", f"{s:.4f}"] for p, s in stream.asks.items()],
    }
    proto.on_rest(request, 200, json.dumps(body), 0.0)
    return proto, frames[1:]


def bitfinex(stream: Stream) -> tuple[BitfinexProtocol, list[list[str]]]:
    """The protocol live on a snapshot, and per frame its messages (levels, then checksum)."""
    proto = BitfinexProtocol(SymbolMap([("tBTCUSD", BTC_USD)]), depth=LEVELS)
    proto.subscribe([BTC_USD], 0.0)
    proto.on_open(0.0)
    proto.on_frame('{"event":"conf","status":"OK","flags":196608}', 0.0)
    proto.on_frame(
        '{"event":"subscribed","channel":"book","chanId":7,"symbol":"tBTCUSD","len":"250"}', 0.0
    )
    bids, asks = dict(stream.bids), dict(stream.asks)

    def level(price: float, size: float, bid: bool) -> str:
        if size == 0:
            return f"[{js_number(price)},0,{1 if bid else -1}]"
        return f"[{js_number(price)},1,{js_number(size if bid else -size)}]"

    def checksum() -> int:
        top_b = sorted(bids.items(), reverse=True)[:25]
        top_a = sorted(asks.items())[:25]
        return bitfinex_checksum(top_b, top_a)

    seq = 1
    body = ",".join(
        [level(p, s, True) for p, s in bids.items()] + [level(p, s, False) for p, s in asks.items()]
    )
    proto.on_frame(f"[7,[{body}],{seq}]", 0.0)
    seq += 1
    proto.on_frame(f'[7,"cs",{checksum()},{seq}]', 0.0)
    batches = []
    for changes in stream.frames:
        messages = []
        for side, price, size in changes:
            book = bids if side == "b" else asks
            if size == 0:
                book.pop(price, None)
            else:
                book[price] = size
            seq += 1
            messages.append(f"[7,{level(price, size, side == 'b')},{seq}]")
        seq += 1
        messages.append(f'[7,"cs",{checksum()},{seq}]')
        batches.append(messages)
    return proto, batches


def measure_bitfinex(stream: Stream) -> dict[str, float]:
    proto, batches = bitfinex(stream)
    (book,) = proto.books.values()
    assert book.state is BookState.LIVE, "bitfinex: book not live after its snapshot"
    messages = [m for batch in batches for m in batch]
    on_frame, l1 = proto.on_frame, book.l1
    start = time.perf_counter()
    for text in messages:
        on_frame(text, 1.0)
        l1()
    elapsed = time.perf_counter() - start
    assert book.state is BookState.LIVE, f"bitfinex: book broke ({proto.stats.errors})"
    assert sum(proto.stats.errors.values()) == 0, proto.stats.errors
    return {"frames_per_s": len(batches) / elapsed, "messages_per_s": len(messages) / elapsed,
            "us_per_frame": elapsed / len(batches) * 1e6}  # fmt: skip


def mexc(stream: Stream) -> tuple[MexcProtocol, list[bytes]]:
    """The protocol live on a REST snapshot, and the stream as MEXC's binary pushes."""
    proto = MexcProtocol(SymbolMap([("BTCUSDT", BTC_USDT)]), depth=LEVELS * 2)
    proto.subscribe([BTC_USDT], 0.0)
    frames = []
    for version, changes in enumerate(stream.frames, start=1001):
        push = PushDataV3ApiWrapper(channel=MEXC_CHANNEL, symbol="BTCUSDT", sendTime=version)
        depth = push.publicAggreDepths
        for side, price, size in changes:
            items = depth.bids if side == "b" else depth.asks
            items.add(price=f"{price:.1f}", quantity=f"{size:.4f}")
        depth.eventType = MEXC_CHANNEL.rpartition("@")[0]
        depth.fromVersion = depth.toVersion = str(version)
        frames.append(push.SerializeToString())
    text = proto.decode_binary(frames[0])
    assert text is not None
    proto.on_frame(text, 0.0)  # buffered; asks for the snapshot
    request: RestRequest = proto.drain().requests[-1]
    body = {"lastUpdateId": 1001, "timestamp": 1,
            "bids": [[f"{p:.1f}", f"{s:.4f}"] for p, s in stream.bids.items()],
            "asks": [[f"{p:.1f}", f"{s:.4f}"] for p, s in stream.asks.items()]}  # fmt: skip
    proto.on_rest(request, 200, json.dumps(body), 0.0)
    return proto, frames[1:]


def measure_mexc(stream: Stream) -> dict[str, float]:
    """The protobuf decode per frame alone (bare parse, and parse + JSON form), then the
    whole path: decode + apply + L1."""
    proto, frames = mexc(stream)
    (book,) = proto.books.values()
    assert book.state is BookState.LIVE, "mexc: book not live after its snapshot"
    parse, decode, on_frame, l1 = PushDataV3ApiWrapper.FromString, proto.decode_binary, proto.on_frame, book.l1  # fmt: skip
    start = time.perf_counter()
    for data in frames:
        parse(data)
    parsed = time.perf_counter() - start
    start = time.perf_counter()
    texts = [decode(data) for data in frames]
    decoded = time.perf_counter() - start
    start = time.perf_counter()
    for data in frames:
        text = decode(data)
        assert text is not None
        on_frame(text, 1.0)
        l1()
    elapsed = time.perf_counter() - start
    assert all(texts)
    assert book.state is BookState.LIVE, f"mexc: book broke ({proto.stats.errors})"
    assert sum(proto.stats.errors.values()) == 0, proto.stats.errors
    n = len(frames)
    return {"frames_per_s": n / elapsed, "us_per_frame": elapsed / n * 1e6,
            "parse_us_per_frame": parsed / n * 1e6, "decode_us_per_frame": decoded / n * 1e6,
            "bytes_per_frame": sum(map(len, frames)) / n}  # fmt: skip


def main() -> dict[str, dict[str, float]]:
    stream = generate()
    print("spot venues (decode + apply + L1, one core; same stream as above)")
    results = {}
    for name, build in (("gemini", gemini), ("bitstamp", bitstamp)):
        best = max(
            (measure(name, build, stream) for _ in range(3)), key=lambda r: r["frames_per_s"]
        )
        results[name] = best
        print(f"  {name:8s} {best['frames_per_s']:>10,.0f} frames/s  {best['level_updates_per_s']:>12,.0f} "
              f"level-updates/s  {best['us_per_frame']:6.2f} us/frame")  # fmt: skip
    best = max((measure_bitfinex(stream) for _ in range(3)), key=lambda r: r["frames_per_s"])
    results["bitfinex"] = best
    print(f"  bitfinex {best['frames_per_s']:>10,.0f} book changes/s ({best['messages_per_s']:,.0f} "
          f"messages/s: one per level + a verified checksum)  {best['us_per_frame']:6.2f} us/change")  # fmt: skip
    best = min((measure_mexc(stream) for _ in range(3)), key=lambda r: r["us_per_frame"])
    results["mexc"] = best
    print(f"  mexc     {best['frames_per_s']:>10,.0f} frames/s  (protobuf, {best['bytes_per_frame']:.0f} "
          f"bytes/frame)  {best['us_per_frame']:6.2f} us/frame")  # fmt: skip
    print(f"  mexc protobuf decode per frame: {best['parse_us_per_frame']:.2f} us bare parse, "
          f"{best['decode_us_per_frame']:.2f} us to the JSON form the protocol reads")  # fmt: skip
    return results


if __name__ == "__main__":
    main()
