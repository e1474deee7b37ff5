"""Which chat sends what next: the chat's rules, pacing, priority, and the message to send.

Synchronous and clock-free (``now`` is an argument). Chats whose pacing allows a request wait
in a heap ordered by what they would send: a new arbitrage alert (larger edge first), then a
market-view signal, a new live view, an edit that changes a live message, a refresh last.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

from goquant_bot.alerts.controls import Action, ChatControls, Verdict, is_muted, judge_chat
from goquant_bot.alerts.history import Outcome
from goquant_bot.alerts.jobs import (
    Buttons,
    Composer,
    Job,
    RefreshInterval,
    Renderer,
    StableText,
    no_buttons,
)
from goquant_bot.alerts.outbox import ChatBox, LiveMessage, Outbox
from goquant_bot.alerts.pacing import Pacer
from goquant_bot.alerts.state import AlertKey, AlertKind, PendingAlert, Phase
from goquant_bot.domain.users import ChatPrefs

PrefsLookup = Callable[[int], ChatPrefs]
INF = float("inf")


class Rank(IntEnum):
    """The order in which ready chats are served (by what each would send)."""

    NEW_ARBITRAGE = 0
    NEW_SIGNAL = 1
    NEW_VIEW = 2
    EDIT_CHANGE = 3  # an edit that changes a live message
    EDIT_REFRESH = 4  # a live message re-rendered for its clock-driven parts


@dataclass(slots=True)
class _Survey:
    prefs: ChatPrefs
    verdict: Verdict
    new: list[PendingAlert] = field(default_factory=list)
    views: list[PendingAlert] = field(default_factory=list)
    edits: list[tuple[Rank, float, LiveMessage]] = field(default_factory=list)
    next_at: float = INF

    @property
    def rank(self) -> Rank | None:
        if self.new:
            if any(i.kind is AlertKind.ARBITRAGE for i in self.new):
                return Rank.NEW_ARBITRAGE
            return Rank.NEW_SIGNAL
        if self.views:
            return Rank.NEW_VIEW
        return min(rank for rank, _, _ in self.edits) if self.edits else None


class Planner:
    """Chats ordered by their next possible request; builds the requests when they are due."""

    def __init__(
        self,
        outbox: Outbox,
        pacer: Pacer,
        prefs: PrefsLookup,
        render: Renderer,
        buttons: Buttons = no_buttons,
        *,
        edit_interval_s: float,
        refresh_s: float,
        min_refresh_s: RefreshInterval | None = None,
        stable_text: StableText | None = None,
    ) -> None:
        self.outbox = outbox
        self.pacer = pacer
        self.prefs = prefs
        self.composer = Composer(
            outbox,
            render,
            buttons,
            refresh_s=refresh_s,
            min_refresh_s=min_refresh_s,
            stable_text=stable_text,
        )
        self.edit_interval_s = edit_interval_s
        self.controls: dict[int, ChatControls] = {}
        self.busy: set[int] = set()  # chats with a request in flight
        self.held: set[int] = set()  # chats with a command reply or notice to send first
        self._seq = itertools.count()
        self._token: dict[int, int] = {}
        self._waiting: list[tuple[float, int, int]] = []
        self._ready: list[tuple[Rank, float, int, int]] = []
        self._pruned_at = float("-inf")

    def move_chat(self, old: int, new: int) -> None:
        """A group became a supergroup: its cooldowns, caps and digests go along."""
        if (controls := self.controls.pop(old, None)) is not None:
            self.controls[new] = controls

    def hold(self, chat_id: int) -> None:
        """A reply or notice waits for this chat: no alert starts there until ``release``."""
        self.held.add(chat_id)
        self._token.pop(chat_id, None)

    def release(self, chat_id: int, now: float) -> None:
        if chat_id in self.held:
            self.held.discard(chat_id)
            self.schedule(chat_id, now)

    # -- scheduling --------------------------------------------------------------------

    def schedule(self, chat_id: int, now: float) -> None:
        """Put the chat where its next possible request belongs (or nowhere: nothing to do)."""
        if chat_id in self.busy or chat_id in self.held:
            return
        self._token.pop(chat_id, None)
        survey = self._survey(chat_id, now)
        if survey is None:
            return
        rank, at = survey.rank, survey.next_at
        if rank is not None:
            at = self.pacer.chat_ready_at(chat_id, now)
        if at == INF:
            return
        seq = next(self._seq)
        self._token[chat_id] = seq
        if rank is not None and at <= now:
            edge = max((i.edge_pct for i in survey.new), default=0.0)
            heapq.heappush(self._ready, (rank, -edge, seq, chat_id))
        else:
            heapq.heappush(self._waiting, (at, seq, chat_id))
        if len(self._waiting) + len(self._ready) > 4 * len(self._token) + 1_024:
            self._compact()

    def _compact(self) -> None:
        """Drop superseded heap entries (a chat touched often leaves one per reschedule)."""
        token = self._token
        self._waiting = [e for e in self._waiting if token.get(e[2]) == e[1]]
        self._ready = [e for e in self._ready if token.get(e[3]) == e[2]]
        heapq.heapify(self._waiting)
        heapq.heapify(self._ready)

    def due(self, now: float) -> list[Job]:
        """The requests to start now; their chats are busy until ``finished``."""
        if now >= self._pruned_at + 60.0:
            self._pruned_at = now
            self.pacer.prune(now)
        touched, self.outbox.touched = self.outbox.touched, set()
        for chat_id in touched:
            self.schedule(chat_id, now)
        while self._waiting and self._waiting[0][0] <= now:
            _, seq, chat_id = heapq.heappop(self._waiting)
            if self._token.get(chat_id) == seq:
                self.schedule(chat_id, now)
        jobs: list[Job] = []
        idle: set[int] = set()
        while self._ready and self.pacer.global_ready_at(now) <= now:
            _, _, seq, chat_id = heapq.heappop(self._ready)
            if self._token.get(chat_id) != seq:
                continue
            del self._token[chat_id]
            job = None
            if self.pacer.chat_ready_at(chat_id, now) <= now:
                job = self._build(chat_id, now)
            if job is not None:
                self.pacer.started(chat_id, now, new_message=job.message is None)
                self.busy.add(chat_id)
                for entry in job.items:
                    entry.alert.start()
                if job.message is not None:
                    # An attempt counts for the throttle, answered or not.
                    job.message.edited_at = now
                    job.message.refresh_at = self.composer.next_refresh(job.message, now)
                jobs.append(job)
            elif chat_id in idle:
                # Nothing sendable twice in a row: look again a little later.
                seq = next(self._seq)
                self._token[chat_id] = seq
                heapq.heappush(self._waiting, (now + self.edit_interval_s, seq, chat_id))
            else:
                idle.add(chat_id)
                self.schedule(chat_id, now)
        return jobs

    def finished(self, chat_id: int, now: float) -> None:
        self.busy.discard(chat_id)
        self.pacer.finished(chat_id, now)
        self.schedule(chat_id, now)

    def next_wake(self, now: float) -> float:
        wake = self._waiting[0][0] if self._waiting else INF
        if self._ready:
            wake = min(wake, self.pacer.global_ready_at(now))
        return wake

    def urgent(self, now: float) -> bool:
        """Something in flight, or a state waiting that no rule holds back (for a flush)."""
        return bool(self.busy) or any(
            item.dirty
            and item.held is None
            # A new message the chat's minute cap holds back is not due either.
            and (item.message_id is not None or self.pacer.new_message_ready_at(chat, now) <= now)
            for chat, box in self.outbox.chats.items()
            for item in box.items.values()
        )

    # -- what a chat could send --------------------------------------------------------

    def _survey(self, chat_id: int, now: float) -> _Survey | None:
        box = self.outbox.chats.get(chat_id)
        if box is None:
            return None
        if not (box.items or box.messages or box.restored):
            del self.outbox.chats[chat_id]
            return None
        prefs = self.prefs(chat_id)
        if not prefs.active:
            # A 403 marks the chat inactive through ``on_blocked``; /start makes it active again.
            for item in list(box.items.values()):
                if item.dirty and not item.in_flight:
                    self.outbox.drop(item, Outcome.DROPPED, "chat inactive")
            return None
        survey = _Survey(prefs, judge_chat(prefs, now))
        controls = self.controls.get(chat_id)
        for item in list(box.items.values()):
            if not item.dirty or item.in_flight:
                continue
            if item.message_id is not None:
                if item.message_id in box.messages:
                    continue  # an edit of its message
                item.lose_message()
            self._consider(item, survey, controls, now)
        for message in list(box.messages.values()):
            self._consider_message(box, message, survey, now)
        if survey.new or survey.views:
            # The chat had its new messages for this minute: what waits is combined into the
            # next one (edits of live messages go on meanwhile).
            cap_at = self.pacer.new_message_ready_at(chat_id, now)
            if cap_at > now:
                survey.new, survey.views = [], []
                survey.next_at = min(survey.next_at, cap_at)
        return survey

    def _consider(
        self, item: PendingAlert, survey: _Survey, controls: ChatControls | None, now: float
    ) -> None:
        if item.kind is AlertKind.VIEW:
            if item.phase is Phase.VIEW_STOPPED:
                self.outbox.remove(item)
            else:
                survey.views.append(item)  # the user asked for it: no rule holds it back
            return
        # A combined alert goes out when any of its monitors may send it.
        senders = [m for m in item.members if not is_muted(survey.prefs, m)]
        if not senders:
            self.outbox.drop(item, Outcome.MUTED)
            return
        hold, until = survey.verdict.outcome, survey.verdict.until
        if survey.verdict.action is Action.SEND and not item.shown and controls is not None:
            cooldown = min(controls.cooldown_until(survey.prefs, m) for m in senders)
            if cooldown > now:
                hold, until = Outcome.COOLDOWN, cooldown
            else:
                hold = None
        if hold is not None and until > now:
            if item.hold(hold):
                self.outbox.note(item, hold, f"until {until:.0f}")
            survey.next_at = min(survey.next_at, until)
            return
        survey.new.append(item)

    def _consider_message(
        self, box: ChatBox, message: LiveMessage, survey: _Survey, now: float
    ) -> None:
        bound = self._bound(box, message)
        if not bound:
            if message.message_id not in box.restored.values():
                del box.messages[message.message_id]
            return
        if any(item.in_flight for item in bound):
            return
        if any(item.dirty for item in bound):
            rank, at = Rank.EDIT_CHANGE, message.edited_at + self.edit_interval_s
        else:
            rank, at = Rank.EDIT_REFRESH, message.refresh_at
        if at <= now:
            survey.edits.append((rank, message.edited_at, message))
        else:
            survey.next_at = min(survey.next_at, at)

    @staticmethod
    def _bound(box: ChatBox, message: LiveMessage) -> list[PendingAlert]:
        return [
            item
            for part in message.parts
            if isinstance(part, AlertKey)
            and (item := box.items.get(part)) is not None
            and item.message_id == message.message_id
        ]

    # -- building the request ----------------------------------------------------------

    def _build(self, chat_id: int, now: float) -> Job | None:
        survey = self._survey(chat_id, now)
        if survey is None:
            return None
        if survey.new:
            controls = self.controls.setdefault(chat_id, ChatControls())
            return self.composer.new_message(
                chat_id,
                survey.new,
                survey.prefs,
                controls,
                silent=survey.verdict.silent,
                now=now,
            )
        if survey.views:
            return self.composer.view(chat_id, survey.views[0], now)
        if survey.edits:
            _, _, message = min(survey.edits, key=lambda e: (e[0], e[1]))
            return self.composer.edit(chat_id, self.outbox.chats[chat_id], message, now)
        return None
