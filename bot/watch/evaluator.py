"""The watch's evaluator: one look at an account, and what the watch says because of it.

Pure: ``evaluate(rule, state, sight, now)`` returns the new state and the events to send; the
caller keeps the state (in SQLite, ``bot.store.watches``) and the clock (``now``), so an hour
runs in a test in a second and a restart picks up where it stopped.

The rules (PRODUCT.md §10, Alertmanager's habits):

- **The share**: among the messages whose status became final in the period (by status time:
  a push's ``ts``, or ``last_timestamp`` from history), failed (3, 20, 22–25) ÷ (failed +
  delivered). Messages still in progress are counted beside it, not in it. The period ends
  where the data is current (``Sight.as_of``), not at ``now``: data an hour old says nothing
  about the last fifteen minutes, and sliding the period past it would count failures out
  that were never counted in.
- **Fires** when the share reaches ``percent`` (≥) with at least ``MIN_FAILURES`` failures.
- **One alert per incident**; a repeat only when the failure count at least doubles since the
  last alert, or ``REPEAT_AFTER`` (an hour) after it, while it still fires. While silenced, no
  alert goes out; one that never went out is sent when the silence ends if it still fires.
- **Resolved** once the share has stayed under the threshold for a whole period (by the data's
  time), and only for an incident the chat was told about.
- **Blind** when the newest data is older than a whole period (or ``patience``, when the data
  comes at longer intervals): said once, with the reason, and once when it sees again. A blind
  watch neither alerts nor resolves, and the quiet it counted before starts again: missing data
  is never read as "resolved".
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bot.smsc.codes import FAILURE_STATUSES, STATUS_CODES, Phase

#: Failures an incident needs besides the share: 1 of 2 is 50 %, and no reason to wake anyone.
MIN_FAILURES = 5
#: Seconds after which an incident still firing is alerted again, doubling or not.
REPEAT_AFTER = 3600.0

_DELIVERED = frozenset(code for code, s in STATUS_CODES.items() if s.phase is Phase.DELIVERED)
# Not in progress, not counted: not found (-3), stopped (-2).
_SETTLED_ELSEWHERE = frozenset({-3, -2})


@dataclass(frozen=True, slots=True)
class Rule:
    """A watch's threshold: ``percent`` failed over the last ``minutes``."""

    percent: int
    minutes: int

    @property
    def period(self) -> float:
        """The period in seconds."""
        return self.minutes * 60.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """One message as a watch sees it: its status, when that status came (None: unknown, not
    counted), the error and the operator (``""``: unknown)."""

    status: int | None
    status_at: float | None
    err: int | None = None
    operator: str = ""


@dataclass(frozen=True, slots=True)
class Sight:
    """What the watch sees of its account: the messages it holds, current up to ``as_of``,
    whole from ``covered_since`` on; ``problem`` says why nothing fresher is seen (SMS Center
    unreachable, the key refused), ``""`` when nothing is wrong."""

    outcomes: tuple[Outcome, ...]
    as_of: float
    covered_since: float = float("-inf")
    problem: str = ""


@dataclass(frozen=True, slots=True)
class Tally:
    """The period's counts: final statuses failed and delivered, in progress beside them, the
    failures by reason (status, err) and by operator, most first; ``first_failure_at`` is the
    earliest failure's status time (None: no failure)."""

    since: float
    until: float
    failed: int
    delivered: int
    in_progress: int
    reasons: tuple[tuple[tuple[int, int | None], int], ...] = ()
    operators: tuple[tuple[str, int], ...] = ()
    first_failure_at: float | None = None

    @property
    def final(self) -> int:
        """Messages counted in the share."""
        return self.failed + self.delivered

    @property
    def percent(self) -> int:
        """The share of failures in whole percent, rounded half up (0 when nothing is final);
        ``fires`` compares the exact share."""
        return (self.failed * 200 + self.final) // (2 * self.final) if self.final else 0

    def fires(self, rule: Rule) -> bool:
        """Whether the share reaches ``rule.percent`` with at least ``MIN_FAILURES``."""
        return self.failed >= MIN_FAILURES and self.failed * 100 >= rule.percent * self.final


def tally(outcomes: Iterable[Outcome], since: float, until: float) -> Tally:
    """Count ``outcomes`` whose status time is in [since, until]."""
    failed = delivered = in_progress = 0
    reasons: Counter[tuple[int, int | None]] = Counter()
    operators: Counter[str] = Counter()
    first: float | None = None
    for outcome in outcomes:
        at, status = outcome.status_at, outcome.status
        if at is None or not since <= at <= until:
            continue
        if status in FAILURE_STATUSES:
            assert status is not None
            failed += 1
            reasons[(status, outcome.err or None)] += 1
            operators[outcome.operator] += 1
            first = at if first is None else min(first, at)
        elif status in _DELIVERED:
            delivered += 1
        elif status not in _SETTLED_ELSEWHERE:
            in_progress += 1
    return Tally(
        since,
        until,
        failed,
        delivered,
        in_progress,
        tuple(sorted(reasons.items(), key=lambda item: (-item[1], item[0][0], item[0][1] or 0))),
        tuple(sorted(operators.items(), key=lambda item: (-item[1], item[0]))),
        first,
    )


