"""Conversations: a monitor that requires a tier of book integrity, and alerts that show it."""

from __future__ import annotations

from pathlib import Path

from goquant_bot.bot.render_events import render_event
from goquant_bot.domain.book import Integrity
from goquant_bot.domain.events import MarketViewSignal
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor, MarketViewMonitor
from tests.bot.harness import BN, BOB, BTC, LISTINGS, OK, T0, Bot, text

GM = Venue.GEMINI

TIER_ERROR = "⚠️ integrity= 'certified' is not a tier: give verified"
BOTH_ERROR = "⚠️ Polled books are snapshots, so they never meet integrity=verified"


def test_an_arbitrage_monitor_requiring_verified_books_alerts_only_on_verified_ones(
    tmp_path: Path,
) -> None:
    bot = Bot(tmp_path)
    out = text(bot.say("/monitor_arb BTC-USDT binance okx 0.3 integrity=verified"))
    assert out.startswith("✅ Arbitrage monitor <code>m00001</code> created")
    assert "Verified books only (✓: sequence numbers or checksums checked)." in out
    monitor = bot.registry.monitors["m00001"]
    assert isinstance(monitor, ArbMonitor)
    assert monitor.min_integrity is Integrity.VERIFIED
    assert "verified books only" in text(bot.say("/status_arb"))
    bot.quote(BN, 99.9, 100.0)
    bot.quote(OK, 101.0, 101.1).integrity = Integrity.SNAPSHOT
    assert bot.arb.evaluate(BTC, bot.now) == []
    assert bot.arb.guards["below_tier"] == 1
    bot.quote(OK, 101.0, 101.1).integrity = Integrity.VERIFIED
    (opened,) = bot.arb.evaluate(BTC, bot.now)
    assert opened.monitor_id == "m00001"


