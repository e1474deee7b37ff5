"""HTML texts: formatting helpers, help and menu, errors, and the alert texts delivery sends.

Every dynamic value goes through ``esc``; messages are split under Telegram's 4096 characters.
"""

from __future__ import annotations

import html
import math
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from goquant_bot.bot.parsing import InputError
from goquant_bot.bot.types import Button, Keyboard, Reply
from goquant_bot.domain.events import ArbClosed, ArbOpened, Event, MarketViewSignal
from goquant_bot.domain.users import ChatPrefs
from goquant_bot.engine.arbitrage import OpenOpportunity

MESSAGE_LIMIT = 4000  # under Telegram's 4096, counted before entities are parsed

# (command, menu description, example): the order of /help and of the command menu.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("start", "Register and show the menu", "/start"),
    ("help", "Every command with an example", "/help"),
    ("menu", "Buttons to everything", "/menu"),
    ("status", "Venues, your monitors, uptime", "/status"),
    ("list_symbols", "Symbols per exchange (paged)", "/list_symbols okx BTC"),
    ("alerts", "Recent alerts; mute, snooze", "/alerts snooze 2h"),
    ("config", "Your defaults: size, fees, quiet hours", "/config quiet 22:00 07:00 Europe/Paris"),
    ("monitor_arb", "New arbitrage monitor", "/monitor_arb BTC-USDT binance okx 0.3"),
    ("stop_arb", "Stop an arbitrage monitor", "/stop_arb all"),
    ("config_arb", "Change an arbitrage monitor", "/config_arb ab12cd size=5000 min=10s"),
    ("status_arb", "Your arbitrage monitors and open edges", "/status_arb"),
    ("threshold", "Change a monitor's threshold", "/threshold ab12cd 0.25"),
    ("arbitrage", "Best opportunities right now", "/arbitrage BTC-USDT"),
    ("arb_stats", "Statistics of past opportunities", "/arb_stats"),
    ("export", "Your closed opportunities as a CSV file", "/export 7d"),
    ("view_market", "Live consolidated market (CBBO)", "/view_market BTC-USDT binance okx"),
    ("stop_market", "Stop a market view", "/stop_market all"),
    ("get_cbbo", "Consolidated best bid/offer now", "/get_cbbo ETH-USDT"),
    ("config_market", "Change a market view", "/config_market ef34gh every=10s move=0.1"),
    ("status_market", "Your market views", "/status_market"),
    ("cancel", "Cancel the current set-up", "/cancel"),
)
_CLOSE_REASONS = {
    "below_threshold": "the edge fell below the threshold",
    "not_live": "a book stopped being live (stale or resyncing)",
    "skew": "the two books' updates drifted apart in time",
    "crossed": "a book is crossed (bad data)",
    "no_liquidity": "a side of a book emptied",
    "suspect": "the edge became implausible (likely bad data)",
    "quote_mismatch": "the quote assets differ",
}


def esc(value: object) -> str:
    return html.escape(str(value), quote=False)


def fmt_price(value: float | None) -> str:
    if value is None:
        return "—"
    size = abs(value)
    if size >= 1000:
        return f"{value:,.2f}"
    if size >= 1:
        return f"{value:,.4f}"
    return f"{value:.6g}"


def fmt_qty(value: float | None) -> str:
    return "—" if value is None else f"{value:,.6g}"


def fmt_money(value: float) -> str:
    if not math.isfinite(value) or abs(value) >= 1e12:
        return f"{value:.3g}"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def fmt_profit(value: float) -> str:
    return f"{value:,.2f}" if math.isfinite(value) and abs(value) < 1e12 else f"{value:.3g}"


def fmt_pct(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f} %"


