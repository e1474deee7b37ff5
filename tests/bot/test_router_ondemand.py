"""/get_cbbo and /arbitrage on symbols no monitor streams: subscribe, answer when live, release."""

from __future__ import annotations

import asyncio
from pathlib import Path

from goquant_bot.bot.ondemand import run_followups
from goquant_bot.bot.types import Keyboard
from goquant_bot.domain.instruments import InstrumentKey
from goquant_bot.marketdata.hub import HubConfig
from tests.bot.harness import ALICE, BN, BOB, BY, OK, SOL, Bot, data, text
from tests.helpers import wait_until

SOL_BN, SOL_OK = InstrumentKey(BN, SOL), InstrumentKey(OK, SOL)


def test_get_cbbo_subscribes_answers_once_live_and_releases(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    out = bot.say("/get_cbbo SOL-USDT")
    assert text(out) == (
        "⏳ <b>SOL-USDT</b> is not streamed yet: subscribing to its books on binance, okx. "
        "The table follows in a new message as soon as they are live (within 10 s)."
    )
    assert (bot.hub.refcount(SOL_BN), bot.hub.refcount(SOL_OK)) == (1, 1)
    assert bot.router.due_answers() == []  # both books still syncing
    bot.quote(BN, 150.0, 150.2, symbol=SOL)
    assert bot.router.due_answers() == []  # okx still syncing
    bot.now += 1.5
    bot.quote(OK, 150.1, 150.3, symbol=SOL)
    ((chat_id, answer),) = bot.router.due_answers()
    assert chat_id == ALICE.chat_id
    assert answer[0].text.startswith("📊 <b>SOL-USDT</b> consolidated book\nBest bid <b>150.1")
    assert data(answer) == ["q:SOL-USDT"]
    assert bot.router.due_answers() == []  # answered once
    assert (bot.hub.refcount(SOL_BN), bot.hub.refcount(SOL_OK)) == (0, 0)
    bot.hub.check(bot.now)  # no grace in the harness: unsubscribed at once
    assert bot.hub.book(SOL_BN) is None


def test_live_books_are_answered_at_once_and_keep_their_grace(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.hub.config = HubConfig(unsubscribe_grace_s=30.0)
    bot.say("/get_cbbo SOL-USDT")
    bot.quote(BN, 150.0, 150.2, symbol=SOL)
    bot.quote(OK, 150.1, 150.3, symbol=SOL)
    assert len(bot.router.due_answers()) == 1
    bot.now += 20
    bot.hub.check(bot.now)
    assert bot.hub.book(SOL_BN) is not None  # within the grace period: still streamed
    bot.quote(BN, 150.0, 150.2, symbol=SOL)
    bot.quote(OK, 150.1, 150.3, symbol=SOL)
    out = text(bot.say("/get_cbbo SOL-USDT"))  # streamed: the answer is immediate
    assert out.startswith("📊 <b>SOL-USDT</b> consolidated book")
    assert bot.router.due_answers() == []
    bot.now += 25  # 45 s after the first answer, 25 s after the second one
    bot.hub.check(bot.now)
    assert bot.hub.book(SOL_BN) is not None
    bot.now += 6
    bot.hub.check(bot.now)
    assert bot.hub.book(SOL_BN) is None


def test_answer_after_the_wait_shows_what_is_still_syncing(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.say("/get_cbbo SOL-USDT")
    bot.say("/get_cbbo SOL-USDT")  # asked twice: one answer
    bot.say("/get_cbbo SOL-USDT", BOB)
    bot.quote(BN, 150.0, 150.2, symbol=SOL)
    bot.now += 9.9
    assert bot.router.due_answers() == []
    bot.now += 0.2
    answers = bot.router.due_answers()
    assert [chat for chat, _ in answers] == [ALICE.chat_id, BOB.chat_id]
    table = text(answers[0][1])
    assert "okx✓      not counted: syncing" in table
    assert "Best bid <b>150.0" in table
    assert bot.hub.refcount(SOL_OK) == 0


def test_arbitrage_on_an_unstreamed_symbol_follows_up_with_the_opportunities(
    tmp_path: Path,
) -> None:
    bot = Bot(tmp_path)
    out = text(bot.say("/arbitrage SOL-USDT"))
    assert out.startswith("⏳ <b>SOL-USDT</b> is not streamed yet: subscribing")
    assert "The list of opportunities follows" in out
    bot.quote(BN, 149.0, 149.1, symbol=SOL)
    bot.quote(OK, 151.0, 151.1, symbol=SOL)
    ((_, answer),) = bot.router.due_answers()
    lines = text(answer).splitlines()
    assert lines[0] == "💹 <b>Best opportunities now</b> at 1,000 per trade, net of fees"
    assert lines[1].startswith("🟢 1. <b>SOL-USDT</b> buy binance 149.1")


def test_refresh_button_of_an_unstreamed_symbol_answers_and_follows_up(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    answer, out = bot.tap("q:SOL-USDT")
    assert answer.text == "SOL-USDT: subscribing, the table follows in a moment."
    assert out == []
    bot.quote(BN, 150.0, 150.2, symbol=SOL)
    bot.quote(OK, 150.1, 150.3, symbol=SOL)
    ((_, table),) = bot.router.due_answers()
    assert text(table).startswith("📊 <b>SOL-USDT</b>")
    _, again = bot.tap("q:SOL-USDT")  # within the grace: books still live, edited in place
    assert again[0].edit


async def test_followups_are_sent_to_their_chats(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    sent: list[tuple[int, str, Keyboard]] = []

    async def send(chat_id: int, text: str, *, buttons: Keyboard = (), silent: bool = False) -> int:
        sent.append((chat_id, text, buttons))
        return len(sent)

    bot.say("/get_cbbo SOL-USDT binance")
    runner = asyncio.ensure_future(run_followups(bot.router.due_answers, send, interval_s=0.01))
    try:
        bot.quote(BN, 150.0, 150.2, symbol=SOL)
        await wait_until(lambda: len(sent) == 1)
    finally:
        runner.cancel()
    chat_id, body, buttons = sent[0]
    assert chat_id == ALICE.chat_id
    assert body.startswith("📊 <b>SOL-USDT</b>")
    assert [b.data for row in buttons for b in row] == ["q:SOL-USDT"]
    assert BY not in [k.venue for k in bot.hub.subscribed()]
