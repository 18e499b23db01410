"""Overhead: time per ``/last`` update through the bot, beside a bare aiogram echo handler.

Both run in the bot's process (``bench.probe``) on one ``Bot`` talking to one fake Telegram Bot
API server on loopback (in the parent process), fed the same update dicts with
``Dispatcher.feed_raw_update`` (as polling hands them over), in alternating rounds so that a
noisy moment of the machine falls on both:

- **bot** — the real Dispatcher, middlewares and handlers (``make_dispatcher``): the caller is
  read from the database, the fetch layer answers from its cache (every number asked is held:
  that no SMS Center request is made while timing is checked), the answer is rendered and sent,
  and the lookup is written to the audit log;
- **echo** — ``Dispatcher(disable_fsm=True)`` (as the bot's) with one handler,
  ``await message.answer(message.text)``.

The bot's clock stands still, so cached answers stay fresh; the per-user guard runs but is set
wide (``harness.WIDE_GUARD``) so that every update is a real answer. Beside the end-to-end
figures, the parts of a ``/last`` that are the bot's own are timed alone (``parts_us``), and
``profile`` (optional) is cProfile's view of the main thread, summarised.
"""

from __future__ import annotations

import cProfile
import pstats
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from aiogram.types import InlineKeyboardMarkup

from bench.echo import echo_dispatcher, reply_dispatcher
from bench.harness import RunningBot
from bench.population import Population, last_updates
from bot.chat.caller import Caller
from bot.chat.queries import Kind, Query
from bot.store import Account
from bot.text import Lang, View, render_last
from handlers.lookup import Lookups

WARMUP: Final = 200  # untimed updates through each dispatcher first
PARTS: Final = 500  # calls per part timed alone

Feed = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class Timing:
    """Per-update times of one side, in seconds."""

    updates: int
    total: float
    p50: float
    p99: float

    @property
    def per_second(self) -> float:
        """Updates handled per second."""
        return self.updates / self.total if self.total else 0.0

    @property
    def mean(self) -> float:
        """Mean seconds per update."""
        return self.total / self.updates if self.updates else 0.0

    @classmethod
    def of(cls, times: Sequence[float]) -> Timing:
        """Summarise per-update times."""
        cuts = statistics.quantiles(times, n=100, method="inclusive")
        return cls(updates=len(times), total=sum(times), p50=cuts[49], p99=cuts[98])


@dataclass
class OverheadResult:
    """The bot beside the echo handler at one scale."""

    bot: Timing
    echo: Timing
    reply: Timing  # the bot's answer sent back by a bare handler
    upstream_while_timed: int
    parts_us: dict[str, float]
    profile: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        """The bot's mean time per update over the echo handler's."""
        return self.bot.mean / self.echo.mean

    @property
    def reply_ratio(self) -> float:
        """The bot's mean time per update over the bare handler's sending the same answer."""
        return self.bot.mean / self.reply.mean

    @property
    def p50_ratio(self) -> float:
        """The bot's median time per update over the echo handler's."""
        return self.bot.p50 / self.echo.p50

    def as_json(self) -> dict[str, Any]:
        """Plain data, with the derived figures."""
        data = asdict(self)
        for side in ("bot", "echo", "reply"):
            timing: Timing = getattr(self, side)
            data[side]["per_second"] = timing.per_second
            data[side]["mean"] = timing.mean
        ratios = {"ratio": self.ratio, "p50_ratio": self.p50_ratio}
        return {**data, **ratios, "reply_ratio": self.reply_ratio}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OverheadResult:
        """Back from ``as_json`` (the probe process prints it, the parent reads it)."""
        timing = {
            side: Timing(**{k: data[side][k] for k in ("updates", "total", "p50", "p99")})
            for side in ("bot", "echo", "reply")
        }
        return cls(
            bot=timing["bot"],
            echo=timing["echo"],
            reply=timing["reply"],
            upstream_while_timed=data["upstream_while_timed"],
            parts_us=data["parts_us"],
            profile=data.get("profile", {}),
        )


