"""Venue outages are reported once they last, once each, and their end only when reported."""

from __future__ import annotations

from goquant_bot.domain.instruments import Venue
from goquant_bot.marketdata.incidents import IncidentWatch, VenueIncident

BN, OK = Venue.BINANCE, Venue.OKX


def _watch() -> tuple[IncidentWatch, list[VenueIncident]]:
    seen: list[VenueIncident] = []
    return IncidentWatch(300.0, seen.append), seen


def test_an_outage_is_reported_once_after_the_delay_and_its_end_once() -> None:
    watch, seen = _watch()
    for t in (0.0, 100.0, 299.0):
        watch.observe(t, {BN: "no list", OK: None})
    assert seen == []
    for t in (300.0, 301.0, 900.0):
        watch.observe(t, {BN: "no list", OK: None})
    assert seen == [VenueIncident(BN, "down", 0.0, 300.0, "no list")]
    watch.observe(950.0, {BN: None, OK: None})
    watch.observe(951.0, {BN: None, OK: None})
    assert seen[1:] == [VenueIncident(BN, "recovered", 0.0, 950.0, "no list")]


def test_a_short_outage_is_not_reported_and_a_new_one_starts_afresh() -> None:
    watch, seen = _watch()
    watch.observe(0.0, {OK: "stream"})
    watch.observe(200.0, {OK: None})  # back before the delay: nothing to say
    watch.observe(250.0, {OK: "stream"})
    watch.observe(500.0, {OK: "stream"})
    assert seen == []
    assert watch.down_since(OK) == 250.0
    watch.observe(550.0, {OK: "stream"})
    assert [(i.kind, i.since) for i in seen] == [("down", 250.0)]
