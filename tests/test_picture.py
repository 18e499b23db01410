"""The account picture: merging by identity, completeness under both readings of ``cnt``, the
bound, status updates, pages and slices."""

from __future__ import annotations

from bot.fetch.picture import AccountPicture
from bot.smsc import HistoryEntry

T = 1_790_000_000.0  # the moment of the first request
START = T - 180 * 86_400  # six months back: what a per-number request asks for
A, B, C = "79161111111", "79162222222", "79163333333"


def message(int_id: int, phone: str, sent: float, status: int = 1) -> HistoryEntry:
    return HistoryEntry(
        int_id=int_id, id=int_id % 1000, phone=phone, send_timestamp=int(sent), status=status
    )


def newest_first(*entries: HistoryEntry) -> list[HistoryEntry]:
    return sorted(entries, key=lambda entry: entry.sent_at or 0.0, reverse=True)


def test_a_number_asked_with_fewer_rows_than_cnt_is_vouched_for_to_the_request() -> None:
    picture = AccountPicture()
    rows = newest_first(message(1, A, T - 600), message(2, A, T - 60))
    picture.learn_history(rows, at=T, since=START, cnt=20, phones=[A])
    newest = picture.newest(A, start=START)
    assert newest is not None and newest.held is not None
    assert newest.held.entry.int_id == 2 and newest.as_of == T
    assert picture.newest(B, start=START) is None  # never asked


def test_a_listed_number_without_rows_has_no_messages_when_the_answer_was_short() -> None:
    picture = AccountPicture()
    picture.learn_history([message(1, A, T - 60)], at=T, since=START, cnt=1000, phones=[A, B])
    newest = picture.newest(B, start=START)
    assert newest is not None and newest.held is None and newest.as_of == T


def test_an_answer_of_exactly_cnt_rows_vouches_each_number_only_down_to_its_oldest_row() -> None:
    picture = AccountPicture()
    # cnt = 3 rows came back for the list [A, B, C]: C has none, which may mean "none" or "cut".
    rows = newest_first(message(1, A, T - 300), message(2, B, T - 200), message(3, A, T - 100))
    picture.learn_history(rows, at=T, since=START, cnt=3, phones=[A, B, C])
    a = picture.newest(A, start=START)
    assert a is not None and a.held is not None and a.held.entry.int_id == 3
    b = picture.newest(B, start=START)
    assert b is not None and b.held is not None and b.held.entry.int_id == 2
    assert picture.newest(C, start=START) is None  # unknown: it goes to the next batch
    # A's history is whole only from its oldest row: asking for 5 cannot be answered held.
    assert picture.history(A, 5, start=START) is None
    page = picture.history(A, 2, start=START)
    assert page is not None and [h.entry.int_id for h in page.held] == [3, 1]


def test_more_rows_than_cnt_per_number_reading_is_still_judged_safely() -> None:
    picture = AccountPicture()
    # SMS Center applied cnt=2 to each number: 2 rows of A (cut), 1 of B (whole).
    rows = newest_first(message(1, A, T - 300), message(2, A, T - 100), message(3, B, T - 50))
    picture.learn_history(rows, at=T, since=START, cnt=2, phones=[A, B])
    a = picture.newest(A, start=START)
    assert a is not None and a.held is not None and a.held.entry.int_id == 2
    page = picture.history(A, 2, start=START)
    assert page is not None and not page.complete  # older messages of A may exist
    assert picture.history(A, 3, start=START) is None


def test_the_account_window_vouches_for_numbers_with_a_message_inside_it() -> None:
    picture = AccountPicture()
    since = T - 2 * 86_400
    rows = newest_first(message(1, A, T - 7200), message(2, B, T - 60))
    picture.learn_history(rows, at=T, since=since, cnt=1000)
    b = picture.newest(B, start=START)
    assert b is not None and b.held is not None and b.as_of == T
    # C sent nothing in two days: older messages may exist, so the window cannot vouch.
    assert picture.newest(C, start=START) is None


def test_a_number_span_and_a_later_window_join_into_one_answer() -> None:
    picture = AccountPicture()
    picture.learn_history([message(1, A, T - 3600)], at=T, since=START, cnt=20, phones=[A])
    window = [message(2, B, T + 100)]
    picture.learn_history(window, at=T + 300, since=T - 600, cnt=1000)
    a = picture.newest(A, start=START)
    assert a is not None and a.held is not None and a.held.entry.int_id == 1
    assert a.as_of == T + 300  # the window carried A's answer forward
    # A window that does not reach back to the number's span leaves a gap: not vouched.
    later = AccountPicture()
    later.learn_history([message(1, A, T - 3600)], at=T, since=START, cnt=20, phones=[A])
    later.learn_history([message(2, B, T + 900)], at=T + 1000, since=T + 500, cnt=1)
    assert later.newest(A, start=START) is not None  # the number span alone still vouches...
    assert later.newest(A, start=START).as_of == T  # type: ignore[union-attr]  # ...as of T


