"""The only module that wires everything: ``build(settings) -> App``; ``App.run()``."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Callable, Collection, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor
from goquant_bot.engine.arbitrage import ArbConfig, ArbitrageEngine
from goquant_bot.engine.history import HistoryWriter, OpportunityStats
from goquant_bot.engine.market_view import MarketViewEngine
from goquant_bot.engine.registry import MonitorRegistry
from goquant_bot.engine.service import SignalService, log_events
from goquant_bot.errors import RejectedInput
from goquant_bot.logging import get_logger
from goquant_bot.marketdata.directory import SymbolDirectory
from goquant_bot.marketdata.hub import HubConfig, MarketDataHub
from goquant_bot.marketdata.service import MarketDataService
from goquant_bot.observability.wiring import build_health
from goquant_bot.settings import MarketDataSettings, Settings, VenueSettings
from goquant_bot.supervisor import Backoff, Stage, Supervisor, TaskSpec
from goquant_bot.venues.base import Recorder
from goquant_bot.venues.capture import CaptureWriter
from goquant_bot.venues.feed import FeedConfig, VenueFeed
from goquant_bot.venues.net import AiohttpGet, websocket_connect
from goquant_bot.venues.registry import VENUES
from goquant_bot.venues.sim import SIMULATED_LABEL, SimulatedVenues
from goquant_bot.venues.transport import HttpGet, WsConnector

log = get_logger(__name__)
HISTORY_FILE = "opportunities.jsonl"
# What --demo streams when marketdata.watch is empty.
DEMO_WATCH = tuple(Symbol.parse(s) for s in ("BTC-USDT", "ETH-USDT", "BTC-USDC"))
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


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
    ):
        self.settings = settings
        self.supervisor = supervisor
        self.market = market
        self.signals = signals
        self.registry = registry
        self.task_names = [spec.name for spec in specs]
        for spec in specs:
            supervisor.add(spec)

    def request_stop(self) -> None:
        self.supervisor.request_stop()

    @property
    def hung_tasks(self) -> list[str]:
        return self.supervisor.hung

    async def run(self) -> int:
        """Exit code: 0 after a requested stop, 1 after an unexpected error."""
        # Everything built so far lives for the whole run: keep it out of the collector's
        # scans, whose pauses would otherwise grow with the number of monitors.
        gc.collect()
        gc.freeze()
        loop = asyncio.get_running_loop()
        for sig in _STOP_SIGNALS:
            loop.add_signal_handler(sig, self._on_signal, sig)
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
) -> App:
    """Create every component from the settings and wire them together.

    ``connector`` and ``http`` replace the network (the demo simulator, tests).
    """
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
        simulated = SimulatedVenues()
        connector, http = simulated.connector, simulated.http_get
        watch = [Symbol.parse(s) for s in settings.marketdata.watch] or list(DEMO_WATCH)
        log.warning(
            "demo_mode", data=SIMULATED_LABEL, venues=[v.value for v in simulated.listings()]
        )
    if http is None:
        session = AiohttpGet()
        http = session
        specs.append(TaskSpec("http", _closing(session), stage=Stage.TRANSPORT, restart=False))
    market, feed_specs = _build_market_data(
        settings, connector or websocket_connect, http, watch=watch, demo=settings.app.demo
    )
    specs += feed_specs
    signals, registry = _build_signals(settings, market)
    specs.append(TaskSpec("engine", signals.run, stage=Stage.ENGINE))
    if settings.observability.enabled:
        health = build_health(
            settings.observability, settings.app.data_dir, market.hub, signals, registry
        )
        specs.append(TaskSpec("health", health.run, stage=Stage.TRANSPORT))
    if settings.app.demo:
        specs.append(
            TaskSpec("demo-monitors", _demo_monitors(settings, market, registry), restart=False)
        )
    return App(settings, supervisor, specs, market=market, signals=signals, registry=registry)


def _build_signals(
    settings: Settings, market: MarketDataService
) -> tuple[SignalService, MonitorRegistry]:
    hub, directory = market.hub, market.directory

    def routed(symbol: Symbol) -> frozenset[Venue]:
        """Venues whose book of ``symbol`` is another venue's liquidity (never counted twice)."""
        return frozenset(
            venue
            for venue in directory.venues_listing(symbol)
            if (listing := directory.instrument(venue, symbol)) and listing.routed_to
        )

    arbitrage = ArbitrageEngine(hub, arb_config(settings))
    market_view = MarketViewEngine(
        hub, max_age_s=settings.marketdata.book_max_age_s, exclude_routed=routed
    )
    registry = MonitorRegistry(hub, directory.venues_listing, arbitrage, market_view)
    signals = SignalService(
        hub,
        arbitrage,
        market_view,
        log_events,
        stats=OpportunityStats(),
        history=HistoryWriter(settings.app.data_dir / HISTORY_FILE),
        on_finished=registry.finished,
    )
    return signals, registry


