"""HTML views of market data and of a user's things: CBBO, opportunities, monitors, stats."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from goquant_bot.bot.context import VenueStatus
from goquant_bot.bot.render import (
    esc,
    fmt_bps,
    fmt_fee,
    fmt_money,
    fmt_pct,
    fmt_price,
    fmt_profit,
    fmt_qty,
    fmt_span,
    fmt_time,
    price_decimals,
)
from goquant_bot.domain.book import DEFAULT_MIN_INTEGRITY, INTEGRITY_MARKS, Integrity
from goquant_bot.domain.cbbo import Cbbo, VenueQuote
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.trades import Trade
from goquant_bot.domain.users import ChatPrefs
from goquant_bot.engine.arb_records import OpenOpportunity
from goquant_bot.engine.quotes import PairFigures
from goquant_bot.monitors.records import MonitorKind, MonitorRecord


def ranking_text(
    shares: Mapping[Venue, tuple[float, float]], window_s: float, covered_s: float
) -> str:
    """Share of time each venue held the best bid and the best offer over the window.

    ``covered_s``: how long the ranking has had data; a shorter span than the window is
    labelled "since start", never as the full window; under a second it means nothing yet.
    """
    if not shares or covered_s < 1.0:
        return ""
    bids = sorted(shares.items(), key=lambda kv: -kv[1][0])
    asks = sorted(shares.items(), key=lambda kv: -kv[1][1])
    bid = " · ".join(f"{esc(v)} {fmt_pct(b * 100)}" for v, (b, _) in bids)
    ask = " · ".join(f"{esc(v)} {fmt_pct(a * 100)}" for v, (_, a) in asks)
    span = (
        f"last {fmt_span(window_s)}"
        if covered_s >= window_s
        else f"since start, {fmt_span(covered_s)}"
    )
    return f"Time at the best ({span}): bid {bid}; offer {ask}"


PriceDecimals = Callable[[Venue], int | None]


def finest(decimals: PriceDecimals | None, venues: Iterable[Venue]) -> int | None:
    """The most decimals among these venues' tick sizes (None when none is known)."""
    if decimals is None:
        return None
    known = [d for d in (decimals(v) for v in venues) if d is not None]
    return max(known) if known else None


