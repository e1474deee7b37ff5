from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goquant_bot.domain.opportunity import PeakTracker, ThresholdGroup, Transition


def names(transitions: list[Transition]) -> list[tuple[str, bool]]:
    return [(t.monitor_id, t.opened) for t in transitions]


def test_opens_at_threshold_and_closes_below_the_hysteresis_band() -> None:
    group = ThresholdGroup(hysteresis=0.2)
    for i, threshold in enumerate([0.1, 0.3, 0.5]):
        group.add(f"m{i}", threshold, 0.0, 0.0)
    assert names(group.update(0.35, 1.0)) == [("m0", True), ("m1", True)]
    # 0.25 is inside m1's band (0.24 .. 0.3): no flapping
    assert group.update(0.25, 2.0) == []
    assert group.update(0.31, 3.0) == []
    closed = group.update(0.2, 4.0)
    assert names(closed) == [("m1", False)]
    assert closed[0].peak_edge == 0.35
    assert closed[0].opened_at == 1.0
    assert closed[0].reason == "below_threshold"
    assert group.open_ids() == ["m0"]
    assert names(group.update(0.6, 5.0)) == [("m1", True), ("m2", True)]


def test_guard_failure_closes_everything_with_its_reason() -> None:
    group = ThresholdGroup(hysteresis=0.2)
    group.add("a", 0.1, 0.0, 0.0)
    group.add("b", 0.2, 0.0, 0.0)
    group.update(0.5, 1.0)
    closed = group.fail(2.0, "stale")
    assert sorted(names(closed)) == [("a", False), ("b", False)]
    assert {t.reason for t in closed} == {"stale"}
    assert group.open_ids() == []
    # Back with the same edge: a new opening (the data was untrusted in between).
    assert sorted(names(group.update(0.5, 3.0))) == [("a", True), ("b", True)]


def test_minimum_duration_waits_and_an_interruption_restarts_it() -> None:
    group = ThresholdGroup(hysteresis=0.2)
    group.add("slow", 0.3, 5.0, 0.0)
    assert group.update(0.4, 10.0) == []
    assert group.update(0.4, 12.0) == []
    assert group.update(0.1, 13.0) == []  # fell out of the band: the wait is over
    assert group.update(0.4, 14.0) == []  # crosses again: a new 5 s wait
    assert group.promote(15.0) == []  # the first wait would have ended here
    assert names(group.promote(19.0)) == [("slow", True)]
    assert group.open_ids() == ["slow"]


def test_a_wait_that_ends_inside_the_band_opens_only_at_the_threshold() -> None:
    group = ThresholdGroup(hysteresis=0.5)
    group.add("slow", 0.4, 2.0, 0.0)
    assert group.update(0.45, 1.0) == []
    assert group.update(0.3, 2.0) == []  # in the band (0.2 .. 0.4): still waiting
    assert group.promote(3.5) == []  # due, but 0.3 is below 0.4: no alert yet
    assert group.update(0.35, 4.0) == []
    (opened,) = group.update(0.41, 5.0)
    assert (opened.monitor_id, opened.opened, opened.ts, opened.peak_edge) == (
        "slow",
        True,
        5.0,
        0.41,
    )


def test_pending_that_never_opened_closes_silently() -> None:
    group = ThresholdGroup(hysteresis=0.2)
    group.add("slow", 0.3, 5.0, 0.0)
    group.update(0.4, 1.0)
    assert group.fail(2.0, "skew") == []


def test_monitor_added_while_the_edge_is_past_its_threshold_opens_at_once() -> None:
    group = ThresholdGroup(hysteresis=0.2)
    group.add("a", 0.1, 0.0, 0.0)
    group.update(0.5, 1.0)
    assert names(group.add("late", 0.4, 0.0, 2.0)) == [("late", True)]
    # In the band of an open one but never crossed: dormant until the edge reaches it.
    group.update(0.45, 3.0)
    assert group.add("band", 0.5, 0.0, 3.5) == []
    assert group.update(0.46, 4.0) == []
    assert names(group.update(0.5, 5.0)) == [("band", True)]


def test_removed_monitor_never_reports() -> None:
    group = ThresholdGroup(hysteresis=0.2)
    group.add("a", 0.1, 0.0, 0.0)
    group.add("b", 0.1, 0.0, 0.0)
    group.update(0.2, 1.0)
    group.remove("a", 0.1)
    assert names(group.update(0.0, 2.0)) == [("b", False)]
    assert len(group) == 1


def test_peak_tracker() -> None:
    peaks = PeakTracker()
    for ts, edge in [(1, 0.3), (2, 0.5), (3, 0.4), (4, 0.2)]:
        peaks.push(ts, edge)
    assert peaks.max_since(0) == 0.5
    assert peaks.max_since(2.5) == 0.4
    assert peaks.max_since(4) == 0.2
    assert peaks.max_since(5) is None


