"""Where the metrics and the health report learn what happens, without rewriting what they
watch: each is a seam the composition root plugs in.

- ``CountingTransport``: an httpx transport around SMS Center's, handed to ``SmscClient``;
  counts each request by script and outcome (SMS Center's error answers by code) and times it;
- ``UpdateMetrics``: an update outer middleware of the dispatcher; counts updates by outcome,
  times them, and counts lookups by the origin of their answer (the outcome a lookup handler
  returns for the audit log);
- ``TelegramCallMetrics``: a Bot API session middleware, registered twice: outside the retry
  middleware (a call's final outcome) and inside it (every attempt, so retries and 429s show).

Each also tells the ``Pulse`` (``bot.web.health``) when Telegram or SMS Center last answered.
None of them reads a key: the SMS Center request body (which carries it) is never looked at,
only the URL's script name and the answer.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import httpx
from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject
from prometheus_client import Counter

from bot.web.health import Pulse
from bot.web.metrics import Metrics

if TYPE_CHECKING:
    from aiogram import Bot

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# SMS Center's scripts as labels: anything else is "other", so a label cannot grow.
_SCRIPTS = frozenset({"get", "status", "balance", "send", "cost", "jobs"})
# The origins a lookup handler reports (its audit outcome up to the first ':').
_ORIGINS = frozenset({"fresh", "cache", "stale", "pending", "pushed", "refused"})
_ERROR_CODE = re.compile(rb'"error_code"\s*:\s*(\d{1,3})')


def _script(url: httpx.URL) -> str:
    name = url.path.rsplit("/", 1)[-1].removesuffix(".php")
    return name if name in _SCRIPTS else "other"


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts and times every request that goes through ``inner`` (see the module docstring)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        metrics: Metrics,
        pulse: Pulse,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._inner = inner
        self._metrics = metrics
        self._pulse = pulse
        self._clock = clock

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through the inner transport, counting its outcome."""
        call = _script(request.url)
        started = time.perf_counter()
        try:
            response = await self._inner.handle_async_request(request)
            # SMS Center's bodies are small JSON: read here so that an error answer is known.
            body = await response.aread()
        except httpx.TimeoutException:
            self._count(call, "timeout", started)
            raise
        except httpx.ConnectError:
            self._count(call, "connect_error", started)
            raise
        except httpx.TransportError:
            self._count(call, "network_error", started)
            raise
        outcome = _outcome(response.status_code, body)
        self._count(call, outcome, started)
        self._pulse.smsc_answered(self._clock(), outcome)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=body,
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self._inner.aclose()

    def _count(self, call: str, outcome: str, started: float) -> None:
        self._metrics.smsc_requests.labels(call=call, outcome=outcome).inc()
        self._metrics.smsc_seconds.labels(call=call).observe(time.perf_counter() - started)


def _outcome(status: int, body: bytes) -> str:
    if status != 200:
        return f"http_{status}" if 100 <= status <= 599 else "http_other"
    found = _ERROR_CODE.search(body[:512])
    if found is None:
        return "ok"
    try:
        # Only a whole error object is SMS Center's error answer (a history never is one).
        parsed = json.loads(body)
    except ValueError:
        return "ok"
    return f"error_{int(found.group(1))}" if isinstance(parsed, dict) else "ok"


class UpdateMetrics(BaseMiddleware):
    """Counts and times each update, and lookups by the origin of their answer."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "handled"
            if isinstance(result, str):
                origin = result.partition(":")[0]
                if origin in _ORIGINS:
                    self._metrics.answers.labels(origin=origin).inc()
            return result
        finally:
            self._metrics.updates.labels(outcome=outcome).inc()
            self._metrics.update_seconds.observe(time.perf_counter() - started)


class TelegramCallMetrics(BaseRequestMiddleware):
    """Counts Bot API calls by outcome into ``counter`` (``Metrics.telegram_calls`` outside the
    retry middleware, ``Metrics.telegram_attempts`` inside it); tells the ``Pulse`` (when
    given) that Telegram answered."""

    def __init__(
        self,
        counter: Counter,
        pulse: Pulse | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._counter = counter
        self._pulse = pulse
        self._clock = clock

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Make the request; count how it ended."""
        try:
            response = await make_request(bot, method)
        except TelegramRetryAfter:
            self._end("too_many_requests", answered=True)
            raise
        except (TelegramServerError, ClientDecodeError):
            self._end("server_error", answered=False)
            raise
        except TelegramNetworkError:
            self._end("network_error", answered=False)
            raise
        except TelegramAPIError:
            self._end("refused", answered=True)  # Telegram answered: it said no
            raise
        self._end("ok", answered=True)
        return response

    def _end(self, outcome: str, *, answered: bool) -> None:
        self._counter.labels(outcome=outcome).inc()
        if answered and self._pulse is not None:
            self._pulse.telegram_answered(self._clock())
