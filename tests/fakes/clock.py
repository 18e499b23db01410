"""A clock that tests move by hand, so an hour of TTLs and quotas passes in a microsecond."""

from __future__ import annotations

import asyncio


class FakeClock:
    """A callable returning Unix epoch seconds that changes only when `advance` is called.

    Pass it wherever production code takes `clock: Callable[[], float]` (default `time.time`),
    and its `sleep` wherever it takes `sleep` (default `asyncio.sleep`): a sleeper wakes when
    `advance` moves the clock past its deadline, never on its own. `now` is public so a test may
    also set an absolute time.
    """

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        """Return the current fake time in Unix epoch seconds."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds`, waking the sleepers whose time has come."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go back ({seconds} s)")
        self.now += seconds
        waiting = []
        for deadline, future in self._sleepers:
            if deadline <= self.now:
                if not future.done():
                    future.set_result(None)
            elif not future.done():
                waiting.append((deadline, future))
        self._sleepers = waiting

    def advance_to(self, moment: float) -> None:
        """Move the clock forward to ``moment`` (not back: an earlier moment changes nothing)."""
        if moment > self.now:
            self.advance(moment - self.now)

    async def sleep(self, seconds: float) -> None:
        """Wait until the clock has been advanced by `seconds` (at once if not positive)."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, future))
        await future

    @property
    def sleepers(self) -> int:
        """How many sleepers are waiting (a test can wait for a task to reach its sleep)."""
        return sum(1 for _, future in self._sleepers if not future.done())
