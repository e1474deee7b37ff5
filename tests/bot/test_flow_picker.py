"""The exchange picker of the guided set-up: every enabled venue, paged, the last choice first."""

from __future__ import annotations

from pathlib import Path

from goquant_bot.bot.config import BotConfig
from goquant_bot.domain.instruments import Instrument, Venue
from goquant_bot.domain.monitors import ArbMonitor
from goquant_bot.venues.feed import FeedConfig, VenueFeed
from goquant_bot.venues.gomarket import protocol_for
from goquant_bot.venues.registry import VENUES
from tests.bot.harness import BTC, LISTINGS, Bot, _no_http, _no_ws, data, text

# Fourteen native venues and two served only through GoMarket: two full pages of 8 (the
# venues beyond the fourteenth are left out so that a new venue does not add a page).
ENABLED = (*tuple(VENUES)[:14], Venue.BITMEX, Venue.HYPERLIQUID)
PAGE = 8


def picker_bot(tmp_path: Path) -> Bot:
    bot = Bot(tmp_path, config=BotConfig(admin_ids=frozenset({99}), venues=ENABLED))
    for venue in ENABLED:
        if BTC not in LISTINGS.get(venue, []):
            bot.directory.set_instruments(venue, [Instrument(venue, BTC, "BTC-USDT")])
        if venue not in bot.hub.feeds:
            spec = VENUES.get(venue)
            bot.hub.add_feed(
                VenueFeed(
                    spec.protocol if spec else protocol_for(venue),
                    bot.directory.map_for(venue),
                    FeedConfig(),
                    connector=_no_ws,
                    http=_no_http,
                    on_change=bot.hub.mark_changed,
                    clock=lambda: bot.now,
                )
            )
    return bot


def labels(out: list) -> list[list[str]]:  # type: ignore[type-arg]
    return [[b.text for b in row] for row in out[0].buttons]


def test_the_picker_pages_every_enabled_exchange_with_the_last_choice_first(
    tmp_path: Path,
) -> None:
    bot = picker_bot(tmp_path)
    assert "created" in text(bot.say("/monitor_arb BTC-USDT bybit okx 0.3"))
    nonce = data(bot.say("/monitor_arb"))[0].split(":")[1]
    _, out = bot.tap(f"f:{nonce}:s:BTC-USDT")
    rows = labels(out)
    # The last monitor's exchanges first, in its order, then the rest in display order.
    order = [Venue.BYBIT, Venue.OKX] + [v for v in ENABLED if v not in (Venue.BYBIT, Venue.OKX)]
    assert len(order) > PAGE  # the test needs a second page
    pairs = [
        [f"▫️ {a.value}", f"▫️ {b.value}"] for a, b in zip(order[::2], order[1::2], strict=False)
    ]
    assert rows[:4] == pairs[:4]
    assert rows[4] == ["1/2", "▶"]
    assert "Selected: none yet" in out[0].text
    _, out = bot.tap(f"f:{nonce}:v:!p1")
    rows = labels(out)
    second = order[PAGE:]
    venue_rows = (len(second) + 1) // 2
    assert [b for row in rows[:venue_rows] for b in row] == [f"▫️ {v.value}" for v in second]
    assert rows[venue_rows] == ["◀", "2/2"]
    _, out = bot.tap(f"f:{nonce}:v:hyperliquid")
    assert "✅ hyperliquid" in [b for row in labels(out) for b in row]  # still on page 2
    assert labels(out)[venue_rows] == ["◀", "2/2"]
    assert "Selected: hyperliquid" in out[0].text
    _, out = bot.tap(f"f:{nonce}:v:!p0")
    assert labels(out)[0] == ["▫️ bybit", "▫️ okx"]
    _, out = bot.tap(f"f:{nonce}:v:okx")
    assert "Selected: okx, hyperliquid" in out[0].text
    _, out = bot.tap(f"f:{nonce}:v:!done")
    assert "step 3 of 4" in out[0].text
    assert "on okx, hyperliquid" in out[0].text


def test_a_page_that_does_not_exist_is_refused_and_a_short_list_has_no_pages(
    tmp_path: Path,
) -> None:
    bot = picker_bot(tmp_path)
    bot.say("/monitor_arb")
    bot.tap("f:f001:s:BTC-USDT")
    answer, out = bot.tap("f:f001:v:!p2")
    assert (answer.alert, out) == (True, [])
    assert "does not exist" in answer.text
    answer, out = bot.tap("f:f001:v:!pz")
    assert (answer.alert, out) == (True, [])
    plain = Bot(tmp_path / "plain")
    plain.say("/monitor_arb")
    _, out = plain.tap("f:f001:s:BTC-USDT")
    assert not any(d.startswith("f:f001:v:!p") for d in data(out))


def test_typed_names_at_the_picker_accept_any_enabled_exchange(tmp_path: Path) -> None:
    bot = picker_bot(tmp_path)
    bot.say("/monitor_arb")
    bot.tap("f:f001:s:BTC-USDT")
    out = bot.say("binance kucoin")
    assert "step 3 of 4" in out[0].text
    assert "on binance, kucoin" in out[0].text


def test_one_line_commands_accept_any_enabled_exchange(tmp_path: Path) -> None:
    bot = picker_bot(tmp_path)
    out = text(bot.say("/monitor_arb BTC-USDT binance bitmex 0.3"))
    assert "created" in out
    monitor = next(iter(bot.registry.monitors.values()))
    assert isinstance(monitor, ArbMonitor)
    assert monitor.venues == (Venue.BINANCE, Venue.BITMEX)
    refused = text(Bot(tmp_path / "plain").say("/monitor_arb BTC-USDT binance bitmex 0.3"))
    assert "bitmex is not enabled on this bot" in refused
