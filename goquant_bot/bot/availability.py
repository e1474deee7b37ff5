"""Venues whose symbol list is missing: what commands, /status and admin notices say."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol

from goquant_bot.bot.render import esc, fmt_span
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import RejectedInput

_ALIASES = {"okex": Venue.OKX}


class Listings(Protocol):
    def resolve(self, text: str) -> Symbol: ...
    def unreachable(self) -> dict[Venue, float]: ...


class VenueUnreachable(RejectedInput):
    """The command needs a venue whose symbol list could not be loaded yet."""


def at_utc(ts: float, now: float) -> str:
    """``12:04 UTC`` today, ``2026-12-06 12:04 UTC`` further back."""
    moment = datetime.fromtimestamp(ts, UTC)
    same_day = moment.date() == datetime.fromtimestamp(now, UTC).date()
    return moment.strftime("%H:%M UTC" if same_day else "%Y-%m-%d %H:%M UTC")


def unreachable_text(venue: Venue, since: float, now: float) -> str:
    """``binance is unreachable, retrying since 12:04 UTC`` (plain text)."""
    return f"{venue.value} is unreachable, retrying since {at_utc(since, now)}"


def unreachable_lines(missing: Mapping[Venue, float], now: float) -> list[str]:
    """One HTML line per unreachable venue, for /status and /list_symbols."""
    return [
        f"⚠️ {esc(unreachable_text(venue, since, now))}: no symbol list yet"
        for venue, since in sorted(missing.items(), key=lambda item: item[0].value)
    ]


def require_listings(
    directory: Listings, tokens: Sequence[str], now: float, *, symbol_first: bool = True
) -> None:
    """Refuse plainly a command that names an unreachable venue, or a symbol that is unknown
    while some venue's list is missing (it may be listed there)."""
    missing = directory.unreachable()
    if not missing:
        return
    named = []
    for token in tokens:
        name = token.lower()
        venue = _ALIASES.get(name) or next((v for v in Venue if v.value == name), None)
        if venue in missing and venue not in named:
            named.append(venue)
    if named:
        reasons = "; ".join(unreachable_text(v, missing[v], now) for v in named)
        msg = f"{reasons}. Its symbols are not known yet: try again once it is back."
        raise VenueUnreachable(msg)
    if symbol_first and tokens:
        try:
            directory.resolve(tokens[0])
        except (RejectedInput, ValueError):
            reasons = "; ".join(unreachable_text(v, s, now) for v, s in sorted(missing.items()))
            msg = (
                f"{tokens[0][:40]!r} is not listed on the venues reachable now ({reasons}); "
                "try again once it is back."
            )
            raise VenueUnreachable(msg) from None


def left_out(directory: Listings, tokens: Sequence[str], now: float) -> str:
    """A note when ``all`` could not include an unreachable venue ("" otherwise)."""
    missing = directory.unreachable()
    if not missing or "all" not in (t.lower() for t in tokens):
        return ""
    reasons = "; ".join(unreachable_text(v, s, now) for v, s in sorted(missing.items()))
    return (
        f"⚠️ Not included: {esc(reasons)}. Create the monitor again once it is back to include it."
    )


def venue_down_notice(venue: Venue, reason: str, since: float, now: float, label: str = "") -> str:
    """Admin notice: a venue has been down for a while."""
    return (
        f"{_label(label)}🔴 <b>{esc(venue.value)} is down</b> since {at_utc(since, now)} "
        f"({fmt_span(now - since)}): {esc(reason)}. Retrying; monitors on it resume by themselves."
    )


def venue_recovered_notice(venue: Venue, since: float, now: float, label: str = "") -> str:
    """Admin notice: a venue reported down works again."""
    return (
        f"{_label(label)}🟢 <b>{esc(venue.value)} is back</b> after {fmt_span(now - since)} "
        f"(down since {at_utc(since, now)})."
    )


def crash_notice(pid: int | None, started: float | None, now: float) -> str:
    """Admin notice: this run follows one that did not stop cleanly."""
    who = f"pid {pid}" if pid else "an unknown process"
    when = f", started {at_utc(started, now)}" if started else ""
    return (
        f"⚠️ <b>The bot restarted after a crash</b>: the previous run ({who}{when}) did not "
        "stop cleanly. Saved monitors are restored; alerts due while it was down were not sent. "
        "See the log for the cause."
    )


def _label(label: str) -> str:
    return f"🧪 <b>{esc(label)}</b>\n" if label else ""


def state_notice(source: str, problems: Sequence[str]) -> str:
    """What admins are told when the state file could not be read as it was."""
    what = {
        "backup": "The state file was damaged: the previous version (backup) was loaded.",
        "none": "The state file and its backup were unreadable: the bot started EMPTY.",
    }.get(source, "The state file had problems.")
    details = "\n".join(f"• {esc(p[:300])}" for p in problems[:5])
    return f"⚠️ <b>{what}</b>\nThe damaged files were kept aside for inspection.\n{details}"


def dropped_notice(problems: Sequence[str]) -> str:
    """What admins are told when saved monitors could not be read back (dropped)."""
    details = "\n".join(f"• {esc(p[:300])}" for p in problems[:5])
    more = f"\n… and {len(problems) - 5} more (see the log)" if len(problems) > 5 else ""
    return (
        f"⚠️ <b>{len(problems)} saved monitor(s) were damaged and dropped</b> at start-up; "
        f"their owners are not told.\n{details}{more}"
    )
