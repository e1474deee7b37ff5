"""Pacing with an explicit clock: per private chat, per group, global, flood waits."""

from __future__ import annotations

import itertools
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goquant_bot.alerts.pacing import Pacer, PacingConfig

PRIVATE, OTHER, GROUP = 11, 12, -1001


def test_a_private_chat_gets_one_request_per_second_from_the_end_of_the_last() -> None:
    pacer = Pacer()
    assert pacer.chat_ready_at(PRIVATE, 0.0) == 0.0
    pacer.started(PRIVATE, 0.0)
    assert pacer.chat_ready_at(PRIVATE, 0.5) == 1.0
    # The answer came 0.3 s later: the next request may start 1 s after that.
    pacer.finished(PRIVATE, 0.3)
    assert pacer.chat_ready_at(PRIVATE, 0.5) == 1.3
    assert pacer.chat_ready_at(OTHER, 0.5) == 0.5


def test_a_group_gets_twenty_requests_per_minute() -> None:
    pacer = Pacer()
    t = 0.0
    for _ in range(20):
        assert pacer.chat_ready_at(GROUP, t) == t
        pacer.started(GROUP, t)
        t += 1.0
    assert pacer.chat_ready_at(GROUP, 20.0) == 60.0
    pacer.started(GROUP, 60.0)
    assert pacer.chat_ready_at(GROUP, 60.0) == 61.0


def test_the_global_window_holds_25_requests_per_second() -> None:
    pacer = Pacer(PacingConfig(global_burst=25))
    for chat in range(25):
        assert pacer.global_ready_at(0.5) == 0.5
        pacer.started(chat, 0.5 + chat / 1000)
        pacer.finished(chat, 0.5 + chat / 1000)
    assert pacer.global_ready_at(0.6) == 1.5
    assert pacer.ready_at(99, 0.6) == 1.5


def test_the_global_window_counts_from_the_end_of_each_request() -> None:
    """Telegram counts a request when it arrives, at the latest when it answers: 25 requests
    answered late must not let 25 more start a second after they started."""
    pacer = Pacer(PacingConfig(global_burst=25))
    for chat in range(25):
        pacer.started(chat, 0.0)
    assert pacer.global_ready_at(5.0) == float("inf")  # all 25 in flight: wait for an answer
    pacer.finished(0, 0.4)
    assert pacer.global_ready_at(0.5) == 1.4  # from its end, not from its start (1.0)
    for chat in range(1, 25):
        pacer.finished(chat, 0.8)
    assert pacer.global_ready_at(1.0) == 1.4
    pacer.started(100, 1.4)
    pacer.finished(100, 1.4)
    assert pacer.global_ready_at(1.4) == pytest.approx(1.8)


def test_a_chat_gets_at_most_20_new_messages_a_minute_edits_aside() -> None:
    pacer = Pacer(PacingConfig(chat_messages_per_min=20))
    for second in range(20):
        assert pacer.new_message_ready_at(PRIVATE, float(second)) == second
        pacer.started(PRIVATE, float(second))
        pacer.finished(PRIVATE, float(second))
    assert pacer.new_message_ready_at(PRIVATE, 20.0) == 60.0
    assert pacer.ready_at(PRIVATE, 20.0, new_message=True) == 60.0
    assert pacer.ready_at(PRIVATE, 20.0) == 20.0  # an edit may go
    pacer.started(PRIVATE, 20.0, new_message=False)
    pacer.finished(PRIVATE, 20.0)
    assert pacer.new_message_ready_at(PRIVATE, 30.0) == 60.0
    assert pacer.new_message_ready_at(OTHER, 30.0) == 30.0


def test_a_backlog_goes_out_as_a_stream_not_in_one_second_bursts() -> None:
    pacer = Pacer()  # 25/s, at most 5 in any 0.2 s
    t, starts = 0.0, []
    while len(starts) < 50:
        t = pacer.global_ready_at(t)
        pacer.started(len(starts), t)
        pacer.finished(len(starts), t)
        starts.append(t)
    assert starts[:6] == [0.0] * 5 + [0.2]
    gaps = [b - a for a, b in zip(starts[4::5], starts[9::5], strict=False)]
    assert max(gaps) == pytest.approx(0.2)
    assert starts[-1] == pytest.approx(1.8)


def test_a_flood_wait_pauses_only_that_chat() -> None:
    pacer = Pacer()
    assert pacer.flood_wait(PRIVATE, 7.0, 10.0) is False
    assert pacer.chat_ready_at(PRIVATE, 10.0) == 17.0
    assert pacer.chat_ready_at(OTHER, 10.0) == 10.0
    assert pacer.global_ready_at(10.0) == 10.0


def test_flood_waits_on_several_chats_pause_everything_for_the_longest_wait() -> None:
    pacer = Pacer(PacingConfig(flood_chats=3, flood_window_s=10.0))
    assert not pacer.flood_wait(1, 5.0, 100.0)
    assert not pacer.flood_wait(1, 5.0, 101.0)  # the same chat again does not count twice
    assert not pacer.flood_wait(2, 20.0, 102.0)
    assert pacer.flood_wait(3, 3.0, 104.0)
    assert pacer.global_ready_at(104.0) == 122.0
    assert pacer.global_pauses == 1
    # Floods spread wider than the window never pause everything.
    calm = Pacer(PacingConfig(flood_chats=3, flood_window_s=10.0))
    assert not any(calm.flood_wait(chat, 1.0, chat * 11.0) for chat in range(1, 6))


def test_idle_chats_are_pruned() -> None:
    pacer = Pacer()
    pacer.started(PRIVATE, 0.0)
    pacer.started(GROUP, 100.0)
    pacer.prune(100.0)
    assert pacer.chat_ready_at(PRIVATE, 100.0) == 100.0
    assert pacer.chat_ready_at(GROUP, 100.0) == 101.0


@settings(max_examples=60, deadline=None)
@given(
    wants=st.lists(
        st.tuples(st.floats(0, 120, allow_nan=False), st.integers(-6, 40).filter(bool)),
        min_size=1,
        max_size=400,
    ),
    latency=st.floats(0, 0.8),
)
def test_requests_started_when_ready_never_break_a_limit(
    wants: list[tuple[float, int]], latency: float
) -> None:
    """Any demand, served as soon as the pacer allows, stays within every limit."""
    pacer = Pacer()
    queue = sorted(wants)
    starts: dict[int, list[tuple[float, float]]] = defaultdict(list)
    everything: list[float] = []
    t = 0.0
    while queue:
        t = max(t, queue[0][0])
        progressed = False
        for index, (wanted, chat) in enumerate(queue):
            if wanted > t:
                break
            if pacer.ready_at(chat, t) <= t:
                pacer.started(chat, t)
                pacer.finished(chat, t + latency)
                starts[chat].append((t, t + latency))
                everything.append(t)
                del queue[index]
                progressed = True
                break
        if not progressed:
            t = min(
                [pacer.ready_at(chat, t) for wanted, chat in queue if wanted <= t] or [queue[0][0]]
            )
    everything.sort()
    for i in range(len(everything) - 25):
        assert everything[i + 25] - everything[i] >= 1.0
    for chat, spans in starts.items():
        for (_, done), (nxt, _) in itertools.pairwise(spans):
            assert nxt - done >= 1.0 - 1e-9
        if chat < 0:
            for i in range(len(spans) - 20):
                assert spans[i + 20][0] - spans[i][0] >= 60.0 - 1e-9
