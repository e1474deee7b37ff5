"""The one monitor schema: today's state files load, saving and loading keeps every monitor,
and ``replay --monitors`` reads what the state file holds."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from goquant_bot.bot.users import UserStore
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor, FiringPolicy, MarketViewMonitor
from goquant_bot.monitors.records import MonitorKind, MonitorRecord
from goquant_bot.monitors.schema import (
    export_monitors,
    load_monitors,
    record_to_dict,
    records_from_entries,
)
from goquant_bot.storage.state import load_state
from tests.bot.harness import ALICE, BN, BOB, BY, OK, Bot, text

FIXTURE = Path(__file__).parent / "data" / "state-v1.json"  # written by the previous release


def test_a_state_file_of_the_previous_release_loads_with_the_same_monitors(
    tmp_path: Path,
) -> None:
    loaded = load_state(FIXTURE)
    assert loaded.problems == []
    assert loaded.value is not None
    records, problems = records_from_entries(loaded.value.monitors)
    assert problems == []
    by_id = {r.id: r for r in records}
    assert list(by_id) == ["m00001", "m00002", "m00003", "m00005", "m00006"]
    first = by_id["m00001"].monitor
    assert isinstance(first, ArbMonitor)
    assert (first.symbols, first.venues, first.min_edge_pct) == (
        (Symbol("BTC", "USDT"),),
        (BN, OK),
        0.3,
    )
    assert first.fees_pct == ((OK, 0.05),)  # the chat's fee, kept with the monitor
    once = by_id["m00002"].monitor
    assert isinstance(once, ArbMonitor)
    assert (once.venues, once.notional, once.min_duration_s, once.policy) == (
        (BN, OK, BY),
        5000.0,
        10.0,
        FiringPolicy.ONCE,
    )
    view = by_id["m00003"]
    assert view.kind is MonitorKind.VIEW
    assert isinstance(view.monitor, MarketViewMonitor)
    assert view.monitor.venues == (BN, OK)
    blocked = by_id["m00005"]  # its chat had blocked the bot: kept, not running
    assert (blocked.chat_blocked, blocked.paused, blocked.runs) == (True, False, False)
    group = by_id["m00006"]
    assert (group.chat_id, group.user_id) == (-100_123, ALICE.user_id)
    store = UserStore.from_dict(loaded.value.users)
    assert [r.id for r in store.previous[ALICE.user_id]] == ["m00004"]  # stopped, reusable
    assert not store.prefs(22).active

    bot = Bot(tmp_path, store=store, records=records)
    assert bot.router.restore_monitors() == []
    assert sorted(bot.registry.monitors) == ["m00001", "m00002", "m00003", "m00006"]
    restored = bot.monitors.restore_open(loaded.value.opportunities, confirm_by=bot.now + 60)
    assert restored == 1
    assert "⏸ paused" in text(bot.say("/status_arb", BOB))


SYMBOLS = st.sampled_from([Symbol("BTC", "USDT"), Symbol("ETH", "USDT"), Symbol("SOL", "USDC")])
VENUE_SETS = st.lists(st.sampled_from(list(Venue)), min_size=2, max_size=5, unique=True)
POSITIVE = st.floats(min_value=0.01, max_value=50, allow_nan=False)


@st.composite
def monitors(draw: st.DrawFn, monitor_id: str) -> ArbMonitor | MarketViewMonitor:
    owner = draw(st.sampled_from([11, 22, -100_123]))
    if draw(st.booleans()):
        venues = tuple(draw(VENUE_SETS))
        edge = draw(st.none() | POSITIVE)
        return ArbMonitor(
            id=monitor_id,
            owner=owner,
            symbols=tuple(draw(st.lists(SYMBOLS, min_size=1, max_size=3, unique=True))),
            venues=venues,
            min_edge_pct=edge,
            min_profit=draw(POSITIVE) if edge is None else draw(st.none() | POSITIVE),
            notional=draw(st.floats(min_value=10, max_value=1e6)),
            fees_pct=tuple((v, draw(st.floats(min_value=0, max_value=0.5))) for v in venues[:1]),
            min_duration_s=draw(st.floats(min_value=0, max_value=3600)),
            allow_polled=draw(st.booleans()),
            policy=draw(st.sampled_from(list(FiringPolicy))),
        )
    return MarketViewMonitor(
        id=monitor_id,
        owner=owner,
        symbol=draw(SYMBOLS),
        venues=tuple(draw(st.lists(st.sampled_from(list(Venue)), max_size=3, unique=True))),
        best_venue_change=True,
        mid_move_pct=draw(st.none() | POSITIVE),
        spread_above_bps=draw(st.none() | POSITIVE),
        venue_deviation_bps=draw(st.none() | POSITIVE),
        cooldown_s=draw(st.floats(min_value=0, max_value=600)),
        crossed_min_bps=draw(st.none() | st.floats(min_value=0, max_value=100)),
        crossed_min_s=draw(st.floats(min_value=0, max_value=60)),
        alert_cooldown_s=draw(st.floats(min_value=0, max_value=3600)),
    )


@st.composite
def record_sets(draw: st.DrawFn) -> list[MonitorRecord]:
    count = draw(st.integers(min_value=0, max_value=8))
    out = []
    for n in range(count):
        monitor = draw(monitors(f"m{n}"))
        out.append(
            MonitorRecord(
                id=monitor.id,
                kind=MonitorKind.ARB if isinstance(monitor, ArbMonitor) else MonitorKind.VIEW,
                chat_id=monitor.owner,
                user_id=draw(st.sampled_from([11, 22])),
                created=draw(st.floats(min_value=0, max_value=2e9)),
                monitor=monitor,
                paused=draw(st.booleans()),
                chat_blocked=draw(st.booleans()),
                follows=frozenset(draw(st.sets(st.sampled_from(["size", "fees"])))),
            )
        )
    return out


@settings(max_examples=60, deadline=None)
@given(record_sets())
def test_saving_and_restoring_any_set_of_monitors_gives_the_same_set(
    records: list[MonitorRecord],
) -> None:
    saved = json.loads(json.dumps([record_to_dict(r) for r in records]))  # as the file holds it
    again, problems = records_from_entries(saved)
    assert problems == []
    assert again == records


@settings(max_examples=30, deadline=None)
@given(record_sets())
def test_replay_reads_the_schema_the_state_file_holds(records: list[MonitorRecord]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        exported = Path(tmp) / "export.json"
        exported.write_bytes(export_monitors(records))
        assert load_monitors(exported) == records
        bare = Path(tmp) / "monitors.json"  # the state file's list, as it is
        bare.write_text(json.dumps([record_to_dict(r) for r in records]))
        assert load_monitors(bare) == records


def test_a_state_file_of_the_previous_release_replays(tmp_path: Path) -> None:
    """Its monitor entries, copied into a file, are a valid ``replay --monitors`` file."""
    raw = json.loads(FIXTURE.read_text())
    path = tmp_path / "monitors.json"
    path.write_text(json.dumps(raw["users"]["monitors"]))
    assert [r.id for r in load_monitors(path)] == ["m00001", "m00002", "m00003", "m00005", "m00006"]


@settings(max_examples=40, deadline=None)
@given(record_sets(), st.lists(st.sampled_from(["scalp", "wide", "btc-eth", "Ω"]), unique=True))
def test_templates_survive_a_save_and_restore_as_they_were(
    records: list[MonitorRecord], names: list[str]
) -> None:
    """Templates are monitor records under a user's names: the same schema, the same set."""
    store = UserStore()
    for name, record in zip(names, records, strict=False):
        store.templates.setdefault(record.user_id, {})[name] = record
    saved = json.loads(json.dumps(store.to_dict()))  # as the state file holds it
    assert UserStore.from_dict(saved).templates == store.templates
