"""Wiring of the user side: commands, alert delivery, the transport, and the state file."""

from __future__ import annotations

import asyncio
import functools
import gc
from collections.abc import Callable
from dataclasses import dataclass, replace

from goquant_bot.alerts.delivery import Delivery, DeliveryConfig
from goquant_bot.alerts.history import AlertHistory
from goquant_bot.alerts.outbox import Payload, ViewUpdate, notional_class
from goquant_bot.alerts.pacing import PacingConfig
from goquant_bot.alerts.transport import AlertTransport
from goquant_bot.app.bot_config import bot_config
from goquant_bot.app.signals import HISTORY_FILE, SignalPath
from goquant_bot.bot.alert_text import AlertRenderer, stable_text
from goquant_bot.bot.availability import dropped_notice, state_notice
from goquant_bot.bot.console import ConsoleAdapter
from goquant_bot.bot.ondemand import run_followups
from goquant_bot.bot.router import CommandRouter
from goquant_bot.bot.telegram.adapter import AdapterConfig
from goquant_bot.bot.telegram.build import build_telegram, build_transport
from goquant_bot.bot.types import CallbackAnswer, Caller, Keyboard, Reply
from goquant_bot.bot.users import UserStore
from goquant_bot.domain.events import ArbOpened, MarketViewSignal
from goquant_bot.domain.monitors import MarketViewMonitor, is_internal
from goquant_bot.engine.arbitrage import ArbitrageEngine
from goquant_bot.logging import get_logger
from goquant_bot.marketdata.service import MarketDataService
from goquant_bot.monitors.dispatch import ALL, Dispatcher
from goquant_bot.monitors.events import (
    EngineSignals,
    MonitorAdded,
    MonitorChanged,
    MonitorEvent,
    MonitorPaused,
    MonitorRemoved,
    MonitorRestored,
    MonitorResumed,
)
from goquant_bot.monitors.records import MonitorRecord
from goquant_bot.monitors.schema import records_from_entries
from goquant_bot.settings import Settings
from goquant_bot.storage.export import Skipped, history_files, read_closed
from goquant_bot.storage.state import PersistedState, SaveSignal, StateSaver, load_state
from goquant_bot.supervisor import Stage, TaskSpec
from goquant_bot.venues.sim import SIMULATED_LABEL

log = get_logger(__name__)
STATE_FILE = "state.json"
MESSAGE_LIMIT = 4096
# After a restart, open opportunities wait this long for their books to be live again.
RESTORE_GRACE_S = 60.0
# Signals that only move the live market view; the others also notify.
_VIEW_ONLY = frozenset({"best_bid_venue", "best_ask_venue"})


class LogTransport:
    """Headless mode: alerts go to the log."""

    def __init__(self) -> None:
        self._ids = 0

    async def send(
        self, chat_id: int, text: str, *, buttons: Keyboard = (), silent: bool = False
    ) -> int:
        self._ids += 1
        log.info("alert", chat_id=chat_id, text=text)
        return self._ids

    async def edit(
        self, chat_id: int, message_id: int, text: str, *, buttons: Keyboard = ()
    ) -> None:
        log.info("alert_updated", chat_id=chat_id, message_id=message_id, text=text)


class PersistingCommands:
    """The command layer, with the state saved after every command or button press, and
    every reply headed by ``label`` (``SIMULATED`` in demo mode)."""

    def __init__(self, router: CommandRouter, changed: Callable[[], None], label: str = "") -> None:
        self.router = router
        self.changed = changed
        self.label = f"🧪 <b>{label}</b>\n" if label else ""

    def handle(self, caller: Caller, text: str) -> list[Reply]:
        try:
            return self._labelled(self.router.handle(caller, text))
        finally:
            self.changed()

    def press(self, caller: Caller, data: str) -> tuple[CallbackAnswer, list[Reply]]:
        try:
            answer, replies = self.router.press(caller, data)
            return answer, self._labelled(replies)
        finally:
            self.changed()

    def due_answers(self) -> list[tuple[int, list[Reply]]]:
        """Answers that waited for books subscribed on demand (/get_cbbo, /arbitrage)."""
        return [(chat, self._labelled(out)) for chat, out in self.router.due_answers()]

    def _labelled(self, replies: list[Reply]) -> list[Reply]:
        if not self.label:
            return replies
        return [
            replace(r, text=self.label + r.text)
            if r.text and len(self.label) + len(r.text) <= MESSAGE_LIMIT
            else r
            for r in replies
        ]

    def menu(self) -> list[tuple[str, str]]:
        return self.router.menu()


@dataclass(slots=True)
class Saved:
    """What the state file gave back at start-up."""

    state: PersistedState
    records: list[MonitorRecord]
    source: str  # "main", "backup" or "none" (see storage.atomic)
    problems: list[str]  # the file's
    dropped: list[str]  # monitor entries that are not valid monitors


