"""Arguments of the one-line forms: split, parse, validate; every error carries an example."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import RejectedInput

ARB_EXAMPLE = "/monitor_arb BTC-USDT binance okx 0.3"
VIEW_EXAMPLE = "/view_market BTC-USDT binance okx"
CBBO_EXAMPLE = "/get_cbbo BTC-USDT"
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)\Z", re.ASCII)
_NUMERIC_START = re.compile(r"^[+-]?[\d.,]", re.ASCII)
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\Z", re.IGNORECASE | re.ASCII)
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)\Z", re.ASCII)
_ZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+){0,2}\Z")
_FILTER = re.compile(r"^[A-Za-z0-9-]{1,20}\Z", re.ASCII)
_VENUE_ALIASES = {"okex": "okx", "binance.com": "binance"}
_VENUE_NAMES = {v.value for v in Venue} | set(_VENUE_ALIASES) | {"all"}
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
    threshold_pct: float
    notional: float
    min_duration_s: float = 0.0
    once: bool = False
    allow_polled: bool = False


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


def number(token: str) -> float | None:
    """A plain decimal (comma accepted as the separator); None otherwise (no inf, nan, 1e9)."""
    if not _NUMBER.match(token):
        return None
    value = float(token.replace(",", "."))
    return value if math.isfinite(value) else None


def looks_numeric(token: str) -> bool:
    return bool(_NUMERIC_START.match(token))


def parse_threshold(token: str, max_pct: float, example: str = ARB_EXAMPLE) -> float:
    value = number(token.removesuffix("%"))
    if value is None:
        msg = f"The threshold {clip(token)!r} is not a number (write it in percent, e.g. 0.3)."
        raise InputError(msg, example)
    if value < 0:
        msg = "The threshold cannot be negative."
        raise InputError(msg, example)
    if value == 0:
        msg = "The threshold must be above 0 %."
        raise InputError(msg, example)
    if value > max_pct:
        msg = f"A threshold of {value:g} % is not realistic: it must be at most {max_pct:g} %."
        raise InputError(msg, example)
    return value


def parse_size(token: str, low: float, high: float, example: str) -> float:
    text = token.lower()
    factor = _SIZE_SUFFIX.get(text[-1:], 1.0)
    value = number(text[:-1] if factor != 1.0 else text)
    if value is None:
        msg = f"The size {clip(token)!r} is not a number (quote currency, e.g. 5000 or 5k)."
        raise InputError(msg, example)
    value *= factor
    if not low <= value <= high:
        msg = f"The size must be between {low:,.0f} and {high:,.0f} (got {value:,.2f})."
        raise InputError(msg, example)
    return value


def parse_duration(token: str, low: float, high: float, what: str, example: str) -> float:
    """``30``, ``30s``, ``5m``, ``2h``, ``1d`` -> seconds within [low, high]."""
    match = _DURATION.match(token.strip())
    if match is None:
        msg = f"The {what} {clip(token)!r} is not a duration (e.g. 30s, 5m, 2h)."
        raise InputError(msg, example)
    seconds = float(match[1]) * _DURATION_UNIT[(match[2] or "s").lower()]
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
    symbol: Symbol,
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
        suggestions = [str(s) for s in getattr(exc, "suggestions", [])][:5]
        hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
        msg = f"Unknown symbol {clip(token)!r}.{hint}"
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


def parse_arb(
    args: Sequence[str],
    directory: SymbolLookup,
    supported: Sequence[Venue],
    *,
    default_threshold: float,
    default_notional: float,
    max_threshold: float,
    size_range: tuple[float, float],
) -> ArbRequest:
    """``SYMBOL VENUE VENUE... [THRESHOLD] [size=N] [min=30s] [once] [polled]``."""
    if not args:
        msg = "Missing the symbol, the exchanges and the threshold."
        raise InputError(msg, ARB_EXAMPLE)
    symbol = resolve_symbol(directory, args[0], lambda s: f"/monitor_arb {s} binance okx 0.3")
    venue_tokens: list[str] = []
    pairs: list[str] = []
    flags: set[str] = set()
    threshold: float | None = None
    for token in args[1:]:
        low = token.lower()
        if "=" in token:
            pairs.append(token)
        elif low in ("once", "polled"):
            flags.add(low)
        elif looks_numeric(token):
            if threshold is not None:
                msg = f"Unexpected {clip(token)!r}: give one threshold."
                raise InputError(msg, ARB_EXAMPLE)
            threshold = parse_threshold(token, max_threshold)
        elif threshold is not None:
            msg = f"Unexpected {clip(token)!r} after the threshold: exchanges come first."
            raise InputError(msg, ARB_EXAMPLE)
        elif len(venue_tokens) >= 2 and low not in _VENUE_NAMES:
            msg = (
                f"{clip(token)!r} is neither an exchange nor a threshold "
                "(a number in percent, e.g. 0.3)."
            )
            raise InputError(msg, ARB_EXAMPLE)
        else:
            venue_tokens.append(token)
    if not venue_tokens:
        msg = "Missing the exchanges: name at least two, or 'all'."
        raise InputError(msg, ARB_EXAMPLE)
    listed = directory.venues_listing(symbol)
    venues = parse_venues(venue_tokens, symbol, listed, supported, 2, ARB_EXAMPLE)
    opts = options(pairs, ("size", "min"), "/monitor_arb ETH-USDT all 0.2 size=5000")
    notional = default_notional
    if "size" in opts:
        notional = parse_size(opts["size"], *size_range, "/monitor_arb ETH-USDT all 0.2 size=5000")
    min_duration = 0.0
    if "min" in opts:
        example = "/monitor_arb BTC-USDT all 0.3 min=10s"
        min_duration = parse_duration(opts["min"], 0.0, 3600.0, "minimum duration", example)
    return ArbRequest(
        symbol=symbol,
        venues=venues,
        threshold_pct=default_threshold if threshold is None else threshold,
        notional=notional,
        min_duration_s=min_duration,
        once="once" in flags,
        allow_polled="polled" in flags,
    )


def parse_view(
    args: Sequence[str], directory: SymbolLookup, supported: Sequence[Venue], throttle_s: float
) -> ViewRequest:
    """``SYMBOL [VENUE...|all] [every=5s] [move=0.1] [spread=5] [dev=10] [crossed=2]
    [crossed_for=5s]``."""
    if not args:
        msg = "Missing the symbol."
        raise InputError(msg, VIEW_EXAMPLE)
    symbol = resolve_symbol(directory, args[0], lambda s: f"/view_market {s} binance okx")
    venue_tokens = [t for t in args[1:] if "=" not in t]
    for token in venue_tokens:
        if looks_numeric(token):
            msg = f"Unexpected {clip(token)!r}: numbers go in options such as move=0.1."
            raise InputError(msg, "/view_market BTC-USDT all move=0.1")
    venues: tuple[Venue, ...] = ()
    if venue_tokens and [t.lower() for t in venue_tokens] != ["all"]:
        listed = directory.venues_listing(symbol)
        venues = parse_venues(venue_tokens, symbol, listed, supported, 1, VIEW_EXAMPLE)
    example = "/view_market BTC-USDT all every=10s move=0.1 spread=5 dev=10"
    opts = options(
        [t for t in args[1:] if "=" in t],
        ("every", "move", "spread", "dev", *CROSSED_OPTIONS),
        example,
    )
    if "every" in opts:
        throttle_s = parse_duration(opts["every"], 1.0, 3600.0, "update interval", example)
    figures: dict[str, float] = {}
    for key, top in (("move", 50.0), ("spread", 5000.0), ("dev", 5000.0)):
        if key in opts:
            value = number(opts[key].removesuffix("%"))
            if value is None or not 0 < value <= top:
                msg = f"{key}= must be a number above 0 and at most {top:g}."
                raise InputError(msg, example)
            figures[key] = value
    crossed_bps, crossed_s = parse_crossed(opts, None, 0.0)
    return ViewRequest(
        symbol=symbol,
        venues=venues,
        throttle_s=throttle_s,
        mid_move_pct=figures.get("move"),
        spread_above_bps=figures.get("spread"),
        venue_deviation_bps=figures.get("dev"),
        crossed_min_bps=crossed_bps,
        crossed_min_s=crossed_s,
    )


CROSSED_OPTIONS = ("crossed", "crossed_for")
CROSSED_EXAMPLE = "/view_market BTC-USDT binance okx crossed=2 crossed_for=5s"


def parse_crossed(
    opts: dict[str, str], bps: float | None, seconds: float
) -> tuple[float | None, float]:
    """``crossed=2`` (bps, or ``off``) and ``crossed_for=5s`` over the current values."""
    if "crossed" in opts:
        text = opts["crossed"].lower().removesuffix("bps")
        value = None if text == "off" else number(text)
        if text != "off" and (value is None or not 0 <= value <= 1000):
            msg = "crossed= is the crossing in bps to alert on (0 to 1000), or off."
            raise InputError(msg, CROSSED_EXAMPLE)
        bps = value
    if "crossed_for" in opts:
        seconds = parse_duration(
            opts["crossed_for"], 0.0, 3600.0, "crossed duration", CROSSED_EXAMPLE
        )
        if bps is None:
            msg = "crossed_for= needs a crossed alert: add crossed=, e.g. crossed=2."
            raise InputError(msg, CROSSED_EXAMPLE)
    return bps, seconds


def _span(seconds: float) -> str:
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{seconds / 86400:g} d"
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
