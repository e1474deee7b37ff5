"""One bot per data directory: an OS lock that a crash releases, and that says a run crashed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from goquant_bot import cli
from goquant_bot.storage.instance_lock import LOCK_FILE, AlreadyRunning, InstanceLock
from tests.helpers import REPO_ROOT

_HOLD = """
import sys
from pathlib import Path
from goquant_bot.storage.instance_lock import InstanceLock
InstanceLock(Path(sys.argv[1])).acquire()
print("locked", flush=True)
sys.stdin.read()
"""


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    first = InstanceLock(tmp_path)
    assert not first.acquire().crashed  # a fresh directory: no previous run
    with pytest.raises(AlreadyRunning) as info:
        InstanceLock(tmp_path).acquire()
    assert info.value.pid == os.getpid()
    assert f"pid {os.getpid()}" in str(info.value)
    first.release(clean=True)
    again = InstanceLock(tmp_path)
    previous = again.acquire()
    assert (previous.state, previous.crashed, previous.pid) == ("stopped", False, os.getpid())
    again.release(clean=False)  # an unexpected error: the next run is told
    assert InstanceLock(tmp_path).acquire().crashed


def test_a_killed_process_releases_the_lock_and_leaves_a_crash_marker(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(tmp_path)],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "locked"
            with pytest.raises(AlreadyRunning) as info:
                InstanceLock(tmp_path).acquire()
            assert info.value.pid == proc.pid
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    previous = InstanceLock(tmp_path).acquire()
    assert previous.crashed
    assert previous.pid == proc.pid


def test_a_half_written_lock_file_counts_as_an_unclean_end(tmp_path: Path) -> None:
    (tmp_path / LOCK_FILE).write_text('{"pid": 12', encoding="utf-8")
    assert InstanceLock(tmp_path).acquire().crashed


def test_the_bot_exits_with_code_2_naming_the_running_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Named even though the running bot also holds the health port: the lock is checked
    before the port."""
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    monkeypatch.setenv("GOQUANT_OBSERVABILITY__PORT", str(busy.getsockname()[1]))
    data_dir = tmp_path / "data"
    monkeypatch.setenv("GOQUANT_APP__DATA_DIR", str(data_dir))
    monkeypatch.setenv("GOQUANT_APP__MODE", "headless")
    monkeypatch.setenv("GOQUANT_LOGGING__FILE", "")
    monkeypatch.chdir(tmp_path)
    holder = InstanceLock(data_dir)
    holder.acquire()
    try:
        assert cli.main(["run"]) == cli.EXIT_USAGE
    finally:
        holder.release(clean=True)
        busy.close()
    err = capsys.readouterr().err
    assert f"another bot (pid {os.getpid()}) is running on the data directory {data_dir}" in err
