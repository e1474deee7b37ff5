"""Argument parsing of the one-line forms: every error names the problem and gives an example."""

from __future__ import annotations

from pathlib import Path

import pytest

from goquant_bot.bot.forms import parse_arb, parse_figure, parse_view
from goquant_bot.bot.numbers import NotANumber, number, to_number
from goquant_bot.bot.parsing import (
    ARB_EXAMPLE,
    InputError,
    clip,
    options,
    parse_duration,
    parse_hhmm,
    parse_size,
    parse_threshold,
    parse_timezone,
    parse_venues,
    split_command,
)
from goquant_bot.domain.instruments import Venue
from tests.bot.harness import BN, BTC, BTC_USDC, BY, DB, DOGE, ETH, OK, Bot

ALL = (BN, OK, BY, DB)


@pytest.fixture
def directory(tmp_path: Path) -> object:
    return Bot(tmp_path).directory


def arb(directory: object, text: str, venues: tuple[Venue, ...] = ALL) -> object:
    return parse_arb(
        text.split(),
        directory,  # type: ignore[arg-type]
        venues,
        default_threshold=0.3,
        default_notional=1000.0,
        max_threshold=50.0,
        size_range=(10.0, 1_000_000.0),
    )


def test_split_command_lowercases_and_strips_the_bot_mention() -> None:
    assert split_command("  /Monitor_Arb@GoQuantBot BTC-USDT  binance ") == (
        "monitor_arb",
        "GoQuantBot",
        ["BTC-USDT", "binance"],
    )
    assert split_command("/") == ("", None, [])
    assert split_command("hello /start") is None


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("0.3", 0.3), ("0,25", 0.25), (".5", 0.5), ("+2", 2.0), ("-1", -1.0), ("7.", 7.0),
        ("1e6", 1e6), ("1E3", 1000.0), ("2.5e-1", 0.25), ("1,000", 1000.0),
        ("1,000,000.5", 1_000_000.5), ("0,300", 0.3), ("1,5", 1.5),
    ],
)  # fmt: skip
def test_numbers_accept_decimals_exponents_and_thousands(token: str, value: float) -> None:
    assert number(token) == value


@pytest.mark.parametrize("token", ["0x10", "", "1.2.3", "\uff11", "1_000", "e3", "1e", "1,00,0"])
def test_numbers_refuse_everything_else(token: str) -> None:
    assert number(token) is None
    with pytest.raises(NotANumber, match=r"^not a number$"):
        to_number(token)


@pytest.mark.parametrize("token", ["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "9" * 400])
def test_non_finite_numbers_are_named_as_such(token: str) -> None:
    with pytest.raises(NotANumber, match=r"^not a finite number$"):
        to_number(token)
    with pytest.raises(InputError) as err:
        parse_size(token, 10, 1e6, "ex")
    assert err.value.problem == f"The size {clip(token)!r} is not a finite number."
    with pytest.raises(InputError, match="is not a finite number"):
        parse_duration(token + "s", 0, 3600, "interval", "ex")


def test_one_grammar_for_sizes_durations_and_figures() -> None:
    assert parse_size("1e6", 10, 1e6, "") == 1e6
    assert parse_size("1,000", 10, 1e6, "") == 1000.0
    assert parse_duration("1e2s", 0, 3600, "x", "") == 100.0
    assert parse_duration("1.5m", 0, 3600, "x", "") == 90.0
    assert parse_figure("spread", "2.5", "") == 2.5
    with pytest.raises(InputError, match=r"^move= 'inf' is not a finite number"):
        parse_figure("move", "inf", "")
    with pytest.raises(InputError, match=r"^The spread 0.001 bps is below the smallest step"):
        parse_figure("spread", "0.001", "")


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("abc", "The threshold 'abc' is not a number"),
        ("-0.2", "The threshold cannot be negative."),
        ("0", "The threshold must be above 0 %."),
        ("51", "A threshold of 51 % is not realistic: it must be at most 50 %."),
        ("nan", "The threshold 'nan' is not a finite number."),
        ("-inf", "The threshold '-inf' is not a finite number."),
        ("0.0000001", "The threshold 0.0000001 % is below the smallest step, 0.01 %."),
        ("1e-9%", "The threshold 1e-9 % is below the smallest step, 0.01 %."),
        ("0.125", "The threshold is set in steps of 0.01 %: write 0.12 or 0.13."),
    ],
)
def test_threshold_errors(token: str, problem: str) -> None:
    with pytest.raises(InputError) as err:
        parse_threshold(token, 50.0)
    assert problem in err.value.problem
    assert err.value.example == ARB_EXAMPLE


