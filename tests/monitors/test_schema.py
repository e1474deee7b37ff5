from __future__ import annotations

import json
from pathlib import Path

import pytest

from goquant_bot.domain.book import Integrity
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor, FiringPolicy, MarketViewMonitor
from goquant_bot.errors import RejectedInput
from goquant_bot.monitors.schema import load_monitors, monitor_from_dict, monitor_to_dict

ARB = ArbMonitor(
    id="m1", owner=42, symbols=(Symbol("BTC", "USDT"), Symbol("ETH", "USDT")),
    venues=(Venue.BINANCE, Venue.OKX), min_edge_pct=0.3, min_profit=2.0, notional=5000.0,
    fees_pct=((Venue.BINANCE, 0.075),), min_duration_s=1.5, allow_polled=True, policy=FiringPolicy.ONCE,
)  # fmt: skip
VIEW = MarketViewMonitor(
    id="v1", owner=-100123, symbol=Symbol("BTC", "USDC"), venues=(), best_venue_change=True,
    mid_move_pct=0.2, spread_above_bps=15.0, venue_deviation_bps=None, cooldown_s=10.0,
)  # fmt: skip


@pytest.mark.parametrize("monitor", [ARB, VIEW])
def test_round_trip(monitor: ArbMonitor | MarketViewMonitor) -> None:
    data = monitor_to_dict(monitor)
    assert monitor_from_dict(json.loads(json.dumps(data))) == monitor


def test_load_monitors_file(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps([
        {"id": "m1", "kind": "arbitrage", "symbols": ["BTC-USDT"], "venues": ["binance", "okx"],
         "min_edge_pct": 0.1, "notional": 1000, "fees_pct": {"binance": 0.1, "okx": 0.1}},
        {"id": "v1", "kind": "market_view", "symbol": "BTC-USDT", "best_venue_change": True},
        {"id": "all", "kind": "arbitrage", "symbols": ["ETH-USDT"], "min_edge_pct": 0.2},
    ]))  # fmt: skip
    records = load_monitors(path)
    arbs = [r.monitor for r in records if isinstance(r.monitor, ArbMonitor)]
    views = [r.monitor for r in records if isinstance(r.monitor, MarketViewMonitor)]
    assert [m.id for m in arbs] == ["m1", "all"]
    assert arbs[1].venues == tuple(Venue)
    assert arbs[0].fee_overrides() == {Venue.BINANCE: 0.1, Venue.OKX: 0.1}
    assert views[0].best_venue_change


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '[{"id": "m", "kind": "arbitrage", "symbols": ["BTC-USDT"]}]',
            "minimum edge or a minimum profit",
        ),
        (
            '[{"id": "m", "kind": "arbitrage", "symbols": ["BTCUSDT"], "min_edge_pct": 1}]',
            "BASE-QUOTE",
        ),
        (
            '[{"id": "m", "kind": "arbitrage", "symbols": ["BTC-USDT"], "venues": ["ftx"], "min_edge_pct": 1}]',
            "venues",
        ),
        ('[{"id": "m", "kind": "spread"}]', "kind"),
        (
            '[{"id": "m", "kind": "market_view", "symbol": "BTC-USDT"}, {"id": "m", "kind": "market_view", "symbol": "BTC-USDT", "best_venue_change": true}]',
            "at least one signal",
        ),
        ("{", "not JSON"),
    ],
)
def test_bad_files_say_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "m.json"
    path.write_text(content)
    with pytest.raises(RejectedInput, match=message):
        load_monitors(path)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    entry = {"kind": "market_view", "symbol": "BTC-USDT", "best_venue_change": True}
    path.write_text(json.dumps([{"id": "a", **entry}, {"id": "a", **entry}]))
    with pytest.raises(RejectedInput, match="used twice"):
        load_monitors(path)


def test_bad_state_entry_is_refused() -> None:
    with pytest.raises(RejectedInput, match="invalid monitor"):
        monitor_from_dict({"id": "x", "kind": "arbitrage"})


def test_quotes_round_trip_and_entries_without_them_load_as_none() -> None:
    import dataclasses

    cross = dataclasses.replace(ARB, symbols=(Symbol("BTC", "USD"),), quotes=("USD", "USDT"))
    data = monitor_to_dict(cross)
    assert data["quotes"] == "USD~USDT"
    assert monitor_from_dict(json.loads(json.dumps(data))) == cross
    old = monitor_to_dict(ARB)
    assert old["quotes"] == "none"
    del old["quotes"]  # written before the option existed
    loaded = monitor_from_dict(old)
    assert isinstance(loaded, ArbMonitor)
    assert loaded.quotes == ()
    with pytest.raises(RejectedInput, match="quotes"):
        monitor_from_dict({**data, "quotes": "USD~EUR"})


def test_the_required_tier_round_trips_and_older_entries_accept_snapshot_books() -> None:
    import dataclasses

    for monitor in (dataclasses.replace(ARB, allow_polled=False), VIEW):
        strict = dataclasses.replace(monitor, min_integrity=Integrity.VERIFIED)
        data = monitor_to_dict(strict)
        assert data["integrity"] == "verified"
        assert monitor_from_dict(json.loads(json.dumps(data))) == strict
        del data["integrity"]  # written before schema 4
        loaded = monitor_from_dict(data)
        assert loaded.min_integrity is Integrity.SNAPSHOT
        # The default is not written: the release before the option still reads the entry.
        assert monitor_to_dict(loaded) == data
        with pytest.raises(RejectedInput, match="integrity"):
            monitor_from_dict({**data, "integrity": "certified"})
    polled = {**monitor_to_dict(ARB), "allow_polled": True, "integrity": "verified"}
    with pytest.raises(RejectedInput, match="integrity=verified"):
        monitor_from_dict(polled)
