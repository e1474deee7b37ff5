"""The delivery loop on the real event loop: prompt sends, concurrency, a bounded drain."""

from __future__ import annotations

import asyncio
import time

import pytest

from goquant_bot.alerts.delivery import Delivery, DeliveryConfig
from goquant_bot.alerts.history import Outcome
from goquant_bot.alerts.pacing import PacingConfig
from goquant_bot.messages import Keyboard
from tests.alerts.scripted import Clock, Prefs, ScriptedTransport, opened, render
from tests.helpers import wait_until


class WallClock(Clock):
    def __call__(self) -> float:
        return time.time()


class GatedTransport(ScriptedTransport):
    """Sends wait for ``gate`` (Telegram slow to answer)."""

    def __init__(self) -> None:
        super().__init__(WallClock())
        self.gate = asyncio.Event()
        self.waiting = 0

    async def send(
        self, chat_id: int, text: str, *, buttons: Keyboard = (), silent: bool = False
    ) -> int:
        self.waiting += 1
        await self.gate.wait()
        return await super().send(chat_id, text, buttons=buttons, silent=silent)


def service(transport: ScriptedTransport, flush_timeout_s: float = 5.0) -> Delivery:
    return Delivery(
        transport,
        prefs=Prefs(),
        render=render,
        config=DeliveryConfig(flush_timeout_s=flush_timeout_s),
        pacing=PacingConfig(private_interval_s=0.05, global_per_s=1_000, global_burst=1_000),
    )


async def test_run_sends_as_soon_as_alerts_are_published() -> None:
    transport = ScriptedTransport(WallClock())
    delivery = service(transport)
    task = asyncio.create_task(delivery.run())
    delivery.publish([opened(1, time.time())])
    await wait_until(lambda: len(transport.calls) == 1)
    delivery.publish([opened(2, time.time()), opened(1, time.time(), monitor="m2", notional=200)])
    await wait_until(lambda: len(transport.calls) == 3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_slow_answers_never_block_publish_nor_other_chats() -> None:
    transport = GatedTransport()
    delivery = service(transport)
    task = asyncio.create_task(delivery.run())
    delivery.publish([opened(chat, time.time()) for chat in range(1, 11)])
    # All ten requests are in flight together; publishing meanwhile returns at once.
    await wait_until(lambda: transport.waiting == 10)
    started = time.perf_counter()
    delivery.publish(
        [opened(chat, time.time(), monitor="m2", notional=200) for chat in range(1, 11)] * 100
    )
    assert time.perf_counter() - started < 0.5
    assert delivery.outbox.pending() == 20  # 10 in flight, 1,000 events folded into 10 keys
    transport.gate.set()
    await wait_until(lambda: len(transport.sent()) == 20)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_cancelling_the_loop_drains_what_is_pending_in_bounded_time() -> None:
    transport = GatedTransport()
    delivery = service(transport, flush_timeout_s=5.0)
    task = asyncio.create_task(delivery.run())
    delivery.publish([opened(1, time.time())])
    await wait_until(lambda: transport.waiting == 1)
    delivery.publish([opened(1, time.time(), monitor="m2", notional=200), opened(2, time.time())])
    task.cancel()
    transport.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The request in flight was answered, not abandoned, and the rest went out.
    assert len(transport.sent()) == 3
    assert {e.outcome for e in delivery.history.recent(1)} == {Outcome.SENT}


async def test_flush_gives_up_at_its_deadline_without_resending() -> None:
    transport = GatedTransport()  # never answers
    delivery = service(transport)
    delivery.publish([opened(1, time.time())])
    started = time.monotonic()
    await delivery.flush(0.2)
    assert time.monotonic() - started < 2.0
    assert transport.waiting == 1
    [entry] = delivery.history.recent(1)
    assert entry.outcome is Outcome.MAYBE_SENT
    assert not delivery.pending
