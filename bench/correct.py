"""Correct answers on realistic accounts: the bot beside a naive and a batched-only client.

For each account size (``bench.accounts``: 2 000 and 30 000 SMS a day), load (1×, 2×, 5× of a
20-agent team's hour, ``bench.questions``) and seed, each client of ``bench.clients`` answers
the same hour against its own simulated SMS Center, and ``bench.judge`` scores its ``/last``
answers against the account's truth. Requests and rate-limit refusals (error 9) are counted at
the simulator's HTTP boundary (``SmscLog``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from bench.accounts import SIZES, Account, build_account
from bench.clients import API_KEY, CLIENTS, WITHOUT_PUSHES, replay
from bench.judge import score, score_failed
from bench.questions import Hour, build_hour
from bench.smsc_log import RATE_LIMITED, SmscLog
from bot.smsc.simulator import SimulatedSmsc
from tests.fakes.clock import FakeClock

# The hour starts at Monday 21.09.2026, 17:13 in Moscow: the account's busy afternoon.
START: Final = 1_790_000_000.0


@dataclass
class CorrectResult:
    """One client's hour on one account, load and seed: how many ``/last`` answers were right."""

    client: str
    size: str
    load: int
    seed: int
    lasts: int
    correct: int
    within_prompt: int
    shown_current_wrong: int
    rate_limit_errors: int
    upstream_requests: int
    seconds: float = 0.0
    status_requests: int = 0  # status.php, counted at the simulator
    status_refused: int = 0  # status.php answered error 9 (its published limits were passed)
    failed_asked: int = 0  # /failed answers judged (the bot only)
    failed_true: int = 0  # the periods' true failures, summed over those answers
    failed_reported: int = 0  # of them, reported
    failed_covered: float = 0.0  # sum of the share of each period the answer covered
    failed_ages: list[float] = field(default_factory=list)  # data age of each answer, s
    reasons: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind → [asked, correct]

    def as_json(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


async def run(client: str, hour: Hour) -> CorrectResult:
    """``client`` answers ``hour`` against a simulator of its own; the judged result."""
    began = time.perf_counter()
    clock = FakeClock(hour.start)
    sim = SimulatedSmsc(clock=clock, with_demo=False, accounts={API_KEY: hour.account.records()})
    log = SmscLog(sim)
    async with sim, CLIENTS[client](sim, clock, hour) as player:
        answers = await replay(hour, clock, sim, player)
    total = score(answers, hour.truth)
    failed = score_failed(getattr(player, "failed_shown", ()), hour.truth)
    return CorrectResult(
        client=client,
        size=hour.account.size.name,
        load=hour.load,
        seed=hour.seed,
        lasts=total.questions,
        correct=total.correct,
        within_prompt=total.within_prompt,
        shown_current_wrong=total.shown_current_wrong,
        rate_limit_errors=log.refused(RATE_LIMITED, "get"),
        upstream_requests=log.count("get"),
        seconds=round(time.perf_counter() - began, 2),
        status_requests=log.count("status"),
        status_refused=log.refused(RATE_LIMITED, "status"),
        failed_asked=failed.answers,
        failed_true=failed.true_failures,
        failed_reported=failed.reported_true,
        failed_covered=round(failed.covered, 4),
        failed_ages=[round(age, 1) for age in failed.ages],
        reasons=dict(total.reasons),
        by_kind=total.by_kind,
    )


async def run_all(
    *,
    sizes: Sequence[str] = ("small", "busy"),
    loads: Sequence[int] = (1, 2, 5),
    seeds: Iterable[int] = (1, 2),
    clients: Sequence[str] = WITHOUT_PUSHES,
    progress: Callable[[CorrectResult], None] | None = None,
) -> list[CorrectResult]:
    """Every client on every size, load and seed; one account built per (size, seed)."""
    results: list[CorrectResult] = []
    for seed in seeds:
        for name in sizes:
            account: Account = build_account(SIZES[name], seed, START)
            for load in loads:
                hour = build_hour(account, load, seed)
                for client in clients:
                    result = await run(client, hour)
                    results.append(result)
                    if progress is not None:
                        progress(result)
    return results


@dataclass
class Pooled:
    """Results of one (client, size, load) summed over seeds."""

    client: str
    size: str
    load: int
    seeds: list[int] = field(default_factory=list)
    lasts: int = 0
    correct: int = 0
    within_prompt: int = 0
    shown_current_wrong: int = 0
    rate_limit_errors: int = 0
    upstream_most: int = 0
    correct_shares: list[float] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind → [asked, correct]
    status_requests_most: int = 0
    status_refused: int = 0
    failed_asked: int = 0
    failed_true: int = 0
    failed_reported: int = 0
    failed_covered: float = 0.0
    failed_ages: list[float] = field(default_factory=list)

    @property
    def failed_recall(self) -> float | None:
        """Reported ÷ true failures over every ``/failed`` answer (None: none judged)."""
        return self.failed_reported / self.failed_true if self.failed_true else None

    @property
    def failed_coverage(self) -> float | None:
        """The mean share of the asked period the ``/failed`` answers covered."""
        return self.failed_covered / self.failed_asked if self.failed_asked else None

    def share(self, count: int) -> float:
        """``count`` as a share of the ``/last`` questions."""
        return count / self.lasts if self.lasts else 0.0


def pool(results: Iterable[CorrectResult]) -> list[Pooled]:
    """Sum results over seeds, per (client, size, load), in the order first seen."""
    found: dict[tuple[str, str, int], Pooled] = {}
    for r in results:
        group = found.setdefault((r.client, r.size, r.load), Pooled(r.client, r.size, r.load))
        group.seeds.append(r.seed)
        group.lasts += r.lasts
        group.correct += r.correct
        group.within_prompt += r.within_prompt
        group.shown_current_wrong += r.shown_current_wrong
        group.rate_limit_errors += r.rate_limit_errors
        group.upstream_most = max(group.upstream_most, r.upstream_requests)
        group.correct_shares.append(r.correct / r.lasts if r.lasts else 0.0)
        group.status_requests_most = max(group.status_requests_most, r.status_requests)
        group.status_refused += r.status_refused
        group.failed_asked += r.failed_asked
        group.failed_true += r.failed_true
        group.failed_reported += r.failed_reported
        group.failed_covered += r.failed_covered
        group.failed_ages.extend(r.failed_ages)
        group.reasons.update(r.reasons)
        for kind, (asked, right) in r.by_kind.items():
            tally = group.by_kind.setdefault(kind, [0, 0])
            tally[0] += asked
            tally[1] += right
    return sorted(
        found.values(),
        key=lambda g: (g.size != "busy", g.load, list(CLIENTS).index(g.client)),
    )
