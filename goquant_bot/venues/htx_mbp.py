"""HTX market-by-price: one book's place in its push chain, and how long its snapshot
request may go unanswered."""

from __future__ import annotations

from typing import Any

SNAPSHOT_TIMEOUT_S = 10.0  # a req unanswered this long is sent again,
SNAPSHOT_TIMEOUT_MAX_S = 300.0  # twice as late each time in a row, up to this
MAX_BUFFERED = 100  # pushes kept while a snapshot is awaited (10 s of mbp.150)

Push = tuple[int, int, list[Any], list[Any]]  # prevSeqNum, seqNum, bids, asks


class Mbp:
    """One book's place in its push chain: ``seq`` is None until its snapshot arrived."""

    __slots__ = ("aligned", "asked_at", "buffer", "seq", "unanswered")

    def __init__(self, asked_at: float) -> None:
        self.seq: int | None = None
        self.aligned = False  # a push after the snapshot has been applied
        self.buffer: list[Push] = []
        self.asked_at = asked_at
        self.unanswered = 0  # reqs in a row left without an answer (e.g. a refused topic)

    def wait_s(self) -> float:
        """How long the current req may go unanswered before it is sent again."""
        return min(SNAPSHOT_TIMEOUT_S * 2**self.unanswered, SNAPSHOT_TIMEOUT_MAX_S)
