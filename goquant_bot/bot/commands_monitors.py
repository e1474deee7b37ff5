"""What arbitrage monitors and market views share: finding one, listing, stopping, pausing."""

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


def find(
    ctx: Deps, caller: Caller, token: str, kind: MonitorKind | None, example: str
) -> MonitorRecord:
    """The caller's monitor with that id (of ``kind``, or of any kind when None); refused when
    unknown, foreign or not theirs to change."""
    record = ctx.monitors.get(token)
    if record is None or kind not in (None, record.kind) or not ctx.can_see(record, caller):
        if kind is None:
            what, status = "monitor", "/status_arb or /status_market"
        else:
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
    *,
    pausing: bool = False,
) -> list[Reply]:
    """The chat's monitors of one kind with a stop button each (and pause or resume)."""
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
        + ((_pause_button(record),) if pausing else ())
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


PAUSE_EXAMPLE = "/pause ab12cd"
RESUME_EXAMPLE = "/resume ab12cd"


def _pause_button(record: MonitorRecord) -> Button:
    if record.paused:
        return Button("▶️ Resume", f"m:{record.id}:resume")
    return Button("⏸ Pause", f"m:{record.id}:pause")


def pause(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    """``/pause ID...``: stop running, keep everything (its books are released)."""
    records = _chosen(ctx, caller, args, PAUSE_EXAMPLE, "pause")
    return replies("\n".join(paused_text(ctx, r) for r in records))


def resume(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    """``/resume ID...``: run paused monitors again."""
    records = _chosen(ctx, caller, args, RESUME_EXAMPLE, "resume")
    return replies("\n".join(resumed_text(ctx, r) for r in records))


def paused_text(ctx: Deps, record: MonitorRecord) -> str:
    if record.paused:
        return f"⏸ <code>{esc(record.id)}</code> ({esc(record.subject)}) is paused already."
    ctx.monitors.pause(record.id)
    return (
        f"⏸ Paused <code>{esc(record.id)}</code> ({esc(record.subject)}): no alerts until "
        f"/resume {esc(record.id)}."
    )


def resumed_text(ctx: Deps, record: MonitorRecord) -> str:
    """Raises RejectedInput (kept paused) when it cannot run now."""
    if not record.paused:
        return f"▶️ <code>{esc(record.id)}</code> ({esc(record.subject)}) is not paused."
    resumed = ctx.monitors.resume(record.id)
    if resumed is not None and not resumed.runs:
        return (
            f"▶️ <code>{esc(record.id)}</code> is no longer paused; it runs again once this "
            "chat is active (/start)."
        )
    return f"▶️ Resumed <code>{esc(record.id)}</code> ({esc(record.subject)})."


def _chosen(
    ctx: Deps, caller: Caller, args: list[str], example: str, verb: str
) -> list[MonitorRecord]:
    if not args:
        msg = f"Which monitor should I {verb}? Give its id (see /status_arb or /status_market)."
        raise InputError(msg, example)
    if [a.lower() for a in args] == ["all"]:
        mine = [r for r in ctx.records(caller) if ctx.can_change(r, caller)]
        if not mine:
            msg = f"There is no monitor here that you can {verb}."
            raise InputError(msg, "/status_arb")
        return mine
    if len(args) > 10:
        msg = f"{verb.capitalize()} at most 10 at once (or use 'all')."
        raise InputError(msg, example)
    found = {r.id: r for r in (find(ctx, caller, token, None, example) for token in args)}
    return list(found.values())