@dataclass(frozen=True, slots=True)
class Incident:
    """An open incident: when its first failure came, when the chat was last alerted (None:
    not yet — it came while silenced) and with how many failures, since when it has been
    quiet (None: it still fires)."""

    started_at: float
    alerted_at: float | None = None
    alerted_failures: int = 0
    quiet_since: float | None = None


@dataclass(frozen=True, slots=True)
class WatchState:
    """What a watch keeps between two looks (all of it stored): its open incident, since when
    it is blind, until when it is silenced."""

    incident: Incident | None = None
    blind_since: float | None = None
    silenced_until: float | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """Tell the chat: failures are up (``repeat``: again, for the same incident); ``failures``
    are the failed outcomes ``tally`` counts (what its chart draws)."""

    tally: Tally
    started_at: float
    repeat: bool
    failures: tuple[Outcome, ...] = ()


@dataclass(frozen=True, slots=True)
class Resolved:
    """Tell the chat: the incident that started at ``started_at`` is over."""

    tally: Tally
    started_at: float
    resolved_at: float


@dataclass(frozen=True, slots=True)
class Blind:
    """Tell the chat: the watch cannot see since ``since`` (the time of its newest data)."""

    since: float
    problem: str


@dataclass(frozen=True, slots=True)
class Seeing:
    """Tell the chat: the watch, blind since ``blind_since``, sees again."""

    blind_since: float
    at: float


Event = Alert | Resolved | Blind | Seeing


@dataclass(frozen=True, slots=True)
class Verdict:
    """One look's outcome: the state to keep, the events to send, in order, and the counts
    (None while blind)."""

    state: WatchState
    events: tuple[Event, ...]
    tally: Tally | None


def evaluate(
    rule: Rule, state: WatchState, sight: Sight, now: float, *, patience: float = 0.0
) -> Verdict:
    """Look at ``sight`` at ``now`` (see the module docstring). ``patience``: how old the data
    may be before the watch is blind, when longer than the period (data fetched at intervals
    longer than the period)."""
    events: list[Event] = []
    if now - sight.as_of > max(rule.period, patience):
        if state.blind_since is not None:
            return Verdict(state, (), None)
        incident = state.incident
        if incident is not None and incident.quiet_since is not None:
            incident = dataclasses.replace(incident, quiet_since=None)
        blind = dataclasses.replace(state, incident=incident, blind_since=sight.as_of)
        return Verdict(blind, (Blind(sight.as_of, sight.problem),), None)
    if state.blind_since is not None:
        events.append(Seeing(state.blind_since, now))
        state = dataclasses.replace(state, blind_since=None)

    counts = tally(sight.outcomes, max(sight.as_of - rule.period, sight.covered_since), sight.as_of)
    incident = state.incident
    silenced = state.silenced_until is not None and now < state.silenced_until
    if counts.fires(rule):
        if incident is None:
            start = counts.first_failure_at if counts.first_failure_at is not None else now
            incident = Incident(started_at=start)
        incident = dataclasses.replace(incident, quiet_since=None)
        if not silenced and _due(incident, counts, now):
            failures = _failures(sight.outcomes, counts)
            repeat = incident.alerted_at is not None
            events.append(Alert(counts, incident.started_at, repeat, failures))
            incident = dataclasses.replace(incident, alerted_at=now, alerted_failures=counts.failed)
    elif incident is not None:
        if incident.quiet_since is None:
            incident = dataclasses.replace(incident, quiet_since=sight.as_of)
        elif sight.as_of - incident.quiet_since >= rule.period:
            if incident.alerted_at is not None:
                events.append(Resolved(counts, incident.started_at, now))
            incident = None
    return Verdict(dataclasses.replace(state, incident=incident), tuple(events), counts)


def _failures(outcomes: Iterable[Outcome], counts: Tally) -> tuple[Outcome, ...]:
    """The failed ``outcomes`` ``counts`` counted (status time within its period)."""
    return tuple(
        outcome
        for outcome in outcomes
        if outcome.status in FAILURE_STATUSES
        and outcome.status_at is not None
        and counts.since <= outcome.status_at <= counts.until
    )


def _due(incident: Incident, counts: Tally, now: float) -> bool:
    """Whether a firing incident is alerted now: never yet, doubled, or an hour since."""
    if incident.alerted_at is None:
        return True
    return (
        counts.failed >= 2 * incident.alerted_failures or now - incident.alerted_at >= REPEAT_AFTER
    )
