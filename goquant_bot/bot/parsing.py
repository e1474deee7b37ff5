"""Arguments of the one-line forms: split, parse, validate; every error carries an example."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from goquant_bot.bot.numbers import (
    NOT_A_NUMBER,
    NOT_FINITE,
    THRESHOLD_STEP,
    NotANumber,
    fmt_step,
    to_number,
)
from goquant_bot.domain.book import DEFAULT_MIN_INTEGRITY, Integrity
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import RejectedInput

ARB_EXAMPLE = "/monitor_arb BTC-USDT binance okx 0.3"
VIEW_EXAMPLE = "/view_market BTC-USDT binance okx"
CBBO_EXAMPLE = "/get_cbbo BTC-USDT"
_DURATION = re.compile(r"^(.+?)\s*(s|sec|m|min|h|d)?\Z", re.I | re.A)
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)\Z", re.ASCII)
_ZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+){0,2}\Z")
_FILTER = re.compile(r"^[A-Za-z0-9-]{1,20}\Z", re.ASCII)
_VENUE_ALIASES = {"okex": "okx", "binance.com": "binance"}
VENUE_NAMES = {v.value for v in Venue} | set(_VENUE_ALIASES) | {"all"}
_SIZE_SUFFIX = {"k": 1e3, "m": 1e6}
_DURATION_UNIT = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


class SymbolLookup(Protocol):
    def resolve(self, text: str) -> Symbol: ...
    def venues_listing(self, symbol: Symbol) -> list[Venue]: ...


class InputError(RejectedInput):
    """What is wrong with an input (plain text, escaped when rendered) and a correct example."""

    def __init__(self, problem: str, example: str = "", suggestions: Sequence[str] = ()) -> None:
        super().__init__(problem)
        self.problem = problem
        self.example = example
        self.suggestions = list(suggestions)


@dataclass(frozen=True, slots=True)
class ArbRequest:
    symbol: Symbol
    venues: tuple[Venue, ...]
    threshold_pct: float | None  # None: the profit floor alone
    notional: float
    min_duration_s: float = 0.0
    once: bool = False
    allow_polled: bool = False
    min_profit: float | None = None  # net, in the quote currency, at ``notional``
    size_given: bool = False  # False: the chat's default size, which it then follows
    more_symbols: tuple[Symbol, ...] = ()  # BTC-USDT,ETH-USDT: one monitor, several symbols
    quotes: tuple[str, ...] = ()  # quotes=USD~USDT: compared across with a live conversion
    min_integrity: Integrity = DEFAULT_MIN_INTEGRITY  # integrity=verified: the weakest tier

    @property
    def symbols(self) -> tuple[Symbol, ...]:
        return (self.symbol, *self.more_symbols)


@dataclass(frozen=True, slots=True)
class ViewRequest:
    symbol: Symbol
    venues: tuple[Venue, ...]  # empty: every enabled venue listing the symbol
    throttle_s: float
    mid_move_pct: float | None = None
    spread_above_bps: float | None = None
    venue_deviation_bps: float | None = None
    crossed_min_bps: float | None = None  # alert on a crossed book of at least this (opt-in)
    crossed_min_s: float = 0.0
    min_integrity: Integrity = DEFAULT_MIN_INTEGRITY  # integrity=verified: the weakest tier


# integrity= values: the weakest tier of book a monitor uses ("any" reads as unverified).
INTEGRITY_CHOICES = {
    "verified": Integrity.VERIFIED,
    "snapshot": Integrity.SNAPSHOT,
    "unverified": Integrity.UNVERIFIED,
    "any": Integrity.UNVERIFIED,
}


def parse_integrity(token: str, example: str) -> Integrity:
    """``integrity=verified|snapshot|unverified``: the weakest tier of book a monitor uses."""
    found = INTEGRITY_CHOICES.get(token.strip().lower())
    if found is None:
        msg = (
            f"integrity= {clip(token)!r} is not a tier: give verified (books checked by "
            "sequence numbers or checksums only), snapshot (the default: verified and "
            "snapshot books) or unverified (every book, also those only our guards check)."
        )
        raise InputError(msg, example)
    return found


def check_polled_integrity(allow_polled: bool, min_integrity: Integrity, example: str) -> None:
    """Polled books are snapshots: they can never meet integrity=verified."""
    if allow_polled and min_integrity is Integrity.VERIFIED:
        msg = (
            "Polled books are snapshots, so they never meet integrity=verified: "
            "use one or the other."
        )
        raise InputError(msg, example)


def clip(text: str, limit: int = 32) -> str:
    """A user's text shortened for echoing in a reply (escape it afterwards)."""
    text = "".join(ch if ch.isprintable() else "?" for ch in text[: limit + 1])
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_command(text: str) -> tuple[str, str | None, list[str]] | None:
    """``/cmd@bot a b`` -> (``cmd``, ``bot``, [``a``, ``b``]); None when not a command."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return None
    head, *args = stripped.split()
    name, _, mention = head[1:].partition("@")
    return name.lower(), mention or None, args


def read_number(token: str, what: str, example: str, hint: str = "") -> float:
    """``to_number``, or an InputError naming the input: "The size 'x' is not a number"."""
    try:
        return to_number(token)
    except NotANumber as exc:
        extra = hint if str(exc) == NOT_A_NUMBER else ""
        msg = f"The {what} {clip(token)!r} is {exc}{extra}."
        raise InputError(msg, example) from None


def check_step(
    value: float, step: float, what: str, unit: str, example: str, shown: str = ""
) -> float:
    """Refuse what the display would round away: below the step, or finer than it."""
    if value == 0:
        return value
    if abs(value) < step:
        given = clip(shown) if shown else f"{value:g}"
        msg = f"The {what} {given}{unit} is below the smallest step, {fmt_step(step)}{unit}."
        raise InputError(msg, example)
    steps = value / step
    if abs(steps - round(steps)) > 1e-6 * max(1.0, abs(steps)):
        low = math.floor(steps) * step
        msg = (
            f"The {what} is set in steps of {fmt_step(step)}{unit}: "
            f"write {fmt_step(low, step)} or {fmt_step(low + step, step)}."
        )
        raise InputError(msg, example)
    return round(round(steps) * step, 10)


def parse_threshold(
    token: str,
    max_pct: float,
    example: str = ARB_EXAMPLE,
    *,
    sanity_cap_pct: float | None = None,
) -> float:
    """A threshold in percent: above 0, in 0.01 % steps, at most the sanity cap and the max."""
    value = read_number(
        token.removesuffix("%"), "threshold", example, " (write it in percent, e.g. 0.3)"
    )
    if value < 0:
        msg = "The threshold cannot be negative."
        raise InputError(msg, example)
    if value == 0:
        msg = "The threshold must be above 0 %."
        raise InputError(msg, example)
    shown = token.removesuffix("%").strip()
    value = check_step(value, THRESHOLD_STEP, "threshold", " %", example, shown)
    check_threshold(value, max_pct, sanity_cap_pct, example)
    return value


def check_threshold(
    value: float, max_pct: float, sanity_cap_pct: float | None, example: str
) -> None:
    """Refuse a threshold no edge can reach: above the sanity cap an edge is never alerted."""
    if sanity_cap_pct is not None and value > sanity_cap_pct:
        msg = (
            f"A threshold of {value:.2f} % is above the sanity cap of {sanity_cap_pct:.2f} %: "
            "edges above the cap are treated as bad data and never alerted, so this monitor "
            f"could never fire. Use at most {sanity_cap_pct:.2f} %."
        )
        raise InputError(msg, example)
    if value > max_pct:
        msg = f"A threshold of {value:g} % is not realistic: it must be at most {max_pct:g} %."
        raise InputError(msg, example)


def parse_size(token: str, low: float, high: float, example: str) -> float:
    text = token.strip()
    factor = _SIZE_SUFFIX.get(text[-1:].lower(), 1.0)
    hint = " (quote currency, e.g. 5000 or 5k)"
    value = read_number(text[:-1] if factor != 1.0 else text, "size", example, hint)
    value *= factor
    if not low <= value <= high:
        msg = f"The size must be between {low:,.0f} and {high:,.0f} (got {value:,.2f})."
        raise InputError(msg, example)
    return value


def parse_profit(token: str, example: str) -> float | None:
    """``min_profit=5`` (quote currency, at the monitor's size); ``off`` for none."""
    if token.strip().lower() == "off":
        return None
    value = read_number(token.strip(), "minimum profit", example, " (quote currency, e.g. 5)")
    if not 0 < value <= 1_000_000:
        msg = f"The minimum profit must be above 0 and at most 1,000,000 (got {value:,.2f})."
        raise InputError(msg, example)
    return value


def parse_duration(token: str, low: float, high: float, what: str, example: str) -> float:
    """``30``, ``30s``, ``5m``, ``2h``, ``1d`` -> seconds within [low, high]."""
    match = _DURATION.match(token.strip())
    if match is None:
        msg = f"The {what} {clip(token)!r} is not a duration (e.g. 30s, 5m, 2h)."
        raise InputError(msg, example)
    try:
        amount = to_number(match[1])
    except NotANumber as exc:
        detail = "a finite number" if str(exc) == NOT_FINITE else "a duration (e.g. 30s, 5m, 2h)"
        msg = f"The {what} {clip(token)!r} is not {detail}."
        raise InputError(msg, example) from None
    seconds = amount * _DURATION_UNIT[(match[2] or "s").lower()]
    if not (math.isfinite(seconds) and low <= seconds <= high):
        msg = f"The {what} must be between {_span(low)} and {_span(high)}."
        raise InputError(msg, example)
    return seconds


def parse_venue(token: str, supported: Sequence[Venue], example: str) -> Venue:
    name = _VENUE_ALIASES.get(token.lower(), token.lower())
    names = ", ".join(v.value for v in supported)
    if name not in {v.value for v in Venue}:
        msg = f"Unknown exchange {clip(token)!r}. Supported: {names}."
        raise InputError(msg, example)
    venue = Venue(name)
    if venue not in supported:
        msg = f"{venue.value} is not enabled on this bot. Enabled: {names}."
        raise InputError(msg, example)
    return venue


def parse_venues(
    tokens: Sequence[str],
    symbol: Symbol | str,
    listed: Sequence[Venue],
    supported: Sequence[Venue],
    minimum: int,
    example: str,
) -> tuple[Venue, ...]:
    """Exchange names (or ``all``) checked against the symbol's listings."""
    available = [v for v in supported if v in listed]
    if any(t.lower() == "all" for t in tokens):
        if len(tokens) > 1:
            msg = "Write either 'all' or exchange names, not both."
            raise InputError(msg, example)
        if len(available) < minimum:
            where = ", ".join(v.value for v in available) or "none of the enabled exchanges"
            msg = f"{symbol} is listed on {where}: this needs at least {minimum}."
            raise InputError(msg, example)
        return tuple(available)
    venues: list[Venue] = []
    for token in tokens:
        venue = parse_venue(token, supported, example)
        if venue in venues:
            msg = f"{venue.value} is given twice."
            raise InputError(msg, example)
        if venue not in listed:
            where = ", ".join(v.value for v in available) or "no enabled exchange"
            msg = f"{symbol} is not listed on {venue.value} (it is on {where})."
            raise InputError(msg, example)
        venues.append(venue)
    if len(venues) < minimum:
        need = "two different exchanges" if minimum == 2 else "one exchange"
        msg = f"Pick at least {need} (or 'all')."
        raise InputError(msg, example)
    return tuple(venues)


def resolve_symbol(directory: SymbolLookup, token: str, example: Callable[[str], str]) -> Symbol:
    """The directory's symbol; unknown ones get suggestions and an example using the first."""
    try:
        return directory.resolve(token)
    except (RejectedInput, ValueError) as exc:
        ambiguous = bool(getattr(exc, "ambiguous", False))
        suggestions = [str(s) for s in getattr(exc, "suggestions", [])][: 8 if ambiguous else 5]
        hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
        msg = f"Unknown symbol {clip(token)!r}.{hint}"
        if ambiguous and len(suggestions) == 1:
            msg = f"{clip(token)!r} is not listed as written. Did you mean {suggestions[0]}?"
        elif ambiguous:
            msg = f"{clip(token)!r} could be {', '.join(suggestions)}: write the one you mean."
        raise InputError(
            msg, example(suggestions[0] if suggestions else "BTC-USDT"), suggestions
        ) from None


def parse_hhmm(token: str, example: str) -> str:
    match = _HHMM.match(token)
    if match is None:
        msg = f"{clip(token)!r} is not a time of day (HH:MM, 24 h)."
        raise InputError(msg, example)
    return f"{int(match[1]):02d}:{match[2]}"


def parse_timezone(token: str, example: str) -> str:
    """An IANA zone name that this system knows (``Europe/Paris``, ``UTC``)."""
    if _ZONE.match(token) and len(token) <= 64:
        try:
            ZoneInfo(token)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
        else:
            return token
    msg = f"Unknown time zone {clip(token)!r}: use an IANA name such as Europe/Paris or UTC."
    raise InputError(msg, example)


def parse_filter(token: str, example: str) -> str:
    if not _FILTER.match(token):
        msg = f"The filter {clip(token)!r} must be 1-20 letters, digits or '-'."
        raise InputError(msg, example)
    return token.upper()


def options(tokens: Sequence[str], allowed: Sequence[str], example: str) -> dict[str, str]:
    """``key=value`` tokens (keys lower-cased); unknown or repeated keys are errors."""
    found: dict[str, str] = {}
    for token in tokens:
        key, _, value = token.partition("=")
        key = key.lower()
        if key not in allowed:
            names = ", ".join(f"{k}=" for k in allowed)
            msg = f"Unknown option {clip(key)!r}. Options: {names}."
            raise InputError(msg, example)
        if key in found:
            msg = f"{key}= is given twice."
            raise InputError(msg, example)
        if not value:
            msg = f"{key}= needs a value."
            raise InputError(msg, example)
        found[key] = value
    return found


def _span(seconds: float) -> str:
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{seconds / 86400:g} d"
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
