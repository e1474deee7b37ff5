"""Wiring of the user side: commands, alert delivery, the transport, and the state file."""

from __future__ import annotations

import asyncio
import functools
import gc
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from goquant_bot.alerts.delivery import Delivery, DeliveryConfig
from goquant_bot.alerts.outbox import Payload, ViewUpdate
from goquant_bot.alerts.pacing import PacingConfig
from goquant_bot.alerts.transport import AlertTransport
from goquant_bot.app.signals import HISTORY_FILE
from goquant_bot.bot.alert_text import AlertRenderer, stable_text
from goquant_bot.bot.config import BotConfig
from goquant_bot.bot.console import ConsoleAdapter
from goquant_bot.bot.ondemand import run_followups
from goquant_bot.bot.router import CommandRouter
from goquant_bot.bot.telegram.adapter import AdapterConfig
from goquant_bot.bot.telegram.build import build_telegram, build_transport
from goquant_bot.bot.types import CallbackAnswer, Caller, Commands, Keyboard, Reply
from goquant_bot.bot.users import UserStore
from goquant_bot.domain.events import Event, MarketViewSignal
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import MarketViewMonitor, is_internal
from goquant_bot.engine.arbitrage import RestoredOpening
from goquant_bot.engine.registry import Monitor, MonitorRegistry
from goquant_bot.engine.service import SignalService
from goquant_bot.logging import get_logger
from goquant_bot.marketdata.service import MarketDataService
from goquant_bot.settings import Settings
from goquant_bot.storage.export import Skipped, history_files, read_closed
from goquant_bot.storage.state import PersistedState, StateSaver, load_state
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
class ChatSide:
    router: CommandRouter
    delivery: Delivery
    saver: StateSaver
    specs: list[TaskSpec]
    notify_admins: Callable[[str], None]  # a notice for telegram.admin_ids, sent in order


def build_chat(
    settings: Settings,
    market: MarketDataService,
    signals: SignalService,
    registry: MonitorRegistry,
    *,
    stop: Callable[[], None],
) -> ChatSide:
    """Commands on Telegram (or the terminal), alerts through the paced outbox, and a state
    file that makes a restart invisible."""
    path = settings.app.data_dir / STATE_FILE
    loaded = load_state(path)
    state = loaded.value or PersistedState()
    gc.disable()  # rebuilding 100,000 monitors: no collection passes meanwhile
    try:
        store = UserStore.from_dict(state.users) if state.users else UserStore()
    finally:
        gc.enable()
    saver_ref: list[StateSaver] = []

    def changed() -> None:
        if saver_ref:
            saver_ref[0].mark_dirty()

    def confirmed() -> None:
        """A command's or button's effect, which its reply confirms: saved at once."""
        if saver_ref:
            saver_ref[0].mark_confirmed()

    def route(events: Sequence[Event]) -> None:
        """Engine events to delivery: a market-view signal refreshes the live view."""
        payloads: list[Payload] = []
        for event in events:
            if is_internal(event.owner):
                continue  # the bot's own monitors only log: no chat has their owner id
            if isinstance(event, MarketViewSignal):
                payloads.append(ViewUpdate(event.monitor_id, event.owner, event.ts))
                if event.kind in _VIEW_ONLY:
                    continue
            payloads.append(event)
        delivery.publish(payloads)
        changed()

    router = CommandRouter(
        registry=registry,
        arbitrage=signals.arbitrage,
        market_view=signals.market_view,
        directory=market.directory,
        hub=market.hub,
        stats=signals.stats,
        config=bot_config(settings),
        store=store,
        history=lambda chat_id: delivery.history.recent(chat_id),
        publish=route,
    )
    persisting = PersistingCommands(router, confirmed, SIMULATED_LABEL if settings.app.demo else "")
    commands: Commands = persisting
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
        monitor = registry.monitors.get(monitor_id)
        return monitor.cooldown_s if isinstance(monitor, MarketViewMonitor) else 0.0

    def blocked(chat_id: int) -> None:
        router.chat_blocked(chat_id)
        changed()

    def migrated(old: int, new: int) -> None:
        router.chat_migrated(old, new)
        changed()

    renderer = AlertRenderer(
        open_opportunities=signals.arbitrage.open_opportunities,
        live_view=router.live_view_text,
        prefs=store.prefs,
        label=SIMULATED_LABEL if settings.app.demo else "",
        price_decimals=router.ctx.price_decimals,
    )
    delivery = Delivery(
        transport,
        prefs=store.prefs,
        render=renderer.render,
        buttons=renderer.buttons,
        on_blocked=blocked,
        on_migrated=migrated,
        config=DeliveryConfig(edit_interval_s=settings.bot.edit_interval_s),
        pacing=pacing,
        on_change=changed,
        min_refresh_s=view_throttle,
        stable_text=stable_text,
    )
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

        followups = functools.partial(run_followups, persisting.due_answers, paced_send)
        specs.append(TaskSpec("followups", followups, stage=Stage.INTAKE))
    delivery.restore_message_ids(state.delivery.get("message_ids", []))
    delivery.history.load(state.delivery.get("history", {}))
    signals.sink = route

    def on_monitor(change: str, monitor: Monitor) -> None:
        if change == "finished":
            router.monitor_finished(monitor.id)  # its last alert is still to be delivered
        elif is_internal(monitor.owner):
            pass  # the bot's own monitors have no chat and no live message
        elif isinstance(monitor, MarketViewMonitor):
            stopped = change == "removed"
            delivery.publish([ViewUpdate(monitor.id, monitor.owner, signals.clock(), stopped)])
            if stopped:  # the last edit says so; its held signals are not sent any more
                delivery.forget(monitor.owner, monitor.id, keep_view=True)
        elif change == "removed":
            delivery.forget(monitor.owner, monitor.id)
        changed()

    registry.on_change = on_monitor

    def snapshot() -> Callable[[], PersistedState]:
        """Copies on the loop; the document (30 MB at 100,000 monitors) is built off it."""
        users = store.frozen()
        opportunities = signals.arbitrage.export_open()
        message_ids = delivery.message_ids()
        history = delivery.history.to_dict()

        def build() -> PersistedState:
            return PersistedState.model_construct(
                users=users(),
                opportunities={
                    monitor_id: [_opening_to_dict(o) for o in openings]
                    for monitor_id, openings in opportunities.items()
                },
                delivery={"message_ids": message_ids, "history": history},
            )

        return build

    saver = StateSaver(path, snapshot, debounce_s=0.5)
    saver_ref.append(saver)

    async def restore() -> None:
        """Once the venues' instruments are known: run the saved monitors again, with the
        opportunities that were open still open (no second alert)."""
        history = settings.app.data_dir / HISTORY_FILE
        skipped = Skipped()  # damaged lines: /export tells how many are missing
        closed = await asyncio.to_thread(
            lambda: [e for _, e in read_closed(history_files(history), skipped=skipped)]
        )
        loaded = signals.stats.load(closed, skipped=skipped.count)
        log.info("history_loaded", closed_opportunities=loaded, skipped_lines=skipped.count)
        await market.ready.wait()
        for problem in router.restore_monitors():
            log.error("monitor_not_restored", problem=problem)
        restored = 0
        for monitor_id, items in state.opportunities.items():
            openings = [o for o in (_opening_from_dict(d) for d in items) if o is not None]
            restored += signals.arbitrage.restore_open(
                monitor_id, openings, confirm_by=signals.clock() + RESTORE_GRACE_S
            )
        log.info("state_restored", monitors=len(registry.monitors), open_opportunities=restored)
        async for venue in market.arrivals():  # a venue unreachable at start is back
            problems = router.restore_monitors()
            log.info(
                "monitors_restarted",
                venue=venue.value,
                running=len(registry.monitors),
                still_waiting=len(problems),
            )

    specs.append(TaskSpec("restore", restore, stage=Stage.ENGINE, restart=False))
    notices: asyncio.Queue[str] = asyncio.Queue()
    if loaded.problems:
        notices.put_nowait(state_notice(loaded.source, loaded.problems))
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
    return ChatSide(router, delivery, saver, specs, notices.put_nowait)


