"""Fuzzing the command layer: whatever comes in, no exception, an answer (group chatter aside),
replies within Telegram's limits, and the HTML well-formed with every user-supplied value escaped."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goquant_bot.bot.render import COMMANDS
from goquant_bot.bot.router import SORRY
from goquant_bot.bot.types import Caller, ChatType, Reply
from tests.bot.harness import ALICE, ALICE_IN_GROUP, BN, BOB, BOB_IN_GROUP, OK, Bot, buttons

_TAG = re.compile(r"</?(b|i|u|s|code|pre)>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NASTY = ["<b>", "</code>", "<zz>", "&", "&amp", "<script>alert(1)</script>", "\x00", "\u202e", "💥"]
WORDS = [
    "BTC-USDT", "eth/usdt", "SOL-USDT", "DOGE-USDT", "BTC-USDC", "XBT_USDT", "FOO-BAR", "all",
    "binance", "okx", "bybit", "deribit", "kraken", "0.3", "-1", "0", "75", "1e9", "nan", "5k",
    "size=5000", "size=", "min=10s", "once", "polled", "every=5s", "move=0.1", "dev=x",
    "threshold=0.4", "mode=once", "mute", "unmute", "snooze", "2h", "unsnooze", "quiet",
    "22:00", "07:00", "Europe/Paris", "Mars/Base", "digest", "off", "on", "fee", "cap",
    "cooldown", "silent", "m00001", "m00002", "f001", "yes", "ok", *NASTY,
]  # fmt: skip
COMMAND_NAMES = [c for c, _, _ in COMMANDS] + ["admin", "start@GoQuantBot", "nope", ""]
PREFIXES = ["c", "f", "m", "a", "g", "l", "q", "r", "zz", ""]
CALLERS = [
    ALICE,
    BOB,
    ALICE_IN_GROUP,
    BOB_IN_GROUP,
    Caller(99, 99, ChatType.PRIVATE, "<b>Root</b> & co", "root"),
]

words = st.one_of(st.sampled_from(WORDS), st.text(max_size=12))
command_lines = st.builds(
    lambda name, args: " ".join(["/" + name, *args]),
    st.sampled_from(COMMAND_NAMES),
    st.lists(words, max_size=6),
)
GOOD = [
    "/start", "/menu", "/monitor_arb", "/view_market", "/alerts", "/config", "/status_arb",
    "/status_market", "/stop_arb", "/stop_market", "/list_symbols", "/get_cbbo", "/threshold",
    "/monitor_arb BTC-USDT binance okx 0.3", "/view_market ETH-USDT", "/cancel", "BTC-USDT",
    "binance okx", "0.3", "yes", "/config quiet 22:00 07:00 Asia/Tokyo",
]  # fmt: skip
free_text = st.one_of(st.text(max_size=200), st.sampled_from(WORDS))
huge = st.builds(
    lambda word, n: "/monitor_arb " + word * n, st.sampled_from(WORDS), st.integers(500, 3000)
)
texts = st.one_of(st.sampled_from(GOOD), command_lines, free_text, huge)
forged = st.one_of(
    st.builds(
        lambda prefix, parts: ":".join([prefix, *parts]),
        st.sampled_from(PREFIXES),
        st.lists(words, max_size=4),
    ),
    st.text(max_size=100),
)
# An action: type a text, press forged data, or press the n-th button seen so far.
actions = st.lists(
    st.one_of(
        st.tuples(st.just("say"), texts, st.integers(0, len(CALLERS) - 1)),
        st.tuples(st.just("press"), forged, st.integers(0, len(CALLERS) - 1)),
        st.tuples(st.just("tap"), st.integers(0, 30), st.integers(0, len(CALLERS) - 1)),
    ),
    min_size=1,
    max_size=12,
)
# A walk through the buttons (mostly by their owner) between commands that show buttons.
walks = st.lists(
    st.one_of(
        st.tuples(st.just("say"), st.sampled_from(GOOD), st.just(0)),
        st.tuples(st.just("tap"), st.integers(0, 30), st.sampled_from([0, 0, 0, 0, 2, 1])),
        st.tuples(st.just("tap"), st.integers(0, 30), st.just(0)),
    ),
    min_size=5,
    max_size=25,
)


def check_html(text: str) -> None:
    """Only tags we emit, balanced; no raw '<', '>' or a bare '&' (user text is escaped)."""
    stack: list[str] = []
    for match in _TAG.finditer(text):
        tag = match[1]
        if match[0].startswith("</"):
            assert stack[-1:] == [tag], text
            stack.pop()
        else:
            stack.append(tag)
    assert not stack, text
    rest = _TAG.sub("", text)
    assert "<" not in rest, text
    assert ">" not in rest, text
    assert _ENTITY.sub("", rest).count("&") == 0, text


def check(replies: Sequence[Reply]) -> None:
    for reply in replies:
        assert 0 < len(reply.text) < 4096
        assert reply.text != SORRY
        check_html(reply.text)
        for button in buttons([reply]):
            assert 1 <= len(button.data.encode()) <= 64
            assert 0 < len(button.text) <= 64


def fresh_bot() -> Bot:
    bot = Bot(Path("/nonexistent"))
    bot.say("/monitor_arb BTC-USDT binance okx 0.3")
    bot.say("/view_market ETH-USDT", ALICE_IN_GROUP)
    bot.quote(BN, 99.9, 100.0)
    bot.quote(OK, 101.0, 101.1)
    return bot


@FUZZ
@given(actions)
def test_conversations_never_break(script: list[tuple[str, object, int]]) -> None:
    run(script)


@FUZZ
@given(walks)
def test_button_walks_never_break(script: list[tuple[str, object, int]]) -> None:
    run(script)


def run(script: list[tuple[str, object, int]]) -> None:
    bot = fresh_bot()
    seen: list[str] = []
    for kind, value, who in script:
        caller = CALLERS[who]
        if kind == "say":
            assert isinstance(value, str)
            views = len(bot.registry.monitors)
            out = bot.router.handle(caller, value)
            # Group chatter is not answered; a new market view answers with its live message.
            started_view = value.startswith("/view_market") and len(bot.registry.monitors) > views
            assert out or caller.is_group or started_view, value
        else:
            if kind == "tap":
                assert isinstance(value, int)
                if not seen:
                    continue
                value = seen[value % len(seen)]
            assert isinstance(value, str)
            answer, out = bot.router.press(caller, value)
            assert len(answer.text) <= 200
            assert "went wrong" not in answer.text
        check(out)
        seen += [b.data for b in buttons(out)]
        bot.now += 7


@FUZZ
@given(st.text(max_size=300))
def test_any_free_text_inside_a_flow_gets_a_reply(text: str) -> None:
    bot = fresh_bot()
    bot.say("/monitor_arb")
    out = bot.router.handle(ALICE, text)
    assert out
    check(out)


@FUZZ
@given(st.sampled_from(WORDS), st.sampled_from(NASTY))
def test_user_values_are_escaped_everywhere(word: str, nasty: str) -> None:
    bot = fresh_bot()
    for line in (
        f"/monitor_arb {nasty}{word} binance okx 0.3",
        f"/monitor_arb BTC-USDT {nasty} 0.3",
        f"/monitor_arb BTC-USDT binance okx {nasty}",
        f"/view_market BTC-USDT every={nasty}",
        f"/config quiet 22:00 07:00 {nasty}",
        f"/config {nasty} 1",
        f"/list_symbols {nasty}",
        f"/alerts mute {nasty}",
        f"/{nasty}",
    ):
        out = bot.router.handle(ALICE, line)
        assert out[0].text.startswith(("⚠️", "Unknown command")), (line, out)
        check(out)
        raw = nasty.strip("\x00\u202e")
        if raw and any(c in raw for c in "<>&"):
            problem = _ENTITY.sub("", out[0].text.splitlines()[0])  # it may echo the input
            assert raw not in problem
