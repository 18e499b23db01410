"""The one composition root: builds the store, the SMS Center client, the fetch layer and the
dispatcher, and runs them as the Telegram bot (long polling) or the console.

This is the only module of ``bot/`` that imports ``handlers/``. The Telegram bot, the console
and every end-to-end test build one ``Services`` and hand its parts to the Dispatcher as
workflow data (``Dispatcher(**services.workflow_data())``), so handlers receive them by
parameter name and nothing lives in module-level globals.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx
from aiogram import Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError
from aiogram.utils.token import TokenValidationError

from bot.chat.caller import CallerMiddleware
from bot.chat.chat_bound import ChatBound
from bot.chat.console import run_console
from bot.chat.followups import FollowUps
from bot.chat.telegram import make_bot
from bot.demo import demo_smsc, prepare_demo_account
from bot.fetch import HOUR, Fetcher
from bot.settings import Settings
from bot.smsc import SmscClient
from bot.store import KeyCipher, Storage, insecure_permissions
from bot.text import Lang
from handlers import account, admin, errors, lookup
from handlers.menu import register_menu
from handlers.middleware import EditsAsNew, InFlight

logger = logging.getLogger(__name__)


@dataclass
class Services:
    """Settings, storage, SMS Center client and fetch layer of one bot process."""

    settings: Settings
    storage: Storage
    fetcher: Fetcher
    smsc: SmscClient
    clock: Callable[[], float] = field(default=time.time)
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        gather: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        storage: Storage | None = None,
    ) -> Services:
        """Open the database (creating the key file if needed) and the SMS Center client.

        ``clock`` and ``sleep`` are the time the fetch layer lives in (tests pass a fake clock's);
        ``gather`` is how long a batched lookup waits for the questions of the same moment
        (``BATCH_GATHER`` when None).
        ``transport`` and ``storage`` replace the real ones, as the fault tests do (an HTTP
        transport, a database over a connection that fails on cue); ``close()`` closes them.
        """
        if storage is None:
            encryption_key = (
                settings.encryption_key.get_secret_value() if settings.encryption_key else None
            )
            cipher = KeyCipher.load(encryption_key, settings.key_file)
            for path in (settings.database_path, settings.key_file):
                if path.exists() and insecure_permissions(path):
                    logger.warning("%s is readable by other users; chmod 600 it", path)
            storage = await Storage.open(settings.database_path, cipher)
        # The budget looks one hour back; older ledger rows only take space.
        await storage.prune_ledger(before=clock() - HOUR)
        client = SmscClient(
            settings.smsc_base_url, timeout=settings.smsc_timeout, transport=transport
        )
        fetcher = Fetcher(
            client,
            storage,
            cache_ttl=settings.cache_ttl,
            user_limit=(settings.user_rate_limit.count, settings.user_rate_limit.window),
            hourly_budget=settings.smsc_hourly_budget,
            tz=settings.timezone,
            clock=clock,
            sleep=sleep,
            gather=settings.batch_gather if gather is None else gather,
        )
        return cls(
            settings=settings,
            storage=storage,
            fetcher=fetcher,
            smsc=client,
            clock=clock,
            sleep=sleep,
        )

    def workflow_data(self) -> dict[str, Any]:
        """What handlers receive by parameter name."""
        return {
            "settings": self.settings,
            "store": self.storage,
            "fetcher": self.fetcher,
            "clock": self.clock,
        }

    async def close(self) -> None:
        """Stop the batches, close the SMS Center client and the database."""
        await self.fetcher.close()
        await self.smsc.aclose()
        await self.storage.close()


# Seconds the shutdown waits for waiting answers to be edited ("the bot restarted").
FOLLOW_UPS_AT_SHUTDOWN = 5.0


class StartError(Exception):
    """The bot cannot start; ``str()`` is the one line to print."""


def make_dispatcher(services: Services) -> Dispatcher:
    """A Dispatcher with every router; ``services``' parts are handed to handlers by name.

    Routers are built, not imported: aiogram refuses to attach one ``Router`` to two
    dispatchers, and the Telegram bot, the console and every test build their own.
    """
    dispatcher = Dispatcher(
        disable_fsm=True,
        **services.workflow_data(),
        lookups=lookup.Lookups(
            services.fetcher,
            services.settings,
            services.clock,
            errors.describer(services.settings),
        ),
        followups=FollowUps(clock=services.clock, sleep=services.sleep),
    )
    in_flight = InFlight()
    dispatcher.update.outer_middleware(EditsAsNew())
    dispatcher.update.outer_middleware(in_flight)
    dispatcher.update.outer_middleware(CallerMiddleware())
    dispatcher.update.outer_middleware(ChatBound(clock=services.clock))
    dispatcher["in_flight"] = in_flight
    dispatcher.include_routers(
        account.make_router(),
        admin.make_router(),
        lookup.make_router(),
        errors.make_router(services.clock),
    )
    return dispatcher


def update_types(dispatcher: Dispatcher) -> list[str]:
    """The update types polling asks Telegram for: those with handlers, and edited messages
    (``EditsAsNew`` hands them to the message handlers)."""
    return sorted({*dispatcher.resolve_used_update_types(), "edited_message"})


@asynccontextmanager
async def open_bot_parts(
    settings: Settings,
    *,
    demo: bool = False,
    clock: Callable[[], float] = time.time,
    gather: float | None = None,
) -> AsyncIterator[Dispatcher]:
    """Services and a dispatcher over them, closed on exit. With ``demo`` the simulated SMS
    Center runs in-process with its own database beside ``DATABASE_PATH``, and the admins are
    granted the demo account. ``gather``: how long batched lookups wait for each other
    (``BATCH_GATHER`` when None)."""
    async with AsyncExitStack() as stack:
        if demo:
            settings = await stack.enter_async_context(demo_smsc(settings, clock=clock))
        services = await Services.open(settings, clock=clock, gather=gather)
        stack.push_async_callback(services.close)
        if demo:
            await prepare_demo_account(services.storage, settings.admin_ids, now=clock())
        yield make_dispatcher(services)


async def run_shell(
    settings: Settings,
    *,
    user_id: int,
    demo: bool,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    clock: Callable[[], float] = time.time,
    lang: Lang | None = None,
) -> int:
    """``python -m bot shell``: the console over this process's own dispatcher."""

    def parts(console_settings: Settings) -> Any:
        # One person types in the console: there is no one else's question to wait for.
        return open_bot_parts(console_settings, demo=demo, clock=clock, gather=0.0)

    return await run_console(
        settings,
        user_id=user_id,
        demo=demo,
        open_dispatcher=parts,
        stdin=stdin,
        stdout=stdout,
        clock=clock,
        lang=lang,
    )


async def run_polling(
    settings: Settings, *, demo: bool = False, handle_signals: bool = True
) -> int:
    """Long polling until SIGTERM/SIGINT; answers in flight are finished before the exit."""
    if settings.bot_token is None:
        raise StartError("BOT_TOKEN: required to talk to Telegram (get one from @BotFather)")
    try:
        bot = make_bot(settings.bot_token.get_secret_value(), settings.telegram_api_url)
    except TokenValidationError:
        raise StartError(
            "BOT_TOKEN: expected the token @BotFather gives, digits:characters "
            "(like 123456789:AAE…), with no spaces"
        ) from None
    async with AsyncExitStack() as stack:
        stack.push_async_callback(bot.session.close)
        dispatcher = await stack.enter_async_context(open_bot_parts(settings, demo=demo))
        try:
            me = await bot.get_me()
        except TelegramUnauthorizedError:
            raise StartError(
                "BOT_TOKEN: Telegram refused this token (check it with @BotFather)"
            ) from None
        except TelegramNetworkError:
            raise StartError(
                f"TELEGRAM_API_URL: cannot reach {settings.telegram_api_url}"
            ) from None
        await register_menu(bot, settings)
        in_flight: InFlight = dispatcher["in_flight"]

        @dispatcher.shutdown()
        async def finish_in_flight() -> None:
            left = await in_flight.drain(within=settings.smsc_timeout + 5)
            if left:
                logger.warning("%d update(s) still in flight at shutdown were cancelled", left)
            # Questions still waiting for SMS Center: their answers say the bot restarted.
            await dispatcher["fetcher"].close()
            followups: FollowUps = dispatcher["followups"]
            unsent = await followups.drain(within=FOLLOW_UPS_AT_SHUTDOWN)
            if unsent:
                logger.warning("%d waiting answer(s) could not be updated at shutdown", unsent)

        logger.info("started as @%s%s", me.username, " (demo)" if demo else "")
        await dispatcher.start_polling(
            bot,
            handle_signals=handle_signals,
            close_bot_session=False,
            allowed_updates=update_types(dispatcher),
        )
        logger.info("stopped")
    return 0