def state_notice(source: str, problems: list[str]) -> str:
    """What admins are told when the state file could not be read as it was."""
    what = {
        "backup": "The state file was damaged: the previous version (backup) was loaded.",
        "none": "The state file and its backup were unreadable: the bot started EMPTY.",
    }.get(source, "The state file had problems.")
    details = "\n".join(f"• {html.escape(p[:300])}" for p in problems[:5])
    return f"⚠️ <b>{what}</b>\nThe damaged files were kept aside for inspection.\n{details}"


def bot_config(settings: Settings) -> BotConfig:
    bot, arb = settings.bot, settings.arbitrage
    return BotConfig(
        venues=tuple(v for v in Venue if getattr(settings.venues, v.value).enabled),
        admin_ids=frozenset(settings.telegram.admin_ids),
        allowlist=frozenset(settings.telegram.allowlist),
        max_arb_per_user=bot.max_arb_per_user,
        max_views_per_user=bot.max_views_per_user,
        max_monitors_total=bot.max_monitors_total,
        default_threshold_pct=arb.default_min_edge_pct,
        default_notional=arb.default_notional,
        popular=bot.popular,
        flow_timeout_s=bot.flow_timeout_s,
        view_throttle_s=bot.view_throttle_s,
        edit_interval_s=bot.edit_interval_s,
        view_refresh_s=DeliveryConfig().refresh_s,
        view_alert_cooldown_s=bot.view_alert_cooldown_s,
        max_skew_s=arb.max_skew_s,
        sanity_cap_pct=arb.sanity_cap_pct,
    )


def _opening_to_dict(opening: RestoredOpening) -> dict[str, object]:
    return {
        "symbol": str(opening.symbol),
        "buy": opening.buy_venue.value,
        "sell": opening.sell_venue.value,
        "opened_at": opening.opened_at,
        "peak_edge_pct": opening.peak_edge_pct,
    }


def _opening_from_dict(data: dict[str, object]) -> RestoredOpening | None:
    try:
        return RestoredOpening(
            Symbol.parse(str(data["symbol"])),
            Venue(str(data["buy"])),
            Venue(str(data["sell"])),
            float(data["opened_at"]),  # type: ignore[arg-type]
            float(data["peak_edge_pct"]),  # type: ignore[arg-type]
        )
    except (KeyError, ValueError, TypeError):
        log.warning("opening_not_restored", entry=str(data)[:200])
        return None
