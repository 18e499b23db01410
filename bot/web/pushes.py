"""``POST``/``GET /smsc/<account>``: SMS Center's pushes for an account (PRODUCT.md §9).

The order of a request, cheapest first, so nothing touches the database before the push is
known to be SMS Center's:

1. size: a body over ``MAX_PUSH_BODY`` or a query over ``MAX_PUSH_QUERY`` is refused (413);
2. the account's secrets, from memory (``PushKeys``, loaded at start and after a change): an
   unknown account, or one without pushes, is refused (403);
3. the signature (``bot.smsc.push.verify``, the one place the (check) assumption lives): 403;
4. a verified **status** push updates the message's status in the account picture at once,
   is filed for SQLite (``PushWriter``, batched), and is answered 200 ``OK``; a repeat is
   answered the same and changes nothing. An **incoming SMS** or another kind is answered
   200 ``OK`` and not stored. Every verified push is also passed on in the background when the
   account relays (``bot.web.relay``).

Refusals are counted by reason (``PushTally``: ``/healthz`` and ``/keys`` show "N refused: bad
signature, last at 14:05"; ``/metrics`` has them too), and only refusals are throttled: past
``REFUSALS_PER_MINUTE`` in the last minute a refused request gets 429 and is not logged on its
own. A verified push is never throttled nor dropped. A push's ``ts`` is read as Unix seconds
(milliseconds when it is that large); when absent or implausible, the time it was received.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from bot.fetch import Fetcher
from bot.fetch.picture import digits
from bot.smsc import HistoryEntry
from bot.smsc.push import Push, PushKind, Verdict, parse_fields, verify
from bot.store import PushedStatus, PushSecrets, PushStore
from bot.watch.runner import PushedOutcome
from bot.web.metrics import Metrics
from bot.web.push_writer import PushWriter
from bot.web.relay import Relay

logger = logging.getLogger(__name__)

PUSH_PATH = "/smsc/{account}"
MAX_PUSH_BODY = 16 * 1024
MAX_PUSH_QUERY = 4 * 1024
REFUSALS_PER_MINUTE = 120
UNKNOWN_ACCOUNT = "unknown_account"
TOO_LARGE = "too_large"
# How far back a restart reads pushed statuses again (the rest stay in SQLite until pruned).
RELOAD_HOURS = 24
# The signature and the encoding: the relay signs and encodes afresh.
_NOT_RELAYED = frozenset({"md5", "sha1", "charset"})
# A ts further than this from the moment a push arrives is not believed.
_TS_PLAUSIBLE = 2 * 86_400.0
# How much older than the pushes noted after it a push's own status time may be (SMS Center
# retries a push that failed): the scan of a watch's period stops only past that.
_LATE_PUSH = 3600.0


@dataclass
class AccountPushes:
    """What one account's pushes did: accepted, refused by reason, and when last."""

    accepted: int = 0
    last_push_at: float | None = None
    refused: Counter[str] = field(default_factory=Counter)
    last_refused_at: float | None = None
    last_refusal: str | None = None


class PushTally:
    """Accepted and refused pushes per account (``""``: requests for no known account)."""

    def __init__(self) -> None:
        self.accounts: dict[str, AccountPushes] = {}
        self._recent_refusals: deque[float] = deque()

    def of(self, account: str) -> AccountPushes:
        """The tally of ``account`` (created empty)."""
        return self.accounts.setdefault(account, AccountPushes())

    def accept(self, account: str, now: float) -> None:
        """A verified push for ``account``."""
        tally = self.of(account)
        tally.accepted += 1
        tally.last_push_at = now

    def refuse(self, account: str, reason: str, now: float) -> bool:
        """A refused request; whether refusals are past the throttle (then answer 429)."""
        tally = self.of(account)
        tally.refused[reason] += 1
        tally.last_refused_at, tally.last_refusal = now, reason
        recent = self._recent_refusals
        recent.append(now)
        while recent and recent[0] <= now - 60:
            recent.popleft()
        return len(recent) > REFUSALS_PER_MINUTE


class PushedIndex:
    """The status each push brought, per account and message (the newest ``max_entries``), so
    that an answer showing that status can say it was pushed ("status pushed by SMS Center"),
    and an on-call watch can count the pushed statuses of its period (``pushed_since``). A
    restart reads the last day's back from SQLite (``load``)."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._max = max_entries
        # (key_id, phone, id) → (status, err, status time), in the order they were noted.
        self._items: OrderedDict[tuple[str, str, int], tuple[int | None, int | None, float]] = (
            OrderedDict()
        )

    def note(
        self,
        key_id: str,
        phone: str,
        message_id: int,
        status: int | None,
        at: float,
        err: int | None = None,
    ) -> None:
        """A push said message ``message_id`` to ``phone`` (digits) has ``status`` (and
        ``err``) since ``at``."""
        key = (key_id, phone, message_id)
        held = self._items.get(key)
        if held is not None and held[2] > at:
            return  # an older status arriving late
        self._items[key] = (status, err, at)
        self._items.move_to_end(key)
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    async def load(self, store: PushStore, *, now: float) -> int:
        """Read back the statuses pushed in the last ``RELOAD_HOURS`` (after a restart); how
        many."""
        rows = await store.recent_statuses(since=now - RELOAD_HOURS * 3600, limit=self._max)
        for key_id, row in rows:
            self.note(key_id, row.phone, row.message_id, row.status, row.status_at, row.err)
        return len(rows)

    def pushed_at(self, key_id: str, entry: HistoryEntry | None) -> float | None:
        """When a push brought ``entry``'s status, if the status shown is the pushed one."""
        if entry is None or entry.id is None:
            return None
        held = self._items.get((key_id, digits(entry.phone), entry.id))
        if held is None or held[0] != entry.status:
            return None
        return held[2]

    def pushed_since(self, key_id: str, since: float) -> list[PushedOutcome]:
        """The account's pushed statuses whose time is at or after ``since`` (newest noted
        first): what a watch counts (``bot.watch.runner.PushSource``)."""
        found: list[PushedOutcome] = []
        for (account, phone, message_id), (status, err, at) in reversed(self._items.items()):
            if at < since - _LATE_PUSH:
                break  # noted in order: what comes next was noted earlier still
            if account == key_id and at >= since:
                found.append(PushedOutcome(phone, message_id, status, err, at))
        return found