def fmt_span(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min {seconds % 60:.0f} s"
    if seconds < 86400:
        return f"{seconds // 3600:.0f} h {seconds % 3600 // 60:.0f} min"
    return f"{seconds // 86400:.0f} d {seconds % 86400 // 3600:.0f} h"


def zone_of(prefs: ChatPrefs | None) -> tzinfo:
    name = prefs.quiet_hours.timezone if prefs and prefs.quiet_hours else "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


def fmt_time(ts: float, prefs: ChatPrefs | None = None, *, date: bool = False) -> str:
    zone = zone_of(prefs)
    moment = datetime.fromtimestamp(ts, tz=zone)
    label = moment.tzname() or "UTC"
    return moment.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S") + f" {label}"


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` characters, cut between lines (lines are self-contained)."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # never happens with clipped values; kept as a safety net
            cut = limit
            amp = line.rfind("&", limit - 8, limit)
            if amp > 0 and ";" not in line[amp:limit]:
                cut = amp  # do not split an entity
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:]
        if current and len(current) + 1 + len(line) > limit:
            pieces.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current or not pieces:
        pieces.append(current)
    return pieces


def replies(text: str, buttons: Keyboard = (), *, edit: bool = False) -> list[Reply]:
    """One reply, or several when the text is too long: buttons on the last, edit the first."""
    parts = split_message(text)
    last = len(parts) - 1
    return [
        Reply(part, buttons if i == last else (), edit=edit and i == 0)
        for i, part in enumerate(parts)
    ]


def error_text(err: InputError) -> str:
    text = f"⚠️ {esc(err.problem)}"
    if err.example:
        text += f"\nExample: <code>{esc(err.example)}</code>"
    return text


def help_text(is_admin: bool = False) -> str:
    lines = ["<b>GoQuant Bot</b>: cross-exchange arbitrage and market-view alerts.", ""]
    for command, description, example in COMMANDS:
        lines.append(f"/{command} · {esc(description)}\n   e.g. <code>{esc(example)}</code>")
    if is_admin:
        lines.append("/admin · users, monitors and venue health")
    lines += [
        "",
        "Without arguments, /monitor_arb and /view_market guide you with buttons.",
        "Venues: binance, okx, bybit, deribit, or <code>all</code>. "
        "Thresholds are net edges in percent after taker fees.",
    ]
    return "\n".join(lines)


def menu_keyboard() -> Keyboard:
    def row(*items: tuple[str, str]) -> tuple[Button, ...]:
        return tuple(Button(text, f"c:{command}") for text, command in items)

    return (
        row(("🆕 Arbitrage monitor", "monitor_arb"), ("🆕 Market view", "view_market")),
        row(("💹 Best opportunities", "arbitrage"), ("📊 CBBO now", "get_cbbo")),
        row(("📋 My arbitrage", "status_arb"), ("👁 My market views", "status_market")),
        row(("📈 Statistics", "arb_stats"), ("🔔 Alerts", "alerts")),
        row(("⚙️ Settings", "config"), ("🩺 Status", "status")),
        row(("🔎 Symbols", "list_symbols"), ("❓ Help", "help")),
    )


# -- alerts (delivery calls these at send time) ---------------------------------------------


def render_event(event: Event, prefs: ChatPrefs | None = None) -> str:
    """The alert text for an engine event, in the chat's time zone when it has one."""
    if isinstance(event, ArbOpened):
        return _opened(event, prefs)
    if isinstance(event, ArbClosed):
        return _closed(event, prefs)
    return _signal(event, prefs)


def render_open_opportunity(
    opp: OpenOpportunity, now: float, prefs: ChatPrefs | None = None
) -> str:
    """A live arbitrage alert, edited in place while the opportunity stays open."""
    quote = esc(opp.symbol.quote)
    lines = [
        f"🟢 <b>Arbitrage open · {esc(opp.symbol)}</b> (live)",
        f"Buy on <b>{esc(opp.buy_venue)}</b> at {fmt_price(opp.buy_price)} · "
        f"sell on <b>{esc(opp.sell_venue)}</b> at {fmt_price(opp.sell_price)}",
        f"Net edge <b>{fmt_pct(opp.edge_pct)}</b> (peak {fmt_pct(opp.peak_edge_pct)}) · "
        f"profit {fmt_profit(opp.profit)} {quote} on {fmt_qty(opp.size)} {esc(opp.symbol.base)}",
        f"Open for {fmt_span(now - opp.opened_at)}",
    ]
    if not opp.complete:
        lines.append("⚠️ Partial fill: the books are thinner than the monitor's size.")
    lines.append(f"Monitor <code>{esc(opp.monitor_id)}</code> · {fmt_time(now, prefs)}")
    return "\n".join(lines)


def alert_buttons(monitor_id: str) -> Keyboard:
    """Buttons under an alert: mute or stop its monitor."""
    return (
        (
            Button("🔕 Mute", f"m:{monitor_id}:mute"),
            Button("⏹ Stop", f"m:{monitor_id}:stop"),
        ),
    )


def _opened(e: ArbOpened, prefs: ChatPrefs | None) -> str:
    quote = esc(e.symbol.quote)
    lines = [
        f"🟢 <b>Arbitrage open · {esc(e.symbol)}</b>",
        f"Buy on <b>{esc(e.buy_venue)}</b> at {fmt_price(e.buy_price)} · "
        f"sell on <b>{esc(e.sell_venue)}</b> at {fmt_price(e.sell_price)}",
        f"Net edge <b>{fmt_pct(e.edge_pct)}</b> after fees · profit {fmt_profit(e.profit)} "
        f"{quote} on {fmt_money(e.notional)} {quote} ({fmt_qty(e.size)} {esc(e.symbol.base)})",
    ]
    if not e.complete:
        lines.append("⚠️ Partial fill: the books are thinner than the monitor's size.")
    lines.append(f"Monitor <code>{esc(e.monitor_id)}</code> · {fmt_time(e.ts, prefs)}")
    return "\n".join(lines)


def _closed(e: ArbClosed, prefs: ChatPrefs | None) -> str:
    reason = _CLOSE_REASONS.get(e.reason, e.reason)
    last = "" if e.last_edge_pct is None else f" (last {fmt_pct(e.last_edge_pct)})"
    return "\n".join(
        [
            f"⚪ <b>Arbitrage closed · {esc(e.symbol)}</b> {esc(e.buy_venue)} → "
            f"{esc(e.sell_venue)}",
            f"Closed after {fmt_span(e.duration_s)}, peak {fmt_pct(e.peak_edge_pct)}{last}",
            f"Why: {esc(reason)}",
            f"Monitor <code>{esc(e.monitor_id)}</code> · {fmt_time(e.ts, prefs)}",
        ]
    )


def _names(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(esc(v) for v in value) or "—"
    return esc(value)


def _num(value: Any) -> str:
    return fmt_price(value) if isinstance(value, (int, float)) else esc(value)


def _signed(value: Any) -> str:
    return f"{value:+.2f}" if isinstance(value, (int, float)) else esc(value)


def _signal(e: MarketViewSignal, prefs: ChatPrefs | None) -> str:
    d = dict(e.details)
    kind = e.kind
    if kind in ("best_bid_venue", "best_ask_venue"):
        side = "bid" if kind == "best_bid_venue" else "offer"
        body = (
            f"Best {side} now on <b>{_names(d.get('venues'))}</b> at {_num(d.get('price'))} "
            f"(was {_names(d.get('previous'))})"
        )
    elif kind == "mid_move":
        body = (
            f"Mid moved {_signed(d.get('move_pct'))} % to {_num(d.get('mid'))} "
            f"(from {_num(d.get('previous_mid'))})"
        )
    elif kind == "spread_wide":
        body = (
            f"Spread widened to {_num(d.get('spread_bps'))} bps: bid {_num(d.get('bid'))} on "
            f"{_names(d.get('bid_venues'))}, ask {_num(d.get('ask'))} on "
            f"{_names(d.get('ask_venues'))}"
        )
    elif kind == "venue_deviation":
        body = (
            f"{_names(d.get('venue'))}'s {esc(d.get('side'))} is {_num(d.get('deviation_bps'))} "
            f"bps from the best ({_num(d.get('price'))} vs {_num(d.get('cbbo_price'))})"
        )
    elif kind == "crossed":
        body = (
            f"Consolidated book crossed: buy on {_names(d.get('buy_venues'))} at "
            f"{_num(d.get('ask'))}, sell on {_names(d.get('sell_venues'))} at "
            f"{_num(d.get('bid'))} ({_num(d.get('gross_bps'))} bps gross)"
        )
    else:
        body = esc(", ".join(f"{k}={v}" for k, v in d.items()))[:500]
    return "\n".join(
        [
            f"👁 <b>{esc(e.symbol)}</b> · {esc(kind.replace('_', ' '))}",
            body,
            f"Monitor <code>{esc(e.monitor_id)}</code> · {fmt_time(e.ts, prefs)}",
        ]
    )
