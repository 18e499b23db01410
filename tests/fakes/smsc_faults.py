"""The simulated SMS Center with fault switches: HTTP errors, malformed bodies, forced error
codes, slow answers and a refused connection, for tests only.

``FaultySmsc`` is ``bot.smsc.simulator.SimulatedSmsc`` plus ``faults`` (a :class:`Faults`, all
off by default) and :meth:`FaultySmsc.refuse` / :meth:`FaultySmsc.resume`. It uses the
simulator's two extension seams: ``intercept`` (a canned answer instead of SMS Center's) and
``hold`` (a delay while the request counts as in flight).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from types import MappingProxyType
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from aiohttp import web

from bot.smsc.simulator import SimulatedSmsc
from bot.smsc.wire import Reply

MalformedKind = Literal["html", "truncated", "wrong_shape", "bad_types"]
_MALFORMED_KINDS: Final = frozenset({"html", "truncated", "wrong_shape", "bad_types"})


@dataclass
class Faults:
    """Switches that make the simulator misbehave; all off by default.

    Precedence when several are set: ``http_status``, then ``malformed``, then ``error_code``.
    ``delay`` applies on its own too: a normal answer comes after the sleep, and the request
    counts as in flight meanwhile (what the concurrency limits see). A faulted answer never
    touches accounts, quotas or the IP block. ``only`` restricts every switch to one script;
    ``times`` switches all faults off after that many affected requests (``None``: until reset).
    """

    http_status: int | None = None
    malformed: MalformedKind | None = None
    error_code: int | None = None
    delay: float = 0.0
    only: str | None = None
    times: int | None = None

    def applies_to(self, script: str) -> bool:
        """Whether any switch is on for ``script``."""
        if self.only is not None and self.only != script:
            return False
        return self.replaces_answer() or self.delay > 0

    def replaces_answer(self) -> bool:
        """Whether the answer is canned (an HTTP error, a broken body or a forced error code)."""
        return (
            self.http_status is not None
            or self.malformed is not None
            or self.error_code is not None
        )


# What a request met: the faults in force when it arrived, for its hold() to see.
_MET: Final = web.RequestKey("smsc_faults", Faults)


class FaultySmsc(SimulatedSmsc):
    """A :class:`SimulatedSmsc` whose answers ``faults`` can break, delay or replace, and whose
    port :meth:`refuse` can close and :meth:`resume` reopen."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.faults = Faults()
        self._refused: tuple[str, int] | None = None

    async def intercept(
        self, script: str, request: web.Request, reply: Reply
    ) -> web.StreamResponse | None:
        """The canned answer ``faults`` asks for (after its delay); else note the delay."""
        faults = self._take_faults(script)
        if faults is None:
            return None
        if not faults.replaces_answer():
            request[_MET] = faults
            return None
        if faults.delay > 0:
            await asyncio.sleep(faults.delay)
        return _faulted(faults, script, reply)

    async def hold(self, script: str, request: web.Request) -> None:
        """Sleep the delay the request met, while it counts as in flight."""
        faults = request.get(_MET)
        if faults is not None and faults.delay > 0:
            await asyncio.sleep(faults.delay)

    def _take_faults(self, script: str) -> Faults | None:
        """A copy of the faults in force for one request of ``script``; counts ``times`` down."""
        faults = self.faults
        if not faults.applies_to(script):
            return None
        if faults.malformed is not None and faults.malformed not in _MALFORMED_KINDS:
            raise ValueError(f"unknown malformed kind {faults.malformed!r}")
        if faults.times is not None:
            faults.times -= 1
            if faults.times <= 0:
                self.faults = Faults()
        return dataclasses.replace(faults)

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the server, also while :meth:`refuse` keeps it closed."""
        if self._refused is not None:
            host, port = self._refused
            return f"http://{host}:{port}"
        return super().base_url

    async def refuse(self) -> None:
        """Close the listening socket and open connections: clients get "connection refused"."""
        address = urlsplit(self.base_url)
        assert address.hostname is not None and address.port is not None
        self._refused = (address.hostname, address.port)
        await self.stop()

    async def resume(self) -> str:
        """Listen again on the port :meth:`refuse` closed and return the base URL."""
        if self._refused is None:
            return self.base_url
        host, port = self._refused
        self._refused = None
        return await self.start(host, port)


_TRUNCATED: Final[Mapping[str, str]] = MappingProxyType(
    {
        "get": '[{"status":1,"last_date":"24.11.2025 10:15:02","last_timestamp":17639',
        "status": '{"status":1,"last_date":"24.11.20',
        "balance": '{"balance":"18',
    }
)
_WRONG_SHAPE: Final[Mapping[str, Any]] = MappingProxyType(
    {
        "get": {"status": 1, "phone": "79161234567", "message": "an object, not an array"},
        "status": [{"status": 1, "err": 0}],
        "balance": "1843.20",
    }
)
_BAD_TYPES: Final[Mapping[str, Any]] = MappingProxyType(
    {
        "get": [
            {
                "status": "abc",
                "last_date": 20251124,
                "last_timestamp": "yesterday",
                "err": "none",
                "send_date": None,
                "send_timestamp": "abc",
                "phone": ["79161234567"],
                "cost": {"rub": 1},
                "sms_cnt": "many",
                "id": "x",
                "int_id": "abc",
                "message": 42,
            }
        ],
        "status": {"status": "abc", "last_date": 5, "last_timestamp": "x", "flag": 0, "err": "?"},
        "balance": {"balance": "abc"},
    }
)


def _faulted(faults: Faults, script: str, reply: Reply) -> web.Response:
    if faults.http_status is not None:
        return web.Response(
            text=_html_page(faults.http_status), status=faults.http_status, content_type="text/html"
        )
    if faults.malformed == "html":
        return web.Response(text=_html_page(503), content_type="text/html")
    if faults.malformed == "truncated":
        return reply.body(_TRUNCATED[script], "application/json")
    if faults.malformed == "wrong_shape":
        return reply.body(json.dumps(_WRONG_SHAPE[script]), "application/json")
    if faults.malformed == "bad_types":
        return reply.body(json.dumps(_BAD_TYPES[script]), "application/json")
    assert faults.error_code is not None
    return reply.error(faults.error_code)


def _html_page(status: int) -> str:
    """An error page as the nginx in front of SMS Center would send it."""
    try:
        title = f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        title = str(status)
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
