"""What the simulated SMS Center answered: requests and error codes per script, counted at its
HTTP boundary, so a figure never depends on what the client believes happened."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.smsc.simulator import SimulatedSmsc

RATE_LIMITED = 9  # SMS Center's "too many requests"

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class SmscLog:
    """Counts every request and every error answer of one simulator.

    Attach it before the simulator starts (aiohttp freezes its middleware list then).
    """

    def __init__(self, sim: SimulatedSmsc) -> None:
        self.requests: Counter[str] = Counter()
        self.errors: Counter[tuple[str, int]] = Counter()
        sim.app.middlewares.append(self._observe)

    def count(self, script: str = "get") -> int:
        """Requests of ``script`` that reached SMS Center, refused ones included."""
        return self.requests[script]

    def refused(self, code: int, script: str = "get") -> int:
        """Answers of ``script`` with SMS Center's error ``code``."""
        return self.errors[(script, code)]

    @web.middleware
    async def _observe(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        response = await handler(request)
        script = request.path.rsplit("/", 1)[-1].removesuffix(".php")
        self.requests[script] += 1
        body = response.body if isinstance(response, web.Response) else None
        if isinstance(body, bytes) and body.lstrip().startswith(b"{"):
            charset = response.charset or "utf-8"
            answer = json.loads(body.decode(charset, errors="replace"))
            if isinstance(answer, dict) and "error_code" in answer:
                self.errors[(script, int(answer["error_code"]))] += 1
        return response