def load_saved(settings: Settings) -> Saved:
    """The state file, migrated; damaged monitor entries are left out and reported."""
    loaded = load_state(settings.app.data_dir / STATE_FILE)
    state = loaded.value or PersistedState()
    gc.disable()  # 100,000 monitors: no collection passes while they are built (2x faster)
    try:
        records, dropped = records_from_entries(state.monitors)
    finally:
        gc.enable()
    for problem in dropped:
        log.error("monitor_dropped", problem=problem)
    return Saved(state, records, loaded.source, list(loaded.problems), dropped)


class DeliveryFeed:
    """Events to alert delivery: engine signals become alerts, a market view's life its
    live message. The bot's own monitors (INTERNAL_OWNER) have no chat: they only log."""

    def __init__(self, delivery: Delivery, clock: Callable[[], float]) -> None:
        self.delivery = delivery
        self.clock = clock

    def subscribe(self, events: Dispatcher) -> None:
        events.subscribe(EngineSignals, self.signals)
        for running in (MonitorAdded, MonitorChanged, MonitorResumed, MonitorRestored):
            events.subscribe(running, self.running)
        events.subscribe(MonitorPaused, self.stopped)
        events.subscribe(MonitorRemoved, self.stopped)

    def signals(self, batch: EngineSignals) -> None:
        payloads: list[Payload] = []
        for event in batch.events:
            if is_internal(event.owner):
                continue  # the bot's own monitors only log: no chat has their owner id
            if isinstance(event, MarketViewSignal):
                payloads.append(ViewUpdate(event.monitor_id, event.owner, event.ts))
                if event.kind in _VIEW_ONLY:
                    continue
            payloads.append(event)
        self.delivery.publish(payloads)

    def running(self, event: MonitorEvent) -> None:
        if event.kind == "market_view" and not is_internal(event.chat_id):
            self.delivery.publish([ViewUpdate(event.monitor_id, event.chat_id, self.clock())])

    def stopped(self, event: MonitorEvent) -> None:
        if is_internal(event.chat_id):
            return
        if event.kind == "market_view":  # the last edit says so; held signals are dropped
            self.delivery.publish(
                [ViewUpdate(event.monitor_id, event.chat_id, self.clock(), stopped=True)]
            )
            self.delivery.forget(event.chat_id, event.monitor_id, keep_view=True)
        else:
            self.delivery.forget(event.chat_id, event.monitor_id)


@dataclass(slots=True)
class ChatSide:
    router: CommandRouter
    delivery: Delivery
    saver: StateSaver
    specs: list[TaskSpec]


