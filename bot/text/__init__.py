"""Words: every user-visible string (en/ru), phone numbers as people type them, and the
rendering of answers into Telegram HTML within Telegram's limits.

- ``phrases``: the phrase types — :class:`Lang`, :class:`Text`, :class:`Plural` — and each
  language's plural rule.
- ``catalogue``, ``catalogue_answers``, ``catalogue_watch``: the one catalogue of every line the
  bot and its console say (the commands', the console's; the lookup answers'; the on-call
  watch's); ``codes``: what each SMS Center
  status and error code means and what helps.
- ``phones``: numbers as people type them; ``sanitize``: SMS Center's text made safe;
  ``moments``: times for people; ``fitting``: UTF-16 length and cutting HTML to Telegram's limit;
  ``view``: who an answer is for; ``freshness``: the line saying how fresh an answer is;
  ``render``: the lookup answers; ``alerts``: what an on-call watch says in its chat.

Why a small typed catalogue of our own rather than gettext or Fluent: two languages, about two
hundred phrases, and one plural rule each — what a catalogue file format, a compile step and a
runtime lookup by string id would buy (translators outside the code, many languages) is not
needed, while what they cost is: a phrase missing or misspelt is found at runtime in a chat,
not at import. Here every phrase is a Python name, so mypy and the import catch a typo; each
:class:`Text` and :class:`Plural` checks itself when built (both languages, every plural form,
the same placeholders); and the layer needs no aiogram, no Babel and no build step.

May import: ``bot.smsc`` (what a status is), ``bot.fetch`` and ``bot.watch`` (the result models
and events it renders) and the standard library, phonenumbers. Never aiogram: the console, the
bot and the benchmarks render the same way.
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
from bot.text.fitting import MAX_MESSAGE, fit
from bot.text.moments import when
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
    phone_in_sentence,
    read_phone_and_count,
)
from bot.text.phrases import Plural, PluralForm, plural_form
from bot.text.render import (
    as_of_phrase,
    freshness,
    render_failed,
    render_history,
    render_last,
    render_pending,
    render_recent,
    render_restarted,
    render_status,
    with_pushed,
)
from bot.text.sanitize import mask_codes, money
from bot.text.view import View

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
    "Plural",
    "PluralForm",
    "Retry",
    "StatusInfo",
    "Text",
    "View",
    "as_of_phrase",
    "error_info",
    "failure_retry",
    "fit",
    "format_phone",
    "freshness",
    "lang_for",
    "looks_like_phone",
    "mask_codes",
    "money",
    "parse_phone",
    "phone_in_sentence",
    "plural_form",
    "read_phone_and_count",
    "render_failed",
    "render_history",
    "render_last",
    "render_pending",
    "render_recent",
    "render_restarted",
    "render_status",
    "status_info",
    "when",
    "with_pushed",
]
