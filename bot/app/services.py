"""What the bot is made of (``Services``) and the Dispatcher that hands it to handlers.

The only place of ``bot/`` besides the rest of ``bot.app`` that imports ``handlers/``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiogram import Bot, Dispatcher

from bot.chat.alerts import start_watching, stop_watching
from bot.chat.caller import CallerMiddleware
from bot.chat.chat_bound import ChatBound
from bot.chat.expiring import ExpiringMessages
from bot.chat.followups import FollowUps
from bot.fetch import HOUR, Fetcher, Lookup
from bot.settings import Settings
from bot.smsc import SmscClient
from bot.store import KeyCipher, PushStore, Storage, Watch, WatchStore, insecure_permissions
from bot.watch.runner import WatchRunner
from bot.web.health import Pulse
from bot.web.instruments import CountingTransport, UpdateMetrics
from bot.web.metrics import Metrics
from bot.web.push_writer import PushWriter
from bot.web.pushes import PushedIndex, PushKeys, PushTally
from bot.web.relay import Relay
from handlers import account, admin, chart, chats, errors, lookup, push, watch
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
            watch_budget=settings.watch_budget,
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
    dispatcher["watch_runner"] = watch_runner(services)
    dispatcher.startup.register(start_watching)
    dispatcher.shutdown.register(stop_watching)
    dispatcher.include_routers(
        account.make_router(),
        admin.make_router(),
        push.make_router(),
        chats.make_router(),
        watch.make_router(),  # before lookup, whose hints take every message left
        chart.make_router(),  # before lookup, whose stray handler takes every press left
        lookup.make_router(),
        errors.make_router(services.clock),
    )
    return dispatcher


def watch_runner(services: Services) -> WatchRunner:
    """The watches' runner: without pushes it fetches within ``WATCH_BUDGET``
    (``Fetcher.watch``), and every message it sends is counted in the metrics."""
    fetcher, storage = services.fetcher, services.storage

    async def feed(watch: Watch) -> Lookup[Any] | None:
        account = await storage.get_account(watch.account_name)
        if account is None or account.key_id != watch.key_id:
            return None  # removed or re-keyed since: the next look sees the new key
        return await fetcher.watch(account)

    budget = services.settings.watch_budget
    return WatchRunner(
        WatchStore(storage),
        fetcher.batches.picture,
        services.pushed,
        lambda account: services.push_keys.get(account) is not None,
        clock=services.clock,
        sleep=services.sleep,
        feed=feed if budget > 0 else None,
        patience=fetcher.watch_pace.interval if budget > 0 else 0.0,
        sent=services.metrics.watch_sent,
    )


def update_types(dispatcher: Dispatcher) -> list[str]:
    """The update types polling asks Telegram for: those with handlers, and edited messages
    (``EditsAsNew`` hands them to the message handlers)."""
    return sorted({*dispatcher.resolve_used_update_types(), "edited_message"})


async def register_commands(bot: Bot, settings: Settings) -> None:
    """The command menu Telegram shows (``handlers.menu``)."""
    await register_menu(bot, settings)


def in_flight_of(dispatcher: Dispatcher) -> InFlight:
    """The updates in flight of a dispatcher made by ``make_dispatcher``."""
    tracked: InFlight = dispatcher["in_flight"]
    return tracked
