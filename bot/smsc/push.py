"""SMS Center's push to the client's handler URL: its fields, its kinds, and its signature.

**The signature scheme is an assumption** (``shared/smsc-api.md``, "Status push", marked
**(check)**): SMS Center's page could not be read, and this is how independent client libraries
handle it. The handler URL in the account's settings carries ``md5=<secret>`` (or
``sha1=<secret>``); SMS Center then sends, in that same field, the lowercase hex hash of
``id:phone:status:<secret>`` for a status push, or of ``phone:mes:to:<secret>`` for an incoming
SMS, never the secret itself. ``verify`` is the one place that assumption lives; if a real push
is refused as ``bad_signature``, it shows at once (refusals are counted by reason in ``/keys``,
``/healthz`` and ``/metrics``) and this module is what to change.

The values are hashed exactly as received: ``parse_fields`` keeps each as the raw bytes of the
request (held in a ``str`` as Latin-1 code points, one per byte), so a windows-1251 push (no
``charset=utf-8``) verifies as well as a UTF-8 one; ``text`` decodes a value for use. Every
field is optional; comparisons are constant-time (``hmac.compare_digest``), and every candidate
secret is compared, so the time taken does not say which one matched.

A wait-call push's fields are not documented at all: a push with neither ``status`` nor ``mes``
is verified in the status form (``id:phone:status``, missing fields empty) and not stored.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: The hash fields SMS Center may send, the first present one is used.
ALGORITHMS = ("md5", "sha1")


class PushKind(StrEnum):
    """What a push is about, by its fields."""

    STATUS = "status"  # a delivery status of a message the account sent (has ``status``)
    INCOMING = "incoming"  # an incoming SMS (has ``mes``)
    OTHER = "other"  # anything else on the same URL (the wait-call service)


class Verdict(StrEnum):
    """The verifier's answer; everything but ``OK`` is a refusal reason."""

    OK = "ok"
    UNSIGNED = "unsigned"  # neither md5 nor sha1 was sent
    BAD_SIGNATURE = "bad_signature"


@dataclass(frozen=True)
class Push:
    """The fields of one push, as raw bytes in Latin-1 code points (see the module docstring)."""

    fields: Mapping[str, str]

    @property
    def kind(self) -> PushKind:
        """Status push, incoming SMS, or another kind."""
        if "status" in self.fields:
            return PushKind.STATUS
        if "mes" in self.fields:
            return PushKind.INCOMING
        return PushKind.OTHER

    @property
    def charset(self) -> str:
        """How the values are encoded: UTF-8 with ``charset=utf-8``, else windows-1251."""
        wanted = self.fields.get("charset", "").lower()
        return "utf-8" if wanted in ("utf-8", "utf8") else "windows-1251"

    def text(self, name: str) -> str:
        """Field ``name`` decoded (``""`` when absent); undecodable bytes are replaced."""
        raw = self.fields.get(name, "")
        return raw.encode("latin-1").decode(self.charset, errors="replace")

    def integer(self, name: str) -> int | None:
        """Field ``name`` as a whole number, or None when absent or not one."""
        value = self.text(name).strip()
        if value.startswith("-"):
            digits = value[1:]
            return -int(digits) if digits.isascii() and digits.isdigit() else None
        return int(value) if value.isascii() and value.isdigit() else None

    def signed_text(self) -> bytes:
        """What the hash covers, before the secret: the kind's fields joined with ``:``."""
        names = (
            ("phone", "mes", "to") if self.kind is PushKind.INCOMING else ("id", "phone", "status")
        )
        return ":".join(self.fields.get(name, "") for name in names).encode("latin-1")


def parse_fields(query: bytes, body: bytes) -> Push:
    """The fields of a push from the raw query string and the raw form body (the body wins on
    a clash), values kept as received; a field given twice keeps its last value."""
    fields: dict[str, str] = {}
    for source in (query, body):
        text = source.decode("latin-1")
        for name, value in parse_qsl(text, keep_blank_values=True, encoding="latin-1"):
            fields[name] = value
    return Push(fields)


def signature(push: Push, secret: str, algorithm: str = "md5") -> str:
    """The lowercase hex hash SMS Center sends for ``push`` with ``secret`` (assumed scheme)."""
    data = push.signed_text() + b":" + secret.encode("utf-8")
    return hashlib.new(algorithm, data, usedforsecurity=False).hexdigest()


def verify(push: Push, secrets: Iterable[str]) -> Verdict:
    """Whether ``push`` is signed with one of ``secrets`` (the current one, and the previous
    one while it is still accepted); constant-time, and every secret is compared."""
    algorithm = next((name for name in ALGORITHMS if name in push.fields), None)
    if algorithm is None:
        return Verdict.UNSIGNED
    sent = push.fields[algorithm].strip().lower().encode("latin-1")
    matched = False
    for secret in secrets:
        expected = signature(push, secret, algorithm).encode("ascii")
        matched |= hmac.compare_digest(sent, expected)
    return Verdict.OK if matched else Verdict.BAD_SIGNATURE


def signed_fields(fields: Mapping[str, str], secret: str, algorithm: str = "md5") -> dict[str, str]:
    """``fields`` (decoded text, sent UTF-8 with ``charset=utf-8``) with the signature added, as
    SMS Center would post them: for the simulator's pusher and a relay."""
    raw = {name: value.encode("utf-8").decode("latin-1") for name, value in fields.items()}
    raw["charset"] = "utf-8"
    push = Push(raw)
    return {**fields, "charset": "utf-8", algorithm: signature(push, secret, algorithm)}


def split_handler_url(handler_url: str) -> tuple[str, str, str]:
    """The URL to post to (without the secret), the secret, and the hash named for it."""
    parts = urlsplit(handler_url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    found = [(name, value) for name, value in query if name in ALGORITHMS]
    if not found:
        raise ValueError("the handler URL carries no md5= or sha1= secret")
    algorithm, secret = found[0]
    rest = urlencode([(name, value) for name, value in query if name not in ALGORITHMS])
    return urlunsplit(parts._replace(query=rest)), secret, algorithm
