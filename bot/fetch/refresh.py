"""Status refresh off the history budget: ``status.php`` for messages whose status can change.

The account picture holds a number's newest message as of its last history request; while that
message's status can still change (waiting to be sent, passed to the operator), ``status.php``
tells its current status without spending one of the hour's 30 history requests. What SMS Center
publishes of ``status.php``'s limits (smsc-api.md) and how this module keeps within them:

- more than five status requests for the same message in a minute → each message is refreshed
  at most once per ``CACHE_TTL`` (at least 20 s), counted from when its status was last seen;
- more than one multi-message request a minute → the messages waiting go together in one
  multi-message request (at most ``MAX_IDS``), and the next one waits out the minute;
- five or more simultaneous requests under one login → one status request per account at a
  time, through the account's gate shared with history requests;
- frequent status checks can get the IP blocked (error 4) → error 4 pauses every account on this
  host for 30 minutes (``AccountBudget.backoff``); error 9 pauses this account's refreshes for
  a minute, doubling.

A refresh that fails leaves the picture as it was: the answer keeps the status it had, with its
age. Status -3 ("message not found") for a message the picture holds changes nothing and is not
asked again within ``CACHE_TTL``. A refresh updates the status of the message it names only; it
never tells whether a newer message went to the number, so the number still joins the next
history batch when its newest message is older than ``CACHE_TTL``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final, Protocol

from bot.fetch.picture import AccountPicture, Held
from bot.smsc import (
    SmscApiError,
    SmscClient,
    SmscError,
    SmscIPBlocked,
    SmscRateLimited,
)
from bot.smsc.codes import Phase, status_code

logger = logging.getLogger(__name__)

__all__ = ["MAX_IDS", "MULTI_INTERVAL", "StatusRefresher", "can_change"]

# Messages in one multi-message status.php request. SMS Center publishes no cap; a hundred ids
# keep the request body small (about 2 KB).
MAX_IDS: Final = 100
# SMS Center answers error 9 to more than one multi-message request a minute.
MULTI_INTERVAL: Final = 60.0
# After error 9 on status.php, refreshes of the account pause this long, doubling up to PAUSE_MAX.
PAUSE_FIRST: Final = 60.0
PAUSE_MAX: Final = 3600.0


def can_change(held: Held) -> bool:
    """Whether the message's status can still change (waiting, passed to the operator)."""
    status = held.entry.status
    return status is not None and status_code(status).phase is Phase.PENDING


class RefreshBudget(Protocol):
    """What the refresher needs of the account budget (``AccountBudget`` is one)."""

    async def backoff(self, key_id: str, error: SmscApiError) -> float: ...

    def host_blocked_until(self) -> float: ...

    def gate(self, key_id: str) -> asyncio.Semaphore: ...


class RefreshAccount(Protocol):
    """The identity and key of the account a refresh is asked with."""

    @property
    def key_id(self) -> str: ...

    @property
    def apikey(self) -> str: ...


@dataclass
class _Queue:
    """One account's messages waiting for a status refresh, and its pacing."""

    waiting: dict[tuple[str, int], asyncio.Future[None]] = field(default_factory=dict)
    tried: dict[tuple[str, int], float] = field(default_factory=dict)  # last asked at
    last_multi: float = float("-inf")
    paused_until: float = 0.0
    pause_step: float = 0.0
    loop: asyncio.Task[None] | None = None


