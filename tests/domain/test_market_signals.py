from __future__ import annotations

import json
from typing import Any

import pytest

from goquant_bot.domain.book import BookState, OrderBook
from goquant_bot.domain.cbbo import Cbbo, consolidate
from goquant_bot.domain.events import MarketViewSignal
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.domain.market_signals import MarketViewState
from goquant_bot.domain.monitors import MarketViewMonitor

BTC = Symbol("BTC", "USDT")
BN, OK, BY = Venue.BINANCE, Venue.OKX, Venue.BYBIT
Quotes = dict[Venue, tuple[float | None, float | None]]


def view(ts: float, quotes: Quotes, *, stale: tuple[Venue, ...] = ()) -> Cbbo:
    """A CBBO at ``ts`` from one-level books: venue -> (bid, ask)."""
    books = []
    for venue, (bid, ask) in quotes.items():
        book = OrderBook(InstrumentKey(venue, BTC))
        if bid is not None:
            book.bids.set(bid, 1.0)
        if ask is not None:
            book.asks.set(ask, 1.0)
        book.state = BookState.STALE if venue in stale else BookState.LIVE
        book.recv_ts = ts
        books.append(book)
    return consolidate(books, ts, symbol=BTC)


def state(cooldown_s: float = 0.0, **signals: Any) -> MarketViewState:
    """``cooldown_s`` limits both the live view's changes and the alerts unless
    ``alert_cooldown_s`` is given."""
    signals.setdefault("alert_cooldown_s", cooldown_s)
    return MarketViewState(
        MarketViewMonitor(id="m1", owner=7, symbol=BTC, venues=(), cooldown_s=cooldown_s, **signals)
    )


def kinds(signals: list[MarketViewSignal]) -> list[str]:
    return [s.kind for s in signals]


def details(signal: MarketViewSignal) -> dict[str, Any]:
    return dict(signal.details)


# -- best venue changes -------------------------------------------------------------------


def test_best_bid_and_ask_venue_changes() -> None:
    st = state(best_venue_change=True)
    assert st.evaluate(view(0.0, {BN: (100.0, 101.0), OK: (99.0, 102.0)})) == []  # reference
    [signal] = st.evaluate(view(1.0, {BN: (100.0, 101.0), OK: (100.5, 102.0)}))
    assert signal.kind == "best_bid_venue"
    assert (signal.monitor_id, signal.owner, signal.symbol, signal.ts) == ("m1", 7, BTC, 1.0)
    assert details(signal) == {"venues": ("okx",), "previous": ("binance",), "price": 100.5}
    [signal] = st.evaluate(view(2.0, {BN: (100.0, 101.0), OK: (100.5, 100.9)}))
    assert signal.kind == "best_ask_venue"
    assert details(signal) == {"venues": ("okx",), "previous": ("binance",), "price": 100.9}
    assert st.evaluate(view(3.0, {BN: (100.0, 101.0), OK: (100.6, 100.8)})) == []  # same holders
    json.dumps(signal.to_report())  # small JSON-able values only


def test_ties_listed_and_their_order_ignored() -> None:
    st = state(best_venue_change=True)
    st.evaluate(view(0.0, {BN: (100.0, 101.0), OK: (99.0, 102.0)}))
    [joined] = st.evaluate(view(1.0, {BN: (100.0, 101.0), OK: (100.0, 102.0)}))
    assert details(joined)["venues"] == ("binance", "okx")
    # The same tie, books given in the other order: no change.
    assert st.evaluate(view(2.0, {OK: (100.0, 102.0), BN: (100.0, 101.0)})) == []


def test_no_eligible_venue_is_not_a_venue_change() -> None:
    st = state(best_venue_change=True)
    st.evaluate(view(0.0, {BN: (100.0, 101.0), OK: (99.0, 102.0)}))
    assert st.evaluate(view(1.0, {BN: (100.0, 101.0), OK: (99.0, 102.0)}, stale=(BN, OK))) == []
    assert st.evaluate(view(2.0, {BN: (100.0, 101.0), OK: (99.0, 102.0)})) == []  # back, same
    assert kinds(st.evaluate(view(3.0, {BN: (100.0, 101.0)}, stale=(BN,)))) == []
    assert kinds(st.evaluate(view(4.0, {OK: (99.0, 102.0)}))) == [
        "best_bid_venue",
        "best_ask_venue",
    ]