def cbbo_text(
    cbbo: Cbbo,
    prefs: ChatPrefs | None = None,
    *,
    live: bool = False,
    monitor_id: str = "",
    decimals: PriceDecimals | None = None,
    note: str = "",
    trades: Mapping[Venue, Trade] | None = None,
) -> str:
    """The consolidated book with its per-venue table (one-shot, or a live view's message,
    whose ``note`` says how often it is edited); ``trades``: each venue's last trade, shown
    in a second table below the depth line.

    Prices are shown at each venue's tick size (``decimals``); consolidated figures at the
    finest tick of the venues involved, the mid with one decimal more (it falls between ticks).
    """
    counted = cbbo.counted_venues
    title = f"📊 <b>{esc(cbbo.symbol)}</b> consolidated book"
    lines = [title + (" · live" if live else "")]
    if not cbbo.venues:
        lines.append("No book of this symbol is subscribed on the chosen venues.")
    else:
        if cbbo.bid is not None:
            bid = fmt_price(cbbo.bid, finest(decimals, cbbo.bid_venues))
            lines.append(
                f"Best bid <b>{bid}</b> (size {fmt_qty(cbbo.bid_size)}) on "
                f"{_venues(cbbo.bid_venues)}"
            )
        if cbbo.ask is not None:
            ask = fmt_price(cbbo.ask, finest(decimals, cbbo.ask_venues))
            lines.append(
                f"Best ask <b>{ask}</b> (size {fmt_qty(cbbo.ask_size)}) on "
                f"{_venues(cbbo.ask_venues)}"
            )
        if not cbbo.has_quotes:
            lines.append("No fresh quote on any venue yet (books syncing or stale).")
        if cbbo.spread is not None and cbbo.mid is not None:
            bps = "" if cbbo.spread_bps is None else f" ({fmt_bps(cbbo.spread_bps)} bps)"
            tick = finest(decimals, counted)
            if tick is None:  # the spread at the precision of the prices, not its own
                tick = price_decimals(cbbo.mid)
                mid = fmt_price(cbbo.mid, tick)
            else:
                mid = fmt_price(cbbo.mid, tick + 1)
            lines.append(f"Spread {fmt_price(cbbo.spread, tick)}{bps} · mid {mid}")
        if cbbo.crossed:
            lines.append("⚠️ Crossed across venues: a buy-low/sell-high gap before fees.")
        elif cbbo.locked:
            lines.append("Locked: best bid equals best ask.")
        rows = [f"{'venue':<9} {'bid':>12} {'ask':>12} {'bps':>6} {'age':>6}"]
        for q in cbbo.venues:
            name = q.venue.value + INTEGRITY_MARKS[q.integrity][0]
            if q.counted:
                bps = "" if q.spread_bps is None else fmt_bps(q.spread_bps)
                age = "" if q.age_s is None else f"{q.age_s:.1f}s"
                tick = None if decimals is None else decimals(q.venue)
                rows.append(
                    f"{name:<9} {fmt_price(q.bid, tick):>12} "
                    f"{fmt_price(q.ask, tick):>12} {bps:>6} {age:>6}"
                )
            else:
                rows.append(f"{name:<9} not counted: {q.excluded}")
        lines.append("<pre>" + esc("\n".join(rows)) + "</pre>")
        lines.append(integrity_legend(q.integrity for q in cbbo.venues))
        if cbbo.depth:
            bands = " / ".join(f"{d.bps:g}" for d in cbbo.depth)
            bids = " / ".join(fmt_qty(d.bid_size) for d in cbbo.depth)
            asks = " / ".join(fmt_qty(d.ask_size) for d in cbbo.depth)
            lines.append(f"Depth within {bands} bps of mid: bids {bids} · asks {asks}")
        if trades is not None:
            last = trade_rows(cbbo.venues, trades, cbbo.ts, decimals)
            lines.append("<pre>" + esc("\n".join(last)) + "</pre>")
    footer = fmt_time(cbbo.ts, prefs)
    if note:
        lines.append(f"<i>{note}</i>")
    if monitor_id:
        footer = f"View <code>{esc(monitor_id)}</code> · updated {footer}"
    lines.append(footer)
    return "\n".join(lines)


def trade_rows(
    quotes: Sequence[VenueQuote],
    trades: Mapping[Venue, Trade],
    now: float,
    decimals: PriceDecimals | None,
) -> list[str]:
    """Each venue's last trade: price at the venue's tick, size, taker side, age."""
    rows = [f"{'last trade':<10} {'price':>12} {'size':>10} {'side':>4} {'age':>6}"]
    for q in quotes:
        trade = trades.get(q.venue)
        if trade is None:
            rows.append(f"{q.venue.value:<10} no trade seen yet")
            continue
        tick = None if decimals is None else decimals(q.venue)
        rows.append(
            f"{q.venue.value:<10} {fmt_price(trade.price, tick):>12} "
            f"{fmt_qty(trade.size):>10} {trade.side.value:>4} {fmt_age(trade.age(now)):>6}"
        )
    return rows


def fmt_age(seconds: float) -> str:
    """3.2s, 45s, 12m, 3h: short enough for a table column."""
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.0f}h"


def _venues(venues: Sequence[Venue]) -> str:
    return ", ".join(f"<b>{esc(v)}</b>" for v in venues) or "—"


