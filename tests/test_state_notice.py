"""Admins are told when the state file could not be read as it was."""

from __future__ import annotations

from goquant_bot.bot.availability import dropped_notice, state_notice


def test_notice_for_a_backup_load_escapes_the_details() -> None:
    text = state_notice(
        "backup", ["data/state.json: unreadable (<garbage>); kept as state.json.corrupt-1"]
    )
    assert "backup" in text
    assert "&lt;garbage&gt;" in text
    assert "<garbage>" not in text


def test_notice_when_nothing_could_be_loaded_says_empty() -> None:
    assert "EMPTY" in state_notice("none", ["a", "b"])


def test_notice_for_dropped_monitors_names_them_escaped() -> None:
    text = dropped_notice([f"invalid monitor m{i}: <bad>" for i in range(7)])
    assert text.startswith("⚠️ <b>7 saved monitor(s) were damaged and dropped</b>")
    assert "• invalid monitor m0: &lt;bad&gt;" in text
    assert "m5" not in text
    assert text.endswith("… and 2 more (see the log)")
