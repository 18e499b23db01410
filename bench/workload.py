"""The hour of a support team that the quota benchmark replays: who asks what, and when.

Everything is drawn from ``random.Random`` generators seeded by the seed (the account's history
by the seed alone, the hour by the seed and the load), so a seed gives the same hour on every
machine. At 1× load, 20 agents ask 150 questions in an hour:

- **Bursts.** Questions come in waves (an operator outage, a mailing that went wrong): 12 burst
  starts an hour, uniform over the hour (a Poisson process); each question joins a burst with a
  weight drawn from Exp(1), so waves differ in size; inside a wave, questions follow its start by
  Exp(mean 30 s), so a wave lasts a minute or two.
- **What is asked.** 85 % ``/last`` (the number drawn from a Zipf-like popularity, weight
  ``1/rank^1.1`` over 60 numbers), 5 % ``/history`` (same numbers, 5 messages), 5 % ``/failed``
  (the last hour), 5 % ``/recent`` (10 messages).
- **The account.** 400 messages to those numbers over the 3 days before the hour (every number
  has some), 50 sends at random moments of the hour, and before 60 % of the ``/last``
  questions a message to that number 10 s to 5 min earlier (the code "that never came"); 15 %
  of sends end undelivered (status 20, error 6).

At k× load there are k× the agents, questions and waves, over the same account and numbers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final, Literal

HOUR: Final = 3600.0
DAY: Final = 86400.0

Command = Literal["last", "history", "failed", "recent"]

# The team and its hour at 1× load.
AGENTS: Final = 20
QUESTIONS: Final = 150
NUMBERS: Final = 60
BURSTS: Final = 12
BURST_SPREAD: Final = 30.0  # mean seconds from a wave's start to a question in it
ZIPF_EXPONENT: Final = 1.1
MIX: Final[tuple[tuple[Command, float], ...]] = (
    ("last", 0.85),
    ("history", 0.05),
    ("failed", 0.05),
    ("recent", 0.05),
)
HISTORY_COUNT: Final = 5
RECENT_COUNT: Final = 10
FAILED_HOURS: Final = 1
# The account's own traffic.
BACKGROUND_MESSAGES: Final = 400
BACKGROUND_DAYS: Final = 3.0
STEADY_SENDS: Final = 50  # sends an hour to numbers nobody asks about just then
SEND_BEFORE_LAST: Final = 0.6  # share of /last questions preceded by a send to that number
FAILURE_SHARE: Final = 0.15  # sends that end undelivered (status 20, err 6)


@dataclass(frozen=True, slots=True)
class Question:
    """One question: ``at`` seconds into the hour, by agent ``agent`` (0-based)."""

    at: float
    agent: int
    command: Command
    phone: str = ""
    count: int = 0  # messages for /history and /recent, hours for /failed

    @property
    def text(self) -> str:
        """The message an agent types."""
        if self.command == "last":
            return f"/last {self.phone}"
        if self.command == "history":
            return f"/history {self.phone} {self.count}"
        return f"/{self.command} {self.count}"


@dataclass(frozen=True, slots=True)
class Send:
    """A message the account sends: ``at`` seconds relative to the hour's start (may be < 0)."""

    at: float
    phone: str
    status: int
    err: int


@dataclass(frozen=True, slots=True)
class Workload:
    """A replayable hour: the account's history before it, its sends and questions during it."""

    load: int
    seed: int
    agents: int
    numbers: tuple[str, ...]
    background: tuple[Send, ...]  # before the hour, oldest first
    sends: tuple[Send, ...]  # during the hour, in time order
    questions: tuple[Question, ...]  # in time order

    def counts(self) -> dict[str, int]:
        """How many questions of each command."""
        found: dict[str, int] = dict.fromkeys([name for name, _ in MIX], 0)
        for question in self.questions:
            found[question.command] += 1
        return found


def build_workload(load: int = 1, seed: int = 6) -> Workload:
    """The hour at ``load``× (1, 2, 5, …), the same for the same ``seed``."""
    rng = random.Random(f"bench-workload-{seed}")  # the load does not change the account
    numbers = _numbers(rng, NUMBERS)
    weights = [1.0 / (rank + 1) ** ZIPF_EXPONENT for rank in range(NUMBERS)]
    background = _background(rng, numbers)
    rng = random.Random(f"bench-questions-{seed}-{load}")
    questions = _questions(rng, numbers, weights, load)
    sends = _sends(rng, numbers, questions, load)
    return Workload(
        load=load,
        seed=seed,
        agents=AGENTS * load,
        numbers=tuple(numbers),
        background=tuple(background),
        sends=tuple(sends),
        questions=tuple(questions),
    )


def _numbers(rng: random.Random, count: int) -> list[str]:
    found: list[str] = []
    while len(found) < count:
        phone = "79" + f"{rng.randrange(10**9):09d}"
        if phone not in found:
            found.append(phone)
    return found


def _outcome(rng: random.Random) -> tuple[int, int]:
    return (20, 6) if rng.random() < FAILURE_SHARE else (1, 0)


def _background(rng: random.Random, numbers: list[str]) -> list[Send]:
    """Every number gets one message, the rest at random, over the days before the hour."""
    phones = [*numbers, *(rng.choice(numbers) for _ in range(BACKGROUND_MESSAGES - len(numbers)))]
    moments = sorted(rng.uniform(-BACKGROUND_DAYS * DAY, -60.0) for _ in phones)
    rng.shuffle(phones)
    return [Send(at, phone, *_outcome(rng)) for at, phone in zip(moments, phones, strict=True)]


def _questions(
    rng: random.Random, numbers: list[str], weights: list[float], load: int
) -> list[Question]:
    starts = [rng.uniform(0.0, HOUR) for _ in range(BURSTS * load)]
    sizes = [rng.expovariate(1.0) for _ in starts]
    commands = [name for name, _ in MIX]
    shares = [share for _, share in MIX]
    questions: list[Question] = []
    for _ in range(QUESTIONS * load):
        start = rng.choices(starts, sizes)[0]
        at = min(HOUR - 1.0, start + rng.expovariate(1.0 / BURST_SPREAD))
        command: Command = rng.choices(commands, shares)[0]
        agent = rng.randrange(AGENTS * load)
        phone = rng.choices(numbers, weights)[0] if command in ("last", "history") else ""
        count = {"history": HISTORY_COUNT, "recent": RECENT_COUNT, "failed": FAILED_HOURS}
        questions.append(Question(at, agent, command, phone, count.get(command, 0)))
    questions.sort(key=lambda question: question.at)
    return questions


def _sends(
    rng: random.Random, numbers: list[str], questions: list[Question], load: int
) -> list[Send]:
    """Steady traffic, and a send to a number shortly before most ``/last`` questions on it."""
    sends = [
        Send(rng.uniform(0.0, HOUR), rng.choice(numbers), *_outcome(rng))
        for _ in range(STEADY_SENDS * load)
    ]
    for question in questions:
        if question.command == "last" and rng.random() < SEND_BEFORE_LAST:
            at = max(0.0, question.at - rng.uniform(10.0, 300.0))
            sends.append(Send(at, question.phone, *_outcome(rng)))
    sends.sort(key=lambda send: send.at)
    return sends
