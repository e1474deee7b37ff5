"""Folding into the latest state per (chat, monitor, subject), migration, saved message ids."""

from __future__ import annotations

from goquant_bot.alerts.history import AlertHistory, Outcome
from goquant_bot.alerts.outbox import ClosedUnseen, LiveMessage, Outbox
from goquant_bot.alerts.state import AlertKey, AlertKind, Phase, ViewUpdate
from goquant_bot.domain.instruments import Venue
from tests.alerts.scripted import ETH, closed, opened, signal

CHAT = 42
KEY = AlertKey(CHAT, "m1", "BTC-USDT binance->okx")


def make(closed_unseen: ClosedUnseen = "summary") -> tuple[Outbox, AlertHistory]:
    history = AlertHistory()
    return Outbox(history, closed_unseen=closed_unseen), history


def test_keys_name_chat_monitor_and_subject() -> None:
    outbox, _ = make()
    outbox.publish(
        [
            opened(CHAT, 10.0),
            opened(CHAT, 10.0, buy=Venue.OKX, sell=Venue.BYBIT),
            opened(CHAT, 10.0, symbol=ETH),
            signal(CHAT, 10.0),
            ViewUpdate("v2", CHAT, 10.0),
        ]
    )
    items = outbox.chats[CHAT].items
    assert set(items) == {
        KEY,
        AlertKey(CHAT, "m1", "BTC-USDT okx->bybit"),
        AlertKey(CHAT, "m1", "ETH-USDT binance->okx"),
        AlertKey(CHAT, "v1", "BTC-USDT mid_move"),
        AlertKey(CHAT, "v2", "view"),
    }
    assert items[AlertKey(CHAT, "v2", "view")].kind is AlertKind.VIEW
    assert outbox.touched == {CHAT}


def test_open_then_close_before_sending_becomes_opened_and_closed() -> None:
    outbox, history = make()
    outbox.publish([opened(CHAT, 10.0, 0.4), closed(CHAT, 14.0, 10.0, 0.45)])
    item = outbox.chats[CHAT].items[KEY]
    assert item.phase is Phase.CLOSED_UNSEEN
    assert item.dirty
    assert not item.shown
    assert item.merged == 1
    assert item.edge_pct == 0.45
    assert [e.outcome for e in history.recent(CHAT)] == [Outcome.MERGED]


def test_open_then_close_before_sending_is_dropped_when_configured() -> None:
    outbox, history = make("drop")
    outbox.publish([opened(CHAT, 10.0), closed(CHAT, 13.0, 10.0)])
    assert KEY not in outbox.chats[CHAT].items
    [entry] = history.recent(CHAT)
    assert entry.outcome is Outcome.DROPPED
    assert entry.detail == "opened and closed within 3 s"


def test_close_of_a_shown_opening_is_a_close_not_a_summary() -> None:
    outbox, _ = make()
    outbox.publish([opened(CHAT, 10.0)])
    item = outbox.chats[CHAT].items[KEY]
    item.start()
    assert item.delivered(item.version, item.phase, 7) is False  # live: kept to edit
    outbox.publish([closed(CHAT, 20.0, 10.0)])
    assert item.phase is Phase.CLOSED
    assert item.dirty
    assert item.message_id == 7


def test_close_while_the_opening_is_in_flight_waits_for_its_message() -> None:
    outbox, _ = make("drop")
    outbox.publish([opened(CHAT, 10.0)])
    item = outbox.chats[CHAT].items[KEY]
    item.start()
    outbox.publish([closed(CHAT, 11.0, 10.0)])
    assert outbox.chats[CHAT].items[KEY] is item
    assert item.phase is Phase.CLOSED
    # The send failed after all: the close of an opening nobody saw is dropped (policy).
    item.released()
    outbox.settle(item)
    assert KEY not in outbox.chats[CHAT].items


def test_reopening_before_sending_keeps_one_live_state() -> None:
    outbox, history = make()
    outbox.publish([opened(CHAT, 10.0, 0.3), closed(CHAT, 12.0, 10.0), opened(CHAT, 15.0, 0.6)])
    item = outbox.chats[CHAT].items[KEY]
    assert item.phase is Phase.OPEN
    assert item.edge_pct == 0.6
    assert item.event.ts == 15.0
    assert item.merged == 2
    assert [e.outcome for e in history.recent(CHAT)] == [Outcome.MERGED, Outcome.MERGED]