def test_threshold_accepts_a_percent_sign_and_an_exponent() -> None:
    assert parse_threshold("0.25%", 50.0) == 0.25
    assert parse_threshold("1e-1", 50.0) == 0.1
    assert parse_threshold("0.07", 50.0) == 0.07  # not 0.07000000000000001


def test_threshold_above_the_sanity_cap_is_refused_with_the_reason() -> None:
    assert parse_threshold("5", 50.0, sanity_cap_pct=5.0) == 5.0
    with pytest.raises(InputError) as err:
        parse_threshold("5.01", 50.0, sanity_cap_pct=5.0)
    assert err.value.problem == (
        "A threshold of 5.01 % is above the sanity cap of 5.00 %: edges above the cap are "
        "treated as bad data and never alerted, so this monitor could never fire. "
        "Use at most 5.00 %."
    )


def test_sizes_take_k_and_m_suffixes_within_range() -> None:
    assert parse_size("5k", 10, 1e6, "") == 5000.0
    assert parse_size("1.5M", 10, 1e7, "") == 1_500_000.0
    with pytest.raises(InputError, match="between 10 and 1,000,000"):
        parse_size("2m", 10, 1e6, "")
    with pytest.raises(InputError, match="is not a number"):
        parse_size("lots", 10, 1e6, "")


def test_durations() -> None:
    assert parse_duration("90", 0, 3600, "x", "") == 90
    assert parse_duration("5m", 0, 3600, "x", "") == 300
    assert parse_duration("2H", 0, 86400, "x", "") == 7200
    with pytest.raises(InputError, match="between 1 min and 7 d"):
        parse_duration("8d", 60, 7 * 86400, "snooze", "")
    with pytest.raises(InputError, match="is not a duration"):
        parse_duration("soon", 0, 60, "x", "")


def test_times_and_zones() -> None:
    assert parse_hhmm("7:05", "") == "07:05"
    with pytest.raises(InputError, match="not a time of day"):
        parse_hhmm("24:00", "")
    assert parse_timezone("Europe/Paris", "") == "Europe/Paris"
    for bad in ("Mars/Olympus", "../../etc/passwd", "Europe/", "", "x" * 100):
        with pytest.raises(InputError, match="Unknown time zone"):
            parse_timezone(bad, "")


def test_options_refuse_unknown_repeated_and_empty_keys() -> None:
    assert options(["SIZE=5k", "min=3s"], ("size", "min"), "") == {"size": "5k", "min": "3s"}
    with pytest.raises(InputError, match="Unknown option 'fee'"):
        options(["fee=1"], ("size",), "")
    with pytest.raises(InputError, match="size= is given twice"):
        options(["size=1", "size=2"], ("size",), "")
    with pytest.raises(InputError, match="size= needs a value"):
        options(["size="], ("size",), "")


def test_venues_all_duplicates_listings_and_minimum() -> None:
    assert parse_venues(["all"], BTC, [BN, OK, BY], ALL, 2, "") == (BN, OK, BY)
    assert parse_venues(["OKX", "binance"], BTC, [BN, OK], ALL, 2, "") == (OK, BN)
    assert parse_venues(["okex", "Binance"], BTC, [BN, OK], ALL, 2, "") == (OK, BN)
    cases = [
        (["binance", "binance"], "binance is given twice."),
        (["binance"], "Pick at least two different exchanges (or 'all')."),
        (["ftx", "okx"], "Unknown exchange 'ftx'. Supported: binance, okx, bybit, deribit."),
        (["binance", "deribit"], "BTC-USDT is not listed on deribit (it is on binance, okx)."),
        (["all", "okx"], "Write either 'all' or exchange names, not both."),
    ]
    for tokens, problem in cases:
        with pytest.raises(InputError) as err:
            parse_venues(tokens, BTC, [BN, OK], ALL, 2, "")
        assert err.value.problem == problem
    with pytest.raises(InputError, match="DOGE-USDT is listed on binance: this needs at least 2"):
        parse_venues(["all"], DOGE, [BN], ALL, 2, "")
    with pytest.raises(
        InputError, match=r"okx is not enabled on this bot\. Enabled: binance, bybit"
    ):
        parse_venues(["okx", "binance"], BTC, [BN, OK], (BN, BY), 2, "")