class StatusRefresher:
    """Refreshes held messages' statuses with ``status.php`` (see the module docstring)."""

    def __init__(
        self,
        client: SmscClient,
        budget: RefreshBudget,
        picture: Callable[[str], AccountPicture],
        *,
        ttl: float,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._client = client
        self._budget = budget
        self._picture = picture
        self._ttl = ttl
        self._clock = clock
        self._sleep = sleep
        self._queues: dict[str, _Queue] = {}
        self._stopping = False

    def due(self, key_id: str, held: Held) -> bool:
        """Whether ``held`` may be refreshed now: its status can change and was last seen (or
        asked for) ``CACHE_TTL`` ago or more."""
        if not can_change(held) or held.entry.id is None or not held.entry.phone:
            return False
        now = self._clock()
        queue = self._queues.get(key_id)
        tried = queue.tried.get((held.entry.phone, held.entry.id)) if queue else None
        last = max(held.seen_at, tried if tried is not None else float("-inf"))
        return now - last >= self._ttl

    def refresh(self, account: RefreshAccount, held: Held) -> tuple[asyncio.Future[None], float]:
        """Queue ``held``'s message for the account's next status request; the future resolves
        when the picture has its answer (or the request failed: the picture is unchanged), and
        the request goes at the time returned beside it (now, or when a pause or the minute of
        multi-message requests ends)."""
        queue = self._queues.setdefault(account.key_id, _Queue())
        assert held.entry.id is not None
        key = (held.entry.phone, held.entry.id)
        future = queue.waiting.get(key)
        if future is None:
            future = queue.waiting[key] = asyncio.get_running_loop().create_future()
        if self._stopping:
            self._settle(queue, [key])
        elif queue.loop is None or queue.loop.done():
            queue.loop = asyncio.create_task(
                self._run(account, queue), name=f"status-{account.key_id[:8]}"
            )
        return future, self._next_at(queue)

    def _next_at(self, queue: _Queue) -> float:
        """When the account's next status request may go."""
        at = max(self._clock(), queue.paused_until, self._budget.host_blocked_until())
        if len(queue.waiting) > 1:
            at = max(at, queue.last_multi + MULTI_INTERVAL)
        return at

    async def close(self) -> None:
        """Stop every loop; waiting refreshes resolve with the picture unchanged."""
        self._stopping = True
        for queue in self._queues.values():
            if queue.loop is not None:
                queue.loop.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await queue.loop
            self._settle(queue, list(queue.waiting))

    # --- the loop ---------------------------------------------------------------------------

    async def _run(self, account: RefreshAccount, queue: _Queue) -> None:
        try:
            while queue.waiting and not self._stopping:
                now = self._clock()
                at = self._next_at(queue)
                if at > now:
                    await self._sleep(at - now)
                    continue
                keys = list(queue.waiting)[:MAX_IDS]
                await self._ask(account, queue, keys)
        except asyncio.CancelledError:
            raise
        except Exception:  # never leave a waiter hanging
            logger.exception("status refresh of account %s failed", account.key_id[:8])
            self._settle(queue, list(queue.waiting))

    async def _ask(
        self, account: RefreshAccount, queue: _Queue, keys: list[tuple[str, int]]
    ) -> None:
        at = self._clock()
        for key in keys:
            queue.tried[key] = at
        if len(keys) > 1:
            queue.last_multi = at
        try:
            async with self._budget.gate(account.key_id):
                answers = await self._client.statuses(account.apikey, keys)
        except SmscRateLimited:
            queue.pause_step = min(PAUSE_MAX, max(PAUSE_FIRST, queue.pause_step * 2))
            queue.paused_until = self._clock() + queue.pause_step
            logger.warning(
                "status.php refused account %s (error 9); refreshes pause %.0f s",
                account.key_id[:8],
                queue.pause_step,
            )
        except SmscIPBlocked as exc:
            seconds = await self._budget.backoff(account.key_id, exc)
            logger.warning(
                "status.php answered error 4 (IP blocked): every account pauses %.0f s", seconds
            )
        except SmscError as exc:
            logger.info("status refresh of account %s failed: %s", account.key_id[:8], exc)
        else:
            queue.pause_step = 0.0
            picture = self._picture(account.key_id)
            for answer in answers:
                if answer.found:
                    picture.learn_status(answer.entry, at=at)
        finally:
            self._settle(queue, keys)
        self._forget_old(queue)

    def _settle(self, queue: _Queue, keys: list[tuple[str, int]]) -> None:
        for key in keys:
            future = queue.waiting.pop(key, None)
            if future is not None and not future.done():
                future.set_result(None)

    def _forget_old(self, queue: _Queue) -> None:
        """Attempts older than ``CACHE_TTL`` no longer hold a message back: forget them."""
        now = self._clock()
        for key in [k for k, at in queue.tried.items() if now - at >= self._ttl]:
            del queue.tried[key]
