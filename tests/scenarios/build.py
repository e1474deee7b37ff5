"""Scenario captures for the signal engines: true opportunities and traps, in venue wire formats.

``python -m tests.scenarios.build [--out DIR]`` writes, per scenario, one capture per venue
(``<venue>.jsonl``) and the monitors (``monitors.json``) into ``tests/scenarios/data/<name>/``.
The output depends on nothing but this code, so the committed files can be checked against it.

Every venue sends a frame every 0.25 s (each at its own offset inside the quarter second)
in which one deep level changes, so books stay fresh; the scripted moves happen at the top.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.scenarios.tapes import BinanceTape, Book, BybitTape, DeribitTape, Level, OkxTape

DATA_DIR = Path(__file__).resolve().parent / "data"
DAY = 1_767_225_600.0  # 2026-01-01 00:00 UTC; scenario n starts at 09:00 + n hours
TICK_S = 0.25
OFFSET = {"binance": 0.013, "okx": 0.141, "bybit": 0.077, "deribit": 0.196}
SIZES = (0.4, 0.25, 0.6, 0.9, 1.3, 1.7, 2.2, 2.8)
USDT = ("BTC", "USDT")
USDC = ("BTC", "USDC")


def ticks(venue: str, start: float, end: float) -> list[tuple[int, float]]:
    """(index, time) of a venue's frames in [start, end)."""
    out = []
    k = 0
    while (t := round(start + k * TICK_S + OFFSET[venue], 6)) < end:
        out.append((k, t))
        k += 1
    return out


def side(
    best: float, k: int, sign: int, *, gap: float, sizes: Sequence[float] = SIZES
) -> list[Level]:
    """One side of an ordinary book: levels ``gap`` apart, one deep level changing with ``k``."""
    churn = 3 + k % 5
    bump = 0.0137 * (1 + k % 7)
    return [
        (round(best + sign * i * gap, 2), round(size + (bump if i == churn else 0.0), 6))
        for i, size in enumerate(sizes)
    ]


def calm(bid: float, ask: float, k: int, *, gap: float = 0.5) -> Book:
    return side(bid, k, -1, gap=gap), side(ask, k, +1, gap=gap)


def path(t: float, steps: Sequence[tuple[float, float]]) -> float:
    """The value of a step function given as (from time, value), sorted by time."""
    return [value for since, value in steps if since <= t][-1]


def write_monitors(directory: Path, monitors: list[dict[str, Any]]) -> Path:
    target = directory / "monitors.json"
    target.write_text(json.dumps(monitors, indent=2) + "\n")
    return target


def arb(monitor_id: str, venues: Sequence[str], **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "id": monitor_id,
        "kind": "arbitrage",
        "symbols": ["BTC-USDT"],
        "venues": list(venues),
        "min_edge_pct": 0.1,
        "notional": 1000,
    }
    spec.update(extra)
    return spec


# -- scenarios ----------------------------------------------------------------------------


def true_opportunity(directory: Path) -> list[Path]:
    """OKX bids run ahead of Binance for ~4 s: buying 1,000 USDT on Binance and selling on OKX
    clears 0.1 % after fees; a dip into the hysteresis band does not close it."""
    start = DAY + 9 * 3600
    binance, okx = BinanceTape(start), OkxTape(start)
    binance.open(0.5, ["BTCUSDT"], [USDT])
    okx.open(0.6, ["BTC-USDT"])
    for k, t in ticks("binance", 1.0, 20.0):
        binance.book(t, "BTCUSDT", calm(86999.99, 87000.00, k))
    okx_bids = [
        (0.0, 86999.9),
        (9.5, 87100.0),
        (9.75, 87200.0),
        (10.0, 87280.0),
        (11.0, 87320.0),
        (12.0, 87250.0),
        (13.0, 87300.0),
        (14.0, 87240.0),
        (15.0, 87100.0),
        (16.0, 86999.9),
    ]
    for k, t in ticks("okx", 1.0, 20.0):
        bid = path(t, okx_bids)
        okx.book(t, "BTC-USDT", calm(bid, round(bid + 0.1, 1), k))
    pair = ["binance", "okx"]
    write_monitors(
        directory,
        [
            arb("m1", pair),
            arb("m_wait", pair, min_duration_s=1.6),
            arb("m_high", pair, min_edge_pct=0.2),
            arb("m_vip", pair, min_edge_pct=0.25, fees_pct={"binance": 0.02, "okx": 0.02}),
        ],
    )
    return [binance.write(directory / "binance.jsonl"), okx.write(directory / "okx.jsonl")]


