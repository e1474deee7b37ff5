"""Crash-safe JSON files: write to a temporary file, fsync, rename; keep the previous good one.

A reader gets the newest file that parses and validates; a corrupt or truncated file is moved
aside for inspection (never deleted) and the backup is used instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash at any moment leaves a complete file
    (the new one, or the previous one kept as ``<name>.bak``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            _keep_backup(path)
        os.replace(tmp, path)  # the main file is never missing: the backup is a second link
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _keep_backup(path: Path) -> None:
    """Make the current file the backup without removing it first (a hard link, or a copy)."""
    staged = path.with_name(f".{path.name}.bak.tmp")
    staged.unlink(missing_ok=True)
    try:
        os.link(path, staged)
    except OSError:
        shutil.copy2(path, staged)
    os.replace(staged, backup_path(path))


def sweep_temporary(path: Path) -> int:
    """Remove what an interrupted write left next to ``path``; returns how many files."""
    removed = 0
    for leftover in path.parent.glob(f".{path.name}.*tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()
            removed += 1
    return removed


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem allows it
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass(slots=True)
class Loaded(Generic[T]):
    """What was loaded and from where; ``problems`` says what was wrong on the way."""

    value: T | None
    source: str  # "main", "backup" or "none"
    problems: list[str] = field(default_factory=list)
    quarantined: list[Path] = field(default_factory=list)


def load_validated(path: Path, parse: Callable[[bytes], T]) -> Loaded[T]:
    """The main file if it parses, else the backup; bad files are moved aside, not lost.

    ``parse`` raises ValueError (or a subclass) for content it cannot accept.
    """
    result: Loaded[T] = Loaded(None, "none")
    for source, candidate in (("main", path), ("backup", backup_path(path))):
        try:
            raw = candidate.read_bytes()
        except FileNotFoundError:
            continue
        except OSError as exc:
            result.problems.append(f"{candidate}: cannot read: {exc.strerror}")
            continue
        try:
            result.value = parse(raw)
        except ValueError as exc:
            aside = candidate.with_name(f"{candidate.name}.corrupt-{int(time.time())}")
            with contextlib.suppress(OSError):
                os.replace(candidate, aside)
                result.quarantined.append(aside)
            result.problems.append(
                f"{candidate}: unreadable ({str(exc)[:200]}); kept as {aside.name}"
            )
            continue
        result.source = source
        return result
    return result
