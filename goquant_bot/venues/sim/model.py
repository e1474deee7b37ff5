"""The demo market model: pure and seeded, time is an argument.

A reference price per asset follows a correlated random walk; every venue keeps its own L2
book around it (own spread, sizes, noise). The model advances in fixed ticks and records,
per book, which levels each tick touched and the venue update ids it consumed, so the
encoders can emit exact venue deltas and REST snapshots that agree with them.
Rare events are drawn from the same seed: dislocations (one venue's prices shift for a few
seconds, a real arbitrage), stalls (a venue goes quiet), sequence gaps and disconnects.
Besides the rare ones, every pair listed on two venues or more gets a "showcase" dislocation
every ``showcase_every_s`` (jittered, the first within seconds of the start), large enough to
clear both taker fees and the default threshold: a demo shows an alert within a minute.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.venues.sim.book import AssetSpec, SimBook, VenueSpec

_SECONDS_PER_YEAR = 365 * 86_400
# A small, constant basis between stablecoins.
SHOWCASE_FEE_SLACK = 0.05  # fee points (%) within the cheapest that a showcase may move
QUOTE_USD: Mapping[str, float] = MappingProxyType({"USDT": 1.0, "USDC": 0.9998})


DEFAULT_ASSETS = (
    AssetSpec("BTC", 65_000.0, 0.55, 2, 5, 8.0, 0.15),
    AssetSpec("ETH", 3_200.0, 0.70, 2, 4, 3.0, 2.0),
    AssetSpec("SOL", 150.0, 0.90, 2, 3, 1.5, 40.0),
)
_MAJORS = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "BTC-USDC", "ETH-USDC")
# Fewer books for the venues quoting in USD: each simulated book costs every tick.
_USD_MAJORS = ("BTC-USD", "BTC-USDT", "ETH-USDT", "BTC-USDC")
DEFAULT_VENUES = (
    VenueSpec(Venue.BINANCE, _MAJORS, 0.02, 1.0, 0.0, 0.2),
    VenueSpec(Venue.OKX, _MAJORS, 0.05, 0.7, 0.3, 0.3),
    VenueSpec(Venue.BYBIT, _MAJORS, 0.04, 0.6, -0.2, 0.3),
    VenueSpec(Venue.DERIBIT, ("BTC-USDC", "ETH-USDC"), 0.5, 0.3, 0.5, 0.5),
    VenueSpec(Venue.COINBASE, ("BTC-USD", "ETH-USD", *_MAJORS), 0.03, 0.8, 0.1, 0.3),
    VenueSpec(Venue.KRAKEN, ("BTC-USD", "ETH-USD", *_MAJORS), 0.06, 0.5, -0.1, 0.4),
    VenueSpec(Venue.BITFINEX, _USD_MAJORS, 0.08, 0.5, 0.4, 0.4),
    VenueSpec(Venue.BITSTAMP, _USD_MAJORS, 0.1, 0.4, -0.3, 0.4),
    VenueSpec(Venue.GEMINI, _USD_MAJORS, 0.1, 0.4, 0.2, 0.4),
    VenueSpec(Venue.GATEIO, ("BTC-USDT", "ETH-USDT", "BTC-USDC"), 0.06, 0.6, 0.2, 0.3),
    VenueSpec(Venue.KUCOIN, ("BTC-USDT", "ETH-USDT", "BTC-USDC"), 0.05, 0.6, -0.1, 0.3),
    VenueSpec(Venue.BITGET, ("BTC-USDT", "ETH-USDT", "BTC-USDC"), 0.05, 0.6, 0.1, 0.3),
    VenueSpec(Venue.CRYPTOCOM, ("BTC-USDT", "ETH-USDT", "BTC-USDC"), 0.06, 0.5, -0.2, 0.4),
    VenueSpec(Venue.HTX, ("BTC-USDT", "ETH-USDT", "BTC-USDC"), 0.08, 0.5, 0.3, 0.4),
    VenueSpec(Venue.MEXC, ("BTC-USDT", "ETH-USDT", "BTC-USDC"), 0.05, 0.6, -0.3, 0.3),
)


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Knobs of the model. Rates per hour: dislocations over the whole market, stalls and
    disconnects per venue, gaps per book."""

    assets: tuple[AssetSpec, ...] = DEFAULT_ASSETS
    venues: tuple[VenueSpec, ...] = DEFAULT_VENUES
    levels: int = 300  # per side
    tick_s: float = 0.1
    correlation: float = 0.8
    vol_scale: float = 1.0
    quiet_prob: float = 0.05  # a book skips a tick (no change at all)
    dislocations_per_hour: float = 30.0
    dislocation_pct: tuple[float, float] = (0.3, 1.0)
    dislocation_s: tuple[float, float] = (2.0, 8.0)
    stalls_per_hour: float = 2.0
    stall_s: tuple[float, float] = (20.0, 40.0)
    gaps_per_hour: float = 6.0
    disconnects_per_hour: float = 1.0
    # Showcase dislocations per pair listed on 2+ venues: every ``showcase_every_s`` +-25 %
    # (0: none), the first after ``showcase_first_s``; a gross edge of ``showcase_pct`` % clears
    # 0.1 % + 0.1 % taker fees and the default 0.3 % threshold.
    showcase_every_s: float = 20.0
    showcase_first_s: tuple[float, float] = (3.0, 8.0)
    showcase_pct: tuple[float, float] = (0.6, 1.2)
    showcase_s: tuple[float, float] = (6.0, 10.0)
    # Taker fees per venue (%): the showcase moves the cheapest venue of a pair and adds what
    # the fees of the cheapest pair of venues take beyond 0.1 % + 0.1 %.
    showcase_fees_pct: tuple[tuple[Venue, float], ...] = ()
    history_ticks: int = 600  # per-book change history the encoders can merge over
    max_catchup_ticks: int = 600  # beyond this, a late advance skips time instead

    def only(self, venues: Collection[Venue]) -> SimConfig:
        """The same market on some venues only (the demo simulates the enabled ones)."""
        return replace(self, venues=tuple(v for v in self.venues if v.venue in venues))

    def calm(self) -> SimConfig:
        """The same market without any rare event (tests, benchmarks)."""
        return replace(
            self,
            dislocations_per_hour=0.0,
            stalls_per_hour=0.0,
            gaps_per_hour=0.0,
            disconnects_per_hour=0.0,
            showcase_every_s=0.0,
        )


