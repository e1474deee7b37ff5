"""Templates: save a monitor's settings under a name, reuse them in one line, a button, /start."""

from __future__ import annotations

from pathlib import Path

from goquant_bot.domain.monitors import ArbMonitor, MarketViewMonitor
from tests.bot.harness import BN, BOB, BY, ETH, OK, Bot, button, data, text


def arb(bot: Bot, monitor_id: str) -> ArbMonitor:
    monitor = bot.registry.monitors[monitor_id]
    assert isinstance(monitor, ArbMonitor)
    return monitor


def test_save_a_template_and_reuse_it_in_one_line(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb ETH-USDT binance okx bybit 0.45 size=5000 min=10s once")
    assert text(bot.say("/template save scalp m00001")) == (
        "📑 Saved <code>m00001</code>'s settings as <b>scalp</b>. "
        "Reuse: <code>/monitor_arb template=scalp</code>"
    )
    bot.say("/stop_arb m00001")
    out = text(bot.say("/monitor_arb template=scalp"))
    assert out.startswith("✅ Monitor <code>m00002</code> created from template <b>scalp</b>:")
    again = arb(bot, "m00002")
    assert (again.symbols, again.venues, again.min_edge_pct) == ((ETH,), (BN, OK, BY), 0.45)
    assert (again.notional, again.min_duration_s, again.policy.value) == (5000.0, 10.0, "once")
    listing = text(bot.say("/template"))
    assert "<b>scalp</b>: <code>m00001</code> ETH-USDT" in listing
    assert text(bot.say("/template delete scalp")) == "🗑 Template <b>scalp</b> deleted."
    assert text(bot.say("/monitor_arb template=scalp")).startswith(
        "⚠️ No template named 'scalp' for this kind of monitor"
    )


def test_templates_are_checked_and_belong_to_their_user(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb ETH-USDT binance okx 0.3")
    bot.say("/view_market ETH-USDT binance okx")
    assert text(bot.say("/template save Bad!name m00001")).startswith(
        "⚠️ 'Bad!name' is not a template name"
    )
    assert text(bot.say("/template save x m00001", BOB)).startswith(
        "⚠️ No monitor of yours has the id 'm00001'"
    )
    bot.say("/template save look m00002")
    assert text(bot.say("/monitor_arb template=look")).startswith("⚠️ No template named 'look'")
    assert text(bot.say("/view_market template=look")).startswith(
        "⚠️ This chat already has a view of ETH-USDT on these venues: m00002."
    )
    bot.say("/stop_market m00002")
    out = text(bot.say("/view_market template=look"))
    assert out.startswith("✅ Monitor <code>m00003</code> created from template <b>look</b>")
    assert isinstance(bot.registry.monitors["m00003"], MarketViewMonitor)
    assert text(bot.say("/monitor_arb template=look", BOB)).startswith("⚠️ No template")


def test_the_guided_flow_and_start_offer_templates(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb ETH-USDT binance okx 0.45")
    bot.say("/template save eth m00001")
    out = bot.say("/monitor_arb")
    assert "f:f002:s:#eth" in data(out)
    _, created = bot.tap(button(out, "📑 eth"))
    assert text(created).startswith("✅ Monitor <code>m00003</code> created from template")
    assert bot.store.flows == {}
    assert arb(bot, "m00003").min_edge_pct == 0.45
    start = bot.say("/start")
    assert "♻️ Reuse your last configuration <b>eth</b>?" in text(start)
    _, reused = bot.tap(button(start, "♻️ Reuse eth"))
    assert text(reused).startswith("✅ Monitor <code>m00004</code> created from template")


def test_templates_survive_a_restart(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb ETH-USDT binance okx 0.45")
    bot.say("/template save eth m00001")
    store, records = bot.saved()
    again = Bot(tmp_path, store=store, records=records, now=bot.now, seq=bot.seq)
    again.router.restore_monitors()
    assert text(again.say("/monitor_arb template=eth")).startswith("✅ Monitor <code>m00002</code>")
