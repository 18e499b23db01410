"""The watch's evaluator (bot/watch/evaluator.py) on the fake clock: PRODUCT.md §10's share,
one alert per incident, repeats on doubling or after an hour, "resolved" after a whole quiet
period, nothing for tiny counts, in-progress beside the share, blind and seeing again, and an
incident kept across a restart (the state stored in SQLite and read back)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.store import KeyCipher, Storage, StoredIncident, WatchStore
from bot.watch import (
    MIN_FAILURES,
    Alert,
    Blind,
    Event,
    Incident,
    Outcome,
    Resolved,
    Rule,
    Seeing,
    Sight,
    Tally,
    WatchState,
    evaluate,
    tally,
)
from tests.fakes.clock import FakeClock

RULE = Rule(percent=20, minutes=15)
PERIOD = RULE.period
MTS, BEELINE = "МТС", "Билайн"


class Watched:
    """An account seen live (as with pushes: the data is current at every look) and one
    watch's state, evaluated on the fake clock."""

    def __init__(self, clock: FakeClock, rule: Rule = RULE) -> None:
        self.clock = clock
        self.rule = rule
        self.outcomes: list[Outcome] = []
        self.state = WatchState()
        self.as_of: float | None = None  # None: current at every look
        self.problem = ""
        self.last_tally: Tally | None = None

    def fail(self, n: int, *, status: int = 20, err: int | None = 255, operator: str = MTS) -> None:
        at = self.clock()
        self.outcomes += [Outcome(status, at, err, operator) for _ in range(n)]

    def deliver(self, n: int) -> None:
        self.outcomes += [Outcome(1, self.clock(), None, BEELINE) for _ in range(n)]

    def pending(self, n: int) -> None:
        self.outcomes += [Outcome(0, self.clock(), None, MTS) for _ in range(n)]

    def look(self) -> list[Event]:
        now = self.clock()
        as_of = now if self.as_of is None else self.as_of
        sight = Sight(tuple(self.outcomes), as_of, problem=self.problem)
        verdict = evaluate(self.rule, self.state, sight, now)
        self.state = verdict.state
        self.last_tally = verdict.tally
        return list(verdict.events)

    def looks(self, seconds: float, *, every: float = 30.0) -> list[Event]:
        """Look every ``every`` seconds for ``seconds``; every event, in order."""
        events: list[Event] = []
        for _ in range(int(seconds // every)):
            self.clock.advance(every)
            events += self.look()
        return events


def kinds(events: list[Event]) -> list[str]:
    return [
        f"repeat {e.tally.failed}" if isinstance(e, Alert) and e.repeat
        else f"alert {e.tally.failed}" if isinstance(e, Alert)
        else type(e).__name__.lower()
        for e in events
    ]  # fmt: skip


@pytest.fixture
def watched(clock: FakeClock) -> Watched:
    return Watched(clock)


def test_the_share_counts_final_statuses_by_status_time_and_in_progress_beside() -> None:
    outcomes = [
        Outcome(20, 100.0, 255, MTS),
        Outcome(3, 110.0, 6, BEELINE),
        Outcome(22, 120.0, None, MTS),
        Outcome(1, 130.0),
        Outcome(2, 140.0),  # read: delivered
        Outcome(0, 150.0),  # passed to the operator: in progress
        Outcome(-1, 150.0),  # waiting: in progress
        Outcome(-3, 150.0),  # not found: neither
        Outcome(20, 50.0, 255, MTS),  # before the period
        Outcome(20, None, 255, MTS),  # no status time: not placed, not counted
    ]
    counts = tally(outcomes, 90.0, 200.0)
    assert (counts.failed, counts.delivered, counts.in_progress) == (3, 2, 2)
    assert counts.percent == 60
    assert counts.reasons == (((3, 6), 1), ((20, 255), 1), ((22, None), 1))
    assert counts.operators == ((MTS, 2), (BEELINE, 1))
    assert counts.first_failure_at == 100.0


def test_it_fires_once_at_the_threshold(watched: Watched) -> None:
    watched.deliver(20)
    watched.fail(4)
    assert watched.look() == []  # 4 of 24: 16 %
    watched.clock.advance(30)
    watched.fail(1)  # 5 of 25: exactly 20 %
    (alert,) = watched.look()
    assert isinstance(alert, Alert) and not alert.repeat
    assert (alert.tally.failed, alert.tally.final, alert.tally.percent) == (5, 25, 20)
    assert alert.tally.reasons == (((20, 255), 5),)
    assert alert.started_at == watched.clock() - 30  # the first failure's time


def test_no_repeat_while_it_fires_short_of_double(watched: Watched) -> None:
    watched.fail(10)
    assert kinds(watched.look()) == ["alert 10"]
    for _ in range(9):  # up to 19 failures: short of double
        watched.clock.advance(30)
        watched.fail(1)
        assert watched.look() == []
    assert watched.state.incident is not None
    assert watched.state.incident.alerted_failures == 10


def test_it_repeats_when_the_failures_double(watched: Watched) -> None:
    watched.fail(6)
    assert kinds(watched.look()) == ["alert 6"]
    watched.clock.advance(60)
    watched.fail(5)
    assert watched.look() == []  # 11: short of 12
    watched.clock.advance(60)
    watched.fail(1)
    assert kinds(watched.look()) == ["repeat 12"]
    watched.clock.advance(60)
    watched.fail(11)
    assert watched.look() == []  # 23: short of 24 now
    watched.clock.advance(60)
    watched.fail(1)
    assert kinds(watched.look()) == ["repeat 24"]


def test_it_repeats_after_an_hour_of_firing(watched: Watched) -> None:
    watched.fail(10)
    assert kinds(watched.look()) == ["alert 10"]
    alerted_at = watched.clock()
    repeats: list[tuple[float, list[str]]] = []
    for step in range(1, 125):  # a failure every 2 minutes: 7 to 17 in the period, never 20
        watched.clock.advance(30)
        if step % 4 == 0:
            watched.fail(1)
        events = watched.look()
        if events:
            repeats.append((watched.clock() - alerted_at, kinds(events)))
    assert [seconds for seconds, _ in repeats] == [3600.0]
    assert repeats[0][1][0].startswith("repeat")


def test_resolved_after_a_whole_quiet_period_and_only_once(watched: Watched) -> None:
    watched.fail(6)
    assert kinds(watched.look()) == ["alert 6"]
    watched.deliver(100)  # 6 of 106: under the threshold from here on
    quiet_from = watched.clock()
    events = watched.looks(PERIOD - 30)
    assert events == []  # not yet a whole period
    events = watched.looks(60)
    assert kinds(events) == ["resolved"]
    (resolved,) = events
    assert isinstance(resolved, Resolved)
    assert quiet_from + PERIOD <= resolved.resolved_at <= quiet_from + PERIOD + 60
    assert watched.state.incident is None
    assert watched.looks(3 * PERIOD) == []


def test_a_new_burst_during_the_quiet_period_starts_the_quiet_again(watched: Watched) -> None:
    watched.fail(6)
    watched.look()
    watched.deliver(100)
    assert watched.looks(PERIOD / 2) == []
    watched.fail(30)  # 36 of 136: fires again; 36 ≥ 2 × 6: a repeat of the same incident
    assert kinds(watched.look()) == ["repeat 36"]
    assert watched.state.incident is not None and watched.state.incident.quiet_since is None


@pytest.mark.parametrize("failures", range(1, MIN_FAILURES))
def test_nothing_for_tiny_counts(watched: Watched, failures: int) -> None:
    watched.fail(failures)  # 100 % of what is final, but too few to wake anyone
    assert watched.looks(PERIOD) == []
    assert watched.state.incident is None


def test_in_progress_is_not_counted() -> None:
    clock = FakeClock()
    diluted = Watched(clock)
    diluted.fail(5)
    diluted.deliver(15)
    diluted.pending(1000)
    (alert,) = diluted.look()  # 5 of 20 = 25 %, however many are still on their way
    assert isinstance(alert, Alert) and alert.tally.percent == 25
    waiting = Watched(clock)
    waiting.pending(1000)
    assert waiting.look() == []


def test_a_restart_keeps_the_incident(tmp_path: Path, clock: FakeClock) -> None:
    # The state is all the evaluator keeps: written as the store writes it and read back,
    # the same failures bring no second alert, and the quiet still brings "resolved".
    watched = Watched(clock)
    watched.fail(8)
    assert kinds(watched.look()) == ["alert 8"]
    stored = WatchState(incident=watched.state.incident)

    restarted = Watched(clock)
    restarted.outcomes = list(watched.outcomes)  # what the pushes reloaded at start hold
    restarted.state = stored
    clock.advance(30)
    assert restarted.look() == []
    restarted.deliver(100)
    assert kinds(restarted.looks(PERIOD + 60)) == ["resolved"]


async def test_a_restart_keeps_the_incident_through_the_database(
    tmp_path: Path, clock: FakeClock
) -> None:
    cipher = KeyCipher(Fernet.generate_key())
    path = tmp_path / "bot.sqlite3"
    watched = Watched(clock)
    watched.fail(8)
    assert kinds(watched.look()) == ["alert 8"]
    incident = watched.state.incident
    assert incident is not None
    async with await Storage.open(path, cipher) as store:
        await store.add_account("main", "smscKeyRESTART-0000-aaaaaaaaaaaa", added_by=1, now=0)
        watches = WatchStore(store)
        watch, _ = await watches.set_watch(
            -1, "main", percent=20, minutes=15, set_by=1, language="en", now=clock()
        )
        await watches.save_incident(
            StoredIncident(watch.id, incident.started_at, incident.alerted_at,
                           incident.alerted_failures, incident.quiet_since)
        )  # fmt: skip

    async with await Storage.open(path, cipher) as store:
        back = await WatchStore(store).open_incident(watch.id)
    assert back is not None
    restarted = Watched(clock)
    restarted.outcomes = list(watched.outcomes)
    restarted.state = WatchState(
        incident=Incident(back.started_at, back.alerted_at, back.alerted_failures,
                          back.quiet_since)
    )  # fmt: skip
    clock.advance(30)
    assert restarted.look() == []
    restarted.deliver(100)
    assert kinds(restarted.looks(PERIOD + 60)) == ["resolved"]


def test_blind_once_with_the_reason_and_seeing_again_once(watched: Watched) -> None:
    watched.fail(6)
    assert kinds(watched.look()) == ["alert 6"]
    seen = watched.clock()
    watched.as_of = seen  # SMS Center stops answering: the data stays as of now
    watched.problem = "SMS Center unreachable"
    assert watched.looks(PERIOD) == []  # data up to a period old still counts
    events = watched.looks(5 * PERIOD)
    assert len(events) == 1
    (blind,) = events
    assert isinstance(blind, Blind) and (blind.since, blind.problem) == (seen, watched.problem)
    watched.as_of = None  # it answers again
    watched.problem = ""
    watched.deliver(100)
    events = watched.look()
    assert len(events) == 1
    (seeing,) = events
    assert isinstance(seeing, Seeing) and (seeing.blind_since, seeing.at) == (seen, watched.clock())
    assert watched.looks(PERIOD / 2) == []


def test_no_resolved_from_missing_data(watched: Watched) -> None:
    watched.fail(6)
    watched.look()
    watched.deliver(100)
    assert watched.looks(PERIOD / 2) == []  # half a quiet period seen
    watched.as_of = watched.clock()  # then nothing more is seen
    events = watched.looks(3 * PERIOD)
    assert kinds(events) == ["blind"]  # never "resolved"
    assert watched.state.incident is not None
    watched.as_of = None
    # Seeing again, the quiet starts over: a whole period more before "resolved".
    assert kinds(watched.looks(PERIOD - 30)) == ["seeing"]
    assert kinds(watched.looks(60)) == ["resolved"]


def test_silenced_it_sends_nothing_and_alerts_after_if_still_firing(watched: Watched) -> None:
    now = watched.clock()
    watched.state = WatchState(silenced_until=now + 3600)
    watched.fail(6)
    assert watched.look() == []
    assert watched.state.incident is not None and watched.state.incident.alerted_at is None
    events: list[Event] = []
    for _ in range(121):
        watched.clock.advance(30)
        watched.fail(1)
        events += watched.look()
    # The silence ended while it still fired: one alert then, not one per look.
    assert len(events) == 1 and kinds(events)[0].startswith("alert")
    assert isinstance(events[0], Alert) and not events[0].repeat


def test_a_silenced_incident_never_alerted_ends_without_resolved(watched: Watched) -> None:
    watched.state = WatchState(silenced_until=watched.clock() + 3600)
    watched.fail(6)
    watched.look()
    watched.deliver(100)
    assert watched.looks(2 * PERIOD) == []
    assert watched.state.incident is None
