"""Waiting numbers: one future per number, round-robin by asker, retries at the front."""

from __future__ import annotations

import pytest

from bot.fetch.batch import WaitingNumbers


async def test_one_future_per_number_whoever_asks() -> None:
    waiting = WaitingNumbers()
    first = waiting.add("79161111111", asker=1)
    second = waiting.add("79161111111", asker=2)
    assert first is second and len(waiting) == 1
    waiting.answered("79161111111")
    assert first.done() and first.exception() is None and len(waiting) == 0


async def test_a_full_batch_takes_numbers_round_robin_by_asker() -> None:
    waiting = WaitingNumbers()
    for n in range(20):
        waiting.add(f"7916000{n:04d}", asker=1)  # one person pastes twenty numbers
    waiting.add("79035550101", asker=2)  # a colleague asks one
    waiting.add("79035550102", asker=3)
    taken = waiting.take(limit=4)
    assert "79035550101" in taken and "79035550102" in taken
    assert taken[0] == "79160000000"  # the first asker's oldest first
    assert len(taken) == 4


async def test_served_askers_go_to_the_back_of_the_turn() -> None:
    waiting = WaitingNumbers()
    waiting.add("79160000001", asker=1)
    waiting.add("79160000002", asker=1)
    waiting.add("79160000003", asker=2)
    waiting.add("79160000004", asker=2)
    first = waiting.take(limit=1)
    assert first == ["79160000001"]
    waiting.answered(first[0])
    assert waiting.take(limit=1) == ["79160000003"]  # asker 2's turn now


async def test_an_unanswered_number_waits_at_the_front_and_counts_its_tries() -> None:
    waiting = WaitingNumbers()
    waiting.add("79160000001", asker=1)
    waiting.add("79160000002", asker=1)
    assert waiting.unanswered("79160000002") == 1
    assert waiting.take(limit=1) == ["79160000002"]
    assert waiting.unanswered("79160000002") == 2


async def test_a_failure_reaches_every_waiter() -> None:
    waiting = WaitingNumbers()
    future = waiting.add("79160000001", asker=1)
    waiting.fail_all(RuntimeError("SMS Center is down"))
    with pytest.raises(RuntimeError, match="down"):
        await future
    assert len(waiting) == 0
