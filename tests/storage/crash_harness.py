"""The crash proof: a process saving its state with the real StateSaver is killed with SIGKILL
at random moments; every time, the next start must load a complete state holding every change
acknowledged before the last debounce window.

Several lanes (one state file each) run side by side to keep the wall time short. In each,
``crash_writer.py`` forks a writer per life; half the kills land at a random time, half right
after the saver takes a snapshot, i.e. while it encodes and writes the file.
``test_crash.py`` runs a sample of kills; ``make bench`` (bench/bench_crash.py) the full run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goquant_bot.bot.users import MonitorRecord, UserStore
from goquant_bot.monitors.schema import record_to_dict, records_from_entries
from goquant_bot.storage.atomic import backup_path
from goquant_bot.storage.state import load_state
from tests.storage.crash_writer import apply_change, changes_in

WRITER = Path(__file__).with_name("crash_writer.py")
DEBOUNCE_S = 0.1
# What may still be unsaved at a kill: the debounce, plus a write in progress when the change
# came, the write that carries it, and the loop's lateness on a busy 2-core machine.
WINDOW_S = DEBOUNCE_S + 0.25
LONGEST_LIFE_S = 0.8
KILL_AFTER_SNAPSHOT_S = 0.004
SILENCE_S = 10.0  # a writer that says nothing for this long is stuck: fail, do not hang


class Model:
    """Changes 1..n applied in memory: what a state holding n changes must be, exactly."""

    def __init__(self) -> None:
        self.store = UserStore()
        self.monitors: dict[str, MonitorRecord] = {}
        self.n = 0

    def at(self, n: int) -> dict[str, Any]:
        assert n >= self.n  # the saved state never goes back: checked before, kept here
        while self.n < n:
            self.n += 1
            apply_change(self.store, self.monitors, self.n)
        return state_of(self.store, self.monitors)


@dataclass(slots=True)
class Tally:
    kills: int = 0
    checked: int = 0  # kills with a change acknowledged before the window: a real check
    in_save: int = 0  # kills after a snapshot was taken and before it was on disk
    in_write: int = 0  # kills inside write_atomic: a temporary file or no main file left


@dataclass(slots=True)
class Life:
    """What one writer said before it died."""

    acks: list[tuple[int, float]] = field(default_factory=list)  # (change, when it was seen)
    snapshot_n: int = 0  # the changes the last snapshot taken held
    killed_at: float = 0.0


class Writer:
    """The forking process of one lane and the lines it and its writers print."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")

    async def line(self, within: float = SILENCE_S) -> str | None:
        """The next line, or None when none comes ``within`` seconds."""
        assert self.proc.stdout is not None
        try:
            raw = await asyncio.wait_for(self.proc.stdout.readline(), within)
        except TimeoutError:
            return None
        assert raw, "the crash writer process ended"
        return raw.decode().rstrip("\n")

    async def expect(self, prefix: str) -> str:
        line = await self.line()
        assert line is not None, f"no {prefix!r} line within {SILENCE_S} s"
        assert line.startswith(prefix), f"expected {prefix!r}, got {line!r}"
        return line.removeprefix(prefix)


async def _life(writer: Writer, rng: random.Random, floor: int) -> Life:
    """Start a writer from the saved state, kill it at a random moment."""
    writer.send("fork")
    start, pid = (int(x) for x in (await writer.expect("start ")).split())
    assert start == floor, "the restart did not load the last state"
    life = Life(snapshot_n=floor)
    # Kill after the k-th snapshot (while the saver writes), or at a random time.
    snapshots_left = rng.randint(1, 4) if rng.random() < 0.5 else None
    life_s = SILENCE_S if snapshots_left else rng.uniform(0, LONGEST_LIFE_S)
    deadline = time.monotonic() + life_s
    while (timeout := deadline - time.monotonic()) > 0:
        line = await writer.line(within=timeout)
        if line is None:
            assert snapshots_left is None, f"the saver took no snapshot within {SILENCE_S} s"
            break
        _note(life, line)
        if line == "snap" and snapshots_left is not None:
            snapshots_left -= 1
            if snapshots_left == 0:
                # The saver is now building, encoding and writing the file (a few ms).
                await asyncio.sleep(rng.uniform(0, KILL_AFTER_SNAPSHOT_S))
                break
    life.killed_at = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    while (line := await writer.line()) is not None and not line.startswith("exit "):
        _note(life, line)  # printed before the kill took effect
    assert line is not None, "the killed writer was not reaped"
    reaped, status = (int(x) for x in line.removeprefix("exit ").split())
    assert reaped == pid, line
    assert os.WIFSIGNALED(status), f"the writer ended on its own (status {status}): see stderr"
    assert os.WTERMSIG(status) == signal.SIGKILL
    return life


