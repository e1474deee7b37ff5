"""An event loop on simulated time: when nothing is ready to run, its clock jumps to the next
timer, so minutes of the production delivery loop (``Delivery.run()``, several requests in
flight, asyncio timeouts) pass in milliseconds, in the order real time would run them.

A test module opts in with ``SIMULATED_TIME = True`` (tests/alerts/conftest.py).
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

INF = float("inf")


@dataclass(slots=True)
class _Watch:
    condition: Callable[[], bool]
    limit: float
    done: asyncio.Future[None]


class _JumpingSelector(selectors.DefaultSelector):
    """Answers real I/O first; when the loop would block, checks the ``idle_until`` watches,
    and otherwise moves the clock to the loop's next timer instead of waiting for it."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.watches: list[_Watch] = []

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is not None and timeout <= 0:
            return super().select(timeout)
        ready = super().select(0)
        if ready:
            return ready
        target = INF if timeout is None else self.now + timeout
        if self._check(target):
            return []  # a waiting test runs first, at the current time
        if timeout is None:
            return super().select(None)  # no timer at all: only I/O can wake the loop
        self.now = target
        return []

    def _check(self, target: float) -> bool:
        woke = False
        for watch in list(self.watches):
            try:
                if watch.done.done():
                    pass
                elif watch.condition():
                    watch.done.set_result(None)
                elif target > watch.limit:
                    msg = f"not reached by t={watch.limit} (next timer at t={target})"
                    watch.done.set_exception(AssertionError(msg))
                else:
                    continue
            except Exception as exc:  # the condition itself failed: the test shows it
                watch.done.set_exception(exc)
            self.watches.remove(watch)
            woke = True
        return woke


class SimulatedTimeLoop(asyncio.SelectorEventLoop):
    """``time()`` is simulated; ``idle_until`` waits for a moment when every task waits."""

    def __init__(self) -> None:
        self._jumping = _JumpingSelector()
        super().__init__(self._jumping)
        # A timer counts as due within this of the clock: at epoch-sized times the default
        # (1 ns) is below a float's step, and a timer due exactly now would never run.
        self._clock_resolution = 1e-6

    def time(self) -> float:
        return self._jumping.now

    def set_time(self, now: float) -> None:
        """Jump the clock (timers now past run at once, in their order)."""
        self._jumping.now = now

    async def idle_until(self, condition: Callable[[], bool], *, limit: float = INF) -> None:
        """Return at the first moment every other task waits and ``condition()`` holds;
        AssertionError once the clock would pass ``limit`` (or nothing is left to run)."""
        done: asyncio.Future[None] = self.create_future()
        self._jumping.watches.append(_Watch(condition, limit, done))
        await done

    async def settle(self) -> None:
        """Return once nothing is ready to run at the current time."""
        await self.idle_until(lambda: True)

    async def advance_to(self, when: float) -> None:
        """Let the loop run until ``when`` and settle there (nothing if ``when`` is past)."""
        if when > self.time():
            reached: asyncio.Future[Any] = self.create_future()
            self.call_at(when, reached.set_result, None)
            await reached
        await self.settle()


def simulated_loop() -> SimulatedTimeLoop:
    loop = asyncio.get_running_loop()
    if not isinstance(loop, SimulatedTimeLoop):
        msg = "this test needs simulated time: set SIMULATED_TIME = True in its module"
        raise TypeError(msg)
    return loop
