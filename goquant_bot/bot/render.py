"""HTML texts: formatting helpers, help and menu, errors, and the alert texts delivery sends.

Every dynamic value goes through ``esc``; messages are split under Telegram's 4096 characters.
"""

from __future__ import annotations

import html
import math
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from goquant_bot.bot.parsing import InputError
from goquant_bot.bot.types import Button, Keyboard, Reply
from goquant_bot.domain.users import ChatPrefs

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
        "Venues: any enabled exchange by name (/status lists them), or <code>all</code>. "
        "Thresholds are net edges in percent after taker fees.",
        "Books are marked ✓ verified (sequence numbers or checksums), ~ snapshot, "
        "? unverified; <code>integrity=verified</code> on a monitor uses ✓ books only.",
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