def test_venue_change_cooldown_reports_the_state_once_it_ends() -> None:
    st = state(cooldown_s=30.0, best_venue_change=True)
    st.evaluate(view(0.0, {BN: (100.0, 200.0), OK: (99.0, 200.0)}))
    assert kinds(st.evaluate(view(1.0, {BN: (100.0, 200.0), OK: (101.0, 200.0)}))) == [
        "best_bid_venue"
    ]
    assert st.evaluate(view(10.0, {BN: (102.0, 200.0), OK: (101.0, 200.0)})) == []  # cooling down
    assert st.evaluate(view(30.9, {BN: (102.0, 200.0), OK: (101.0, 200.0)})) == []
    [late] = st.evaluate(view(31.0, {BN: (102.0, 200.0), OK: (101.0, 200.0)}))
    assert details(late)["previous"] == ("okx",)  # relative to what the user was last told
    # Back and forth within the cooldown ends where the user last saw it: nothing to say.
    st.evaluate(view(40.0, {BN: (100.0, 200.0), OK: (101.0, 200.0)}))
    assert st.evaluate(view(62.0, {BN: (102.0, 200.0), OK: (101.0, 200.0)})) == []


# -- mid move -----------------------------------------------------------------------------


def test_mid_move_from_the_last_signal() -> None:
    st = state(mid_move_pct=0.1)
    assert st.evaluate(view(0.0, {BN: (999.0, 1001.0)})) == []  # mid 1000: the reference
    assert st.evaluate(view(1.0, {BN: (999.9, 1001.9)})) == []  # +0.09 %
    [up] = st.evaluate(view(2.0, {BN: (1000.1, 1002.1)}))  # +0.11 %
    assert up.kind == "mid_move"
    assert details(up) == pytest.approx({"mid": 1001.1, "previous_mid": 1000.0, "move_pct": 0.11})
    assert st.evaluate(view(3.0, {BN: (1001.0, 1003.0)})) == []  # +0.09 % from the new reference
    [down] = st.evaluate(view(4.0, {BN: (999.0, 1001.0)}))
    assert details(down)["move_pct"] == pytest.approx(-0.1099, abs=1e-4)


def test_mid_move_cooldown() -> None:
    st = state(cooldown_s=30.0, mid_move_pct=0.1)
    st.evaluate(view(0.0, {BN: (999.0, 1001.0)}))
    assert kinds(st.evaluate(view(5.0, {BN: (1009.0, 1011.0)}))) == ["mid_move"]
    assert st.evaluate(view(20.0, {BN: (1029.0, 1031.0)})) == []
    [signal] = st.evaluate(view(35.0, {BN: (1029.0, 1031.0)}))
    assert details(signal)["previous_mid"] == 1010.0


# -- consolidated spread ------------------------------------------------------------------


def test_spread_wide_hysteresis_never_flaps() -> None:
    st = state(spread_above_bps=10.0)  # re-arms below 8 bps
    assert st.evaluate(view(0.0, {BN: (1000.0, 1000.9)})) == []  # 9 bps
    [wide] = st.evaluate(view(1.0, {BN: (1000.0, 1001.2)}))  # 12 bps
    assert wide.kind == "spread_wide"
    assert details(wide) == {
        "spread_bps": 11.99,
        "bid": 1000.0,
        "ask": 1001.2,
        "bid_venues": ("binance",),
        "ask_venues": ("binance",),
    }
    for ts, ask in ((2.0, 1000.9), (3.0, 1001.2), (4.0, 1000.85), (5.0, 1001.5)):
        assert st.evaluate(view(ts, {BN: (1000.0, ask)})) == []  # between 8 and 10 bps: armed off
    assert st.evaluate(view(6.0, {BN: (1000.0, 1000.7)})) == []  # 7 bps: re-armed
    assert kinds(st.evaluate(view(7.0, {BN: (1000.0, 1001.1)}))) == ["spread_wide"]


def test_spread_wide_cooldown_keeps_it_armed() -> None:
    st = state(cooldown_s=30.0, spread_above_bps=10.0)
    assert kinds(st.evaluate(view(0.0, {BN: (1000.0, 1001.2)}))) == ["spread_wide"]
    st.evaluate(view(1.0, {BN: (1000.0, 1000.5)}))
    assert st.evaluate(view(2.0, {BN: (1000.0, 1001.2)})) == []  # re-armed but cooling down
    assert kinds(st.evaluate(view(30.0, {BN: (1000.0, 1001.2)}))) == ["spread_wide"]


