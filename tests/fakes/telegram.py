"""A fake Telegram Bot API server: real HTTP on 127.0.0.1, for a real aiogram `Bot` to talk to.

    async with FakeTelegramServer() as telegram:
        bot = telegram.make_bot()      # Bot(token, session=AiohttpSession(api=…from_base(url)))
        telegram.push_update(message_update("/start"))   # delivered through getUpdates
        status = await telegram.post_to_webhook(message_update("/start"))  # after setWebhook
        ...
        await close_quickly(bot)

The server is a `FakeBotApi` (`tests.fakes.bot_api`: what is served, recorded and scripted)
behind aiohttp: requests are decoded by `tests.fakes.api_params.read_params`, error answers
are Telegram's JSON (or a scripted verbatim body), and `disconnect_next` drops the connection.
Use it where the wire matters: long polling, retries of failed requests, a separate process
(`python -m bot`), the encoding of requests. Elsewhere `FakeBotApi.session()` answers the same
calls in-process, faster.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any, Self

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import ClientSession, ClientTimeout, web

from bot.chat.session import BotApiError
from tests.fakes.api_params import read_params
from tests.fakes.bot_api import ConnectionDropped, FakeBotApi
from tests.fakes.updates import next_update_id

__all__ = ["FakeTelegramServer", "close_quickly"]

logger = logging.getLogger(__name__)


class FakeTelegramServer(FakeBotApi):
    """A `FakeBotApi` on 127.0.0.1 (OS-chosen port).

    `start()` (or `async with`) binds it; point a `Bot` at `base_url` (or use `make_bot`).
    Keyword arguments are `FakeBotApi`'s (token, bot identity, clock).
    """

    def __init__(self, **identity: Any) -> None:
        super().__init__(**identity)
        self._base_url: str | None = None
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>`; the Bot API lives at `{base_url}/bot{token}/{method}`."""
        if self._base_url is None:
            raise RuntimeError("the fake Telegram server is not started")
        return self._base_url

    async def start(self) -> str:
        """Listen on 127.0.0.1 on a free port; return `base_url`."""
        if self._runner is not None:
            raise RuntimeError("the fake Telegram server is already started")
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._unknown_path)
        # Waiting long polls are woken on stop, so a short shutdown timeout only guards bugs.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._closing = False
        host, port = runner.addresses[0][:2]
        self._base_url = f"http://{host}:{port}"
        logger.debug("fake Telegram listening on %s", self._base_url)
        return self._base_url

    async def stop(self) -> None:
        """Answer every waiting long poll (with no updates) and close the listener."""
        self.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def api_server(self) -> TelegramAPIServer:
        """aiogram's description of this server, for `AiohttpSession(api=...)`."""
        return TelegramAPIServer.from_base(self.base_url)

    def make_bot(self, token: str | None = None, **kwargs: Any) -> Bot:
        """A real aiogram `Bot` talking to this server over HTTP; the caller closes it
        (`close_quickly`)."""
        session = AiohttpSession(api=self.api_server())
        return Bot(token or self.token, session=session, **kwargs)

    async def post_to_webhook(
        self,
        update: dict[str, Any],
        *,
        secret_token: str | None = None,
        without_secret: bool = False,
        url: str | None = None,
    ) -> int:
        """POST `update` to the webhook as Telegram does; return the HTTP status answered.

        The URL and secret are those of the last setWebhook, unless given; `without_secret`
        sends no `X-Telegram-Bot-Api-Secret-Token` header. The update's chats and messages
        become known to the fake, as with `push_update`.
        """
        target = url if url is not None else self.webhook_url
        if not target:
            raise RuntimeError("no webhook is set")
        if "update_id" not in update:
            update["update_id"] = next_update_id()
        self.observe_update(update)
        secret = self.webhook_secret if secret_token is None else secret_token
        headers = {}
        if secret is not None and not without_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        async with (
            ClientSession(timeout=ClientTimeout(total=10)) as client,
            client.post(target, json=update, headers=headers) as response,
        ):
            await response.read()
            return response.status

    # -- HTTP ----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = self.canonical(request.match_info["method"])
        try:
            params = await read_params(request)
        except BotApiError as error:
            return _error_response(self._fail(method, {}, error))
        try:
            result = await self.call(request.match_info["token"], method, params)
        except ConnectionDropped:
            if request.transport is not None:
                request.transport.abort()
            # Nobody reads this: the socket is gone, and the client sees a disconnect.
            return web.Response(status=500)
        except BotApiError as error:
            return _error_response(error)
        return web.json_response({"ok": True, "result": result})

    async def _unknown_path(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )


def _error_response(error: BotApiError) -> web.Response:
    content_type = "text/html" if error.raw_body is not None else "application/json"
    return web.Response(status=error.status, text=error.body(), content_type=content_type)


async def close_quickly(bot: Bot) -> None:
    """Close `bot`'s session without aiogram's 0.25 s wait for TLS connections to drain: the
    fake speaks plain HTTP on 127.0.0.1, so closing the client session is all there is to do."""
    session = bot.session
    if isinstance(session, AiohttpSession) and session._session is not None:
        await session._session.close()
    await session.close()
