"""Creating, changing, pausing and restoring monitors: the registry and the store in step."""

from __future__ import annotations

import dataclasses

from goquant_bot.bot.context import Deps
from goquant_bot.bot.parsing import ArbRequest, ViewRequest
from goquant_bot.bot.types import Caller
from goquant_bot.bot.users import MonitorKind, MonitorRecord
from goquant_bot.domain.instruments import Venue
from goquant_bot.domain.monitors import ArbMonitor, FiringPolicy, MarketViewMonitor
from goquant_bot.errors import RejectedInput
from goquant_bot.logging import get_logger

log = get_logger(__name__)
Monitor = ArbMonitor | MarketViewMonitor


class LimitReached(RejectedInput):
    """A per-user or system-wide monitor limit; the message says how to free a slot."""


def check_limits(ctx: Deps, user_id: int, kind: MonitorKind, adding: int = 1) -> None:
    cfg = ctx.config
    mine = len(ctx.store.monitors_of(user_id=user_id, kind=kind))
    if kind is MonitorKind.ARB:
        limit, what, stop = cfg.max_arb_per_user, "arbitrage monitors", "/stop_arb"
    else:
        limit, what, stop = cfg.max_views_per_user, "market views", "/stop_market"
    if mine + adding > limit:
        msg = (
            f"You have {mine} of your {limit} {what} (the limit per user). "
            f"Stop one with {stop} to free a slot."
        )
        raise LimitReached(msg)
    total = max(len(ctx.registry.monitors), len(ctx.store.monitors))
    if total + adding > cfg.max_monitors_total:
        msg = (
            f"The bot runs its maximum of {cfg.max_monitors_total} monitors for all users. "
            "Stop one of yours with /stop_arb or /stop_market, or try again later."
        )
        raise LimitReached(msg)


def arb_monitor(ctx: Deps, caller: Caller, req: ArbRequest, monitor_id: str) -> ArbMonitor:
    prefs = ctx.store.prefs(caller.chat_id)
    names = {v.value for v in req.venues}
    fees = tuple((Venue(v), fee) for v, fee in prefs.fees_pct if v in names)
    return ArbMonitor(
        id=monitor_id,
        owner=caller.chat_id,
        symbols=(req.symbol,),
        venues=req.venues,
        min_edge_pct=req.threshold_pct,
        notional=req.notional,
        fees_pct=fees,
        min_duration_s=req.min_duration_s,
        allow_polled=req.allow_polled,
        policy=FiringPolicy.ONCE if req.once else FiringPolicy.EACH,
    )


def view_monitor(
    caller: Caller, req: ViewRequest, monitor_id: str, alert_cooldown_s: float = 300.0
) -> MarketViewMonitor:
    return MarketViewMonitor(
        id=monitor_id,
        owner=caller.chat_id,
        symbol=req.symbol,
        venues=req.venues,
        best_venue_change=True,
        mid_move_pct=req.mid_move_pct,
        spread_above_bps=req.spread_above_bps,
        venue_deviation_bps=req.venue_deviation_bps,
        cooldown_s=req.throttle_s,
        crossed_min_bps=req.crossed_min_bps,
        crossed_min_s=req.crossed_min_s,
        alert_cooldown_s=alert_cooldown_s,
    )


def start(ctx: Deps, monitor: Monitor, user_id: int) -> MonitorRecord:
    """Add to the registry (raises RejectedInput) and remember it; publish opened events."""
    _add(ctx, monitor)
    record = MonitorRecord.of(monitor, user_id, ctx.clock())
    ctx.store.add_monitor(record)
    log.info("monitor_created", monitor=monitor.id, kind=record.kind.value, chat_id=record.chat_id)
    return record


def stop(ctx: Deps, record: MonitorRecord) -> None:
    ctx.registry.remove(record.id)
    ctx.store.remove_monitor(record.id)
    log.info("monitor_stopped", monitor=record.id, chat_id=record.chat_id)


