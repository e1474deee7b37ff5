"""Requests outside the outbox (command replies, notices) under the alerts' pacer, ahead of them.

A caller queues its request, waits its turn and runs the request itself in the slot it was
given. One chat's requests go in order, different chats first come first served, and all of
them before any alert: while a chat has one waiting, the planner starts no alert there, and
the delivery loop grants waiting requests their slots before it starts alerts. A flood wait
pauses the chat and the request is tried again once it is over, never sooner, until the waits
Telegram asked for add up past ``max_flood_wait_s``: then it is dropped (logged, counted).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from goquant_bot.alerts.pacing import Pacer
from goquant_bot.alerts.transport import FloodWait
from goquant_bot.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")
INF = float("inf")
# Waits until the event is set or ``delay`` seconds passed (``inf``: only the event).
Wait = Callable[[asyncio.Event, float], Awaitable[None]]


async def wait_for_event(event: asyncio.Event, delay: float) -> None:
    """The production ``Wait``: the event or the delay, whichever comes first."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(None if delay == INF else max(delay, 0.0)):
            await event.wait()


@dataclass(frozen=True, slots=True)
class DirectConfig:
    # A reply whose flood waits add up past this is dropped: by then the user has moved on,
    # and its figures are stale. Alerts are never dropped this way (the outbox keeps them).
    max_flood_wait_s: float = 60.0


@dataclass(slots=True, eq=False)
class _Request:
    chat_id: int
    new_message: bool
    seq: int
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    granted: bool = False
    flood_waited: float = 0.0


class DirectRequests:
    """Paces command replies and notices with the pacer alerts use, ahead of alerts."""

    def __init__(
        self,
        pacer: Pacer,
        *,
        clock: Callable[[], float] = time.time,
        wait: Wait = wait_for_event,
        config: DirectConfig | None = None,
        hold: Callable[[int], None] = lambda chat_id: None,
        release: Callable[[int, float], None] = lambda chat_id, now: None,
        in_flight: Callable[[int], bool] = lambda chat_id: False,
        on_answer: Callable[[], None] = lambda: None,
    ) -> None:
        self.pacer = pacer
        self.config = config or DirectConfig()
        self._clock = clock
        self._wait = wait
        self._hold = hold  # no alert may start in the chat meanwhile
        self._release = release
        self._alert_in_flight = in_flight
        self._on_answer = on_answer  # a slot freed: alerts may use it
        self._queues: dict[int, deque[_Request]] = {}
        self._active: set[int] = set()  # chats with a direct request in flight
        self._seq = itertools.count()
        self.sent = 0
        self.dropped: Counter[str] = Counter()

    @property
    def waiting(self) -> int:
        return sum(len(queue) for queue in self._queues.values())

    async def request(
        self, chat_id: int, call: Callable[[], Awaitable[T]], *, new_message: bool = True
    ) -> T:
        """Run ``call`` (one Bot API request to ``chat_id``) when pacing allows; its result.

        ``new_message``: it adds a message to the chat (a send, not an edit). Raises what
        ``call`` raises, and ``FloodWait`` when the request was dropped after flood waits."""
        request = _Request(chat_id, new_message, next(self._seq))
        queue = self._queues.get(chat_id)
        if queue is None:
            queue = self._queues[chat_id] = deque()
            self._hold(chat_id)
        queue.append(request)
        try:
            while True:
                await self._turn(request)
                try:
                    result = await call()
                except FloodWait as exc:
                    self._finish(request)
                    if not self._again(request, exc):
                        raise
                    continue
                finally:
                    self._finish(request)
                self.sent += 1
                return result
        finally:
            self._finish(request)  # cancelled after its slot was granted: give it back
            queue.remove(request)
            if not queue:
                del self._queues[chat_id]
                self._release(chat_id, self._clock())
            self.poke()

    def drop(self, reason: str, count: int = 1) -> None:
        """Requests the caller gave up without trying (the rest of a dropped reply)."""
        self.dropped[reason] += count

    def poke(self) -> None:
        """Something finished or changed: waiting requests look again."""
        for queue in self._queues.values():
            for request in queue:
                request.wake.set()

    def grant(self, now: float) -> None:
        """Start every waiting request pacing allows now, oldest first."""
        if not self._queues:
            return
        heads = sorted((queue[0] for queue in self._queues.values()), key=lambda r: r.seq)
        for request in heads:
            if request.granted:
                continue
            if self.pacer.global_ready_at(now) > now:
                return
            if self._ready_at(request, now) <= now:
                self.pacer.started(request.chat_id, now, new_message=request.new_message)
                self._active.add(request.chat_id)
                request.granted = True
                request.wake.set()

    # -- one request -------------------------------------------------------------------

    async def _turn(self, request: _Request) -> None:
        while True:
            now = self._clock()
            self.grant(now)
            if request.granted:
                return
            at = self._ready_at(request, now)
            request.wake.clear()
            await self._wait(request.wake, at - now)

    def _ready_at(self, request: _Request, now: float) -> float:
        chat_id = request.chat_id
        queue = self._queues.get(chat_id)
        if queue is None or queue[0] is not request:
            return INF  # the chat's earlier request goes first
        if chat_id in self._active or self._alert_in_flight(chat_id):
            return INF  # woken when it answers
        return self.pacer.ready_at(chat_id, now, new_message=request.new_message)

    def _finish(self, request: _Request) -> None:
        if not request.granted:
            return
        request.granted = False
        self.pacer.finished(request.chat_id, self._clock())
        self._active.discard(request.chat_id)
        self.poke()
        self._on_answer()

    def _again(self, request: _Request, exc: FloodWait) -> bool:
        """Telegram asked to wait: pause the chat; True when the request is worth a retry."""
        now, wait = self._clock(), exc.retry_after_s
        paused_all = self.pacer.flood_wait(request.chat_id, wait, now)
        request.flood_waited += wait
        if request.flood_waited > self.config.max_flood_wait_s:
            self.dropped["flood_wait"] += 1
            log.warning(
                "direct_request_dropped",
                chat_id=request.chat_id,
                retry_after_s=wait,
                waited_s=request.flood_waited - wait,
                bound_s=self.config.max_flood_wait_s,
            )
            return False
        log.info(
            "direct_flood_wait", chat_id=request.chat_id, retry_after_s=wait, all_chats=paused_all
        )
        return True