# -- venue deviation ----------------------------------------------------------------------


def test_venue_deviation_per_venue_with_hysteresis() -> None:
    st = state(venue_deviation_bps=5.0)  # re-arms below 4 bps
    good = (1000.0, 1000.2)
    assert st.evaluate(view(0.0, {BN: good, OK: (999.6, 1000.3)})) == []  # okx 4 bps below
    [dev] = st.evaluate(view(1.0, {BN: good, OK: (999.4, 1000.3)}))  # okx bid 6 bps worse
    assert dev.kind == "venue_deviation"
    assert details(dev) == {
        "venue": "okx",
        "side": "bid",
        "price": 999.4,
        "cbbo_price": 1000.0,
        "deviation_bps": 6.0,
    }
    assert st.evaluate(view(2.0, {BN: good, OK: (999.55, 1000.3)})) == []  # 4.5: still off
    assert st.evaluate(view(3.0, {BN: good, OK: (999.4, 1000.3)})) == []
    # Bybit's ask is worse: its own state, independent of okx.
    [ask] = st.evaluate(view(4.0, {BN: good, OK: (999.4, 1000.3), BY: (1000.0, 1000.9)}))
    assert details(ask)["venue"] == "bybit"
    assert details(ask)["side"] == "ask"
    assert st.evaluate(view(5.0, {BN: good, OK: (999.7, 1000.3), BY: (1000.0, 1000.9)})) == []
    [again] = st.evaluate(view(6.0, {BN: good, OK: (999.0, 1000.3), BY: (1000.0, 1000.9)}))
    assert details(again)["venue"] == "okx"


def test_venue_deviation_cooldown_is_per_venue_and_stale_venues_are_ignored() -> None:
    st = state(cooldown_s=60.0, venue_deviation_bps=5.0)
    good = (1000.0, 1000.2)
    assert kinds(st.evaluate(view(0.0, {BN: good, OK: (999.0, 1000.3)}))) == ["venue_deviation"]
    st.evaluate(view(1.0, {BN: good, OK: good}))  # re-armed
    assert st.evaluate(view(2.0, {BN: good, OK: (999.0, 1000.3)})) == []  # okx cooling down
    [bybit] = st.evaluate(view(3.0, {BN: good, OK: (999.0, 1000.3), BY: (998.0, 1000.2)}))
    assert details(bybit)["venue"] == "bybit"  # another venue is not held back
    assert kinds(st.evaluate(view(60.0, {BN: good, OK: (999.0, 1000.3)}))) == ["venue_deviation"]
    fresh = state(venue_deviation_bps=5.0)
    assert fresh.evaluate(view(0.0, {BN: good, BY: good, OK: (900.0, 1000.3)}, stale=(OK,))) == []


# -- crossed ------------------------------------------------------------------------------


def test_crossed_is_no_alert_unless_asked_for() -> None:
    """A crossed book shows in the live view; an alert only when the view opted in."""
    st = state(best_venue_change=True, mid_move_pct=50.0)
    st.evaluate(view(0.0, {BN: (1000.0, 1000.5), OK: (999.8, 1000.3)}))
    for t in range(1, 40):
        out = st.evaluate(view(t * 5.0, {BN: (1000.5 + t % 2, 1001.5), OK: (999.8, 1000.3)}))
        assert "crossed" not in kinds(out)


def test_crossed_once_per_episode_when_asked_for() -> None:
    st = state(mid_move_pct=50.0, crossed_min_bps=0.5)
    st.evaluate(view(0.0, {BN: (1000.0, 1000.5), OK: (999.8, 1000.3)}))
    [crossed] = st.evaluate(view(1.0, {BN: (1000.5, 1001.0), OK: (999.8, 1000.3)}))
    assert crossed.kind == "crossed"
    assert details(crossed) == {
        "buy_venues": ("okx",),
        "sell_venues": ("binance",),
        "ask": 1000.3,
        "bid": 1000.5,
        "gross_bps": 2.0,
        "lasted_s": 0.0,
    }
    assert st.evaluate(view(2.0, {BN: (1000.6, 1001.0), OK: (999.8, 1000.3)})) == []  # same episode
    assert st.evaluate(view(3.0, {BN: (1000.0, 1001.0), OK: (999.8, 1000.3)})) == []  # over
    assert kinds(st.evaluate(view(4.0, {BN: (1000.5, 1001.0), OK: (999.8, 1000.3)}))) == ["crossed"]


