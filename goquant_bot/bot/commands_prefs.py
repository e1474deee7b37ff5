"""/alerts and /config: the chat's delivery controls and defaults, and the monitor buttons."""

from __future__ import annotations

from goquant_bot.bot import lifecycle
from goquant_bot.bot.commands_monitors import paused_text, resumed_text
from goquant_bot.bot.context import GROUP_SETTINGS, NOT_YOURS, Deps, PressResult, refuse
from goquant_bot.bot.numbers import FEE_STEP
from goquant_bot.bot.parsing import (
    InputError,
    check_step,
    clip,
    parse_duration,
    parse_hhmm,
    parse_size,
    parse_timezone,
    parse_venue,
    read_number,
)
from goquant_bot.bot.render import esc, fmt_span, fmt_time, replies
from goquant_bot.bot.render_tables import config_text
from goquant_bot.bot.types import Button, CallbackAnswer, Caller, Reply
from goquant_bot.domain.users import QuietHours
from goquant_bot.errors import RejectedInput

ALERTS_EXAMPLE = "/alerts snooze 2h"
CONFIG_EXAMPLE = "/config size 5000"
_SNOOZE_CHOICES = (3600, 8 * 3600)
_MAX_SNOOZE_S = 7 * 86400.0


# -- /alerts --------------------------------------------------------------------------------


