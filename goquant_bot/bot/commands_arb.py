"""Arbitrage commands: create (one-line), stop, change, status, threshold, one-shot, stats."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from goquant_bot.bot import lifecycle, ondemand
from goquant_bot.bot.availability import left_out, require_listings
from goquant_bot.bot.commands_monitors import find, line, listing, stop_command
from goquant_bot.bot.context import Deps
from goquant_bot.bot.forms import INTEGRITY_EXAMPLE, check_conversions, parse_arb, parse_quotes
from goquant_bot.bot.parsing import (
    ArbRequest,
    InputError,
    check_polled_integrity,
    options,
    parse_duration,
    parse_integrity,
    parse_profit,
    parse_size,
    parse_threshold,
    resolve_symbol,
)
from goquant_bot.bot.render import esc, fmt_money, fmt_pct, fmt_span, replies
from goquant_bot.bot.render_tables import open_line, opportunities_text, stats_text
from goquant_bot.bot.types import Button, Caller, Reply
from goquant_bot.domain.book import Integrity
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor, FiringPolicy
from goquant_bot.monitors.records import MonitorKind, MonitorRecord
from goquant_bot.storage.export import to_csv

CONFIG_ARB_EXAMPLE = "/config_arb ab12cd threshold=0.4 size=5000"
THRESHOLD_EXAMPLE = "/threshold ab12cd 0.25"
TOP_OPPORTUNITIES = 8


def notional_for(ctx: Deps, caller: Caller) -> float:
    return lifecycle.chat_size(ctx, caller.chat_id)


def monitor_arb(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    """The one-line form (the guided flow starts when there are no arguments)."""
    cfg = ctx.config
    require_listings(ctx.directory, args, ctx.clock())
    req = parse_arb(
        args,
        ctx.directory,
        cfg.venues,
        default_threshold=cfg.default_threshold_pct,
        default_notional=notional_for(ctx, caller),
        max_threshold=cfg.max_threshold_pct,
        size_range=(cfg.min_notional, cfg.max_notional),
        sanity_cap_pct=cfg.sanity_cap_pct,
        max_symbols=cfg.max_symbols_per_monitor,
    )
    out = create_arb(ctx, caller, req)
    if note := left_out(ctx.directory, args, ctx.clock()):
        out += replies(note)
    return out


def create_arb(ctx: Deps, caller: Caller, req: ArbRequest, *, edit: bool = False) -> list[Reply]:
    lifecycle.check_limits(ctx, caller.user_id, MonitorKind.ARB)
    tier_note = lifecycle.check_tier(ctx, req.venues, req.min_integrity, 2, INTEGRITY_EXAMPLE)
    _check_conversion_tier(ctx, req.symbols, req.quotes, req.venues, req.min_integrity)
    monitor = lifecycle.arb_monitor(ctx, caller, req, ctx.new_monitor_id())
    record = lifecycle.start(ctx, monitor, caller.user_id, lifecycle.arb_follows(req))
    tier = ctx.arbitrage.tier_for(req.notional)
    lines = [
        f"✅ Arbitrage monitor <code>{esc(record.id)}</code> created",
        f"{', '.join(esc(s) for s in req.symbols)} on {', '.join(esc(v) for v in req.venues)}",
        f"Alert when {_condition(req.threshold_pct, req.min_profit, _quote_of(req))} "
        f"at {fmt_money(req.notional)} {_quote_of(req)} "
        f"(computed at the {fmt_money(tier)} size tier)",
    ]
    if req.quotes:
        lines.append(
            f"Also across {esc('~'.join(req.quotes))} quotes, converted at a live rate "
            "(the conversion book's side you would trade, with its fee)."
        )
    if req.min_duration_s:
        lines.append(f"Only after it lasts {fmt_span(req.min_duration_s)}.")
    if req.min_integrity is Integrity.VERIFIED:
        lines.append("Verified books only (✓: sequence numbers or checksums checked).")
    elif req.min_integrity is Integrity.UNVERIFIED:
        lines.append("Unverified books too (?: kept by a third-party library, our guards only).")
    if tier_note:
        lines.append(esc(tier_note))
    if req.once:
        lines.append("One alert only, then the monitor ends.")
    if ctx.arbitrage.open_opportunities(record.id):
        lines.append("🟢 An opportunity is open right now: its alert follows.")
    buttons = ((Button("⏹ Stop", f"m:{record.id}:stop"), Button("📋 My monitors", "c:status_arb")),)
    return replies("\n".join(lines), buttons, edit=edit)


def _condition(threshold: float | None, min_profit: float | None, quote: str) -> str:
    """What must hold for an alert: the net edge, the net profit, or both."""
    parts = []
    if threshold is not None:
        parts.append(f"the net edge after fees reaches <b>{fmt_pct(threshold)}</b>")
    if min_profit is not None:
        parts.append(f"the net profit reaches <b>{fmt_money(min_profit)} {quote}</b>")
    return " and ".join(parts)


def _quote_of(req: ArbRequest) -> str:
    quotes = {s.quote for s in req.symbols}
    return esc(req.symbol.quote) if len(quotes) == 1 else "(each pair's quote currency)"


def stop_arb(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    return stop_command(ctx, caller, args, MonitorKind.ARB)


def status_arb(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    no_arguments("status_arb", args)
    now = ctx.clock()

    def opened(record: MonitorRecord) -> list[str]:
        return [open_line(o, now) for o in ctx.arbitrage.open_opportunities(record.id)]

    return listing(
        ctx, caller, MonitorKind.ARB, "📋 <b>Arbitrage monitors</b>", opened, pausing=True
    )


def config_arb(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    if not args:
        msg = "Give the monitor's id and what to change."
        raise InputError(msg, CONFIG_ARB_EXAMPLE)
    record = find(ctx, caller, args[0], MonitorKind.ARB, CONFIG_ARB_EXAMPLE)
    opts = options(
        args[1:],
        ("threshold", "size", "min", "min_profit", "mode", "polled", "quotes", "integrity"),
        CONFIG_ARB_EXAMPLE,
    )
    if not opts:
        msg = "Say what to change, e.g. threshold=0.4."
        raise InputError(msg, CONFIG_ARB_EXAMPLE)
    monitor = _monitor_of(record)
    cfg = ctx.config
    changes: dict[str, object] = {}
    if "threshold" in opts:
        changes["min_edge_pct"] = parse_threshold(
            opts["threshold"],
            cfg.max_threshold_pct,
            CONFIG_ARB_EXAMPLE,
            sanity_cap_pct=cfg.sanity_cap_pct,
        )
    if "size" in opts:
        changes["notional"] = parse_size(
            opts["size"], cfg.min_notional, cfg.max_notional, CONFIG_ARB_EXAMPLE
        )
    if "min" in opts:
        changes["min_duration_s"] = parse_duration(
            opts["min"], 0.0, 3600.0, "minimum duration", CONFIG_ARB_EXAMPLE
        )
    if "min_profit" in opts:
        changes["min_profit"] = parse_profit(opts["min_profit"], "/config_arb ab12cd min_profit=5")
    if "mode" in opts:
        mode = opts["mode"].lower()
        if mode not in ("once", "each"):
            msg = "mode= is 'once' or 'each'."
            raise InputError(msg, "/config_arb ab12cd mode=once")
        changes["policy"] = FiringPolicy(mode)
    if "polled" in opts:
        polled = opts["polled"].lower()
        if polled not in ("on", "off"):
            msg = "polled= is 'on' or 'off'."
            raise InputError(msg, "/config_arb ab12cd polled=on")
        changes["allow_polled"] = polled == "on"
    quotes_now = monitor.quotes
    if "quotes" in opts:
        quotes = (
            ()
            if opts["quotes"].lower() == "none"
            else parse_quotes(opts["quotes"], monitor.symbols)
        )
        if quotes:
            check_conversions(ctx.directory, monitor.symbols, quotes, monitor.venues)
        changes["quotes"] = quotes_now = quotes
    tier, tier_note = monitor.min_integrity, ""
    if "integrity" in opts:
        tier = changes["min_integrity"] = parse_integrity(
            opts["integrity"], "/config_arb ab12cd integrity=verified"
        )
    check_polled_integrity(
        bool(changes.get("allow_polled", monitor.allow_polled)),
        tier,
        "/config_arb ab12cd integrity=snapshot polled=on",
    )
    if "integrity" in opts:
        tier_note = lifecycle.check_tier(ctx, monitor.venues, tier, 2, CONFIG_ARB_EXAMPLE)
    _check_conversion_tier(ctx, monitor.symbols, quotes_now, monitor.venues, tier)
    try:
        changed = dataclasses.replace(monitor, **changes)  # type: ignore[arg-type]
    except ValueError:  # the domain's own check: nothing left to alert on
        msg = "Keep a threshold or a minimum profit: a monitor needs one of them."
        raise InputError(msg, "/config_arb ab12cd min_profit=5") from None
    own = ["size"] if "notional" in changes else []
    updated = lifecycle.replace(ctx, record, changed, own=own)
    note = f"\n{esc(tier_note)}" if tier_note else ""
    return replies(f"✅ Changed:\n{line(ctx, updated)}{note}")


def _check_conversion_tier(
    ctx: Deps,
    symbols: Sequence[Symbol],
    quotes: Sequence[str],
    venues: Sequence[Venue],
    tier: Integrity,
) -> None:
    """Across quotes, a conversion book must be on an exchange whose books meet the
    monitor's tier too: refused when only weaker ones list one (it could never convert)."""
    weaker = {v for v, _ in lifecycle.below_tier(ctx, venues, tier)}
    if not quotes or not weaker:
        return
    try:
        check_conversions(ctx.directory, symbols, quotes, [v for v in venues if v not in weaker])
    except InputError:
        msg = (
            f"Only exchanges below integrity={tier.value} list a conversion book between "
            f"{'~'.join(quotes)}: this monitor could never convert. Accept a weaker tier "
            "(integrity=snapshot, or unverified) or add an exchange that lists one."
        )
        raise InputError(msg, INTEGRITY_EXAMPLE) from None


