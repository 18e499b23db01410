"""Passing verified pushes on to another system of the account's owner (``/push NAME relay URL``).

SMS Center calls one handler URL per account; when another system already used it, the admin
pastes that system's whole handler URL into ``/push NAME relay URL``, and every push the bot
verified is passed on to it, re-signed with that system's secret (its ``md5=``/``sha1=`` field
picks the hash, ``bot.smsc.push.signed_fields``), UTF-8 with ``charset=utf-8``, as a form POST
to the URL without the secret.

In the background: the 200 to SMS Center never waits for it, and the push is the bot's
whatever happens here. Each attempt has ``timeout`` seconds; a failed one (no answer, or not a
2xx) is tried again after 1 s, then 2 s, ``attempts`` in all, then dropped and counted. The
log names the outcome and the host, never the URL's query (it carries the secret).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlsplit

import httpx

from bot.smsc.push import signed_fields, split_handler_url
from bot.web.metrics import Metrics

logger = logging.getLogger(__name__)

RELAY_TIMEOUT = 5.0
RELAY_ATTEMPTS = 3


class Relay:
    """Verified pushes on their way to other systems (see the module docstring)."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        timeout: float = RELAY_TIMEOUT,
        attempts: int = RELAY_ATTEMPTS,
        pause: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._metrics = metrics
        self._attempts = attempts
        self._pause = pause
        self._sleep = sleep
        self._client = httpx.AsyncClient(timeout=timeout, transport=transport)
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def pass_on(self, account: str, handler_url: str, fields: Mapping[str, str]) -> None:
        """Send ``fields`` (decoded text, without the signature) to ``handler_url`` in the
        background."""
        task = asyncio.create_task(self._send(account, handler_url, dict(fields)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, account: str, handler_url: str, fields: dict[str, str]) -> None:
        try:
            url, secret, algorithm = split_handler_url(handler_url)
        except ValueError:
            self._count(account, "bad_url")
            return
        body = signed_fields(fields, secret, algorithm)
        host = urlsplit(url).netloc
        for attempt in range(self._attempts):
            if attempt:
                await self._sleep(self._pause * 2 ** (attempt - 1))
            try:
                response = await self._client.post(url, data=body)
            except httpx.HTTPError as exc:
                reason = type(exc).__name__
            else:
                if 200 <= response.status_code < 300:
                    self._count(account, "ok")
                    return
                reason = f"HTTP {response.status_code}"
            logger.info("relaying a push of %s to %s failed (%s)", account, host, reason)
        self._count(account, "failed")
        logger.warning("a push of %s was not relayed to %s after %d tries", account, host,
                       self._attempts)  # fmt: skip

    def _count(self, account: str, outcome: str) -> None:
        self._metrics.relays.labels(account=account, outcome=outcome).inc()

    async def wait(self, within: float) -> int:
        """Wait up to ``within`` seconds for pushes on their way; how many are left."""
        pending = set(self._tasks)
        if pending:
            await asyncio.wait(pending, timeout=within)
        return len(self._tasks)

    async def close(self, within: float = 3.0) -> None:
        """Let pushes on their way finish for ``within`` seconds, cancel the rest, close."""
        left = set(self._tasks)
        if left:
            _, late = await asyncio.wait(left, timeout=within)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self._client.aclose()