def alerts(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    note = _alerts_action(ctx, caller, args) if args else ""
    return _alerts_view(ctx, caller, note=note)


def _alerts_action(ctx: Deps, caller: Caller, args: list[str]) -> str:
    """Apply an /alerts action; return what was done (shown above the chat's alert state)."""
    action, rest = args[0].lower(), args[1:]
    chat = caller.chat_id
    if action in ("mute", "unmute") and len(rest) <= 1:
        if not rest:
            _check_may_configure(ctx, caller, chat)
            return mute_all(ctx, chat) if action == "mute" else unmute_all(ctx, chat)
        record = ctx.monitors.get(rest[0])
        if record is None or not ctx.can_see(record, caller):
            raise InputError(NOT_YOURS + " See /status_arb for your ids.", "/alerts mute ab12cd")
        _check_may_configure(ctx, caller, record.chat_id)
        target = ctx.store.prefs(record.chat_id).muted_monitors
        changed = target | {record.id} if action == "mute" else target - {record.id}
        ctx.store.update_prefs(record.chat_id, muted_monitors=changed)
        was = record.id in target
        verb = "muted" if action == "mute" else "unmuted"
        already = " (it already was)" if was == (action == "mute") else ""
        return f"Monitor <code>{esc(record.id)}</code> {verb}{already}."
    if action == "snooze" and len(rest) == 1:
        seconds = parse_duration(rest[0], 60.0, _MAX_SNOOZE_S, "snooze", ALERTS_EXAMPLE)
        _check_may_configure(ctx, caller, chat)
        ctx.store.update_prefs(chat, snoozed_until=ctx.clock() + seconds)
        return f"💤 Snoozed for {fmt_span(seconds)}."
    if action == "unsnooze" and not rest:
        _check_may_configure(ctx, caller, chat)
        ctx.store.update_prefs(chat, snoozed_until=0.0)
        return "Snooze ended."
    else:
        msg = (
            f"I don't understand {clip(' '.join(args))!r}. Use: mute [id], unmute [id], "
            "snooze 2h, unsnooze."
        )
        raise InputError(msg, ALERTS_EXAMPLE)


def mute_all(ctx: Deps, chat_id: int) -> str:
    ctx.store.update_prefs(chat_id, muted=True)
    return "🔕 Every alert of this chat is muted: <code>/alerts unmute</code> to resume."


def unmute_all(ctx: Deps, chat_id: int) -> str:
    """The chat-wide mute and every monitor mute of this chat are lifted; say which."""
    prefs = ctx.store.prefs(chat_id)
    monitors = sorted(prefs.muted_monitors)
    ctx.store.update_prefs(chat_id, muted=False, muted_monitors=frozenset())
    done = []
    if prefs.muted:
        done.append("the chat-wide mute")
    if monitors:
        ids = ", ".join(f"<code>{esc(m)}</code>" for m in monitors)
        done.append(f"monitor{'s' if len(monitors) > 1 else ''} {ids}")
    if not done:
        return "🔔 Nothing was muted in this chat."
    return f"🔔 Unmuted everything: {' and '.join(done)}."


def _check_may_configure(ctx: Deps, caller: Caller, chat_id: int) -> None:
    if not ctx.may_configure(caller, chat_id):
        raise RejectedInput(GROUP_SETTINGS)


def _alerts_view(ctx: Deps, caller: Caller, *, edit: bool = False, note: str = "") -> list[Reply]:
    now = ctx.clock()
    prefs = ctx.store.prefs(caller.chat_id)
    snoozed = prefs.snoozed_until > now
    state = "🔕 muted" if prefs.muted else "on"
    if snoozed:
        state += f", 💤 snoozed until {fmt_time(prefs.snoozed_until, prefs, date=True)}"
    lines = [note] if note else []
    lines += ["🔔 <b>Alerts of this chat</b>", f"Delivery: {state}"]
    if prefs.muted_monitors:
        lines.append(
            "Muted monitors: "
            + ", ".join(f"<code>{esc(m)}</code>" for m in sorted(prefs.muted_monitors))
        )
    history = list(ctx.history(caller.chat_id))[:15]
    lines.append("<b>Recent alerts</b> (newest first):" if history else "No alert sent yet.")
    for item in history:
        detail = f" ({esc(clip(item.detail, 80))})" if item.detail else ""
        lines.append(
            f"• {fmt_time(item.ts, prefs)} <code>{esc(clip(item.monitor_id, 16))}</code> "
            f"{esc(clip(item.subject, 60))}: {esc(clip(item.outcome, 30))}{detail}"
        )
    lines.append("Commands: <code>/alerts mute ab12cd</code>, <code>/alerts snooze 2h</code>")
    mutes: list[Button] = []
    if prefs.muted or prefs.muted_monitors:
        mutes.append(Button("🔔 Unmute all", "a:unmute"))
    if not prefs.muted:
        mutes.append(Button("🔕 Mute all", "a:mute"))
    rows: list[tuple[Button, ...]] = [
        tuple(mutes),
        (Button("⏰ End snooze", "a:unsnz"),)
        if snoozed
        else tuple(Button(f"💤 {s // 3600} h", f"a:snz:{s}") for s in _SNOOZE_CHOICES),
    ]
    for record in ctx.records(caller)[:8]:
        muted = record.id in ctx.store.prefs(record.chat_id).muted_monitors
        label = f"{'🔔 Unmute' if muted else '🔕 Mute'} {record.id} {record.subject}"
        rows.append((Button(label[:60], f"m:{record.id}:{'unmute' if muted else 'mute'}"),))
    return replies("\n".join(lines), tuple(rows), edit=edit)


def press_alerts(ctx: Deps, caller: Caller, parts: list[str]) -> PressResult:
    chat = caller.chat_id
    if not ctx.may_configure(caller, chat):
        return refuse(GROUP_SETTINGS)
    note = ""
    if parts == ["mute"]:
        note = mute_all(ctx, chat)
        answer = "Alerts muted"
    elif parts == ["unmute"]:
        note = unmute_all(ctx, chat)
        answer = "Everything unmuted"
    elif parts == ["unsnz"]:
        ctx.store.update_prefs(chat, snoozed_until=0.0)
        answer = "Snooze ended"
    elif len(parts) == 2 and parts[0] == "snz" and parts[1].isdigit() and len(parts[1]) < 8:
        seconds = int(parts[1])
        if not 60 <= seconds <= _MAX_SNOOZE_S:
            return refuse()
        ctx.store.update_prefs(chat, snoozed_until=ctx.clock() + seconds)
        answer = f"Snoozed for {fmt_span(seconds)}"
    else:
        return refuse()
    return CallbackAnswer(answer), _alerts_view(ctx, caller, edit=True, note=note)


def press_monitor(ctx: Deps, caller: Caller, parts: list[str]) -> PressResult:
    """``m:<id>:stop|pause|resume|mute|unmute`` from lists and from alerts."""
    if len(parts) != 2 or parts[1] not in ("stop", "pause", "resume", "mute", "unmute"):
        return refuse()
    record = ctx.monitors.get(parts[0])
    if record is None or not ctx.can_see(record, caller):
        return refuse(NOT_YOURS)
    if parts[1] == "stop":
        if not ctx.can_change(record, caller):
            return refuse("Only the member who created this monitor (or an admin) can stop it.")
        lifecycle.stop(ctx, record)
        text = f"⏹ Monitor <code>{esc(record.id)}</code> ({esc(record.subject)}) stopped."
        return CallbackAnswer("Stopped"), replies(text)
    if parts[1] in ("pause", "resume"):
        if not ctx.can_change(record, caller):
            return refuse("Only the member who created this monitor (or an admin) can do that.")
        if parts[1] == "pause":
            return CallbackAnswer("Paused"), replies(paused_text(ctx, record))
        return CallbackAnswer("Resumed"), replies(resumed_text(ctx, record))
    if not ctx.may_configure(caller, record.chat_id):
        return refuse(GROUP_SETTINGS)
    muted = ctx.store.prefs(record.chat_id).muted_monitors
    muted = muted | {record.id} if parts[1] == "mute" else muted - {record.id}
    ctx.store.update_prefs(record.chat_id, muted_monitors=muted)
    return CallbackAnswer(f"{record.id} {'muted' if parts[1] == 'mute' else 'unmuted'}"), []


# -- /config --------------------------------------------------------------------------------


def config(ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
    changed = 0
    if args:
        _check_may_configure(ctx, caller, caller.chat_id)
        _config_action(ctx, caller, args[0].lower(), args[1:])
        if args[0].lower() in ("size", "fee"):
            changed = lifecycle.apply_defaults(ctx, caller.chat_id)
    out = _config_view(ctx, caller)
    if changed:
        out += replies(
            f"↻ Applied to {changed} arbitrage monitor(s) of this chat that use its defaults "
            "(those with their own size keep it; see /status_arb)."
        )
    return out


def _config_action(ctx: Deps, caller: Caller, key: str, values: list[str]) -> None:
    chat, cfg = caller.chat_id, ctx.config
    prefs = ctx.store.prefs(chat)
    examples = {
        "size": "/config size 5000",
        "fee": "/config fee okx 0.08",
        "quiet": "/config quiet 22:00 07:00 Europe/Paris",
        "silent": "/config silent on",
        "cooldown": "/config cooldown 60s",
        "cap": "/config cap 20",
    }
    if key not in examples:
        names = ", ".join(examples)
        msg = f"Unknown setting {clip(key)!r}. Settings: {names}."
        raise InputError(msg, CONFIG_EXAMPLE)
    example = examples[key]
    if not values:
        msg = f"{key} needs a value."
        raise InputError(msg, example)
    first = values[0].lower()
    if key == "size" and len(values) == 1:
        size = (
            None
            if first == "default"
            else parse_size(first, cfg.min_notional, cfg.max_notional, example)
        )
        ctx.store.update_prefs(chat, default_notional=size)
    elif key == "fee" and len(values) == 2:
        venue = parse_venue(values[0], cfg.venues, example)
        fees = {v: f for v, f in prefs.fees_pct if v != venue.value}
        if values[1].lower() != "default":
            text = values[1].removesuffix("%").strip()
            fee = read_number(text, "fee", example, " (a percentage, e.g. 0.08)")
            if not 0 <= fee < 10:
                msg = "The fee must be a percentage from 0 to below 10."
                raise InputError(msg, example)
            fees[venue.value] = check_step(fee, FEE_STEP, "fee", " %", example, text)
        ctx.store.update_prefs(chat, fees_pct=tuple(sorted(fees.items())))
    elif key == "quiet" and values == ["off"]:
        ctx.store.update_prefs(chat, quiet_hours=None)
    elif key == "quiet" and len(values) in (3, 4):
        start, end = parse_hhmm(values[0], example), parse_hhmm(values[1], example)
        zone = parse_timezone(values[2], example)
        if len(values) == 4 and values[3].lower() != "digest":
            msg = f"Unexpected {clip(values[3])!r}: only 'digest' may follow."
            raise InputError(msg, example)
        if start == end:
            msg = "Quiet hours need different start and end times."
            raise InputError(msg, example)
        quiet = QuietHours(start, end, zone, digest=len(values) == 4)
        ctx.store.update_prefs(chat, quiet_hours=quiet)
    elif key == "silent" and len(values) == 1 and first in ("on", "off"):
        ctx.store.update_prefs(chat, silent=first == "on")
    elif key == "cooldown" and len(values) == 1:
        seconds = (
            0.0 if first == "off" else parse_duration(first, 0.0, 86400.0, "cooldown", example)
        )
        ctx.store.update_prefs(chat, cooldown_s=seconds)
    elif key == "cap" and len(values) == 1:
        cap = 0 if first in ("off", "0") else read_number(first, "hourly cap", example)
        if cap != int(cap) or not 0 <= cap <= 1000:
            msg = "The hourly cap must be a whole number from 1 to 1000, or off."
            raise InputError(msg, example)
        ctx.store.update_prefs(chat, hourly_cap=int(cap))
    else:
        msg = f"Wrong values for {key}."
        raise InputError(msg, example)


def _config_view(ctx: Deps, caller: Caller, *, edit: bool = False) -> list[Reply]:
    prefs = ctx.store.prefs(caller.chat_id)
    fees = {v: ctx.quotes.default_fees().get(v, 0.0) for v in ctx.config.venues}
    text = config_text(prefs, ctx.config.default_notional, fees)
    rows: list[tuple[Button, ...]] = [
        (
            Button(
                f"🔈 Silent: {'on' if prefs.silent else 'off'}",
                f"g:silent:{'off' if prefs.silent else 'on'}",
            ),
        )
    ]
    if prefs.quiet_hours is not None:
        digest = prefs.quiet_hours.digest
        rows.append(
            (
                Button("🌙 Quiet hours off", "g:quiet:off"),
                Button(
                    f"Digest: {'on' if digest else 'off'}", f"g:digest:{'off' if digest else 'on'}"
                ),
            )
        )
    return replies(text, tuple(rows), edit=edit)


def press_config(ctx: Deps, caller: Caller, parts: list[str]) -> PressResult:
    chat = caller.chat_id
    if not ctx.may_configure(caller, chat):
        return refuse(GROUP_SETTINGS)
    prefs = ctx.store.prefs(chat)
    if len(parts) != 2:
        return refuse()
    key, value = parts
    if key == "silent" and value in ("on", "off"):
        ctx.store.update_prefs(chat, silent=value == "on")
    elif key == "quiet" and value == "off":
        ctx.store.update_prefs(chat, quiet_hours=None)
    elif key == "digest" and value in ("on", "off") and prefs.quiet_hours is not None:
        quiet = QuietHours(
            prefs.quiet_hours.start,
            prefs.quiet_hours.end,
            prefs.quiet_hours.timezone,
            value == "on",
        )
        ctx.store.update_prefs(chat, quiet_hours=quiet)
    else:
        return refuse()
    return CallbackAnswer("Saved"), _config_view(ctx, caller, edit=True)