def opportunities_text(
    found: Sequence[PairFigures],
    skipped: Mapping[str, int],
    notional: float,
    symbols: int,
    decimals: Callable[[Venue, Symbol], int | None] | None = None,
) -> str:
    lines = [f"💹 <b>Best opportunities now</b> at {fmt_money(notional)} per trade, net of fees"]
    if not found:
        lines.append("No venue pair can be quoted right now.")
    for i, q in enumerate(found, 1):
        mark = "🟢" if q.edge_pct > 0 else "▫️"
        partial = " · partial fill" if not q.complete else ""
        buy_tick = None if decimals is None else decimals(q.buy, q.symbol)
        sell_tick = None if decimals is None else decimals(q.sell, q.symbol)
        lines.append(
            f"{mark} {i}. <b>{esc(q.symbol)}</b> buy {esc(q.buy)} "
            f"{fmt_price(q.buy_price, buy_tick)} → sell {esc(q.sell)} "
            f"{fmt_price(q.sell_price, sell_tick)}: <b>{fmt_pct(q.edge_pct)}</b> "
            f"({fmt_profit(q.profit)} {esc(q.symbol.quote)}){partial}"
        )
    if skipped:
        why = ", ".join(f"{esc(k)} {v}" for k, v in sorted(skipped.items()))
        lines.append(f"Pairs left out: {why}.")
    lines.append(f"{symbols} symbol(s) checked. Set your size with /config size 5000.")
    return "\n".join(lines)


def stats_text(summary: Mapping[str, Mapping[str, Mapping[str, float | int]]]) -> str:
    lines = ["📈 <b>Opportunity statistics</b> (closed opportunities of this chat)"]
    if not summary:
        lines.append("Nothing yet: statistics appear once your monitors' opportunities close.")
    for label, windows in summary.items():
        lines.append(f"<b>{esc(label)}</b>")
        for name in ("1h", "24h", "all"):
            agg = windows.get(name, {})
            count = int(agg.get("count", 0))
            if not count:
                lines.append(f"  {esc(name)}: none")
                continue
            lines.append(
                f"  {esc(name)}: {count} · mean peak {fmt_pct(float(agg['mean_edge_pct']))} · "
                f"max {fmt_pct(float(agg['max_edge_pct']))} · mean "
                f"{fmt_span(float(agg['mean_duration_s']))}"
            )
    return "\n".join(lines)


def monitor_line(record: MonitorRecord, running: bool, muted: bool) -> str:
    s = record.spec
    venues = s.get("venues") or []
    where = ", ".join(esc(v) for v in venues) if venues else "all venues"
    if record.kind is MonitorKind.ARB:
        symbols = ", ".join(esc(x) for x in s.get("symbols", []))
        floors = []
        if s.get("min_edge_pct") is not None:
            floors.append(f"≥ {fmt_pct(s['min_edge_pct'])}")
        if s.get("min_profit") is not None:
            floors.append(f"profit ≥ {fmt_money(float(s['min_profit']))}")
        own_size = "" if "size" in record.follows else " (own)"
        text = (
            f"<code>{esc(record.id)}</code> {symbols} · {where} · {' · '.join(floors)} · "
            f"size {fmt_money(float(s.get('notional', 0)))}{own_size}"
        )
        if s.get("fees_pct") and "fees" not in record.follows:
            own = ", ".join(f"{esc(v)} {fmt_pct(f)}" for v, f in s["fees_pct"].items())
            text += f" · own fees {own}"
        if s.get("min_duration_s"):
            text += f" · min {fmt_span(float(s['min_duration_s']))}"
        if s.get("policy") == "once":
            text += " · once"
        if s.get("allow_polled"):
            text += " · polled ok"
        if s.get("quotes", "none") != "none":
            text += f" · quotes {esc(s['quotes'])} (converted live)"
        text += _integrity_note(s)
    else:
        text = (
            f"<code>{esc(record.id)}</code> {esc(s.get('symbol'))} · {where} · every "
            f"{fmt_span(float(s.get('cooldown_s', 0)))}"
        )
        for key, label, unit in (
            ("mid_move_pct", "move", "%"),
            ("spread_above_bps", "spread", "bps"),
            ("venue_deviation_bps", "dev", "bps"),
        ):
            if s.get(key) is not None:
                text += f" · {label} {float(s[key]):.2f} {unit}"
        if s.get("crossed_min_bps") is not None:
            text += f" · crossed ≥ {s['crossed_min_bps']:.2f} bps"
            if s.get("crossed_min_s"):
                text += f" for {fmt_span(float(s['crossed_min_s']))}"
        text += _integrity_note(s)
    if not record.runs:
        text += " · ⏸ paused"
    elif not running:
        text += " · ⚠️ not running"
    if muted:
        text += " · 🔕"
    return text


