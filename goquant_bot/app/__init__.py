"""The only module that wires everything: ``build(settings) -> App``; ``App.run()``."""

from __future__ import annotations

import asyncio
import gc
import signal
import time
from collections.abc import Sequence
from pathlib import Path

from goquant_bot import early_signals
from goquant_bot.app.chat import ChatSide, build_chat, load_saved
from goquant_bot.app.market import (
    build_market_data,
    closing,
    open_captures,
    read_venues,
    record_market_data,
    record_sources,
)
from goquant_bot.app.signals import HISTORY_FILE, arb_config, build_signals, demo_monitors
from goquant_bot.bot.availability import crash_notice, venue_down_notice, venue_recovered_notice
from goquant_bot.domain.instruments import Symbol
from goquant_bot.engine.registry import MonitorRegistry
from goquant_bot.engine.service import SignalService
from goquant_bot.logging import get_logger
from goquant_bot.marketdata.incidents import VenueIncident
from goquant_bot.marketdata.service import MarketDataService
from goquant_bot.monitors.dispatch import LocalDispatcher
from goquant_bot.monitors.service import MonitorService
from goquant_bot.observability.server import HealthServer
from goquant_bot.observability.wiring import build_health
from goquant_bot.settings import Settings
from goquant_bot.storage.instance_lock import PreviousRun
from goquant_bot.supervisor import Backoff, Stage, Supervisor, TaskSpec
from goquant_bot.venues.net import AiohttpGet, websocket_connect
from goquant_bot.venues.sim import SIMULATED_LABEL, SimConfig, SimulatedVenues
from goquant_bot.venues.transport import HttpGet, WsConnector

__all__ = [
    "DEMO_DIR",
    "DEMO_WATCH",
    "HISTORY_FILE",
    "App",
    "arb_config",
    "build",
    "data_dir",
    "open_captures",
    "record_market_data",
    "record_sources",
]

log = get_logger(__name__)
# What --demo streams when marketdata.watch is empty.
DEMO_WATCH = tuple(Symbol.parse(s) for s in ("BTC-USDT", "ETH-USDT", "BTC-USDC"))
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Demo state, history and instrument cache live in this folder of the data directory, so a
# trial never mixes with live data.
DEMO_DIR = "demo"


def data_dir(settings: Settings) -> Path:
    """Where this run keeps its files: ``app.data_dir``, or its ``demo/`` folder in demo mode."""
    base = settings.app.data_dir
    return base / DEMO_DIR if settings.app.demo else base


class App:
    """Runs the supervised components until SIGINT/SIGTERM or a fatal error."""

    def __init__(
        self,
        settings: Settings,
        supervisor: Supervisor,
        specs: Sequence[TaskSpec],
        *,
        market: MarketDataService | None = None,
        signals: SignalService | None = None,
        registry: MonitorRegistry | None = None,
        monitors: MonitorService | None = None,
        chat: ChatSide | None = None,
        health: HealthServer | None = None,
    ):
        self.settings = settings
        self.supervisor = supervisor
        self.market = market
        self.signals = signals
        self.registry = registry
        self.monitors = monitors
        self.chat = chat
        self.health = health
        self.task_names = [spec.name for spec in specs]
        for spec in specs:
            supervisor.add(spec)

    def request_stop(self) -> None:
        self.supervisor.request_stop()

    async def run(self) -> int:
        """Exit code: 0 after a requested stop, 1 after an unexpected error."""
        # Everything built so far lives for the whole run: keep it out of the collector's
        # scans, whose pauses would otherwise grow with the number of monitors.
        gc.collect()
        gc.freeze()
        loop = asyncio.get_running_loop()
        for sig in _STOP_SIGNALS:
            loop.add_signal_handler(sig, self._on_signal, sig)
        if (early := early_signals.received()) is not None:  # came while we were building
            self._on_signal(early)
        log.info(
            "app_started",
            mode=self.settings.effective_mode,
            demo=self.settings.app.demo,
            tasks=self.task_names,
        )
        try:
            code = await self.supervisor.run(self.settings.app.shutdown_timeout_s)
        finally:
            for sig in _STOP_SIGNALS:
                loop.remove_signal_handler(sig)
        log.info("app_stopped", exit_code=code)
        return code

    def _on_signal(self, sig: signal.Signals) -> None:
        log.info("stop_requested", signal=sig.name)
        self.request_stop()


