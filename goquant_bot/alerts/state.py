"""One alert's state machine: what it shows (its phase) and where its delivery stands.

Every change of a ``PendingAlert`` goes through a method below; the outbox, the composer, the
planner and the delivery only read its attributes and call these transitions.

- Events fold in (``fold``): the latest state replaces the previous one and bumps ``version``;
  an arbitrage opening and its close move the phase OPEN -> CLOSED (or CLOSED_UNSEEN when its
  opening never went out), a reopening back to OPEN; a view goes VIEW -> VIEW_STOPPED.
- A request takes the alert (``start``) and answers: ``delivered`` settles the version it
  rendered; ``released`` puts it back as it was (retried); ``refused`` gives that version up;
  ``resend`` unbinds it from a message that is gone, so it goes out in a new one.
- ``dirty``: the latest version is not delivered yet; ``shown``: this episode was (maybe)
  delivered, so later states are follow-ups; ``message_id``: the live message showing it.
- An arbitrage alert may stand for several monitors of its chat that match the same
  opportunity (``members``, each open or not): it is open while any of them is, and only the
  close of the last one closes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from goquant_bot.alerts.history import Outcome
from goquant_bot.domain.events import ArbClosed, ArbOpened, MarketViewSignal


@dataclass(frozen=True, slots=True)
class ViewUpdate:
    """A live market view to show or refresh (``stopped``: last edit, then forget it)."""

    monitor_id: str
    owner: int
    ts: float
    stopped: bool = False


Payload = ArbOpened | ArbClosed | MarketViewSignal | ViewUpdate
VIEW_SUBJECT = "view"


class AlertKind(IntEnum):
    """Also the order inside a message: arbitrage first, then market-view signals."""

    ARBITRAGE = 0
    SIGNAL = 1
    VIEW = 2  # always a message of its own


class Phase(StrEnum):
    OPEN = "open"  # an open opportunity, shown live and edited
    CLOSED = "closed"  # closed after its opening was shown
    CLOSED_UNSEEN = "closed_unseen"  # opened and closed before it could be sent
    SIGNAL = "signal"
    VIEW = "view"
    VIEW_STOPPED = "view_stopped"


LIVE_PHASES = frozenset({Phase.OPEN, Phase.VIEW})


@dataclass(frozen=True, slots=True)
class AlertKey:
    chat_id: int
    monitor_id: str
    subject: str


@dataclass(frozen=True, slots=True)
class AlertSnapshot:
    """What a renderer sees of an alert: its key, phase and latest event, frozen."""

    key: AlertKey
    kind: AlertKind
    phase: Phase
    event: Payload
    monitors: tuple[str, ...] = ()  # every monitor the alert names (several when combined)
    open_monitors: tuple[str, ...] = ()  # those that still have the opportunity open

    @property
    def edge_pct(self) -> float:
        return edge_of(self.event)

    @property
    def names(self) -> tuple[str, ...]:
        """The monitors the alert speaks for (its key's alone when not combined)."""
        return self.monitors or (self.key.monitor_id,)


def edge_of(event: Payload) -> float:
    """The edge an arbitrage alert ranks by (its peak once closed); 0 for the rest."""
    if isinstance(event, ArbOpened):
        return event.edge_pct
    if isinstance(event, ArbClosed):
        return event.peak_edge_pct
    return 0.0


def subject_of(event: Payload) -> tuple[str, AlertKind]:
    if isinstance(event, ArbOpened | ArbClosed):
        subject = f"{event.symbol} {event.buy_venue.value}->{event.sell_venue.value}{event.legs}"
        return subject, AlertKind.ARBITRAGE
    if isinstance(event, MarketViewSignal):
        return f"{event.symbol} {event.kind}", AlertKind.SIGNAL
    return VIEW_SUBJECT, AlertKind.VIEW


def first_phase(event: Payload) -> Phase:
    """The phase of a key's first event."""
    if isinstance(event, ArbOpened):
        return Phase.OPEN
    if isinstance(event, ArbClosed):
        return Phase.CLOSED
    if isinstance(event, MarketViewSignal):
        return Phase.SIGNAL
    return Phase.VIEW_STOPPED if event.stopped else Phase.VIEW


class PendingAlert:
    """One key's latest state: what the renderer turns into text when it is sent."""

    __slots__ = (
        "_dirty",
        "_event",
        "_held",
        "_in_flight",
        "_key",
        "_kind",
        "_members",
        "_merged",
        "_message_id",
        "_phase",
        "_plain",
        "_shown",
        "_version",
    )

    def __init__(self, key: AlertKey, event: Payload) -> None:
        self._key = key
        self._kind = subject_of(event)[1]
        self._phase = first_phase(event)
        self._event = event
        self._version = 0  # bumped by every fold; a send only settles the version it rendered
        self._dirty = True
        self._shown = False
        self._message_id: int | None = None
        self._in_flight = False
        self._plain = False  # Telegram refused its HTML once: rendered as plain text
        self._held: Outcome | None = None  # the hold last recorded in the history
        self._merged = 0  # events folded into the state since it was last delivered
        # monitor -> whether it has the opportunity open (arbitrage; the key's monitor else)
        self._members = {event.monitor_id: isinstance(event, ArbOpened)}

    # -- reading -----------------------------------------------------------------------

    @property
    def key(self) -> AlertKey:
        return self._key

    @property
    def kind(self) -> AlertKind:
        return self._kind

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def event(self) -> Payload:
        return self._event

    @property
    def version(self) -> int:
        return self._version

    @property
    def dirty(self) -> bool:
        return self._dirty

    @property
    def shown(self) -> bool:
        return self._shown

    @property
    def message_id(self) -> int | None:
        return self._message_id

    @property
    def in_flight(self) -> bool:
        return self._in_flight

    @property
    def plain(self) -> bool:
        return self._plain

    @property
    def held(self) -> Outcome | None:
        return self._held

    @property
    def merged(self) -> int:
        return self._merged

    @property
    def members(self) -> tuple[str, ...]:
        return tuple(self._members)

    @property
    def open_members(self) -> tuple[str, ...]:
        return tuple(m for m, is_open in self._members.items() if is_open)

    @property
    def live(self) -> bool:
        return self._phase in LIVE_PHASES

    @property
    def unbound(self) -> bool:
        """No live message shows it and no request carries it."""
        return self._message_id is None and not self._in_flight

    @property
    def edge_pct(self) -> float:
        return edge_of(self._event)

    def snapshot(self) -> AlertSnapshot:
        # Named in a stable order, whichever monitor came first (or after a restart).
        return AlertSnapshot(
            self._key,
            self._kind,
            self._phase,
            self._event,
            tuple(sorted(self._members)),
            tuple(sorted(self.open_members)),
        )

    # -- events fold in ----------------------------------------------------------------

    def fold(self, event: Payload, *, drop_unseen: bool = False) -> bool:
        """A newer state of this key; True when it merged a state not delivered yet.

        ``drop_unseen``: a close of an opening never sent is not news (the policy drops it).
        A monitor joining or leaving a combined alert changes only what it names."""
        joined = False
        if isinstance(event, ArbOpened | ArbClosed):
            joined = event.monitor_id not in self._members
            self._members[event.monitor_id] = isinstance(event, ArbOpened)
        if isinstance(event, ArbClosed):
            if any(self._members.values()):
                return False  # another monitor still has it open: the alert stays open
            return self._close(event, drop_unseen=drop_unseen)
        merged = self._supersede(event, count=not joined)
        if isinstance(event, ArbOpened):
            if self.unbound:
                self._shown = False  # nothing to edit: a new episode is a new alert
            self._phase = Phase.OPEN
        elif isinstance(event, MarketViewSignal):
            self._shown = False  # a new signal is a new alert
        else:
            self._phase = Phase.VIEW_STOPPED if event.stopped else Phase.VIEW
        return merged

    def _close(self, event: ArbClosed, *, drop_unseen: bool) -> bool:
        unsent = self._phase is Phase.OPEN and self._dirty and not (self._in_flight or self._shown)
        merged = False
        if unsent and drop_unseen:
            self._event, self._version = event, self._version + 1  # the settle records the drop
        else:
            merged = self._supersede(event)
        seen = self._shown or not self.unbound
        self._phase = Phase.CLOSED if seen else Phase.CLOSED_UNSEEN
        return merged

    def _supersede(self, event: Payload, *, count: bool = True) -> bool:
        merged = count and self._dirty and not self._in_flight and self._kind is not AlertKind.VIEW
        if merged:
            self._merged += 1
        self._event = event
        self._version += 1
        self._dirty = True
        return merged

    def follow_up(self, message_id: int | None = None) -> None:
        """Its episode was shown before a restart (in ``message_id``, still editable)."""
        self._shown = True
        if message_id is not None:
            self._message_id = message_id

    def adopt(self, named: dict[str, bool]) -> None:
        """The monitors its message named before a restart (and which still had it open)."""
        for monitor_id, is_open in named.items():
            self._members.setdefault(monitor_id, is_open)

    def leave(self, monitor_id: str) -> bool:
        """The monitor is gone (removed or paused); True when another one keeps it open."""
        self._members.pop(monitor_id, None)
        return any(self._members.values())

    def settle(self) -> bool:
        """Out of flight, a close whose opening never went out is 'closed unseen'; True then."""
        if self._in_flight:
            return False
        if self._phase is Phase.CLOSED and not self._shown and self._message_id is None:
            self._phase = Phase.CLOSED_UNSEEN
        return self._phase is Phase.CLOSED_UNSEEN

    # -- a chat's rules ----------------------------------------------------------------

    def hold(self, outcome: Outcome) -> bool:
        """A rule holds it back; True when that is news for the history."""
        if self._held is outcome:
            return False
        self._held = outcome
        return True

    def lose_message(self) -> None:
        """Its live message is no longer edited (gone, or an edit was refused)."""
        self._message_id = None

    # -- a request ---------------------------------------------------------------------

    def start(self) -> None:
        self._in_flight = True

    def go_plain(self) -> None:
        """Telegram refused the markup: from now on it is rendered as plain text."""
        self._plain = True

    def delivered(self, version: int, phase: Phase, message_id: int | None) -> bool:
        """The request showing ``version`` in ``phase`` went out (or maybe did); True when
        the alert is finished (nothing newer to show, nothing to edit later)."""
        self._in_flight = False
        if phase in LIVE_PHASES and message_id is not None:
            self._message_id = message_id
        if self._version == version:
            self._dirty, self._merged, self._held, self._shown = False, 0, None, True
            return phase not in LIVE_PHASES
        # A live state stays on its message; a delivered state that ended makes the newer
        # one news of its own.
        self._shown = phase in LIVE_PHASES
        return False

    def unchanged(self, version: int) -> bool:
        """An edit found the message already showing ``version``; True when finished."""
        if self._version != version:
            return False
        self._dirty = False
        return not self.live

    def released(self) -> None:
        """The request did not go out: the alert waits as it was (retried)."""
        self._in_flight = False

    def resend(self) -> None:
        """Its message is gone (or full): shown again in a new one."""
        self._in_flight = False
        self._message_id, self._dirty = None, True

    def refused(self, version: int, phase: Phase) -> bool:
        """An edit was refused: the message keeps what it showed, ``version`` is given up;
        True when the alert is finished."""
        self._in_flight = False
        self._message_id = None  # still shown (as before the edit): the close is a follow-up
        if self._version == version:
            self._dirty = False
            return phase not in LIVE_PHASES
        return False

    def rekey(self, chat_id: int) -> AlertKey:
        """The chat moved (a group became a supergroup): the same alert under its new id."""
        self._key = AlertKey(chat_id, self._key.monitor_id, self._key.subject)
        return self._key