async def compare(
    running: RunningBot,
    pop: Population,
    cached: Sequence[tuple[int, str]],
    *,
    updates: int = 5000,
    rounds: int = 10,
    seed: int = 6,
    profile: bool = False,
) -> OverheadResult:
    """Time ``updates`` ``/last`` updates about ``cached`` numbers through the bot and through
    the baselines, on the bot's ``Bot``."""
    stream = last_updates(pop, cached, updates, seed)
    accounts = await _accounts_of(running)
    echo = echo_dispatcher()
    reply = reply_dispatcher(await _answers(running, stream, accounts))

    async def feed_echo(update: dict[str, Any]) -> None:
        await echo.feed_raw_update(running.bot, update)

    async def feed_reply(update: dict[str, Any]) -> None:
        await reply.feed_raw_update(running.bot, update)

    sides: list[tuple[str, Feed]] = [
        ("bot", running.feed),
        ("echo", feed_echo),
        ("reply", feed_reply),
    ]
    for _, feed in sides:
        await _timed(feed, stream[:WARMUP])
    before = await _quota_left(running, accounts)
    times: dict[str, list[float]] = {name: [] for name, _ in sides}
    size = max(1, len(stream) // rounds)
    for n, start in enumerate(range(0, len(stream), size)):
        part = stream[start : start + size]
        shift = n % len(sides)  # each side goes first in turn
        for name, feed in sides[shift:] + sides[:shift]:
            times[name] += await _timed(feed, part)
    upstream = before - await _quota_left(running, accounts)
    result = OverheadResult(
        bot=Timing.of(times["bot"]),
        echo=Timing.of(times["echo"]),
        reply=Timing.of(times["reply"]),
        upstream_while_timed=upstream,
        parts_us=await _parts(running, pop, stream[:PARTS], accounts),
    )
    if profile:
        sample = stream[: min(len(stream), 1000)]
        result.profile = {name: await _profile(feed, sample) for name, feed in sides}
    return result


async def _answers(
    running: RunningBot, stream: Sequence[dict[str, Any]], accounts: dict[str, Account]
) -> dict[tuple[int, str], tuple[str, InlineKeyboardMarkup]]:
    """The bot's answer (HTML and buttons) to each distinct (user, text) of ``stream``."""
    lookups: Lookups = running.dispatcher.workflow_data["lookups"]
    store = running.services.storage
    found: dict[tuple[int, str], tuple[str, InlineKeyboardMarkup]] = {}
    for update in stream:
        message = update["message"]
        user, text = int(message["from"]["id"]), str(message["text"])
        if (user, text) in found:
            continue
        member = await store.get_member(user)
        if member is None:
            raise LookupError(f"user {user} is not in the bench database")
        caller = Caller(user_id=user, lang=Lang.EN, is_admin=False, member=member)
        query = Query(Kind.LAST, phone=text.split()[-1])
        reply = await lookups.answer(query, caller, member.account, "private", user, running.bot)
        found[(user, text)] = (reply.text, reply.markup)
    return found


async def _accounts_of(running: RunningBot) -> dict[str, Account]:
    return {a.name: a for a, _ in await running.services.storage.list_accounts()}


async def _quota_left(running: RunningBot, accounts: dict[str, Account]) -> int:
    fetcher = running.services.fetcher
    return sum([await fetcher.quota_left(account) for account in accounts.values()])


async def _parts(
    running: RunningBot,
    pop: Population,
    updates: Sequence[dict[str, Any]],
    accounts: dict[str, Account],
) -> dict[str, float]:
    """The bot's own steps of the ``/last`` questions of ``updates``, each timed alone, in
    microseconds per call."""
    store, fetcher = running.services.storage, running.services.fetcher
    asked = []
    for update in updates:
        message = update["message"]
        user, phone = int(message["from"]["id"]), str(message["text"]).split()[-1]
        asked.append((user, phone, accounts[pop.account_of(pop.index_of(user)).name]))
    settings = running.services.settings
    view = View(lang=Lang.EN, tz=settings.timezone, now=running.services.clock(), mask_codes=False)

    async def member() -> None:
        for user, _, _ in asked:
            await store.get_member(user)

    async def audit() -> None:
        for user, phone, _ in asked:
            await store.audit(
                at=0.0, user_id=user, chat_id=user, command="last", argument=phone, outcome="cache"
            )

    async def fetch() -> None:
        for user, phone, account in asked:
            await fetcher.last(user, account, phone)

    lookups = [await fetcher.last(user, account, phone) for user, phone, account in asked]

    async def render() -> None:
        for lookup, (_, phone, _) in zip(lookups, asked, strict=True):
            render_last(lookup, phone, view)

    parts: dict[str, float] = {}
    for name, run in (
        ("caller: storage.get_member", member),
        ("audit: storage.audit", audit),
        ("fetch: Fetcher.last (cached)", fetch),
        ("render: render_last", render),
    ):
        began = time.perf_counter()
        await run()
        parts[name] = (time.perf_counter() - began) / len(asked) * 1e6
    return parts


async def _timed(feed: Feed, updates: Sequence[dict[str, Any]]) -> list[float]:
    times = []
    for update in updates:
        began = time.perf_counter()
        await feed(update)
        times.append(time.perf_counter() - began)
    return times


# Where time goes: a profiled function's own time is summed by what its file belongs to.
_COMPONENTS: Final = (
    ("/bot/fetch/", "bot: fetch layer"),
    ("/bot/text/", "bot: rendering"),
    ("/bot/store/database.py", "bot: storage (main thread part)"),
    ("/handlers/", "handlers and middlewares"),
    ("/bot/", "bot: other"),
    ("/tests/fakes/", "fake Telegram server"),
    ("/aiogram/", "aiogram"),
    ("/pydantic", "pydantic"),
    ("/aiohttp/", "aiohttp (client and server)"),
    ("/aiosqlite/", "aiosqlite (main thread part)"),
    ("/asyncio/", "asyncio event loop"),
    ("/cachetools/", "cachetools"),
    ("/multidict/", "aiohttp (client and server)"),
    ("/yarl/", "aiohttp (client and server)"),
    ("/cryptography/", "cryptography (Fernet)"),
    ("/site-packages/", "other libraries"),
    ("/lib/python3", "Python stdlib (json, copy, re, …)"),
)


def _component(filename: str, function: str) -> str:
    if filename == "~":
        if "poll" in function or "select" in function:
            return "waiting (epoll: I/O and the SQLite thread)"
        return "built-ins (json, sockets, locks, …)"
    for marker, name in _COMPONENTS:
        if marker in filename:
            return name
    return "other Python"


async def _profile(feed: Feed, updates: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """cProfile of the main thread over ``updates``: own time by component, and the top
    functions by own time, per update in microseconds."""
    profiler = cProfile.Profile()
    profiler.enable()
    began = time.perf_counter()
    await _timed(feed, updates)
    elapsed = time.perf_counter() - began
    profiler.disable()
    stats = pstats.Stats(profiler)
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    per_update = 1e6 / len(updates)
    components: dict[str, float] = {}
    functions: list[tuple[float, str]] = []
    for (filename, line, function), (_, _, own, _, _) in raw.items():
        name = _component(filename, function)
        components[name] = components.get(name, 0.0) + own * per_update
        where = f"{_short(filename)}:{line}" if filename != "~" else ""
        functions.append((own * per_update, f"{function} {where}".strip()))
    functions.sort(reverse=True)
    return {
        "updates": len(updates),
        "us_per_update_profiled": elapsed * per_update,
        "components_us": dict(sorted(components.items(), key=lambda item: -item[1])),
        "top_functions_us": [[name, round(us, 1)] for us, name in functions[:15]],
    }


_ROOT: Final = str(Path(__file__).resolve().parent.parent) + "/"


def _short(filename: str) -> str:
    for marker in ("site-packages/", _ROOT, "/lib/python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename
