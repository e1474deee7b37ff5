"""Venue outages as incidents: reported once when they last, and once when they end."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from goquant_bot.domain.instruments import Venue
from goquant_bot.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class VenueIncident:
    venue: Venue
    kind: Literal["down", "recovered"]
    since: float  # when the venue was first seen down
    at: float  # when this was noticed
    reason: str  # why it is (was) down, in plain words


@dataclass(slots=True)
class _Outage:
    since: float
    reason: str
    reported: bool = False


class IncidentWatch:
    """Fed the venues' state on every check; reports an outage that lasted ``notice_after_s``
    ("down") and, only for a reported one, its end ("recovered")."""

    def __init__(
        self,
        notice_after_s: float,
        on_incident: Callable[[VenueIncident], None] = lambda incident: None,
    ) -> None:
        self.notice_after_s = notice_after_s
        self.on_incident = on_incident
        self._outages: dict[Venue, _Outage] = {}

    def observe(self, now: float, down: Mapping[Venue, str | None]) -> None:
        """``down[venue]`` is why it is down, or None when it works."""
        for venue, reason in down.items():
            outage = self._outages.get(venue)
            if reason is None:
                if outage is not None:
                    del self._outages[venue]
                    if outage.reported:
                        self._report(
                            VenueIncident(venue, "recovered", outage.since, now, outage.reason)
                        )
                continue
            if outage is None:
                outage = self._outages[venue] = _Outage(now, reason)
            if not outage.reported and now - outage.since >= self.notice_after_s:
                outage.reported = True
                self._report(VenueIncident(venue, "down", outage.since, now, reason))

    def down_since(self, venue: Venue) -> float | None:
        outage = self._outages.get(venue)
        return None if outage is None else outage.since

    def _report(self, incident: VenueIncident) -> None:
        log.warning(
            f"venue_{incident.kind}",
            venue=incident.venue.value,
            down_for_s=round(incident.at - incident.since),
            reason=incident.reason,
        )
        self.on_incident(incident)