def build(
    settings: Settings,
    *,
    connector: WsConnector | None = None,
    http: HttpGet | None = None,
    previous_run: PreviousRun | None = None,
    simulator: SimulatedVenues | None = None,
) -> App:
    """Create every component from the settings and wire them together.

    ``connector`` and ``http`` replace the network (tests); ``simulator`` is the demo's
    market (a default one in demo mode); ``previous_run`` says how the last run on the data
    directory ended.
    """
    if settings.app.demo:
        app_settings = settings.app.model_copy(update={"data_dir": data_dir(settings)})
        settings = settings.model_copy(update={"app": app_settings})
    sup = settings.supervisor
    supervisor = Supervisor(
        Backoff(
            initial_s=sup.restart_initial_s,
            factor=sup.restart_factor,
            max_s=sup.restart_max_s,
            jitter=sup.restart_jitter,
        ),
        stable_after_s=sup.stable_after_s,
    )
    specs: list[TaskSpec] = []
    watch: list[Symbol] | None = None
    if settings.app.demo and connector is None and http is None:
        # Only the enabled venues are simulated: every showcase dislocation is one they see.
        enabled = list(read_venues(settings))
        fees = tuple(arb_config(settings).fees_pct.items())
        simulated = simulator or SimulatedVenues(SimConfig(showcase_fees_pct=fees).only(enabled))
        connector, http = simulated.connector, simulated.http_get
        watch = [Symbol.parse(s) for s in settings.marketdata.watch] or list(DEMO_WATCH)
        log.warning(
            "demo_mode",
            data=SIMULATED_LABEL,
            venues=[v.value for v in simulated.listings()],
            data_dir=str(settings.app.data_dir),
        )
    if http is None:
        session = AiohttpGet()
        http = session
        specs.append(TaskSpec("http", closing(session), stage=Stage.TRANSPORT, restart=False))
    notices: asyncio.Queue[str] = asyncio.Queue()  # for telegram.admin_ids, sent in order
    label = SIMULATED_LABEL if settings.app.demo else ""

    def on_incident(incident: VenueIncident) -> None:
        if incident.kind == "down":
            text = venue_down_notice(
                incident.venue, incident.reason, incident.since, incident.at, label
            )
        else:
            text = venue_recovered_notice(incident.venue, incident.since, incident.at, label)
        notices.put_nowait(text)

    market, feed_specs = build_market_data(
        settings,
        connector or websocket_connect,
        http,
        watch=watch,
        demo=settings.app.demo,
        on_incident=on_incident,
        real_network=connector is None,
    )
    specs += feed_specs
    events = LocalDispatcher()
    saved = load_saved(settings)
    path = build_signals(settings, market, events, saved.records)
    signals, registry = path.loop, path.registry
    specs.append(TaskSpec("engine", signals.run, stage=Stage.ENGINE))
    chat = build_chat(settings, market, path, events, saved, notices, stop=supervisor.request_stop)
    specs += chat.specs
    if previous_run is not None and previous_run.crashed:
        log.warning("previous_run_crashed", pid=previous_run.pid, state=previous_run.state)
        notices.put_nowait(crash_notice(previous_run.pid, previous_run.started, time.time()))
    if settings.observability.enabled:
        health = build_health(
            settings.observability,
            settings.app.data_dir,
            market.hub,
            signals,
            registry,
            transport_ok=(
                (lambda: chat.delivery.reachable) if settings.effective_mode == "telegram" else None
            ),
            unreachable=market.directory.unreachable,
            simulated=settings.app.demo,
            telegram_errors=lambda: {"flood_wait": chat.delivery.pacer.flood_waits},
            messages_dropped=lambda: chat.delivery.direct.dropped,
        )
        specs.append(TaskSpec("health", health.run, stage=Stage.TRANSPORT))
    else:
        health = None
    if settings.app.demo:
        specs.append(
            TaskSpec("demo-monitors", demo_monitors(settings, market, registry), restart=False)
        )
    return App(
        settings,
        supervisor,
        specs,
        market=market,
        signals=signals,
        registry=registry,
        monitors=path.monitors,
        chat=chat,
        health=health,
    )
