"""The bot's HTTP endpoint as the Telegram bot runs it: the server with ``/healthz``,
``/metrics``, status pushes and, in webhook mode, ``/telegram``; setting the webhook; serving
until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
)

from bot.app.services import (
    Services,
    StartError,
    update_types,
)
from bot.settings import Settings
from bot.web.health import Health, Pulse
from bot.web.metrics import metrics_route
from bot.web.pushes import PushEndpoint
from bot.web.server import HttpServer
from bot.web.webhook import WEBHOOK_PATH, TelegramWebhook

logger = logging.getLogger(__name__)


@dataclass
class Endpoint:
    """The HTTP server with its routes; ``webhook`` in webhook mode."""

    server: HttpServer
    webhook: TelegramWebhook | None


def make_endpoint(
    sock: socket.socket,
    services: Services,
    dispatcher: Dispatcher,
    bot: Bot,
    *,
    webhook_secret: str | None,
) -> Endpoint:
    """``/healthz``, ``/metrics`` and ``/smsc/<account>`` on ``sock``, and ``/telegram`` when
    ``webhook_secret``."""
    server = HttpServer(sock)
    health = Health(
        services.storage,
        services.fetcher,
        services.pulse,
        services.push_keys,
        services.push_tally,
        tz=services.settings.timezone,
        clock=services.clock,
        watch_runner=dispatcher.workflow_data.get("watch_runner"),
    )
    pushes = PushEndpoint(
        services.push_keys,
        services.push_writer,
        services.push_tally,
        services.fetcher,
        services.metrics,
        services.relay,
        services.pushed,
        clock=services.clock,
    )
    server.add_routes(
        [
            health.route(),
            metrics_route(services.metrics, services.storage, services.fetcher),
            *pushes.routes(),
        ]
    )
    webhook = None
    if webhook_secret is not None:
        pulse, clock = services.pulse, services.clock
        webhook = TelegramWebhook(
            dispatcher,
            bot,
            secret_token=webhook_secret,
            on_update=lambda: pulse.telegram_answered(clock()),
        )
        server.add_routes([webhook.route()])
    return Endpoint(server, webhook)


async def set_webhook(
    bot: Bot, dispatcher: Dispatcher, settings: Settings, secret: str, pulse: Pulse
) -> None:
    """``setWebhook`` with ``{PUBLIC_URL}/telegram`` and ``secret``. Telegram refusing the URL
    is a start error naming PUBLIC_URL; Telegram unreachable is logged, and ``/healthz``
    answers 503 (a restart is what may fix it)."""
    url = f"{settings.public_url}{WEBHOOK_PATH}"
    try:
        await bot.set_webhook(
            url=url,
            secret_token=secret,
            allowed_updates=update_types(dispatcher),
            drop_pending_updates=False,
        )
    except TelegramBadRequest as exc:
        raise StartError(f"PUBLIC_URL: Telegram refused the webhook {url}: {exc.message}") from None
    except TelegramAPIError as exc:
        pulse.webhook = f"not set: {exc.message}"
        logger.error("could not set the webhook %s: %s", url, exc.message)
        return
    pulse.webhook = "set"
    logger.info("webhook set: %s", url)


async def serve_until_stopped(
    dispatcher: Dispatcher,
    bot: Bot,
    *,
    handle_signals: bool,
) -> None:
    """Webhook mode: the dispatcher's startup, then wait for SIGTERM/SIGINT (without
    ``handle_signals``: until cancelled), then its shutdown (which lets the updates in flight
    finish)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if handle_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    workflow = {**dispatcher.workflow_data, "bot": bot, "dispatcher": dispatcher}
    await dispatcher.emit_startup(**workflow)
    try:
        await stop.wait()
    finally:
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        await dispatcher.emit_shutdown(**workflow)
