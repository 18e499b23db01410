"""The bot process that ``bench.growth`` measures: the bot (or the bare echo baseline) alone.

``python -m bench.probe --scale K --database DB --smsc URL --telegram URL --token T`` opens
the bot on the population's database with a clock that stands still, fills its cache
(``bench.population.fill_cache``), answers ``--answered`` ``/last`` updates, notes its peak
resident set (``VmHWM``), then times ``/last`` updates through it beside the baselines
(``bench.overhead.compare``), and prints one JSON line: the overhead figures, resident set
sizes along the way, the peak, and what the cache holds.

With ``--echo`` it is the baseline's process instead: a bare aiogram echo bot fed as many
updates. The simulated SMS Center and the fake Telegram server live in the parent process, so
they are not counted here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.echo import echo_dispatcher
from bot.chat.telegram import make_bot
from tests.fakes.updates import message_update

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    """This process's resident set size now, in bytes."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * _PAGE


def peak_rss() -> int:
    """The highest resident set size of this process's memory, in bytes (``VmHWM``).

    Not ``getrusage``'s ``ru_maxrss``: Linux carries into it the high-water mark of the memory
    image replaced by ``exec``, which for a child is the forked copy of its parent.
    """
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


async def _bot(args: argparse.Namespace, marks: dict[str, Any]) -> None:
    # Imported here, so that the echo baseline's process holds aiogram and not the bot.
    from bench.harness import WIDE_GUARD, running_bot
    from bench.overhead import compare
    from bench.population import cached_questions, fill_cache, held, last_updates, population
    from tests.fakes.clock import FakeClock

    marks["rss_imported"] = rss()
    pop = population(args.scale)
    clock = FakeClock(time.time())
    async with running_bot(
        database=Path(args.database),
        smsc_url=args.smsc,
        telegram_url=args.telegram,
        token=args.token,
        clock=clock,
        sleep=clock.sleep,
        gather=0.0,  # lookups are made one at a time: nothing to gather
        user_rate_limit=WIDE_GUARD,
    ) as running:
        marks["rss_started"] = rss()
        began = time.perf_counter()
        await fill_cache(running, pop)
        marks["fill_seconds"] = time.perf_counter() - began
        marks["rss_filled"] = rss()
        cached = await cached_questions(running, pop)
        for update in last_updates(pop, cached, args.answered, args.seed + 1):
            await running.feed(update)
        marks["held"] = held(running)
        marks["rss_end"] = rss()
        # The memory figure: taken before the overhead timing, whose baselines and tables
        # live in this process too.
        marks["peak_rss"] = peak_rss()
        overhead = await compare(
            running, pop, cached, updates=args.updates, seed=args.seed, profile=args.profile
        )
        marks["overhead"] = overhead.as_json()
        marks["peak_rss_after_timing"] = peak_rss()


async def _echo(args: argparse.Namespace, marks: dict[str, Any]) -> None:
    dispatcher = echo_dispatcher()
    bot = make_bot(args.token, args.telegram)
    try:
        marks["rss_started"] = rss()
        for n in range(args.answered):
            update = message_update(f"/last 79{n:09d}", user_id=100_000 + n % 100, date=0)
            await dispatcher.feed_raw_update(bot, update)
        marks["rss_end"] = rss()
    finally:
        await bot.session.close()


def main(argv: Sequence[str] | None = None) -> None:
    """Run one probe and print its figures as one JSON line on stdout."""
    parser = argparse.ArgumentParser(description="bench: the measured bot process")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--database", default="")
    parser.add_argument("--smsc", default="")
    parser.add_argument("--telegram", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--updates", type=int, default=5000, help="per side, timed")
    parser.add_argument("--answered", type=int, default=1000, help="before the memory figure")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--echo", action="store_true")
    args = parser.parse_args(argv)
    marks: dict[str, Any] = {"rss_imported": rss()}
    asyncio.run(_echo(args, marks) if args.echo else _bot(args, marks))
    marks.setdefault("peak_rss", peak_rss())
    print(json.dumps(marks))


if __name__ == "__main__":
    main()
