"""Guided set-up: the state machine, both kinds of flow with buttons and with typing, cancel,
back, time-out, forged presses, and a flow that survives a restart of the process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from goquant_bot.bot.flows import Flow, FlowError, FlowKind, Step, start
from goquant_bot.domain.book import Integrity
from goquant_bot.domain.monitors import ArbMonitor, MarketViewMonitor
from tests.bot.harness import ALICE, BN, BOB, BTC, BY, OK, SOL, T0, Bot, button, data, text


def test_state_machine_moves_and_refusals() -> None:
    flow = start(FlowKind.ARB, "abcd", 10.0)
    assert (flow.step, flow.position) == (Step.SYMBOL, (1, 4))
    with pytest.raises(FlowError, match="arbitrage needs two"):
        flow.choose_symbol("DOGE-USDT", ["binance"], 11.0)
    flow.choose_symbol("BTC-USDT", ["binance", "okx", "bybit"], 11.0)
    assert (flow.step, flow.updated) == (Step.VENUES, 11.0)
    flow.toggle_venue("bybit", 12.0)
    flow.toggle_venue("binance", 12.0)
    assert flow.venues == ["binance", "bybit"]  # kept in listing order
    flow.toggle_venue("bybit", 12.0)
    with pytest.raises(FlowError, match=r"Pick at least two exchanges first\."):
        flow.venues_done(13.0)
    with pytest.raises(FlowError, match="does not list"):
        flow.toggle_venue("deribit", 13.0)
    with pytest.raises(FlowError, match="earlier step"):
        flow.set_threshold(0.3, 13.0)
    flow.select_all(13.0)
    flow.venues_done(14.0)
    flow.set_threshold(0.4, 15.0)
    assert (flow.step, flow.threshold, flow.position) == (Step.CONFIRM, 0.4, (4, 4))
    flow.back(16.0)
    assert flow.step is Step.THRESHOLD
    assert not flow.expired(600.0, 600.0)
    assert flow.expired(616.1, 600.0)


def test_a_view_flow_needs_one_venue_and_has_no_threshold() -> None:
    flow = start(FlowKind.VIEW, "wxyz", 0.0)
    flow.choose_symbol("DOGE-USDT", ["binance"], 1.0)
    flow.toggle_venue("binance", 1.0)
    flow.venues_done(2.0)
    assert (flow.step, flow.position) == (Step.CONFIRM, (3, 3))
    flow.back(3.0)
    flow.back(3.0)
    with pytest.raises(FlowError, match="first step"):
        flow.back(3.0)


def test_flow_state_round_trips_through_json() -> None:
    flow = start(FlowKind.ARB, "abcd", 10.0)
    flow.choose_symbol("BTC-USDT", ["binance", "okx"], 11.0)
    flow.toggle_venue("okx", 11.5)
    again = Flow.from_dict(json.loads(json.dumps(flow.to_dict())))
    assert again == flow


@pytest.mark.parametrize(
    "damage",
    [
        {"kind": "lottery"},
        {"step": "t", "kind": "view"},
        {"symbol": None},
        {"symbol": "<b>"},
        {"venues": ["ftx"]},
        {"page": -1},
        {"page": "two"},
        {"step": "c", "threshold": None},
        {"started": "yesterday"},
        {"integrity": "certified"},
    ],
)
def test_damaged_flow_state_is_refused(damage: dict[str, object]) -> None:
    flow = start(FlowKind.ARB, "abcd", 10.0)
    flow.choose_symbol("BTC-USDT", ["binance", "okx"], 11.0)
    with pytest.raises(ValueError, match="not a saved flow"):
        Flow.from_dict({**flow.to_dict(), **damage})


def test_arbitrage_flow_with_buttons(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    out = bot.say("/monitor_arb")
    assert out[0].text == (
        "<b>New arbitrage monitor</b> · step 1 of 4\n"
        "Pick an asset, or type a symbol such as <code>BTC-USDT</code>."
    )
    assert data(out) == [
        "f:f001:s:BTC-USDT", "f:f001:s:ETH-USDT", "f:f001:s:SOL-USDT", "f:f001:s:BTC-USDC",
        "f:f001:s:!x",
    ]  # fmt: skip
    answer, out = bot.tap("f:f001:s:BTC-USDT")
    assert answer.text == ""
    assert out[0].edit
    assert out[0].text.splitlines()[1] == (
        "<b>BTC-USDT</b>: pick at least two exchanges, then Done. You can also type names."
    )
    assert [b.text for b in out[0].buttons[0]] == ["▫️ binance", "▫️ okx"]
    answer, out = bot.tap("f:f001:v:!done")
    assert (answer.text, answer.alert, out) == ("Pick at least two exchanges first.", True, [])
    bot.tap("f:f001:v:binance")
    answer, out = bot.tap("f:f001:v:bybit")
    assert [b.text for row in out[0].buttons[:2] for b in row] == [
        "✅ binance",
        "▫️ okx",
        "✅ bybit",
    ]
    answer, out = bot.tap("f:f001:v:!done")
    assert "step 3 of 4" in out[0].text
    assert data(out)[:5] == [
        "f:f001:t:0.1",
        "f:f001:t:0.2",
        "f:f001:t:0.3",
        "f:f001:t:0.5",
        "f:f001:t:1",
    ]
    answer, out = bot.tap("f:f001:t:0.5")
    assert out[0].text.splitlines()[1] == (
        "Check and confirm: <b>BTC-USDT</b> on binance, bybit, alert at ≥ 0.50 % net, size "
        "1,000 (change the size with /config size)."
    )
    answer, out = bot.tap(button(out, "Create"))
    assert answer.text == "Created"
    assert out[0].edit
    assert out[0].text.startswith("✅ Arbitrage monitor <code>m00002</code> created")
    monitor = bot.registry.monitors["m00002"]
    assert isinstance(monitor, ArbMonitor)
    assert (monitor.symbols, monitor.venues, monitor.min_edge_pct) == ((BTC,), (BN, BY), 0.5)
    assert bot.store.flows == {}
    assert bot.tap("f:f001:c:!ok")[0].text == "This set-up is not yours, or it has ended."


def test_arbitrage_flow_by_typing_with_every_error(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb")
    out = bot.say("SOL-USDX")
    assert "⚠️ Unknown symbol 'SOL-USDX'. Did you mean SOL-USDT" in out[0].text
    assert "step 1 of 4" in out[0].text
    assert data(out)[0] == "f:f001:s:SOL-USDT"  # suggestions as buttons first
    assert "arbitrage needs two. Pick another symbol." in text(bot.say("DOGE-USDT"))
    assert "step 2 of 4" in text(bot.say("sol/usdt"))
    assert "⚠️ Pick at least two different exchanges" in text(bot.say("okx"))
    assert "⚠️ SOL-USDT is not listed on bybit (it is on binance, okx)." in text(
        bot.say("okx bybit")
    )
    assert "step 3 of 4" in text(bot.say("okx binance"))
    assert "⚠️ A threshold of 80.00 % is above the sanity cap of 5.00 %" in text(bot.say("80"))
    assert "⚠️ The threshold 'lots' is not a number" in text(bot.say("lots"))
    out = text(bot.say("0.25"))
    assert "alert at ≥ 0.25 % net" in out
    assert "Tap ✅ Create to confirm, or /cancel." in text(bot.say("hmm"))
    assert text(bot.say("yes")).startswith("✅ Arbitrage monitor <code>m00002</code> created")
    monitor = bot.registry.monitors["m00002"]
    assert isinstance(monitor, ArbMonitor)
    assert (monitor.symbols, monitor.venues, monitor.min_edge_pct) == ((SOL,), (OK, BN), 0.25)


def test_market_view_flow_with_all_venues(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    out = bot.say("/view_market")
    assert out[0].text.startswith("<b>New market view</b> · step 1 of 3")
    bot.tap("f:f001:s:BTC-USDT")
    _, out = bot.tap("f:f001:v:!all")
    assert [b.text for row in out[0].buttons[:2] for b in row] == [
        "✅ binance",
        "✅ okx",
        "✅ bybit",
    ]
    _, out = bot.tap("f:f001:v:!done")
    assert "live view of <b>BTC-USDT</b> on binance, okx, bybit" in out[0].text
    _, out = bot.tap("f:f001:c:!ok")
    assert out[0].text == (
        "✅ Market view <code>m00002</code> on BTC-USDT (all venues): the live message follows."
    )
    monitor = bot.registry.monitors["m00002"]
    assert isinstance(monitor, MarketViewMonitor)
    assert monitor.venues == ()


def test_back_cancel_and_stale_step_buttons(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb")
    bot.tap("f:f001:s:ETH-USDT")
    answer, out = bot.tap("f:f001:s:BTC-USDT")  # a button of the previous message
    assert answer.text == "That button belongs to another step: use the latest message."
    answer, out = bot.tap("f:f001:v:!back")
    assert "step 1 of 4" in out[0].text
    answer, out = bot.tap("f:f001:s:!back")
    assert answer.text == "This is the first step."
    answer, out = bot.tap("f:f001:s:!x")
    assert (answer.text, out[0].text, out[0].edit) == ("Cancelled", "Set-up cancelled.", True)
    assert bot.store.flows == {}
    bot.say("/view_market")
    assert text(bot.say("/cancel")) == "Set-up cancelled."


def test_a_flow_times_out_cleanly(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb")
    bot.tap("f:f001:s:BTC-USDT")
    bot.now += 601
    answer, out = bot.tap("f:f001:v:okx")
    assert answer.text == "Timed out"
    assert text(out) == "⌛ This set-up timed out. Start again with /monitor_arb."
    assert bot.store.flows == {}
    bot.say("/view_market")
    bot.now += 601
    assert text(bot.say("BTC-USDT")).startswith(
        "⌛ Your set-up timed out. Start again with /view_market."
    )


@pytest.mark.parametrize(
    "forged",
    [
        "f:f001:s:NOPE-USDT",
        "f:f001:s:<b>",
        "f:f001:v:bitmex",
        "f:zzzz:s:BTC-USDT",
        "f:f001",
        "f::::",
    ],
)
def test_forged_flow_presses_are_refused(tmp_path: Path, forged: str) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb")
    if forged == "f:f001:v:bitmex":
        bot.tap("f:f001:s:BTC-USDT")
    answer, out = bot.tap(forged)
    assert answer.alert
    assert answer.text
    assert out == []
    assert bot.registry.monitors == {}
    answer, out = bot.tap("f:f001:s:BTC-USDT", BOB)
    assert answer.text == "This set-up is not yours, or it has ended."


def test_a_flow_survives_a_restart(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb")
    bot.tap("f:f001:s:BTC-USDT")
    bot.tap("f:f001:v:binance")
    bot.tap("f:f001:v:okx")
    store, records = bot.saved()
    restarted = Bot(tmp_path, store=store, records=records, now=T0 + 30, seq=1)
    assert restarted.router.restore_monitors() == []
    _, out = restarted.tap("f:f001:v:!done")
    assert "step 3 of 4" in out[0].text
    restarted.say("0.3")
    assert text(restarted.say("ok")).startswith("✅ Arbitrage monitor <code>m00002</code> created")
    monitor = restarted.registry.monitors["m00002"]
    assert isinstance(monitor, ArbMonitor)
    assert monitor.venues == (BN, OK)
    assert monitor.owner == ALICE.chat_id


def test_the_confirm_step_offers_the_integrity_tier(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/monitor_arb")
    bot.tap("f:f001:s:BTC-USDT")
    bot.tap("f:f001:v:binance")
    bot.tap("f:f001:v:okx")
    bot.tap("f:f001:v:!done")
    _, confirm = bot.tap("f:f001:t:0.5")
    assert "f:f001:c:iverified" in data(confirm)
    assert "f:f001:c:isnapshot" not in data(confirm)  # the default is what it has
    answer, out = bot.tap("f:f001:c:ibogus")
    assert (answer.text, answer.alert, out) == (
        "This set-up is not yours, or it has ended.",
        True,
        [],
    )
    _, out = bot.tap(button(confirm, "Verified books only"))
    assert out[0].text.splitlines()[1].endswith("/config size). Verified books only.")
    assert "f:f001:c:isnapshot" in data(out)
    saved = Flow.from_dict(json.loads(json.dumps(bot.store.flows[(11, 11)].to_dict())))
    assert saved.integrity == "verified"
    bot.tap("f:f001:c:!ok")
    monitor = bot.registry.monitors["m00002"]
    assert isinstance(monitor, ArbMonitor)
    assert monitor.min_integrity is Integrity.VERIFIED

    bot.say("/view_market")
    bot.tap("f:f003:s:BTC-USDT")
    bot.tap("f:f003:v:!all")
    _, out = bot.tap("f:f003:v:!done")
    _, out = bot.tap(button(out, "Unverified too"))
    assert out[0].text.splitlines()[1].endswith("Unverified books too.")
    bot.tap("f:f003:c:!ok")
    view = bot.registry.monitors["m00004"]
    assert isinstance(view, MarketViewMonitor)
    assert view.min_integrity is Integrity.UNVERIFIED
