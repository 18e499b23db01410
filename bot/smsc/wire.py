"""The simulated SMS Center's side of the wire: reading a request's parameters and writing an
answer in the format and charset it asked for, errors included.

May import: the standard library, aiohttp, ``bot.smsc.records``. The client parses answers on
its own (``bot.smsc.client``): the two sides share the protocol notes, not code.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, Final

from aiohttp import web

from bot.smsc.records import normalise_phone

#: SMS Center's description of each error code.
ERROR_DESCRIPTIONS: Final[Mapping[int, str]] = MappingProxyType(
    {
        1: "parameters error",
        2: "authorise error",
        3: "no messages",
        4: "IP is blocked",
        5: "delete error",
        9: "too many requests",
    }
)

_CREDENTIALS: Final = frozenset({"apikey", "login", "psw"})
_CHARSETS: Final[Mapping[str, str]] = MappingProxyType(
    {"utf-8": "utf-8", "utf8": "utf-8", "koi8-r": "koi8-r", "koi8r": "koi8-r"}
)
_DEFAULT_CHARSET: Final = "windows-1251"


class Refusal(Exception):
    """An SMS Center error answer: raised inside a request, turned into the error body."""

    def __init__(self, code: int, description: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.description = description or ERROR_DESCRIPTIONS.get(code, "error")


class Reply:
    """Builds answers in the format (``fmt``) and charset a request asked for."""

    def __init__(self, params: Mapping[str, str]) -> None:
        self.fmt = params.get("fmt", "0").strip()
        self.charset = _CHARSETS.get(params.get("charset", "").strip().lower(), _DEFAULT_CHARSET)

    @property
    def json(self) -> bool:
        """Whether the request asked for JSON (``fmt=3``)."""
        return self.fmt == "3"

    def body(self, text: str, content_type: str, status: int = 200) -> web.Response:
        """``text`` encoded in the request's charset, which ``Content-Type`` names."""
        # Characters the charset lacks become "?", as a legacy-encoded service would send them.
        data = text.encode(self.charset, errors="replace")
        return web.Response(
            body=data,
            status=status,
            headers={"Content-Type": f"{content_type}; charset={self.charset}"},
        )

    def data(self, payload: Any, text: str) -> web.Response:
        """``payload`` as JSON when asked for, else the plain-text form ``text``."""
        if self.json:
            return self.body(json.dumps(payload, ensure_ascii=False), "application/json")
        return self.body(text, "text/plain")

    def error(self, code: int, description: str | None = None) -> web.Response:
        """SMS Center's error answer in the requested format (HTTP 200, as the service does)."""
        description = description or ERROR_DESCRIPTIONS.get(code, "error")
        if self.json:
            return self.data({"error": description, "error_code": code}, "")
        if self.fmt == "1":
            return self.body(f"0,-{code}", "text/plain")
        if self.fmt == "2":
            xml = f"<result><error>{description}</error><error_code>{code}</error_code></result>"
            return self.body(xml, "text/xml")
        return self.body(f"ERROR = {code} ({description})", "text/plain")


async def read_params(request: web.Request) -> dict[str, str]:
    """The query string and the POST form merged; the form wins on a clash."""
    params = dict(request.query)
    if request.method == "POST":
        form = await request.post()
        params.update((key, value) for key, value in form.items() if isinstance(value, str))
    return params


def int_param(params: Mapping[str, str], name: str, default: int | None) -> int:
    """An integer parameter; missing gives ``default`` (``None``: required). Error 1 if bad."""
    raw = params.get(name, "").strip()
    if not raw:
        if default is None:
            raise Refusal(1)
        return default
    digits = raw.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        raise Refusal(1)
    return int(raw)


def date_param(params: Mapping[str, str], name: str) -> date | None:
    """A ``dd.mm.yyyy`` parameter, ``None`` when missing. Error 1 if bad."""
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        return datetime.strptime(raw, "%d.%m.%Y").date()
    except ValueError:
        raise Refusal(1) from None


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier, the 31st clamped to that month's last day."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        with contextlib.suppress(ValueError):
            return date(year, month, candidate)
    raise AssertionError("unreachable")


def numbers_only(raw: str) -> bool:
    """Whether every entry of a comma-separated ``phone`` list is written as a phone number."""
    allowed = set("0123456789+-() ")
    entries = [entry for entry in raw.replace(";", ",").split(",") if entry.strip()]
    return all(set(entry) <= allowed for entry in entries)


def phone_list(raw: str) -> frozenset[str]:
    """The normalised numbers of a comma- or semicolon-separated ``phone`` parameter."""
    return frozenset(p for p in (normalise_phone(x) for x in raw.replace(";", ",").split(",")) if p)


def identity(params: Mapping[str, str]) -> str:
    """What makes two history requests "identical": every parameter except credentials."""
    items = []
    for key, value in params.items():
        if key in _CREDENTIALS:
            continue
        if key == "phone":
            value = ",".join(sorted(phone_list(value)))
        items.append((key, value.strip()))
    return json.dumps(sorted(items))
