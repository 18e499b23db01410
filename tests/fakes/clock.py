"""A clock that tests move by hand, so an hour of TTLs and quotas passes in a microsecond."""

from __future__ import annotations


class FakeClock:
    """A callable returning Unix epoch seconds that changes only when `advance` is called.

    Pass it wherever production code takes `clock: Callable[[], float]` (default `time.time`).
    `now` is public so a test may also set an absolute time.
    """

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        """Return the current fake time in Unix epoch seconds."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds`; time never runs backwards."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go back ({seconds} s)")
        self.now += seconds