def silent_venue(directory: Path) -> list[Path]:
    """OKX stops sending after 10.141 s while Binance rises 0.7 %: the frozen OKX ask would
    give up to 0.49 % (skewed after 5 s, stale after 10 s). OKX comes back on a new connection
    already repriced: no edge on fresh data."""
    start = DAY + 10 * 3600
    binance, okx = BinanceTape(start), OkxTape(start)
    binance.open(0.5, ["BTCUSDT"], [USDT])
    okx.open(0.6, ["BTC-USDT"])
    binance_bids = [(0.0, 86999.99), (15.5, 87299.99), (17.0, 87449.99), (19.0, 87599.99)]
    for k, t in ticks("binance", 1.0, 31.0):
        bid = path(t, binance_bids)
        binance.book(t, "BTCUSDT", calm(bid, round(bid + 0.01, 2), k))
    for k, t in ticks("okx", 1.0, 10.2):
        okx.book(t, "BTC-USDT", calm(86999.9, 87000.0, k))
    okx.send(13.3, "ping")  # our probe of the quiet connection: never answered
    okx.open(24.6, ["BTC-USDT"])  # the reconnection that finally works
    for k, t in ticks("okx", 24.75, 31.0):
        okx.book(t, "BTC-USDT", calm(87599.9, 87600.0, k))
    write_monitors(directory, [arb("m1", ["binance", "okx"])])
    return [binance.write(directory / "binance.jsonl"), okx.write(directory / "okx.jsonl")]


def _market(t: float) -> float:
    """The price all venues follow in ``gap_phantom``: 87,000, then 6 steps of -150 from 15 s."""
    steps = 0 if t < 15.0 else min(6, int((t - 15.0) / TICK_S) + 1)
    return 87000.0 - 150.0 * steps


def gap_phantom(directory: Path, *, gap: bool = True) -> list[Path]:
    """Bybit's order-book stream stalls from 10 s to 16 s while the market falls 1 %; the
    deltas of the stall (which deleted Bybit's 87,000 bids) are lost. The first delta after the
    stall only touches lower bids: applied over the gap it would leave the deleted bids standing
    1 % above everyone else, on a fresh frame. ``gap=False`` numbers the same deltas without
    the gap (a control: that is what the engine would see if gaps went unnoticed)."""
    start = DAY + 11 * 3600
    binance, okx, bybit = BinanceTape(start), OkxTape(start), BybitTape(start)
    binance.open(0.5, ["BTCUSDT"], [USDT])
    okx.open(0.6, ["BTC-USDT"])
    bybit.open(0.55, ["BTCUSDT"], [USDT])
    for k, t in ticks("binance", 1.0, 20.0):
        price = _market(t)
        binance.book(t, "BTCUSDT", calm(price - 0.01, price, k))
    for k, t in ticks("okx", 1.0, 20.0):
        price = _market(t)
        okx.book(t, "BTC-USDT", calm(price - 0.1, price, k))
    stalled: Book = ([], [])
    for k, t in ticks("bybit", 1.0, 20.0):
        price = _market(t)
        if 10.0 <= t < 16.0:
            stalled = calm(price - 0.01, price, k)
            bybit.lose("BTCUSDT", stalled, consume=gap)  # sent by Bybit, never received
        elif 16.0 <= t < 16.1:
            bids = [
                (p, round(s + 0.35, 6) if i in (1, 2) else s) for i, (p, s) in enumerate(stalled[0])
            ]
            bybit.book(t, "BTCUSDT", (bids, stalled[1]))  # Bybit still at -600: two bid sizes
            bybit.resubscribe(t + 0.001, "BTCUSDT")  # what the client does on the gap
        else:
            bybit.book(t, "BTCUSDT", calm(price - 0.01, price, k))
        if 16.3 <= t < 16.4:  # still streaming until the unsubscription; then a fresh snapshot
            fresh = _market(16.45)
            bybit.snapshot(16.45, "BTCUSDT", calm(fresh - 0.01, fresh, k))
    bybit.ping(12.83)  # the connection itself is alive during the stall
    write_monitors(directory, [arb("m1", ["binance", "okx", "bybit"])])
    return [
        binance.write(directory / "binance.jsonl"),
        okx.write(directory / "okx.jsonl"),
        bybit.write(directory / "bybit.jsonl"),
    ]


