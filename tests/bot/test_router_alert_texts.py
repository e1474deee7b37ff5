"""The texts delivery sends: alerts for every event kind, live messages, splitting long replies."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from goquant_bot.bot.config import BotConfig
from goquant_bot.bot.render import split_message
from goquant_bot.bot.render_events import alert_buttons, render_event, render_open_opportunity
from goquant_bot.bot.types import Caller, ChatType, Reply
from goquant_bot.domain.book import Integrity
from goquant_bot.domain.events import ArbClosed, ArbOpened, MarketViewSignal
from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.domain.users import ChatPrefs, QuietHours
from goquant_bot.engine.arb_records import OpenOpportunity
from tests.bot.harness import ALICE, BN, BTC, OK, T0, Bot, data, text

PARIS = ChatPrefs(1, quiet_hours=QuietHours("22:00", "07:00", "Europe/Paris"))


def test_each_leg_says_how_far_its_book_can_be_trusted() -> None:
    verified, snapshot = Integrity.VERIFIED, Integrity.SNAPSHOT
    opened = ArbOpened(
        "m00001", 1, BTC, BN, OK, T0, 100.0, 100.9, 9.99, 999.0, 0.7, 6.99, True,
        trust=(verified, snapshot),
    )  # fmt: skip
    lines = render_event(opened).splitlines()
    assert lines[1:3] == [
        "Buy on <b>binance</b>✓ at 100.0000 · sell on <b>okx</b>~ at 100.9000",
        "~ book snapshots or timestamps only",
    ]
    both = dataclasses.replace(opened, trust=(verified, verified))
    assert render_event(both).splitlines()[1:3] == [
        "Buy on <b>binance</b>✓ at 100.0000 · sell on <b>okx</b>✓ at 100.9000",
        "Net edge <b>0.70 %</b> after fees · profit 6.99 USDT on 999 USDT (9.99 BTC)",
    ]


def test_arbitrage_opened_and_closed() -> None:
    opened = ArbOpened("m00001", 1, BTC, BN, OK, T0, 100.0, 100.9, 9.99, 999.0, 0.7, 6.99, False)
    assert render_event(opened).splitlines() == [
        "🟢 <b>Arbitrage open · BTC-USDT</b>",
        "Buy on <b>binance</b> at 100.0000 · sell on <b>okx</b> at 100.9000",
        "Net edge <b>0.70 %</b> after fees · profit 6.99 USDT on 999 USDT (9.99 BTC)",
        "⚠️ Partial fill: the books are thinner than the monitor's size.",
        "Monitor <code>m00001</code> · 22:13:20 UTC",
    ]
    assert render_event(opened, PARIS).endswith("23:13:20 CET")
    closed = ArbClosed("m00001", 1, BTC, BN, OK, T0 + 42, T0, 0.41, None, "stale")
    assert render_event(closed).splitlines() == [
        "⚪ <b>Arbitrage closed · BTC-USDT</b> binance → okx",
        "Closed after 42 s, peak 0.41 %",
        "Why: stale",
        "Monitor <code>m00001</code> · 22:14:02 UTC",
    ]
    below = ArbClosed("m1", 1, BTC, BN, OK, T0 + 90, T0, 0.5, 0.2, "below_threshold")
    assert "Closed after 1 min 30 s, peak 0.50 % (last 0.20 %)" in render_event(below)
    assert "Why: the edge fell below the threshold" in render_event(below)
    for reason, why in (
        ("no_conversion", "no live book converts between the two quote currencies"),
        ("unverified", "a book is no longer one whose content is checked"),
    ):
        guard = ArbClosed("m1", 1, BTC, BN, OK, T0 + 9, T0, 0.5, None, reason)
        assert f"Why: {why}" in render_event(guard)  # every guard has words, not its code
    assert data([Reply("x", alert_buttons("m00001"))]) == ["m:m00001:mute", "m:m00001:stop"]


def test_live_arbitrage_message() -> None:
    opp = OpenOpportunity("m1", BTC, BN, OK, T0, 0.55, 0.61, 5.5, 100.0, 100.7, 10.0, True)
    assert render_open_opportunity(opp, T0 + 75).splitlines() == [
        "🟢 <b>Arbitrage open · BTC-USDT</b> (live)",
        "Buy on <b>binance</b> at 100.0000 · sell on <b>okx</b> at 100.7000",
        "Net edge <b>0.55 %</b> (peak 0.61 %) · profit 5.50 USDT on 10 BTC",
        "Open for 1 min 15 s",
        "Monitor <code>m1</code> · 22:14:35 UTC",
    ]


def test_market_view_signals_of_every_kind() -> None:
    def body(kind: str, **details: object) -> str:
        event = MarketViewSignal("v1", 1, BTC, T0, kind, tuple(details.items()))
        lines = render_event(event).splitlines()
        assert lines[0] == f"👁 <b>BTC-USDT</b> · {kind.replace('_', ' ')}"
        assert lines[2] == "Monitor <code>v1</code> · 22:13:20 UTC"
        return lines[1]

    assert body("best_ask_venue", venues=("okx", "bybit"), previous=("binance",), price=100.5) == (
        "Best offer now on <b>okx, bybit</b> at 100.5000 (was binance)"
    )
    assert body("mid_move", mid=101.0, previous_mid=100.0, move_pct=1.0) == (
        "Mid moved +1.00 % to 101.0000 (from 100.0000)"
    )
    assert body("spread_wide", spread_bps=12.5, bid=100.0, ask=100.125, bid_venues=("okx",),
                ask_venues=("binance",)) == (
        "Spread widened to 12.50 bps: bid 100.0000 on okx, ask 100.1250 on binance"
    )  # fmt: skip
    assert body("venue_deviation", venue="okx", side="ask", price=100.3, cbbo_price=100.1,
                deviation_bps=20.0) == (
        "okx's ask is 20.00 bps from the best (100.3000 vs 100.1000)"
    )  # fmt: skip
    assert body("crossed", buy_venues=("okx",), sell_venues=("binance",), ask=100.0, bid=100.2,
                gross_bps=20.0) == (
        "Consolidated book crossed: buy on okx at 100.0000, sell on binance at 100.2000 "
        "(20.00 bps gross)"
    )  # fmt: skip
    assert body("new_kind", note="<b>") == "note=&lt;b&gt;"


def test_split_message_cuts_between_lines() -> None:
    text_ = "\n".join(f"line {i} " + "x" * 90 for i in range(120))
    parts = split_message(text_)
    assert len(parts) == 3
    assert all(len(p) <= 4000 for p in parts)
    assert "\n".join(parts) == text_
    long_line = "&amp;" * 1000
    assert all(p.endswith(";") for p in split_message(long_line))  # never inside an entity


def test_long_listings_are_split_with_buttons_on_the_last_message(tmp_path: Path) -> None:
    bot = Bot(tmp_path, config=BotConfig(max_views_per_user=100))
    # 80 different views (a chat holds one view per symbol and venue set): 80 symbols.
    coins = [f"C{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(80)]
    bot.directory.set_instruments(
        Venue.BINANCE,
        [Instrument(Venue.BINANCE, Symbol(c, "USDT"), f"{c}USDT") for c in coins],
    )
    members = [Caller(100 + i, -5, ChatType.GROUP, f"M{i}") for i in range(5)]
    for i, coin in enumerate(coins):
        bot.say(f"/view_market {coin}-USDT binance every={i + 1}s", members[i % 5])
    out = bot.say("/status_market", members[0])
    assert len(out) == 2
    assert all(len(r.text) < 4096 for r in out)
    assert out[0].buttons == ()
    # 10 rows at most (the member's own: stop, pause), then "new"
    assert len(data(out)) == 21
    assert text(out).count("<code>m") == 80


def test_a_paused_monitor_stays_paused_when_changed(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    bot.router.chat_blocked(ALICE.chat_id)
    assert text(bot.say("/threshold m00001 0.6")).startswith("✅ Threshold set to 0.60 %:")
    assert bot.registry.monitors == {}
    assert bot.monitors.records["m00001"].chat_blocked
    bot.say("/start")
    assert bot.registry.monitors["m00001"].min_edge_pct == 0.6  # type: ignore[union-attr]
