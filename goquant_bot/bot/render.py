"""HTML texts: formatting helpers, help and menu, errors, and the alert texts delivery sends.

Every dynamic value goes through ``esc``; messages are split under Telegram's 4096 characters.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from goquant_bot.bot.parsing import InputError
from goquant_bot.bot.types import Button, Keyboard, Reply
from goquant_bot.domain.arbitrage import Conversion
from goquant_bot.domain.book import INTEGRITY_MARKS, Integrity
from goquant_bot.domain.events import ArbClosed, ArbOpened, Event, MarketViewSignal
from goquant_bot.domain.instruments import Symbol, Venue
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
    ("pause", "Pause monitors (kept, no alerts)", "/pause ab12cd"),
    ("template", "Save a monitor's settings to reuse them", "/template save scalp ab12cd"),
    ("resume", "Run paused monitors again", "/resume ab12cd"),
    ("threshold", "Change a monitor's threshold", "/threshold ab12cd 0.25"),
    ("arbitrage", "Best opportunities right now", "/arbitrage BTC-USDT"),
    ("arb_stats", "Statistics of past opportunities", "/arb_stats"),
    ("export", "Your closed opportunities as a CSV file", "/export 7d"),
    ("view_market", "Live consolidated market (CBBO)", "/view_market BTC-USDT binance okx"),
    ("stop_market", "Stop a market view", "/stop_market all"),
    ("get_cbbo", "Consolidated best bid/offer now", "/get_cbbo ETH-USDT"),
    ("config_market", "Change a market view", "/config_market ef34gh crossed=2 crossed_for=5s"),
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


def tick_decimals(tick: float | None) -> int | None:
    """Decimals a price needs at this tick size (0.01 -> 2, 0.5 -> 1, 1e-8 -> 8, 10 -> 0)."""
    if tick is None or not math.isfinite(tick) or tick <= 0:
        return None
    text = f"{tick:.12f}".rstrip("0")
    return min(len(text.partition(".")[2]), 12)


def fmt_price(value: float | None, decimals: int | None = None) -> str:
    """A price at the venue's tick size (``decimals``), or with a precision by magnitude."""
    if value is None:
        return "—"
    if not math.isfinite(value):
        return str(value)
    if decimals is not None:
        return f"{value:,.{decimals}f}"
    size = abs(value)
    if size >= 1:
        return f"{value:,.{price_decimals(value)}f}"
    return _trimmed(value, _significant(value, 6))


def price_decimals(value: float) -> int:
    """Decimals for a price of this magnitude when the tick size is unknown."""
    size = abs(value)
    if size >= 1000:
        return 2
    if size >= 1:
        return 4
    return _significant(value, 6) if math.isfinite(value) else 0


def fmt_qty(value: float | None) -> str:
    """A size with thousands separators and six significant digits, never in e-notation."""
    if value is None:
        return "—"
    if not math.isfinite(value):
        return str(value)
    return _trimmed(value, _significant(value, 6))


def _significant(value: float, digits: int) -> int:
    if value == 0:
        return 0
    return max(0, min(12, digits - 1 - math.floor(math.log10(abs(value)))))


