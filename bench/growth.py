"""Overhead and memory at a scale: one bot process (``bench.probe``) per scale, measured alone.

The parent (this module) runs what the bot talks to — the simulated SMS Center with the
population's accounts, on real time so that its limits hold, and the fake Telegram Bot API
server — and starts two child processes: the bot, and the bare aiogram echo bot as the memory
baseline, fed as many updates. A child's resident set is its own; the bot's peak is taken
after it filled its cache and answered ``ANSWERED`` updates, before the overhead timing.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from bench.overhead import OverheadResult
from bench.population import population, prepared_database, smsc_accounts
from bot.smsc.simulator import SimulatedSmsc
from tests.fakes.telegram import FakeTelegramServer

ROOT: Final = Path(__file__).resolve().parent.parent
ANSWERED: Final = 1000  # /last updates the bot answers (and the echo bot) before its peak RSS


@dataclass
class MemoryResult:
    """Resident set sizes of the bot process, and of the echo baseline's, in bytes."""

    peak_rss: int  # after filling the cache and answering ANSWERED updates
    rss_imported: int  # interpreter, aiogram, the bot's modules
    rss_started: int  # database open, Dispatcher built
    rss_filled: int  # cache filled
    rss_end: int  # ANSWERED updates answered
    echo_peak_rss: int  # a bare aiogram echo bot that answered ANSWERED updates
    peak_rss_after_timing: int  # the bot's process once it also held the overhead baselines


@dataclass
class ScaleResult:
    """Overhead and memory of the bot at ``scale``× the 1× population."""

    scale: int
    users: int
    numbers: int
    accounts: int
    held: dict[str, int]
    fill_seconds: float
    overhead: OverheadResult
    memory: MemoryResult

    def as_json(self) -> dict[str, Any]:
        """Plain data."""
        data = asdict(self)
        data["overhead"] = self.overhead.as_json()
        return data


async def _probe(*args: str) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.probe",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"bench.probe failed:\n{err.decode(errors='replace')[-3000:]}")
    marks: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return marks


async def measure(
    scale: int, workdir: Path, *, updates: int = 5000, seed: int = 6, profile: bool = False
) -> ScaleResult:
    """Run the bot process and the echo baseline's at ``scale``."""
    pop = population(scale)
    sim = SimulatedSmsc(with_demo=False, accounts=smsc_accounts(pop, time.time()))
    database = await prepared_database(pop, workdir, time.time())
    async with sim, FakeTelegramServer() as telegram:
        common = ("--telegram", telegram.base_url, "--token", telegram.token)
        options = ("--updates", str(updates), "--answered", str(ANSWERED), "--seed", str(seed))
        bot = await _probe(
            *common,
            *options,
            *(("--profile",) if profile else ()),
            "--scale",
            str(scale),
            "--database",
            str(database),
            "--smsc",
            sim.base_url,
        )
        echo = await _probe(*common, *options, "--echo")
    return ScaleResult(
        scale=scale,
        users=pop.users,
        numbers=pop.numbers,
        accounts=len(pop.accounts),
        held=bot["held"],
        fill_seconds=bot["fill_seconds"],
        overhead=OverheadResult.from_json(bot["overhead"]),
        memory=MemoryResult(
            peak_rss=bot["peak_rss"],
            rss_imported=bot["rss_imported"],
            rss_started=bot["rss_started"],
            rss_filled=bot["rss_filled"],
            rss_end=bot["rss_end"],
            echo_peak_rss=echo["peak_rss"],
            peak_rss_after_timing=bot["peak_rss_after_timing"],
        ),
    )
