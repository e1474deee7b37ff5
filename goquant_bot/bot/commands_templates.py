"""Templates: a monitor's settings saved under a name and reused (/template, template=NAME)."""

from __future__ import annotations

import dataclasses
import re

from goquant_bot.bot import lifecycle
from goquant_bot.bot.commands_monitors import find, line
from goquant_bot.bot.context import Deps
from goquant_bot.bot.parsing import InputError, clip
from goquant_bot.bot.render import esc, replies
from goquant_bot.bot.render_tables import monitor_line
from goquant_bot.bot.types import Button, Caller, Reply
from goquant_bot.domain.monitors import ArbMonitor, MarketViewMonitor
from goquant_bot.monitors.records import MonitorKind, MonitorRecord

TEMPLATE_EXAMPLE = "/template save scalp ab12cd"
MAX_TEMPLATES = 20
_NAME = re.compile(r"^[a-z0-9_-]{1,20}$")


def template(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    """``/template`` (list), ``/template save NAME ID``, ``/template delete NAME``."""
    mine = ctx.store.templates.get(caller.user_id, {})
    if not args:
        if not mine:
            return replies(
                "No template yet. Save a monitor's settings with "
                f"<code>{esc(TEMPLATE_EXAMPLE)}</code>, then reuse them with "
                "<code>/monitor_arb template=scalp</code>."
            )
        lines = ["📑 <b>Your templates</b>"]
        lines += [f"<b>{esc(n)}</b>: {monitor_line(r, True, False)}" for n, r in mine.items()]
        lines.append("Reuse one with <code>/monitor_arb template=NAME</code>.")
        return replies("\n".join(lines))
    action = args[0].lower()
    if action == "save" and len(args) == 3:
        name = _name(args[1])
        record = find(ctx, caller, args[2], None, TEMPLATE_EXAMPLE)
        if name not in mine and len(mine) >= MAX_TEMPLATES:
            msg = f"You have {MAX_TEMPLATES} templates: delete one first (/template delete NAME)."
            raise InputError(msg, "/template delete scalp")
        ctx.store.templates.setdefault(caller.user_id, {})[name] = record
        return replies(
            f"📑 Saved <code>{esc(record.id)}</code>'s settings as <b>{esc(name)}</b>. "
            f"Reuse: <code>/{_command(record)} template={esc(name)}</code>"
        )
    if action == "delete" and len(args) == 2:
        name = _name(args[1])
        if mine.pop(name, None) is None:
            msg = f"No template named {clip(name)!r}: /template lists yours."
            raise InputError(msg, "/template")
        return replies(f"🗑 Template <b>{esc(name)}</b> deleted.")
    msg = "Write /template save NAME ID, /template delete NAME, or /template alone."
    raise InputError(msg, TEMPLATE_EXAMPLE)


def from_template(
    ctx: Deps, caller: Caller, name: str, kind: MonitorKind, *, edit: bool = False
) -> list[Reply]:
    """A new monitor in this chat with the settings saved under ``name``."""
    saved = ctx.store.templates.get(caller.user_id, {}).get(name.lower())
    if saved is None or saved.kind is not kind:
        msg = f"No template named {clip(name)!r} for this kind of monitor: /template lists yours."
        raise InputError(msg, "/template")
    lifecycle.check_limits(ctx, caller.user_id, kind)
    if isinstance(saved.monitor, MarketViewMonitor):
        _one_view_per_market(ctx, caller.chat_id, saved.monitor)
    monitor = dataclasses.replace(saved.monitor, id=ctx.new_monitor_id(), owner=caller.chat_id)
    if isinstance(monitor, ArbMonitor):  # what it follows comes from this chat's defaults
        if "fees" in saved.follows:
            chat_fees = lifecycle.chat_fees(ctx, caller.chat_id, monitor.venues)
            monitor = dataclasses.replace(monitor, fees_pct=chat_fees)
        if "size" in saved.follows:
            monitor = dataclasses.replace(
                monitor, notional=lifecycle.chat_size(ctx, caller.chat_id)
            )
    record = lifecycle.start(ctx, monitor, caller.user_id, saved.follows)
    mine = ctx.store.templates[caller.user_id]
    mine[name.lower()] = mine.pop(name.lower())  # the last one used comes last
    text = f"✅ Monitor <code>{esc(record.id)}</code> created from template <b>{esc(name)}</b>:\n"
    status = "c:status_arb" if kind is MonitorKind.ARB else "c:status_market"
    buttons = ((Button("⏹ Stop", f"m:{record.id}:stop"), Button("📋 My monitors", status)),)
    return replies(text + line(ctx, record), buttons, edit=edit)


def template_buttons(
    ctx: Deps, caller: Caller, prefix: str, kind: MonitorKind
) -> list[tuple[Button, ...]]:
    """Up to three of the user's templates of ``kind`` as buttons (``prefix:#NAME``)."""
    names = [n for n, r in ctx.store.templates.get(caller.user_id, {}).items() if r.kind is kind]
    chosen = [Button(f"📑 {n}", f"{prefix}:#{n}") for n in names[-3:]]
    return [tuple(chosen)] if chosen else []


def last_offer(ctx: Deps, caller: Caller) -> list[Reply]:
    """/start: reuse the template saved or used last, with one tap."""
    mine = ctx.store.templates.get(caller.user_id, {})
    if not mine:
        return []
    name, record = list(mine.items())[-1]
    text = (
        f"♻️ Reuse your last configuration <b>{esc(name)}</b>?\n{monitor_line(record, True, False)}"
    )
    return replies(text, ((Button(f"♻️ Reuse {name}", f"r:t:{name}"),),))


def _one_view_per_market(ctx: Deps, chat_id: int, view: MarketViewMonitor) -> None:
    """A chat has one live view of a symbol on a set of venues, as /view_market keeps it."""
    for record in ctx.monitors.of(chat_id=chat_id, kind=MonitorKind.VIEW):
        other = record.monitor
        if (
            isinstance(other, MarketViewMonitor)
            and other.symbol == view.symbol
            and set(other.venues) == set(view.venues)
        ):
            msg = (
                f"This chat already has a view of {view.symbol} on these venues: "
                f"{record.id}. Stop it first (/stop_market {record.id})."
            )
            raise InputError(msg, f"/stop_market {record.id}")


def _name(token: str) -> str:
    name = token.lower()
    if not _NAME.match(name):
        msg = f"{clip(token)!r} is not a template name: 1 to 20 letters, digits, - or _."
        raise InputError(msg, TEMPLATE_EXAMPLE)
    return name


def _command(record: MonitorRecord) -> str:
    return "monitor_arb" if record.kind is MonitorKind.ARB else "view_market"