def open_line(opp: OpenOpportunity, now: float) -> str:
    return (
        f"   🟢 {esc(opp.buy_venue)} → {esc(opp.sell_venue)} {fmt_pct(opp.edge_pct)} "
        f"(peak {fmt_pct(opp.peak_edge_pct)}) for {fmt_span(now - opp.opened_at)}"
    )


def _integrity_note(spec: dict[str, Any]) -> str:
    """A monitor's tier requirement when it is not the default (verified and snapshot)."""
    tier = spec.get("integrity", DEFAULT_MIN_INTEGRITY.value)
    if tier == Integrity.VERIFIED.value:
        return " · verified books only"
    if tier == Integrity.UNVERIFIED.value:
        return " · unverified books too"
    return ""


def integrity_legend(tiers: Iterable[Integrity]) -> str:
    """What the marks next to the venues' names mean (those in use, strongest first)."""
    used = set(tiers)
    return " · ".join(
        f"{mark} {meaning}" for tier, (mark, meaning) in INTEGRITY_MARKS.items() if tier in used
    )


def venue_health_lines(health: Sequence[VenueStatus]) -> list[str]:
    lines = []
    for h in health:
        live = h.books.get("live", 0) + h.books.get("polled", 0)
        state = "connected" if h.connected else "disconnected"
        if h.polling:
            state += ", REST polling"
        mark, meaning = INTEGRITY_MARKS[h.integrity]
        lines.append(
            f"• <b>{esc(h.venue)}</b>{mark}: {state} · {live}/{sum(h.books.values())} books "
            f"fresh · {meaning}"
        )
    return lines or ["• no venue enabled"]


def symbols_page_text(
    symbols: Sequence[Symbol], venue: Venue | None, pattern: str, page: int, pages: int, total: int
) -> str:
    where = f" on {esc(venue)}" if venue else ""
    match = f" matching {esc(pattern)}" if pattern else ""
    lines = [f"🔎 <b>{total} symbols</b>{where}{match} · page {page + 1}/{max(pages, 1)}"]
    if not symbols:
        lines.append("None found. Try another filter, e.g. /list_symbols BTC")
    row: list[str] = []
    for symbol in symbols:
        row.append(f"<code>{esc(symbol)}</code>")
        if len(row) == 4:
            lines.append("  ".join(row))
            row = []
    if row:
        lines.append("  ".join(row))
    return "\n".join(lines)


def config_text(prefs: ChatPrefs, default_notional: float, fees: Mapping[Venue, float]) -> str:
    own = dict(prefs.fees_pct)
    size = prefs.default_notional
    fee_parts = [
        f"{esc(v)} {fmt_fee(own.get(v.value, fee))}" + (" (yours)" if v.value in own else "")
        for v, fee in fees.items()
    ]
    quiet = prefs.quiet_hours
    quiet_text = (
        "off"
        if quiet is None
        else f"{esc(quiet.start)} to {esc(quiet.end)} {esc(quiet.timezone)}, "
        + ("digest afterwards" if quiet.digest else "delivered silently")
    )
    return "\n".join(
        [
            "⚙️ <b>Settings of this chat</b>",
            f"Trade size: {fmt_money(size or default_notional)}"
            + ("" if size else " (default)")
            + " · <code>/config size 5000</code>",
            f"Taker fees: {', '.join(fee_parts)} · <code>/config fee okx 0.08</code>",
            f"Quiet hours: {quiet_text} · <code>/config quiet 22:00 07:00 Europe/Paris</code>",
            f"Silent delivery: {'on' if prefs.silent else 'off'} · <code>/config silent on</code>",
            f"Cooldown per monitor: {fmt_span(prefs.cooldown_s) if prefs.cooldown_s else 'off'}"
            " · <code>/config cooldown 60s</code>",
            f"Hourly cap: {prefs.hourly_cap or 'none'} · <code>/config cap 20</code>",
        ]
    )
