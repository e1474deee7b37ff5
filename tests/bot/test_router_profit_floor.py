"""A floor on the net profit beside the edge: one line, /config_arb and the guided flow."""

from __future__ import annotations

from pathlib import Path

from goquant_bot.domain.monitors import ArbMonitor
from tests.bot.harness import BN, BTC, OK, Bot, button, text


def arb(bot: Bot, monitor_id: str = "m00001") -> ArbMonitor:
    monitor = bot.registry.monitors[monitor_id]
    assert isinstance(monitor, ArbMonitor)
    return monitor


def test_both_conditions_must_hold_when_both_are_given(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    out = text(bot.say("/monitor_arb BTC-USDT binance okx 0.3 min_profit=9"))
    assert "the net edge after fees reaches <b>0.30 %</b> and the net profit reaches" in out
    assert "<b>9 USDT</b> at 1,000 USDT" in out
    assert (arb(bot).min_edge_pct, arb(bot).min_profit) == (0.3, 9.0)
    line = bot.say("/status_arb")[0].text.splitlines()[1]
    assert "· ≥ 0.30 % · profit ≥ 9 · size 1,000" in line
    # An edge of 0.8 % nets 8 on 1,000: above 0.3 % but below 9 of profit, so no alert.
    bot.quote(BN, 99.9, 100.0)
    bot.quote(OK, 101.0, 101.1)
    assert bot.arb.evaluate(BTC, bot.now) == []
    bot.say("/config_arb m00001 min_profit=5")
    assert [e.monitor_id for e in bot.arb.evaluate(BTC, bot.now + 1)] == ["m00001"]


def test_a_profit_floor_alone_and_removing_it(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    out = text(bot.say("/monitor_arb BTC-USDT binance okx min_profit=5"))
    assert "Alert when the net profit reaches <b>5 USDT</b> at 1,000 USDT" in out
    assert (arb(bot).min_edge_pct, arb(bot).min_profit) == (None, 5.0)
    assert text(bot.say("/config_arb m00001 min_profit=off")).startswith(
        "⚠️ Keep a threshold or a minimum profit: a monitor needs one of them."
    )
    assert text(bot.say("/config_arb m00001 threshold=0.4 min_profit=off")).startswith("✅")
    assert (arb(bot).min_edge_pct, arb(bot).min_profit) == (0.4, None)
    assert text(bot.say("/monitor_arb BTC-USDT binance okx min_profit=-2")).startswith(
        "⚠️ The minimum profit must be above 0"
    )


def test_the_guided_flow_offers_a_profit_floor(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb")
    bot.tap("f:f001:s:BTC-USDT")
    bot.tap("f:f001:v:binance")
    bot.tap("f:f001:v:okx")
    bot.tap("f:f001:v:!done")
    _, out = bot.tap("f:f001:t:0.3")
    assert "Optional: a floor on the net profit" in out[0].text
    _, out = bot.tap(button(out, "profit ≥ 10"))
    assert "≥ 0.30 % net and a net profit ≥ 10 USDT" in out[0].text
    out = bot.say("profit 7")  # typed
    assert "and a net profit ≥ 7 USDT" in out[0].text
    _, created = bot.tap("f:f001:c:!ok")
    assert text(created).startswith("✅ Arbitrage monitor <code>m00002</code> created")
    assert (arb(bot, "m00002").min_edge_pct, arb(bot, "m00002").min_profit) == (0.3, 7.0)
