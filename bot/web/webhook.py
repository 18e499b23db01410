"""Telegram's webhook: ``POST /telegram`` through aiogram's ``SimpleRequestHandler``.

A request without the secret token given to ``setWebhook``, or with another one, gets 401 and
reaches no handler (aiogram compares in constant time). A good one is answered at once and its
update handled in the background, as aiogram does with ``handle_in_background``.

What aiogram leaves out, and this adds:

- the background tasks are tracked here, and ``drain`` waits for them: aiogram's
  ``SimpleRequestHandler`` lets them run unobserved, so a shutdown would cut an answer short;
- once ``drain`` has begun, a late request gets 503 (Telegram delivers it again later), so no
  update starts after the dispatcher's shutdown;
- closing the handler does not close the Bot's session: the composition root owns the Bot.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram"


def new_secret_token() -> str:
    """A fresh ``secret_token`` for ``setWebhook`` (Telegram allows 1-256 of ``A-Za-z0-9_-``).

    One per start: the webhook is set again at each start, and a secret that lived only in
    this process cannot leak from a file."""
    return secrets.token_urlsafe(48)


class TelegramWebhook(SimpleRequestHandler):
    """``POST /telegram`` for one Bot; updates are fed to ``dispatcher`` in tracked tasks."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        *,
        secret_token: str,
        on_update: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(dispatcher, bot, handle_in_background=True, secret_token=secret_token)
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self._on_update = on_update

    def route(self) -> web.RouteDef:
        """The route to add to the server."""
        return web.post(WEBHOOK_PATH, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        """401 without the right secret; 503 once shutting down; else 200 and the update runs."""
        if self._closing:
            return web.Response(status=503, text="shutting down")
        return await super().handle(request)

    async def _handle_request_background(self, bot: Bot, request: web.Request) -> web.Response:
        # aiogram's own version, with the task kept until it ends (see the module docstring).
        try:
            update = await request.json(loads=bot.session.json_loads)
        except ValueError:
            return web.Response(status=400, text="not JSON")
        if self._on_update is not None:
            self._on_update()
        task = asyncio.create_task(self._background_feed_update(bot=bot, update=update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response({}, dumps=bot.session.json_dumps)

    async def drain(self, within: float) -> int:
        """Refuse new updates, wait up to ``within`` seconds for those in flight; return how
        many were still running (they are cancelled)."""
        self._closing = True
        if not self._tasks:
            return 0
        _, still = await asyncio.wait(set(self._tasks), timeout=within)
        for task in still:
            task.cancel()
        return len(still)

    async def close(self) -> None:
        """Nothing to close: the composition root closes the Bot's session."""
