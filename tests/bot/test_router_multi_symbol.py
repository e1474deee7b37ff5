"""One arbitrage monitor on several symbols: created in one line, counted once, alerting per symbol."""

from __future__ import annotations

from pathlib import Path

from goquant_bot.bot.config import BotConfig
from goquant_bot.domain.events import ArbOpened
from goquant_bot.domain.monitors import ArbMonitor
from tests.bot.harness import BN, BTC, DOGE, ETH, OK, SOL, Bot, text


def test_a_monitor_on_three_symbols_counts_once_and_alerts_on_each(tmp_path: Path) -> None:
    bot = Bot(tmp_path, config=BotConfig(max_arb_per_user=1))
    out = text(bot.say("/monitor_arb BTC-USDT,ETH-USDT,SOL-USDT binance okx 0.3"))
    assert out.startswith("✅ Arbitrage monitor <code>m00001</code> created")
    assert "BTC-USDT, ETH-USDT, SOL-USDT on binance, okx" in out
    monitor = bot.registry.monitors["m00001"]
    assert isinstance(monitor, ArbMonitor)
    assert monitor.symbols == (BTC, ETH, SOL)
    status = bot.say("/status_arb")[0].text
    assert "<code>m00001</code> BTC-USDT, ETH-USDT, SOL-USDT · binance, okx · ≥ 0.30 %" in status
    # One monitor, one slot: the limit of 1 is reached.
    assert text(bot.say("/monitor_arb BTC-USDT binance okx 0.3")).startswith("⛔ You have 1 of")
    bot.quote(BN, 99.9, 100.0, symbol=SOL)
    bot.quote(OK, 101.0, 101.1, symbol=SOL)
    (opened,) = bot.arb.evaluate(SOL, bot.now)
    assert isinstance(opened, ArbOpened)
    assert (opened.monitor_id, opened.symbol) == ("m00001", SOL)


def test_each_symbol_needs_two_of_the_chosen_exchanges(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    out = text(bot.say("/monitor_arb BTC-USDT,DOGE-USDT binance okx 0.3"))
    assert out.startswith(
        "⚠️ DOGE-USDT is listed on binance of the chosen exchanges: each symbol needs two"
    )
    assert bot.registry.monitors == {}
    # "all": every enabled exchange listing any of them; each symbol on its own venues.
    assert text(bot.say("/monitor_arb BTC-USDT,ETH-USDT all 0.3")).startswith("✅")
    monitor = bot.registry.monitors["m00001"]
    assert isinstance(monitor, ArbMonitor)
    assert set(monitor.venues) >= {BN, OK}
    assert DOGE not in monitor.symbols


def test_symbol_lists_are_checked(tmp_path: Path) -> None:
    bot = Bot(tmp_path, config=BotConfig(max_symbols_per_monitor=2))
    assert text(bot.say("/monitor_arb BTC-USDT,ETH-USDT,SOL-USDT binance okx")).startswith(
        "⚠️ At most 2 symbols in one monitor (3 given)."
    )
    assert text(bot.say("/monitor_arb BTC-USDT,btc/usdt binance okx")).startswith(
        "⚠️ BTC-USDT is given twice."
    )
    assert text(bot.say("/monitor_arb BTC-USDT,NOPE-USDT binance okx")).startswith(
        "⚠️ Unknown symbol 'NOPE-USDT'."
    )
    assert bot.monitors.records == {}
