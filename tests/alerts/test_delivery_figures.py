"""Figures: 10,000 alerts to 2,000 chats on a simulated clock, against a transport that
enforces Telegram's limits (1 message/s per chat, 20/min per group, 30/s overall) by
answering 429, with and without 20 % injected failures."""

from __future__ import annotations

import html
import random
import re
from collections import defaultdict, deque
from dataclasses import dataclass, field

from goquant_bot.alerts.delivery import Delivery
from goquant_bot.alerts.history import Outcome
from goquant_bot.alerts.state import AlertSnapshot, Phase
from goquant_bot.alerts.transport import (
    BadMessage,
    ChatBlocked,
    DeliveryTimeout,
    FloodWait,
    MessageGone,
    MessageNotModified,
)
from goquant_bot.domain.events import ArbClosed, ArbOpened, Event
from goquant_bot.domain.instruments import Symbol
from goquant_bot.domain.users import ChatPrefs
from goquant_bot.messages import Keyboard
from tests.alerts.rig import LoopClock, serve_events
from tests.alerts.scripted import Clock, Prefs, closed, opened, signal
from tests.alerts.simulated_time import simulated_loop

SIMULATED_TIME = True  # the production delivery loop, on the fake API's clock

PRIVATE = list(range(1, 1_801))
GROUPS = list(range(-200, 0))
CHATS = PRIVATE + GROUPS
LINE = re.compile(r"\[(\S+) ([^\]]+)\] (\w+) ts=([\d.]+)")


def render(item: AlertSnapshot, now: float) -> str:
    """Test text: the key, its phase and the event time (and a duration that ticks)."""
    event, key = item.event, item.key
    head = f"[{key.monitor_id} {key.subject}] {item.phase.value} ts={event.ts:.3f}"
    if isinstance(event, ArbOpened):
        return f"<b>{head}</b> edge {event.edge_pct:.2f} % for {int(now - event.ts) // 10 * 10} s"
    return f"<b>{head}</b>"