def test_a_bad_tier_or_a_contradiction_is_refused_with_a_reason(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    out = text(bot.say("/monitor_arb BTC-USDT binance okx 0.3 integrity=certified"))
    assert out.startswith(TIER_ERROR)
    assert "integrity=verified</code>" in out  # the example
    out = text(bot.say("/monitor_arb BTC-USDT binance okx 0.3 polled integrity=verified"))
    assert out.startswith(BOTH_ERROR)
    assert bot.registry.monitors == {}
    bot.say("/monitor_arb BTC-USDT binance okx 0.3 polled")
    out = text(bot.say("/config_arb m00001 integrity=verified"))
    assert out.startswith(BOTH_ERROR)
    monitor = bot.registry.monitors["m00001"]
    assert isinstance(monitor, ArbMonitor)
    assert (monitor.allow_polled, monitor.min_integrity) == (True, Integrity.SNAPSHOT)
    out = text(bot.say("/config_arb m00001 polled=off integrity=verified"))
    assert out.startswith("✅ Changed:")
    assert "verified books only" in out
    out = text(bot.say("/config_arb m00001 integrity=any"))
    assert "unverified books too" in out
    monitor = bot.registry.monitors["m00001"]
    assert isinstance(monitor, ArbMonitor)
    assert monitor.min_integrity is Integrity.UNVERIFIED


def test_a_market_view_takes_a_tier_and_its_alert_marks_each_venue(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    assert bot.say("/view_market BTC-USDT all integrity=verified") == []  # its live message
    view = bot.registry.monitors["m00001"]
    assert isinstance(view, MarketViewMonitor)
    assert view.min_integrity is Integrity.VERIFIED
    assert "verified books only" in text(bot.say("/status_market"))
    bot.quote(BN, 100.0, 100.2)
    bot.quote(OK, 100.1, 100.3).integrity = Integrity.SNAPSHOT
    live = bot.router.live_view_text("m00001")
    assert live is not None
    assert "okx~      not counted: below tier" in live  # the view's own consolidated book
    assert "binance✓" in live
    assert text(bot.say("/config_market m00001 integrity=certified")).startswith(TIER_ERROR)
    out = text(bot.say("/config_market m00001 integrity=snapshot"))
    assert out.startswith("✅ Changed:")
    assert "books only" not in out  # the default is not spelled out
    signal = MarketViewSignal(
        monitor_id="m00001",
        owner=11,
        symbol=BTC,
        ts=T0,
        kind="best_bid_venue",
        details=(("venues", ("gemini",)), ("previous", ("binance",)), ("price", 100.2)),
        trust=((BN, Integrity.VERIFIED), (OK, Integrity.VERIFIED), (GM, Integrity.SNAPSHOT)),
    )
    assert render_event(signal).splitlines() == [
        "👁 <b>BTC-USDT</b> · best bid venue",
        "Best bid now on <b>gemini~</b> at 100.2000 (was binance✓)",
        "~ book snapshots or timestamps only",
        "Monitor <code>m00001</code> · 22:13:20 UTC",
    ]


def test_a_monitor_that_could_never_use_its_venues_books_is_refused(tmp_path: Path) -> None:
    bot = Bot(tmp_path, listings={**LISTINGS, GM: [BTC]})  # Gemini's books are snapshots
    out = text(bot.say("/monitor_arb BTC-USDT binance gemini 0.3 integrity=verified"))
    assert out.startswith(
        "⚠️ The books of gemini~ (snapshot) are below integrity=verified, so this monitor "
        "could never use them. Add integrity=snapshot to accept them, or choose other exchanges."
    )
    assert bot.registry.monitors == {}
    out = text(bot.say("/monitor_arb BTC-USDT binance okx gemini 0.3 integrity=verified"))
    assert out.startswith("✅ Arbitrage monitor <code>m00001</code> created")
    assert "Not used at integrity=verified: gemini~ (snapshot) (integrity=snapshot would)." in out
    bot.say("/monitor_arb BTC-USDT binance gemini 0.3")
    out = text(bot.say("/config_arb m00002 integrity=verified"))
    assert out.startswith("⚠️ The books of gemini~ (snapshot) are below integrity=verified")
    monitor = bot.registry.monitors["m00002"]
    assert monitor.min_integrity is Integrity.SNAPSHOT  # unchanged
    assert bot.say("/view_market BTC-USDT gemini integrity=verified")[0].text.startswith(
        "⚠️ The books of gemini~ (snapshot) are below integrity=verified"
    )
    assert bot.say("/view_market BTC-USDT gemini binance integrity=verified") == []


def test_changing_a_monitor_into_a_group_already_open_announces_nothing_again(
    tmp_path: Path,
) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    bot.say("/monitor_arb BTC-USDT binance okx 0.3 integrity=verified", BOB)
    bot.quote(BN, 99.9, 100.0)
    bot.quote(OK, 101.0, 101.1)
    opened = bot.arb.evaluate(BTC, bot.now)
    assert sorted(e.monitor_id for e in opened) == ["m00001", "m00002"]
    bot.published.clear()
    for change in ("integrity=verified", "size=5000", "integrity=snapshot"):
        assert text(bot.say(f"/config_arb m00001 {change}")).startswith("✅ Changed:")
        assert bot.published == []  # still open, never announced a second time
        assert bot.arb.evaluate(BTC, bot.now) == []
        assert [o.buy_venue for o in bot.arb.open_opportunities("m00001")] == [BN]


def test_a_view_over_all_venues_that_could_count_none_is_refused(tmp_path: Path) -> None:
    bot = Bot(tmp_path, listings={BN: [Symbol("ETH", "USDT")], GM: [BTC]})  # BTC: Gemini only
    out = text(bot.say("/view_market BTC-USDT integrity=verified"))
    assert out.startswith("⚠️ The books of gemini~ (snapshot) are below integrity=verified")
    assert bot.registry.monitors == {}
    assert bot.say("/view_market BTC-USDT") == []  # snapshot books count by default
    out = text(bot.say("/config_market m00001 integrity=verified"))
    assert out.startswith("⚠️ The books of gemini~ (snapshot) are below integrity=verified")


def test_across_quotes_a_conversion_book_must_meet_the_tier_too(tmp_path: Path) -> None:
    btc_usd, usdt_usd = Symbol("BTC", "USD"), Symbol("USDT", "USD")
    # Gemini (snapshot books) is the only exchange listing the conversion book USDT-USD.
    bot = Bot(tmp_path, listings={**LISTINGS, OK: [BTC, btc_usd], GM: [btc_usd, usdt_usd]})
    command = "/monitor_arb BTC-USD okx binance gemini 0.3 quotes=USD~USDT"
    out = text(bot.say(f"{command} integrity=verified"))
    assert out.startswith(
        "⚠️ Only exchanges below integrity=verified list a conversion book between USD~USDT: "
        "this monitor could never convert."
    )
    assert bot.registry.monitors == {}
    assert text(bot.say(command)).startswith("✅ Arbitrage monitor <code>m00001</code> created")
    out = text(bot.say("/config_arb m00001 integrity=verified"))
    assert out.startswith("⚠️ Only exchanges below integrity=verified list a conversion book")
