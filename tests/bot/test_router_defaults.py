"""/config size and fee apply to the monitors that use the chat's defaults; others keep theirs."""

from __future__ import annotations

from pathlib import Path

from goquant_bot.domain.monitors import ArbMonitor
from goquant_bot.monitors.schema import record_from_dict
from tests.bot.harness import ALICE, BOB, OK, Bot, text


def arb(bot: Bot, monitor_id: str) -> ArbMonitor:
    monitor = bot.registry.monitors[monitor_id]
    assert isinstance(monitor, ArbMonitor)
    return monitor


def test_new_defaults_reach_the_monitors_that_use_them(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")  # the chat's size: follows it
    bot.say("/monitor_arb ETH-USDT binance okx 0.3 size=5000")  # its own size
    bot.say("/monitor_arb SOL-USDT binance okx 0.3", BOB)  # another chat
    out = bot.say("/config size 2000")
    assert text(out).endswith(
        "↻ Applied to 1 arbitrage monitor(s) of this chat that use its defaults (those with "
        "their own size keep it; see /status_arb)."
    )
    assert arb(bot, "m00001").notional == 2000.0
    assert arb(bot, "m00002").notional == 5000.0
    assert arb(bot, "m00003").notional == 1000.0
    # Fees: every monitor created here takes the chat's fees, now and later.
    bot.say("/config fee okx 0.05")
    assert arb(bot, "m00001").fees_pct == ((OK, 0.05),)
    assert arb(bot, "m00002").fees_pct == ((OK, 0.05),)
    assert arb(bot, "m00003").fees_pct == ()
    lines = bot.say("/status_arb")[0].text.splitlines()
    assert lines[1].endswith("· size 2,000")
    assert lines[2].endswith("· size 5,000 (own)")
    # /config_arb size= makes the size its own; going back to the default leaves it alone.
    bot.say("/config_arb m00001 size=3000")
    bot.say("/config size default")
    assert arb(bot, "m00001").notional == 3000.0
    assert "(own)" in bot.say("/status_arb")[0].text.splitlines()[1]


def test_what_a_monitor_follows_survives_a_restart(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    store, records = bot.saved()
    again = Bot(tmp_path, store=store, records=records, now=bot.now, seq=bot.seq)
    assert again.router.restore_monitors() == []
    again.say("/config size 4000", ALICE)
    assert arb(again, "m00001").notional == 4000.0


def test_monitors_of_the_previous_release_keep_their_values(tmp_path: Path) -> None:
    """A state written before defaults were followed: its monitors' values are their own."""
    record = record_from_dict(
        {
            "id": "m1",
            "kind": "arb",
            "chat_id": 11,
            "user_id": 11,
            "created": 1.0,
            "spec": {
                "symbols": ["BTC-USDT"],
                "venues": ["binance", "okx"],
                "min_edge_pct": 0.3,
                "notional": 1000.0,
            },
        }
    )
    bot = Bot(tmp_path, records=[record])
    bot.router.restore_monitors()
    bot.say("/config size 2500")
    assert arb(bot, "m1").notional == 1000.0
    assert bot.say("/status_arb")[0].text.splitlines()[1].endswith("· size 1,000 (own)")
