"""The chats' own rules through the service: mute, snooze, quiet hours, cooldown, cap."""

from __future__ import annotations

from goquant_bot.alerts.history import Outcome
from goquant_bot.domain.users import ChatPrefs, QuietHours
from tests.alerts.rig import Rig
from tests.alerts.scripted import closed, opened, signal, utc

SIMULATED_TIME = True  # the production delivery loop, on the rig's clock

ALICE, BOB = 1, 2


async def test_muted_chats_and_monitors_get_nothing() -> None:
    rig = Rig()
    rig.prefs.set(ChatPrefs(ALICE, muted_monitors=frozenset({"m1"})))
    rig.prefs.set(ChatPrefs(BOB, muted=True))
    rig.publish(
        opened(ALICE, 1_000.0),
        opened(ALICE, 1_000.0, monitor="m2", notional=200),
        signal(BOB, 1_000.0),
    )
    await rig.run_until(1_010.0)
    [sent] = rig.transport.sent()
    assert sent.chat_id == ALICE
    assert "open" in sent.text
    assert {e.outcome for e in rig.delivery.history.recent(ALICE)} == {Outcome.MUTED, Outcome.SENT}
    assert rig.delivery.history.recent(BOB)[0].outcome is Outcome.MUTED


async def test_snoozed_alerts_are_held_and_folded_until_the_snooze_ends() -> None:
    rig = Rig()
    rig.prefs.set(ChatPrefs(ALICE, snoozed_until=1_600.0))
    rig.publish(opened(ALICE, 1_000.0), signal(ALICE, 1_000.0))
    await rig.run_until(1_100.0)
    rig.publish(closed(ALICE, 1_100.0, 1_000.0), signal(ALICE, 1_200.0, move=0.9))
    await rig.run_until(1_599.0)
    assert rig.transport.calls == []
    await rig.run_until(1_600.0)
    [digest] = rig.transport.calls
    assert digest.text.split("\n\n") == [
        "<b>Held alerts</b>: 2 held while snoozed",
        "<b>BTC-USDT binance->okx</b> opened and closed within 100 s, peak 0.50 %",
        "<i>BTC-USDT mid_move</i> move_pct=0.9",
    ]
    outcomes = [e.outcome for e in reversed(rig.delivery.history.recent(ALICE))]
    assert outcomes.count(Outcome.SNOOZED) == 2
    assert outcomes[-2:] == [Outcome.SENT, Outcome.SENT]


async def test_quiet_hours_digest_across_a_dst_change_and_silent_delivery() -> None:
    start = utc("2024-03-30T23:00:00")  # 00:00 CET in Berlin
    rig = Rig(now=start)
    digest = QuietHours("22:00", "07:00", "Europe/Berlin", digest=True)
    rig.prefs.set(ChatPrefs(ALICE, quiet_hours=digest))
    rig.prefs.set(ChatPrefs(BOB, quiet_hours=QuietHours("22:00", "07:00", "Europe/Berlin")))
    rig.prefs.set(ChatPrefs(3, quiet_hours=QuietHours("22:00", "07:00", "America/New_York")))
    rig.publish(signal(ALICE, start), signal(BOB, start), signal(3, start))
    await rig.step()
    assert [(c.chat_id, c.silent) for c in rig.transport.calls] == [(BOB, True), (3, False)]
    await rig.run_until(utc("2024-03-31T04:59:59"))  # 06:59:59 CEST
    assert rig.transport.sent(ALICE) == []
    await rig.run_until(utc("2024-03-31T05:00:00"))  # 07:00 CEST, not 06:00 UTC
    [held] = rig.transport.sent(ALICE)
    assert held.text.startswith("<b>Held alerts</b>: 1 held during your quiet hours")
    assert held.silent is False


async def test_cooldown_holds_the_next_alert_of_a_monitor() -> None:
    rig = Rig()
    rig.prefs.set(ChatPrefs(ALICE, cooldown_s=60.0))
    rig.publish(signal(ALICE, 1_000.0))
    await rig.step()
    rig.clock.now = 1_010.0
    rig.publish(signal(ALICE, 1_010.0, move=0.7), signal(ALICE, 1_010.0, monitor="v2"))
    await rig.run_until(1_059.0)
    assert [(c.at, c.text) for c in rig.transport.sent()] == [
        (1_000.0, "<i>BTC-USDT mid_move</i> move_pct=0.5"),
        (1_010.0, "<i>BTC-USDT mid_move</i> move_pct=0.5"),  # v2: its own cooldown
    ]
    await rig.run_until(1_060.0)
    assert [(c.at, c.text) for c in rig.transport.sent()][2] == (
        1_060.0,
        "<i>BTC-USDT mid_move</i> move_pct=0.7",
    )
    assert Outcome.COOLDOWN in [e.outcome for e in rig.delivery.history.recent(ALICE)]


async def test_the_hourly_cap_sends_a_summary_and_records_what_it_skipped() -> None:
    rig = Rig()
    rig.prefs.set(ChatPrefs(ALICE, hourly_cap=2))
    for i in range(4):
        rig.clock.now = 1_000.0 + 10 * i
        rig.publish(signal(ALICE, rig.clock.now, monitor=f"v{i}"))
        await rig.run_until(rig.clock.now + 5)
    texts = [c.text for c in rig.transport.sent()]
    assert len(texts) == 3
    assert texts[2].startswith(
        "<b>Hourly limit of 2 alerts reached.</b> Further alerts until 01:16"
    )
    assert "v2" not in texts[2]
    outcomes = [e.outcome for e in reversed(rig.delivery.history.recent(ALICE))]
    assert outcomes == [Outcome.SENT, Outcome.SENT, Outcome.CAPPED, Outcome.CAPPED]
    # An hour after the first alert, the next one says what was skipped.
    rig.clock.now = 4_700.0
    rig.publish(signal(ALICE, 4_700.0, monitor="v9"))
    await rig.step()
    last = rig.transport.sent()[-1].text.split("\n\n")
    assert last[0] == "<i>2 alerts were skipped by your hourly limit (see /alerts).</i>"