class PushKeys:
    """Every account's push secrets, held in memory so that a push is verified before the
    database is touched; ``reload`` after a secret changes."""

    def __init__(self, store: PushStore) -> None:
        self._store = store
        self._by_name: dict[str, PushSecrets] = {}

    async def reload(self) -> None:
        """Read the secrets again from the database."""
        self._by_name = {s.account_name.lower(): s for s in await self._store.all_secrets()}

    def get(self, account: str) -> PushSecrets | None:
        """The secrets of ``account`` (names are case-insensitive), or None."""
        return self._by_name.get(account.lower())


class PushEndpoint:
    """The handler of ``/smsc/<account>`` (see the module docstring)."""

    def __init__(
        self,
        keys: PushKeys,
        writer: PushWriter,
        tally: PushTally,
        fetcher: Fetcher,
        metrics: Metrics,
        relay: Relay,
        pushed: PushedIndex,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._relay = relay
        self._pushed = pushed
        self._keys = keys
        self._writer = writer
        self._tally = tally
        self._fetcher = fetcher
        self._metrics = metrics
        self._clock = clock

    def routes(self) -> list[web.RouteDef]:
        """``POST`` and ``GET`` of ``/smsc/<account>``."""
        return [web.post(PUSH_PATH, self.handle), web.get(PUSH_PATH, self.handle)]

    async def handle(self, request: web.Request) -> web.Response:
        """Verify, then accept or refuse one push."""
        now = self._clock()
        name = request.match_info["account"]
        query = request.rel_url.raw_query_string.encode("ascii", "replace")
        if len(query) > MAX_PUSH_QUERY or (request.content_length or 0) > MAX_PUSH_BODY:
            return self._refuse("", TOO_LARGE, now, status=413)
        body = await request.read() if request.can_read_body else b""
        if len(body) > MAX_PUSH_BODY:
            return self._refuse("", TOO_LARGE, now, status=413)
        secrets = self._keys.get(name)
        if secrets is None:
            return self._refuse("", UNKNOWN_ACCOUNT, now)
        push = parse_fields(query, body)
        verdict = verify(push, secrets.accepted(now))
        if verdict is not Verdict.OK:
            return self._refuse(secrets.account_name, verdict, now)
        self._accept(secrets, push, now)
        return web.Response(text="OK")

    def _accept(self, secrets: PushSecrets, push: Push, now: float) -> None:
        account = secrets.account_name
        kind = push.kind
        self._tally.accept(account, now)
        self._metrics.pushes.labels(account=account, kind=str(kind)).inc()
        if secrets.relay is not None:
            fields = {name: push.text(name) for name in push.fields if name not in _NOT_RELAYED}
            self._relay.pass_on(account, secrets.relay, fields)
        if kind is not PushKind.STATUS:
            return  # an incoming SMS or a wait-call push: verified, answered, not stored
        phone, message_id = digits(push.text("phone")), push.integer("id")
        if not phone or message_id is None:
            logger.info("a status push for %s named no message; nothing to update", account)
            return
        status_at = _status_time(push.integer("ts"), now)
        status = PushedStatus(
            account_id=secrets.account_id,
            phone=phone,
            message_id=message_id,
            status=push.integer("status"),
            err=push.integer("err"),
            status_at=status_at,
            received_at=now,
        )
        entry = HistoryEntry(
            id=message_id,
            phone=phone,
            status=status.status,
            err=status.err,
            last_timestamp=int(status_at),
        )
        self._fetcher.batches.picture(secrets.key_id).learn_status(entry, at=status_at)
        self._pushed.note(secrets.key_id, phone, message_id, status.status, status_at, status.err)
        self._writer.add(status)

    def _refuse(self, account: str, reason: str, now: float, *, status: int = 403) -> web.Response:
        throttled = self._tally.refuse(account, reason, now)
        self._metrics.push_refusals.labels(account=account, reason=reason).inc()
        if throttled:
            return web.Response(status=429, text="Too Many Requests")
        logger.warning("push refused (%s) for %s", reason, account or "no known account")
        return web.Response(status=status, text="Forbidden" if status == 403 else "Too Large")


def _status_time(ts: int | None, now: float) -> float:
    if ts is None:
        return now
    seconds = ts / 1000 if ts > 10**11 else float(ts)
    return seconds if abs(seconds - now) <= _TS_PLAUSIBLE else now
