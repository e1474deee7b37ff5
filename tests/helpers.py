"""Shared test helpers: waiting for conditions instead of sleeping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


async def wait_until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Yield to the loop until ``condition()`` holds; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.005)
