"""Market-view signal state of one monitor: successive CBBOs in, MarketViewSignal events out.

Threshold signals are edge-triggered with hysteresis (fire on crossing X, re-arm below
X * (1 - HYSTERESIS)) and every alert kind is rate-limited by the monitor's alert cooldown, so
a value hovering around a threshold never produces a stream of alerts. The best-venue changes
only move the live view: they are limited by the view's own refresh interval. A crossed
consolidated book is an alert only when the monitor asks for it (a minimum size in bps and a
minimum duration); the live view shows it anyway.
"""

from __future__ import annotations

from typing import Any

from goquant_bot.domain.cbbo import Cbbo, VenueQuote
from goquant_bot.domain.events import MarketViewSignal
from goquant_bot.domain.instruments import Venue
from goquant_bot.domain.monitors import MarketViewMonitor

HYSTERESIS = 0.2
# Kinds that only refresh the live view (limited by its refresh interval, not the alert cooldown).
VIEW_ONLY_KINDS = frozenset({"best_bid_venue", "best_ask_venue"})


def _bps(value: float) -> float:
    return round(value, 2)


def _names(venues: tuple[Venue, ...]) -> tuple[str, ...]:
    return tuple(v.value for v in venues)


class MarketViewState:
    """What one market-view monitor has seen and signalled so far."""

    __slots__ = (
        "_armed",
        "_ask_ref",
        "_bid_ref",
        "_crossed_signalled",
        "_crossed_since",
        "_fired_at",
        "_mid_ref",
        "monitor",
    )

    def __init__(self, monitor: MarketViewMonitor) -> None:
        self.monitor = monitor
        self._bid_ref: tuple[Venue, ...] | None = None  # holders last reported (or first seen)
        self._ask_ref: tuple[Venue, ...] | None = None
        self._mid_ref: float | None = None
        self._crossed_signalled = False
        self._crossed_since: float | None = None  # start of the current crossing episode
        # Armed flags of the hysteresis signals: "spread_wide", or a venue for venue_deviation.
        self._armed: dict[str | Venue, bool] = {}
        self._fired_at: dict[tuple[str, Venue | None], float] = {}

    def prime(self, cbbo: Cbbo) -> None:
        """Take the market as it is when the view starts as the reference of its changes, so
        the first move after the start is reported even if the books were quiet before it."""
        if cbbo.symbol != self.monitor.symbol or not cbbo.has_quotes:
            return
        self._bid_ref = self._bid_ref or cbbo.bid_venues or None
        self._ask_ref = self._ask_ref or cbbo.ask_venues or None
        if self._mid_ref is None:
            self._mid_ref = cbbo.mid

    def evaluate(self, cbbo: Cbbo) -> list[MarketViewSignal]:
        """The signals this CBBO triggers (time is the CBBO's)."""
        monitor = self.monitor
        if cbbo.symbol != monitor.symbol:
            msg = f"monitor {monitor.id!r} watches {monitor.symbol}, not {cbbo.symbol}"
            raise ValueError(msg)
        if not cbbo.has_quotes:
            return []
        out: list[MarketViewSignal] = []
        if monitor.crossed_min_bps is not None:
            self._check_crossed(cbbo, monitor.crossed_min_bps, out)
        if monitor.best_venue_change:
            self._check_best_venues(cbbo, out)
        if monitor.mid_move_pct is not None and cbbo.mid is not None:
            self._check_mid(cbbo, monitor.mid_move_pct, out)
        if monitor.spread_above_bps is not None and cbbo.spread_bps is not None:
            self._check_spread(cbbo, cbbo.spread_bps, monitor.spread_above_bps, out)
        if monitor.venue_deviation_bps is not None and cbbo.mid is not None:
            for quote in cbbo.venues:
                if quote.counted:
                    self._check_deviation(cbbo, cbbo.mid, quote, monitor.venue_deviation_bps, out)
        return out

    # -- one check per kind ---------------------------------------------------------------

    def _check_crossed(self, cbbo: Cbbo, min_bps: float, out: list[MarketViewSignal]) -> None:
        bid, ask, mid = cbbo.bid, cbbo.ask, cbbo.mid
        if bid is None or ask is None or mid is None:
            return
        gross_bps = (bid - ask) / mid * 1e4
        # Crossed by at least min_bps (min_bps 0 also counts a locked book, bid == ask).
        if not (cbbo.crossed or (cbbo.locked and min_bps == 0)) or gross_bps < min_bps:
            self._crossed_signalled = False  # the episode is over
            self._crossed_since = None
            return
        if self._crossed_since is None:
            self._crossed_since = cbbo.ts
        if self._crossed_signalled or cbbo.ts - self._crossed_since < self.monitor.crossed_min_s:
            return
        if not self._may_fire("crossed", None, cbbo.ts):
            return
        self._crossed_signalled = True
        out.append(
            self._signal(
                cbbo,
                "crossed",
                None,
                buy_venues=_names(cbbo.ask_venues),
                sell_venues=_names(cbbo.bid_venues),
                ask=ask,
                bid=bid,
                gross_bps=_bps(gross_bps),
                lasted_s=round(cbbo.ts - self._crossed_since, 3),
            )
        )

    def _check_best_venues(self, cbbo: Cbbo, out: list[MarketViewSignal]) -> None:
        if cbbo.bid_venues:
            if self._bid_ref is None:
                self._bid_ref = cbbo.bid_venues
            elif cbbo.bid_venues != self._bid_ref and self._may_fire(
                "best_bid_venue", None, cbbo.ts
            ):
                out.append(
                    self._signal(
                        cbbo,
                        "best_bid_venue",
                        None,
                        venues=_names(cbbo.bid_venues),
                        previous=_names(self._bid_ref),
                        price=cbbo.bid,
                    )
                )
                self._bid_ref = cbbo.bid_venues
        if cbbo.ask_venues:
            if self._ask_ref is None:
                self._ask_ref = cbbo.ask_venues
            elif cbbo.ask_venues != self._ask_ref and self._may_fire(
                "best_ask_venue", None, cbbo.ts
            ):
                out.append(
                    self._signal(
                        cbbo,
                        "best_ask_venue",
                        None,
                        venues=_names(cbbo.ask_venues),
                        previous=_names(self._ask_ref),
                        price=cbbo.ask,
                    )
                )
                self._ask_ref = cbbo.ask_venues

    def _check_mid(self, cbbo: Cbbo, limit_pct: float, out: list[MarketViewSignal]) -> None:
        mid = cbbo.mid
        assert mid is not None
        ref = self._mid_ref
        if ref is None:
            self._mid_ref = mid
            return
        move_pct = (mid - ref) / ref * 100.0
        if abs(move_pct) > limit_pct and self._may_fire("mid_move", None, cbbo.ts):
            out.append(
                self._signal(
                    cbbo,
                    "mid_move",
                    None,
                    mid=mid,
                    previous_mid=ref,
                    move_pct=round(move_pct, 4),
                )
            )
            self._mid_ref = mid

    def _check_spread(
        self, cbbo: Cbbo, spread_bps: float, limit_bps: float, out: list[MarketViewSignal]
    ) -> None:
        if self._armed.get("spread_wide", True):
            if spread_bps > limit_bps and self._may_fire("spread_wide", None, cbbo.ts):
                self._armed["spread_wide"] = False
                out.append(
                    self._signal(
                        cbbo,
                        "spread_wide",
                        None,
                        spread_bps=_bps(spread_bps),
                        bid=cbbo.bid,
                        ask=cbbo.ask,
                        bid_venues=_names(cbbo.bid_venues),
                        ask_venues=_names(cbbo.ask_venues),
                    )
                )
        elif spread_bps < limit_bps * (1 - HYSTERESIS):
            self._armed["spread_wide"] = True

    def _check_deviation(
        self,
        cbbo: Cbbo,
        mid: float,
        quote: VenueQuote,
        limit_bps: float,
        out: list[MarketViewSignal],
    ) -> None:
        # The worse of the venue's two sides, in bps of the CBBO mid (0 when it holds the best).
        worst: tuple[float, str, float, float] | None = None
        if quote.bid is not None and cbbo.bid is not None:
            worst = ((cbbo.bid - quote.bid) / mid * 1e4, "bid", quote.bid, cbbo.bid)
        if quote.ask is not None and cbbo.ask is not None:
            ask_bps = (quote.ask - cbbo.ask) / mid * 1e4
            if worst is None or ask_bps > worst[0]:
                worst = (ask_bps, "ask", quote.ask, cbbo.ask)
        if worst is None:
            return
        deviation, side, price, best = worst
        venue = quote.venue
        if self._armed.get(venue, True):
            if deviation > limit_bps and self._may_fire("venue_deviation", venue, cbbo.ts):
                self._armed[venue] = False
                out.append(
                    self._signal(
                        cbbo,
                        "venue_deviation",
                        venue,
                        venue=venue.value,
                        side=side,
                        price=price,
                        cbbo_price=best,
                        deviation_bps=_bps(deviation),
                    )
                )
        elif deviation < limit_bps * (1 - HYSTERESIS):
            self._armed[venue] = True

    # -- helpers --------------------------------------------------------------------------

    def _may_fire(self, kind: str, venue: Venue | None, now: float) -> bool:
        last = self._fired_at.get((kind, venue))
        monitor = self.monitor
        cooldown = monitor.cooldown_s if kind in VIEW_ONLY_KINDS else monitor.alert_cooldown_s
        return last is None or now - last >= cooldown

    def _signal(
        self, cbbo: Cbbo, kind: str, venue: Venue | None, /, **details: Any
    ) -> MarketViewSignal:
        """The event, and the start of its cooldown (per kind, and per venue when given)."""
        self._fired_at[(kind, venue)] = cbbo.ts
        return MarketViewSignal(
            monitor_id=self.monitor.id,
            owner=self.monitor.owner,
            symbol=cbbo.symbol,
            ts=cbbo.ts,
            kind=kind,
            details=tuple(details.items()),
            trust=tuple((q.venue, q.integrity) for q in cbbo.venues if q.counted),
        )
