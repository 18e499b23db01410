"""The bot's population at a scale: users in the database, accounts and numbers at SMS Center.

At 1× there are 100 users and 60 numbers that agents ask about; at k× k times as many. Numbers
are split among accounts, 24 each (SMS Center's 30 history requests an hour per account must
cover filling the cache), and users among the accounts round robin. Of an account's numbers:

- 4 are *active*: 3 messages in the last day, inside the account-wide window, and 5 older;
- 20 are *quiet*: 8 messages 3 to 30 days old, outside the window, so each needs a request of
  its own and holds a cache entry of its own;

and the account sends 150 messages a day to other numbers, so each window holds about 400.

``fill_cache`` brings a running bot to the state the overhead and memory figures are taken in:
every account's window and every quiet number's history asked once (the cache's bound decides
how many stay: at 100× more than it holds), and one question by every user (a guard bucket each).
"""

from __future__ import annotations

import asyncio
import math
import random
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from bench.harness import ADMIN, RunningBot
from bot.store import Account, KeyCipher, Storage
from tests.fakes.updates import message_update

USERS_AT_1X: Final = 100
NUMBERS_AT_1X: Final = 60
NUMBERS_PER_ACCOUNT: Final = 24
ACTIVE_PER_ACCOUNT: Final = 4
FIRST_USER: Final = 100_000
MESSAGES_PER_NUMBER: Final = 8
RECENT_PER_ACTIVE: Final = 3
OTHER_PER_DAY: Final = 150
DAY: Final = 86400.0


@dataclass(frozen=True, slots=True)
class BenchAccount:
    """An SMS Center account of the population and the numbers agents ask about."""

    name: str
    apikey: str
    numbers: tuple[str, ...]  # the active ones first

    @property
    def active(self) -> tuple[str, ...]:
        """Numbers with messages inside the account-wide window."""
        return self.numbers[:ACTIVE_PER_ACCOUNT]


@dataclass(frozen=True, slots=True)
class Population:
    """Users and accounts at ``scale``× the 1× population."""

    scale: int
    users: int
    accounts: tuple[BenchAccount, ...]

    @property
    def numbers(self) -> int:
        """How many numbers agents ask about."""
        return sum(len(account.numbers) for account in self.accounts)

    def user_id(self, index: int) -> int:
        """The Telegram id of user ``index``."""
        return FIRST_USER + index

    def index_of(self, user_id: int) -> int:
        """The index of the user whose Telegram id is ``user_id``."""
        return user_id - FIRST_USER

    def account_of(self, index: int) -> BenchAccount:
        """The account user ``index`` is mapped to."""
        return self.accounts[index % len(self.accounts)]

    def users_of(self, account_index: int) -> range:
        """The indices of the users mapped to account ``account_index``."""
        return range(account_index, self.users, len(self.accounts))


def population(scale: int) -> Population:
    """100·scale users and 60·scale numbers, in accounts of 24 numbers."""
    numbers = NUMBERS_AT_1X * scale
    count = math.ceil(numbers / NUMBERS_PER_ACCOUNT)
    accounts = []
    for index in range(count):
        first = index * NUMBERS_PER_ACCOUNT
        last = min(numbers, first + NUMBERS_PER_ACCOUNT)
        phones = tuple(f"79{n:09d}" for n in range(100_000_000 + first, 100_000_000 + last))
        # A simulator account's key, not a secret: it opens nothing but the bench's simulator.
        apikey = f"bench{scale:03d}acct{index:05d}" + "0" * 16
        accounts.append(BenchAccount(f"team{index:05d}", apikey, phones))
    return Population(scale=scale, users=USERS_AT_1X * scale, accounts=tuple(accounts))


def smsc_accounts(pop: Population, now: float) -> dict[str, list[dict[str, Any]]]:
    """Each account's history for ``SimulatedSmsc(accounts=…)``, oldest first."""
    rng = random.Random(f"bench-population-{pop.scale}")
    found: dict[str, list[dict[str, Any]]] = {}
    for number, account in enumerate(pop.accounts):
        sends: list[tuple[float, str]] = []
        for phone in account.numbers:
            recent = RECENT_PER_ACTIVE if phone in account.active else 0
            for n in range(MESSAGES_PER_NUMBER):
                days = rng.uniform(0.0, 1.0) if n < recent else rng.uniform(3.0, 30.0)
                sends.append((now - days * DAY, phone))
        others = [f"78{number:05d}{n:04d}" for n in range(500)]
        for _ in range(3 * OTHER_PER_DAY):
            sends.append((now - rng.uniform(0.0, 3.0) * DAY, rng.choice(others)))
        sends.sort()
        found[account.apikey] = [_message(rng, at, phone) for at, phone in sends]
    return found


