"""Alert texts for delivery, rendered at send time from the current state."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from goquant_bot.alerts.state import AlertSnapshot, Phase, ViewUpdate
from goquant_bot.bot.render import esc, fmt_pct, fmt_span
from goquant_bot.bot.render_events import (
    VenueDecimals,
    alert_buttons,
    render_event,
    render_open_opportunity,
)
from goquant_bot.bot.types import Button, Keyboard
from goquant_bot.domain.arbitrage import Conversion
from goquant_bot.domain.events import ArbClosed, ArbOpened
from goquant_bot.domain.users import ChatPrefs
from goquant_bot.engine.arb_records import OpenOpportunity

# Parts of a live message that change with the clock alone: ages in the venue table, the
# "updated" footer of a view, the "Open for" and "Monitor ... · time" lines of an open alert.
_VOLATILE = (
    re.compile(r" +\d+(?:\.\d+)?s(?=\n|</pre>)"),
    re.compile(r"· updated [^\n]*"),
    re.compile(r"^Open for [^\n]*$", re.MULTILINE),
    re.compile(r"^Monitors? <code>[^\n]*</code> · [^\n]*$", re.MULTILINE),
)
# A combined alert lists its monitors' buttons up to this many; beyond, the status list.
MAX_MONITOR_ROWS = 3


def stable_text(text: str) -> str:
    """The text without what only the clock changes: an edit is worth it only when this
    differs (a quiet live message costs no requests)."""
    for pattern in _VOLATILE:
        text = pattern.sub("", text)
    return text


def _quotes(conv: Conversion | None) -> tuple[str, str] | None:
    """Which legs' quotes an opportunity converts between (None for one quote)."""
    return None if conv is None else (conv.pay, conv.receive)


def conversion_line(conv: Conversion | None) -> str:
    """The live conversion an opportunity across quotes uses (empty for one quote)."""
    if conv is None:
        return ""
    return (
        f"\n💱 Bought in {esc(conv.pay)}, sold in {esc(conv.receive)}: converted at "
        f"{esc(conv.describe())} (its taker fee included); the profit is in {esc(conv.receive)}"
    )


class AlertRenderer:
    """``render(item, now)`` and ``buttons(items)`` as alert delivery calls them.

    An open opportunity shows the engine's current figures (not those of the moment it
    opened), so a delayed or edited alert is never stale. ``label`` heads every alert
    (``SIMULATED`` in demo mode).
    """

    def __init__(
        self,
        *,
        open_opportunities: Callable[[str], list[OpenOpportunity]],
        live_view: Callable[[str], str | None],
        prefs: Callable[[int], ChatPrefs],
        label: str = "",
        price_decimals: VenueDecimals | None = None,  # prices at the venues' tick sizes
    ) -> None:
        self.price_decimals = price_decimals
        self.open_opportunities = open_opportunities
        self.live_view = live_view
        self.prefs = prefs
        self.label = f"🧪 <b>{esc(label)}</b>\n" if label else ""

    def render(self, item: AlertSnapshot, now: float) -> str:
        body = self._body(item, now)
        if item.names != (item.event.monitor_id,):
            # A combined alert (or one whose event came from a monitor since removed).
            body = _name_monitors(body, item.names)
        return self.label + body

    def _body(self, item: AlertSnapshot, now: float) -> str:
        prefs = self.prefs(item.key.chat_id)
        event = item.event
        if item.phase is Phase.OPEN and isinstance(event, ArbOpened):
            current = self._current(event, item.open_monitors)
            return (
                render_open_opportunity(current, now, prefs, self.price_decimals)
                + conversion_line(current.conversion)
                if current
                else render_event(event, prefs, self.price_decimals)
                + conversion_line(event.conversion)
            )
        if item.phase is Phase.CLOSED_UNSEEN and isinstance(event, ArbClosed):
            return (
                f"⚪️ <b>{esc(event.symbol)}</b> {esc(event.buy_venue)} → {esc(event.sell_venue)}: "
                f"opened and closed within {fmt_span(event.duration_s)} "
                f"(peak {fmt_pct(event.peak_edge_pct)}) before it could be sent.\n"
                f"Monitor <code>{esc(event.monitor_id)}</code>"
            )
        if isinstance(event, ViewUpdate):
            text = self.live_view(event.monitor_id)
            if item.phase is Phase.VIEW_STOPPED or text is None:
                return f"⏹ Market view <code>{esc(event.monitor_id)}</code> stopped."
            return text
        return render_event(event, prefs, self.price_decimals)

    def _current(self, opened: ArbOpened, monitors: Sequence[str]) -> OpenOpportunity | None:
        """The current figures of the first monitor that still has the opportunity open."""
        wanted = (
            opened.symbol,
            opened.buy_venue,
            opened.sell_venue,
            _quotes(opened.conversion),
        )
        for monitor_id in monitors or (opened.monitor_id,):
            for opp in self.open_opportunities(monitor_id):
                if (opp.symbol, opp.buy_venue, opp.sell_venue, _quotes(opp.conversion)) == wanted:
                    return opp
        return None

    def buttons(self, items: Sequence[AlertSnapshot]) -> Keyboard:
        """Mute/stop buttons for a message about a single monitor; a combined alert (one
        opportunity of several monitors) gets a row per monitor, or the status list when
        there are more than ``MAX_MONITOR_ROWS``; a live market view (the one message
        /view_market sends) gets its stop and list buttons."""
        if len(items) == 1 and len(items[0].names) > 1:
            return combined_buttons(items[0].names)
        monitors = {name for item in items for name in item.names}
        if len(monitors) != 1:
            return ()
        monitor_id = next(iter(monitors))
        if any(isinstance(item.event, ViewUpdate) for item in items):
            if any(item.phase is Phase.VIEW_STOPPED for item in items):
                return ()
            return (
                (
                    Button("⏹ Stop", f"m:{monitor_id}:stop"),
                    Button("👁 My views", "c:status_market"),
                ),
            )
        return alert_buttons(monitor_id)


def combined_buttons(monitors: Sequence[str]) -> Keyboard:
    """Mute/stop per monitor of a combined alert: muting one keeps the others' alerts."""
    if len(monitors) > MAX_MONITOR_ROWS:
        return ((Button("📋 My monitors", "c:status_arb"),),)
    return tuple(
        (
            Button(f"🔕 Mute {monitor_id}", f"m:{monitor_id}:mute"),
            Button(f"⏹ Stop {monitor_id}", f"m:{monitor_id}:stop"),
        )
        for monitor_id in monitors
    )


def _name_monitors(text: str, monitors: Sequence[str]) -> str:
    """The "Monitor x" line of a single-monitor text, naming every monitor instead."""
    names = ", ".join(f"<code>{esc(m)}</code>" for m in monitors)
    head = "Monitors" if len(monitors) > 1 else "Monitor"
    return _MONITOR_LINE.sub(lambda _: f"{head} {names}", text, count=1)


_MONITOR_LINE = re.compile(r"^Monitor <code>[^<]*</code>", re.MULTILINE)