@dataclass
class StrictBotApi:
    """Answers like Telegram: 429 past the limits; optionally fails 20 % of requests."""

    clock: Clock
    rng: random.Random | None = None  # None: no injected failures
    limit_floods: int = 0
    injected: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    requests: int = 0
    peak_per_s: int = 0  # most requests seen within one second
    blocked: dict[int, float] = field(default_factory=dict)
    messages: dict[tuple[int, int], str] = field(default_factory=dict)
    delivered: list[tuple[int, str]] = field(default_factory=list)  # new messages
    _recent: deque[float] = field(default_factory=deque)
    _last: dict[int, float] = field(default_factory=dict)
    _group: dict[int, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _next_id: int = 0

    def _admit(self, chat_id: int, has_markup: bool) -> str | None:
        """Check the limits, then pick an injected failure (None: none)."""
        now = self.clock()
        self.requests += 1
        # Limits to the nanosecond: a float sum may round a whole second just below.
        while self._recent and self._recent[0] <= now - 1.0 + 1e-9:
            self._recent.popleft()
        window = self._group[chat_id]
        while window and window[0] <= now - 60.0 + 1e-9:
            window.popleft()
        too_fast = now - self._last.get(chat_id, -1e9) < 1.0 - 1e-9
        if len(self._recent) >= 30 or too_fast or (chat_id < 0 and len(window) >= 20):
            self.limit_floods += 1
            raise FloodWait("Too Many Requests: retry after 5", 5.0)
        self._recent.append(now)
        self.peak_per_s = max(self.peak_per_s, len(self._recent))
        self._last[chat_id] = now
        if chat_id < 0:
            window.append(now)
        if chat_id in self.blocked:
            raise ChatBlocked("Forbidden: bot was blocked by the user")
        if self.rng is None:
            return None
        roll = self.rng.random()
        failure = None
        if roll < 0.05:
            failure = "flood"
        elif roll < 0.10:
            failure = "timeout"
        elif roll < 0.15 and has_markup:
            failure = "markup"
        elif roll < 0.20:
            failure = "blocked"
        if failure:
            self.injected[failure] += 1
        if failure == "flood":
            raise FloodWait("Too Many Requests: retry after 2", self.rng.uniform(1.0, 4.0))
        if failure == "markup":
            raise BadMessage("Bad Request: can't parse entities: unexpected end tag")
        if failure == "blocked":
            self.blocked[chat_id] = now
            raise ChatBlocked("Forbidden: bot was blocked by the user")
        return failure

    async def send(
        self, chat_id: int, text: str, *, buttons: Keyboard = (), silent: bool = False
    ) -> int:
        failure = self._admit(chat_id, "<" in text)
        self._next_id += 1
        self.messages[(chat_id, self._next_id)] = text
        self.delivered.append((chat_id, text))
        if failure == "timeout":  # the worst case: delivered, but the answer was lost
            raise DeliveryTimeout("Timed out")
        return self._next_id

    async def edit(
        self, chat_id: int, message_id: int, text: str, *, buttons: Keyboard = ()
    ) -> None:
        failure = self._admit(chat_id, "<" in text)
        if (chat_id, message_id) not in self.messages:
            raise MessageGone("Bad Request: message to edit not found")
        if self.messages[(chat_id, message_id)] == text:
            raise MessageNotModified("Bad Request: message is not modified")
        self.messages[(chat_id, message_id)] = text
        if failure == "timeout":
            raise DeliveryTimeout("Timed out")


def workload(rng: random.Random) -> list[Event]:
    """10,000 events over 200 s on 4,500 keys of 2,000 chats.

    2,000 arbitrage keys open and close once (some within 0.3 s), 1,000 stay open, 500 open
    and close twice, and 1,000 market-view keys signal three times in a burst."""
    shapes = ["once"] * 2_000 + ["open"] * 1_000 + ["twice"] * 500 + ["burst"] * 1_000
    rng.shuffle(shapes)
    owners = CHATS + [rng.choice(CHATS) for _ in range(len(shapes) - len(CHATS))]
    events: list[Event] = []
    for n, (shape, chat) in enumerate(zip(shapes, owners, strict=True)):
        symbol, t = Symbol(f"C{n:04d}", "USDT"), rng.uniform(0.0, 200.0)
        if shape == "once":
            gap = rng.choice([0.3, 2.0, 8.0, 30.0])
            events += [opened(chat, t, 0.3, symbol=symbol), closed(chat, t + gap, t, symbol=symbol)]
        elif shape == "open":
            events.append(opened(chat, t, rng.uniform(0.2, 2.0), symbol=symbol))
        elif shape == "twice":
            events += [
                opened(chat, t, 0.4, symbol=symbol),
                closed(chat, t + 3.0, t, symbol=symbol),
                opened(chat, t + 4.0, 0.6, symbol=symbol),
                closed(chat, t + 40.0, t + 4.0, symbol=symbol),
            ]
        else:
            events += [signal(chat, t + i * 0.7, monitor=f"s{n}", move=i) for i in range(3)]
    events.sort(key=lambda e: e.ts)
    assert len(events) == 10_000
    return events


async def simulate(api: StrictBotApi, events: list[Event], prefs: Prefs, clock: Clock) -> Delivery:
    def blocked(chat_id: int) -> None:
        prefs.set(ChatPrefs(chat_id, active=False))

    delivery = Delivery(api, prefs=prefs, render=render, on_blocked=blocked, clock=clock)
    await serve_events(delivery, events)
    return delivery


def final_states(events: list[Event]) -> dict[tuple[int, str, str], tuple[str, float]]:
    """Per (chat, monitor, subject): the phase family and time the user must see last."""
    final: dict[tuple[int, str, str], tuple[str, float]] = {}
    for e in events:
        if isinstance(e, ArbOpened | ArbClosed):
            subject = f"{e.symbol} {e.buy_venue.value}->{e.sell_venue.value}"
            state = "open" if isinstance(e, ArbOpened) else "closed"
        else:
            subject, state = f"{e.symbol} {e.kind}", "signal"
        final[(e.owner, e.monitor_id, subject)] = (state, round(e.ts, 3))
    return final


def visible(api: StrictBotApi) -> dict[tuple[int, str, str], list[tuple[str, float]]]:
    """Each key's lines as the chats show them now (current text of every message)."""
    shown: dict[tuple[int, str, str], list[tuple[str, float]]] = defaultdict(list)
    for (chat, _), text in api.messages.items():
        for monitor, subject, phase, ts in LINE.findall(html.unescape(text)):
            family = "closed" if phase.startswith("closed") else phase
            shown[(chat, monitor, subject)].append((family, float(ts)))
    return shown


def assert_no_duplicates(api: StrictBotApi) -> None:
    """No state of a key went out in two different new messages."""
    lines = [(chat, m) for chat, text in api.delivered for m in LINE.findall(html.unescape(text))]
    assert len(lines) == len(set(lines))


async def test_10k_alerts_to_2k_chats_within_the_limits_and_nothing_lost() -> None:
    rng = random.Random(7)
    events = workload(rng)
    clock, prefs = LoopClock(simulated_loop(), 0.0), Prefs()
    api = StrictBotApi(clock)
    delivery = await simulate(api, events, prefs, clock)
    assert api.limit_floods == 0
    assert api.peak_per_s == 25  # the backlog used the whole global budget, never more
    shown = visible(api)
    for key, (state, ts) in final_states(events).items():
        assert (state, ts) in shown[key], key
    assert_no_duplicates(api)
    # Folding and combining: far fewer messages than events.
    assert len(api.delivered) < 6_000
    assert delivery.pacer.flood_waits == 0


async def test_with_20_percent_failures_nothing_due_is_lost_or_duplicated() -> None:
    rng = random.Random(11)
    events = workload(rng)
    clock, prefs = LoopClock(simulated_loop(), 0.0), Prefs()
    api = StrictBotApi(clock, rng=random.Random(5))
    delivery = await simulate(api, events, prefs, clock)
    assert api.limit_floods == 0
    assert min(api.injected.values()) > 50  # every kind of failure happened, often
    assert sum(api.injected.values()) > 0.15 * api.requests
    shown = visible(api)
    for key, (state, ts) in final_states(events).items():
        chat = key[0]
        if chat in api.blocked:
            continue  # the user blocked the bot: nothing more is due to that chat
        assert (state, ts) in shown[key], key
    assert_no_duplicates(api)
    for chat in api.blocked:
        assert not prefs(chat).active
    history = [e for chat in CHATS for e in delivery.history.recent(chat)]
    outcomes = {e.outcome for e in history}
    assert {Outcome.SENT, Outcome.MAYBE_SENT, Outcome.MERGED, Outcome.FAILED} <= outcomes
    assert Phase.CLOSED_UNSEEN  # opened-and-closed summaries are among the states checked
