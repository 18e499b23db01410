"""Telegram HTML by construction: a catalogue line filled with values that are escaped unless
they are already HTML.

Answers are sent in HTML parse mode, so a name, an audit argument or an SMS Center description
with ``<`` in it must not become markup. ``fill_html`` escapes every value it is given; a value
that is itself HTML (another catalogue line, an earlier ``fill_html`` result) says so by being
``Html``.
"""

from __future__ import annotations

import html


class Html(str):
    """A string that already is Telegram HTML: ``fill_html`` inserts it as it is."""

    __slots__ = ()


def fill_html(template: str, /, **values: object) -> Html:
    """``template.format(**values)`` with every value HTML-escaped unless it is ``Html``.

    ``template`` is trusted HTML (a catalogue line); values are anything else.
    """
    safe = {
        name: value if isinstance(value, Html) else html.escape(str(value))
        for name, value in values.items()
    }
    return Html(template.format(**safe))
