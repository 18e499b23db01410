"""Running the bot: the console (``run_shell``) and the Telegram bot (``run_bot``: long
polling or webhook), with the parts ``open_bot_parts`` builds."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TextIO

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramUnauthorizedError,
)
from aiogram.utils.token import TokenValidationError, validate_token

from bot.app.endpoint import make_endpoint, serve_until_stopped, set_webhook
from bot.app.services import (
    FOLLOW_UPS_AT_SHUTDOWN,
    Services,
    StartError,
    in_flight_of,
    make_dispatcher,
    register_commands,
    update_types,
)
from bot.chat.console import run_console
from bot.chat.followups import FollowUps
from bot.chat.telegram import make_bot
from bot.demo import demo_pushes, demo_smsc, prepare_demo_account
from bot.settings import Settings
from bot.text import Lang
from bot.web.instruments import TelegramCallMetrics
from bot.web.server import ListenError, bind
from bot.web.webhook import new_secret_token

logger = logging.getLogger(__name__)


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
        simulator = None
        if demo:
            settings, simulator = await stack.enter_async_context(demo_smsc(settings, clock=clock))
        services = await Services.open(settings, clock=clock, gather=gather)
        stack.push_async_callback(services.close)
        if demo:
            await prepare_demo_account(services.storage, settings.admin_ids, now=clock())
        dispatcher = make_dispatcher(services)
        # For the composition root's own use (run_bot).
        dispatcher["services"], dispatcher["demo_simulator"] = services, simulator
        yield dispatcher


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


def make_telegram_bot(settings: Settings, services: Services) -> Bot:
    """The aiogram Bot of ``python -m bot``, its calls counted in ``services.metrics``."""
    metrics = services.metrics
    token = checked_token(settings)
    return make_bot(
        token,
        settings.telegram_api_url,
        around_retries=TelegramCallMetrics(
            metrics.telegram_calls, services.pulse, clock=services.clock
        ),
        each_attempt=TelegramCallMetrics(metrics.telegram_attempts),
    )


def checked_token(settings: Settings) -> str:
    """``BOT_TOKEN`` if it has the form @BotFather gives; else the start error naming it."""
    if settings.bot_token is None:
        raise StartError("BOT_TOKEN: required to talk to Telegram (get one from @BotFather)")
    token = settings.bot_token.get_secret_value()
    try:
        validate_token(token)
    except TokenValidationError:
        raise StartError(
            "BOT_TOKEN: expected the token @BotFather gives, digits:characters "
            "(like 123456789:AAE…), with no spaces"
        ) from None
    return token


async def run_bot(
    settings: Settings,
    *,
    demo: bool = False,
    handle_signals: bool = True,
) -> int:
    """The Telegram bot until SIGTERM/SIGINT: long polling, or the webhook when
    ``TELEGRAM_WEBHOOK``; the HTTP server on ``HTTP_LISTEN`` unless it is off. Updates in
    flight are finished before the exit."""
    checked_token(settings)  # before anything is opened
    async with AsyncExitStack() as stack:
        sock = None
        if settings.http_listen is not None:
            try:
                sock = bind(settings.http_listen)
            except ListenError as exc:
                raise StartError(str(exc)) from None
            stack.callback(sock.close)
        dispatcher = await stack.enter_async_context(open_bot_parts(settings, demo=demo))
        services: Services = dispatcher["services"]
        bot = make_telegram_bot(settings, services)
        stack.push_async_callback(bot.session.close)
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
        await register_commands(bot, settings)
        secret = new_secret_token() if settings.telegram_webhook else None
        endpoint = None
        if sock is not None:
            endpoint = make_endpoint(sock, services, dispatcher, bot, webhook_secret=secret)
            await endpoint.server.start()
            stack.push_async_callback(endpoint.server.close)
            simulator = dispatcher["demo_simulator"]
            if simulator is not None:  # the demo account's status pushes, end to end
                pusher = await demo_pushes(
                    services.storage, simulator, endpoint.server.base_url, clock=services.clock
                )
                stack.push_async_callback(pusher.close)
                await services.push_keys.reload()
        in_flight = in_flight_of(dispatcher)

        @dispatcher.shutdown()
        async def finish_in_flight() -> None:
            within = settings.smsc_timeout + 5
            if endpoint is not None:
                await endpoint.server.stop_accepting()
                if endpoint.webhook is not None:
                    left = await endpoint.webhook.drain(within=within)
                    if left:
                        logger.warning("%d webhook update(s) cancelled at shutdown", left)
            left = await in_flight.drain(within=within)
            if left:
                logger.warning("%d update(s) still in flight at shutdown were cancelled", left)
            # Questions still waiting for SMS Center: their answers say the bot restarted.
            await dispatcher["fetcher"].close()
            followups: FollowUps = dispatcher["followups"]
            unsent = await followups.drain(within=FOLLOW_UPS_AT_SHUTDOWN)
            if unsent:
                logger.warning("%d waiting answer(s) could not be updated at shutdown", unsent)
            await dispatcher["expiring"].close()  # a shown push secret goes with the process

        mode = "webhook" if secret is not None else "polling"
        logger.info("started as @%s (%s%s)", me.username, mode, ", demo" if demo else "")
        if secret is not None:
            await set_webhook(bot, dispatcher, settings, secret, services.pulse)
            await serve_until_stopped(dispatcher, bot, handle_signals=handle_signals)
        else:
            # aiogram's polling does not: a webhook left by an earlier run would make every
            # getUpdates a 409. Updates waiting at Telegram are kept.
            await bot.delete_webhook(drop_pending_updates=False)
            await dispatcher.start_polling(
                bot,
                handle_signals=handle_signals,
                close_bot_session=False,
                allowed_updates=update_types(dispatcher),
            )
        logger.info("stopped")
    return 0
