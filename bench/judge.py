"""The correct-answer metric: is what a person was shown for ``/last`` the truth, when they had it?
And for ``/failed``: how many of the period's true failures did it report, over which part of
the period, from data how old?

A ``/last`` answer is **correct** when the message it presents as the newest to the number is
the true newest message (``Truth.newest``: what SMS Center holds for the number, newest first)
and its status is the true status, both at the moment the person has the **final** answer: the
last thing shown for the question (the answer itself when nothing follows; the last edit when
the answer is edited as data lands). "No messages" is correct when the number has none.
An error or "try again at …" presents nothing and is never correct.

- **correct within 60 s**: the final answer landed within ``PROMPT`` s of asking and was
  correct then;
- **shown as current but wrong** (PRODUCT.md §7): something shown without a held, stale or
  cached mark whose "as of" (``Lookup.fetched_at``) is within ``CACHE_TTL`` of the moment it
  was shown, yet wrong at that moment. Counted once per question if any of its shown states
  was such.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from bench.accounts import HOUR, Truth
from bench.questions import Question
from bot.text.codes import FAILURE_STATUSES

CACHE_TTL: Final = 60.0  # the bot's default: "current" data is at most this old
PROMPT: Final = 60.0  # "within 60 s of asking"


@dataclass(frozen=True, slots=True)
class Shown:
    """One state of an answer as the person saw it from ``at`` (Unix time) on.

    ``data`` False: no data was shown (an error, "try again at …"). Otherwise ``int_id`` and
    ``status`` are the message presented as the newest to the number (``int_id`` None: "no
    messages"); ``marked`` says the answer carried a held/stale/cached mark, ``as_of`` is when
    its data was fetched from SMS Center.
    """

    at: float
    data: bool
    int_id: int | None = None
    status: int | None = None
    marked: bool = False
    as_of: float | None = None


@dataclass
class Answer:
    """What one ``/last`` question got: its shown states in order (empty: no answer at all)."""

    question: Question
    asked_at: float  # Unix time
    shown: list[Shown] = field(default_factory=list)

    @property
    def final(self) -> Shown | None:
        """The last state shown, or None when nothing was."""
        return self.shown[-1] if self.shown else None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The judgement of one answer; ``reason`` names what was wrong ("" when correct)."""

    correct: bool
    within_prompt: bool
    shown_current_wrong: bool
    reason: str


def right_at(shown: Shown, phone: str, truth: Truth) -> str:
    """ "" when ``shown`` is the truth about ``phone`` at ``shown.at``, else why not."""
    if not shown.data:
        return "no data"
    newest = truth.newest(phone, shown.at)
    if newest is None:
        return "" if shown.int_id is None else "a message where there is none"
    if shown.int_id is None:
        return "no messages, but there is one"
    if shown.int_id != newest.int_id:
        older = any(sent.int_id == shown.int_id for sent in truth.sends_to(phone))
        return "an older message" if older else "another number's message"
    status, _ = newest.status_at(shown.at)
    return "" if shown.status == status else "the status has changed"


def judge(answer: Answer, truth: Truth) -> Verdict:
    """The verdict on ``answer`` against ``truth``."""
    phone = answer.question.phone
    final = answer.final
    if final is None:
        return Verdict(False, False, False, "no answer")
    reason = right_at(final, phone, truth)
    current_wrong = any(
        shown.data
        and not shown.marked
        and shown.as_of is not None
        and shown.at - shown.as_of <= CACHE_TTL
        and right_at(shown, phone, truth) != ""
        for shown in answer.shown
    )
    within = not reason and final.at - answer.asked_at <= PROMPT
    return Verdict(not reason, within, current_wrong, reason)


@dataclass
class Score:
    """Verdicts summed over answers: counts, and what was wrong by reason and by kind."""

    questions: int = 0
    correct: int = 0
    within_prompt: int = 0
    shown_current_wrong: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind → [asked, correct]

    def add(self, answer: Answer, verdict: Verdict) -> None:
        """Count one judged answer."""
        self.questions += 1
        self.correct += verdict.correct
        self.within_prompt += verdict.within_prompt
        self.shown_current_wrong += verdict.shown_current_wrong
        if verdict.reason:
            self.reasons[verdict.reason] += 1
        tally = self.by_kind.setdefault(answer.question.kind, [0, 0])
        tally[0] += 1
        tally[1] += verdict.correct


def score(answers: Iterable[Answer], truth: Truth) -> Score:
    """Judge every answer."""
    total = Score()
    for answer in answers:
        total.add(answer, judge(answer, truth))
    return total


@dataclass(frozen=True, slots=True)
class FailedShown:
    """One ``/failed`` answer as shown at ``at``: the period it was asked about (``hours``), the
    moment from which its list is whole (``covered_since``), when its data was fetched
    (``as_of``), and the ``int_id`` of every failure it reported."""

    at: float
    hours: float
    covered_since: float
    as_of: float
    reported: frozenset[int]


@dataclass
class FailedScore:
    """``/failed`` answers summed: true failures, those reported, coverage and data age."""

    answers: int = 0
    true_failures: int = 0
    reported_true: int = 0
    covered: float = 0.0  # sum over answers of the share of the period covered
    ages: list[float] = field(default_factory=list)

    def add(self, shown: FailedShown, truth: Truth) -> None:
        """Judge one answer against the truth at the moment it was shown."""
        since = shown.at - shown.hours * HOUR
        true = {
            sent.int_id
            for sent in truth.sent_between(since, shown.at)
            if sent.status_at(shown.at)[0] in FAILURE_STATUSES
        }
        self.answers += 1
        self.true_failures += len(true)
        self.reported_true += len(true & shown.reported)
        period = shown.at - since
        self.covered += min(1.0, max(0.0, (shown.as_of - max(since, shown.covered_since)) / period))
        self.ages.append(shown.at - shown.as_of)


def score_failed(answers: Iterable[FailedShown], truth: Truth) -> FailedScore:
    """Judge every ``/failed`` answer."""
    total = FailedScore()
    for shown in answers:
        total.add(shown, truth)
    return total
