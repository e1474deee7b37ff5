"""One alert per opportunity per chat: monitors of one chat that match the same opportunity
share a message, through the real Telegram stack (Delivery -> TelegramTransport -> Bot -> the
fake Bot API) and the real alert texts, on simulated time."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from goquant_bot.alerts.delivery import Delivery
from goquant_bot.alerts.history import Outcome
from goquant_bot.alerts.outbox import Payload
from goquant_bot.app.chat import same_figures
from goquant_bot.bot.alert_text import AlertRenderer
from goquant_bot.bot.telegram import TelegramTransport, build_bot
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor
from goquant_bot.domain.users import ChatPrefs
from goquant_bot.engine.arb_records import ArbConfig
from goquant_bot.engine.arbitrage import ArbitrageEngine
from tests.alerts.rig import LoopClock
from tests.alerts.scripted import Prefs, closed, opened
from tests.alerts.simulated_time import SimulatedTimeLoop, simulated_loop
from tests.fakes.telegram_api import BotApi, FakeBotRequest
from tests.helpers import BOT_TOKEN

SIMULATED_TIME = True

ALICE, GROUP = 11, -100_555
BOTH = "Monitors <code>ab12cd</code>, <code>ef34gh</code>"


@dataclass
class Bot:
    """A delivery loop serving the fake Bot API; ``restart`` starts a new one from the saved
    live message ids, as the app does after a restart."""

    api: BotApi
    loop: SimulatedTimeLoop
    clock: LoopClock
    prefs: Prefs
    delivery: Delivery
    running: asyncio.Task[None]
    bot: Any

    def publish(self, *events: Payload) -> None:
        self.delivery.publish(events)

    async def until(self, when: float) -> None:
        await self.loop.advance_to(when)

    def sends(self, chat_id: int | None = None) -> list[str]:
        return [c.params["text"] for c in self.api.calls_to("sendMessage") if _to(c, chat_id)]

    def edits(self, chat_id: int | None = None) -> list[str]:
        return [c.params["text"] for c in self.api.calls_to("editMessageText") if _to(c, chat_id)]

    async def restart(self) -> None:
        saved = json.loads(json.dumps(self.delivery.message_ids()))  # through the state file
        await _stop(self.running)
        self.delivery = _delivery(self.bot, self.prefs, self.clock)
        self.delivery.restore_message_ids(saved)
        self.running = asyncio.create_task(self.delivery.run(), name="delivery")


def _to(call: Any, chat_id: int | None) -> bool:
    return chat_id is None or call.chat_id == chat_id


def _delivery(bot: Any, prefs: Prefs, clock: LoopClock) -> Delivery:
    renderer = AlertRenderer(
        open_opportunities=lambda monitor_id: [],  # the opening's own figures
        live_view=lambda monitor_id: None,
        prefs=prefs,
    )
    return Delivery(
        TelegramTransport(bot),
        prefs=prefs,
        render=renderer.render,
        buttons=renderer.buttons,
        clock=clock,
    )


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@contextlib.asynccontextmanager
async def serving() -> AsyncIterator[Bot]:
    loop = simulated_loop()
    clock = LoopClock(loop, 1_000.0)
    api, prefs = BotApi(clock=clock), Prefs()
    async with build_bot(BOT_TOKEN, request=FakeBotRequest(api)) as bot:
        delivery = _delivery(bot, prefs, clock)
        running = asyncio.create_task(delivery.run(), name="delivery")
        rig = Bot(api, loop, clock, prefs, delivery, running, bot)
        try:
            yield rig
        finally:
            await _stop(rig.running)


async def test_two_monitors_of_a_chat_get_one_alert_naming_both_and_one_close() -> None:
    async with serving() as bot:
        for chat in (ALICE, GROUP):
            bot.publish(
                opened(chat, 1_000.0, monitor="ab12cd"), opened(chat, 1_000.0, monitor="ef34gh")
            )
        await bot.until(1_002.0)
        bot.publish(closed(ALICE, 1_004.0, 1_000.0, monitor="ab12cd"))
        await bot.until(1_006.0)
        # One of the two still has it open: the message still says open.
        assert "Arbitrage open" in bot.api.last(ALICE).text
        assert "Arbitrage closed" not in " ".join(bot.edits(ALICE))
        bot.publish(closed(ALICE, 1_008.0, 1_000.0, monitor="ef34gh"))
        await bot.until(1_012.0)

        for chat in (ALICE, GROUP):  # a group chat too; each chat its own message
            [sent] = bot.sends(chat)
            assert "Arbitrage open · BTC-USDT" in sent
            assert BOTH in sent
            assert "Monitor <code>" not in sent
        [message] = bot.api.sent(ALICE)
        assert message.buttons() == [
            [("🔕 Mute ab12cd", "m:ab12cd:mute"), ("⏹ Stop ab12cd", "m:ab12cd:stop")],
            [("🔕 Mute ef34gh", "m:ef34gh:mute"), ("⏹ Stop ef34gh", "m:ef34gh:stop")],
        ]
        [close] = [t for t in bot.edits(ALICE) if "Arbitrage closed" in t]
        assert BOTH in close
        assert message.text == close  # the close is an edit of the one message
        assert "Arbitrage open" in bot.api.last(GROUP).text  # the group's is still open


async def test_a_monitor_opening_later_joins_the_live_alert() -> None:
    async with serving() as bot:
        bot.publish(opened(ALICE, 1_000.0, monitor="ab12cd"))
        await bot.until(1_003.0)
        bot.publish(opened(ALICE, 1_003.0, monitor="ef34gh"))
        await bot.until(1_010.0)
        [sent] = bot.sends(ALICE)
        assert "Monitor <code>ab12cd</code>" in sent
        assert BOTH in bot.api.last(ALICE).text  # edited to name both
        bot.publish(closed(ALICE, 1_011.0, 1_000.0, monitor="ab12cd"))
        bot.publish(closed(ALICE, 1_012.0, 1_003.0, monitor="ef34gh"))
        await bot.until(1_020.0)
        assert len(bot.sends(ALICE)) == 1
        assert "Arbitrage closed" in bot.api.last(ALICE).text


async def test_different_sizes_and_venue_pairs_stay_separate_alerts() -> None:
    async with serving() as bot:
        bot.publish(
            opened(ALICE, 1_000.0, monitor="ab12cd"),
            opened(ALICE, 1_000.0, monitor="ef34gh", notional=5_000.0),
            opened(ALICE, 1_000.0, monitor="gh56ij", sell=Venue.BYBIT),
        )
        await bot.until(1_002.0)
        [sent] = bot.sends(ALICE)  # three alerts, packed in one message as before
        assert len(sent.split("\n\n")) == 3
        for monitor in ("ab12cd", "ef34gh", "gh56ij"):
            assert f"Monitor <code>{monitor}</code>" in sent
        assert "Monitors" not in sent


async def test_muting_one_monitor_keeps_the_alert_for_the_other() -> None:
    async with serving() as bot:
        bot.prefs.set(ChatPrefs(ALICE, muted_monitors=frozenset({"ab12cd"})))
        bot.prefs.set(ChatPrefs(GROUP, muted_monitors=frozenset({"ab12cd", "ef34gh"})))
        for chat in (ALICE, GROUP):
            bot.publish(
                opened(chat, 1_000.0, monitor="ab12cd"), opened(chat, 1_000.0, monitor="ef34gh")
            )
        await bot.until(1_005.0)
        [sent] = bot.sends(ALICE)
        assert BOTH in sent
        assert bot.sends(GROUP) == []  # every monitor it names is muted
        assert bot.delivery.history.recent(GROUP)[0].outcome is Outcome.MUTED


async def test_a_cooldown_of_one_monitor_does_not_hold_the_other_back() -> None:
    async with serving() as bot:
        bot.prefs.set(ChatPrefs(ALICE, cooldown_s=600.0))
        bot.publish(opened(ALICE, 1_000.0, monitor="ab12cd", sell=Venue.BYBIT))
        await bot.until(1_002.0)
        bot.publish(
            opened(ALICE, 1_003.0, monitor="ab12cd"), opened(ALICE, 1_003.0, monitor="ef34gh")
        )
        await bot.until(1_010.0)
        assert len(bot.sends(ALICE)) == 2  # ab12cd cools down, ef34gh may send
        assert BOTH in bot.sends(ALICE)[1]


async def test_stopping_one_monitor_leaves_the_alert_to_the_other() -> None:
    async with serving() as bot:
        bot.publish(
            opened(ALICE, 1_000.0, monitor="ab12cd"), opened(ALICE, 1_000.0, monitor="ef34gh")
        )
        await bot.until(1_002.0)
        bot.delivery.forget(ALICE, "ab12cd")
        bot.publish(closed(ALICE, 1_005.0, 1_000.0, monitor="ef34gh"))
        await bot.until(1_010.0)
        assert len(bot.sends(ALICE)) == 1
        last = bot.api.last(ALICE)
        assert "Arbitrage closed" in last.text
        assert "\nMonitor <code>ef34gh</code> · " in last.text  # the one left
        assert last.buttons() == [[("🔕 Mute", "m:ef34gh:mute"), ("⏹ Stop", "m:ef34gh:stop")]]


async def test_the_alert_names_the_monitor_left_after_the_other_is_stopped() -> None:
    async with serving() as bot:
        bot.publish(
            opened(ALICE, 1_000.0, monitor="ef34gh"), opened(ALICE, 1_000.0, monitor="ab12cd")
        )
        await bot.until(1_002.0)  # the latest opening is ab12cd's
        assert BOTH in bot.api.last(ALICE).text
        bot.delivery.forget(ALICE, "ab12cd")
        await bot.until(1_100.0)  # the live message's next refresh
        assert len(bot.sends(ALICE)) == 1  # edited, never sent again
        text = bot.api.last(ALICE).text
        assert "\nMonitor <code>ef34gh</code> · " in text
        assert "ab12cd" not in text


async def test_a_restart_keeps_the_combined_alert_without_a_duplicate() -> None:
    async with serving() as bot:
        bot.publish(
            opened(ALICE, 1_000.0, monitor="ab12cd"), opened(ALICE, 1_000.0, monitor="ef34gh")
        )
        await bot.until(1_002.0)
        await bot.restart()
        # After the restart the first close leaves the other monitor's opportunity open.
        bot.publish(closed(ALICE, 1_005.0, 1_000.0, monitor="ab12cd"))
        await bot.until(1_008.0)
        assert "Arbitrage open" in bot.api.last(ALICE).text
        await bot.restart()  # a second restart still knows which monitor keeps it open
        bot.publish(closed(ALICE, 1_010.0, 1_000.0, monitor="ef34gh"))
        await bot.until(1_015.0)
        assert len(bot.sends(ALICE)) == 1
        [message] = bot.api.sent(ALICE)
        assert "Arbitrage closed" in message.text
        assert BOTH in message.text  # the close still names both


async def test_a_reopening_after_a_restart_edits_the_same_message() -> None:
    async with serving() as bot:
        bot.publish(
            opened(ALICE, 1_000.0, monitor="ab12cd"), opened(ALICE, 1_000.0, monitor="ef34gh")
        )
        await bot.until(1_002.0)
        await bot.restart()
        bot.publish(opened(ALICE, 1_004.0, 0.6, monitor="ef34gh"))
        await bot.until(1_008.0)
        assert len(bot.sends(ALICE)) == 1
        assert BOTH in bot.api.last(ALICE).text
        assert "0.60 %" in bot.api.last(ALICE).text


class NoBooks:
    """A book source with nothing live: monitors register, nothing is evaluated."""

    def books_for(self, symbol: Symbol, venues: Iterable[Venue] | None = None) -> list[Any]:
        return []


def test_the_app_groups_monitors_by_size_tier_and_fees() -> None:
    fees = {Venue.BINANCE: 0.1, Venue.OKX: 0.1, Venue.BYBIT: 0.1}
    engine = ArbitrageEngine(NoBooks(), ArbConfig(fees_pct=fees, size_tiers=(1_000.0, 10_000.0)))
    btc, venues = Symbol("BTC", "USDT"), (Venue.BINANCE, Venue.OKX)

    for monitor_id, notional, own_fees in (
        ("a", 800.0, ()),
        ("b", 1_000.0, ()),
        ("c", 5_000.0, ()),
        ("d", 1_000.0, ((Venue.OKX, 0.05),)),
    ):
        monitor = ArbMonitor(
            monitor_id, ALICE, (btc,), venues, 0.3, None, notional, fees_pct=own_fees
        )
        engine.add_monitor(monitor, 0.0)
    figures = {m: same_figures(engine, opened(ALICE, 1.0, monitor=m)) for m in "abcd"}
    # 800 and 1,000 USDT walk the books at the same 1,000 tier: the same figures.
    assert figures["a"] == figures["b"]
    assert figures["c"] != figures["b"]  # the 10,000 tier
    assert figures["d"] != figures["b"]  # another fee on okx: another edge
    # A monitor the engine no longer runs: the opening's own notional.
    assert same_figures(engine, opened(ALICE, 1.0, monitor="gone")) == "100"