def closing(transitions: list[Transition], monitor_id: str) -> Transition:
    (found,) = [t for t in transitions if t.monitor_id == monitor_id and not t.opened]
    return found


def test_closings_carry_the_peak_time_and_the_figures_at_opening_and_peak() -> None:
    group = ThresholdGroup(hysteresis=0.2)
    group.add("a", 0.3, 0.0, 0.0)
    group.update(0.6, 1.0, "f1")  # "a" opens
    assert names(group.add("b", 0.5, 0.0, 2.0)) == [("b", True)]  # opens at once, at 0.6
    group.update(0.6, 3.0, "f3")  # the same level again: not a new peak
    group.update(0.55, 4.0, "f4")
    out = group.update(0.1, 5.0, "f5")
    a, b = closing(out, "a"), closing(out, "b")
    assert (a.peak_edge, a.peak_at, a.open_figures, a.peak_figures) == (0.6, 1.0, "f1", "f1")
    # The level was reached before "b" opened: for "b" it was reached at its opening.
    assert (b.peak_edge, b.peak_at, b.open_figures, b.peak_figures) == (0.6, 2.0, "f1", "f1")
    assert group.open_figures == {}


def test_a_peak_restored_after_a_restart_has_no_time_until_seen_again() -> None:
    for edge, expected in [(0.5, (0.6, None, None)), (0.6, (0.6, 11.0, "seen"))]:
        group = ThresholdGroup(hysteresis=0.2)
        group.add("a", 0.3, 0.0, 10.0)
        group.restore("a", opened_at=5.0, peak_edge=0.6)
        group.update(edge, 11.0, "seen")
        out = group.update(0.1, 12.0, "later")
        closed = closing(out, "a")
        assert (closed.peak_edge, closed.peak_at, closed.peak_figures) == expected
        assert (closed.opened_at, closed.open_figures) == (5.0, None)


def test_bad_hysteresis_is_refused() -> None:
    with pytest.raises(ValueError, match="hysteresis"):
        ThresholdGroup(hysteresis=1.0)


step = st.one_of(
    st.floats(min_value=-1, max_value=2, allow_nan=False).map(lambda e: ("edge", e)),
    st.just(("fail", 0.0)),
    st.integers(0, 7).map(lambda i: ("add", i)),
)


@given(
    thresholds=st.lists(st.sampled_from([0.1, 0.2, 0.25, 0.5, 1.0]), min_size=1, max_size=8),
    durations=st.lists(st.sampled_from([0.0, 0.0, 2.0]), min_size=8, max_size=8),
    steps=st.lists(step, max_size=40),
    h=st.sampled_from([0.0, 0.2, 0.5]),
)
def test_group_equals_per_monitor_state_machines(
    thresholds: list[float], durations: list[float], steps: list[tuple[str, float]], h: float
) -> None:
    group = ThresholdGroup(hysteresis=h)
    model: dict[str, dict[str, float | str | None]] = {}
    edge: float | None = None
    for ts, (kind, value) in enumerate(steps):
        got: list[tuple[str, bool]] = []
        want: list[tuple[str, bool]] = []
        if kind == "add":
            i = int(value)
            monitor_id = f"m{i}"
            if i >= len(thresholds) or monitor_id in model:
                continue
            t, d = thresholds[i], durations[i]
            model[monitor_id] = {"t": t, "d": d, "state": "closed", "since": None}
            got = names(group.add(monitor_id, t, d, ts))
            if edge is not None and edge >= t:
                want += _cross(model[monitor_id], monitor_id, ts)
        elif kind == "fail":
            edge = None
            got = names(group.fail(ts, "guard"))
            for monitor_id, m in model.items():
                if m["state"] == "open":
                    want.append((monitor_id, False))
                m["state"] = "closed"
        else:
            edge = value
            got = names(group.update(value, ts))
            for monitor_id, m in model.items():
                t = float(m["t"])  # type: ignore[arg-type]
                if (
                    m["state"] in ("open", "pending")
                    and value < t * (1 - h)
                    and not math.isclose(value, t * (1 - h))
                ):
                    if m["state"] == "open":
                        want.append((monitor_id, False))
                    m["state"] = "closed"
                elif m["state"] == "closed" and value >= t:
                    want += _cross(m, monitor_id, ts)
            for monitor_id, m in model.items():
                due = ts >= float(m["since"]) + float(m["d"]) if m["since"] is not None else False  # type: ignore[arg-type]
                if m["state"] == "pending" and due and value >= float(m["t"]):  # type: ignore[arg-type]
                    m["state"] = "open"
                    want.append((monitor_id, True))
        assert sorted(got) == sorted(want), (kind, value, ts)


def _cross(m: dict[str, float | str | None], monitor_id: str, ts: int) -> list[tuple[str, bool]]:
    if float(m["d"]) <= 0:  # type: ignore[arg-type]
        m["state"] = "open"
        return [(monitor_id, True)]
    m["state"], m["since"] = "pending", ts
    return []