def threshold(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    records = [r for r in ctx.records(caller, MonitorKind.ARB) if ctx.can_change(r, caller)]
    if not args:
        lines = ["Thresholds of your arbitrage monitors:"] + [line(ctx, r) for r in records]
        lines.append(f"Change one with <code>{esc(THRESHOLD_EXAMPLE)}</code>")
        return replies("\n".join(lines) if records else "No arbitrage monitor yet: /monitor_arb")
    if len(args) == 1:
        if len(records) != 1:
            msg = "Which monitor? Give its id before the threshold."
            raise InputError(msg, THRESHOLD_EXAMPLE)
        record, value = records[0], args[0]
    elif len(args) == 2:
        record, value = find(ctx, caller, args[0], MonitorKind.ARB, THRESHOLD_EXAMPLE), args[1]
    else:
        msg = "Too many arguments: give an id and a threshold."
        raise InputError(msg, THRESHOLD_EXAMPLE)
    pct = parse_threshold(
        value,
        ctx.config.max_threshold_pct,
        THRESHOLD_EXAMPLE,
        sanity_cap_pct=ctx.config.sanity_cap_pct,
    )
    monitor = dataclasses.replace(_monitor_of(record), min_edge_pct=pct)
    updated = lifecycle.replace(ctx, record, monitor)
    return replies(f"✅ Threshold set to {fmt_pct(pct)}:\n{line(ctx, updated)}")


def arbitrage(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    """Best current opportunities, computed like the engine, at the chat's trade size."""
    if len(args) > 1:
        msg = "Give at most one symbol."
        raise InputError(msg, "/arbitrage BTC-USDT")
    if not args:
        symbols = sorted(set(ctx.arbitrage.symbols()) | set(ctx.market_view.symbols()))
        return _opportunities(ctx, caller, symbols)
    require_listings(ctx.directory, args, ctx.clock())
    symbol = resolve_symbol(ctx.directory, args[0], lambda s: f"/arbitrage {s}")
    keys = ondemand.book_keys(ctx, symbol, None)
    if len(keys) < 2:
        where = ", ".join(esc(k.venue) for k in keys) or "no enabled exchange"
        return replies(f"{esc(symbol)} is listed on {where} only: arbitrage needs two exchanges.")

    def answer() -> list[Reply]:
        return _opportunities(ctx, caller, [symbol])

    ask = ("arbitrage", symbol)
    return ondemand.answer_when_live(ctx, caller, ask, keys, answer, "list of opportunities")


def _opportunities(ctx: Deps, caller: Caller, symbols: list[Symbol]) -> list[Reply]:
    notional = notional_for(ctx, caller)
    names = {v.value for v in Venue}
    own = {Venue(v): f for v, f in ctx.store.prefs(caller.chat_id).fees_pct if v in names}
    quotes = ctx.quotes.quotes(symbols, notional, own, ctx.config.venues)
    top = quotes.found[:TOP_OPPORTUNITIES]
    text = opportunities_text(top, quotes.skipped, notional, len(symbols), ctx.price_decimals)
    if not symbols:
        text += (
            "\nNothing is streamed yet: start a monitor or name a symbol, e.g. /arbitrage BTC-USDT"
        )
    return replies(text)


def arb_stats(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    no_arguments("arb_stats", args)
    return replies(stats_text(ctx.stats.summary(caller.chat_id, ctx.clock())))


EXPORT_EXAMPLE = "/export 7d"
_SPANS = {"h": 3600.0, "d": 86_400.0}


def export_history(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    """``/export [24h|7d|all]``: the chat's closed opportunities as a CSV file."""
    if len(args) > 1:
        msg = "/export takes at most one argument: how far back."
        raise InputError(msg, EXPORT_EXAMPLE)
    since = 0.0
    if args and args[0].lower() != "all":
        span, unit = args[0][:-1], args[0][-1:].lower()
        if unit not in _SPANS or not span.isdigit() or not 0 < int(span) <= 10_000:
            msg = f"{args[0][:20]!r} is not a period: write e.g. 24h, 7d or all."
            raise InputError(msg, EXPORT_EXAMPLE)
        since = ctx.clock() - int(span) * _SPANS[unit]
    events = ctx.stats.closed(caller.chat_id, since)
    damaged = ctx.stats.skipped
    note = (
        f"\n⚠️ {damaged} damaged line{'' if damaged == 1 else 's'} of the history file could "
        "not be read at start-up and may be missing here."
        if damaged
        else ""
    )
    if not events:
        return replies("No closed opportunities to export yet for this chat." + note)
    content = to_csv(events).encode()
    text = f"📤 {len(events)} closed opportunit{'y' if len(events) == 1 else 'ies'} (newest last)."
    return [Reply(text + note, document=("opportunities.csv", content))]


def no_arguments(command: str, args: list[str]) -> None:
    if args:
        msg = f"/{command} takes no arguments."
        raise InputError(msg, f"/{command}")


def _monitor_of(record: MonitorRecord) -> ArbMonitor:
    monitor = record.to_monitor()
    assert isinstance(monitor, ArbMonitor)
    return monitor