def _trimmed(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_bps(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def fmt_fee(value: float) -> str:
    """A fee in percent: two decimals, three when the venue's fee has them (0.075 %)."""
    text = f"{value:.3f}"
    return (text[:-1] if text.endswith("0") else text) + " %"


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
        return _two(seconds // 60, "min", round(seconds % 60), "s")
    if seconds < 86400:
        return _two(seconds // 3600, "h", seconds % 3600 // 60, "min")
    return _two(seconds // 86400, "d", seconds % 86400 // 3600, "h")


def _two(big: float, big_unit: str, small: float, small_unit: str) -> str:
    """``15 min``, ``2 min 5 s``: a zero second part is left out."""
    head = f"{big:.0f} {big_unit}"
    return head if small == 0 else f"{head} {small:.0f} {small_unit}"


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


VenueDecimals = Callable[[Venue, Symbol], "int | None"]


def _no_ticks(venue: Venue, symbol: Symbol) -> int | None:
    return None


def render_event(
    event: Event, prefs: ChatPrefs | None = None, decimals: VenueDecimals | None = None
) -> str:
    """The alert text for an engine event, in the chat's time zone when it has one; prices at
    the venues' tick sizes when ``decimals`` knows them."""
    ticks = decimals or _no_ticks
    if isinstance(event, ArbOpened):
        return _opened(event, prefs, ticks)
    if isinstance(event, ArbClosed):
        return _closed(event, prefs)
    known = [d for d in (ticks(v, event.symbol) for v in Venue) if d is not None]
    return _signal(event, prefs, max(known) if known else None)


def render_open_opportunity(
    opp: OpenOpportunity,
    now: float,
    prefs: ChatPrefs | None = None,
    decimals: VenueDecimals | None = None,
) -> str:
    """A live arbitrage alert, edited in place while the opportunity stays open."""
    ticks = decimals or _no_ticks
    buy_tick, sell_tick = ticks(opp.buy_venue, opp.symbol), ticks(opp.sell_venue, opp.symbol)
    quote = esc(profit_currency(opp.symbol, opp.conversion))
    lines = [
        f"🟢 <b>Arbitrage open · {esc(opp.symbol)}</b> (live)",
        *legs_lines(
            (opp.buy_venue, fmt_price(opp.buy_price, buy_tick)),
            (opp.sell_venue, fmt_price(opp.sell_price, sell_tick)),
            opp.trust,
        ),
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


def legs_lines(
    buy: tuple[Venue, str], sell: tuple[Venue, str], trust: tuple[Integrity, Integrity] | None
) -> list[str]:
    """Where to buy and sell, each venue marked with how far its book can be trusted, and
    what a mark other than verified means."""
    marks = (
        ("", "") if trust is None else (INTEGRITY_MARKS[trust[0]][0], INTEGRITY_MARKS[trust[1]][0])
    )
    lines = [
        f"Buy on <b>{esc(buy[0])}</b>{marks[0]} at {buy[1]} · "
        f"sell on <b>{esc(sell[0])}</b>{marks[1]} at {sell[1]}"
    ]
    weaker = sorted({t for t in trust or () if t is not Integrity.VERIFIED})
    lines += [f"{INTEGRITY_MARKS[t][0]} book {INTEGRITY_MARKS[t][1]}" for t in weaker]
    return lines


def profit_currency(symbol: Symbol, conversion: Conversion | None) -> str:
    """What a profit is counted in: the sell leg's quote (converted legs), else the symbol's."""
    return symbol.quote if conversion is None else conversion.receive


def _opened(e: ArbOpened, prefs: ChatPrefs | None, ticks: VenueDecimals) -> str:
    quote = esc(profit_currency(e.symbol, e.conversion))
    buy_tick, sell_tick = ticks(e.buy_venue, e.symbol), ticks(e.sell_venue, e.symbol)
    lines = [
        f"🟢 <b>Arbitrage open · {esc(e.symbol)}</b>",
        *legs_lines(
            (e.buy_venue, fmt_price(e.buy_price, buy_tick)),
            (e.sell_venue, fmt_price(e.sell_price, sell_tick)),
            e.trust,
        ),
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


def _num(value: Any, tick: int | None = None) -> str:
    return fmt_price(value, tick) if isinstance(value, (int, float)) else esc(value)


def _bps(value: Any) -> str:
    return fmt_bps(value) if isinstance(value, (int, float)) else esc(value)


def _signed(value: Any) -> str:
    return f"{value:+.2f}" if isinstance(value, (int, float)) else esc(value)


def _signal(e: MarketViewSignal, prefs: ChatPrefs | None, tick: int | None) -> str:
    d = dict(e.details)
    mid_tick = None if tick is None else tick + 1  # a mid falls between ticks
    kind = e.kind
    if kind in ("best_bid_venue", "best_ask_venue"):
        side = "bid" if kind == "best_bid_venue" else "offer"
        body = (
            f"Best {side} now on <b>{_names(d.get('venues'))}</b> at {_num(d.get('price'), tick)} "
            f"(was {_names(d.get('previous'))})"
        )
    elif kind == "mid_move":
        body = (
            f"Mid moved {_signed(d.get('move_pct'))} % to {_num(d.get('mid'), mid_tick)} "
            f"(from {_num(d.get('previous_mid'), mid_tick)})"
        )
    elif kind == "spread_wide":
        body = (
            f"Spread widened to {_bps(d.get('spread_bps'))} bps: bid {_num(d.get('bid'), tick)} on "
            f"{_names(d.get('bid_venues'))}, ask {_num(d.get('ask'), tick)} on "
            f"{_names(d.get('ask_venues'))}"
        )
    elif kind == "venue_deviation":
        body = (
            f"{_names(d.get('venue'))}'s {esc(d.get('side'))} is {_bps(d.get('deviation_bps'))} "
            f"bps from the best ({_num(d.get('price'), tick)} vs {_num(d.get('cbbo_price'), tick)})"
        )
    elif kind == "crossed":
        body = (
            f"Consolidated book crossed: buy on {_names(d.get('buy_venues'))} at "
            f"{_num(d.get('ask'), tick)}, sell on {_names(d.get('sell_venues'))} at "
            f"{_num(d.get('bid'), tick)} ({_bps(d.get('gross_bps'))} bps gross)"
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
