"""What arbitrage monitors and market views share: finding one, listing, stopping."""

from __future__ import annotations

from collections.abc import Callable

from goquant_bot.bot import lifecycle
from goquant_bot.bot.context import Deps
from goquant_bot.bot.parsing import InputError, clip
from goquant_bot.bot.render import esc, replies
from goquant_bot.bot.render_tables import monitor_line
from goquant_bot.bot.types import Button, Caller, Reply
from goquant_bot.monitors.records import MonitorKind, MonitorRecord

MAX_BUTTON_ROWS = 10
_NAMES = {
    MonitorKind.ARB: ("arbitrage monitor", "/stop_arb", "/monitor_arb", "c:monitor_arb"),
    MonitorKind.VIEW: ("market view", "/stop_market", "/view_market", "c:view_market"),
}


def find(ctx: Deps, caller: Caller, token: str, kind: MonitorKind, example: str) -> MonitorRecord:
    """The caller's monitor with that id; refused when unknown, foreign or not theirs to change."""
    record = ctx.monitors.get(token)
    if record is None or record.kind is not kind or not ctx.can_see(record, caller):
        what = _NAMES[kind][0]
        status = "/status_arb" if kind is MonitorKind.ARB else "/status_market"
        msg = f"No {what} of yours has the id {clip(token, 12)!r}: see the ids in {status}."
        raise InputError(msg, example)
    if not ctx.can_change(record, caller):
        msg = f"Only the member who created {record.id} (or an admin) can change it."
        raise InputError(msg, example)
    return record


def line(ctx: Deps, record: MonitorRecord) -> str:
    muted = record.id in ctx.store.prefs(record.chat_id).muted_monitors
    return monitor_line(record, ctx.monitors.running(record.id), muted)


def listing(
    ctx: Deps,
    caller: Caller,
    kind: MonitorKind,
    title: str,
    extra: Callable[[MonitorRecord], list[str]] = lambda r: [],
) -> list[Reply]:
    """The chat's monitors of one kind with a stop button each."""
    what, _, create, create_data = _NAMES[kind]
    records = ctx.records(caller, kind)
    if not records:
        text = f"{title}\nNo {what} yet. Create one with {create} (guided) or the one-line form."
        return replies(text, ((Button(f"🆕 New {what}", create_data),),))
    lines = [title]
    for record in records:
        lines.append(line(ctx, record))
        lines += extra(record)
    changeable = [r for r in records if ctx.can_change(r, caller)][:MAX_BUTTON_ROWS]
    rows = [
        (Button(f"⏹ Stop {record.id} {record.subject}"[:60], f"m:{record.id}:stop"),)
        for record in changeable
    ]
    rows.append((Button(f"🆕 New {what}", create_data),))
    return replies("\n".join(lines), tuple(rows))


def stop_command(ctx: Deps, caller: Caller, args: list[str], kind: MonitorKind) -> list[Reply]:
    what, command, _, _ = _NAMES[kind]
    example = f"{command} ab12cd"
    if not args:
        return listing(ctx, caller, kind, f"Which {what} should stop? Tap one, or {command} all.")
    if [a.lower() for a in args] == ["all"]:
        mine = [r for r in ctx.records(caller, kind) if ctx.can_change(r, caller)]
        for record in mine:
            lifecycle.stop(ctx, record)
        return replies(f"⏹ Stopped {len(mine)} {what}(s).")
    if len(args) > 10:
        msg = "Stop at most 10 at once (or use 'all')."
        raise InputError(msg, example)
    found = {r.id: r for r in (find(ctx, caller, token, kind, example) for token in args)}
    for record in found.values():
        lifecycle.stop(ctx, record)
    ids = ", ".join(f"<code>{esc(i)}</code>" for i in found)
    return replies(f"⏹ Stopped {ids}.")
