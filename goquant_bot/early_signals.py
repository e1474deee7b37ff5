"""Stop requests that arrive before the event loop runs (imports, loading the state).

Standard library only: the entry point installs this before importing anything slow, so a
SIGTERM during start-up becomes a clean stop instead of killing the process half-started.
"""

from __future__ import annotations

import signal
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_received: list[signal.Signals] = []


def install() -> None:
    """Note SIGINT/SIGTERM instead of dying; the app acts on them once it runs."""
    if signal.getsignal(signal.SIGTERM) is not _note:  # main.py and cli.main both install
        _received.clear()
    for sig in STOP_SIGNALS:
        signal.signal(sig, _note)


def _note(signum: int, _frame: FrameType | None) -> None:
    _received.append(signal.Signals(signum))


def received() -> signal.Signals | None:
    """The first stop signal received since ``install``, if any."""
    return _received[0] if _received else None


def uninstall() -> None:
    """Back to the default reactions (the process is about to exit)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
