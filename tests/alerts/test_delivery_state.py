"""Delivery's saved state: a damaged state file still starts, and changes are reported."""

from __future__ import annotations

from typing import Any

from goquant_bot.alerts.history import AlertHistory, HistoryEntry, Outcome
from goquant_bot.alerts.transport import FloodWait
from tests.alerts.rig import Rig
from tests.alerts.scripted import closed, opened

SIMULATED_TIME = True  # the production delivery loop, on the rig's clock

ALICE = 1
SUBJECT = "BTC-USDT binance->okx"


def part(monitor: str = "m1", subject: str = SUBJECT, text: str = "open 0.40 %") -> Any:
    return {"monitor": monitor, "subject": subject, "text": text}


async def test_damaged_message_ids_are_skipped_and_the_good_ones_restored() -> None:
    rig = Rig(edit_interval_s=3.0)
    rig.delivery.restore_message_ids(
        [
            {"chat_id": "alice", "message_id": 70, "parts": [part()]},
            {"chat_id": ALICE, "message_id": 71, "parts": [part(), {"monitor": "m1"}]},
            {"chat_id": ALICE, "message_id": 72, "parts": "open"},
            {"chat_id": ALICE, "parts": [part()]},
            None,  # type: ignore[list-item]
            {"chat_id": ALICE, "message_id": 79, "parts": [part()]},
        ]
    )
    rig.delivery.restore_message_ids(None)  # type: ignore[arg-type]
    box = rig.delivery.outbox.chats[ALICE]
    assert set(box.messages) == {79}
    assert list(box.restored.values()) == [79]
    rig.publish(opened(ALICE, 1_000.0, 0.5))  # open again after the restart: edited in place
    await rig.step()
    [edit] = rig.transport.calls
    assert (edit.method, edit.message_id) == ("edit", 79)


def test_damaged_history_entries_are_skipped_and_the_good_ones_loaded() -> None:
    good = {"ts": 5.0, "monitor": "m1", "subject": SUBJECT, "outcome": "sent", "detail": ""}
    history = AlertHistory()
    history.load(
        {
            "1": [
                good,
                {**good, "outcome": "exploded"},
                {**good, "ts": "soon"},
                {"ts": 6.0},
                "sent",
            ],
            "bob": [good],
            "2": 5,  # type: ignore[dict-item]
            "-100": [{**good, "monitor": "m9"}],
        }
    )
    history.load(["not", "a", "mapping"])  # type: ignore[arg-type]
    assert history.recent(1) == [HistoryEntry(5.0, "m1", SUBJECT, Outcome.SENT)]
    assert [e.monitor_id for e in history.recent(-100)] == ["m9"]
    assert set(history.to_dict()) == {"1", "-100"}


async def test_sends_and_edits_report_a_change_of_the_saved_state() -> None:
    rig = Rig(edit_interval_s=3.0, refresh_s=10.0)
    rig.transport.errors[ALICE] = [FloodWait("429", 2.0)]
    rig.publish(opened(ALICE, 1_000.0))
    await rig.step()
    assert rig.changes == 0  # refused for now: nothing to save
    await rig.run_until(1_002.0)
    assert rig.changes == 1
    [saved] = rig.delivery.message_ids()
    assert saved["message_id"] == rig.transport.sent(ALICE)[-1].message_id
    await rig.run_until(1_011.0)
    assert rig.changes == 1
    await rig.run_until(1_012.0)  # the refresh edit changed the saved text
    assert rig.changes == 2
    assert rig.delivery.message_ids()[0]["parts"][0]["text"].endswith("for 12 s")


async def test_a_restored_message_without_news_is_saved_again_for_the_next_restart() -> None:
    rig = Rig(edit_interval_s=3.0)
    saved = [{"chat_id": ALICE, "message_id": 79, "parts": [part()]}]
    rig.delivery.restore_message_ids(saved)
    assert rig.delivery.message_ids() == saved  # no event since the restart: still live
    again = Rig(edit_interval_s=3.0)
    again.delivery.restore_message_ids(rig.delivery.message_ids())
    again.publish(closed(ALICE, 1_000.0, 900.0))  # the close after a second restart
    await again.step()
    [edit] = again.transport.calls
    assert (edit.method, edit.message_id) == ("edit", 79)
    assert "closed after 100 s" in edit.text
