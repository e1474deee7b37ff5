"""Market-view commands: live view (one-line), stop, change, status, one-shot CBBO."""

from __future__ import annotations

import dataclasses

from goquant_bot.bot import lifecycle, ondemand
from goquant_bot.bot.availability import require_listings
from goquant_bot.bot.commands_arb import no_arguments
from goquant_bot.bot.commands_monitors import find, line, listing, stop_command
from goquant_bot.bot.context import Deps, PressResult, refuse
from goquant_bot.bot.forms import CROSSED_OPTIONS, parse_crossed, parse_figure, parse_view
from goquant_bot.bot.parsing import (
    CBBO_EXAMPLE,
    VIEW_EXAMPLE,
    InputError,
    ViewRequest,
    options,
    parse_duration,
    parse_integrity,
    parse_venues,
    resolve_symbol,
)
from goquant_bot.bot.render import esc, fmt_span, replies
from goquant_bot.bot.render_tables import PriceDecimals, cbbo_text, ranking_text
from goquant_bot.bot.types import Button, CallbackAnswer, Caller, Keyboard, Reply
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import MarketViewMonitor
from goquant_bot.errors import RejectedInput
from goquant_bot.monitors.records import MonitorKind, MonitorRecord

CONFIG_VIEW_EXAMPLE = "/config_market ef34gh every=10s move=0.1 crossed=2 crossed_for=5s"


