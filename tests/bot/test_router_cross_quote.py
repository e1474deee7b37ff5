"""Conversations: an arbitrage monitor across USD and USDT quotes, converted live."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from goquant_bot.alerts.state import AlertKey, AlertKind, AlertSnapshot, Phase
from goquant_bot.bot.alert_text import AlertRenderer
from goquant_bot.bot.render_events import render_open_opportunity
from goquant_bot.domain.arbitrage import Conversion
from goquant_bot.domain.events import ArbOpened
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor
from goquant_bot.domain.users import ChatPrefs
from goquant_bot.engine.arb_records import OpenOpportunity
from tests.bot.harness import BN, BTC, LISTINGS, T0, Bot, text

CB, KR = Venue.COINBASE, Venue.KRAKEN
BTC_USD, USDT_USD = Symbol("BTC", "USD"), Symbol("USDT", "USD")
SPOT = {**LISTINGS, CB: [BTC_USD, USDT_USD], KR: [BTC_USD]}
QUOTES_EXAMPLE = (
    "Example: <code>/monitor_arb BTC-USD coinbase kraken binance 0.3 quotes=USD~USDT</code>"
)


def test_a_monitor_across_quotes_is_listed_and_its_alert_shows_the_conversion(
    tmp_path: Path,
) -> None:
    bot = Bot(tmp_path, listings=SPOT)
    out = text(bot.say("/monitor_arb BTC-USD coinbase binance 0.3 quotes=USD~USDT"))
    assert out.startswith("✅ Arbitrage monitor <code>m00001</code> created")
    assert "Also across USD~USDT quotes, converted at a live rate" in out
    monitor = bot.registry.monitors["m00001"]
    assert isinstance(monitor, ArbMonitor)
    assert (monitor.symbols, monitor.venues, monitor.quotes) == (
        (BTC_USD,),
        (CB, BN),
        ("USD", "USDT"),
    )
    listing = text(bot.say("/status_arb"))
    assert "<code>m00001</code> BTC-USD · coinbase, binance" in listing
    assert "quotes USD~USDT (converted live)" in listing
    # Buy BTC for USDT on Binance, sell it for USD on Coinbase; USDT bought on Coinbase.
    bot.quote(BN, 99.9, 100.0, BTC)
    bot.quote(CB, 101.0, 101.1, BTC_USD)
    assert bot.arb.evaluate(BTC, bot.now) == []  # no conversion book has a price yet
    bot.quote(CB, 0.9990, 0.9993, USDT_USD, size=1e6)
    (opened,) = bot.arb.evaluate(USDT_USD, bot.now)
    assert isinstance(opened, ArbOpened)
    assert (opened.buy_venue, opened.sell_venue) == (BN, CB)
    renderer = AlertRenderer(
        open_opportunities=bot.arb.open_opportunities,
        live_view=lambda monitor_id: None,
        prefs=ChatPrefs,
    )
    key = AlertKey(opened.owner, opened.monitor_id, "BTC-USD binance coinbase")
    alert = renderer.render(AlertSnapshot(key, AlertKind.ARBITRAGE, Phase.OPEN, opened), T0)
    assert "💱 Bought in USDT, sold in USD: converted at USDT-USD 0.9993 from coinbase" in alert
    assert "(live)" in alert  # the engine's current figures
    # The conversion book alone moves: the live alert follows it.
    bot.quote(CB, 0.9990, 0.9995, USDT_USD, size=1e6)
    assert bot.arb.evaluate(USDT_USD, bot.now) == []
    alert = renderer.render(AlertSnapshot(key, AlertKind.ARBITRAGE, Phase.OPEN, opened), T0)
    assert "converted at USDT-USD 0.9995 from coinbase" in alert
    assert "🟢 binance → coinbase" in text(bot.say("/status_arb"))
    # The saved monitor keeps its quotes across a restart.
    _, records = bot.saved()
    (record,) = records
    assert isinstance(record.monitor, ArbMonitor)
    assert record.monitor.quotes == ("USD", "USDT")


@pytest.mark.parametrize(
    ("option", "reason"),
    [
        ("quotes=USD~EUR", "⚠️ quotes= compares USD, USDT, USDC joined by ~: 'EUR' is not one of them."),
        ("quotes=USD", "⚠️ quotes= needs two or more different quotes joined by ~, e.g. USD~USDT."),
        ("quotes=USDT~USDC", "⚠️ BTC-USD is quoted in USD: quotes= must include it."),
        ("quotes=USD~USDC", "⚠️ None of the chosen exchanges lists USDC-USD or USD-USDC: there is no live rate to convert USDC and USD."),
    ],
)  # fmt: skip
def test_bad_quotes_are_refused_with_a_reason_and_an_example(
    tmp_path: Path, option: str, reason: str
) -> None:
    bot = Bot(tmp_path, listings=SPOT)
    out = text(bot.say(f"/monitor_arb BTC-USD coinbase binance 0.3 {option}"))
    assert out.startswith(reason)
    assert QUOTES_EXAMPLE in out
    assert bot.registry.monitors == {}


def test_without_quotes_a_venue_listing_only_the_other_quote_is_refused(tmp_path: Path) -> None:
    bot = Bot(tmp_path, listings=SPOT)
    out = text(bot.say("/monitor_arb BTC-USD coinbase binance 0.3"))
    assert "BTC-USD is not listed on binance" in out
    assert bot.registry.monitors == {}


def test_config_arb_turns_quotes_on_and_off(tmp_path: Path) -> None:
    bot = Bot(tmp_path, listings={**SPOT, KR: [BTC_USD, USDT_USD]})
    bot.say("/monitor_arb BTC-USD coinbase kraken 0.3")
    out = text(bot.say("/config_arb m00001 quotes=USD~USDT"))
    assert out.startswith("✅ Changed:")
    assert "quotes USD~USDT (converted live)" in out
    monitor = bot.registry.monitors["m00001"]
    assert isinstance(monitor, ArbMonitor)
    assert monitor.quotes == ("USD", "USDT")
    assert bot.hub.refcount(InstrumentKey(KR, USDT_USD)) == 1  # its conversion book
    out = text(bot.say("/config_arb m00001 quotes=USD~USDC"))
    assert out.startswith("⚠️ None of the chosen exchanges lists USDC-USD or USD-USDC")
    bot.say("/config_arb m00001 quotes=none")
    monitor = bot.registry.monitors["m00001"]
    assert isinstance(monitor, ArbMonitor)
    assert monitor.quotes == ()
    assert bot.hub.refcount(InstrumentKey(KR, USDT_USD)) == 0


def test_a_profit_across_quotes_is_counted_in_the_sell_legs_currency() -> None:
    """Bought for USD, sold for USDT: the profit is in USDT, whatever the monitor's symbol."""
    conversion = Conversion(
        book=USDT_USD, venue=CB, price=1.0007, rate=1.0017, pay="USD", receive="USDT"
    )
    opp = OpenOpportunity(
        monitor_id="m00001",
        symbol=BTC_USD,
        buy_venue=CB,
        sell_venue=BN,
        opened_at=T0,
        edge_pct=0.5,
        peak_edge_pct=0.5,
        profit=5.0,
        buy_price=100.0,
        sell_price=101.0,
        size=10.0,
        complete=True,
        conversion=conversion,
    )
    assert "profit 5.00 USDT on 10 BTC" in render_open_opportunity(opp, T0)
    same_quote = dataclasses.replace(opp, conversion=None)
    assert "profit 5.00 USD on 10 BTC" in render_open_opportunity(same_quote, T0)
