from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from goquant_bot.storage.atomic import backup_path, load_validated, write_atomic
from goquant_bot.storage.state import PersistedState, StateSaver, load_state, parse_state
from tests.helpers import wait_until


def _json(raw: bytes) -> dict[str, object]:
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


def test_write_keeps_the_previous_version_as_backup(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    write_atomic(path, b'{"v": 1}')
    write_atomic(path, b'{"v": 2}')
    assert json.loads(path.read_bytes()) == {"v": 2}
    assert json.loads(backup_path(path).read_bytes()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize("content", [b'{"v": 2', b"", b"[1, 2]", b"\x00\xff"])
def test_a_corrupt_file_falls_back_to_the_backup_and_is_kept_aside(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "state.json"
    write_atomic(path, b'{"v": 1}')
    write_atomic(path, b'{"v": 2}')
    path.write_bytes(content)  # a torn write or a disk error
    loaded = load_validated(path, _json)
    assert loaded.source == "backup"
    assert loaded.value == {"v": 1}
    assert len(loaded.quarantined) == 1
    assert loaded.quarantined[0].read_bytes() == content
    assert loaded.problems


def test_nothing_readable_starts_empty_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(b"garbage")
    loaded = load_validated(path, _json)
    assert (loaded.source, loaded.value) == ("none", None)
    assert "unreadable" in loaded.problems[0]
    assert load_validated(tmp_path / "missing.json", _json).problems == []


def test_state_round_trip_and_version_checks() -> None:
    state = PersistedState(users={"1": {"x": 1}}, monitors=[{"id": "m1"}])
    assert parse_state(state.model_dump_json().encode()) == state
    with pytest.raises(ValueError, match="newer than this program"):
        parse_state(b'{"schema_version": 99}')
    with pytest.raises(ValueError, match="invalid state"):
        parse_state(b'{"schema_version": 1, "monitors": "nope"}')
    with pytest.raises(ValueError, match="not JSON"):
        parse_state(b"{")


async def test_saver_debounces_and_writes_a_final_state(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    counter = {"n": 0}

    def snapshot() -> PersistedState:
        return PersistedState(users={"n": counter["n"]})

    saver = StateSaver(path, snapshot, debounce_s=0.05, clock=lambda: 123.0)
    task = asyncio.ensure_future(saver.run())
    for _ in range(20):
        counter["n"] += 1
        saver.mark_dirty()
    await wait_until(lambda: saver.writes == 1)
    loaded = load_state(path)
    assert loaded.value is not None
    assert loaded.value.users == {"n": 20}
    assert loaded.value.saved_at == 123.0
    counter["n"] = 21
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    final = load_state(path).value
    assert final is not None
    assert final.users == {"n": 21}  # written on the way out


async def test_a_confirmed_change_is_saved_without_waiting_for_the_debounce(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.json"
    counter = {"n": 0}
    saver = StateSaver(path, lambda: PersistedState(users={"n": counter["n"]}), debounce_s=60.0)
    task = asyncio.ensure_future(saver.run())
    try:
        counter["n"] = 1
        saver.mark_dirty()  # a background change: waits for the debounce
        await asyncio.sleep(0)
        counter["n"] = 2
        saver.mark_confirmed()  # a user is being told: cuts the wait short
        await wait_until(lambda: saver.writes == 1, within=2.0)
        loaded = load_state(path).value
        assert loaded is not None
        assert loaded.users == {"n": 2}
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