def replace(ctx: Deps, record: MonitorRecord, monitor: Monitor) -> MonitorRecord:
    """Change a monitor in place (same id); the old one keeps running on failure.

    Changed in the registry rather than removed and added again: an open opportunity stays
    open (its live alert keeps being edited), nothing is announced a second time.
    """
    if record.paused:  # its chat blocked the bot: change the definition, keep it paused
        updated = dataclasses.replace(
            MonitorRecord.of(monitor, record.user_id, record.created), paused=True
        )
        ctx.store.add_monitor(updated)
        return updated
    if record.id in ctx.registry.monitors:
        events = ctx.registry.replace(monitor)
        if events:
            ctx.publish(events)
    else:  # it could not be restored after a restart: the changed one may work
        _add(ctx, monitor)
    updated = MonitorRecord.of(monitor, record.user_id, record.created)
    ctx.store.add_monitor(updated)
    return updated


def pause_chat(ctx: Deps, chat_id: int) -> int:
    """The chat blocked or removed the bot: keep everything, stop running its monitors."""
    ctx.store.update_prefs(chat_id, active=False)
    paused = 0
    for record in ctx.store.monitors_of(chat_id=chat_id):
        if not record.paused:
            ctx.registry.remove(record.id)
            ctx.store.add_monitor(dataclasses.replace(record, paused=True))
            paused += 1
    return paused


def resume_chat(ctx: Deps, chat_id: int) -> tuple[int, list[str]]:
    """/start in an inactive chat: run its paused monitors again."""
    ctx.store.update_prefs(chat_id, active=True)
    resumed, problems = 0, []
    for record in ctx.store.monitors_of(chat_id=chat_id):
        if record.paused:
            problem = _run(ctx, dataclasses.replace(record, paused=False))
            if problem is None:
                resumed += 1
            else:
                problems.append(problem)
    return resumed, problems


def migrate_chat(ctx: Deps, old: int, new: int) -> None:
    """A group became a supergroup: its monitors now alert the new chat id."""
    for record in ctx.store.migrate_chat(old, new):
        ctx.registry.remove(record.id)
        if not record.paused:
            _run(ctx, record)


def restore_all(ctx: Deps) -> list[str]:
    """After a restart, or when a venue's listing arrives late: run every stored monitor that
    is not paused, widen running ones to the venues they missed; return the problems."""
    for monitor in list(ctx.registry.monitors.values()):
        if _wanted_venues(ctx, monitor) - ctx.registry.venues_of(monitor.id):
            events = ctx.registry.replace(monitor)  # same id: open opportunities stay open
            if events:
                ctx.publish(events)
            log.info("monitor_widened", monitor=monitor.id)
    problems = []
    for record in ctx.store.monitors_of():
        if not record.paused and record.id not in ctx.registry.monitors:
            problem = _run(ctx, record)
            if problem is not None:
                problems.append(problem)
    return problems


def _wanted_venues(ctx: Deps, monitor: Monitor) -> set[Venue]:
    symbols = monitor.symbols if isinstance(monitor, ArbMonitor) else (monitor.symbol,)
    return {
        venue
        for symbol in symbols
        for venue in ctx.directory.venues_listing(symbol)
        if not monitor.venues or venue in monitor.venues
    }


def _run(ctx: Deps, record: MonitorRecord) -> str | None:
    try:
        monitor = record.to_monitor()
    except (ValueError, KeyError, TypeError) as exc:
        # A definition that can never become a monitor (a damaged state entry): dropped.
        log.error("monitor_damaged_dropped", monitor=record.id, error=str(exc))
        ctx.store.monitors.pop(record.id, None)
        return f"{record.id}: damaged, dropped ({exc})"
    try:
        _add(ctx, monitor)
    except RejectedInput as exc:
        # Kept: it can run later (e.g. a venue's listing could not be loaded yet).
        log.warning("monitor_not_restored", monitor=record.id, error=str(exc))
        ctx.store.add_monitor(record)
        return f"{record.id}: {exc}"
    ctx.store.add_monitor(record)
    return None


def _add(ctx: Deps, monitor: Monitor) -> None:
    if isinstance(monitor, ArbMonitor):
        events = ctx.registry.add_arbitrage(monitor)
        if events:
            ctx.publish(events)
    else:
        ctx.registry.add_market_view(monitor)
