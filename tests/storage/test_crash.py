"""A sample of the crash proof (tests/storage/crash_harness.py): writers saving their state with
the real StateSaver, killed with SIGKILL at random moments, never lose an acknowledged change
nor leave a torn file. ``make bench`` runs the full 200 kills and prints the figures."""

from __future__ import annotations

from pathlib import Path

from tests.storage.crash_harness import run_kills

LANES = 4
KILLS_PER_LANE = 5


async def test_sigkill_at_random_moments_never_loses_an_acknowledged_change(
    tmp_path: Path,
) -> None:
    tally = await run_kills(tmp_path, lanes=LANES, kills_per_lane=KILLS_PER_LANE)
    assert tally.kills == LANES * KILLS_PER_LANE
    # The schedule did what it is for: lives outlast the window, and kills hit a save.
    assert tally.checked >= tally.kills // 4, tally
    assert tally.in_save >= 1, tally
