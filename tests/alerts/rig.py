"""The production delivery loop (``Delivery.run()``) on simulated time, with a scripted transport.

Tests using the rig set ``SIMULATED_TIME = True``: the loop's clock is the rig's clock, and
``run_until``/``step`` let the loop serve (several requests in flight) until it waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Sequence
from typing import Any

from goquant_bot.alerts.delivery import Delivery, DeliveryConfig
from goquant_bot.alerts.direct import Wait, wait_for_event
from goquant_bot.alerts.jobs import RefreshInterval, Renderer, StableText
from goquant_bot.alerts.outbox import Payload
from goquant_bot.alerts.pacing import PacingConfig
from goquant_bot.domain.events import Event
from goquant_bot.domain.users import ChatPrefs
from tests.alerts.scripted import Clock, Prefs, ScriptedTransport, render
from tests.alerts.simulated_time import SimulatedTimeLoop, simulated_loop


class LoopClock(Clock):
    """The simulated loop's time; setting ``now`` jumps the loop's clock."""

    def __init__(self, loop: SimulatedTimeLoop, now: float) -> None:
        self.loop = loop
        super().__init__(now)

    @property  # type: ignore[override]
    def now(self) -> float:
        return self.loop.time()

    @now.setter
    def now(self, value: float) -> None:
        self.loop.set_time(value)


class Rig:
    def __init__(
        self,
        now: float = 1_000.0,
        pacing: PacingConfig | None = None,
        renderer: Renderer = render,
        min_refresh_s: RefreshInterval | None = None,
        stable_text: StableText | None = None,
        wait: Wait | None = None,
        **config: Any,
    ):
        self.loop = simulated_loop()
        self.clock = LoopClock(self.loop, now)
        self.prefs = Prefs()
        self.transport = ScriptedTransport(self.clock)
        self.blocked: list[int] = []
        self.migrated: list[tuple[int, int]] = []
        self.changes = 0
        self.delivery = Delivery(
            self.transport,
            prefs=self.prefs,
            render=renderer,
            on_blocked=self._blocked,
            on_migrated=lambda old, new: self.migrated.append((old, new)),
            on_change=self._changed,
            min_refresh_s=min_refresh_s,
            stable_text=stable_text,
            clock=self.clock,
            config=DeliveryConfig(**config),
            pacing=pacing,
            rand=lambda: 0.0,
            wait=wait or wait_for_event,
        )
        self._running: asyncio.Task[None] | None = None

    def _blocked(self, chat_id: int) -> None:
        """As the bot layer does: the chat is inactive until /start."""
        self.blocked.append(chat_id)
        self.prefs.set(ChatPrefs(chat_id, active=False))

    def _changed(self) -> None:
        self.changes += 1

    def publish(self, *events: Payload) -> None:
        self.delivery.publish(events)

    def _serving(self) -> None:
        """The delivery loop runs from the first wait on, as in the app (until the test ends)."""
        if self._running is None:
            self._running = asyncio.create_task(self.delivery.run(), name="delivery")
        elif self._running.done():
            self._running.result()  # the loop failed: show why

    async def run_until(self, end: float) -> None:
        """Let the delivery loop serve until the clock reads ``end`` and it waits."""
        self._serving()
        await self.loop.advance_to(end)
        self._serving()

    async def step(self) -> None:
        """Let the delivery loop serve what is due now, without moving the clock."""
        self._serving()
        await self.loop.settle()
        self._serving()


async def serve_events(
    delivery: Delivery, events: Sequence[Event], limit: float = 10_000.0
) -> None:
    """Publish each event at its time while ``delivery.run()`` serves, until every event is
    published and nothing is pending (a failure if that takes past ``limit``)."""
    loop = simulated_loop()
    left = len(events)

    def publish(batch: list[Event]) -> None:
        nonlocal left
        delivery.publish(batch)
        left -= len(batch)

    for ts, batch in itertools.groupby(events, key=lambda e: e.ts):
        loop.call_at(ts, publish, list(batch))
    running = asyncio.create_task(delivery.run(), name="delivery")
    try:
        await loop.idle_until(
            lambda: running.done() or (left == 0 and not delivery.pending), limit=limit
        )
        if running.done():
            running.result()  # the loop failed: show why
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
