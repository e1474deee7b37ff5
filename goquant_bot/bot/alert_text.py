"""Alert texts for delivery, rendered at send time from the current state."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from goquant_bot.alerts.state import AlertSnapshot, Phase, ViewUpdate
from goquant_bot.bot.render import (
    VenueDecimals,
    alert_buttons,
    esc,
    fmt_pct,
    fmt_span,
    render_event,
    render_open_opportunity,
)
from goquant_bot.bot.types import Button, Keyboard
from goquant_bot.domain.arbitrage import Conversion
from goquant_bot.domain.events import ArbClosed, ArbOpened
from goquant_bot.domain.users import ChatPrefs
from goquant_bot.engine.arbitrage import OpenOpportunity

# Parts of a live message that change with the clock alone: ages in the venue table, the
# "updated" footer of a view, the "Open for" and "Monitor ... · time" lines of an open alert.
_VOLATILE = (
    re.compile(r" +\d+(?:\.\d+)?s(?=\n|</pre>)"),
    re.compile(r"· updated [^\n]*"),
    re.compile(r"^Open for [^\n]*$", re.MULTILINE),
    re.compile(r"^Monitor <code>[^<]*</code> · [^\n]*$", re.MULTILINE),
)


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
        return self.label + self._body(item, now)

    def _body(self, item: AlertSnapshot, now: float) -> str:
        prefs = self.prefs(item.key.chat_id)
        event = item.event
        if item.phase is Phase.OPEN and isinstance(event, ArbOpened):
            current = self._current(event)
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

    def _current(self, opened: ArbOpened) -> OpenOpportunity | None:
        for opp in self.open_opportunities(opened.monitor_id):
            if (opp.symbol, opp.buy_venue, opp.sell_venue, _quotes(opp.conversion)) == (
                opened.symbol,
                opened.buy_venue,
                opened.sell_venue,
                _quotes(opened.conversion),
            ):
                return opp
        return None

    def buttons(self, items: Sequence[AlertSnapshot]) -> Keyboard:
        """Mute/stop buttons for a message about a single monitor; a live market view (the
        one message /view_market sends) gets its stop and list buttons."""
        monitors = {item.key.monitor_id for item in items}
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
