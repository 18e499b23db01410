"""The status and error tables: complete, bilingual, and the retry answers they give."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.smsc import codes as protocol
from bot.text import (
    ERRORS,
    FAILURE_STATUSES,
    STATUSES,
    ErrorInfo,
    Lang,
    Phase,
    Retry,
    StatusInfo,
    Text,
    error_info,
    failure_retry,
    lang_for,
    status_info,
)

# The tables of smsc-api.md, row by row.
DOCUMENTED_STATUSES = {-3, -2, -1, 0, 1, 2, 3, 4, 20, 22, 23, 24, 25}
DOCUMENTED_ERRORS = {0, 1, 6, 11, 12, 13, 21, 200, 219, 220, *range(237, 256)}
# Russian labels of the err table in smsc-api.md (first letter lower-cased).
RUSSIAN_ERROR_LABELS = {
    0: "нет ошибки",
    1: "абонент не существует",
    6: "абонент не в сети",
    13: "абонент заблокирован",
    220: "переполнена очередь у оператора",
    245: "статус не получен",
    249: "неверный формат номера",
    253: "запрещено спам-фильтром",
    254: "незарегистрированный sender id",
    255: "отклонено оператором",
}


def test_status_table_has_every_documented_code() -> None:
    assert set(STATUSES) == DOCUMENTED_STATUSES


def test_error_table_has_every_documented_code() -> None:
    assert set(ERRORS) == DOCUMENTED_ERRORS


@pytest.mark.parametrize("code", sorted(DOCUMENTED_STATUSES))
@pytest.mark.parametrize("lang", list(Lang))
def test_every_status_has_both_languages(code: int, lang: Lang) -> None:
    info = STATUSES[code]
    assert info.code == code
    assert info.name(lang).strip()
    assert info.meaning(lang).strip()
    # short enough for a phone screen
    assert len(info.name(lang)) <= 32
    assert len(info.meaning(lang)) <= 110


@pytest.mark.parametrize("code", sorted(DOCUMENTED_ERRORS))
@pytest.mark.parametrize("lang", list(Lang))
def test_every_error_has_both_languages(code: int, lang: Lang) -> None:
    info = ERRORS[code]
    assert info.code == code
    assert info.name(lang).strip()
    assert info.help(lang).strip()
    assert len(info.name(lang)) <= 32
    assert len(info.help(lang)) <= 110


def test_russian_and_english_texts_differ() -> None:
    # Catches a copy-paste that puts the same language in both slots.
    for status in STATUSES.values():
        assert status.name(Lang.EN) != status.name(Lang.RU), status.code
    for error in ERRORS.values():
        assert error.name(Lang.EN) != error.name(Lang.RU), error.code


@pytest.mark.parametrize(("code", "label"), sorted(RUSSIAN_ERROR_LABELS.items()))
def test_russian_error_labels_follow_smsc_table(code: int, label: str) -> None:
    assert error_info(code).name(Lang.RU) == label


def test_text_picks_language() -> None:
    text = Text("delivered", "доставлено")
    assert text(Lang.EN) == "delivered"
    assert text(Lang.RU) == "доставлено"


@pytest.mark.parametrize(("en", "ru"), [("", "x"), ("x", ""), ("  ", "x")])
def test_text_refuses_an_empty_translation(en: str, ru: str) -> None:
    with pytest.raises(ValueError, match="both translations"):
        Text(en, ru)


def test_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        STATUSES[99] = STATUSES[1]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        STATUSES[1].final = False  # type: ignore[misc]


@pytest.mark.parametrize(
    ("code", "phase", "final"),
    [
        (-3, Phase.NOT_FOUND, True),
        (-2, Phase.STOPPED, False),
        (-1, Phase.PENDING, False),
        (0, Phase.PENDING, False),
        (1, Phase.DELIVERED, True),
        (2, Phase.DELIVERED, True),
        (4, Phase.DELIVERED, True),
        (3, Phase.FAILED, True),
        (20, Phase.FAILED, True),
        (25, Phase.FAILED, True),
    ],
)
def test_status_phase_and_finality(code: int, phase: Phase, final: bool) -> None:
    info = status_info(code)
    assert (info.phase, info.final) == (phase, final)


def test_failure_statuses_are_exactly_the_failed_phase() -> None:
    assert {3, 20, 22, 23, 24, 25} == FAILURE_STATUSES
    failed = {code for code, info in STATUSES.items() if info.phase is Phase.FAILED}
    assert failed == FAILURE_STATUSES


def test_only_failures_have_a_retry_answer() -> None:
    for code, info in STATUSES.items():
        assert (info.retry is Retry.NOT_APPLICABLE) == (code not in FAILURE_STATUSES), code


def test_unknown_status_is_generic_and_does_not_raise() -> None:
    info = status_info(77)
    assert isinstance(info, StatusInfo)
    assert info.code == 77
    assert info.name(Lang.EN) == "unknown status 77"
    assert info.name(Lang.RU) == "неизвестный статус 77"
    assert info.meaning(Lang.EN).strip()
    assert info.meaning(Lang.RU).strip()
    assert not info.final
    assert info.retry is Retry.UNKNOWN


def test_unknown_error_is_generic_and_does_not_raise() -> None:
    info = error_info(999)
    assert isinstance(info, ErrorInfo)
    assert info.code == 999
    assert info.name(Lang.EN) == "error 999"
    assert info.name(Lang.RU) == "ошибка 999"
    assert info.help(Lang.RU).strip()
    assert info.retry is Retry.UNKNOWN


@given(st.integers())
def test_lookups_never_raise(code: int) -> None:
    assert status_info(code).code == code
    assert error_info(code).code == code
    assert failure_retry(code, code) in set(Retry)


@pytest.mark.parametrize(
    ("status", "err", "expected"),
    [
        # not failures
        (1, 0, Retry.NOT_APPLICABLE),
        (0, None, Retry.NOT_APPLICABLE),
        (-3, None, Retry.NOT_APPLICABLE),
        (-1, 6, Retry.NOT_APPLICABLE),
        # the status is the cause
        (22, None, Retry.PERMANENT),
        (22, 6, Retry.PERMANENT),
        (24, None, Retry.TEMPORARY),
        (24, 1, Retry.TEMPORARY),
        # expired: temporary unless the error says the subscriber is gone
        (3, None, Retry.TEMPORARY),
        (3, 0, Retry.TEMPORARY),
        (3, 6, Retry.TEMPORARY),
        (3, 245, Retry.TEMPORARY),
        (3, 1, Retry.PERMANENT),
        # impossible to deliver: the error decides
        (20, 6, Retry.TEMPORARY),
        (20, 220, Retry.TEMPORARY),
        (20, 237, Retry.TEMPORARY),
        (20, 240, Retry.TEMPORARY),
        (20, 246, Retry.TEMPORARY),
        (20, 251, Retry.TEMPORARY),
        (20, 1, Retry.PERMANENT),
        (20, 11, Retry.PERMANENT),
        (20, 13, Retry.PERMANENT),
        (20, 248, Retry.PERMANENT),
        (20, 249, Retry.PERMANENT),
        (20, 250, Retry.PERMANENT),
        (20, 252, Retry.PERMANENT),
        (20, 253, Retry.PERMANENT),
        (20, 254, Retry.PERMANENT),
        (20, 245, Retry.UNKNOWN),
        (20, 255, Retry.UNKNOWN),
        (20, 0, Retry.UNKNOWN),
        (20, None, Retry.UNKNOWN),
        (20, 12345, Retry.UNKNOWN),
        # number unavailable: the error decides, else permanent
        (25, 6, Retry.TEMPORARY),
        (25, 248, Retry.PERMANENT),
        (25, None, Retry.PERMANENT),
        (25, 245, Retry.PERMANENT),
        # prohibited: the error decides, else permanent
        (23, 251, Retry.TEMPORARY),
        (23, 246, Retry.TEMPORARY),
        (23, 253, Retry.PERMANENT),
        (23, None, Retry.PERMANENT),
        (23, 255, Retry.PERMANENT),
    ],
)
def test_failure_retry(status: int, err: int | None, expected: Retry) -> None:
    assert failure_retry(status, err) is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ru", Lang.RU),
        ("ru-RU", Lang.RU),
        ("RU", Lang.RU),
        ("ru_RU", Lang.RU),
        (" ru ", Lang.RU),
        ("en", Lang.EN),
        ("en-US", Lang.EN),
        ("uk", Lang.EN),
        ("be", Lang.EN),
        ("kk", Lang.EN),
        ("rup", Lang.EN),  # Aromanian, not Russian
        ("", Lang.EN),
        (None, Lang.EN),
    ],
)
def test_lang_for(code: str | None, expected: Lang) -> None:
    assert lang_for(code) is expected


# --- what a code is: the protocol's table, without words ------------------------------------


def test_the_words_and_the_protocol_describe_the_same_codes() -> None:
    assert STATUSES.keys() == protocol.STATUS_CODES.keys()
    assert ERRORS.keys() == protocol.ERROR_CODES.keys()
    for code, info in STATUSES.items():
        kind = protocol.STATUS_CODES[code]
        assert (info.phase, info.final, info.retry) == (kind.phase, kind.final, kind.retry)
    for code, error in ERRORS.items():
        assert error.retry is protocol.ERROR_CODES[code].retry
    assert protocol.FAILURE_STATUSES is FAILURE_STATUSES
    assert protocol.failure_retry is failure_retry


def test_the_protocol_table_imports_no_words() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, bot.smsc.codes; "
            "print(sorted(m for m in sys.modules if m.startswith('bot')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "bot.smsc.codes" in loaded
    assert "bot.text" not in loaded


@given(st.integers())
def test_unknown_codes_are_cautious(code: int) -> None:
    status = protocol.status_code(code)
    assert status.code == code
    if code not in protocol.STATUS_CODES:
        assert (status.phase, status.final, status.retry) == (Phase.PENDING, False, Retry.UNKNOWN)
        assert status_info(code).retry is Retry.UNKNOWN
    if code not in protocol.ERROR_CODES:
        assert protocol.error_code(code).retry is Retry.UNKNOWN


@pytest.mark.parametrize(
    ("status", "sent_before", "overdue"),
    [
        (0, 600, False),
        (0, 601, True),
        (0, 7200, True),
        (-1, 601, True),
        (-1, -3600, False),  # scheduled for later
        (1, 7200, False),
        (-2, 7200, False),  # stopped: paused on purpose, not overdue
        (20, 7200, False),
        (None, 7200, False),
    ],
)
def test_is_overdue(status: int | None, sent_before: int, overdue: bool) -> None:
    as_of = 1_764_000_000.0
    assert protocol.is_overdue(status, as_of - sent_before, as_of) is overdue
    assert protocol.is_overdue(status, None, as_of) is False
