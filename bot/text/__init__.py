"""Words: every user-visible string (en/ru), phone numbers as people type them, and the
rendering of answers into Telegram HTML within Telegram's limits.

May import: ``bot.smsc`` (what a status is), ``bot.fetch`` (the result models it renders) and
the standard library, phonenumbers. Never aiogram: the console, the bot and the benchmarks
render the same way.
"""

from bot.text.codes import (
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
from bot.text.phones import (
    MAX_DIGITS,
    MAX_INPUT_LENGTH,
    MIN_DIGITS,
    AmbiguousCount,
    InvalidPhone,
    PhoneAndCount,
    format_phone,
    looks_like_phone,
    parse_phone,
    read_phone_and_count,
)
from bot.text.render import (
    MAX_MESSAGE,
    View,
    fit,
    freshness,
    mask_codes,
    render_failed,
    render_history,
    render_last,
    render_recent,
    render_status,
    when,
)

__all__ = [
    "ERRORS",
    "FAILURE_STATUSES",
    "MAX_DIGITS",
    "MAX_INPUT_LENGTH",
    "MAX_MESSAGE",
    "MIN_DIGITS",
    "STATUSES",
    "AmbiguousCount",
    "ErrorInfo",
    "InvalidPhone",
    "Lang",
    "Phase",
    "PhoneAndCount",
    "Retry",
    "StatusInfo",
    "Text",
    "View",
    "error_info",
    "failure_retry",
    "fit",
    "format_phone",
    "freshness",
    "lang_for",
    "looks_like_phone",
    "mask_codes",
    "parse_phone",
    "read_phone_and_count",
    "render_failed",
    "render_history",
    "render_last",
    "render_recent",
    "render_status",
    "status_info",
    "when",
]
