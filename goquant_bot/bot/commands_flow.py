"""The guided set-up with buttons: prompts per step, typed input, and ``f:`` presses."""

from __future__ import annotations

from goquant_bot.bot import commands_templates as templates
from goquant_bot.bot import lifecycle
from goquant_bot.bot.availability import require_listings
from goquant_bot.bot.commands_arb import create_arb, notional_for
from goquant_bot.bot.commands_market import create_view, popular_buttons, view_cadence
from goquant_bot.bot.context import Deps, PressResult
from goquant_bot.bot.flows import Flow, FlowError, FlowKind, Step, start
from goquant_bot.bot.parsing import (
    ArbRequest,
    InputError,
    ViewRequest,
    parse_profit,
    parse_threshold,
    parse_venues,
    resolve_symbol,
)
from goquant_bot.bot.render import error_text, esc, fmt_money, fmt_pct, replies
from goquant_bot.bot.types import Button, CallbackAnswer, Caller, Reply
from goquant_bot.domain.book import Integrity
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.monitors.records import MonitorKind

_TITLES = {FlowKind.ARB: "New arbitrage monitor", FlowKind.VIEW: "New market view"}
_COMMANDS = {FlowKind.ARB: "/monitor_arb", FlowKind.VIEW: "/view_market"}
ENDED = "This set-up is not yours, or it has ended."


def begin(ctx: Deps, caller: Caller, kind: FlowKind) -> list[Reply]:
    """Start (or restart) the caller's set-up in this chat."""
    monitor_kind = MonitorKind.ARB if kind is FlowKind.ARB else MonitorKind.VIEW
    lifecycle.check_limits(ctx, caller.user_id, monitor_kind)
    flow = start(kind, ctx.new_id(4), ctx.clock())
    ctx.store.flows[(caller.chat_id, caller.user_id)] = flow
    return prompt(ctx, caller, flow)


def prompt(
    ctx: Deps, caller: Caller, flow: Flow, *, edit: bool = False, note: str = ""
) -> list[Reply]:
    n, total = flow.position
    lines = [f"<b>{_TITLES[flow.kind]}</b> · step {n} of {total}"]
    if note:
        lines.append(note)
    back = Button("◀ Back", f"f:{flow.nonce}:{flow.step.value}:!back")
    cancel = Button("✖ Cancel", f"f:{flow.nonce}:{flow.step.value}:!x")
    rows: list[tuple[Button, ...]] = []
    symbol = esc(flow.symbol)
    if flow.step is Step.SYMBOL:
        lines.append("Pick an asset, or type a symbol such as <code>BTC-USDT</code>.")
        rows += popular_buttons(ctx, f"f:{flow.nonce}:s")
        kind = MonitorKind.ARB if flow.kind is FlowKind.ARB else MonitorKind.VIEW
        rows += templates.template_buttons(ctx, caller, f"f:{flow.nonce}:s", kind)
        rows.append((cancel,))
    elif flow.step is Step.VENUES:
        need = "at least two exchanges" if flow.min_venues == 2 else "one or more exchanges"
        lines.append(f"<b>{symbol}</b>: pick {need}, then Done. You can also type names.")
        pages = page_count(flow.listed)
        page = min(flow.page, pages - 1)
        shown = flow.listed[page * VENUES_PER_PAGE : (page + 1) * VENUES_PER_PAGE]
        toggles = [
            Button(("✅ " if v in flow.venues else "▫️ ") + v, f"f:{flow.nonce}:v:{v}")
            for v in shown
        ]
        rows += [tuple(toggles[i : i + 2]) for i in range(0, len(toggles), 2)]
        if pages > 1:
            lines.append(
                f"Selected: {esc(', '.join(flow.venues))}" if flow.venues else "Selected: none yet"
            )
            rows.append(_page_row(flow.nonce, page, pages))
        rows.append(
            (Button("All", f"f:{flow.nonce}:v:!all"), Button("Done ✔", f"f:{flow.nonce}:v:!done"))
        )
        rows.append((back, cancel))
    elif flow.step is Step.THRESHOLD:
        lines.append(
            f"<b>{symbol}</b> on {esc(', '.join(flow.venues))}: alert when the net edge after "
            "fees reaches… Tap a value or type one in percent (e.g. 0.25)."
        )
        cap = min(ctx.config.sanity_cap_pct, ctx.config.max_threshold_pct)
        choices = [
            Button(f"{t:.2f} %", f"f:{flow.nonce}:t:{t:g}")
            for t in ctx.config.threshold_choices
            if t <= cap
        ]
        rows += [tuple(choices[i : i + 3]) for i in range(0, len(choices), 3)]
        rows.append((back, cancel))
    else:
        lines.append(_summary(ctx, caller, flow))
        rows.append((Button("✅ Create", f"f:{flow.nonce}:c:!ok"),))
        if flow.kind is FlowKind.ARB:
            lines.append(
                "Optional: a floor on the net profit at your size (both must hold): tap one "
                "below or type e.g. <code>profit 5</code>."
            )
            rows.append(_profit_buttons(flow))
        rows.append(_tier_buttons(flow))
        rows.append((back, cancel))
    return replies("\n".join(lines), tuple(rows), edit=edit)


