"""Shared fixtures: a fake clock, the simulated SMS Center on 127.0.0.1, storage, the fetch
layer, and ``harness``: the whole bot (see ``tests/harness.py`` and tests/README.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.fetch import Fetcher
from bot.smsc import SmscClient
from bot.smsc.simulator import SimulatedSmsc
from bot.store import Account, KeyCipher, Storage
from tests.fakes.clock import FakeClock
from tests.fakes.smsc_faults import FaultySmsc
from tests.harness import API_KEY, Harness, running_bot

__all__ = ["API_KEY", "MOSCOW", "make_fetcher", "on_wire"]

MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.fixture
def clock() -> FakeClock:
    """Time that moves only when a test says so."""
    return FakeClock()


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[FaultySmsc]:
    """A simulated SMS Center with one empty account (``API_KEY``), serving on 127.0.0.1."""
    async with FaultySmsc(clock=clock, with_demo=False, accounts={API_KEY: []}) as simulator:
        yield simulator


@pytest.fixture
async def client(sim: SimulatedSmsc) -> AsyncIterator[SmscClient]:
    """The SMS Center client pointed at the simulator."""
    async with SmscClient(sim.base_url, timeout=2.0) as smsc:
        yield smsc


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's database lives."""
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
def cipher(db_path: Path) -> KeyCipher:
    """The key cipher with a generated key file beside the database."""
    return KeyCipher.load(None, db_path.with_name("bot.sqlite3.key"))


@pytest.fixture
async def storage(db_path: Path, cipher: KeyCipher) -> AsyncIterator[Storage]:
    """A real SQLite database in the test's temporary folder."""
    store = await Storage.open(db_path, cipher)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def account(storage: Storage, clock: FakeClock) -> Account:
    """The account registered for ``API_KEY``."""
    return await storage.add_account("main", API_KEY, added_by=1, now=clock())


def make_fetcher(
    client: SmscClient,
    storage: Storage,
    clock: FakeClock,
    *,
    budget: int = 30,
    user_limit: tuple[int, float] = (1000, 60.0),
    ttl: float = 60.0,
    gather: float = 0.0,
) -> Fetcher:
    """A fetch layer as production builds it, with test-sized limits.

    It lives in the fake clock's time, sleeps included. Batched lookups gather nothing by
    default (``gather=0``): the questions of one event-loop turn still share a request, and a
    test needs no clock move to see its answer; the gathering itself is tested with a second.
    """
    return Fetcher(
        client,
        storage,
        cache_ttl=ttl,
        user_limit=user_limit,
        hourly_budget=budget,
        tz=MOSCOW,
        clock=clock,
        sleep=clock.sleep,
        gather=gather,
    )


@pytest.fixture
def fetcher(client: SmscClient, storage: Storage, clock: FakeClock) -> Fetcher:
    """The fetch layer with SMS Center's own budget and a generous per-user guard."""
    return make_fetcher(client, storage, clock)


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``wire`` marker."""
    config.addinivalue_line(
        "markers", "wire: the test's bot talks to the fake Telegram over real HTTP"
    )


def on_wire(request: pytest.FixtureRequest) -> bool:
    """Whether the requesting test is marked ``wire``."""
    return request.node.get_closest_marker("wire") is not None


@pytest.fixture
async def harness(
    request: pytest.FixtureRequest, tmp_path: Path, sim: SimulatedSmsc, clock: FakeClock
) -> AsyncIterator[Harness]:
    """The bot with default settings (``ADMIN`` its admin) on ``sim``; nobody has access yet.
    It reaches the fake Telegram in-process, or over HTTP when the test is marked ``wire``."""
    async with running_bot(tmp_path, sim, clock, wire=on_wire(request)) as running:
        yield running
