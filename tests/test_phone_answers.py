"""What the bot answers to numbers it will not guess: a /history argument that reads as two
numbers, and ten digits outside Russian numbering. Neither costs an SMS Center request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.smsc.simulator import SimulatedSmsc
from tests.conftest import API_KEY
from tests.fakes.clock import FakeClock
from tests.harness import Harness, running_bot


@pytest.fixture
async def harness(tmp_path: Path, sim: SimulatedSmsc, clock: FakeClock) -> AsyncIterator[Harness]:
    async with running_bot(tmp_path, sim, clock) as running:
        await running.grant()
        yield running


async def test_history_that_reads_as_two_numbers_asks_which_without_asking_smsc(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_message(API_KEY, phone="49301234567", status=1)
    before = sim.count()

    answer = await harness.say("/history +49 30 1234567 8")
    # Both readings, and how to write each so that it reads one way only.
    assert "+49 30 12345678" in answer and "+49 30 1234567 " in answer
    assert "<code>/history +493012345678</code>" in answer
    assert "<code>/history +49301234567 8</code>" in answer
    assert "\n" not in answer
    russian = await harness.say("/history +49 30 1234567 8", language_code="ru")
    assert "часть номера" in russian and "<code>/history +49301234567 8</code>" in russian
    assert sim.count() == before

    # The advice works: written that way, it is a lookup of the number before the count.
    await harness.say("/history +49301234567 8")
    assert [request.params.get("phone") for request in sim.requests[before:]] == ["49301234567"]


async def test_ten_digits_outside_russian_numbering_get_a_country_code_hint_not_a_lookup(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    before = sim.count()
    for text in ("/last 701 234 56 78", "212 555 0100", "/history 0123456789 5"):
        answer = await harness.say(text)
        assert "add the country code" in answer, text
    assert "добавьте код страны" in await harness.say("/last 2125550100", language_code="ru")
    assert sim.count() == before