def _message(rng: random.Random, at: float, phone: str) -> dict[str, Any]:
    failed = rng.random() < 0.15
    return {
        "phone": phone,
        "send_timestamp": int(at),
        "last_timestamp": int(at) + 7,
        "status": 20 if failed else 1,
        "err": 6 if failed else 0,
    }


async def write_database(pop: Population, path: Path, now: float) -> None:
    """Create the bot's database at ``path`` (key file beside it) with the population in it,
    through the storage API the admin commands use (``add_account``, ``grant``)."""
    cipher = KeyCipher.load(None, path.with_name(path.name + ".key"))
    async with await Storage.open(path, cipher) as storage:
        for account in pop.accounts:
            await storage.add_account(account.name, account.apikey, added_by=ADMIN, now=now)
        for index in range(pop.users):
            account = pop.account_of(index)
            await storage.grant(pop.user_id(index), account.name, granted_by=ADMIN, now=now)


async def prepared_database(pop: Population, workdir: Path, now: float) -> Path:
    """A fresh copy of the population's database in its own folder under ``workdir``.

    The first call per scale writes a template (granting 10 000 users takes seconds); later
    calls copy it, so every measurement starts from the same file.
    """
    template = workdir / f"template-{pop.scale}" / "bot.sqlite3"
    if not template.exists():
        await write_database(pop, template, now)
    target = Path(tempfile.mkdtemp(prefix=f"db-{pop.scale}-", dir=workdir)) / "bot.sqlite3"
    for source in template.parent.iterdir():
        shutil.copy2(source, target.parent / source.name)
    return target


async def fill_cache(running: RunningBot, pop: Population) -> dict[str, int]:
    """Ask what fills the cache, through the fetch layer as the handlers do: per account
    ``/recent`` (its window), then ``/last`` for each of its numbers at once (one batched
    request answers them all, as waiting numbers do), then one ``/last`` by every user about an
    active number of their account.

    Returns what the cache holds afterwards.
    """
    fetcher = running.services.fetcher
    accounts = await _accounts(running.services.storage)
    for index, bench_account in enumerate(pop.accounts):
        askers = pop.users_of(index)
        account = accounts[bench_account.name]
        await fetcher.recent(pop.user_id(askers[0]), account, 10)
        await asyncio.gather(
            *(
                fetcher.last(pop.user_id(askers[(n + 1) % len(askers)]), account, phone)
                for n, phone in enumerate(bench_account.numbers)
            )
        )
    for index in range(pop.users):
        bench_account = pop.account_of(index)
        phone = bench_account.active[index % len(bench_account.active)]
        await fetcher.last(pop.user_id(index), accounts[bench_account.name], phone)
    return held(running)


async def cached_questions(running: RunningBot, pop: Population) -> list[tuple[int, str]]:
    """Every (user index, number) whose ``/last`` the account picture answers now, without a
    request (it vouches for the number, as of now: the clock stands still)."""
    fetcher = running.services.fetcher
    _, start = fetcher._period.history_start()  # read only: how far back a lookup asks
    accounts = await _accounts(running.services.storage)
    answerable: dict[str, list[str]] = {}
    for bench_account in pop.accounts:
        picture = fetcher.batches.picture(accounts[bench_account.name].key_id)
        answerable[bench_account.name] = [
            phone
            for phone in bench_account.numbers
            if picture.newest(phone, start=start) is not None
        ]
    return [
        (index, phone)
        for index in range(pop.users)
        for phone in answerable[pop.account_of(index).name]
    ]


def held(running: RunningBot) -> dict[str, int]:
    """What the fetch layer holds: cache entries, the messages in them, the cache's bound, and
    per-user guard buckets with theirs (private attributes, read only to report their size)."""
    fetcher = running.services.fetcher
    cache = fetcher.answers._held
    buckets = fetcher.guard._buckets
    messages = sum(len(s.value) for s in cache.values() if isinstance(s.value, list))
    return {
        "entries": len(cache),
        "messages": messages,
        "bound": int(cache.maxsize),
        "guard_buckets": len(buckets),
        "guard_bound": int(buckets.maxsize),
    }


def last_updates(
    pop: Population, cached: Sequence[tuple[int, str]], count: int, seed: int
) -> list[dict[str, Any]]:
    """``count`` updates ``/last <number>``, each a random (user, number) of ``cached``."""
    rng = random.Random(f"bench-last-{pop.scale}-{seed}")
    updates = []
    for _ in range(count):
        index, phone = rng.choice(cached)
        updates.append(message_update(f"/last {phone}", user_id=pop.user_id(index), date=0))
    return updates


async def _accounts(store: Storage) -> dict[str, Account]:
    return {account.name: account for account, _ in await store.list_accounts()}