@dataclass(frozen=True, slots=True)
class SimEvent:
    """A rare event, for logs and tests: kind is dislocation, stall, gap or disconnect."""

    kind: str
    venue: Venue
    symbol: Symbol | None
    start_tick: int
    end_tick: int
    pct: float = 0.0


@dataclass(slots=True)
class _VenueEvents:
    stalls: list[tuple[int, int]] = field(default_factory=list)  # [start, end) ticks
    disconnects: list[int] = field(default_factory=list)


class MarketModel:
    """Every simulated book of every venue, advanced tick by tick from one seed."""

    def __init__(self, config: SimConfig, seed: int, start: float) -> None:
        self.config = config
        self.seed = seed
        self.start = start
        self.tick = 0
        self._walk = random.Random(f"{seed}:walk")
        self._events_rng = random.Random(f"{seed}:events")
        self._assets = {a.base: a for a in config.assets}
        self._log_price = {a.base: math.log(a.price) for a in config.assets}
        self.books: dict[tuple[Venue, Symbol], SimBook] = {}
        self._venue_events = {v.venue: _VenueEvents() for v in config.venues}
        self._dislocation_ends: dict[tuple[Venue, Symbol], int] = {}
        self.events: deque[SimEvent] = deque(maxlen=1000)
        self._showcase_rng = random.Random(f"{seed}:showcase")
        self._showcase_next: dict[Symbol, int] = {}  # tick of each pair's next showcase
        for spec in config.venues:
            for name in spec.listings:
                symbol = Symbol.parse(name)
                book = SimBook(
                    spec,
                    symbol,
                    self._assets[symbol.base],
                    seed=seed,
                    levels=config.levels,
                    quiet_prob=config.quiet_prob,
                    history_ticks=config.history_ticks,
                )
                self.books[(spec.venue, symbol)] = book
        for book in self.books.values():
            book.step(0, self._ts_ms(), self.reference(book.symbol))
        if config.showcase_every_s > 0:
            listed: dict[Symbol, int] = {}
            for _, symbol in self.books:
                listed[symbol] = listed.get(symbol, 0) + 1
            for symbol in sorted((s for s, n in listed.items() if n >= 2), key=str):
                first = self._showcase_rng.uniform(*config.showcase_first_s)
                self._showcase_next[symbol] = self.ticks(first)

    @property
    def time(self) -> float:
        """Model time (epoch seconds) of the current tick."""
        return self.start + self.tick * self.config.tick_s

    def _ts_ms(self) -> int:
        return round(self.time * 1000)

    def listings(self, venue: Venue) -> list[Symbol]:
        return [symbol for (v, symbol) in self.books if v is venue]

    def book(self, venue: Venue, symbol: Symbol) -> SimBook | None:
        return self.books.get((venue, symbol))

    def asset(self, base: str) -> AssetSpec:
        return self._assets[base]

    def reference(self, symbol: Symbol) -> float:
        """The pair's fair price: base in USD over quote in USD."""
        return math.exp(self._log_price[symbol.base]) / QUOTE_USD.get(symbol.quote, 1.0)

    def stalled(self, venue: Venue, opened_tick: int) -> bool:
        """Whether a connection opened at ``opened_tick`` is frozen now.

        A stall hits the connections open when it starts: a reconnect gets a working one, as
        with a half-open TCP connection that only a watchdog notices.
        """
        tick = self.tick
        return any(
            opened_tick < start <= tick < end for start, end in self._venue_events[venue].stalls
        )

    def disconnected(self, venue: Venue, after: int, upto: int) -> bool:
        """Whether a connection open since tick ``after`` was cut by ``upto``."""
        return any(after < t <= upto for t in self._venue_events[venue].disconnects)

    def ticks(self, seconds: float) -> int:
        return max(1, round(seconds / self.config.tick_s))

    # -- advancing --------------------------------------------------------------------------

    def advance_to(self, now: float) -> int:
        """Step every book up to the tick containing ``now``; return the current tick."""
        target = math.floor((now - self.start) / self.config.tick_s + 1e-9)
        behind = target - self.tick
        if behind > self.config.max_catchup_ticks:
            # A suspended process must not replay hours of ticks: skip the missed time.
            skipped = behind - self.config.max_catchup_ticks
            self.start += skipped * self.config.tick_s
            target -= skipped
        while self.tick < target:
            self.step()
        return self.tick

    def step(self) -> None:
        """One tick: events, the reference walk, then every book."""
        forced = self._draw_events()
        self.tick += 1
        dt = self.config.tick_s
        rho = self.config.correlation
        common = self._walk.gauss(0.0, 1.0)
        for asset in self.config.assets:
            sigma = asset.annual_vol * self.config.vol_scale * math.sqrt(dt / _SECONDS_PER_YEAR)
            shock = rho * common + math.sqrt(1.0 - rho * rho) * self._walk.gauss(0.0, 1.0)
            self._log_price[asset.base] += sigma * shock
        ts_ms = self._ts_ms()
        for key, book in self.books.items():
            end = self._dislocation_ends.get(key)
            if end is not None and end <= self.tick:
                del self._dislocation_ends[key]
                book.dislocation = 0.0
            book.step(self.tick, ts_ms, self.reference(book.symbol), key in forced)

    def _draw_events(self) -> set[tuple[Venue, Symbol]]:
        """Events starting with the next tick (always the same draws: reproducible runs)."""
        cfg, rng, tick = self.config, self._events_rng, self.tick + 1
        per_tick = cfg.tick_s / 3600.0
        for venue in self._venue_events:
            if rng.random() < cfg.stalls_per_hour * per_tick:
                self.force_stall(venue, rng.uniform(*cfg.stall_s))
            if rng.random() < cfg.disconnects_per_hour * per_tick:
                self.force_disconnect(venue)
        for venue, symbol in self.books:
            if rng.random() < cfg.gaps_per_hour * per_tick:
                self.force_gap(venue, symbol)
            if rng.random() < cfg.dislocations_per_hour * per_tick / len(self.books):
                pct = rng.uniform(*cfg.dislocation_pct) * rng.choice((-1.0, 1.0))
                self.force_dislocation(venue, symbol, pct, rng.uniform(*cfg.dislocation_s))
        self._showcase(tick)
        self._prune()
        # A book must change in a tick whose message is lost, or nothing would be missed.
        return {key for key, book in self.books.items() if tick in book.gap_ticks}

    def _showcase(self, tick: int) -> None:
        """Start the showcase dislocations due at ``tick`` and schedule each pair's next."""
        cfg, rng = self.config, self._showcase_rng
        for symbol, due in self._showcase_next.items():
            if due != tick:
                continue
            venues = sorted((v for v, s in self.books if s == symbol), key=lambda v: v.value)
            fees = dict(cfg.showcase_fees_pct)
            cheapest = min(fees.get(v, 0.0) for v in venues)
            # Among the cheapest (within 0.05 point): a venue a little cheaper than all the
            # others (MEXC's 0.05 %) would otherwise take every showcase of its pairs.
            near = [v for v in venues if fees.get(v, 0.0) <= cheapest + SHOWCASE_FEE_SLACK]
            venue = rng.choice(near)
            other = min(fees.get(v, 0.0) for v in venues if v is not venue)
            extra = max(0.0, fees.get(venue, 0.0) + other - 0.2)
            pct = (rng.uniform(*cfg.showcase_pct) + extra) * rng.choice((-1.0, 1.0))
            self.force_dislocation(venue, symbol, pct, rng.uniform(*cfg.showcase_s))
            every = cfg.showcase_every_s * rng.uniform(0.75, 1.25)
            self._showcase_next[symbol] = tick + self.ticks(every)

    def _prune(self) -> None:
        horizon = self.tick - self.config.history_ticks
        for events in self._venue_events.values():
            events.stalls = [s for s in events.stalls if s[1] > horizon]
            events.disconnects = [t for t in events.disconnects if t > horizon]

    # -- events (also usable directly: demos and tests) --------------------------------------

    def force_dislocation(self, venue: Venue, symbol: Symbol, pct: float, seconds: float) -> None:
        """From the next tick, shift one venue's prices of one pair by ``pct`` % for ``seconds``."""
        book = self.books[(venue, symbol)]
        start = self.tick + 1
        end = start + self.ticks(seconds)
        book.dislocation = pct / 100.0
        self._dislocation_ends[(venue, symbol)] = end
        self.events.append(SimEvent("dislocation", venue, symbol, start, end, pct))

    def force_stall(self, venue: Venue, seconds: float) -> None:
        """From the next tick the venue sends nothing for ``seconds`` (connections stay open)."""
        start = self.tick + 1
        end = start + self.ticks(seconds)
        self._venue_events[venue].stalls.append((start, end))
        self.events.append(SimEvent("stall", venue, None, start, end))

    def force_disconnect(self, venue: Venue) -> None:
        """Every open connection of the venue drops at the next tick."""
        at = self.tick + 1
        self._venue_events[venue].disconnects.append(at)
        self.events.append(SimEvent("disconnect", venue, None, at, at))

    def force_gap(self, venue: Venue, symbol: Symbol) -> None:
        """The book's message of the next tick is lost on every connection (a sequence gap)."""
        at = self.tick + 1
        self.books[(venue, symbol)].gap_ticks.append(at)
        self.events.append(SimEvent("gap", venue, symbol, at, at))

    def active_dislocations(self) -> list[SimEvent]:
        return [
            e
            for e in self.events
            if e.kind == "dislocation" and e.start_tick <= self.tick < e.end_tick
        ]
