"""Venue names and our symbols: both directions, and a best-effort split of concatenated names."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from goquant_bot.domain.instruments import Instrument, Symbol, Venue

# Quote assets, longest first, to split concatenated venue names such as BTCUSDT.
KNOWN_QUOTES = (
    "FDUSD", "USDT", "USDC", "TUSD", "BUSD", "USDE", "DAI", "USD", "EUR", "GBP", "TRY",
    "BRL", "JPY", "BTC", "ETH", "BNB",
)  # fmt: skip


class SymbolMap:
    """Both directions between a venue's native names and our symbols."""

    def __init__(self, pairs: Iterable[tuple[str, Symbol]] = ()) -> None:
        self._to_symbol: dict[str, Symbol] = {}
        self._to_native: dict[Symbol, str] = {}
        self._instruments: dict[Symbol, Instrument] = {}
        for native, symbol in pairs:
            self.add(native, symbol)

    @classmethod
    def from_instruments(cls, instruments: Iterable[Instrument]) -> SymbolMap:
        symbols = cls()
        for instrument in instruments:
            symbols.add(instrument.native, instrument.symbol, instrument)
        return symbols

    def add(self, native: str, symbol: Symbol, instrument: Instrument | None = None) -> None:
        self._to_symbol[native] = symbol
        self._to_native[symbol] = native
        if instrument is not None:
            self._instruments[symbol] = instrument

    def instrument(self, symbol: Symbol) -> Instrument | None:
        """The listing's metadata (tick and lot sizes) when an instrument list gave it."""
        return self._instruments.get(symbol)

    def symbol(self, native: str) -> Symbol | None:
        return self._to_symbol.get(native)

    def native(self, symbol: Symbol) -> str | None:
        return self._to_native.get(symbol)


def split_concatenated(native: str, quotes: Sequence[str] = KNOWN_QUOTES) -> Symbol | None:
    """Best-effort 'BTCUSDT' -> BTC-USDT when no instrument metadata is at hand (``quotes``:
    the quote assets to try, longest first)."""
    upper = native.upper()
    for quote in quotes:
        if upper.endswith(quote) and len(upper) > len(quote):
            try:
                return Symbol.parse(f"{upper[: -len(quote)]}-{quote}")
            except ValueError:
                return None
    return None


def spot_instrument(
    venue: Venue, base: str, quote: str, native: str, tick: float, lot: float
) -> Instrument | None:
    """A listed spot pair as an instrument, or None when its tickers cannot name one of our
    symbols (such a pair is skipped: it is not worth failing the whole list)."""
    try:
        symbol = Symbol.parse(f"{base}-{quote}")
    except ValueError:
        return None
    return Instrument(venue, symbol, native, trading=True, tick_size=tick, lot_size=lot)