def view_market(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    require_listings(ctx.directory, args, ctx.clock())
    req = parse_view(args, ctx.directory, ctx.config.venues, ctx.config.view_throttle_s)
    return create_view(ctx, caller, req)


def create_view(ctx: Deps, caller: Caller, req: ViewRequest, *, edit: bool = False) -> list[Reply]:
    """Start the view. Its live message (sent by delivery, with its buttons) is the one
    message the user gets: the command itself answers nothing, a guided flow's message is
    closed with one line."""
    same = _same_view(ctx, caller.chat_id, req)
    if same is not None:
        msg = (
            f"This chat already has that view: {same.id} ({same.subject}). Change it with "
            f"/config_market {same.id} ..., or stop it with /stop_market {same.id}."
        )
        raise InputError(msg, f"/config_market {same.id} crossed=2")
    lifecycle.check_limits(ctx, caller.user_id, MonitorKind.VIEW)
    lifecycle.check_tier(
        ctx, _counted(ctx, req.symbol, req.venues), req.min_integrity, 1, VIEW_EXAMPLE
    )
    monitor = lifecycle.view_monitor(
        caller, req, ctx.new_monitor_id(), ctx.config.view_alert_cooldown_s
    )
    record = lifecycle.start(ctx, monitor, caller.user_id)
    if not edit:
        return []
    where = ", ".join(esc(v) for v in req.venues) or "all venues"
    text = (
        f"✅ Market view <code>{esc(record.id)}</code> on {esc(req.symbol)} ({where}): "
        "the live message follows."
    )
    return replies(text, edit=True)


def _same_view(ctx: Deps, chat_id: int, req: ViewRequest) -> MonitorRecord | None:
    """The chat's view of the same symbol on the same venues (all venues is its own set)."""
    wanted = (str(req.symbol), frozenset(v.value for v in req.venues))
    for record in ctx.monitors.of(chat_id=chat_id, kind=MonitorKind.VIEW):
        spec = record.spec
        if (spec.get("symbol"), frozenset(spec.get("venues", ()))) == wanted:
            return record
    return None


def view_cadence(ctx: Deps, throttle_s: float) -> str:
    """How often a live view really changes, as alert delivery paces its edits."""
    cfg = ctx.config
    refresh = max(cfg.view_refresh_s, throttle_s)
    floor = min(cfg.edit_interval_s, refresh)
    return (
        "It is edited when the best bid or offer moves to another venue (each side at most "
        f"once every {fmt_span(throttle_s)}, edits at least {fmt_span(floor)} apart) and its "
        f"figures are refreshed every {fmt_span(refresh)}."
    )


def live_view_text(ctx: Deps, monitor: MarketViewMonitor) -> str:
    """The live message of a market view (delivery edits it in place with this text)."""
    cbbo = ctx.market_view.cbbo(
        monitor.symbol,
        monitor.venues or None,
        now=ctx.clock(),
        min_integrity=monitor.min_integrity,
    )
    prefs = ctx.store.prefs(monitor.owner)
    return cbbo_text(
        cbbo,
        prefs,
        live=True,
        monitor_id=monitor.id,
        decimals=ticks(ctx, monitor.symbol),
        note=view_cadence(ctx, monitor.cooldown_s),
    )


def ticks(ctx: Deps, symbol: Symbol) -> PriceDecimals:
    """Each venue's price decimals for this symbol (its tick size)."""
    return lambda venue: ctx.price_decimals(venue, symbol)


def stop_market(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    return stop_command(ctx, caller, args, MonitorKind.VIEW)


def status_market(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    no_arguments("status_market", args)
    return listing(ctx, caller, MonitorKind.VIEW, "👁 <b>Market views</b>", pausing=True)


def config_market(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    if not args:
        msg = "Give the view's id and what to change."
        raise InputError(msg, CONFIG_VIEW_EXAMPLE)
    record = find(ctx, caller, args[0], MonitorKind.VIEW, CONFIG_VIEW_EXAMPLE)
    opts = options(
        args[1:],
        ("every", "move", "spread", "dev", *CROSSED_OPTIONS, "integrity"),
        CONFIG_VIEW_EXAMPLE,
    )
    if not opts:
        msg = "Say what to change, e.g. every=10s."
        raise InputError(msg, CONFIG_VIEW_EXAMPLE)
    monitor = record.to_monitor()
    assert isinstance(monitor, MarketViewMonitor)
    changes: dict[str, object] = {}
    if "integrity" in opts:
        tier = changes["min_integrity"] = parse_integrity(
            opts["integrity"], f"/config_market {record.id} integrity=verified"
        )
        venues = _counted(ctx, monitor.symbol, monitor.venues)
        lifecycle.check_tier(ctx, venues, tier, 1, CONFIG_VIEW_EXAMPLE)
    if "crossed" in opts or "crossed_for" in opts:
        bps, seconds = parse_crossed(opts, monitor.crossed_min_bps, monitor.crossed_min_s)
        changes["crossed_min_bps"], changes["crossed_min_s"] = bps, seconds
    if "every" in opts:
        changes["cooldown_s"] = parse_duration(
            opts["every"], 1.0, 3600.0, "update interval", CONFIG_VIEW_EXAMPLE
        )
    for key, field in (
        ("move", "mid_move_pct"),
        ("spread", "spread_above_bps"),
        ("dev", "venue_deviation_bps"),
    ):
        if key in opts:
            off = opts[key].lower() == "off"
            changes[field] = (
                None if off else parse_figure(key, opts[key], CONFIG_VIEW_EXAMPLE, off=True)
            )
    updated = lifecycle.replace(ctx, record, dataclasses.replace(monitor, **changes))  # type: ignore[arg-type]
    return replies(f"✅ Changed:\n{line(ctx, updated)}")


def get_cbbo(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    if not args:
        text = f"Which symbol? Tap one or send e.g. <code>{esc(CBBO_EXAMPLE)}</code>"
        return replies(text, popular_buttons(ctx, "q"))
    require_listings(ctx.directory, args, ctx.clock())
    symbol = resolve_symbol(ctx.directory, args[0], lambda s: f"/get_cbbo {s}")
    venues: tuple[Venue, ...] | None = None
    if args[1:]:
        listed = ctx.directory.venues_listing(symbol)
        example = "/get_cbbo BTC-USDT binance okx"
        venues = parse_venues(args[1:], symbol, listed, ctx.config.venues, 1, example)
    keys = ondemand.book_keys(ctx, symbol, venues)

    def answer() -> list[Reply]:
        return _cbbo_reply(ctx, caller, symbol, venues)

    ask = ("cbbo", symbol, venues)
    return ondemand.answer_when_live(ctx, caller, ask, keys, answer, "table", trades=True)


def press_cbbo(ctx: Deps, caller: Caller, parts: list[str]) -> PressResult:
    """``q:<SYMBOL>``: the one-shot table of a popular symbol (or its Refresh button)."""
    if len(parts) != 1:
        return refuse()
    try:
        symbol = ctx.directory.resolve(parts[0])
    except (RejectedInput, ValueError):
        return refuse()
    keys = ondemand.book_keys(ctx, symbol, None)
    if ctx.ondemand.settled(keys):
        ctx.ondemand.touch(keys, trades=True)
        return CallbackAnswer(), _cbbo_reply(ctx, caller, symbol, None, edit=True)

    def answer() -> list[Reply]:
        return _cbbo_reply(ctx, caller, symbol, None)

    ask = ("cbbo", symbol, None)
    if not ctx.ondemand.wait(ask, caller.chat_id, keys, ctx.clock(), answer, trades=True):
        return refuse(ondemand.BUSY)
    return CallbackAnswer(f"{symbol}: subscribing, the table follows in a moment."), []


def _cbbo_reply(
    ctx: Deps,
    caller: Caller,
    symbol: Symbol,
    venues: tuple[Venue, ...] | None,
    *,
    edit: bool = False,
) -> list[Reply]:
    now = ctx.clock()
    cbbo = ctx.market_view.cbbo(symbol, venues, now=now)
    keys = ondemand.book_keys(ctx, symbol, venues)
    trades = {k.venue: t for k in keys if (t := ctx.ondemand.books.last_trade(k)) is not None}
    prefs = ctx.store.prefs(caller.chat_id)
    text = cbbo_text(cbbo, prefs, decimals=ticks(ctx, symbol), trades=trades)
    window = ctx.market_view.ranking_window_s
    since = ctx.market_view.ranking_since(symbol)
    covered = 0.0 if since is None else now - since
    if ranking := ranking_text(ctx.market_view.ranking(symbol, now), window, covered):
        text += "\n" + ranking
    return replies(text, ((Button("🔄 Refresh", f"q:{symbol}"),),), edit=edit)


def popular_buttons(ctx: Deps, prefix: str) -> Keyboard:
    """The configured popular symbols that some enabled venue lists, three per row."""
    known: list[str] = []
    for text in ctx.config.popular:
        try:
            symbol = Symbol.parse(text)
        except ValueError:
            continue
        if ctx.directory.venues_listing(symbol):
            known.append(str(symbol))
    buttons = [Button(s, f"{prefix}:{s}") for s in known]
    return tuple(tuple(buttons[i : i + 3]) for i in range(0, len(buttons), 3))


def _counted(ctx: Deps, symbol: Symbol, venues: tuple[Venue, ...]) -> tuple[Venue, ...]:
    """The venues a view may count: its own, or (all venues) the enabled ones listing it."""
    if venues:
        return venues
    listed = ctx.directory.venues_listing(symbol)
    return tuple(v for v in ctx.config.venues if v in listed)