def test_parse_arb_full_form(directory: object) -> None:
    req = arb(directory, "eth/usdt all 0.2% size=5k min=30s once polled")
    assert req.symbol == ETH  # type: ignore[attr-defined]
    assert req.venues == (BN, OK, BY)  # type: ignore[attr-defined]
    assert (req.threshold_pct, req.notional, req.min_duration_s) == (0.2, 5000.0, 30.0)  # type: ignore[attr-defined]
    assert req.once
    assert req.allow_polled


def test_parse_arb_defaults_the_threshold_and_the_size(directory: object) -> None:
    req = arb(directory, "BTC-USDC binance deribit")
    assert (req.symbol, req.venues, req.threshold_pct, req.notional) == (  # type: ignore[attr-defined]
        BTC_USDC,
        (BN, DB),
        0.3,
        1000.0,
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Missing the symbol, the exchanges and the threshold."),
        ("BTC-USDT", "Missing the exchanges: name at least two, or 'all'."),
        ("BTC-USDT 0.3", "Missing the exchanges: name at least two, or 'all'."),
        ("BTC-USDT binance okx 0.3 0.4", "Unexpected '0.4': give one threshold."),
        ("BTC-USDT binance 0.3 okx", "Unexpected 'okx' after the threshold"),
        ("BTC-USDT binance okx 0.3 fee=1", "Unknown option 'fee'"),
        ("BTC-USDT binance okx 0.3 size=1", "The size must be between 10 and 1,000,000"),
        ("BTC-USDT binance okx 0.3 min=2h", "minimum duration must be between 0 s and 1 h"),
        ("BTX-USDT binance okx 0.3", "Unknown symbol 'BTX-USDT'. Did you mean BTC-USDT"),
    ],
)
def test_parse_arb_errors(directory: object, text: str, problem: str) -> None:
    with pytest.raises(InputError) as err:
        arb(directory, text)
    assert problem in err.value.problem
    assert err.value.example.startswith("/monitor_arb ")


def test_unknown_symbol_example_uses_the_first_suggestion(directory: object) -> None:
    with pytest.raises(InputError) as err:
        arb(directory, "ETH-USDX binance okx")
    assert err.value.suggestions[0] == "ETH-USDT"
    assert err.value.example == "/monitor_arb ETH-USDT binance okx 0.3"


def test_parse_view(directory: object) -> None:
    req = parse_view(["btc-usdt"], directory, ALL, 5.0)  # type: ignore[arg-type]
    assert (req.symbol, req.venues, req.throttle_s) == (BTC, (), 5.0)
    req = parse_view(
        ["BTC-USDT", "okx", "bybit", "every=1m", "move=0.1", "spread=5", "dev=12"],
        directory,
        ALL,
        5.0,
    )  # type: ignore[arg-type]
    assert (req.venues, req.throttle_s, req.mid_move_pct) == ((OK, BY), 60.0, 0.1)
    assert (req.spread_above_bps, req.venue_deviation_bps) == (5.0, 12.0)
    for text, problem in [
        ("", "Missing the symbol."),
        ("BTC-USDT 0.3", "Unexpected '0.3'"),
        ("BTC-USDT move=-1", "move= must be a number above 0"),
        ("BTC-USDT every=0s", "update interval must be between 1 s and 1 h"),
    ]:
        with pytest.raises(InputError, match=problem):
            parse_view(text.split(), directory, ALL, 5.0)  # type: ignore[arg-type]


def test_clip_shortens_and_removes_control_characters() -> None:
    assert clip("a\x00b") == "a?b"
    assert clip("x" * 100, 10) == "x" * 9 + "…"
