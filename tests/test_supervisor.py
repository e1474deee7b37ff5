from __future__ import annotations

import asyncio
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goquant_bot.errors import TransientError
from goquant_bot.supervisor import Backoff, Stage, Supervisor, TaskSpec
from tests.helpers import wait_until


class FakeSleep:
    """Records backoff delays and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


def test_backoff_grows_exponentially_and_is_capped() -> None:
    backoff = Backoff(initial_s=0.5, factor=2.0, max_s=10.0, jitter=0.0)
    assert [backoff.delay(n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert backoff.delay(10_000) == 10.0


def test_backoff_jitter_only_shortens() -> None:
    backoff = Backoff(initial_s=1.0, factor=2.0, max_s=60.0, jitter=0.25)
    assert backoff.delay(2, rand=lambda: 0.0) == 4.0
    assert backoff.delay(2, rand=lambda: 1.0) == 3.0


@given(
    attempt=st.integers(min_value=0, max_value=10_000),
    r=st.floats(min_value=0.0, max_value=1.0),
    jitter=st.floats(min_value=0.0, max_value=1.0),
)
def test_backoff_stays_within_bounds(attempt: int, r: float, jitter: float) -> None:
    backoff = Backoff(initial_s=0.5, factor=2.0, max_s=30.0, jitter=jitter)
    base = min(30.0, 0.5 * 2.0 ** min(attempt, 64))
    delay = backoff.delay(attempt, rand=lambda: r)
    assert base * (1 - jitter) - 1e-9 <= delay <= base <= 30.0


async def test_crash_loop_is_restarted_with_backoff() -> None:
    sleep = FakeSleep()
    sup = Supervisor(
        Backoff(initial_s=1.0, factor=2.0, max_s=5.0, jitter=0.5), sleep=sleep, rand=lambda: 0.5
    )
    runs = 0
    healthy = asyncio.Event()

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs <= 5:
            raise TransientError(f"connection refused #{runs}")
        healthy.set()
        await asyncio.Event().wait()

    sup.add(TaskSpec("feed:flaky", flaky, stage=Stage.FEEDS))
    runner = asyncio.gather(sup.run(shutdown_timeout_s=2.0))
    await asyncio.wait_for(healthy.wait(), 5)
    assert sleep.delays == [0.75, 1.5, 3.0, 3.75, 3.75]  # base 1,2,4,5,5 less 25 %
    assert sup.restarts["feed:flaky"] == 5
    sup.request_stop()
    assert await runner == [0]
    assert sup.fatal is None


async def test_backoff_resets_after_a_stable_run() -> None:
    sleep = FakeSleep()
    now = [0.0]
    sup = Supervisor(
        Backoff(initial_s=1.0, factor=2.0, max_s=60.0, jitter=0.0),
        stable_after_s=30.0,
        sleep=sleep,
        monotonic=lambda: now[0],
    )
    runs = 0
    done = asyncio.Event()

    async def component() -> None:
        nonlocal runs
        runs += 1
        if runs == 3:
            now[0] += 31.0  # this run was stable before it failed
        if runs <= 4:
            raise TransientError("boom")
        done.set()
        await asyncio.Event().wait()

    sup.add(TaskSpec("c", component))
    runner = asyncio.gather(sup.run(shutdown_timeout_s=1.0))
    await asyncio.wait_for(done.wait(), 5)
    assert sleep.delays == [1.0, 2.0, 1.0, 2.0]
    sup.request_stop()
    await runner


async def test_unexpected_error_stops_everything_with_exit_code_1() -> None:
    sup = Supervisor(Backoff())
    cleaned: list[str] = []
    started = asyncio.Event()

    async def healthy() -> None:
        try:
            started.set()
            await asyncio.Event().wait()
        finally:
            cleaned.append("healthy")

    async def buggy() -> None:
        await started.wait()
        raise KeyError("bug")

    sup.add(TaskSpec("healthy", healthy, stage=Stage.FEEDS))
    sup.add(TaskSpec("engine", buggy, stage=Stage.ENGINE))
    code = await asyncio.wait_for(sup.run(shutdown_timeout_s=2.0), 5)
    assert code == 1
    assert isinstance(sup.fatal, KeyError)
    assert cleaned == ["healthy"]
    assert sup.restarts["engine"] == 0


async def test_transient_error_without_restart_just_ends_the_task() -> None:
    sup = Supervisor(Backoff(), sleep=FakeSleep())
    calls = 0

    async def one_shot() -> None:
        nonlocal calls
        calls += 1
        raise TransientError("gave up")

    sup.add(TaskSpec("one-shot", one_shot, restart=False))
    runner = asyncio.gather(sup.run(shutdown_timeout_s=1.0))
    await wait_until(lambda: calls == 1 and sup.task_names == [])
    sup.request_stop()
    assert await runner == [0]
    assert calls == 1


async def test_shutdown_is_ordered_by_stage() -> None:
    sup = Supervisor(Backoff())
    stopped: list[str] = []
    ready: list[str] = []

    def component(name: str):  # type: ignore[no-untyped-def]
        async def run() -> None:
            try:
                ready.append(name)
                await asyncio.Event().wait()
            finally:
                stopped.append(name)

        return run

    for stage in (
        Stage.TRANSPORT,
        Stage.FEEDS,
        Stage.INTAKE,
        Stage.STATE,
        Stage.DELIVERY,
        Stage.ENGINE,
    ):
        sup.add(TaskSpec(stage.name.lower(), component(stage.name.lower()), stage=stage))
    runner = asyncio.gather(sup.run(shutdown_timeout_s=2.0))
    await wait_until(lambda: len(ready) == 6)
    sup.request_stop()
    assert await runner == [0]
    assert stopped == ["intake", "engine", "delivery", "state", "feeds", "transport"]


async def test_clean_up_that_takes_time_completes_within_the_bound() -> None:
    sup = Supervisor(Backoff())
    flushed = asyncio.Event()
    started = asyncio.Event()

    async def outbox() -> None:
        try:
            started.set()
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0.05)  # a short final flush
            flushed.set()

    sup.add(TaskSpec("delivery", outbox, stage=Stage.DELIVERY))
    runner = asyncio.gather(sup.run(shutdown_timeout_s=2.0))
    await started.wait()
    sup.request_stop()
    assert await runner == [0]
    assert flushed.is_set()
    assert sup.hung == []


async def test_hanging_stop_is_abandoned_within_the_bound() -> None:
    sup = Supervisor(Backoff())
    release = asyncio.Event()
    started = asyncio.Event()
    other_stopped = asyncio.Event()

    async def stubborn() -> None:
        started.set()
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue  # ignores every cancellation

    async def polite() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            other_stopped.set()

    sup.add(TaskSpec("stubborn", stubborn, stage=Stage.INTAKE))
    sup.add(TaskSpec("feeds", polite, stage=Stage.FEEDS))
    runner = asyncio.gather(sup.run(shutdown_timeout_s=0.3))
    await started.wait()
    t0 = time.monotonic()
    sup.request_stop()
    assert await asyncio.wait_for(runner, 5) == [0]
    elapsed = time.monotonic() - t0
    assert 0.25 <= elapsed < 1.5
    assert sup.hung == ["stubborn"]
    assert other_stopped.is_set()
    release.set()  # let the test loop finish the task


async def test_tasks_added_while_running_start_at_once() -> None:
    sup = Supervisor(Backoff())
    started = asyncio.Event()

    async def late() -> None:
        started.set()
        await asyncio.Event().wait()

    async def first() -> None:
        await asyncio.Event().wait()

    sup.add(TaskSpec("first", first))
    runner = asyncio.gather(sup.run(shutdown_timeout_s=1.0))
    await wait_until(lambda: sup.task_names == ["first"])
    sup.add(TaskSpec("late", late))
    await asyncio.wait_for(started.wait(), 5)
    assert sup.task_names == ["first", "late"]
    sup.request_stop()
    assert await runner == [0]


@pytest.mark.parametrize("stage", list(Stage))
def test_stage_names_are_unique(stage: Stage) -> None:
    assert [s for s in Stage if s.value == stage.value] == [stage]
