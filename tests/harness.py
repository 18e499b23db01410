"""End-to-end harness: the real Dispatcher and a real ``Bot`` (as ``python -m bot`` builds them)
against the fake Telegram Bot API and the simulated SMS Center on 127.0.0.1.

The Bot reaches the fake Telegram in-process by default (``FakeBotApi.session()``: the same
fake, the same recorded calls, no HTTP); ``wire=True`` puts it behind real HTTP
(``FakeTelegramServer``) for what only the wire shows: retries of failed and dropped requests.
See tests/README.md for the trade-off.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession

from bot.app import Endpoint, Services, make_dispatcher, make_endpoint
from bot.chat.followups import EDIT_INTERVAL, FollowUps
from bot.chat.retry import RetryMiddleware
from bot.chat.telegram import make_bot
from bot.settings import Listen, Settings, load_settings
from bot.smsc.simulator import SimulatedSmsc
from bot.store import Storage
from bot.web.instruments import TelegramCallMetrics
from bot.web.server import bind
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegramServer, close_quickly
from tests.fakes.updates import callback_update, message_update

ROOT = Path(__file__).resolve().parent.parent
#: The API key of the simulated SMS Center's account (``tests.conftest``'s ``sim``).
API_KEY = "k3y-7c1d9e0b5a2f48e6b3d1c0a9f8e7d6c5"
ADMIN = 500
AGENT = 600
STRANGER = 700


class Harness:
    """One running bot: feed it update JSON, read what it sent to Telegram and asked SMS Center."""

    def __init__(
        self,
        settings: Settings,
        services: Services,
        dispatcher: Dispatcher,
        bot: Bot,
        telegram: FakeBotApi,
        smsc: SimulatedSmsc,
        clock: FakeClock,
    ) -> None:
        self.settings = settings
        self.services = services
        self.dispatcher = dispatcher
        self.bot = bot
        self.telegram = telegram
        self.smsc = smsc
        self.clock = clock
        self.retry_waits: list[float] = []  # the waits of the Bot's retries, in seconds

    async def feed(self, update: dict[str, Any]) -> None:
        """Handle one update to the end, as polling would."""
        self.telegram.observe_update(update)
        await self.dispatcher.feed_raw_update(self.bot, update)

    async def say(self, text: str, *, user_id: int = AGENT, **kwargs: Any) -> str:
        """Send ``text`` as ``user_id``; returns the texts the bot sent in answer, joined."""
        before = len(self.telegram.sent_texts())
        await self.feed(message_update(text, user_id=user_id, **kwargs))
        return "\n".join(self.telegram.sent_texts()[before:])

    async def press(self, data: str, *, message_id: int, user_id: int = AGENT, **kw: Any) -> None:
        """Press an inline button with callback ``data`` under the bot's message ``message_id``.

        As Telegram does, the press carries that message as it stands now (its text and
        dates), when the fake Telegram holds it.
        """
        update = callback_update(data, message_id=message_id, user_id=user_id, **kw)
        message = update["callback_query"]["message"]
        chat_id = int(message["chat"]["id"])
        for stored in self.telegram.messages_in(chat_id):
            if stored["message_id"] == message_id:
                for field in ("text", "date", "edit_date", "entities"):
                    if field in stored:
                        message[field] = stored[field]
        await self.feed(update)

    async def grant(self, *users: int, name: str = "main", apikey: str = API_KEY) -> None:
        """The admin registers the account ``name`` (if new) and grants it to ``users``
        (default: AGENT)."""
        if await self.services.storage.get_account(name) is None:
            await self.say(f"/addkey {name} {apikey}", user_id=ADMIN)
        for user_id in users or (AGENT,):
            await self.say(f"/grant {user_id} {name}", user_id=ADMIN)
            member = await self.services.storage.get_member(user_id)
            assert member is not None and member.account.name == name

    def last_markup(self) -> dict[str, Any]:
        """The inline keyboard of the bot's newest message."""
        calls = self.telegram.calls_of("sendMessage") + self.telegram.calls_of("editMessageText")
        markup: dict[str, Any] = calls[-1].params.get("reply_markup") or {}
        return markup

    @property
    def followups(self) -> FollowUps:
        """The answers still coming (edited when their data lands)."""
        followups: FollowUps = self.dispatcher["followups"]
        return followups

    async def settle(self, seconds: float = 0.0) -> None:
        """Move the clock by ``seconds`` and wait until every answer still coming has come."""
        for _ in range(20):
            await asyncio.sleep(0)  # the batch loops reach their sleeps
        self.clock.advance(seconds)
        # Edits in one chat are paced a second apart on the same clock: step it along.
        for _ in range(600):
            if not await self.followups.wait(within=0.05):
                return
            self.clock.advance(EDIT_INTERVAL)
        raise AssertionError(f"{len(self.followups)} answers still waiting after {seconds} s")

    async def stop_waiting(self) -> None:
        """What a shutdown does: waiting questions fail, their answers say so."""
        await self.services.fetcher.close()
        await self.followups.drain(within=10.0)
        await self.dispatcher["expiring"].close()  # a shown push secret is deleted

    def smsc_requests(self, script: str = "get") -> int:
        """How many requests of ``script`` reached SMS Center."""
        return self.smsc.count(script)


