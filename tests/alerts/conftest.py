"""Delivery tests that run the production loop on simulated time get a SimulatedTimeLoop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import pytest

from tests.alerts.simulated_time import SimulatedTimeLoop


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    module = getattr(item, "module", None)
    if getattr(module, "SIMULATED_TIME", False):
        return {"simulated_time": SimulatedTimeLoop}
    return {"asyncio": asyncio.new_event_loop}  # what pytest-asyncio uses by default
