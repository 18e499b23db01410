"""The one composition root: builds the store, the SMS Center client, the fetch layer, the
dispatcher and the HTTP server, and runs them as the Telegram bot (long polling or webhook) or
the console.

This is the only module of ``bot/`` that imports ``handlers/``. The Telegram bot, the console
and every end-to-end test build one ``Services`` and hand its parts to the Dispatcher as
workflow data (``Dispatcher(**services.workflow_data())``), so handlers receive them by
parameter name and nothing lives in module-level globals.

The Telegram bot (``run_bot``) binds ``HTTP_LISTEN`` first (a port in use stops the start
before anything is opened), then serves ``/healthz`` and ``/metrics`` there, and ``/telegram``
in webhook mode (``TELEGRAM_WEBHOOK=true``: ``setWebhook`` with ``{PUBLIC_URL}/telegram`` and a
secret token made at each start). Long polling, the default, calls ``deleteWebhook`` first
(pending updates kept), since a webhook left by an earlier run would make every ``getUpdates``
a 409. SIGTERM/SIGINT: the listening socket closes, updates in flight (webhook tasks, then the
dispatcher's) finish, waiting answers are edited, exit 0. The console starts no server.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx
from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramUnauthorizedError,
)
from aiogram.utils.token import TokenValidationError, validate_token

from bot.chat.alerts import start_watching, stop_watching
from bot.chat.caller import CallerMiddleware
from bot.chat.chat_bound import ChatBound
from bot.chat.console import run_console
from bot.chat.expiring import ExpiringMessages
from bot.chat.followups import FollowUps
from bot.chat.telegram import make_bot
from bot.demo import demo_pushes, demo_smsc, prepare_demo_account
from bot.fetch import HOUR, Fetcher
from bot.settings import Settings
from bot.smsc import SmscClient
from bot.store import KeyCipher, PushStore, Storage, WatchStore, insecure_permissions
from bot.text import Lang
from bot.watch.runner import WatchRunner
from bot.web.health import Health, Pulse
from bot.web.instruments import CountingTransport, TelegramCallMetrics, UpdateMetrics
from bot.web.metrics import Metrics, metrics_route
from bot.web.push_writer import PushWriter
from bot.web.pushes import PushedIndex, PushEndpoint, PushKeys, PushTally
from bot.web.relay import Relay
from bot.web.server import HttpServer, ListenError, bind
from bot.web.webhook import WEBHOOK_PATH, TelegramWebhook, new_secret_token
from handlers import account, admin, chats, errors, lookup, push, watch
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
    push_keys: PushKeys
    push_writer: PushWriter
    relay: Relay
    metrics: Metrics = field(default_factory=Metrics)
    pulse: Pulse = field(default_factory=Pulse)
    push_tally: PushTally = field(default_factory=PushTally)
    pushed: PushedIndex = field(default_factory=PushedIndex)
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
        pushes = PushStore(storage)
        await pushes.prune(now=clock())
        push_keys = PushKeys(pushes)
        await push_keys.reload()
        pushed = PushedIndex()
        await pushed.load(pushes, now=clock())
        metrics, pulse = Metrics(), Pulse()
        # SmscClient's own default transport (a failed connection retried once), counted.
        inner = transport or httpx.AsyncHTTPTransport(
            retries=1, limits=httpx.Limits(max_connections=20, max_keepalive_connections=10)
        )
        client = SmscClient(
            settings.smsc_base_url,
            timeout=settings.smsc_timeout,
            transport=CountingTransport(inner, metrics, pulse),
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
            push_keys=push_keys,
            push_writer=PushWriter(pushes),
            relay=Relay(metrics, sleep=sleep),
            pushed=pushed,
            metrics=metrics,
            pulse=pulse,
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
            "push_keys": self.push_keys,
            "push_tally": self.push_tally,
        }

    async def close(self) -> None:
        """Stop the batches, write the pushed statuses still pending, close the SMS Center
        client and the database."""
        await self.relay.close()
        await self.push_writer.close()
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
            pushed_at=services.pushed.pushed_at,
        ),
        followups=FollowUps(clock=services.clock, sleep=services.sleep),
        expiring=ExpiringMessages(sleep=services.sleep),
    )
    in_flight = InFlight()
    dispatcher.update.outer_middleware(UpdateMetrics(services.metrics))
    dispatcher.update.outer_middleware(EditsAsNew())
    dispatcher.update.outer_middleware(in_flight)
    dispatcher.update.outer_middleware(CallerMiddleware())
    dispatcher.update.outer_middleware(ChatBound(clock=services.clock))
    dispatcher["in_flight"] = in_flight
    dispatcher["watch_runner"] = WatchRunner(
        WatchStore(services.storage),
        services.fetcher.batches.picture,
        services.pushed,
        lambda account: services.push_keys.get(account) is not None,
        clock=services.clock,
        sleep=services.sleep,
    )
    dispatcher.startup.register(start_watching)
    dispatcher.shutdown.register(stop_watching)
    dispatcher.include_routers(
        account.make_router(),
        admin.make_router(),
        push.make_router(),
        chats.make_router(),
        watch.make_router(),  # before lookup, whose hints take every message left
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
        await register_menu(bot, settings)
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
        in_flight: InFlight = dispatcher["in_flight"]

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
