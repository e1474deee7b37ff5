"""General commands: /start, /help, /menu, /status, /list_symbols, /cancel, /admin."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter

from goquant_bot.bot import commands_templates as templates
from goquant_bot.bot import lifecycle
from goquant_bot.bot.availability import unreachable_lines, unreachable_text
from goquant_bot.bot.commands_arb import no_arguments
from goquant_bot.bot.commands_monitors import line
from goquant_bot.bot.context import Deps, PressResult, refuse
from goquant_bot.bot.parsing import InputError, clip, parse_filter, parse_venue
from goquant_bot.bot.render import (
    COMMANDS,
    esc,
    fmt_span,
    help_text,
    menu_keyboard,
    replies,
)
from goquant_bot.bot.render_tables import monitor_line, symbols_page_text, venue_health_lines
from goquant_bot.bot.types import Button, CallbackAnswer, Caller, Reply
from goquant_bot.domain.instruments import Venue
from goquant_bot.errors import RejectedInput
from goquant_bot.monitors.records import MonitorKind

LIST_EXAMPLE = "/list_symbols okx BTC"
_ADMIN_USERS_SHOWN = 30


def start(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    """Greets, registers, reactivates a blocked chat, offers to reuse a previous set-up.

    Arguments (a t.me deep-link payload) are ignored."""
    now = ctx.clock()
    new = ctx.store.register(caller, now)
    prefs = ctx.store.prefs(caller.chat_id)
    name = esc(clip(caller.first_name.strip() or "there", 64))
    if not prefs.active:
        ctx.store.update_prefs(caller.chat_id, active=True)
        resumed, problems = ctx.monitors.unblock_chat(caller.chat_id)
        greeting = f"👋 Welcome back, {name}! Alerts to this chat are on again"
        greeting += f"; {resumed} monitor(s) resumed." if resumed else "."
        if problems:
            greeting += f"\n⚠️ {len(problems)} monitor(s) could not restart: see /status."
    elif new:
        greeting = (
            f"👋 Hello, {name}! I watch the order books of {esc(_venue_names(ctx))} and alert "
            "you to cross-exchange arbitrage and changes of the best bid and offer."
        )
    else:
        greeting = f"👋 Hello again, {name}!"
    out = replies(greeting + "\n\nPick an action below, or send /help.", menu_keyboard())
    previous = ctx.store.previous.get(caller.user_id, [])
    if previous and not ctx.monitors.of(user_id=caller.user_id):
        lines = [f"You had {len(previous)} monitor(s) before:"]
        lines += [monitor_line(r, True, False) for r in previous[-10:]]
        lines.append("Set them up again in this chat?")
        buttons = ((Button("♻️ Restore them", "r:yes"), Button("No thanks", "r:no")),)
        out += replies("\n".join(lines), buttons)
    return out + templates.last_offer(ctx, caller)


def press_restore(ctx: Deps, caller: Caller, parts: list[str]) -> PressResult:
    if parts == ["no"]:
        return CallbackAnswer("OK"), replies("Fine: start fresh with /menu.", edit=True)
    if len(parts) == 2 and parts[0] == "t":
        saved = ctx.store.templates.get(caller.user_id, {}).get(parts[1])
        if saved is None:
            return refuse()
        return CallbackAnswer("Created"), templates.from_template(ctx, caller, parts[1], saved.kind)
    if parts != ["yes"]:
        return refuse()
    previous = ctx.store.previous.get(caller.user_id, [])
    if not previous:
        return CallbackAnswer("Nothing to restore", alert=True), []
    restored, problems = [], []
    for record in list(previous[-10:]):
        kind = record.kind
        try:
            lifecycle.check_limits(ctx, caller.user_id, kind)
            monitor_id = ctx.new_monitor_id()
            again = dataclasses.replace(record.monitor, id=monitor_id, owner=caller.chat_id)
            lifecycle.start(ctx, again, caller.user_id, record.follows)
        except (RejectedInput, ValueError, KeyError) as exc:
            problems.append(f"• {esc(record.id)}: {esc(clip(str(exc), 200))}")
            continue
        previous.remove(record)
        restored.append(monitor_id)
    text = f"♻️ Restored {len(restored)} monitor(s)."
    if problems:
        text += "\nNot restored:\n" + "\n".join(problems)
    return CallbackAnswer("Restored"), replies(text + "\nSee /status.", edit=True)


def help_(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    if not args:
        return replies(help_text(ctx.is_admin(caller)))
    wanted = args[0].lower().lstrip("/")
    for command, description, example in COMMANDS:
        if command == wanted and len(args) == 1:
            return replies(f"/{command} · {esc(description)}\ne.g. <code>{esc(example)}</code>")
    msg = f"No command {clip(args[0])!r}: /help lists them all."
    raise InputError(msg, "/help monitor_arb")


def menu(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    no_arguments("menu", args)
    return replies("What would you like to do?", menu_keyboard())


def status(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    no_arguments("status", args)
    now = ctx.clock()
    lines = ["🩺 <b>Status</b>", "<b>Venues</b>"]
    lines += venue_health_lines(list(ctx.hub.health()))
    lines += unreachable_lines(ctx.directory.unreachable(), now)
    records = ctx.records(caller)
    kinds = Counter(r.kind for r in records)
    lines.append(
        f"<b>Monitors here</b>: {kinds[MonitorKind.ARB]} arbitrage, "
        f"{kinds[MonitorKind.VIEW]} market view(s)"
    )
    lines += [line(ctx, r) for r in records[:30]]
    prefs = ctx.store.prefs(caller.chat_id)
    if prefs.muted:
        lines.append("🔕 Alerts are muted: /alerts")
    elif prefs.snoozed_until > now:
        lines.append(f"💤 Snoozed for {fmt_span(prefs.snoozed_until - now)}: /alerts")
    lines.append(f"Up for {fmt_span(now - ctx.started)}.")
    return replies("\n".join(lines))


def list_symbols(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    if len(args) > 2:
        msg = "Too many arguments: an exchange and a filter at most."
        raise InputError(msg, LIST_EXAMPLE)
    venue: Venue | None = None
    rest = list(args)
    if rest and rest[0].lower() in {v.value for v in Venue} | {"okex"}:
        venue = parse_venue(rest.pop(0), ctx.config.venues, LIST_EXAMPLE)
    elif len(rest) == 2:
        venue = parse_venue(rest[0], ctx.config.venues, LIST_EXAMPLE)
    pattern = parse_filter(rest[0], LIST_EXAMPLE) if rest else ""
    return _symbols_page(ctx, venue, pattern, 0, edit=False)


def press_symbols(ctx: Deps, caller: Caller, parts: list[str]) -> PressResult:
    """``l:<page>:<venue or ->:<filter>``."""
    if len(parts) != 3 or not parts[0].isdigit() or len(parts[0]) > 5:
        return refuse()
    page, venue_text, pattern = int(parts[0]), parts[1], parts[2]
    try:
        venue = None if venue_text == "-" else parse_venue(venue_text, ctx.config.venues, "")
        pattern = parse_filter(pattern, "") if pattern else ""
    except InputError:
        return refuse()
    return CallbackAnswer(), _symbols_page(ctx, venue, pattern, page, edit=True)


def _symbols_page(
    ctx: Deps, venue: Venue | None, pattern: str, page: int, *, edit: bool
) -> list[Reply]:
    now = ctx.clock()
    missing = ctx.directory.unreachable()
    if venue is not None and venue in missing:
        text = (
            f"⚠️ {esc(unreachable_text(venue, missing[venue], now))}: its symbols are listed "
            "here once it answers. Saved monitors on it start by themselves then."
        )
        return replies(text, edit=edit)
    symbols = [
        s
        for s in ctx.directory.all_symbols()
        if pattern in str(s) and (venue is None or venue in ctx.directory.venues_listing(s))
    ]
    size = ctx.config.page_size
    pages = max(1, math.ceil(len(symbols) / size))
    page = min(page, pages - 1)
    shown = symbols[page * size : (page + 1) * size]
    text = symbols_page_text(shown, venue, pattern, page, pages, len(symbols))
    if venue is None and missing:
        text += "\n" + "\n".join(unreachable_lines(missing, now))
    where = venue.value if venue else "-"
    nav = []
    if page > 0:
        nav.append(Button("◀ Previous", f"l:{page - 1}:{where}:{pattern}"))
    if page < pages - 1:
        nav.append(Button("Next ▶", f"l:{page + 1}:{where}:{pattern}"))
    return replies(text, (tuple(nav),) if nav else (), edit=edit)


def cancel(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    no_arguments("cancel", args)
    flow = ctx.store.flows.pop((caller.chat_id, caller.user_id), None)
    return replies("Set-up cancelled." if flow else "Nothing to cancel.")


def admin(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    if not ctx.is_admin(caller):
        return replies("⛔ /admin is for the operators of this bot.")
    no_arguments("admin", args)
    store = ctx.store
    chats = list(store.chats.values())
    inactive = sum(1 for p in chats if not p.active)
    records = ctx.monitors.of()
    kinds = Counter(r.kind for r in records)
    paused = sum(1 for r in records if not r.runs)
    lines = [
        "🛠 <b>Admin</b>",
        f"Users: {len(store.users)} · chats: {len(chats)} ({inactive} inactive) · "
        f"set-ups in progress: {len(store.flows)}",
        f"Monitors: {kinds[MonitorKind.ARB]} arbitrage, {kinds[MonitorKind.VIEW]} market views "
        f"({paused} paused) · running in the engine: {ctx.monitors.running_count()} of at most "
        f"{ctx.config.max_monitors_total}",
        "<b>Venues</b>",
        *venue_health_lines(list(ctx.hub.health())),
        *unreachable_lines(ctx.directory.unreachable(), ctx.clock()),
        "<b>Users by monitors</b>",
    ]
    per_user = Counter(r.user_id for r in records)
    for user in sorted(store.users.values(), key=lambda u: -per_user[u.user_id])[
        :_ADMIN_USERS_SHOWN
    ]:
        handle = f" @{esc(clip(user.username, 32))}" if user.username else ""
        lines.append(
            f"• <code>{user.user_id}</code> {esc(clip(user.first_name, 32))}{handle}: "
            f"{per_user[user.user_id]} monitor(s)"
        )
    return replies("\n".join(lines))


def _venue_names(ctx: Deps) -> str:
    names = [v.value for v in ctx.config.venues] or ["no venue"]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