def thin_top(directory: Path) -> list[Path]:
    """After a buy sweep, OKX's best bids are 87,400 x 0.0001 and 87,350 x 0.0012 over ordinary
    depth at 86,999.9 (asks from 87,400.5), for 4 s. Selling 1,000 USDT worth there loses money
    after fees; 100 USDT worth fits in the top two levels and clears 0.2 %."""
    start = DAY + 12 * 3600
    binance, okx = BinanceTape(start), OkxTape(start)
    binance.open(0.5, ["BTCUSDT"], [USDT])
    okx.open(0.6, ["BTC-USDT"])
    for k, t in ticks("binance", 1.0, 16.0):
        binance.book(t, "BTCUSDT", calm(86999.99, 87000.00, k))
    for k, t in ticks("okx", 1.0, 16.0):
        bids, asks = calm(86999.9, 87000.0, k)
        if 8.0 <= t < 12.0:
            bids = [(87400.0, 0.0001), (87350.0, 0.0012), *bids]
            asks = side(87400.5, k, +1, gap=0.5, sizes=(0.0003, 0.15, *SIZES[2:]))
        okx.book(t, "BTC-USDT", (bids, asks))
    pair = ["binance", "okx"]
    write_monitors(directory, [arb("m1000", pair), arb("m100", pair, notional=100)])
    return [binance.write(directory / "binance.jsonl"), okx.write(directory / "okx.jsonl")]


def usdc_vs_usdt(directory: Path) -> list[Path]:
    """USDC trades 1.5 % under USDT: BTC-USDC (Binance, Deribit) sits 1.5 % above BTC-USDT
    (Binance, OKX). Within each quote asset the venues agree: no arbitrage."""
    start = DAY + 13 * 3600
    binance, okx, deribit = BinanceTape(start), OkxTape(start), DeribitTape(start)
    binance.open(0.5, ["BTCUSDT", "BTCUSDC"], [USDT, USDC])
    okx.open(0.6, ["BTC-USDT"])
    deribit.open(0.7, ["BTC_USDC"])
    for k, t in ticks("binance", 1.0, 12.0):
        binance.book(t, "BTCUSDT", calm(86999.99, 87000.00, k))
        binance.book(round(t + 0.002, 6), "BTCUSDC", calm(88299.99, 88300.00, k))
    for k, t in ticks("okx", 1.0, 12.0):
        okx.book(t, "BTC-USDT", calm(86999.9, 87000.0, k))
    for k, t in ticks("deribit", 1.0, 12.0):
        deribit.book(t, "BTC_USDC", calm(88298.0, 88302.0, k, gap=5.0))
    write_monitors(
        directory,
        [
            arb("usdt", []),
            {**arb("usdc", []), "symbols": ["BTC-USDC"]},
        ],
    )
    return [
        binance.write(directory / "binance.jsonl"),
        okx.write(directory / "okx.jsonl"),
        deribit.write(directory / "deribit.jsonl"),
    ]


def market_view(directory: Path) -> list[Path]:
    """Binance's bid falls behind OKX's at 6 s, its ask at 9 s; its bid is best again from
    12 s, which the 29.9 s cooldown reports only at 36 s."""
    start = DAY + 14 * 3600
    binance, okx = BinanceTape(start), OkxTape(start)
    binance.open(0.5, ["BTCUSDT"], [USDT])
    okx.open(1.5, ["BTC-USDT"])  # after Binance: the first best venue is Binance's
    binance_bids = [(0.0, 86999.99), (6.0, 86999.50), (12.0, 86999.99)]
    binance_asks = [(0.0, 87000.00), (9.0, 87000.20)]
    for k, t in ticks("binance", 1.0, 40.0):
        book = calm(path(t, binance_bids), path(t, binance_asks), k)
        binance.book(t, "BTCUSDT", book)
    for k, t in ticks("okx", 2.0, 40.0):
        okx.book(t, "BTC-USDT", calm(86999.8, 87000.1, k))
    view = {
        "id": "mv1",
        "kind": "market_view",
        "symbol": "BTC-USDT",
        "venues": ["binance", "okx"],
        "best_venue_change": True,
        "cooldown_s": 29.9,
    }
    write_monitors(directory, [view])
    return [binance.write(directory / "binance.jsonl"), okx.write(directory / "okx.jsonl")]


SCENARIOS: dict[str, Callable[[Path], list[Path]]] = {
    "true_opportunity": true_opportunity,
    "silent_venue": silent_venue,
    "gap_phantom": gap_phantom,
    "thin_top": thin_top,
    "usdc_vs_usdt": usdc_vs_usdt,
    "market_view": market_view,
}


def build_all(out: Path) -> list[Path]:
    """Write every scenario under ``out``; returns the files written."""
    written = []
    for name, build in SCENARIOS.items():
        directory = out / name
        directory.mkdir(parents=True, exist_ok=True)
        written += [*build(directory), directory / "monitors.json"]
    return written


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="where to write the scenarios")
    args = parser.parse_args(argv)
    build_all(args.out)


if __name__ == "__main__":
    main()
