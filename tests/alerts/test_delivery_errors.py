"""Delivery errors: flood waits, blocked and migrated chats, 400s, timeouts, network."""

from __future__ import annotations

from goquant_bot.alerts.history import Outcome
from goquant_bot.alerts.outbox import ViewUpdate
from goquant_bot.alerts.transport import (
    BadMessage,
    ChatBlocked,
    ChatMigrated,
    DeliveryNetworkError,
    DeliveryTimeout,
    FloodWait,
    MessageGone,
    MessageNotModified,
)
from goquant_bot.domain.users import ChatPrefs
from tests.alerts.rig import Rig
from tests.alerts.scripted import closed, opened, signal

SIMULATED_TIME = True  # the production delivery loop, on the rig's clock

ALICE, BOB, GROUP = 1, 2, -100


async def test_message_not_modified_is_success_and_not_retried() -> None:
    rig = Rig(edit_interval_s=3.0, refresh_s=10.0)
    rig.publish(opened(ALICE, 1_000.0))
    await rig.step()
    rig.transport.errors[ALICE] = [MessageNotModified("message is not modified")]
    await rig.run_until(1_015.0)
    assert [c.at for c in rig.transport.edits()] == [1_010.0]
    await rig.run_until(1_020.0)
    assert [c.at for c in rig.transport.edits()] == [1_010.0, 1_020.0]


async def test_a_deleted_live_message_is_sent_again_as_a_new_one() -> None:
    rig = Rig(edit_interval_s=3.0)
    rig.publish(opened(ALICE, 1_000.0))
    await rig.step()
    rig.transport.errors[ALICE] = [MessageGone("message to edit not found")]
    rig.publish(closed(ALICE, 1_005.0, 1_000.0))
    await rig.run_until(1_020.0)
    methods = [(c.method, c.text.split("</b> ")[1]) for c in rig.transport.calls]
    assert methods == [
        ("send", "open 0.40 % for 0 s"),
        ("edit", "closed after 5 s, peak 0.50 %"),
        ("send", "closed after 5 s, peak 0.50 %"),
    ]


async def test_a_flood_wait_pauses_that_chat_only() -> None:
    rig = Rig()
    rig.transport.errors[ALICE] = [FloodWait("429", 7.0)]
    rig.publish(opened(ALICE, 1_000.0), opened(BOB, 1_000.0))
    await rig.step()
    rig.publish(opened(BOB, 1_001.0, monitor="m2", notional=200))
    await rig.run_until(1_006.9)
    assert [c.at for c in rig.transport.sent(ALICE)] == [1_000.0]
    assert [c.at for c in rig.transport.sent(BOB)] == [1_000.0, 1_001.0]
    await rig.run_until(1_010.0)
    assert [c.at for c in rig.transport.sent(ALICE)] == [1_000.0, 1_007.0]


async def test_flood_waits_in_several_chats_pause_all_sending() -> None:
    rig = Rig()
    for chat in (1, 2, 3):
        rig.transport.errors[chat] = [FloodWait("429", 4.0)]
    rig.publish(*(opened(chat, 1_000.0) for chat in (1, 2, 3, 4)))
    await rig.step()
    assert {c.chat_id for c in rig.transport.calls} == {1, 2, 3, 4}
    rig.publish(opened(5, 1_001.0))
    await rig.run_until(1_003.9)
    assert rig.transport.sent(5) == []
    await rig.run_until(1_004.0)
    assert {c.chat_id for c in rig.transport.calls[4:]} == {1, 2, 3, 5}


async def test_a_blocked_chat_is_marked_inactive_and_others_lose_nothing() -> None:
    rig = Rig()
    rig.transport.errors[ALICE] = [ChatBlocked("Forbidden: bot was blocked by the user")]
    rig.publish(opened(ALICE, 1_000.0), opened(BOB, 1_000.0))
    await rig.step()
    assert rig.blocked == [ALICE]
    rig.publish(
        opened(ALICE, 1_001.0, monitor="m2", notional=200),
        opened(BOB, 1_001.0, monitor="m2", notional=200),
    )
    await rig.run_until(1_010.0)
    assert len(rig.transport.sent(ALICE)) == 1
    assert len(rig.transport.sent(BOB)) == 2
    outcomes = [e.outcome for e in rig.delivery.history.recent(ALICE)]
    assert outcomes == [Outcome.DROPPED, Outcome.FAILED]
    # The bot layer marks the chat inactive; a later /start reactivates it.
    rig.prefs.set(ChatPrefs(ALICE, active=False))
    rig.publish(opened(ALICE, 1_011.0, monitor="m3", notional=300))
    await rig.run_until(1_012.0)
    rig.prefs.set(ChatPrefs(ALICE, active=True))
    rig.publish(opened(ALICE, 1_013.0, monitor="m4", notional=400))
    await rig.run_until(1_014.0)
    assert [c.text.split("</b>")[0] for c in rig.transport.sent(ALICE)][-1] == (
        "<b>BTC-USDT binance->okx"
    )
    assert len(rig.transport.sent(ALICE)) == 2


