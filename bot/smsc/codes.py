"""What SMS Center's status and delivery-error codes are, as the protocol defines them.

For each status of ``smsc-api.md`` ("Message status codes"): its phase, whether it is final,
and whether resending can succeed; for each delivery error (``err``, "Delivery error codes"):
whether resending can succeed. No words: what the bot *says* about a code lives in
``bot.text.codes``. Lookups never raise: a code SMS Center adds later gets a cautious entry
(not final, retry unknown).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

__all__ = [
    "ERROR_CODES",
    "FAILURE_STATUSES",
    "REPORT_EXPECTED_WITHIN",
    "STATUS_CODES",
    "ErrorCode",
    "Phase",
    "Retry",
    "StatusCode",
    "error_code",
    "failure_retry",
    "is_overdue",
    "status_code",
]


class Retry(StrEnum):
    """Whether sending the message again can succeed."""

    #: Resending later can succeed as is (phone off, operator queue full, a daily limit).
    TEMPORARY = "temporary"
    #: Resending will not help until something changes (number, account settings, text, SIM).
    PERMANENT = "permanent"
    #: Nobody knows (no delivery report, operator's rejection without a reason).
    UNKNOWN = "unknown"
    #: The question does not arise: delivered, still on its way, or not found.
    NOT_APPLICABLE = "n/a"


class Phase(StrEnum):
    """Coarse grouping of statuses, for icons and counts."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    NOT_FOUND = "not_found"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class StatusCode:
    """What one message status code is.

    ``final`` says the status will not change any more (except 1 "delivered", which may still
    become 2 "read" or 4 "link clicked"); ``retry`` is the answer for the status alone — use
    :func:`failure_retry` to take the ``err`` code into account.
    """

    code: int
    phase: Phase
    final: bool
    retry: Retry


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """What one delivery error code (``err``) says about resending."""

    code: int
    retry: Retry


_T, _P, _U, _NA = Retry.TEMPORARY, Retry.PERMANENT, Retry.UNKNOWN, Retry.NOT_APPLICABLE
_PENDING, _DELIVERED, _FAILED = Phase.PENDING, Phase.DELIVERED, Phase.FAILED

STATUS_CODES: Mapping[int, StatusCode] = MappingProxyType(
    {
        status.code: status
        for status in (
            StatusCode(-3, Phase.NOT_FOUND, True, _NA),  # not found
            StatusCode(-2, Phase.STOPPED, False, _NA),  # stopped
            StatusCode(-1, _PENDING, False, _NA),  # waiting to be sent
            StatusCode(0, _PENDING, False, _NA),  # passed to operator
            StatusCode(1, _DELIVERED, True, _NA),  # delivered
            StatusCode(2, _DELIVERED, True, _NA),  # read
            StatusCode(3, _FAILED, True, _T),  # expired: phone off for long, memory full
            StatusCode(4, _DELIVERED, True, _NA),  # link clicked
            StatusCode(20, _FAILED, True, _U),  # impossible to deliver: the err says why
            StatusCode(22, _FAILED, True, _P),  # wrong number
            StatusCode(23, _FAILED, True, _P),  # prohibited: limits, blacklist, spam filter
            StatusCode(24, _FAILED, True, _T),  # not enough money: top up, then resend
            StatusCode(25, _FAILED, True, _P),  # number unavailable
        )
    }
)

