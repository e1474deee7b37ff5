"""Admins are told when the state file could not be read as it was."""

from __future__ import annotations

from goquant_bot.bot.availability import state_notice


def test_notice_for_a_backup_load_escapes_the_details() -> None:
    text = state_notice(
        "backup", ["data/state.json: unreadable (<garbage>); kept as state.json.corrupt-1"]
    )
    assert "backup" in text
    assert "&lt;garbage&gt;" in text
    assert "<garbage>" not in text


def test_notice_when_nothing_could_be_loaded_says_empty() -> None:
    assert "EMPTY" in state_notice("none", ["a", "b"])
