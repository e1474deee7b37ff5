"""Alert texts of engine events: arbitrage openings (one-shot and live) and closings, and
market-view signals, with the buttons under an alert."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from goquant_bot.bot.render import (
    esc,
    fmt_bps,
    fmt_money,
    fmt_pct,
    fmt_price,
    fmt_profit,
    fmt_qty,
    fmt_span,
    fmt_time,
)
from goquant_bot.bot.types import Button, Keyboard
from goquant_bot.domain.arbitrage import Conversion
from goquant_bot.domain.book import INTEGRITY_MARKS, Integrity
from goquant_bot.domain.events import ArbClosed, ArbOpened, Event, MarketViewSignal
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.users import ChatPrefs
from goquant_bot.engine.arb_records import OpenOpportunity

_CLOSE_REASONS = {
    "below_threshold": "the edge fell below the threshold",
    "not_live": "a book stopped being live (stale or resyncing)",
    "skew": "the two books' updates drifted apart in time",
    "crossed": "a book is crossed (bad data)",
    "no_liquidity": "a side of a book emptied",
    "suspect": "the edge became implausible (likely bad data)",
    "quote_mismatch": "the quote assets differ",
    "no_conversion": "no live book converts between the two quote currencies",
    "unverified": "a book is no longer one whose content is checked",
    "below_tier": "a book is below the monitor's required integrity tier (a snapshot venue, or "
    "a book kept from REST polls while its stream is down)",
}

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
    return lines + _weaker_legend(trust or ())


def _weaker_legend(tiers: Iterable[Integrity]) -> list[str]:
    """What each mark other than verified means, once per tier present."""
    weaker = sorted({t for t in tiers if t is not Integrity.VERIFIED})
    return [f"{INTEGRITY_MARKS[t][0]} book {INTEGRITY_MARKS[t][1]}" for t in weaker]


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


def _names(value: Any, marks: dict[str, str] | None = None) -> str:
    """Venue names, each followed by its book's integrity mark when ``marks`` knows it."""
    marked = [f"{esc(v)}{(marks or {}).get(str(v), '')}" for v in _as_list(value)]
    return ", ".join(marked) or "—"


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _num(value: Any, tick: int | None = None) -> str:
    return fmt_price(value, tick) if isinstance(value, (int, float)) else esc(value)


def _bps(value: Any) -> str:
    return fmt_bps(value) if isinstance(value, (int, float)) else esc(value)


def _signed(value: Any) -> str:
    return f"{value:+.2f}" if isinstance(value, (int, float)) else esc(value)


def _signal(e: MarketViewSignal, prefs: ChatPrefs | None, tick: int | None) -> str:
    d = dict(e.details)
    tiers = {venue.value: tier for venue, tier in e.trust}
    marks = {venue: INTEGRITY_MARKS[tier][0] for venue, tier in tiers.items()}
    named: set[Integrity] = set()  # the tiers of the venues the message names

    def names(value: Any) -> str:
        named.update(tiers[str(v)] for v in _as_list(value) if str(v) in tiers)
        return _names(value, marks)

    mid_tick = None if tick is None else tick + 1  # a mid falls between ticks
    kind = e.kind
    if kind in ("best_bid_venue", "best_ask_venue"):
        side = "bid" if kind == "best_bid_venue" else "offer"
        body = (
            f"Best {side} now on <b>{names(d.get('venues'))}</b> at {_num(d.get('price'), tick)} "
            f"(was {names(d.get('previous'))})"
        )
    elif kind == "mid_move":
        body = (
            f"Mid moved {_signed(d.get('move_pct'))} % to {_num(d.get('mid'), mid_tick)} "
            f"(from {_num(d.get('previous_mid'), mid_tick)})"
        )
    elif kind == "spread_wide":
        body = (
            f"Spread widened to {_bps(d.get('spread_bps'))} bps: bid {_num(d.get('bid'), tick)} on "
            f"{names(d.get('bid_venues'))}, ask {_num(d.get('ask'), tick)} on "
            f"{names(d.get('ask_venues'))}"
        )
    elif kind == "venue_deviation":
        body = (
            f"{names(d.get('venue'))}'s {esc(d.get('side'))} is {_bps(d.get('deviation_bps'))} "
            f"bps from the best ({_num(d.get('price'), tick)} vs {_num(d.get('cbbo_price'), tick)})"
        )
    elif kind == "crossed":
        body = (
            f"Consolidated book crossed: buy on {names(d.get('buy_venues'))} at "
            f"{_num(d.get('ask'), tick)}, sell on {names(d.get('sell_venues'))} at "
            f"{_num(d.get('bid'), tick)} ({_bps(d.get('gross_bps'))} bps gross)"
        )
    else:
        body = esc(", ".join(f"{k}={v}" for k, v in d.items()))[:500]
    return "\n".join(
        [
            f"👁 <b>{esc(e.symbol)}</b> · {esc(kind.replace('_', ' '))}",
            body,
            *_weaker_legend(named),
            f"Monitor <code>{esc(e.monitor_id)}</code> · {fmt_time(e.ts, prefs)}",
        ]
    )
