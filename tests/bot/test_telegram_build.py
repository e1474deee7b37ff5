"""The update processor: one chat's updates in order, other chats never held up by a busy one."""

from __future__ import annotations

import asyncio
import datetime as dt

from telegram import Chat, Message, Update

from goquant_bot.bot.telegram.build import ChatOrderedProcessor
from tests.helpers import wait_until

_SENT = dt.datetime(2025, 6, 15, tzinfo=dt.UTC)


def update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE if chat_id > 0 else Chat.SUPERGROUP)
    return Update(update_id, message=Message(update_id, _SENT, chat, text="/status"))


class Handlers:
    """Handler coroutines that record their start and wait until released."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release = asyncio.Event()

    async def run(self, name: str) -> None:
        self.started.append(name)
        await self.release.wait()


async def test_a_burst_in_one_chat_does_not_stall_the_other_chats() -> None:
    processor = ChatOrderedProcessor(2)
    handlers = Handlers()
    burst = [
        asyncio.create_task(processor.process_update(update(i, 5), handlers.run(f"busy{i}")))
        for i in range(4)
    ]
    other = asyncio.create_task(processor.process_update(update(9, -7), handlers.run("other")))
    await wait_until(lambda: "other" in handlers.started)
    assert handlers.started == ["busy0", "other"]  # the burst waits on its chat, not on a slot
    handlers.release.set()
    await asyncio.gather(*burst, other)
    assert handlers.started == ["busy0", "other", "busy1", "busy2", "busy3"]


async def test_different_chats_run_at_most_the_limit_at_once() -> None:
    processor = ChatOrderedProcessor(2)
    handlers = Handlers()
    tasks = [
        asyncio.create_task(processor.process_update(update(i, chat), handlers.run(str(chat))))
        for i, chat in enumerate((1, 2, 3))
    ]
    await wait_until(lambda: len(handlers.started) == 2)
    for _ in range(20):  # let the loop run: the third chat must still be waiting for a slot
        await asyncio.sleep(0)
    assert handlers.started == ["1", "2"]
    handlers.release.set()
    await asyncio.gather(*tasks)
    assert handlers.started == ["1", "2", "3"]