PROFIT_CHOICES = (5.0, 10.0, 25.0)
VENUES_PER_PAGE = 8  # exchange buttons per page (4 rows of 2), then ◀ n/m ▶


def page_count(listed: list[str]) -> int:
    return max(1, -(-len(listed) // VENUES_PER_PAGE))


def _page_row(nonce: str, page: int, pages: int) -> tuple[Button, ...]:
    """◀ n/m ▶ (no ◀ on the first page, no ▶ on the last); n/m redraws the page."""
    row = []
    if page > 0:
        row.append(Button("◀", f"f:{nonce}:v:!p{page - 1}"))
    row.append(Button(f"{page + 1}/{pages}", f"f:{nonce}:v:!p{page}"))
    if page < pages - 1:
        row.append(Button("▶", f"f:{nonce}:v:!p{page + 1}"))
    return tuple(row)


def _profit_buttons(flow: Flow) -> tuple[Button, ...]:
    """An optional floor on the net profit, besides the edge (both must hold)."""
    buttons = [
        Button(f"💰 profit ≥ {p:g}", f"f:{flow.nonce}:c:p{p:g}")
        for p in PROFIT_CHOICES
        if p != flow.min_profit
    ]
    if flow.min_profit is not None:
        buttons.append(Button("No profit floor", f"f:{flow.nonce}:c:p0"))
    return tuple(buttons)


# The tier buttons of the confirm step: label, and the tier it sets.
TIER_CHOICES = (
    ("✓ Verified books only", Integrity.VERIFIED),
    ("Verified and snapshot books", Integrity.SNAPSHOT),
    ("? Unverified too", Integrity.UNVERIFIED),
)


def _tier_buttons(flow: Flow) -> tuple[Button, ...]:
    """The other tiers the monitor could require (the default accepts verified and snapshot)."""
    return tuple(
        Button(label, f"f:{flow.nonce}:c:i{tier.value}")
        for label, tier in TIER_CHOICES
        if tier.value != flow.integrity
    )


def _tier_words(flow: Flow) -> str:
    """The summary's mention of a tier other than the default."""
    if flow.integrity == Integrity.VERIFIED.value:
        return " Verified books only."
    if flow.integrity == Integrity.UNVERIFIED.value:
        return " Unverified books too."
    return ""


def _summary(ctx: Deps, caller: Caller, flow: Flow) -> str:
    venues = esc(", ".join(flow.venues))
    if flow.kind is FlowKind.ARB:
        quote = esc(Symbol.parse(flow.symbol or "").quote) if flow.symbol else ""
        floor = (
            f" and a net profit ≥ {fmt_money(flow.min_profit)} {quote}"
            if flow.min_profit is not None
            else ""
        )
        return (
            f"Check and confirm: <b>{esc(flow.symbol)}</b> on {venues}, alert at "
            f"≥ {fmt_pct(flow.threshold)} net{floor}, size "
            f"{fmt_money(notional_for(ctx, caller))} (change the size with /config size)."
            + _tier_words(flow)
        )
    return (
        f"Check and confirm: live view of <b>{esc(flow.symbol)}</b> on {venues}. "
        + view_cadence(ctx, ctx.config.view_throttle_s)
        + _tier_words(flow)
    )


_PROFIT_WORDS = ("profit", "min_profit")


def text_input(ctx: Deps, caller: Caller, flow: Flow, text: str) -> list[Reply]:
    """Typed input at the current step; errors re-show the step with what was wrong."""
    now = ctx.clock()
    try:
        if flow.step is Step.SYMBOL:
            require_listings(ctx.directory, [text.strip()], now)
            symbol = resolve_symbol(ctx.directory, text.strip(), lambda s: s)
            flow.choose_symbol(str(symbol), _listed(ctx, caller, symbol), now)
        elif flow.step is Step.VENUES:
            symbol = Symbol.parse(flow.symbol or "")
            listed = [Venue(v) for v in flow.listed]
            tokens = text.split()
            venues = parse_venues(
                tokens, symbol, listed, ctx.config.venues, flow.min_venues, "binance okx"
            )
            flow.set_venues([v.value for v in venues], now)
        elif flow.step is Step.THRESHOLD:
            flow.set_threshold(_threshold(ctx, text.strip(), "0.3"), now)
        else:
            words = text.strip().lower().replace("=", " ").split()
            if flow.kind is FlowKind.ARB and len(words) == 2 and words[0] in _PROFIT_WORDS:
                flow.set_min_profit(parse_profit(words[1], "profit 5"), now)
                return prompt(ctx, caller, flow)
            if text.strip().lower() not in ("yes", "ok", "create"):
                return prompt(ctx, caller, flow, note="Tap ✅ Create to confirm, or /cancel.")
            return _finish(ctx, caller, flow, edit=False)
    except InputError as err:
        suggestions = tuple(Button(s, f"f:{flow.nonce}:s:{s}") for s in err.suggestions[:3])
        replies_ = prompt(ctx, caller, flow, note=error_text(err))
        if suggestions and flow.step is Step.SYMBOL:
            last = replies_[-1]
            replies_[-1] = Reply(last.text, (suggestions, *last.buttons), edit=last.edit)
        return replies_
    except FlowError as err:
        return prompt(ctx, caller, flow, note=f"⚠️ {esc(err)}")
    return prompt(ctx, caller, flow)


def press(ctx: Deps, caller: Caller, parts: list[str]) -> PressResult:
    """``f:<nonce>:<step>:<value>``: checked against the caller's own current flow."""
    if len(parts) != 3:
        return CallbackAnswer(ENDED, alert=True), []
    nonce, step, value = parts
    key = (caller.chat_id, caller.user_id)
    flow = ctx.store.flows.get(key)
    if flow is None or flow.nonce != nonce:
        return CallbackAnswer(ENDED, alert=True), []
    now = ctx.clock()
    if flow.expired(now, ctx.config.flow_timeout_s):
        del ctx.store.flows[key]
        again = _COMMANDS[flow.kind]
        text = f"⌛ This set-up timed out. Start again with {again}."
        return CallbackAnswer("Timed out"), replies(text, edit=True)
    if value == "!x":
        del ctx.store.flows[key]
        return CallbackAnswer("Cancelled"), replies("Set-up cancelled.", edit=True)
    try:
        if step != flow.step.value:
            msg = "That button belongs to another step: use the latest message."
            raise FlowError(msg)
        if value == "!back":
            flow.back(now)
        elif flow.step is Step.SYMBOL and value.startswith("#"):
            kind = MonitorKind.ARB if flow.kind is FlowKind.ARB else MonitorKind.VIEW
            created = templates.from_template(ctx, caller, value[1:], kind, edit=True)
            del ctx.store.flows[key]
            return CallbackAnswer("Created"), created
        elif flow.step is Step.SYMBOL:
            symbol = ctx.directory.resolve(value)
            flow.choose_symbol(str(symbol), _listed(ctx, caller, symbol), now)
        elif flow.step is Step.VENUES:
            if value.startswith("!p"):
                flow.set_page(int(value[2:]), page_count(flow.listed), now)
            elif value == "!all":
                flow.select_all(now)
            elif value == "!done":
                flow.venues_done(now)
            else:
                flow.toggle_venue(value, now)
        elif flow.step is Step.THRESHOLD:
            flow.set_threshold(_threshold(ctx, value, "0.3"), now)
        elif value == "!ok":
            return CallbackAnswer("Created"), _finish(ctx, caller, flow, edit=True)
        elif value.startswith("i") and value[1:] in {t.value for _, t in TIER_CHOICES}:
            flow.set_integrity(value[1:], now)
        elif value.startswith("p") and flow.kind is FlowKind.ARB:
            floor = float(value[1:])
            if floor not in (0.0, *PROFIT_CHOICES):
                raise FlowError(ENDED)
            flow.set_min_profit(floor or None, now)
        else:
            raise FlowError(ENDED)
    except (FlowError, InputError, ValueError) as err:
        problem = err.problem if isinstance(err, InputError) else str(err)
        return CallbackAnswer(problem[:190], alert=True), []
    return CallbackAnswer(), prompt(ctx, caller, flow, edit=True)


def _finish(ctx: Deps, caller: Caller, flow: Flow, *, edit: bool) -> list[Reply]:
    """Create the monitor; the flow ends only when that worked."""
    symbol = Symbol.parse(flow.symbol or "")
    venues = tuple(Venue(v) for v in flow.venues)
    if flow.kind is FlowKind.ARB:
        threshold = flow.threshold or ctx.config.default_threshold_pct
        req = ArbRequest(
            symbol,
            venues,
            threshold,
            notional_for(ctx, caller),
            min_profit=flow.min_profit,
            min_integrity=Integrity(flow.integrity),
        )
        out = create_arb(ctx, caller, req, edit=edit)
    else:
        everything = set(venues) == {Venue(v) for v in flow.listed}
        view = ViewRequest(
            symbol,
            () if everything else venues,
            ctx.config.view_throttle_s,
            min_integrity=Integrity(flow.integrity),
        )
        out = create_view(ctx, caller, view, edit=edit)
    ctx.store.flows.pop((caller.chat_id, caller.user_id), None)
    return out


def _threshold(ctx: Deps, text: str, example: str) -> float:
    cfg = ctx.config
    return parse_threshold(text, cfg.max_threshold_pct, example, sanity_cap_pct=cfg.sanity_cap_pct)


def _listed(ctx: Deps, caller: Caller, symbol: Symbol) -> list[str]:
    """The enabled venues listing ``symbol``: the user's last choice first, then the rest in
    display order."""
    listed = ctx.directory.venues_listing(symbol)
    offered = [v.value for v in ctx.config.venues if v in listed]
    last = [v for v in _last_choice(ctx, caller) if v in offered]
    return last + [v for v in offered if v not in last]


def _last_choice(ctx: Deps, caller: Caller) -> list[str]:
    """The venues of the user's most recent monitor, running or stopped (all: none)."""
    records = [
        *ctx.monitors.of(user_id=caller.user_id),
        *ctx.store.previous.get(caller.user_id, ()),
    ]
    if not records:
        return []
    latest = max(records, key=lambda r: r.created)
    return [v.value for v in latest.monitor.venues]
