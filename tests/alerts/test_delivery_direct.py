"""Replies and notices share the alerts' pacer and go first; a chat's new messages are capped."""

from __future__ import annotations

import asyncio

from goquant_bot.alerts.transport import ChatBlocked
from tests.alerts.rig import Rig
from tests.alerts.scripted import opened, signal
from tests.helpers import wait_until

SIMULATED_TIME = True  # the production delivery loop, on the rig's clock

T0 = 1_000.0
ASKING = 99  # the chat waiting for a reply


async def test_a_waiting_reply_takes_the_next_free_slot_before_any_alert() -> None:
    rig = Rig(T0)
    rig.publish(*(opened(chat, T0) for chat in range(1, 31)))
    await rig.step()
    assert len(rig.transport.sent()) == 5  # at most 5 requests in any 0.2 s
    direct = rig.delivery.direct
    reply = asyncio.create_task(
        direct.request(ASKING, lambda: rig.transport.send(ASKING, "your reply"))
    )
    await wait_until(lambda: direct.waiting == 1)
    assert rig.transport.sent(ASKING) == []  # no slot free before T0 + 0.2

    rig.clock.now = T0 + 0.2
    await rig.step()
    await reply
    batch = [call for call in rig.transport.sent() if call.at == T0 + 0.2]
    assert len(batch) == 5
    assert [call.text for call in batch if call.chat_id == ASKING] == ["your reply"]  # 4 alerts


async def test_no_alert_starts_in_a_chat_whose_reply_waits() -> None:
    rig = Rig(T0)
    rig.publish(opened(7, T0))
    await rig.step()
    rig.clock.now = T0 + 0.5
    rig.publish(signal(7, T0 + 0.5))
    reply = asyncio.create_task(
        rig.delivery.direct.request(7, lambda: rig.transport.send(7, "your reply"))
    )
    await wait_until(lambda: rig.delivery.direct.waiting == 1)
    rig.clock.now = T0 + 1.0
    await rig.step()  # the chat's next slot: the reply's, not the waiting alert's
    await reply
    await rig.run_until(T0 + 5.0)

    sends = [(call.at - T0, call.text.split()[0]) for call in rig.transport.sent(7)]
    assert sends == [(0.0, "<b>BTC-USDT"), (1.0, "your"), (2.0, "<i>BTC-USDT")]


async def test_past_20_new_messages_a_minute_alerts_are_combined_and_edits_go_on() -> None:
    rig = Rig(T0)
    rig.publish(opened(1, T0))  # a live message, refreshed by edits every 10 s
    for n in range(30):
        rig.publish(signal(1, T0 + 2 * n, monitor=f"v{n}", move=n))
        await rig.run_until(T0 + 2 * n)
    await rig.run_until(T0 + 200.0)

    sends = rig.transport.sent(1)
    times = [call.at for call in sends]
    assert all(b - a >= 60.0 for a, b in zip(times, times[20:], strict=False))
    assert len(sends) == 21
    assert times[20] == T0 + 60.0
    last = sends[20].text
    assert [f"move_pct={n}" in last for n in range(20, 30)] == [True] * 10  # none dropped
    # While new messages waited for the minute to end, the live message was still edited.
    assert [c.at for c in rig.transport.edits(1) if T0 + 38.0 < c.at < T0 + 60.0]


async def test_a_reply_counts_against_the_chat_minute_and_the_alert_waits() -> None:
    rig = Rig(T0)
    for n in range(20):
        rig.clock.now = T0 + 2 * n
        await rig.delivery.direct.request(5, lambda n=n: rig.transport.send(5, f"reply {n}"))
    rig.publish(signal(5, T0 + 40.0))
    await rig.step()
    assert rig.transport.sent(5)[-1].text == "reply 19"
    assert not rig.delivery.pending  # held by the chat's minute: a flush does not wait for it
    await rig.run_until(T0 + 100.0)
    alert = rig.transport.sent(5)[-1]
    assert alert.text.startswith("<i>BTC-USDT")
    assert alert.at == T0 + 60.0


async def test_a_notice_is_paced_like_any_message_and_reports_failures() -> None:
    rig = Rig(T0)
    rig.publish(opened(3, T0))
    await rig.step()
    notice = asyncio.create_task(rig.delivery.notify(3, "⚠️ <b>state file damaged</b>"))
    await wait_until(lambda: rig.delivery.direct.waiting == 1)
    rig.clock.now = T0 + 1.0
    await rig.step()
    assert await notice is True
    assert [(c.at, c.text) for c in rig.transport.sent(3)][1] == (
        T0 + 1.0,
        "⚠️ <b>state file damaged</b>",
    )

    rig.transport.errors[4] = [ChatBlocked("chat 4: Forbidden: bot was blocked by the user")]
    assert await rig.delivery.notify(4, "hello") is False