def build_chat(
    settings: Settings,
    market: MarketDataService,
    path: SignalPath,
    events: Dispatcher,
    saved: Saved,
    notices: asyncio.Queue[str],
    *,
    stop: Callable[[], None],
) -> ChatSide:
    """Commands on Telegram (or the terminal), alerts through the paced outbox, and a state
    file that makes a restart invisible."""
    state = saved.state
    monitors = path.monitors
    label = SIMULATED_LABEL if settings.app.demo else ""
    gc.disable()  # rebuilding many chats: no collection passes meanwhile
    try:
        store = UserStore.from_dict(state.users) if state.users else UserStore()
    finally:
        gc.enable()
    save = SaveSignal()
    events.subscribe(ALL, lambda event: save.mark_dirty())  # every change is worth a save
    alert_history = AlertHistory()
    alert_history.load(state.delivery.get("history", {}))
    router = CommandRouter(
        monitors=monitors,
        arbitrage=path.arbitrage,
        market_view=path.market_view,
        quotes=path.quotes,
        directory=market.directory,
        hub=market.hub,
        stats=path.loop.stats,
        config=bot_config(settings),
        store=store,
        history=alert_history.recent,
    )
    commands = PersistingCommands(router, save.mark_confirmed, label)
    specs: list[TaskSpec] = []
    transport: AlertTransport
    per_chat = settings.bot.chat_messages_per_min
    pacing = PacingConfig(chat_messages_per_min=per_chat)
    unpaced = PacingConfig(
        private_interval_s=0.0, global_per_s=1000, global_burst=1000, chat_messages_per_min=per_chat
    )
    if settings.effective_mode == "telegram":
        telegram = build_transport(settings.telegram)
        transport = telegram
        specs.append(TaskSpec("telegram-transport", telegram.run, stage=Stage.TRANSPORT))
    elif settings.effective_mode == "headless":
        transport = LogTransport()
        pacing = unpaced
    else:
        console = ConsoleAdapter(commands, on_eof=stop)
        transport = console.transport
        pacing = unpaced
        specs.append(TaskSpec("console", console.run, stage=Stage.INTAKE, restart=False))

    def view_throttle(monitor_id: str) -> float:
        monitor = monitors.running_monitor(monitor_id)
        return monitor.cooldown_s if isinstance(monitor, MarketViewMonitor) else 0.0

    renderer = AlertRenderer(
        open_opportunities=path.arbitrage.open_opportunities,
        live_view=router.live_view_text,
        prefs=store.prefs,
        label=label,
        price_decimals=router.ctx.price_decimals,
    )

    def blocked(chat_id: int) -> None:
        monitors.block_chat(chat_id)  # its ChatBlocked event marks the chat inactive

    delivery = Delivery(
        transport,
        size_class=functools.partial(same_figures, path.arbitrage),
        prefs=store.prefs,
        render=renderer.render,
        buttons=renderer.buttons,
        on_blocked=blocked,
        on_migrated=monitors.migrate_chat,
        config=DeliveryConfig(edit_interval_s=settings.bot.edit_interval_s),
        pacing=pacing,
        on_change=save.mark_dirty,
        min_refresh_s=view_throttle,
        stable_text=stable_text,
        history=alert_history,
    )
    delivery.restore_message_ids(state.delivery.get("message_ids", []))
    DeliveryFeed(delivery, path.loop.clock).subscribe(events)
    if settings.effective_mode == "telegram":
        # Replies share the alerts' pacer (delivery.direct): one budget for every message.
        adapter = build_telegram(
            settings.telegram,
            commands,
            AdapterConfig(stale_after_s=settings.bot.stale_after_s),
            requests=delivery.direct,
        )
        specs.append(TaskSpec("telegram", adapter.run, stage=Stage.INTAKE))
    if settings.effective_mode != "headless":

        async def paced_send(
            chat_id: int, text: str, *, buttons: Keyboard = (), silent: bool = False
        ) -> int:
            send = functools.partial(transport.send, chat_id, text, buttons=buttons, silent=silent)
            return await delivery.direct.request(chat_id, send)

        followups = functools.partial(run_followups, commands.due_answers, paced_send)
        specs.append(TaskSpec("followups", followups, stage=Stage.INTAKE))

    def snapshot() -> Callable[[], PersistedState]:
        """Copies on the loop; the document (30 MB at 100,000 monitors) is built off it."""
        users = store.frozen()
        records = monitors.frozen()
        opportunities = monitors.open_snapshot()
        message_ids = delivery.message_ids()
        history = alert_history.to_dict()
        return lambda: PersistedState.model_construct(
            users=users(),
            monitors=records(),
            opportunities=opportunities(),
            delivery={"message_ids": message_ids, "history": history},
        )

    saver = StateSaver(settings.app.data_dir / STATE_FILE, snapshot, debounce_s=0.5, signal=save)

    async def restore() -> None:
        """Once the venues' instruments are known: run the saved monitors again, with the
        opportunities that were open still open (no second alert)."""
        history = settings.app.data_dir / HISTORY_FILE
        skipped = Skipped()  # damaged lines: /export tells how many are missing
        closed = await asyncio.to_thread(
            lambda: [e for _, e in read_closed(history_files(history), skipped=skipped)]
        )
        loaded = path.loop.stats.load(closed, skipped=skipped.count)
        log.info("history_loaded", closed_opportunities=loaded, skipped_lines=skipped.count)
        await market.ready.wait()
        for problem in monitors.restore():
            log.error("monitor_not_restored", problem=problem)
        restored = monitors.restore_open(
            state.opportunities, confirm_by=path.loop.clock() + RESTORE_GRACE_S
        )
        log.info("state_restored", monitors=monitors.running_count(), open_opportunities=restored)
        async for venue in market.arrivals():  # a venue unreachable at start is back
            problems = monitors.restore()
            log.info(
                "monitors_restarted",
                venue=venue.value,
                running=monitors.running_count(),
                still_waiting=len(problems),
            )

    specs.append(TaskSpec("restore", restore, stage=Stage.ENGINE, restart=False))
    if saved.problems:
        notices.put_nowait(state_notice(saved.source, saved.problems))
    if saved.dropped:
        notices.put_nowait(dropped_notice(saved.dropped))
    if settings.telegram.admin_ids:

        async def tell_admins() -> None:
            """Every admin notice (state file, venue outages, crash restart), in order."""
            while True:
                notice = await notices.get()
                for admin in settings.telegram.admin_ids:
                    await delivery.notify(admin, notice)  # paced; a failure is logged there

        specs.append(TaskSpec("admin-notice", tell_admins, stage=Stage.DELIVERY))
    specs.append(TaskSpec("delivery", delivery.run, stage=Stage.DELIVERY))
    specs.append(TaskSpec("state", saver.run, stage=Stage.STATE))
    return ChatSide(router, delivery, saver, specs)


def same_figures(engine: ArbitrageEngine, event: ArbOpened) -> str:
    """What two monitors' openings of one symbol and venue pair must share to be one alert:
    the size tier their books are walked at, the fees on both venues (the same figures) and
    which books they accept (polled, integrity tier)."""
    monitor = engine.monitors.get(event.monitor_id)
    if monitor is None:
        return notional_class(event)
    fees = {**engine.config.fees_pct, **monitor.fee_overrides()}
    buy, sell = fees.get(event.buy_venue, 0.0), fees.get(event.sell_venue, 0.0)
    polled = " polled" if monitor.allow_polled else ""
    tier = monitor.min_integrity.value
    return f"{engine.tier_for(monitor.notional):g} fees {buy:g}/{sell:g}{polled} {tier}"