def test_close_without_a_known_opening_is_recorded_and_not_queued() -> None:
    outbox, history = make()
    outbox.publish([closed(CHAT, 20.0, 10.0)])
    assert not outbox.chats[CHAT].items
    assert history.recent(CHAT)[0].detail == "closed, its opening was not shown"


def test_signals_keep_only_the_latest_state() -> None:
    outbox, _ = make()
    outbox.publish([signal(CHAT, t, move=t / 10) for t in (1.0, 2.0, 3.0)])
    [item] = outbox.chats[CHAT].items.values()
    assert item.event.ts == 3.0
    assert item.merged == 2
    assert outbox.pending() == 1


def test_a_stopped_view_never_shown_is_forgotten() -> None:
    outbox, _ = make()
    outbox.publish([ViewUpdate("v", CHAT, 1.0), ViewUpdate("v", CHAT, 2.0, stopped=True)])
    assert not outbox.chats[CHAT].items


def test_the_queue_is_bounded_by_keys_not_events() -> None:
    history = AlertHistory()
    outbox = Outbox(history, max_keys_per_chat=3)
    outbox.publish([signal(CHAT, float(t), monitor=f"v{t % 5}") for t in range(10_000)])
    assert len(outbox.chats[CHAT].items) == 3
    dropped = [e for e in history.recent(CHAT) if e.outcome is Outcome.DROPPED]
    assert dropped
    assert dropped[0].detail == "too many pending alerts in this chat"


def test_migration_moves_pending_alerts_and_live_messages() -> None:
    outbox, _ = make()
    outbox.publish([opened(-100, 10.0), signal(-100, 10.0)])
    box = outbox.chats[-100]
    box.messages[5] = LiveMessage(5, ["header", AlertKey(-100, "m1", KEY.subject)])
    box.messages[5].texts[AlertKey(-100, "m1", KEY.subject)] = "old text"
    outbox.migrate(-100, -200)
    assert -100 not in outbox.chats
    moved = outbox.chats[-200]
    assert {k.chat_id for k in moved.items} == {-200}
    assert all(item.key == key for key, item in moved.items.items())
    assert moved.messages[5].parts == ["header", AlertKey(-200, "m1", KEY.subject)]
    assert moved.messages[5].texts == {AlertKey(-200, "m1", KEY.subject): "old text"}
    assert outbox.touched == {-200}


def test_live_message_ids_survive_a_restart_as_plain_data() -> None:
    outbox, _ = make()
    outbox.publish([opened(CHAT, 10.0)])
    item = outbox.chats[CHAT].items[KEY]
    item.start()
    item.delivered(item.version, item.phase, 77)
    outbox.chats[CHAT].messages[77] = LiveMessage(77, ["head", KEY], {KEY: "open 0.40 %"})
    saved = outbox.message_ids()
    assert saved == [
        {
            "chat_id": CHAT,
            "message_id": 77,
            "parts": [{"monitor": "m1", "subject": KEY.subject, "text": "open 0.40 %"}],
        }
    ]
    restarted, _ = make()
    restarted.restore_message_ids(saved)
    # The engine finds the opportunity again after the restart: the old message is edited.
    restarted.publish([opened(CHAT, 500.0, 0.5)])
    again = restarted.chats[CHAT].items[KEY]
    assert again.message_id == 77
    assert again.shown
    assert again.dirty
    # A close for a restored key still edits its message.
    other = AlertKey(CHAT, "m2", KEY.subject)
    restarted.restore_message_ids(
        [
            {
                "chat_id": CHAT,
                "message_id": 78,
                "parts": [{"monitor": "m2", "subject": KEY.subject, "text": "x"}],
            }
        ]
    )
    restarted.publish([closed(CHAT, 501.0, 400.0, monitor="m2")])
    assert restarted.chats[CHAT].items[other].message_id == 78
    assert restarted.chats[CHAT].items[other].phase is Phase.CLOSED
