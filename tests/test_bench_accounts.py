"""bench/accounts.py and bench/questions.py: realistic accounts and a team's hour, seeded; the
benchmark's truth agrees with what the simulated SMS Center holds."""

from __future__ import annotations

import random
from collections import Counter
from typing import Final

import pytest

from bench.accounts import (
    BUSY,
    DAY,
    HOUR,
    SMALL,
    Size,
    Truth,
    build_account,
    outcome,
    send_times,
)
from bench.clients import API_KEY
from bench.correct import run
from bench.questions import AGES, FAILED_QUESTIONS, LAST_QUESTIONS, build_hour
from bot.smsc.simulator import SimulatedSmsc
from tests.fakes.clock import FakeClock

START: Final = 1_790_000_000.0  # 17:13 in Moscow
TINY: Final = Size("tiny", 600, 300, 2.0)


@pytest.mark.parametrize("size", [SMALL, BUSY], ids=lambda size: size.name)
def test_the_day_before_the_hour_holds_the_daily_volume_within_ten_percent(size: Size) -> None:
    day = send_times(random.Random(1), size.per_day, START - DAY, START)

    assert abs(len(day) - size.per_day) <= 0.1 * size.per_day
    assert day == sorted(day) and day[0] >= START - DAY and day[-1] < START


def test_the_small_account_has_days_of_history_over_thousands_of_numbers() -> None:
    account = build_account(SMALL, 1, START)

    last_day = [sent for sent in account.history if sent.at >= START - DAY]
    assert abs(len(last_day) - SMALL.per_day) <= 0.1 * SMALL.per_day
    assert account.history[0].at < START - 2 * DAY
    assert len({sent.phone for sent in account.history}) > 3_000
    # The newest 1000 messages reach back most of the working day.
    assert START - account.history[-1000].at > 6 * HOUR
    assert all(START <= sent.at < START + HOUR for sent in account.traffic)
    assert build_account(SMALL, 1, START) == account
    assert build_account(SMALL, 2, START) != account


def test_on_the_busy_account_the_newest_1000_reach_back_about_half_an_hour() -> None:
    times = send_times(random.Random(1), BUSY.per_day, START - 2 * HOUR, START)

    assert 20 * 60 <= START - times[-1000] <= 45 * 60


def test_outcomes_mostly_deliver_within_minutes_some_fail_expire_or_stay_with_the_operator() -> (
    None
):
    rng = random.Random(3)
    drawn = [outcome(rng, 0) for _ in range(20_000)]
    finals = Counter(final[0] if settle is not None else "stays" for _, _, settle, final in drawn)
    quick = sum(1 for _, _, settle, final in drawn if final == (1, 0) and settle and settle <= 600)

    assert all(first in (-1, 0) for first, _, _, _ in drawn)
    assert quick / len(drawn) > 0.7
    assert 0.10 < finals[20] / len(drawn) < 0.14
    assert {err for _, _, _, (status, err) in drawn if status == 20} == {1, 6, 11, 13}
    expired = [settle for _, _, settle, final in drawn if final == (3, 0)]
    assert expired and min(s for s in expired if s is not None) >= 3 * HOUR
    assert 0.02 < finals["stays"] / len(drawn) < 0.05


def test_the_hour_asks_about_numbers_of_every_age_as_labelled() -> None:
    hour = build_hour(build_account(SMALL, 1, START), load=2, seed=1)

    lasts = [q for q in hour.questions if q.command == "last"]
    assert len(lasts) >= 2 * LAST_QUESTIONS and len(lasts) <= 2 * LAST_QUESTIONS + 2
    assert sum(q.command == "failed" for q in hour.questions) == 2 * FAILED_QUESTIONS
    assert {q.agent for q in hour.questions} <= set(range(hour.agents))
    kinds = Counter(q.kind for q in lasts)
    assert set(kinds) == {"minutes", "repeat", "hour", "today", "days", "never"}
    assert len({q.phone for q in lasts}) > 0.7 * len(lasts)
    for question in lasts:
        newest = hour.truth.newest(question.phone, hour.start + question.at)
        if question.kind == "never":
            assert newest is None and question.phone not in hour.truth
            continue
        assert newest is not None
        age = hour.start + question.at - newest.at
        if question.kind in ("hour", "today", "days"):
            low, high = AGES[question.kind]
            assert low - 1 <= age and (high is None or age <= high + 1), question
        elif question.kind == "repeat":
            assert age <= 120 + 1  # asked after the resend
    assert build_hour(hour.account, load=2, seed=1).questions == hour.questions


async def test_the_truth_is_what_the_simulator_answers_as_time_passes() -> None:
    account = build_account(TINY, 1, START)
    hour = build_hour(account, load=1, seed=1)
    clock = FakeClock(START)
    sim = SimulatedSmsc(clock=clock, with_demo=False, accounts={API_KEY: account.records()})
    sends = list(hour.sends)
    phones = sorted({sent.phone for sent in (*account.history, *sends)})
    for moment in (START, START + 600, START + 1_800, START + HOUR):
        while sends and sends[0].at <= moment:
            clock.now = float(sends[0].at)
            sim.add_message(API_KEY, **sends.pop(0).record())
        clock.now = moment
        newest: dict[str, tuple[int, int]] = {}
        for message in sim.messages(API_KEY):  # newest first
            newest.setdefault(message["phone"], (message["int_id"], message["status"]))
        for phone in phones:
            sent = hour.truth.newest(phone, moment)
            expected = None if sent is None else (sent.int_id, sent.status_at(moment)[0])
            assert newest.get(phone) == expected, (phone, moment)


def test_truth_finds_the_newest_message_sent_by_a_moment() -> None:
    account = build_account(TINY, 2, START)
    truth = Truth(account.history)
    phone = account.history[-1].phone

    assert truth.newest(phone, START) == account.history[-1]
    assert truth.newest(phone, truth.sends_to(phone)[0].at - 1) is None


@pytest.mark.parametrize("client", ["batched-only", "naive"])
async def test_the_simple_clients_on_a_small_hour(client: str) -> None:
    hour = build_hour(build_account(TINY, 3, START), load=1, seed=3)

    result = await run(client, hour)

    assert result.lasts == hour.lasts()
    if client == "batched-only":
        # Every number waiting goes in the next comma-list request: all right, none refused,
        # but only those asked within a minute of a batch are answered within the minute.
        assert result.correct == result.lasts and result.rate_limit_errors == 0
        assert result.upstream_requests <= 30
        assert 0 < result.within_prompt < result.lasts
    else:
        # One request per question: right while the hour's 30 last, refused after.
        assert result.upstream_requests == len(hour.questions)
        assert result.rate_limit_errors == len(hour.questions) - 30
        served = sum(question.command == "last" for question in hour.questions[:30])
        assert result.correct == served and result.reasons == {"no data": result.lasts - served}
    assert result.shown_current_wrong == 0
