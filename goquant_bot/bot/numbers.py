"""The one grammar of the numbers users type, and the steps in which figures are shown."""

from __future__ import annotations

import math
import re

# A decimal point or comma, an optional exponent (1e6), or thousands separators as we display
# them (1,000,000.5): a comma then exactly three digits after a non-zero group is a separator.
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:e[+-]?\d+)?\Z", re.I | re.A)
_THOUSANDS = re.compile(r"^[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?\Z", re.A)
_NON_FINITE = re.compile(r"^[+-]?(?:nan|inf|infinity)\Z", re.I | re.A)
_NUMERIC_START = re.compile(r"^(?:[+-]?[\d.,]|[+-]?(?:nan|inf)\w*\Z)", re.I | re.A)
THRESHOLD_STEP = 0.01  # percent: thresholds and other percentages are shown with two decimals
BPS_STEP = 0.01
FEE_STEP = 0.001  # percent: venues' discounted fees have three decimals (0.075 %)
NOT_A_NUMBER = "not a number"
NOT_FINITE = "not a finite number"


class NotANumber(ValueError):
    """A token that is not a usable number; the message says which way ("finite" or not)."""


def to_number(token: str) -> float:
    """The one number grammar: ``0.3``, ``0,25``, ``1e6``, ``1,000,000``; NotANumber otherwise.

    NaN, infinities and values that overflow to infinity are "not a finite number".
    """
    text = token.strip()
    if _NON_FINITE.match(text):
        raise NotANumber(NOT_FINITE)
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    elif _NUMBER.match(text):
        text = text.replace(",", ".")
    else:
        raise NotANumber(NOT_A_NUMBER)
    value = float(text)
    if not math.isfinite(value):
        raise NotANumber(NOT_FINITE)
    return value


def number(token: str) -> float | None:
    """``to_number`` that answers None instead of raising."""
    try:
        return to_number(token)
    except NotANumber:
        return None


def looks_numeric(token: str) -> bool:
    """Whether a token is meant as a number (a threshold among exchange names)."""
    return bool(_NUMERIC_START.match(token))


def fmt_step(value: float, step: float | None = None) -> str:
    """A value with as many decimals as the step has (0.01 -> 2)."""
    decimals = _decimals(step if step is not None else value)
    return f"{value:.{decimals}f}"


def _decimals(step: float) -> int:
    text = f"{step:.12f}".rstrip("0")
    return len(text.partition(".")[2])
