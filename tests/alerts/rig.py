"""A delivery service on a simulated clock with a scripted transport."""

from __future__ import annotations

import asyncio
from typing import Any

from goquant_bot.alerts.delivery import Delivery, DeliveryConfig
from goquant_bot.alerts.direct import Wait
from goquant_bot.alerts.jobs import RefreshInterval, Renderer, StableText
from goquant_bot.alerts.outbox import Payload
from goquant_bot.alerts.pacing import PacingConfig
from goquant_bot.domain.users import ChatPrefs
from tests.alerts.scripted import Clock, Prefs, ScriptedTransport, render


async def granted_only(event: asyncio.Event, delay: float) -> None:
    """A reply waits until the delivery (``pump``) or an answer wakes it: time is the rig's."""
    await event.wait()


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
        self.clock = Clock(now)
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
            wait=wait or granted_only,
        )

    def _blocked(self, chat_id: int) -> None:
        """As the bot layer does: the chat is inactive until /start."""
        self.blocked.append(chat_id)
        self.prefs.set(ChatPrefs(chat_id, active=False))

    def _changed(self) -> None:
        self.changes += 1

    def publish(self, *events: Payload) -> None:
        self.delivery.publish(events)

    async def run_until(self, end: float) -> None:
        """Serve every due request, jumping the clock from one due time to the next."""
        while True:
            due = await self.delivery.pump(self.clock.now)
            if due > end:
                self.clock.now = end
                await self.delivery.pump(end)
                return
            self.clock.now = max(due, self.clock.now)

    async def step(self) -> None:
        """Serve what is due now, without moving the clock."""
        await self.delivery.pump(self.clock.now)
