from __future__ import annotations

import asyncio
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from goquant_bot.app import App, build
from goquant_bot.settings import Settings
from goquant_bot.storage.state import load_state
from goquant_bot.supervisor import Backoff, Stage, Supervisor, TaskSpec
from tests.helpers import REPO_ROOT, wait_until


def _settings(**app: object) -> Settings:
    return Settings(_env_file=None, app=app, logging={"file": None})  # type: ignore[arg-type]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_signal_triggers_graceful_shutdown(sig: signal.Signals) -> None:
    started = asyncio.Event()
    cleaned = asyncio.Event()

    async def component() -> None:
        try:
            started.set()
            await asyncio.Event().wait()
        finally:
            cleaned.set()

    app = App(_settings(), Supervisor(Backoff()), [TaskSpec("component", component, Stage.FEEDS)])
    runner = asyncio.gather(app.run())
    await asyncio.wait_for(started.wait(), 5)
    os.kill(os.getpid(), sig)
    assert await asyncio.wait_for(runner, 5) == [0]
    assert cleaned.is_set()
    # Handlers are removed again: the default handler of SIGINT is back.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


async def test_crash_in_core_exits_non_zero() -> None:
    async def crash() -> None:
        raise ZeroDivisionError

    app = App(_settings(), Supervisor(Backoff()), [TaskSpec("engine", crash)])
    assert await asyncio.wait_for(app.run(), 5) == 1


def test_build_wires_the_supervisor_from_settings() -> None:
    settings = Settings(
        _env_file=None,
        supervisor={"restart_initial_s": 2.0, "restart_jitter": 0.0},  # type: ignore[arg-type]
    )
    app = build(settings)
    assert app.settings is settings
    assert app.supervisor._backoff.delay(0) == 2.0


async def _read_events(
    stream: asyncio.StreamReader, until: str, seen: list[dict[str, object]]
) -> None:
    while True:
        line = await stream.readline()
        if not line:
            raise AssertionError(f"process ended before {until!r}; saw {seen}")
        event = json.loads(line)
        seen.append(event)
        if event.get("event") == until:
            return


async def test_process_starts_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "GOQUANT_LOGGING__FORMAT": "json",
        "GOQUANT_LOGGING__FILE": str(tmp_path / "logs" / "bot.log"),
        "GOQUANT_APP__SHUTDOWN_TIMEOUT_S": "3",
        "GOQUANT_OBSERVABILITY__PORT": "0",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(REPO_ROOT / "main.py"), "--console",
        cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    seen: list[dict[str, object]] = []
    try:
        await asyncio.wait_for(_read_events(proc.stderr, "app_started", seen), 30)
        assert seen[-1]["mode"] == "console"
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(_read_events(proc.stderr, "app_stopped", seen), 10)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert [e["event"] for e in seen][-2:] == ["shutdown_complete", "app_stopped"]
    assert "app_started" in (tmp_path / "logs" / "bot.log").read_text(encoding="utf-8")


class _Terminal:
    """A pseudo-terminal holding a process's stdin, stdout and stderr, as a user's would."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        self.text = ""

    def read_until(self, marker: str, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while marker not in self.text:
            left = deadline - time.monotonic()
            assert left > 0, f"{marker!r} not shown within {within} s; shown: {self.text!r}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    self.text += os.read(self.master, 65536).decode(errors="replace")
                except OSError:  # the process ended and closed the terminal
                    assert marker in self.text, f"ended before {marker!r}: {self.text!r}"

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())


def test_console_mode_keeps_log_lines_out_of_the_conversation(tmp_path: Path) -> None:
    log_file = tmp_path / "bot.log"
    env = {
        **os.environ,
        "GOQUANT_LOGGING__FILE": str(log_file),
        "GOQUANT_OBSERVABILITY__PORT": "0",
        "TERM": "dumb",
    }
    term = _Terminal()
    proc = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "main.py"), "--console", "--demo"],
        stdin=term.slave, stdout=term.slave, stderr=term.slave, cwd=tmp_path, env=env,
    )  # fmt: skip
    os.close(term.slave)
    try:
        term.read_until("Ctrl-D quits.")
        term.type("/status\n")
        term.read_until("SIMULATED")
        term.type("\x04")  # Ctrl-D
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(term.master)
    # The demo's start-up warning and every other line went to the file only.
    assert "demo_mode" not in term.text
    assert "warning" not in term.text
    lines = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    assert "demo_mode" in [line["event"] for line in lines]
    assert all(line["simulated"] is True and line["func_name"] for line in lines)


async def test_sigterm_during_start_up_is_a_clean_stop(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "GOQUANT_LOGGING__FORMAT": "json",
        "GOQUANT_LOGGING__FILE": "",
        "GOQUANT_APP__SHUTDOWN_TIMEOUT_S": "3",
        "GOQUANT_OBSERVABILITY__PORT": "0",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(REPO_ROOT / "main.py"), "--console", "--demo",
        cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    seen: list[dict[str, object]] = []
    try:
        # Logged while the components are being built, before the event loop runs.
        await asyncio.wait_for(_read_events(proc.stderr, "demo_mode", seen), 30)
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(_read_events(proc.stderr, "app_stopped", seen), 10)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    events = [e["event"] for e in seen]
    assert "stop_requested" in events
    assert events[-2:] == ["shutdown_complete", "app_stopped"]


def _saved_monitor_ids(path: Path) -> set[str]:
    try:
        state = json.loads(path.read_bytes())
    except (FileNotFoundError, ValueError):
        return set()
    return {monitor["id"] for monitor in state["monitors"]}


async def test_a_confirmed_monitor_survives_a_sigkill_right_after_the_reply(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "GOQUANT_LOGGING__FILE": "",
        "GOQUANT_OBSERVABILITY__PORT": "0",
        # The demo's own monitors never alert: nothing but the command changes the state.
        "GOQUANT_ARBITRAGE__DEFAULT_MIN_EDGE_PCT": "4.9",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(REPO_ROOT / "main.py"), "--console", "--demo",
        cwd=tmp_path, env=env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdin is not None
    assert proc.stdout is not None
    state_file = tmp_path / "data" / "demo" / "state.json"  # the demo keeps its own data
    try:
        await asyncio.wait_for(proc.stdout.readuntil(b"Ctrl-D quits."), 30)
        proc.stdin.write(b"/monitor_arb BTC-USDT binance okx 4.9\n")
        reply = await asyncio.wait_for(proc.stdout.readuntil(b" created"), 10)
        monitor_id = reply.decode().rsplit("monitor ", 1)[1].split()[0]
        # The state was written with a 0.5 s debounce: a SIGKILL 0.5 s after the reply lost it.
        await wait_until(lambda: monitor_id in _saved_monitor_ids(state_file), within=0.4)
        proc.kill()
        assert await proc.wait() == -signal.SIGKILL
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    loaded = load_state(state_file)
    assert loaded.source == "main"
    assert loaded.value is not None
    assert monitor_id in {monitor["id"] for monitor in loaded.value.monitors}
