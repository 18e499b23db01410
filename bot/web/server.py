"""The bot's one HTTP server (``HTTP_LISTEN``): its socket, its lifecycle and its access log.

The socket is bound first, before the database or Telegram is touched, so a port in use stops
the start with one line (``ListenError``) and leaves nothing behind. The routes are added by
the composition root once the dispatcher exists; ``start()`` then serves them on that socket.

Shutdown comes in two steps: ``stop_accepting()`` closes the listening socket (the first thing
SIGTERM does), so that what is in flight can finish while nothing new arrives; ``close()``
then ends the open connections (waiting up to ``SHUTDOWN_GRACE`` seconds for their answers).

The access log names the method, the path, the status and the time: never the query string (a
push URL carries its signature there) nor the Referer or any header.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from bot.settings import Listen

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("bot.web.access")

# Seconds open connections get at shutdown to finish their answers.
SHUTDOWN_GRACE = 5.0
# The most a request body may be: a Telegram update or a status push is a few kilobytes.
MAX_BODY = 256 * 1024


class ListenError(Exception):
    """The server cannot listen where ``HTTP_LISTEN`` says; ``str()`` is the one line."""


class PathOnlyAccessLog(AbstractAccessLogger):
    """One line per request: remote address, method, path (no query string), status, time."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Write the line at INFO (DEBUG for /healthz and /metrics: polled every few seconds)."""
        level = logging.DEBUG if request.path in ("/healthz", "/metrics") else logging.INFO
        self.logger.log(
            level,
            '%s "%s %s" %d %.1f ms',
            request.remote or "-",
            request.method,
            request.path,
            response.status,
            time * 1000,
        )


def bind(listen: Listen) -> socket.socket:
    """A TCP socket bound to ``listen`` (not yet listening); ``ListenError`` naming
    ``HTTP_LISTEN`` when the address is in use, unknown or not allowed."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            listen.host, listen.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (OSError, UnicodeError) as exc:
        raise ListenError(f"HTTP_LISTEN: cannot listen on {listen}: unknown host") from exc
    sock = socket.socket(family, kind, proto)
    try:
        # A restart must not wait for the old connections' TIME_WAIT; a port another
        # process listens on is still refused.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise ListenError(f"HTTP_LISTEN: cannot listen on {listen}: {reason}") from None
    return sock


class HttpServer:
    """An aiohttp application served on a socket bound in advance (``bind``)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.app = web.Application(client_max_size=MAX_BODY)
        self._runner: web.AppRunner | None = None
        self._site: web.SockSite | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The host and port the socket is bound to (the port the OS chose for port 0)."""
        host, port = self._sock.getsockname()[:2]
        return str(host), int(port)

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the socket, for tests and the log."""
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def add_routes(self, routes: list[web.RouteDef]) -> None:
        """Serve ``routes`` (before ``start``)."""
        self.app.add_routes(routes)

    async def start(self) -> None:
        """Start serving the routes on the socket."""
        runner = web.AppRunner(
            self.app,
            access_log_class=PathOnlyAccessLog,
            access_log=access_logger,
            shutdown_timeout=SHUTDOWN_GRACE,
            handle_signals=False,
        )
        await runner.setup()
        self._runner = runner
        site = web.SockSite(runner, self._sock)
        await site.start()
        self._site = site
        logger.info("HTTP server listening on %s", self.base_url)

    async def stop_accepting(self) -> None:
        """Close the listening socket: requests in flight finish, no new connection comes."""
        if self._site is not None:
            site, self._site = self._site, None
            await site.stop()

    async def close(self, *_: Any) -> None:
        """Stop accepting, end the open connections, close the socket; twice is harmless."""
        await self.stop_accepting()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        self._sock.close()