def test_a_later_observation_of_a_message_replaces_its_status() -> None:
    picture = AccountPicture()
    picture.learn_history([message(1, A, T - 60, status=0)], at=T, since=START, cnt=20, phones=[A])
    picture.learn_history(
        [message(1, A, T - 60, status=20)], at=T + 120, since=START, cnt=20, phones=[A]
    )
    newest = picture.newest(A, start=START)
    assert newest is not None and newest.held is not None
    assert newest.held.entry.status == 20 and newest.held.seen_at == T + 120
    assert len(picture) == 1


def test_a_status_update_changes_the_status_but_not_the_as_of() -> None:
    picture = AccountPicture()
    picture.learn_history([message(7, A, T - 60, status=0)], at=T, since=START, cnt=20, phones=[A])
    update = HistoryEntry(phone="+7 916 111-11-11", id=7, status=1, last_timestamp=int(T + 30))
    assert picture.learn_status(update, at=T + 40)
    newest = picture.newest(A, start=START)
    assert newest is not None and newest.held is not None
    assert newest.held.entry.status == 1 and newest.held.seen_at == T + 40
    assert newest.as_of == T  # a newer message may have been sent since: still as of T
    unknown = HistoryEntry(phone=A, id=999, status=1)
    assert not picture.learn_status(unknown, at=T + 40)


def test_an_older_status_never_overwrites_a_newer_one() -> None:
    picture = AccountPicture()
    picture.learn_history([message(7, A, T - 60, status=1)], at=T, since=START, cnt=20, phones=[A])
    stale = HistoryEntry(int_id=7, status=0)
    assert picture.learn_status(stale, at=T - 10)
    newest = picture.newest(A, start=START)
    assert newest is not None and newest.held is not None and newest.held.entry.status == 1


def test_the_bound_drops_the_earliest_messages_and_the_completeness_that_covered_them() -> None:
    picture = AccountPicture(max_messages=3)
    rows = newest_first(*(message(i, A if i == 1 else B, T - 1000 + i) for i in range(1, 5)))
    picture.learn_history(rows, at=T, since=START, cnt=1000)
    assert len(picture) == 3
    # A's only message was dropped: the picture no longer claims A has none.
    assert picture.newest(A, start=START) is None
    b = picture.newest(B, start=START)
    assert b is not None and b.held is not None and b.held.entry.int_id == 4
    # The account-wide span now starts after the dropped message.
    sliced = picture.since(START)
    assert sliced is not None and sliced.covered_since > T - 1000 + 1
    assert [h.entry.int_id for h in sliced.held] == [4, 3, 2]


def test_older_pages_held_are_answered_and_the_end_is_known() -> None:
    picture = AccountPicture()
    rows = newest_first(*(message(i, A, T - 1000 + i * 10) for i in range(1, 8)))  # 7 messages
    picture.learn_history(rows, at=T, since=START, cnt=20, phones=[A])
    first = picture.history(A, 5, start=START)
    assert first is not None and [h.entry.int_id for h in first.held] == [7, 6, 5, 4, 3]
    assert not first.complete
    older = picture.history(A, 5, start=START, before=3)
    assert older is not None and [h.entry.int_id for h in older.held] == [2, 1]
    assert older.complete  # nothing older: "Older" needs no request to say so
    exact = picture.history(A, 2, start=START, before=3)
    assert exact is not None and exact.complete  # a full last page still knows it is the end


def test_pages_past_what_is_held_are_not_answered() -> None:
    picture = AccountPicture()
    rows = newest_first(*(message(i, A, T - 1000 + i * 10) for i in range(1, 4)))
    picture.learn_history(rows, at=T, since=START, cnt=3, phones=[A])  # cut: exactly cnt
    assert picture.history(A, 2, start=START, before=2) is None  # below the oldest row
    assert picture.history(A, 5, start=START, before=999) is None  # unknown anchor


def test_the_account_slice_says_from_when_it_is_whole() -> None:
    picture = AccountPicture()
    rows = newest_first(message(1, A, T - 900), message(2, B, T - 300), message(3, C, T - 100))
    picture.learn_history(rows, at=T, since=T - 2 * 86_400, cnt=3)  # cut: exactly cnt
    sliced = picture.since(T - 3600)
    assert sliced is not None
    assert sliced.covered_since == T - 900 and sliced.as_of == T
    assert [h.entry.int_id for h in sliced.held] == [3, 2, 1]
    assert AccountPicture().since(T) is None
