"""The per-chat alert history behind /alerts: bounded, newest first, saved and moved."""

from __future__ import annotations

from goquant_bot.alerts.history import AlertHistory, HistoryEntry, Outcome


def test_the_last_100_per_chat_newest_first() -> None:
    history = AlertHistory()
    for i in range(130):
        history.record(1, float(i), "m1", f"s{i}", Outcome.SENT)
    history.record(2, 5.0, "m9", "x", Outcome.MUTED)
    recent = history.recent(1)
    assert len(recent) == 100
    assert (recent[0].subject, recent[-1].subject) == ("s129", "s30")
    assert history.recent(1, limit=2) == recent[:2]
    assert history.recent(2) == [HistoryEntry(5.0, "m9", "x", Outcome.MUTED)]
    assert history.recent(3) == []


def test_round_trip_through_plain_data_and_migration() -> None:
    history = AlertHistory()
    history.record(-100, 1.0, "m1", "BTC-USDT binance->okx", Outcome.MAYBE_SENT, "no answer")
    history.record(-200, 2.0, "m2", "ETH-USDT okx->bybit", Outcome.CAPPED, "hourly limit")
    restored = AlertHistory()
    restored.load(history.to_dict())
    assert restored.recent(-100) == history.recent(-100)
    restored.move(-100, -200)
    assert [e.monitor_id for e in restored.recent(-200)] == ["m2", "m1"]
    assert restored.recent(-100) == []
    assert restored.to_dict()["-200"][0] == {
        "ts": 1.0,
        "monitor": "m1",
        "subject": "BTC-USDT binance->okx",
        "outcome": "maybe sent",
        "detail": "no answer",
    }
