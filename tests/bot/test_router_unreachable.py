"""While a venue's symbol list is missing, every command that needs it says so plainly."""

from __future__ import annotations

from pathlib import Path

import pytest

from goquant_bot.bot.types import Caller
from goquant_bot.domain.instruments import Venue
from tests.bot.harness import BN, T0, Bot, text

SINCE = T0 - 600  # T0 is 22:13:20 UTC
UNREACHABLE = "binance is unreachable, retrying since 22:03 UTC"
ROOT = Caller(99, 99, first_name="Root")


def _bot(tmp_path: Path, *missing: Venue) -> Bot:
    bot = Bot(tmp_path)
    for venue in missing:
        # The venue's list never loaded: what the listing keeper leaves behind.
        bot.directory._instruments.pop(venue)
        bot.directory.missing_since[venue] = SINCE
    return bot


def test_list_symbols_of_an_unreachable_venue_says_so(tmp_path: Path) -> None:
    bot = _bot(tmp_path, BN)
    out = text(bot.say("/list_symbols binance BTC"))
    assert UNREACHABLE in out
    assert "Try another filter" not in out
    assert "0 symbols" not in out
    # Without a venue: the others' symbols, and a word about the missing one.
    everything = text(bot.say("/list_symbols BTC"))
    assert "BTC-USDT" in everything
    assert UNREACHABLE in everything


def test_status_and_admin_show_the_unreachable_venue(tmp_path: Path) -> None:
    bot = _bot(tmp_path, BN)
    assert UNREACHABLE in text(bot.say("/status"))
    assert UNREACHABLE in text(bot.say("/admin", ROOT))
    assert "unreachable" not in text(Bot(tmp_path / "all-up").say("/status"))


@pytest.mark.parametrize(
    "command",
    [
        "/monitor_arb BTC-USDT binance okx 0.3",
        "/view_market BTC-USDT binance okx",
        "/get_cbbo BTC-USDT binance okx",
        # DOGE-USDT is only on Binance here: unknown to every venue reachable now.
        "/monitor_arb DOGE-USDT okx bybit 0.3",
        "/arbitrage DOGE-USDT",
        "/get_cbbo DOGE-USDT",
    ],
)
def test_commands_needing_the_venue_say_it_is_unreachable(tmp_path: Path, command: str) -> None:
    bot = _bot(tmp_path, BN)
    out = text(bot.say(command))
    assert UNREACHABLE in out
    assert "not listed on binance" not in out
    assert "Unknown symbol" not in out
    assert not bot.registry.monitors


def test_commands_on_reachable_venues_work_meanwhile(tmp_path: Path) -> None:
    bot = _bot(tmp_path, BN)
    out = text(bot.say("/monitor_arb BTC-USDT okx bybit 0.3"))
    assert "Arbitrage monitor" in out
    assert len(bot.registry.monitors) == 1


def test_the_guided_set_up_says_so_for_a_symbol_only_the_missing_venue_lists(
    tmp_path: Path,
) -> None:
    bot = _bot(tmp_path, BN)
    bot.say("/monitor_arb")
    out = text(bot.say("DOGE-USDT"))
    assert UNREACHABLE in out
    assert "Unknown symbol" not in out


def test_all_says_which_venue_it_could_not_include(tmp_path: Path) -> None:
    bot = _bot(tmp_path, BN)
    out = text(bot.say("/monitor_arb BTC-USDT all 0.3"))
    assert "Arbitrage monitor" in out
    assert f"Not included: {UNREACHABLE}" in out
    (monitor,) = bot.registry.monitors.values()
    assert BN not in monitor.venues
    assert "Not included" not in text(Bot(tmp_path / "up").say("/monitor_arb BTC-USDT all 0.3"))