def _note(life: Life, line: str) -> None:
    if line.startswith("ack "):
        life.acks.append((int(line.removeprefix("ack ")), time.monotonic()))
    elif line == "snap":  # taken on the loop: it holds every change acknowledged before it
        life.snapshot_n = max((n for n, _ in life.acks), default=life.snapshot_n)
    else:
        raise AssertionError(f"unexpected output from the writer: {line!r}")


def _check(path: Path, life: Life, floor: int, model: Model) -> int:
    """Load as a start would; return how many changes the loaded state holds."""
    required = max((n for n, seen in life.acks if seen <= life.killed_at - WINDOW_S), default=0)
    made = max((n for n, _ in life.acks), default=floor) + 1  # the last may be unacknowledged
    loaded = load_state(path)
    assert loaded.problems == [], loaded.problems  # never a torn or invalid file
    assert loaded.quarantined == []
    if path.exists():
        assert loaded.source == "main"
    if loaded.value is None:
        assert required == floor == 0, "acknowledged changes and no state at all"
        return 0
    store = UserStore.from_dict(loaded.value.users)
    records, problems = records_from_entries(loaded.value.monitors)
    assert problems == []
    monitors = {r.id: r for r in records}
    n = changes_in(monitors)
    assert n >= required, f"change {required} acknowledged, state holds only 1..{n}"
    assert floor <= n <= made, f"state holds {n} changes, made {floor}..{made}"
    assert state_of(store, monitors) == model.at(n), f"the state is not exactly changes 1..{n}"
    return n


def _after_kill(path: Path, life: Life, floor: int, model: Model, tally: Tally) -> int:
    """Check the state a restart would load and count what the kill hit; the new floor."""
    leftovers = list(path.parent.glob(f".{path.name}.*.tmp"))
    tally.in_write += bool(leftovers) or (not path.exists() and backup_path(path).exists())
    n = _check(path, life, floor, model)
    tally.kills += 1
    tally.checked += any(seen <= life.killed_at - WINDOW_S for _, seen in life.acks)
    tally.in_save += n < life.snapshot_n
    # load_state sweeps what an interrupted write left: none may survive a load.
    assert not list(path.parent.glob(f".{path.name}.*tmp"))
    return n


async def _lane(index: int, directory: Path, tally: Tally, kills: int) -> None:
    path = directory / "state.json"  # write_atomic creates the directory
    rng = random.Random(index)
    model = Model()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WRITER),
        str(path),
        str(DEBOUNCE_S),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        start_new_session=True,  # its own process group: one kill ends it and its writer
    )
    writer = Writer(proc)
    try:
        await writer.expect("ready")
        floor = 0
        for _ in range(kills):
            life = await _life(writer, rng, floor)
            floor = _after_kill(path, life, floor, model, tally)
        assert proc.stdin is not None
        proc.stdin.close()
        assert await proc.wait() == 0
    finally:
        if proc.returncode is None:  # a failure: a writer left alive would hold the pipe open
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()


async def run_kills(directory: Path, *, lanes: int, kills_per_lane: int, seed: int = 0) -> Tally:
    """Kill ``lanes * kills_per_lane`` writers, checking the state after each; the tally."""
    tally = Tally()
    async with asyncio.TaskGroup() as group:  # a failing lane stops the others
        for i in range(lanes):
            group.create_task(_lane(seed + i, directory / f"lane{i}", tally, kills_per_lane))
    return tally


def state_of(store: UserStore, monitors: dict[str, MonitorRecord]) -> dict[str, Any]:
    return {"users": store.to_dict(), "monitors": [record_to_dict(r) for r in monitors.values()]}
