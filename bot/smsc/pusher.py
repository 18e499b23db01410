"""The simulated SMS Center's push sender: after each status change of an account's messages,
it calls the account's handler URL, signed as ``bot.smsc.push`` expects.

    pusher = StatusPusher(history_of(simulator, apikey), handler_url, clock=clock)
    pusher.start()          # listens to the history; a loop settles it and sends what changed
    ...
    await pusher.flush()    # tests: settle now and send everything queued
    await pusher.close()

``handler_url`` is the URL an admin pastes into SMS Center's settings:
``{PUBLIC_URL}/smsc/<account>?charset=utf-8&md5=<secret>`` (or ``sha1=``). The secret and the
hash are read from it, and taken out of the URL the push goes to; the signature travels in the
form body, in the same field (what SMS Center does with the URL's own field is not stated; the
bot accepts both). Fields of a status push: ``id``, ``phone``, ``status``, ``err``, ``ts``
(the Unix time of the change), ``cnt``, ``cost``, ``sender_id``, UTF-8.

``in_progress`` says whether statuses -1 and 0 are pushed (smsc-api.md leaves it open). A
failed push is not sent again: SMS Center publishes no retry rule, and the bot fills gaps from
history. The messages' statuses settle on the simulator's clock: the loop settles the history
every ``tick`` seconds of ``sleep``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bot.smsc.push import signed_fields, split_handler_url
from bot.smsc.records import History, as_int
from bot.smsc.simulator import SimulatedSmsc

logger = logging.getLogger(__name__)

IN_PROGRESS = frozenset({-1, 0})
TICK = 1.0


def history_of(simulator: SimulatedSmsc, apikey: str) -> History:
    """The simulated account's stored messages, whose ``listeners`` the pusher joins.

    Read through the simulator's own account lookup (a sibling module's private part): the
    simulator module stays as it is, at its size limit and in another engineer's hands."""
    return simulator._account(apikey).history


class StatusPusher:
    """Sends each status change of ``history``'s messages to a handler URL (see the module
    docstring)."""

    def __init__(
        self,
        history: History,
        handler_url: str,
        *,
        in_progress: bool = True,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        tick: float = TICK,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._history = history
        self.url, self._secret, self._algorithm = split_handler_url(handler_url)
        self.in_progress = in_progress
        self._clock = clock
        self._sleep = sleep
        self._tick = tick
        self._client = httpx.AsyncClient(timeout=timeout, transport=transport)
        self._queue: list[dict[str, str]] = []
        self._loop: asyncio.Task[None] | None = None
        self.sent: list[
            tuple[dict[str, str], int | None]
        ] = []  # fields, HTTP status (None: failed)

    def start(self) -> None:
        """Listen to the history and start the loop."""
        self.listen()
        self._loop = asyncio.create_task(self._run())

    def listen(self) -> None:
        """Listen to the history without the loop: the caller sends with ``flush`` (a
        benchmark's clock ticks)."""
        self._history.listeners.append(self._changed)

    def _changed(self, record: dict[str, Any]) -> None:
        status = as_int(record["status"])
        if status in IN_PROGRESS and not self.in_progress:
            return
        fields = {
            "id": str(record["id"]),
            "phone": str(record["phone"]),
            "status": str(status),
            "err": str(record.get("err", 0)),
            "ts": str(as_int(record.get("last_timestamp") or self._clock())),
            "cnt": str(record.get("sms_cnt", 1)),
            "cost": str(record.get("cost", "0")),
            "sender_id": str(record.get("sender", "")),
        }
        self._queue.append(signed_fields(fields, self._secret, self._algorithm))

    async def flush(self) -> None:
        """Settle the history at the clock's now and send every queued push, in order."""
        self._history.settle(self._clock())
        while self._queue:
            fields = self._queue.pop(0)
            try:
                response = await self._client.post(self.url, data=fields)
            except httpx.HTTPError as exc:
                logger.info("push to the handler failed: %s", type(exc).__name__)
                self.sent.append((fields, None))
                continue
            self.sent.append((fields, response.status_code))

    async def _run(self) -> None:
        while True:
            await self.flush()
            await self._sleep(self._tick)

    async def close(self) -> None:
        """Stop listening and the loop; close the HTTP client."""
        if self._changed in self._history.listeners:
            self._history.listeners.remove(self._changed)
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
            self._loop = None
        await self._client.aclose()
