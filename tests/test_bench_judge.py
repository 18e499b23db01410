"""bench/judge.py: a /last answer is right when it shows the true newest message and its status
at the moment the person has the final answer; the adapter reads the fetch layer's Lookups."""

from __future__ import annotations

from bench.accounts import Sent, Truth
from bench.judge import Answer, Shown, judge, score
from bench.observe import shown
from bench.questions import Question
from bot.fetch import HeldBack, Lookup, Origin
from bot.smsc import HistoryEntry

PHONE = "79160000001"
ASKED = 1_000.0
# Two messages to PHONE: an old delivered one, and one sent at 900 that is "passed to the
# operator" (0) until 1 100 and delivered (1) from then on.
OLD = Sent(100, PHONE, 1, 0, int_id=11, id=1)
NEW = Sent(900, PHONE, 0, 0, settle_at=1_100, final=(1, 0), int_id=14, id=2)
OTHER = Sent(950, "79160000002", 1, 0, int_id=15, id=3)
TRUTH = Truth([OLD, NEW, OTHER])


def _answer(*states: Shown, phone: str = PHONE) -> Answer:
    return Answer(Question(ASKED - 1_000.0, 0, "last", phone, "minutes"), ASKED, list(states))


def test_the_newest_message_with_its_current_status_is_correct_within_a_minute() -> None:
    verdict = judge(_answer(Shown(ASKED, True, 14, 0, as_of=ASKED)), TRUTH)

    assert verdict.correct and verdict.within_prompt and not verdict.shown_current_wrong
    assert verdict.reason == ""


def test_held_data_showing_an_older_message_is_wrong_even_when_marked() -> None:
    held = Shown(ASKED, True, 11, 1, marked=True, as_of=800.0)

    verdict = judge(_answer(held), TRUTH)

    assert not verdict.correct and verdict.reason == "an older message"
    assert not verdict.shown_current_wrong  # it said how old it was


def test_the_right_message_with_a_status_that_has_since_changed_is_wrong() -> None:
    # Read at 1 150: the message was delivered at 1 100, the answer still says 0.
    verdict = judge(_answer(Shown(1_150.0, True, 14, 0, marked=True, as_of=1_090.0)), TRUTH)

    assert not verdict.correct and verdict.reason == "the status has changed"


def test_an_unmarked_answer_as_of_under_a_minute_ago_that_is_wrong_is_shown_as_current() -> None:
    wrong_now = Shown(1_150.0, True, 14, 0, as_of=1_095.0)  # 55 s old, no mark, outdated
    wrong_old = Shown(1_150.0, True, 14, 0, as_of=1_080.0)  # 70 s old: not "current"

    assert judge(_answer(wrong_now), TRUTH).shown_current_wrong
    assert not judge(_answer(wrong_old), TRUTH).shown_current_wrong


def test_the_final_state_decides_and_a_late_one_is_not_within_the_minute() -> None:
    waiting = Shown(ASKED, False)
    landed = Shown(ASKED + 90.0, True, 14, 0, as_of=ASKED + 90.0)

    verdict = judge(_answer(waiting, landed), TRUTH)

    assert verdict.correct and not verdict.within_prompt
    assert not judge(_answer(landed, waiting), TRUTH).correct


def test_an_earlier_wrong_current_state_counts_though_the_final_one_is_right() -> None:
    outdated = Shown(ASKED, True, 11, 1, as_of=ASKED - 10.0)  # unmarked, 10 s old, older message
    final = Shown(ASKED + 20.0, True, 14, 0, as_of=ASKED + 20.0)

    verdict = judge(_answer(outdated, final), TRUTH)

    assert verdict.correct and verdict.shown_current_wrong


def test_no_messages_is_right_only_for_a_number_without_any() -> None:
    none_shown = Shown(ASKED, True, None, None, as_of=ASKED)

    assert judge(_answer(none_shown, phone="79169999999"), TRUTH).correct
    verdict = judge(_answer(none_shown), TRUTH)
    assert not verdict.correct and verdict.reason == "no messages, but there is one"


def test_errors_and_silence_are_never_correct() -> None:
    assert judge(_answer(Shown(ASKED, False)), TRUTH).reason == "no data"
    assert judge(_answer(), TRUTH).reason == "no answer"
    # A message sent after the moment it is judged at does not exist yet.
    before = Shown(500.0, True, 11, 1, as_of=500.0)
    assert judge(Answer(Question(0.0, 0, "last", PHONE), 500.0, [before]), TRUTH).correct


def test_score_counts_by_reason_and_kind() -> None:
    right = _answer(Shown(ASKED, True, 14, 0, as_of=ASKED))
    older = _answer(Shown(ASKED, True, 11, 1, marked=True, as_of=800.0))

    total = score([right, older, _answer()], TRUTH)

    assert (total.questions, total.correct, total.within_prompt) == (3, 1, 1)
    assert total.reasons == {"an older message": 1, "no answer": 1}
    assert total.by_kind == {"minutes": [3, 1]}


def test_the_adapter_marks_cached_and_stale_lookups_and_not_fresh_ones() -> None:
    entry = HistoryEntry(status=1, int_id=14, phone=PHONE)

    fresh = shown(Lookup(entry, Origin.FRESH, 990.0), ASKED)
    cached = shown(Lookup(entry, Origin.CACHE, 990.0), ASKED)
    stale = shown(Lookup(entry, Origin.STALE, 700.0, HeldBack.BUDGET, 1_200.0), ASKED)
    empty = shown(Lookup(None, Origin.FRESH, ASKED), ASKED)

    assert fresh == Shown(ASKED, True, 14, 1, marked=False, as_of=990.0)
    assert cached.marked and stale.marked and stale.as_of == 700.0
    assert empty == Shown(ASKED, True, None, None, marked=False, as_of=ASKED)