@asynccontextmanager
async def running_bot(
    tmp_path: Path,
    smsc: SimulatedSmsc,
    clock: FakeClock,
    *,
    wire: bool = False,
    database: Path | None = None,
    storage: Storage | None = None,
    gather: float = 0.0,
    **overrides: Any,
) -> AsyncIterator[Harness]:
    """Start a fake Telegram (over HTTP when ``wire``) and the bot's services; close everything
    afterwards. ``overrides`` are settings.

    ``storage``: an already prepared database to use instead of one at ``database``.
    """
    async with AsyncExitStack() as stack:
        telegram: FakeBotApi
        session: BaseSession | None
        if wire:
            server = await stack.enter_async_context(FakeTelegramServer(clock=clock))
            telegram, api_url, session = server, server.base_url, None
        else:
            telegram = FakeBotApi(clock=clock)
            api_url, session = "http://in-process.invalid", telegram.session()
        values: dict[str, Any] = {
            "bot_token": telegram.token,
            "telegram_api_url": api_url,
            "smsc_base_url": smsc.base_url,
            "database_path": database or tmp_path / "data" / "bot.sqlite3",
            "admin_ids": frozenset({ADMIN}),
            "smsc_timeout": 2.0,
        }
        values.update(overrides)
        settings = load_settings(None, **values)
        # The fetch layer lives in the fake clock's time; batched lookups gather nothing by
        # default, so a question's answer needs no clock move unless the budget holds it back.
        services = await Services.open(
            settings, clock=clock, sleep=clock.sleep, gather=gather, storage=storage
        )
        stack.push_async_callback(services.close)
        waits: list[float] = []

        async def wait(seconds: float) -> None:  # Telegram's retry waits, taken at once
            waits.append(seconds)
            await asyncio.sleep(0)

        retry = RetryMiddleware(sleep=wait)
        metrics = services.metrics
        bot = make_bot(
            telegram.token,
            api_url,
            retry=retry,
            session=session,
            around_retries=TelegramCallMetrics(metrics.telegram_calls, services.pulse, clock=clock),
            each_attempt=TelegramCallMetrics(metrics.telegram_attempts),
        )
        stack.push_async_callback(close_quickly, bot)
        harness = Harness(settings, services, make_dispatcher(services), bot, telegram, smsc, clock)
        harness.retry_waits = waits
        # Before the bot closes: waiting answers are told the bot stops, as at a real shutdown.
        stack.push_async_callback(harness.stop_waiting)
        yield harness


def bot_env(tmp_path: Path, **values: str) -> dict[str, str]:
    """A clean environment for ``python -m bot``: no inherited settings, data in tmp_path, no
    HTTP server unless ``HTTP_LISTEN`` is given (tests that want one bind a free port)."""
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "SYSTEMROOT"}}
    env["PYTHONPATH"] = str(ROOT)
    env["DATABASE_PATH"] = str(tmp_path / "data" / "bot.sqlite3")
    env["HTTP_LISTEN"] = "off"
    env.update(values)
    return env


async def start_polling(
    tmp_path: Path, telegram: FakeTelegramServer, smsc_url: str, **values: str
) -> asyncio.subprocess.Process:
    """Start ``python -m bot`` polling ``telegram`` and asking SMS Center at ``smsc_url``, with
    ADMIN as its admin; ``values`` are further settings. The caller stops it (SIGTERM)."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot",
        cwd=tmp_path,
        env=bot_env(
            tmp_path,
            BOT_TOKEN=telegram.token,
            TELEGRAM_API_URL=telegram.base_url,
            SMSC_BASE_URL=smsc_url,
            ADMIN_IDS=str(ADMIN),
            **values,
        ),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


def free_listen() -> tuple[socket.socket, str]:
    """A socket bound to a free port on 127.0.0.1 (the caller closes it) and its address."""
    sock = bind(Listen("127.0.0.1", 0))
    return sock, f"127.0.0.1:{sock.getsockname()[1]}"


@asynccontextmanager
async def serving(
    h: Harness, *, sock: socket.socket | None = None, webhook_secret: str | None = None
) -> AsyncIterator[Endpoint]:
    """The bot's HTTP server for harness ``h``, as ``run_bot`` builds it, on ``sock`` (a free
    port when None)."""
    if sock is None:
        sock, _ = free_listen()
    endpoint = make_endpoint(sock, h.services, h.dispatcher, h.bot, webhook_secret=webhook_secret)
    await endpoint.server.start()
    try:
        yield endpoint
    finally:
        await endpoint.server.close()
