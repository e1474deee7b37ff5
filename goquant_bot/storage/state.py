"""The persisted state: one versioned JSON document, migrated on load, saved debounced."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from goquant_bot.logging import get_logger
from goquant_bot.storage.atomic import Loaded, load_validated, sweep_temporary, write_atomic

log = get_logger(__name__)
SCHEMA_VERSION = 2


def _monitors_out_of_users(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2: the monitors have a part of their own (the monitor service's), no longer
    inside the command layer's. Entries keep their form: the monitor schema migrates them."""
    users = data.get("users")
    if isinstance(users, dict) and "monitors" in users:
        users = dict(users)
        moved = users.pop("monitors")
        data = {**data, "users": users}
        if not data.get("monitors"):
            data["monitors"] = moved
    return data


# Migrations from version N to N + 1, applied in order to older files.
MIGRATIONS: Mapping[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _monitors_out_of_users}


class PersistedState(BaseModel):
    """Everything a restart must not lose. Each part is owned (and shaped) by its component."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    saved_at: float = 0.0
    users: dict[str, Any] = {}  # the command layer: chats, preferences, pending guided flows
    monitors: list[Any] = []  # every monitor, in the monitor schema (goquant_bot.monitors)
    opportunities: dict[str, list[dict[str, Any]]] = {}  # open opportunities per monitor
    delivery: dict[str, Any] = {}  # live message ids and what is still to send


def parse_state(raw: bytes) -> PersistedState:
    """Decode, migrate and validate; ValueError when the content cannot be used.

    Only the envelope is validated here; each part is checked by the component that owns it
    (a damaged entry there is skipped alone), which keeps a 30 MB state loading in well
    under a second.
    """
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        msg = f"not JSON: {exc}"
        raise ValueError(msg) from None
    if not isinstance(data, dict):
        msg = "not a JSON object"
        raise ValueError(msg)
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        msg = f"schema_version {version!r} is newer than this program ({SCHEMA_VERSION})"
        raise ValueError(msg)
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
        data["schema_version"] = version
    unknown = set(data) - set(PersistedState.model_fields)
    if unknown:
        msg = f"invalid state: unknown parts {sorted(unknown)}"
        raise ValueError(msg)
    for name, kind in _PART_TYPES.items():
        if name in data and not isinstance(data[name], kind):
            msg = f"invalid state: {name} is not a {kind.__name__}"
            raise ValueError(msg)
    return PersistedState.model_construct(**data)


_PART_TYPES: dict[str, type] = {
    "schema_version": int,
    "saved_at": (int | float),  # type: ignore[dict-item]
    "users": dict,
    "monitors": list,
    "opportunities": dict,
    "delivery": dict,
}


def load_state(path: Path) -> Loaded[PersistedState]:
    if removed := sweep_temporary(path):
        log.info("state_temporary_files_removed", count=removed)
    gc.disable()  # millions of new objects: no collection passes while they are built
    try:
        loaded = load_validated(path, parse_state)
    finally:
        gc.enable()
    for problem in loaded.problems:
        log.error("state_file_problem", problem=problem)
    if loaded.source == "backup":
        log.error("state_loaded_from_backup", path=str(path))
    elif loaded.source == "none" and loaded.problems:
        log.error("state_lost_starting_empty", path=str(path))
    return loaded


class SaveSignal:
    """What components call when the state changed; made first, read by the saver."""

    def __init__(self) -> None:
        self.dirty = asyncio.Event()
        self.urgent = asyncio.Event()

    def mark_dirty(self) -> None:
        self.dirty.set()

    def mark_confirmed(self) -> None:
        """A change the user is (about to be) told about: save it without the debounce."""
        self.dirty.set()
        self.urgent.set()


class StateSaver:
    """Writes the state at most every ``debounce_s`` after a change, off the event loop.

    A change a user is told about (``mark_confirmed``) is not debounced: its save starts at
    once, or right after the write in progress, so it is on disk well within a second of the
    confirmation even if the process is killed then.
    """

    def __init__(
        self,
        path: Path,
        snapshot: Callable[[], PersistedState | Callable[[], PersistedState]],
        *,
        debounce_s: float = 0.5,
        clock: Callable[[], float] = time.time,
        signal: SaveSignal | None = None,
    ) -> None:
        self.path = path
        self.snapshot = snapshot
        self.debounce_s = debounce_s
        self.clock = clock
        self.signal = signal or SaveSignal()
        self._dirty = self.signal.dirty
        self._urgent = self.signal.urgent
        self.writes = 0
        self.last_save_s = 0.0

    def mark_dirty(self) -> None:
        self.signal.mark_dirty()

    def mark_confirmed(self) -> None:
        """A change the user is (about to be) told about: save it without the debounce."""
        self.signal.mark_confirmed()

    def save_now(self) -> None:
        """Synchronous save (shutdown, tests)."""
        self._write(self._take())

    def _take(self) -> Callable[[], PersistedState]:
        """Taken on the loop (a consistent moment); it shares nothing mutable. A snapshot may
        be a builder: the heavy part (building the document) then runs off the loop."""
        taken = self.snapshot()
        saved_at = self.clock()

        def build() -> PersistedState:
            state = taken() if callable(taken) else taken
            state.saved_at = saved_at
            return state

        return build

    def _write(self, build: Callable[[], PersistedState]) -> None:
        write_atomic(self.path, build().model_dump_json().encode())
        self.writes += 1

    async def run(self) -> None:
        try:
            while True:
                await self._dirty.wait()
                if not self._urgent.is_set():
                    # A large state takes long to save: never save more often than it takes.
                    # A confirmed change arriving meanwhile cuts the wait short.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self._urgent.wait(), max(self.debounce_s, self.last_save_s)
                        )
                self._dirty.clear()
                self._urgent.clear()
                started = time.perf_counter()
                state = self._take()
                try:
                    await asyncio.to_thread(self._write, state)  # encoding and disk off the loop
                    self.last_save_s = time.perf_counter() - started
                except OSError as exc:
                    log.error("state_write_failed", path=str(self.path), error=repr(exc))
                    self._dirty.set()
        finally:
            try:
                self.save_now()
                log.info("state_saved", path=str(self.path))
            except OSError as exc:
                log.error("state_write_failed", path=str(self.path), error=repr(exc))
