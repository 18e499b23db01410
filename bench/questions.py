"""A support team's hour on a realistic account: who asks about which number, and when.

At 1× load 20 agents ask about 150 ``/last`` questions in the hour (k× at k×), about numbers
of every age, plus ``/failed 1`` four times an hour (k×). Each ``/last`` is about a number whose
newest message was sent:

- **minutes** (40 %) — 10 s to 5 min before the question: "the code never came" (half of them
  to a number the account never texted before). Half of these get a resend 30 s to 3 min after
  the question, and 70 % of those a **repeat** question by the same agent 20 s to 2 min after the
  resend;
- **hour** (20 %) — 5 to 55 minutes before; **today** (18 %) — 1 to 12 hours before;
  **days** (12 %) — 26 hours to the start of the history;
- **never** (10 %) — a typo: a number one digit off a real one, which has no messages.

Question times: 60 % uniform over the hour, 40 % in waves (6 an hour at 1×, k× at k×; a
question follows its wave's start by Exp(mean 30 s)). Every draw comes from ``random.Random``
seeded by (size, seed, load), so an hour is the same on every machine.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from typing import Final, Literal, cast

from bench.accounts import FIRST_ID, HOUR, Account, Sent, Truth, new_send, number

AGENTS: Final = 20
LAST_QUESTIONS: Final = 150
FAILED_QUESTIONS: Final = 4
FAILED_HOURS: Final = 1
WAVES: Final = 6
WAVE_SHARE: Final = 0.4
WAVE_SPREAD: Final = 30.0
KINDS: Final = (("minutes", 0.40), ("hour", 0.20), ("today", 0.18), ("days", 0.12), ("never", 0.10))
NEW_NUMBER_SHARE: Final = 0.5  # "minutes" questions about a number never texted before
RESEND_SHARE: Final = 0.5
REPEAT_SHARE: Final = 0.7
# How long ago the asked number's newest message was sent, by kind (seconds; None: the
# history's start).
CODE_AGE: Final = (10.0, 300.0)
AGES: Final[dict[str, tuple[float, float | None]]] = {
    "minutes": CODE_AGE,
    "hour": (300.0, 3300.0),
    "today": (HOUR, 12 * HOUR),
    "days": (26 * HOUR, None),
}

Kind = Literal["minutes", "hour", "today", "days", "never", "repeat", "failed"]


@dataclass(frozen=True, slots=True)
class Question:
    """One question, ``at`` seconds into the hour, by agent ``agent`` (0-based)."""

    at: float
    agent: int
    command: Literal["last", "failed"]
    phone: str = ""
    kind: Kind = "minutes"

    @property
    def text(self) -> str:
        """The message the agent types."""
        if self.command == "last":
            return f"/last {self.phone}"
        return f"/failed {FAILED_HOURS}"


@dataclass(frozen=True)
class Hour:
    """A replayable hour: the account, its sends during the hour (numbered, in time order),
    the questions (in time order) and the truth to judge answers against."""

    account: Account
    load: int
    seed: int
    agents: int
    sends: tuple[Sent, ...]
    questions: tuple[Question, ...]
    truth: Truth

    @property
    def start(self) -> float:
        """Unix time of the hour's first second."""
        return self.account.start

    def lasts(self) -> int:
        """How many ``/last`` questions."""
        return sum(1 for question in self.questions if question.command == "last")


