"""Delivery on a simulated clock: combining, priority, folding, live edits, views."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from goquant_bot.alerts.compose import MAX_MESSAGE, text_length
from goquant_bot.alerts.history import Outcome
from goquant_bot.alerts.pacing import PacingConfig
from goquant_bot.alerts.state import AlertSnapshot, ViewUpdate
from goquant_bot.alerts.transport import (
    FloodWait,
)
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.users import ChatPrefs
from goquant_bot.messages import Button, Keyboard
from tests.alerts.rig import Rig
from tests.alerts.scripted import ETH, Call, closed, opened, signal

SIMULATED_TIME = True  # the production delivery loop, on the rig's clock

ALICE, BOB, GROUP = 1, 2, -100


async def test_one_message_per_chat_ordered_by_priority() -> None:
    rig = Rig()
    rig.publish(
        signal(ALICE, 1_000.0),
        opened(ALICE, 1_000.0, 0.3),
        opened(ALICE, 1_000.0, 0.9, symbol=ETH),
        opened(ALICE, 1_000.0, 0.5, buy=Venue.OKX, sell=Venue.BYBIT),
        opened(BOB, 1_000.0, 0.2),
    )
    await rig.step()
    [to_alice] = rig.transport.sent(ALICE)
    lines = to_alice.text.split("\n\n")
    assert [line.split(" open")[0] for line in lines[:3]] == [
        "<b>ETH-USDT binance->okx</b>",
        "<b>BTC-USDT okx->bybit</b>",
        "<b>BTC-USDT binance->okx</b>",
    ]
    assert lines[3] == "<i>BTC-USDT mid_move</i> move_pct=0.5"
    assert len(rig.transport.sent(BOB)) == 1
    assert [e.outcome for e in rig.delivery.history.recent(ALICE)] == [Outcome.SENT] * 4


async def test_a_long_batch_is_split_at_4096_characters_one_second_apart() -> None:
    rig = Rig()
    symbols = [Symbol(f"C{i:03d}" + "X" * 200, "USDT") for i in range(40)]
    rig.publish(*(opened(ALICE, 1_000.0, 0.1 + i / 100, symbol=s) for i, s in enumerate(symbols)))
    await rig.run_until(1_010.0)
    sends = rig.transport.sent(ALICE)
    assert len(sends) == 3
    assert all(text_length(c.text) <= MAX_MESSAGE for c in sends)
    assert [round(c.at - sends[0].at, 6) for c in sends] == [0.0, 1.0, 2.0]
    shown = [m for c in sends for m in re.findall(r"C(\d{3})X", c.text)]
    assert sorted(shown) == [f"{i:03d}" for i in range(40)]  # each exactly once
    assert shown[0] == "039"  # the largest edge first


async def test_an_alert_that_closed_before_sending_is_never_shown_as_live() -> None:
    rig = Rig()
    rig.transport.errors[ALICE] = [FloodWait("429", 5.0)]
    rig.publish(opened(ALICE, 1_000.0))
    await rig.step()
    rig.publish(closed(ALICE, 1_002.0, 1_000.0, 0.45))
    await rig.run_until(1_020.0)
    assert [c.text for c in rig.transport.calls] == [
        "<b>BTC-USDT binance->okx</b> open 0.40 % for 0 s",  # refused by the flood wait
        "<b>BTC-USDT binance->okx</b> opened and closed within 2 s, peak 0.45 %",
    ]
    assert rig.transport.calls[1].at == 1_005.0


async def test_opened_and_closed_alerts_can_be_dropped_instead() -> None:
    rig = Rig(closed_unseen="drop")
    rig.publish(opened(ALICE, 1_000.0), closed(ALICE, 1_000.5, 1_000.0))
    await rig.run_until(1_010.0)
    assert rig.transport.calls == []
    assert rig.delivery.history.recent(ALICE)[0].outcome is Outcome.DROPPED


async def test_an_open_alert_is_edited_in_place_throttled_and_closed() -> None:
    rig = Rig(edit_interval_s=3.0, refresh_s=10.0)
    rig.publish(opened(ALICE, 1_000.0, 0.4))
    await rig.step()
    [first] = rig.transport.sent()
    rig.publish(closed(ALICE, 1_001.0, 1_000.0, 0.41))
    await rig.run_until(1_002.9)
    assert rig.transport.edits() == []
    await rig.run_until(1_003.0)
    [edit] = rig.transport.edits()
    assert edit.message_id == first.message_id
    assert edit.text == "<b>BTC-USDT binance->okx</b> closed after 1 s, peak 0.41 %"
    await rig.run_until(1_100.0)
    assert len(rig.transport.calls) == 2  # closed: no more refreshes
    assert rig.delivery.message_ids() == []
    assert [e.detail for e in rig.delivery.history.recent(ALICE)] == ["edited", ""]


async def test_live_messages_refresh_only_when_the_text_changes() -> None:
    rig = Rig(edit_interval_s=3.0, refresh_s=10.0)
    rig.publish(opened(ALICE, 1_000.0))
    await rig.step()
    await rig.run_until(1_021.0)
    # The renderer shows the duration: each refresh changes the text.
    assert [(c.at, c.text.split("% ")[1]) for c in rig.transport.edits()] == [
        (1_010.0, "for 10 s"),
        (1_020.0, "for 20 s"),
    ]
    saved = rig.delivery.message_ids()
    assert saved[0]["message_id"] == rig.transport.sent()[0].message_id


async def test_a_refresh_with_the_same_text_makes_no_request() -> None:
    def edge_only(item: AlertSnapshot, now: float) -> str:
        return f"{item.key.subject} {item.edge_pct:.2f} %"

    rig = Rig(renderer=edge_only, edit_interval_s=3.0, refresh_s=10.0)
    rig.publish(opened(ALICE, 1_000.0))
    await rig.run_until(1_100.0)
    assert len(rig.transport.calls) == 1
    rig.publish(opened(ALICE, 1_100.0, 0.7))  # a new state of the open alert: an edit
    await rig.run_until(1_200.0)
    assert [(c.method, c.text) for c in rig.transport.calls[1:]] == [
        ("edit", "BTC-USDT binance->okx 0.70 %")
    ]


async def test_a_live_view_is_sent_refreshed_and_stopped() -> None:
    rig = Rig(edit_interval_s=3.0, refresh_s=5.0)
    rig.prefs.set(ChatPrefs(ALICE, muted=True, snoozed_until=9_999.0))  # asked for: shown
    rig.delivery.publish([ViewUpdate("v7", ALICE, 1_000.0)])
    await rig.step()
    rig.publish(opened(ALICE, 1_000.0))
    await rig.run_until(1_011.0)
    rig.delivery.publish([ViewUpdate("v7", ALICE, 1_011.0, stopped=True)])
    await rig.run_until(1_030.0)
    assert [(c.method, c.at, c.text) for c in rig.transport.calls] == [
        ("send", 1_000.0, "<b>view v7</b> at 1000"),
        ("edit", 1_005.0, "<b>view v7</b> at 1005"),
        ("edit", 1_010.0, "<b>view v7</b> at 1010"),
        ("edit", 1_013.0, "<b>view v7</b> stopped"),
    ]


async def test_group_pacing_through_the_service() -> None:
    rig = Rig()
    for i in range(25):
        rig.publish(signal(GROUP, 1_000.0 + i, monitor=f"v{i}"))
        await rig.run_until(1_000.0 + i + 0.5)
    times = [c.at for c in rig.transport.sent(GROUP)]
    assert len(times) == 20
    await rig.run_until(1_060.0)
    assert len(rig.transport.sent(GROUP)) == 21


async def test_a_close_while_the_opening_is_in_flight_edits_it_afterwards() -> None:
    rig = Rig(edit_interval_s=3.0)

    def close_now(call: Call) -> None:
        if call.method == "send":
            rig.publish(closed(ALICE, 1_000.5, 1_000.0, 0.42))

    rig.transport.during = close_now
    rig.publish(opened(ALICE, 1_000.0))
    await rig.step()
    rig.transport.during = None
    await rig.run_until(1_010.0)
    assert [(c.method, c.text.split("</b> ")[1]) for c in rig.transport.calls] == [
        ("send", "open 0.40 % for 0 s"),
        ("edit", "closed after 0 s, peak 0.42 %"),
    ]


async def test_an_edit_keeps_the_other_parts_of_a_combined_message() -> None:
    rig = Rig(edit_interval_s=3.0)
    rig.publish(opened(ALICE, 1_000.0), signal(ALICE, 1_000.0))
    await rig.step()
    rig.publish(closed(ALICE, 1_004.0, 1_000.0))
    await rig.run_until(1_005.0)
    [send, edit] = rig.transport.calls
    assert (
        send.text.split("\n\n")[1]
        == edit.text.split("\n\n")[1]
        == ("<i>BTC-USDT mid_move</i> move_pct=0.5")
    )
    assert (
        edit.text.split("\n\n")[0] == "<b>BTC-USDT binance->okx</b> closed after 4 s, peak 0.50 %"
    )


async def test_new_alerts_go_before_edits_in_a_chat() -> None:
    rig = Rig(edit_interval_s=3.0)
    rig.publish(opened(ALICE, 1_000.0))
    await rig.step()
    rig.clock.now = 1_005.0
    rig.publish(closed(ALICE, 1_005.0, 1_000.0), opened(ALICE, 1_005.0, monitor="m2", notional=200))
    await rig.run_until(1_010.0)
    assert [(c.method, c.at) for c in rig.transport.calls] == [
        ("send", 1_000.0),
        ("send", 1_005.0),
        ("edit", 1_006.0),
    ]


async def test_buttons_go_with_the_message_and_with_every_edit() -> None:
    def buttons(items: Sequence[AlertSnapshot]) -> Keyboard:
        return ((Button("Mute", f"mute:{items[0].key.monitor_id}"),),) if items else ()

    rig = Rig(edit_interval_s=3.0)
    rig.delivery.planner.composer.buttons = buttons
    rig.publish(opened(ALICE, 1_000.0))
    await rig.step()
    rig.publish(closed(ALICE, 1_004.0, 1_000.0))
    await rig.run_until(1_005.0)
    assert [c.buttons for c in rig.transport.calls] == [((Button("Mute", "mute:m1"),),)] * 2


async def test_forgetting_a_monitor_drops_its_alerts_and_stops_its_edits() -> None:
    rig = Rig(refresh_s=10.0)
    rig.publish(opened(ALICE, 1_000.0), opened(BOB, 1_000.0))
    await rig.step()
    rig.publish(signal(ALICE, 1_001.0, monitor="m1"))
    rig.delivery.forget(ALICE, "m1")
    await rig.run_until(1_030.0)
    # Only BOB's message is still refreshed (at 1010, 1020, 1030).
    assert [(c.method, c.chat_id) for c in rig.transport.calls[2:]] == [("edit", BOB)] * 3
    assert rig.delivery.history.recent(ALICE)[0].detail == "monitor removed"


async def test_a_live_view_is_refreshed_no_more_often_than_its_throttle() -> None:
    throttle = {"v7": 30.0}
    rig = Rig(edit_interval_s=3.0, refresh_s=10.0, min_refresh_s=lambda m: throttle.get(m, 0.0))
    rig.delivery.publish([ViewUpdate("v7", ALICE, 1_000.0)])
    rig.publish(opened(BOB, 1_000.0))
    await rig.run_until(1_065.0)
    assert [c.at for c in rig.transport.edits(ALICE)] == [1_030.0, 1_060.0]
    assert [c.at for c in rig.transport.edits(BOB)] == [1_010.0 + 10 * i for i in range(6)]


async def test_a_refresh_that_changes_only_the_volatile_footer_makes_no_request() -> None:
    def footed(item: AlertSnapshot, now: float) -> str:
        return f"<b>view {item.key.monitor_id}</b> data of {item.event.ts:.0f}\n~ updated {now:.0f}"

    def stable(text: str) -> str:
        return "\n".join(line for line in text.split("\n") if not line.startswith("~ "))

    rig = Rig(renderer=footed, stable_text=stable, edit_interval_s=3.0, refresh_s=10.0)
    rig.delivery.publish([ViewUpdate("v7", ALICE, 1_000.0)])
    await rig.run_until(1_100.0)
    assert len(rig.transport.calls) == 1
    rig.delivery.publish([ViewUpdate("v7", ALICE, 1_100.0)])  # new data: worth an edit
    await rig.run_until(1_200.0)
    assert [(c.method, c.at, c.text) for c in rig.transport.calls[1:]] == [
        ("edit", 1_100.0, "<b>view v7</b> data of 1100\n~ updated 1100"),
    ]


async def test_a_stopped_view_gets_its_last_edit_and_none_of_its_held_signals() -> None:
    rig = Rig(edit_interval_s=3.0, refresh_s=10.0)
    rig.delivery.publish([ViewUpdate("v7", ALICE, 1_000.0)])
    await rig.step()
    rig.prefs.set(ChatPrefs(ALICE, snoozed_until=1_100.0))
    rig.publish(signal(ALICE, 1_001.0, monitor="v7"), signal(ALICE, 1_001.0, kind="spread"))
    await rig.run_until(1_005.0)
    # /stop_market v7: the last edit of its view, and its held signals go.
    rig.delivery.publish([ViewUpdate("v7", ALICE, 1_005.0, stopped=True)])
    rig.delivery.forget(ALICE, "v7", keep_view=True)
    await rig.run_until(1_200.0)
    assert [(c.method, c.at, c.text) for c in rig.transport.calls] == [
        ("send", 1_000.0, "<b>view v7</b> at 1000"),
        ("edit", 1_005.0, "<b>view v7</b> stopped"),
        # Only the other monitor's signal was held for the snooze.
        (
            "send",
            1_100.0,
            "<b>Held alerts</b>: 1 held while snoozed\n\n<i>BTC-USDT spread</i> move_pct=0.5",
        ),
    ]
    assert rig.delivery.message_ids() == []
    dropped = [
        (e.subject, e.detail)
        for e in rig.delivery.history.recent(ALICE)
        if e.outcome is Outcome.DROPPED
    ]
    assert dropped == [("BTC-USDT mid_move", "monitor removed")]


async def test_requests_to_many_chats_overlap_and_a_chat_waits_for_its_answer() -> None:
    rig = Rig(pacing=PacingConfig(global_per_s=1_000, global_burst=1_000))
    rig.transport.latency = 0.4
    rig.publish(*(opened(chat, 1_000.0) for chat in range(1, 11)))
    await rig.run_until(1_000.1)
    assert rig.transport.in_flight == 10  # all ten chats at once, none answered yet
    rig.publish(opened(1, 1_000.1, monitor="m2", notional=200))
    await rig.run_until(1_005.0)

    assert rig.transport.peak_in_flight == 10
    assert [c.at for c in rig.transport.sent() if c.chat_id != 1] == [1_000.0] * 9
    # The chat's second request: one second after its first one ANSWERED, not started.
    assert [c.at for c in rig.transport.sent(1)] == [1_000.0, pytest.approx(1_001.4)]
    assert {e.outcome for e in rig.delivery.history.recent(1)} == {Outcome.SENT}