def _build_market_data(
    settings: Settings,
    connector: WsConnector,
    http: HttpGet,
    *,
    venues: Collection[Venue] | None = None,
    watch: Sequence[Symbol] | None = None,
    recorders: Mapping[Venue, Recorder] | None = None,
    demo: bool = False,
) -> tuple[MarketDataService, list[TaskSpec]]:
    """Feeds for the enabled venues (or ``venues``), the hub, the directory and the service.

    In demo mode the venues' own addresses are kept (the simulator answers them) and the
    instruments cache lives apart, so simulated listings never mix with real ones."""
    md = settings.marketdata
    recorders = recorders or {}
    hub = MarketDataHub(
        HubConfig(book_max_age_s=md.book_max_age_s, unsubscribe_grace_s=md.unsubscribe_grace_s)
    )
    cache = settings.app.data_dir / ("instruments-demo" if demo else "instruments")
    directory = SymbolDirectory(cache, md.instruments_ttl_s)
    specs: list[TaskSpec] = []
    rest_bases: dict[Venue, str | None] = {}
    enabled = {}
    for venue, spec in VENUES.items():
        venue_settings: VenueSettings = getattr(settings.venues, venue.value)
        if not (venue_settings.enabled if venues is None else venue in venues):
            continue
        enabled[venue] = spec
        rest_bases[venue] = None if demo else venue_settings.rest_url or None
        feed = VenueFeed(
            spec.protocol,
            directory.map_for(venue),
            _feed_config(md, venue_settings, demo=demo),
            connector=connector,
            http=http,
            on_change=hub.mark_changed,
            recorder=recorders.get(venue),
        )
        hub.add_feed(feed)
        specs.append(TaskSpec(f"feed:{venue.value}", feed.run, stage=Stage.FEEDS))
    service = MarketDataService(
        hub,
        directory,
        enabled,
        rest_bases,
        http,
        watch=[Symbol.parse(s) for s in md.watch] if watch is None else watch,
        recorders=recorders,
        label=SIMULATED_LABEL if demo else "",
        status_interval_s=10.0 if demo else 60.0,
    )
    specs.append(TaskSpec("marketdata", service.run, stage=Stage.FEEDS))
    return service, specs


def open_captures(
    out_dir: Path, venues: Sequence[Venue], config: Mapping[str, object], *, compress: bool
) -> dict[Venue, CaptureWriter]:
    """One capture file per venue in ``out_dir`` (``<venue>.jsonl``, or ``.jsonl.zst``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = ".jsonl.zst" if compress else ".jsonl"
    return {
        venue: CaptureWriter(
            out_dir / f"{venue.value}{suffix}", exchange=venue.value.upper(), config=config
        )
        for venue in venues
    }


async def record_market_data(
    settings: Settings,
    writers: Mapping[Venue, CaptureWriter],
    symbols: Sequence[Symbol],
    duration_s: float,
    *,
    connector: WsConnector | None = None,
    http: HttpGet | None = None,
) -> None:
    """Stream ``symbols`` from the venues of ``writers`` for ``duration_s`` and capture every
    frame and REST answer (the capture format that replay reads). Closes the writers."""
    session: AiohttpGet | None = None
    if http is None:
        session = http = AiohttpGet()
    try:
        _, specs = _build_market_data(
            settings,
            connector or websocket_connect,
            http,
            venues=list(writers),
            watch=symbols,
            recorders=writers,
        )
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(duration_s), asyncio.TaskGroup() as tg:
                for spec in specs:
                    tg.create_task(spec.run(), name=spec.name)
    finally:
        for venue, writer in writers.items():
            writer.close()
            log.info(
                "capture_written", venue=venue.value, path=str(writer.path), records=writer.records
            )
        if session is not None:
            await session.close()


def arb_config(settings: Settings) -> ArbConfig:
    """The arbitrage engine's settings: fees per venue, tiers, hysteresis, guards."""
    arb = settings.arbitrage
    return ArbConfig(
        fees_pct={venue: getattr(settings.venues, venue.value).taker_fee_pct for venue in Venue},
        size_tiers=arb.size_tiers,
        hysteresis=arb.hysteresis_pct / 100.0,
        sanity_cap_pct=arb.sanity_cap_pct,
        max_skew_s=arb.max_skew_s,
    )


def _feed_config(md: MarketDataSettings, venue: VenueSettings, *, demo: bool = False) -> FeedConfig:
    return FeedConfig(
        depth=md.book_depth,
        silence_s=md.watchdog_silence_s,
        max_connection_age_s=venue.max_connection_age_s or None,
        poll_after_failures=md.poll_after_failures,
        poll_interval_s=md.poll_interval_s,
        rest_weight_per_minute=venue.rest_weight_per_minute,
        rest_timeout_s=md.rest_timeout_s,
        reconnect=Backoff(
            initial_s=md.reconnect_initial_s, factor=2.0, max_s=md.reconnect_max_s, jitter=0.3
        ),
        ws_base=None if demo else venue.ws_url or None,
        rest_base=None if demo else venue.rest_url or None,
    )


def _demo_monitors(
    settings: Settings, market: MarketDataService, registry: MonitorRegistry
) -> Callable[[], Coroutine[Any, Any, None]]:
    """In demo mode, watch the simulated dislocations with one arbitrage monitor per pair."""

    async def run() -> None:
        await market.ready.wait()
        for symbol in market.watch:
            monitor = ArbMonitor(
                id=f"demo:{symbol}",
                owner=0,
                symbols=(symbol,),
                venues=tuple(market.directory.venues_listing(symbol)),
                min_edge_pct=settings.arbitrage.default_min_edge_pct,
                notional=settings.arbitrage.default_notional,
            )
            try:
                registry.add_arbitrage(monitor)
            except (RejectedInput, ValueError) as exc:
                log.warning("demo_monitor_skipped", symbol=str(symbol), reason=str(exc))

    return run


def _closing(session: AiohttpGet) -> Callable[[], Coroutine[Any, Any, None]]:
    """A task that closes the shared HTTP session when it is stopped."""

    async def run() -> None:
        try:
            await asyncio.Future()
        finally:
            await session.close()

    return run
