"""Demo mode (``--demo``): the simulated SMS Center in-process on 127.0.0.1, with a ready account.

The demo keeps its own database (``demo.sqlite3`` beside ``DATABASE_PATH``) so that trying it
never touches real accounts; the console user and every admin are granted the demo account.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager

from bot.settings import Settings
from bot.smsc.simulator import DEMO_ACCOUNT, DEMO_API_KEY, SimulatedSmsc
from bot.store import Storage, key_id

__all__ = ["DEMO_ACCOUNT", "demo_smsc", "prepare_demo_account"]


@asynccontextmanager
async def demo_smsc(
    settings: Settings, *, clock: Callable[[], float] = time.time
) -> AsyncIterator[Settings]:
    """Run the simulated SMS Center; yields settings pointed at it and at the demo database."""
    simulator = SimulatedSmsc(clock=clock, tz=settings.timezone.key)
    base_url = await simulator.start()
    try:
        yield settings.model_copy(
            update={
                "smsc_base_url": base_url,
                "database_path": settings.database_path.with_name("demo.sqlite3"),
            }
        )
    finally:
        await simulator.stop()


async def prepare_demo_account(storage: Storage, users: Iterable[int], *, now: float) -> str:
    """Register the demo key as the account ``demo`` (once) and grant it to ``users``; returns
    the account's name. One key is one account: when the demo key was moved to another name
    (``/delkey demo``, ``/addkey mine KEY``), that account is the one granted."""
    name = await storage.account_holding(key_id(DEMO_API_KEY))
    if name is None:
        name = (await storage.add_account(DEMO_ACCOUNT, DEMO_API_KEY, added_by=0, now=now)).name
    for user_id in users:
        await storage.grant(user_id, name, granted_by=0, now=now)
    return name