ERROR_CODES: Mapping[int, ErrorCode] = MappingProxyType(
    {
        error.code: error
        for error in (
            ErrorCode(0, _NA),  # no error
            ErrorCode(1, _P),  # subscriber does not exist
            ErrorCode(6, _T),  # subscriber offline
            ErrorCode(11, _P),  # no SMS service
            ErrorCode(12, _P),  # phone or SIM error
            ErrorCode(13, _P),  # subscriber blocked
            ErrorCode(21, _P),  # service not supported
            ErrorCode(200, _P),  # virtual sending (test mode)
            ErrorCode(219, _T),  # SIM card replaced: named senders blocked for 24 h
            ErrorCode(220, _T),  # operator queue full
            ErrorCode(237, _T),  # no answer (calls)
            ErrorCode(238, _P),  # no template
            ErrorCode(239, _P),  # forbidden IP address
            ErrorCode(240, _T),  # subscriber busy
            ErrorCode(241, _T),  # conversion error
            ErrorCode(242, _T),  # answering machine
            ErrorCode(243, _P),  # no contract
            ErrorCode(244, _P),  # mailing prohibited
            ErrorCode(245, _U),  # status not received within a day
            ErrorCode(246, _T),  # time restriction
            ErrorCode(247, _T),  # message limit exceeded
            ErrorCode(248, _P),  # no route
            ErrorCode(249, _P),  # wrong number format
            ErrorCode(250, _P),  # number prohibited by settings
            ErrorCode(251, _T),  # limit per number exceeded
            ErrorCode(252, _P),  # number prohibited
            ErrorCode(253, _P),  # blocked by spam filter
            ErrorCode(254, _P),  # unregistered sender id
            ErrorCode(255, _U),  # rejected by operator without a reason
        )
    }
)

#: Statuses that count as "undelivered" for triage and ``/failed`` (PRODUCT.md §5).
FAILURE_STATUSES: frozenset[int] = frozenset({3, 20, 22, 23, 24, 25})

#: Seconds after its send time within which a message normally leaves SMS Center's queue
#: (status -1) and the operator's delivery report arrives (status 0). A message still in
#: either status later than this is overdue, and resending it is reasonable.
REPORT_EXPECTED_WITHIN: Final = 600

# Statuses whose own cause decides the retry answer, whatever ``err`` says.
_RETRY_FROM_STATUS_ONLY: frozenset[int] = frozenset({22, 24})
# Statuses that normally last only minutes after the send time.
_IN_TRANSIT: frozenset[int] = frozenset({-1, 0})


def status_code(code: int) -> StatusCode:
    """The entry for status ``code``; for a code not in the table, a cautious one.

    Never raises. An unknown status is treated as pending and not final (it may yet change),
    and its retry answer as unknown.
    """
    known = STATUS_CODES.get(code)
    if known is not None:
        return known
    return StatusCode(code, Phase.PENDING, False, Retry.UNKNOWN)


def error_code(code: int) -> ErrorCode:
    """The entry for delivery error ``code``; retry unknown for a code not in the table."""
    known = ERROR_CODES.get(code)
    return known if known is not None else ErrorCode(code, Retry.UNKNOWN)


def failure_retry(status: int, err: int | None) -> Retry:
    """Whether resending can succeed, from a message's ``status`` and ``err`` together.

    - Not a failure (see :data:`FAILURE_STATUSES`): ``NOT_APPLICABLE``.
    - 22 "wrong number" is ``PERMANENT`` and 24 "not enough money" ``TEMPORARY`` (top up, then
      resend): the status itself is the cause, whatever ``err`` says.
    - 3, 20, 23, 25: the ``err`` code's answer when it gives a definite one (temporary or
      permanent), otherwise the status's own answer — 3 expired ``TEMPORARY``, 20 ``UNKNOWN``,
      23 prohibited and 25 unavailable ``PERMANENT``. So 23 with err 251 (limit per number) is
      temporary, and 3 with err 1 (no such subscriber) permanent.
    """
    if status not in FAILURE_STATUSES:
        return Retry.NOT_APPLICABLE
    by_status = status_code(status).retry
    if status in _RETRY_FROM_STATUS_ONLY or err is None:
        return by_status
    by_err = error_code(err).retry
    if by_err in (Retry.TEMPORARY, Retry.PERMANENT):
        return by_err
    return by_status


def is_overdue(status: int | None, sent_at: float | None, as_of: float) -> bool:
    """Whether a message still waiting to be sent (-1) or passed to the operator (0) at
    ``as_of`` is past :data:`REPORT_EXPECTED_WITHIN` after its send time ``sent_at``.

    False for any other status, or when the send time is unknown.
    """
    if status not in _IN_TRANSIT or sent_at is None:
        return False
    return as_of - sent_at > REPORT_EXPECTED_WITHIN