def test_crossed_needs_its_minimum_size_and_duration() -> None:
    st = state(crossed_min_bps=2.0, crossed_min_s=3.0)
    st.evaluate(view(0.0, {BN: (1000.0, 1000.5), OK: (999.8, 1000.3)}))
    tiny = {BN: (1000.31, 1001.0), OK: (999.8, 1000.3)}  # crossed by 0.1 bps
    for t in (1.0, 2.0, 5.0, 9.0):
        assert st.evaluate(view(t, tiny)) == []
    wide = {BN: (1000.6, 1001.0), OK: (999.8, 1000.3)}  # 3 bps
    assert st.evaluate(view(10.0, wide)) == []  # not yet 3 s
    assert st.evaluate(view(12.0, wide)) == []
    assert st.evaluate(view(12.5, tiny)) == []  # shrank below 2 bps: the clock restarts
    assert st.evaluate(view(13.0, wide)) == []
    [crossed] = st.evaluate(view(16.0, wide))
    assert details(crossed)["lasted_s"] == 3.0
    assert details(crossed)["gross_bps"] == 3.0


def test_locked_books_alert_only_at_a_zero_minimum() -> None:
    locked = {BN: (1000.3, 1001.0), OK: (999.8, 1000.3)}
    assert state(crossed_min_bps=0.5).evaluate(view(0.0, locked)) == []
    assert kinds(state(crossed_min_bps=0.0).evaluate(view(0.0, locked))) == ["crossed"]


def test_alert_cooldown_is_apart_from_the_live_views_refresh() -> None:
    """Best-venue changes follow the view's refresh interval; every alert kind the (longer)
    alert cooldown, so a book flickering across never floods the chat."""
    st = state(cooldown_s=5.0, alert_cooldown_s=300.0, best_venue_change=True, crossed_min_bps=0.0)
    quiet = {BN: (1000.0, 1000.5), OK: (999.8, 1000.3)}
    cross = {BN: (1000.0, 1000.5), OK: (1000.6, 1001.0)}  # okx's bid over binance's ask
    st.evaluate(view(0.0, quiet))
    alerts: list[float] = []
    view_changes = 0
    for step in range(1, 81):  # 80 flips in 400 s
        out = st.evaluate(view(step * 5.0, cross if step % 2 else quiet))
        alerts += [s.ts for s in out if s.kind == "crossed"]
        view_changes += sum(1 for s in out if s.kind.startswith("best_"))
    assert alerts == [5.0, 305.0]
    assert view_changes > 40


def test_crossing_through_a_stale_venue_is_no_signal() -> None:
    st = state(best_venue_change=True)
    st.evaluate(view(0.0, {BN: (1000.0, 1000.5)}))
    quotes: Quotes = {BN: (1000.0, 1000.5), OK: (990.0, 995.0)}
    assert st.evaluate(view(1.0, quotes, stale=(OK,))) == []


def test_no_signal_without_eligible_venues_and_state_kept() -> None:
    st = state(mid_move_pct=0.1, spread_above_bps=30.0, venue_deviation_bps=1.0)
    assert st.evaluate(view(0.0, {BN: (999.0, 1001.0)})) == []  # mid 1000, 20 bps
    assert st.evaluate(view(1.0, {BN: (500.0, 2000.0)}, stale=(BN,))) == []
    assert st.evaluate(view(2.0, {})) == []
    assert st.evaluate(view(3.0, {BN: (999.0, 1001.0)})) == []  # mid reference unchanged
    assert kinds(st.evaluate(view(4.0, {BN: (990.0, 1010.0)}))) == ["spread_wide"]


def test_disabled_signals_never_fire_and_the_symbol_must_match() -> None:
    st = state(spread_above_bps=100.0)
    st.evaluate(view(0.0, {BN: (1000.0, 1001.0), OK: (990.0, 1002.0)}))
    assert st.evaluate(view(1.0, {BN: (900.0, 1001.0), OK: (995.0, 1000.5)})) == []
    other = consolidate([], 0.0, symbol=Symbol("ETH", "USDT"))
    with pytest.raises(ValueError, match="watches BTC-USDT"):
        st.evaluate(other)
