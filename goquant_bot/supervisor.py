"""The one place that spawns, names, restarts and drains long-lived tasks.

Why not a bare ``asyncio.TaskGroup``: its exit waits for every child without a bound, and
shutdown must finish within ``shutdown_timeout_s`` even when a component hangs in its
clean-up. The supervisor keeps TaskGroup's contract otherwise: an unexpected error in any
task stops everything, and every task is cancelled and awaited on the way out.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from goquant_bot.errors import TransientError
from goquant_bot.logging import get_logger

log = get_logger(__name__)


class Stage(IntEnum):
    """Shutdown order: the higher stage is stopped first."""

    INTAKE = 50  # commands in: Telegram polling, console input
    ENGINE = 40  # signal evaluation
    DELIVERY = 30  # alert outbox flush
    STATE = 20  # final state write
    FEEDS = 10  # venue connections
    TRANSPORT = 0  # the Telegram client itself


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with jitter that only ever shortens the delay."""

    initial_s: float = 0.5
    factor: float = 2.0
    max_s: float = 60.0
    jitter: float = 0.2

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Delay before retry number ``attempt`` (0-based): in [base*(1-jitter), base]."""
        base = min(self.max_s, self.initial_s * self.factor ** min(attempt, 64))
        return base * (1.0 - self.jitter * rand())


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """A named long-lived task: ``run`` is called again for every restart."""

    name: str
    run: Callable[[], Coroutine[Any, Any, None]]
    stage: Stage = Stage.ENGINE
    restart: bool = True


class Supervisor:
    """Runs TaskSpecs, restarts transient failures, stops everything on a bug or a stop request."""

    def __init__(
        self,
        backoff: Backoff,
        *,
        stable_after_s: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._backoff = backoff
        self._stable_after_s = stable_after_s
        self._sleep = sleep
        self._rand = rand
        self._monotonic = monotonic
        self._pending: list[TaskSpec] = []
        self._tasks: dict[asyncio.Task[None], TaskSpec] = {}
        self._stop = asyncio.Event()
        self._running = False
        self._draining = False
        self.restarts: Counter[str] = Counter()
        self.fatal: BaseException | None = None
        self.hung: list[str] = []

    def add(self, spec: TaskSpec) -> None:
        """Register a task; started at once when the supervisor is already running."""
        if self._running:
            self._start(spec)
        else:
            self._pending.append(spec)

    def request_stop(self) -> None:
        self._stop.set()

    @property
    def task_names(self) -> list[str]:
        return sorted(spec.name for task, spec in self._tasks.items() if not task.done())

    async def run(self, shutdown_timeout_s: float) -> int:
        """Run until a stop request or a fatal error; 0 for a clean stop, 1 after a crash."""
        self._running = True
        try:
            for spec in self._pending:
                self._start(spec)
            self._pending.clear()
            await self._stop.wait()
        finally:
            await self._shutdown(shutdown_timeout_s)
            self._running = False
        return 1 if self.fatal is not None else 0

    def _start(self, spec: TaskSpec) -> None:
        task = asyncio.create_task(self._supervise(spec), name=spec.name)
        self._tasks[task] = spec
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        if not self._draining:
            self._tasks.pop(task, None)

    async def _supervise(self, spec: TaskSpec) -> None:
        attempt = 0
        while True:
            started = self._monotonic()
            try:
                await spec.run()
            except TransientError as exc:
                if not spec.restart:
                    log.warning("task_failed", task=spec.name, error=str(exc))
                    return
                if self._monotonic() - started >= self._stable_after_s:
                    attempt = 0
                delay = self._backoff.delay(attempt, self._rand)
                attempt += 1
                self.restarts[spec.name] += 1
                log.warning(
                    "task_restarting",
                    task=spec.name,
                    attempt=attempt,
                    delay_s=round(delay, 3),
                    error=str(exc),
                )
                await self._sleep(delay)
            except Exception as exc:
                log.exception("task_crashed", task=spec.name)
                if self.fatal is None:
                    self.fatal = exc
                self._stop.set()
                return
            else:
                log.info("task_finished", task=spec.name)
                return

    async def _shutdown(self, timeout_s: float) -> None:
        """Cancel stage by stage (highest first) within the bound; report what hangs."""
        self._draining = True
        start = self._monotonic()
        ordered_deadline = start + 0.9 * timeout_s
        stages = sorted({spec.stage for spec in self._tasks.values()}, reverse=True)
        for stage in stages:
            batch = [t for t, s in self._tasks.items() if s.stage == stage and not t.done()]
            for task in batch:
                task.cancel()
            remaining = ordered_deadline - self._monotonic()
            if batch and remaining > 0:
                await asyncio.wait(batch, timeout=remaining)
        leftovers = [t for t in self._tasks if not t.done()]
        if leftovers:
            # A second cancel interrupts a clean-up that is itself stuck on an await.
            for task in leftovers:
                task.cancel()
            await asyncio.wait(leftovers, timeout=max(0.01, start + timeout_s - self._monotonic()))
        self.hung = sorted(self._tasks[t].name for t in leftovers if not t.done())
        if self.hung:
            log.error("shutdown_timeout", hung_tasks=self.hung, bound_s=timeout_s)
        for task in [t for t in self._tasks if t.done()]:
            self._tasks.pop(task, None)
        self._draining = False
        log.info("shutdown_complete", elapsed_s=round(self._monotonic() - start, 3))