async def test_a_migrated_group_moves_to_its_new_id() -> None:
    rig = Rig(edit_interval_s=3.0)
    rig.transport.errors[GROUP] = [ChatMigrated("migrated", new_chat_id=-200)]
    rig.publish(opened(GROUP, 1_000.0))
    await rig.step()
    assert rig.migrated == [(GROUP, -200)]
    [moved] = rig.transport.sent(-200)
    assert moved.at == 1_000.0
    rig.publish(closed(GROUP, 1_004.0, 1_000.0))  # engines may still use the old id
    rig.publish(closed(-200, 1_004.0, 1_000.0))
    await rig.run_until(1_010.0)
    [edit] = rig.transport.edits()
    assert (edit.chat_id, edit.message_id) == (-200, moved.message_id)
    assert rig.delivery.history.recent(-200)[0].outcome is Outcome.SENT


async def test_a_bad_request_is_not_retried() -> None:
    rig = Rig()
    rig.transport.errors[ALICE] = [BadMessage("Bad Request: chat not found")]
    rig.publish(opened(ALICE, 1_000.0))
    await rig.run_until(1_100.0)
    assert len(rig.transport.calls) == 1
    [entry] = rig.delivery.history.recent(ALICE)
    assert entry.outcome is Outcome.FAILED
    assert "chat not found" in entry.detail


async def test_refused_markup_falls_back_to_plain_text_once() -> None:
    rig = Rig()
    rig.transport.errors[ALICE] = [
        BadMessage("Bad Request: can't parse entities: unsupported start tag"),
    ]
    rig.publish(opened(ALICE, 1_000.0))
    await rig.run_until(1_010.0)
    assert [c.text for c in rig.transport.calls] == [
        "<b>BTC-USDT binance->okx</b> open 0.40 % for 0 s",
        "BTC-USDT binance-&gt;okx open 0.40 % for 1 s",
    ]
    # Refused again as plain text: given up, never a third try.
    rig.transport.errors[BOB] = [BadMessage("can't parse entities")] * 2
    rig.publish(opened(BOB, 1_010.0))
    await rig.run_until(1_100.0)
    assert len(rig.transport.sent(BOB)) == 2
    assert rig.delivery.history.recent(BOB)[0].outcome is Outcome.FAILED


async def test_a_timed_out_send_is_not_resent() -> None:
    rig = Rig(edit_interval_s=3.0, refresh_s=10.0)
    rig.transport.errors[ALICE] = [DeliveryTimeout("timed out")]
    rig.publish(opened(ALICE, 1_000.0), signal(ALICE, 1_000.0))
    await rig.run_until(1_030.0)
    assert len(rig.transport.calls) == 1
    assert [e.outcome for e in rig.delivery.history.recent(ALICE)] == [Outcome.MAYBE_SENT] * 2
    # The opening has no message id to edit: its close goes out as a message of its own.
    rig.publish(closed(ALICE, 1_031.0, 1_000.0))
    await rig.run_until(1_040.0)
    [_, close] = rig.transport.calls
    assert (close.method, close.text.split("</b> ")[1]) == (
        "send",
        "closed after 31 s, peak 0.50 %",
    )


async def test_a_timed_out_edit_is_retried_as_editing_twice_is_harmless() -> None:
    rig = Rig(edit_interval_s=3.0)
    rig.publish(opened(ALICE, 1_000.0))
    await rig.step()
    rig.transport.errors[ALICE] = [DeliveryTimeout("timed out")]
    rig.clock.now = 1_005.0
    rig.publish(closed(ALICE, 1_005.0, 1_000.0))
    await rig.run_until(1_009.0)
    assert [(c.method, c.at) for c in rig.transport.calls] == [
        ("send", 1_000.0),
        ("edit", 1_005.0),
        ("edit", 1_008.0),
    ]


