"""Demo mode (``--demo``): the simulated SMS Center in-process on 127.0.0.1, with a ready account.

The demo keeps its own database (``demo.sqlite3`` beside ``DATABASE_PATH``) so that trying it
never touches real accounts; the console user and every admin are granted the demo account.
With the bot's HTTP server on (``python -m bot --demo``), the simulator pushes each status
change of the demo account to it (``demo_pushes``), signed like SMS Center's: the messages still
in progress settle a minute or so after the start, and ``/last`` shows their pushed status.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager

from bot.settings import Settings
from bot.smsc.pusher import StatusPusher, history_of
from bot.smsc.simulator import DEMO_ACCOUNT, DEMO_API_KEY, SimulatedSmsc
from bot.store import PushStore, Storage, key_id

__all__ = ["DEMO_ACCOUNT", "demo_pushes", "demo_smsc", "prepare_demo_account"]


@asynccontextmanager
async def demo_smsc(
    settings: Settings, *, clock: Callable[[], float] = time.time
) -> AsyncIterator[tuple[Settings, SimulatedSmsc]]:
    """Run the simulated SMS Center; yields settings pointed at it and at the demo database,
    and the simulator."""
    simulator = SimulatedSmsc(clock=clock, tz=settings.timezone.key)
    base_url = await simulator.start()
    try:
        yield (
            settings.model_copy(
                update={
                    "smsc_base_url": base_url,
                    "database_path": settings.database_path.with_name("demo.sqlite3"),
                }
            ),
            simulator,
        )
    finally:
        await simulator.stop()


async def demo_pushes(
    storage: Storage,
    simulator: SimulatedSmsc,
    server_url: str,
    *,
    clock: Callable[[], float] = time.time,
) -> StatusPusher:
    """Give the demo account a fresh push secret and start the simulator pushing to
    ``server_url``; the caller reloads the bot's push secrets and closes the pusher."""
    secret = secrets.token_urlsafe(24)
    name = await storage.account_holding(key_id(DEMO_API_KEY)) or DEMO_ACCOUNT
    await PushStore(storage).set_secret(name, secret, now=clock())
    handler_url = f"{server_url}/smsc/{name}?charset=utf-8&md5={secret}"
    pusher = StatusPusher(history_of(simulator, DEMO_API_KEY), handler_url, clock=clock)
    pusher.start()
    return pusher


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
