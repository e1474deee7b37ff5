"""Health checks and metrics over the running components."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client.registry import CollectorRegistry

from goquant_bot.domain.instruments import Venue
from goquant_bot.engine.registry import MonitorRegistry
from goquant_bot.engine.service import SignalService
from goquant_bot.marketdata.hub import MarketDataHub
from goquant_bot.observability.metrics import BotCollector, VenueCounters
from goquant_bot.observability.server import HealthServer
from goquant_bot.settings_sections import ObservabilitySettings


def build_health(
    settings: ObservabilitySettings,
    data_dir: Path,
    hub: MarketDataHub,
    signals: SignalService,
    registry: MonitorRegistry,
    *,
    transport_ok: Callable[[], bool] | None = None,
    unreachable: Callable[[], Mapping[Venue, float]] = dict,
    simulated: bool = False,
    telegram_errors: Callable[[], Mapping[str, int]] = dict,
    messages_dropped: Callable[[], Mapping[str, int]] = dict,
) -> HealthServer:
    """The health server, its readiness checks and the metrics collector over the components.

    ``transport_ok`` is Telegram's check (None: no Telegram in this mode, nothing claimed);
    ``unreachable`` the venues whose symbol list is missing, with since when.
    """

    def venues() -> list[VenueCounters]:
        out = []
        for venue, feed in hub.feeds.items():
            errors: Counter[str] = Counter()
            for conn in feed.connections:
                errors.update(conn.proto.stats.errors)
            frames = sum(c.proto.stats.frames for c in feed.connections)
            out.append(VenueCounters(venue, frames, errors, feed.books()))
        return out

    def monitors() -> dict[str, int]:
        kinds = Counter(type(m).__name__ for m in registry.monitors.values())
        return {"arbitrage": kinds["ArbMonitor"], "market_view": kinds["MarketViewMonitor"]}

    def readiness() -> tuple[bool, dict[str, Any]]:
        now = time.time()
        venue_states = {
            venue.value: {
                str(book.key.symbol): {"state": book.state.value, "age_s": book.age(now)}
                for book in feed.books()
            }
            for venue, feed in hub.feeds.items()
        }
        any_live = any(h.books.get("live") for h in hub.health())
        writable = (
            os.access(data_dir, os.W_OK)
            if data_dir.exists()
            else (os.access(data_dir.parent, os.W_OK))
        )
        checks = {"venue_live": any_live, "state_writable": writable}
        if transport_ok is not None:
            checks["telegram"] = transport_ok()
        missing = {
            venue.value: {
                "since": datetime.fromtimestamp(since, UTC).isoformat(timespec="seconds"),
                "retrying": True,
            }
            for venue, since in unreachable().items()
        }
        return all(checks.values()), {
            "checks": checks,
            "data": "simulated" if simulated else "live",
            "unreachable": missing,
            "venues": venue_states,
        }

    registry_ = CollectorRegistry(auto_describe=False)
    registry_.register(
        BotCollector(
            venues=venues,
            latencies=lambda: signals.latency.samples,
            guards=lambda: signals.arbitrage.guards,
            opportunities_open=lambda: sum(
                len(v) for v in signals.arbitrage.export_open().values()
            ),
            monitors=monitors,
            users=lambda: len({m.owner for m in registry.monitors.values()}),
            telegram_errors=telegram_errors,
            messages_dropped=messages_dropped,
        )
    )
    return HealthServer(settings.host, settings.port, readiness=readiness, registry=registry_)
