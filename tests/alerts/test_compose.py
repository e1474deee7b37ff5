"""Message text: packing under 4096 characters, clipping, the plain-text fallback."""

from __future__ import annotations

from goquant_bot.alerts.compose import MAX_MESSAGE, clip, join, pack, plain_text, text_length


def test_plain_text_drops_tags_and_keeps_text_escaped() -> None:
    assert (
        plain_text("<b>BTC &lt;-&gt; ETH</b> at <i>1 &amp; 2</i>")
        == "BTC &lt;-&gt; ETH at 1 &amp; 2"
    )
    assert plain_text("<b>broken <i>markup</b") == "broken markup&lt;/b"


def test_pack_fits_as_many_as_one_message_holds() -> None:
    texts = ["x" * 1000] * 5
    assert pack(texts) == 4  # 4 x 1000 + 3 separators
    assert text_length(join(texts[:4])) <= MAX_MESSAGE
    assert pack(texts, reserved=200) == 3
    assert pack(["y" * 5000]) == 1  # one is always taken (clip keeps it within a message)


def test_length_counts_utf16_units() -> None:
    assert text_length("\N{ROCKET}") == 2
    assert text_length("é") == 1


def test_clip_cuts_an_oversized_alert_at_a_line() -> None:
    text = "\n".join(f"<b>line {i}</b> " + "z" * 80 for i in range(100))
    clipped = clip(text)
    assert text_length(clipped) <= MAX_MESSAGE
    assert clipped.endswith("\n…")
    assert "<b>" not in clipped
    assert clip("short") == "short"
