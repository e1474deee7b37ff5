"""An alert's state machine: its transitions are the only way its state changes."""

from __future__ import annotations

import pytest

from goquant_bot.alerts.history import Outcome
from goquant_bot.alerts.state import AlertKey, AlertKind, PendingAlert, Phase, ViewUpdate
from tests.alerts.scripted import closed, opened, signal

KEY = AlertKey(1, "m1", "BTC-USDT binance->okx")


def test_its_state_is_read_only_outside_the_transitions() -> None:
    item = PendingAlert(KEY, opened(1, 10.0))
    with pytest.raises(AttributeError):
        item.dirty = False  # type: ignore[misc]
    with pytest.raises(AttributeError):
        item.phase = Phase.CLOSED  # type: ignore[misc]
    assert (item.kind, item.phase, item.dirty, item.shown) == (
        AlertKind.ARBITRAGE,
        Phase.OPEN,
        True,
        False,
    )


def test_a_delivered_opening_closes_as_a_follow_up_on_its_message() -> None:
    item = PendingAlert(KEY, opened(1, 10.0))
    item.start()
    assert item.delivered(item.version, item.phase, 55) is False  # live: kept to edit
    assert (item.dirty, item.shown, item.message_id, item.in_flight) == (False, True, 55, False)
    assert item.fold(closed(1, 20.0, 10.0)) is False  # nothing undelivered was merged
    assert (item.phase, item.dirty, item.message_id) == (Phase.CLOSED, True, 55)


def test_a_close_folded_while_the_opening_is_in_flight_stays_pending() -> None:
    item = PendingAlert(KEY, opened(1, 10.0))
    item.start()
    sent = (item.version, item.phase)
    item.fold(closed(1, 11.0, 10.0))
    assert item.phase is Phase.CLOSED  # its opening may be on screen already
    assert item.delivered(*sent, 56) is False  # the close is newer: not finished
    assert (item.dirty, item.shown) == (True, True)
    item.start()
    assert item.delivered(item.version, item.phase, None) is True  # the close went out


def test_an_opening_closed_before_it_went_out_is_closed_unseen() -> None:
    item = PendingAlert(KEY, opened(1, 10.0))
    assert item.fold(closed(1, 12.0, 10.0)) is True  # the opening was never delivered
    assert item.phase is Phase.CLOSED_UNSEEN
    assert item.merged == 1
    item.fold(opened(1, 15.0, 0.6))
    assert (item.phase, item.edge_pct, item.merged) == (Phase.OPEN, 0.6, 2)


def test_a_refused_edit_gives_up_that_version_and_unbinds_the_message() -> None:
    item = PendingAlert(KEY, opened(1, 10.0))
    item.start()
    item.delivered(item.version, item.phase, 57)
    item.fold(closed(1, 20.0, 10.0))
    item.start()
    assert item.refused(item.version, item.phase) is True  # a close: nothing left to show
    assert (item.message_id, item.dirty, item.in_flight) == (None, False, False)


def test_a_gone_message_sends_the_alert_again_and_signals_are_news_each_time() -> None:
    item = PendingAlert(KEY, opened(1, 10.0))
    item.start()
    item.delivered(item.version, item.phase, 58)
    item.resend()
    assert (item.message_id, item.dirty) == (None, True)

    sig = PendingAlert(AlertKey(1, "v1", "BTC-USDT mid_move"), signal(1, 1.0))
    sig.start()
    assert sig.delivered(sig.version, sig.phase, None) is True
    assert sig.shown
    sig.fold(signal(1, 2.0))
    assert not sig.shown  # a new signal is a new alert, not an edit


def test_a_view_stops_and_a_hold_is_recorded_once() -> None:
    view = PendingAlert(AlertKey(1, "v1", "view"), ViewUpdate("v1", 1, 1.0))
    assert view.live
    assert view.fold(ViewUpdate("v1", 1, 2.0)) is False  # views never count as merged
    view.fold(ViewUpdate("v1", 1, 3.0, stopped=True))
    assert (view.phase, view.live) == (Phase.VIEW_STOPPED, False)

    item = PendingAlert(KEY, opened(1, 10.0))
    assert item.hold(Outcome.SNOOZED) is True
    assert item.hold(Outcome.SNOOZED) is False
    assert item.hold(Outcome.HELD_QUIET) is True
    item.start()
    item.delivered(item.version, item.phase, 59)
    assert item.held is None