class _Picker:
    """Finds numbers whose newest message is of a given age, among the account's messages."""

    def __init__(self, account: Account) -> None:
        self.sends = sorted((*account.history, *account.traffic), key=lambda sent: sent.at)
        self.times = [sent.at - account.start for sent in self.sends]
        self.by_phone: dict[str, list[float]] = {}
        for at, sent in zip(self.times, self.sends, strict=True):
            self.by_phone.setdefault(sent.phone, []).append(at)
        self.oldest = self.times[0] if self.times else 0.0

    def aged(self, rng: random.Random, asked: float, low: float, high: float) -> str | None:
        """A number whose newest message before ``asked`` was sent ``low``..``high`` s earlier."""
        target = asked - rng.uniform(low, high)
        middle = bisect.bisect_left(self.times, target)
        for step in range(200):
            index = middle + (step // 2 if step % 2 else -(step // 2) - 1)
            if not 0 <= index < len(self.times):
                continue
            at = self.times[index]
            if not asked - high <= at <= asked - low:
                continue
            phone = self.sends[index].phone
            later = self.by_phone[phone]
            after = bisect.bisect_right(later, at)
            if after == len(later) or later[after] > asked:
                return phone
        return None


def build_hour(account: Account, load: int = 1, seed: int = 1) -> Hour:
    """The team's hour at ``load``× on ``account``, the same for the same seed."""
    rng = random.Random(f"bench-questions-{account.size.name}-{seed}-{load}")
    picker = _Picker(account)
    known = set(account.numbers)
    agents = AGENTS * load
    waves = [rng.uniform(0.0, HOUR) for _ in range(WAVES * load)]
    kinds = [name for name, _ in KINDS]
    shares = [share for _, share in KINDS]
    questions: list[Question] = []
    linked: list[Sent] = []  # sends the questions are about: codes, resends
    lasts = 0
    while lasts < LAST_QUESTIONS * load:
        if rng.random() < WAVE_SHARE:
            at = min(HOUR - 1.0, rng.choice(waves) + rng.expovariate(1.0 / WAVE_SPREAD))
        else:
            at = rng.uniform(0.0, HOUR)
        agent = rng.randrange(agents)
        kind = cast(Kind, rng.choices(kinds, shares)[0])
        phone: str | None = None
        if kind == "minutes":
            phone = (
                _fresh(rng, known)
                if rng.random() < NEW_NUMBER_SHARE
                else rng.choice(account.numbers)
            )
            sent_at = max(0.0, at - rng.uniform(*CODE_AGE))
            linked.append(new_send(rng, int(account.start + sent_at), phone))
            if rng.random() < RESEND_SHARE:
                resend = at + rng.uniform(30.0, 180.0)
                if resend < HOUR:
                    linked.append(new_send(rng, int(account.start + resend), phone))
                    repeat = resend + rng.uniform(20.0, 120.0)
                    if rng.random() < REPEAT_SHARE and repeat < HOUR:
                        questions.append(Question(repeat, agent, "last", phone, "repeat"))
                        lasts += 1
        elif kind == "never":
            phone = _typo(rng, account.numbers, known)
        else:
            low, high = AGES[kind]
            oldest = at - picker.oldest - 60.0
            phone = picker.aged(rng, at, low, min(oldest, high) if high else oldest)
            if phone is None:
                continue
        questions.append(Question(at, agent, "last", phone, kind))
        lasts += 1
    for _ in range(FAILED_QUESTIONS * load):
        questions.append(
            Question(rng.uniform(0.0, HOUR), rng.randrange(agents), "failed", kind="failed")
        )
    questions.sort(key=lambda question: question.at)
    top = account.history[-1] if account.history else None
    first_int_id = (top.int_id + 3) if top else 0
    first_id = (top.id + 1) if top else FIRST_ID
    sends = number((*account.traffic, *linked), first_int_id, first_id)
    truth = Truth((*account.history, *sends))
    return Hour(account, load, seed, agents, tuple(sends), tuple(questions), truth)


def _fresh(rng: random.Random, known: set[str]) -> str:
    """A number the account has never texted (and remembers it as known from now on)."""
    while True:
        phone = f"79{rng.randrange(10**9):09d}"
        if phone not in known:
            known.add(phone)
            return phone


def _typo(rng: random.Random, numbers: tuple[str, ...], known: set[str]) -> str:
    """A real number with one digit (after ``79``) mistyped, which has no messages."""
    while True:
        real = rng.choice(numbers)
        position = rng.randrange(2, len(real))
        digit = rng.choice([d for d in "0123456789" if d != real[position]])
        phone = real[:position] + digit + real[position + 1 :]
        if phone not in known:
            known.add(phone)
            return phone
