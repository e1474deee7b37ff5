"""The one-line forms of /monitor_arb and /view_market, and the market-view options."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from goquant_bot.bot.numbers import BPS_STEP, THRESHOLD_STEP, NotANumber, looks_numeric, to_number
from goquant_bot.bot.parsing import (
    ARB_EXAMPLE,
    VENUE_NAMES,
    VIEW_EXAMPLE,
    ArbRequest,
    InputError,
    SymbolLookup,
    ViewRequest,
    check_polled_integrity,
    check_step,
    check_threshold,
    clip,
    options,
    parse_duration,
    parse_integrity,
    parse_profit,
    parse_size,
    parse_threshold,
    parse_venues,
    resolve_symbol,
)
from goquant_bot.domain.book import DEFAULT_MIN_INTEGRITY
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import CONVERTIBLE_QUOTES


def parse_arb(
    args: Sequence[str],
    directory: SymbolLookup,
    supported: Sequence[Venue],
    *,
    default_threshold: float,
    default_notional: float,
    max_threshold: float,
    size_range: tuple[float, float],
    sanity_cap_pct: float | None = None,
    max_symbols: int = 20,
) -> ArbRequest:
    """``SYMBOL[,SYMBOL...] VENUE VENUE... [THRESHOLD] [size=N] [min=30s] [min_profit=5]
    [quotes=USD~USDT] [integrity=verified] [once] [polled]``."""
    if not args:
        msg = "Missing the symbol, the exchanges and the threshold."
        raise InputError(msg, ARB_EXAMPLE)
    symbols = _symbols(directory, args[0], max_symbols)
    symbol = symbols[0]
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
            threshold = parse_threshold(token, max_threshold, sanity_cap_pct=sanity_cap_pct)
        elif threshold is not None:
            msg = f"Unexpected {clip(token)!r} after the threshold: exchanges come first."
            raise InputError(msg, ARB_EXAMPLE)
        elif len(venue_tokens) >= 2 and low not in VENUE_NAMES:
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
    opts = options(
        pairs,
        ("size", "min", "min_profit", "quotes", "integrity"),
        "/monitor_arb ETH-USDT all 0.2 size=5000",
    )
    integrity = DEFAULT_MIN_INTEGRITY
    if "integrity" in opts:
        integrity = parse_integrity(opts["integrity"], INTEGRITY_EXAMPLE)
    check_polled_integrity("polled" in flags, integrity, INTEGRITY_EXAMPLE)
    quotes = parse_quotes(opts["quotes"], symbols) if "quotes" in opts else ()

    def listing(s: Symbol) -> list[Venue]:
        """Where a symbol (or, with quotes=, the same base in a compared quote) is listed."""
        family = [Symbol(s.base, q) for q in quotes] or [s]
        found = {v for f in family for v in directory.venues_listing(f)}
        return [v for v in supported if v in found]

    if len(symbols) == 1:
        venues = parse_venues(venue_tokens, symbol, listing(symbol), supported, 2, ARB_EXAMPLE)
    else:
        venues = _venues_for_all(listing, symbols, venue_tokens, supported)
    if quotes:
        check_conversions(directory, symbols, quotes, venues)
    notional = default_notional
    if "size" in opts:
        notional = parse_size(opts["size"], *size_range, "/monitor_arb ETH-USDT all 0.2 size=5000")
    min_profit = None
    if "min_profit" in opts:
        min_profit = parse_profit(opts["min_profit"], PROFIT_EXAMPLE)
    if threshold is None and min_profit is None:
        check_threshold(default_threshold, max_threshold, sanity_cap_pct, ARB_EXAMPLE)
    min_duration = 0.0
    if "min" in opts:
        example = "/monitor_arb BTC-USDT all 0.3 min=10s"
        min_duration = parse_duration(opts["min"], 0.0, 3600.0, "minimum duration", example)
    return ArbRequest(
        symbol=symbol,
        venues=venues,
        # A profit floor alone is a complete condition: no default threshold is added to it.
        threshold_pct=default_threshold if threshold is None and min_profit is None else threshold,
        min_profit=min_profit,
        size_given="size" in opts,
        notional=notional,
        min_duration_s=min_duration,
        once="once" in flags,
        allow_polled="polled" in flags,
        more_symbols=symbols[1:],
        quotes=quotes,
        min_integrity=integrity,
    )


INTEGRITY_EXAMPLE = "/monitor_arb BTC-USDT binance okx 0.3 integrity=verified"
QUOTES_EXAMPLE = "/monitor_arb BTC-USD coinbase kraken binance 0.3 quotes=USD~USDT"


def parse_quotes(text: str, symbols: Sequence[Symbol]) -> tuple[str, ...]:
    """``USD~USDT[~USDC]``: quotes compared across with a live conversion."""
    names = [part.strip().upper() for part in text.split("~")]
    for name in names:
        if name not in CONVERTIBLE_QUOTES:
            msg = (
                f"quotes= compares {', '.join(CONVERTIBLE_QUOTES)} joined by ~: "
                f"{clip(name)!r} is not one of them."
            )
            raise InputError(msg, QUOTES_EXAMPLE)
    if len(set(names)) != len(names) or len(names) < 2:
        msg = "quotes= needs two or more different quotes joined by ~, e.g. USD~USDT."
        raise InputError(msg, QUOTES_EXAMPLE)
    for symbol in symbols:
        if symbol.quote not in names:
            msg = f"{symbol} is quoted in {symbol.quote}: quotes= must include it."
            raise InputError(msg, QUOTES_EXAMPLE)
    return tuple(names)


def check_conversions(
    directory: SymbolLookup,
    symbols: Sequence[Symbol],
    quotes: Sequence[str],
    venues: Sequence[Venue],
) -> None:
    """Each compared quote needs a conversion book on one of the chosen exchanges."""
    for home in {s.quote for s in symbols}:
        for other in quotes:
            if other == home:
                continue
            books = (Symbol(other, home), Symbol(home, other))
            if not any(v in venues for b in books for v in directory.venues_listing(b)):
                msg = (
                    f"None of the chosen exchanges lists {books[0]} or {books[1]}: there is no "
                    f"live rate to convert {other} and {home}."
                )
                raise InputError(msg, QUOTES_EXAMPLE)


PROFIT_EXAMPLE = "/monitor_arb BTC-USDT binance okx 0.2 min_profit=5"
MULTI_EXAMPLE = "/monitor_arb BTC-USDT,ETH-USDT,SOL-USDT binance okx 0.3"


def _symbols(directory: SymbolLookup, token: str, max_symbols: int) -> tuple[Symbol, ...]:
    """``BTC-USDT`` or ``BTC-USDT,ETH-USDT,...``: each resolved, none twice."""
    parts = [p for p in token.split(",") if p.strip()]
    if not parts:
        msg = "Missing the symbol."
        raise InputError(msg, ARB_EXAMPLE)
    if len(parts) > max_symbols:
        msg = f"At most {max_symbols} symbols in one monitor ({len(parts)} given)."
        raise InputError(msg, MULTI_EXAMPLE)
    symbols: list[Symbol] = []
    for part in parts:
        symbol = resolve_symbol(
            directory, part.strip(), lambda s: f"/monitor_arb {s} binance okx 0.3"
        )
        if symbol in symbols:
            msg = f"{symbol} is given twice."
            raise InputError(msg, MULTI_EXAMPLE)
        symbols.append(symbol)
    return tuple(symbols)


def _venues_for_all(
    listing: Callable[[Symbol], Sequence[Venue]],
    symbols: Sequence[Symbol],
    tokens: Sequence[str],
    supported: Sequence[Venue],
) -> tuple[Venue, ...]:
    """The exchanges of a monitor on several symbols: each symbol must be listed on two of
    them (an exchange need not list every symbol)."""
    listings = {s: set(listing(s)) for s in symbols}
    union = [v for v in supported if any(v in listed for listed in listings.values())]
    what = ", ".join(str(s) for s in symbols)
    venues = parse_venues(tokens, what, union, supported, 2, MULTI_EXAMPLE)
    for symbol, listed in listings.items():
        on = [v.value for v in venues if v in listed]
        if len(on) < 2:
            where = ", ".join(on) or "none of them"
            msg = (
                f"{symbol} is listed on {where} of the chosen exchanges: each symbol needs two "
                "(choose other exchanges, or leave it out)."
            )
            raise InputError(msg, MULTI_EXAMPLE)
    return venues


def parse_view(
    args: Sequence[str], directory: SymbolLookup, supported: Sequence[Venue], throttle_s: float
) -> ViewRequest:
    """``SYMBOL [VENUE...|all] [every=5s] [move=0.1] [spread=5] [dev=10] [crossed=2]
    [crossed_for=5s] [integrity=verified]``."""
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
        ("every", "move", "spread", "dev", *CROSSED_OPTIONS, "integrity"),
        example,
    )
    integrity = DEFAULT_MIN_INTEGRITY
    if "integrity" in opts:
        integrity = parse_integrity(
            opts["integrity"], "/view_market BTC-USDT all integrity=verified"
        )
    if "every" in opts:
        throttle_s = parse_duration(opts["every"], 1.0, 3600.0, "update interval", example)
    figures: dict[str, float] = {}
    for key in ("move", "spread", "dev"):
        if key in opts:
            figures[key] = parse_figure(key, opts[key], example)
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
        min_integrity=integrity,
    )


CROSSED_OPTIONS = ("crossed", "crossed_for")
CROSSED_EXAMPLE = "/view_market BTC-USDT binance okx crossed=2 crossed_for=5s"


def parse_crossed(
    opts: dict[str, str], bps: float | None, seconds: float
) -> tuple[float | None, float]:
    """``crossed=2`` (bps, or ``off``) and ``crossed_for=5s`` over the current values."""
    if "crossed" in opts:
        text = opts["crossed"].lower().removesuffix("bps").strip()
        if text == "off":
            bps = None
        else:
            allowed = "the crossing in bps to alert on (0 to 1000), or off"
            try:
                value = to_number(text)
            except NotANumber as exc:
                msg = f"crossed= {clip(opts['crossed'])!r} is {exc}: give {allowed}."
                raise InputError(msg, CROSSED_EXAMPLE) from None
            if not 0 <= value <= 1000:
                msg = f"crossed= is {allowed}."
                raise InputError(msg, CROSSED_EXAMPLE)
            bps = check_step(value, BPS_STEP, "crossing", " bps", CROSSED_EXAMPLE, text)
    if "crossed_for" in opts:
        seconds = parse_duration(
            opts["crossed_for"], 0.0, 3600.0, "crossed duration", CROSSED_EXAMPLE
        )
        if bps is None:
            msg = "crossed_for= needs a crossed alert: add crossed=, e.g. crossed=2."
            raise InputError(msg, CROSSED_EXAMPLE)
    return bps, seconds


# Market-view options: (what, unit, step, top).
FIGURES = {
    "move": ("mid move", " %", THRESHOLD_STEP, 50.0),
    "spread": ("spread", " bps", BPS_STEP, 5000.0),
    "dev": ("deviation", " bps", BPS_STEP, 5000.0),
}


def parse_figure(key: str, token: str, example: str, *, off: bool = False) -> float:
    """``move=0.1`` (percent), ``spread=5`` and ``dev=10`` (bps) of a market view."""
    what, unit, step, top = FIGURES[key]
    text = token.removesuffix("%").strip()
    allowed = f"a number above 0 and at most {top:g}" + (", or off" if off else "")
    try:
        value = to_number(text)
    except NotANumber as exc:
        msg = f"{key}= {clip(token)!r} is {exc}: give {allowed}."
        raise InputError(msg, example) from None
    if not 0 < value <= top:
        msg = f"{key}= must be {allowed}."
        raise InputError(msg, example)
    return check_step(value, step, what, unit, example, text)