async def test_network_errors_are_retried_with_capped_backoff() -> None:
    rig = Rig()
    rig.transport.errors[ALICE] = [DeliveryNetworkError("connection reset")] * 3
    rig.publish(opened(ALICE, 1_000.0))
    await rig.run_until(1_020.0)
    # rand() = 0: no jitter; 1 s, 2 s, 4 s, then it goes through.
    assert [c.at for c in rig.transport.sent()] == [1_000.0, 1_001.0, 1_003.0, 1_007.0]
    assert rig.delivery.history.recent(ALICE)[0].outcome is Outcome.SENT


async def test_a_close_while_a_refused_opening_was_in_flight_is_a_summary() -> None:
    rig = Rig()
    rig.transport.errors[ALICE] = [FloodWait("429", 2.0)]
    rig.transport.during = lambda call: rig.publish(closed(ALICE, 1_000.5, 1_000.0))
    rig.publish(opened(ALICE, 1_000.0))
    await rig.step()
    rig.transport.during = None
    await rig.run_until(1_010.0)
    assert [c.text.split("</b> ")[1] for c in rig.transport.calls] == [
        "open 0.40 % for 0 s",
        "opened and closed within 0 s, peak 0.50 %",
    ]


async def test_a_chat_whose_only_alert_was_blocked_gets_alerts_after_start() -> None:
    rig = Rig()
    rig.transport.errors[ALICE] = [ChatBlocked("Forbidden: bot was blocked by the user")]
    rig.publish(opened(ALICE, 1_000.0))  # the chat's only pending alert
    await rig.run_until(1_005.0)
    assert rig.blocked == [ALICE]
    assert not rig.prefs(ALICE).active
    rig.prefs.set(ChatPrefs(ALICE, active=True))  # /start
    rig.clock.now = 1_020.0
    rig.publish(opened(ALICE, 1_020.0, monitor="m2", notional=200))
    await rig.run_until(1_030.0)
    [_, again] = rig.transport.sent(ALICE)
    assert (again.at, again.text) == (1_020.0, "<b>BTC-USDT binance->okx</b> open 0.40 % for 0 s")
    assert rig.delivery.history.recent(ALICE)[0].outcome is Outcome.SENT


async def test_a_refused_refresh_keeps_the_alert_shown_and_its_close_goes_out() -> None:
    rig = Rig(edit_interval_s=3.0, refresh_s=10.0)
    rig.publish(opened(ALICE, 1_000.0))
    await rig.step()
    rig.transport.errors[ALICE] = [BadMessage("Bad Request: message is too long")]
    await rig.run_until(1_031.0)  # the refresh at 1010 is refused: no more edits of it
    rig.publish(closed(ALICE, 1_031.0, 1_000.0, 0.45))
    await rig.run_until(1_040.0)
    assert [(c.method, c.at, c.text.split("</b> ")[1]) for c in rig.transport.calls] == [
        ("send", 1_000.0, "open 0.40 % for 0 s"),
        ("edit", 1_010.0, "open 0.40 % for 10 s"),
        ("send", 1_031.0, "closed after 31 s, peak 0.45 %"),
    ]
    outcomes = [e.outcome for e in rig.delivery.history.recent(ALICE)]
    assert outcomes == [Outcome.SENT, Outcome.FAILED, Outcome.SENT]


async def test_a_refused_view_edit_shows_the_next_update_in_a_new_message() -> None:
    rig = Rig(edit_interval_s=3.0, refresh_s=10.0)
    rig.delivery.publish([ViewUpdate("v7", ALICE, 1_000.0)])
    await rig.step()
    rig.transport.errors[ALICE] = [BadMessage("Bad Request: message is too long")]
    await rig.run_until(1_031.0)
    rig.delivery.publish([ViewUpdate("v7", ALICE, 1_031.0)])
    await rig.run_until(1_045.0)
    assert [(c.method, c.at) for c in rig.transport.calls] == [
        ("send", 1_000.0),
        ("edit", 1_010.0),
        ("send", 1_031.0),
        ("edit", 1_041.0),  # the new message is the live one
    ]
