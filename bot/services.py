"""The long-lived parts of a running bot, opened and closed together.

The Telegram bot, the console and every end-to-end test build one ``Services`` and hand its
parts to the Dispatcher as workflow data (``Dispatcher(**services.workflow_data())``), so
handlers receive them by parameter name and nothing lives in module-level globals.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.cipher import KeyCipher, insecure_permissions
from bot.fetch import HOUR, Fetcher
from bot.settings import Settings
from bot.smsc import SmscClient
from bot.storage import Storage

logger = logging.getLogger(__name__)


@dataclass
class Services:
    """Settings, storage, SMS Center client and fetch layer of one bot process."""

    settings: Settings
    storage: Storage
    fetcher: Fetcher
    http: httpx.AsyncClient
    clock: Callable[[], float] = field(default=time.time)

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
        storage: Storage | None = None,
    ) -> Services:
        """Open the database (creating the key file if needed) and the SMS Center client.

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
        http = httpx.AsyncClient(
            transport=transport,
            headers={"User-Agent": "smsc-status-bot/0.1"},
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        )
        client = SmscClient(http, settings.smsc_base_url, timeout=settings.smsc_timeout)
        fetcher = Fetcher(
            client,
            storage,
            cache_ttl=settings.cache_ttl,
            user_limit=(settings.user_rate_limit.count, settings.user_rate_limit.window),
            hourly_budget=settings.smsc_hourly_budget,
            tz=settings.timezone,
            clock=clock,
        )
        return cls(settings=settings, storage=storage, fetcher=fetcher, http=http, clock=clock)

    def workflow_data(self) -> dict[str, Any]:
        """What handlers receive by parameter name."""
        return {
            "settings": self.settings,
            "store": self.storage,
            "fetcher": self.fetcher,
            "clock": self.clock,
        }

    async def close(self) -> None:
        """Close the HTTP client and the database."""
        await self.http.aclose()
        await self.storage.close()
