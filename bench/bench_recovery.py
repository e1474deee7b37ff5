"""Recovery of a venue down at start: time from its REST answering again to its symbols listed.

Measured: the listing keeper with the production retry schedule (0.5 s doubling, capped at
30 s, jitter 0.3) against a local HTTP server whose port refuses connections for the
outage, then answers. Simulated: the same schedule over 10,000 outages of random length up to
an hour (the wait is the gap between the REST coming back and the next retry).
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import statistics
import tempfile
import time
from pathlib import Path

from aiohttp import web

from goquant_bot.domain.instruments import Venue
from goquant_bot.marketdata.directory import SymbolDirectory
from goquant_bot.marketdata.listings import ListingKeeper
from goquant_bot.marketdata.service import RETRY
from goquant_bot.venues.net import AiohttpGet
from goquant_bot.venues.registry import VENUES

OUTAGES_S = (1.0, 5.0, 20.0)
SIMULATED = 10_000
BODY = json.dumps(
    {
        "code": "0",
        "msg": "",
        "data": [
            {
                "instType": "SPOT",
                "instId": "BTC-USDT",
                "baseCcy": "BTC",
                "quoteCcy": "USDT",
                "state": "live",
                "tickSz": "0.1",
                "lotSz": "0.00000001",
            }
        ],
    }
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _answering(port: int) -> web.AppRunner:
    async def instruments(_request: web.Request) -> web.Response:
        return web.Response(text=BODY, content_type="application/json")

    app = web.Application()
    app.router.add_get("/api/v5/public/instruments", instruments)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def measure(outage_s: float) -> float:
    """Seconds from the REST answering to the venue's symbols being listed."""
    port = _free_port()
    listed = asyncio.Event()
    with tempfile.TemporaryDirectory() as tmp:
        async with AiohttpGet() as http, asyncio.TaskGroup() as tg:
            keeper = ListingKeeper(
                SymbolDirectory(Path(tmp), 3600.0),
                {Venue.OKX: VENUES[Venue.OKX]},
                {Venue.OKX: f"http://127.0.0.1:{port}"},
                http,
                backoff=RETRY,
                on_listed=lambda venue: listed.set(),
            )
            keeping = tg.create_task(keeper.keep(Venue.OKX))
            await asyncio.sleep(outage_s)  # the port refuses connections meanwhile
            runner = await _answering(port)
            back = time.perf_counter()
            await listed.wait()
            elapsed = time.perf_counter() - back
            keeping.cancel()
        await runner.cleanup()
    return elapsed


def simulate(rng: random.Random) -> list[float]:
    """Wait after outages of random length, with the retry schedule alone (no I/O)."""
    waits = []
    for _ in range(SIMULATED):
        outage = rng.uniform(0.0, 3600.0)
        t, attempt = 0.0, 0
        while t < outage:
            t += RETRY.delay(attempt, rng.random)
            attempt += 1
        waits.append(t - outage)
    return waits


def main() -> None:
    print("venue recovery: REST back -> symbols listed (production retry schedule)")
    for outage in OUTAGES_S:
        listed = asyncio.run(measure(outage))
        print(f"  outage {outage:5.1f} s (connection refused): listed {listed:6.2f} s after")
    waits = sorted(simulate(random.Random(7)))
    p95 = waits[int(len(waits) * 0.95)]
    print(
        f"  simulated {SIMULATED} outages up to 1 h: mean {statistics.mean(waits):.1f} s, "
        f"p95 {p95:.1f} s, max {waits[-1]:.1f} s (cap {RETRY.max_s:.0f} s)"
    )


if __name__ == "__main__":
    main()
