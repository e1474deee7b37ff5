"""Replies given up after flood waits, and flood waits themselves, show in /metrics."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from goquant_bot.alerts.direct import DirectRequests
from goquant_bot.alerts.pacing import Pacer
from goquant_bot.alerts.transport import FloodWait
from goquant_bot.observability.metrics import BotCollector
from tests.alerts.scripted import Clock


async def test_a_reply_dropped_after_flood_waits_is_counted_in_the_metrics() -> None:
    clock = Clock(1_000.0)
    pacer = Pacer()
    direct = DirectRequests(pacer, clock=clock, wait=clock.wait)

    async def refused() -> None:
        raise FloodWait("chat 7: Too Many Requests: retry after 45", 45.0)

    with pytest.raises(FloodWait):
        await direct.request(7, refused)  # 45 s waited out, the second 45 s pass the bound
    assert clock.waits == [45.0]

    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        BotCollector(
            venues=list,
            latencies=list,
            guards=dict,
            opportunities_open=lambda: 0,
            monitors=dict,
            users=lambda: 0,
            telegram_errors=lambda: {"flood_wait": pacer.flood_waits},
            messages_dropped=lambda: direct.dropped,
        )
    )
    text = generate_latest(registry).decode()
    assert 'goquant_messages_dropped_total{reason="flood_wait"} 1.0' in text
    assert 'goquant_telegram_errors_total{kind="flood_wait"} 2.0' in text
