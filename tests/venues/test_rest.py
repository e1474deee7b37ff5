from __future__ import annotations

import pytest

from goquant_bot.domain.instruments import Venue
from goquant_bot.venues.base import RestRequest
from goquant_bot.venues.net import AiohttpGet
from goquant_bot.venues.rest import RestClient, WeightBudget
from tests.fakes.rest_server import RestServer


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _request(base: str, weight: int = 50) -> RestRequest:
    return RestRequest(
        Venue.BINANCE, f"{base}/api/v3/depth", (("symbol", "BTCUSDT"),), weight, "snapshot"
    )


def test_budget_refills_over_time() -> None:
    budget = WeightBudget(per_minute=600, now=0.0)  # 10 weight/s
    assert budget.wait_time(600, 0.0) == 0.0
    budget.take(600, 0.0)
    assert budget.wait_time(50, 0.0) == pytest.approx(5.0)
    assert budget.wait_time(50, 5.0) == 0.0
    assert budget.wait_time(10_000, 5.0) == pytest.approx(55.0)  # capped at capacity


def test_pause_holds_everything() -> None:
    budget = WeightBudget(per_minute=6000, now=0.0)
    budget.pause(30.0)
    assert budget.wait_time(1, 10.0) == pytest.approx(20.0)
    assert budget.wait_time(1, 30.0) == 0.0


async def test_burst_of_snapshots_stays_within_the_weight_budget() -> None:
    clock = Clock()
    async with RestServer() as rest, AiohttpGet() as http:
        rest.reply("/api/v3/depth", {"lastUpdateId": 1}, repeat=True)
        client = RestClient(
            http, weight_per_minute=300, timeout_s=5, clock=clock, sleep=clock.sleep
        )
        for _ in range(10):
            assert (await client.fetch(_request(rest.url)))[0] == 200
    # 10 x 50 weight at 300/minute: 6 at once, then one every 10 s.
    assert clock.slept == pytest.approx([10.0] * 4)
    assert rest.count("/api/v3/depth") == 10


async def test_429_with_retry_after_pauses_the_venue() -> None:
    clock = Clock()
    async with RestServer() as rest, AiohttpGet() as http:
        rest.reply("/api/v3/depth", {"code": -1003}, status=429, headers={"Retry-After": "7"})
        rest.reply("/api/v3/depth", {"lastUpdateId": 5})
        client = RestClient(
            http, weight_per_minute=6000, timeout_s=5, clock=clock, sleep=clock.sleep
        )
        status, _ = await client.fetch(_request(rest.url))
        assert status == 429
        status, body = await client.fetch(_request(rest.url))
    assert status == 200
    assert body == '{"lastUpdateId": 5}'
    assert clock.slept == [pytest.approx(7.0)]


async def test_418_without_header_pauses_for_the_default() -> None:
    clock = Clock()
    async with RestServer() as rest, AiohttpGet() as http:
        rest.reply("/api/v3/depth", {"code": -1003}, status=418)
        rest.reply("/api/v3/depth", {"lastUpdateId": 5})
        client = RestClient(
            http, weight_per_minute=6000, timeout_s=5, clock=clock, sleep=clock.sleep
        )
        await client.fetch(_request(rest.url))
        await client.fetch(_request(rest.url))
    assert clock.slept == [pytest.approx(120.0)]


async def test_unreachable_venue_is_status_zero_not_an_exception() -> None:
    clock = Clock()
    async with AiohttpGet() as http:
        client = RestClient(
            http, weight_per_minute=6000, timeout_s=2, clock=clock, sleep=clock.sleep
        )
        assert await client.fetch(_request("http://127.0.0.1:9")) == (0, "")
    assert client.failures == 1
