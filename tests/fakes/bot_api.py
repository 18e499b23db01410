"""The fake Telegram Bot API, in-process: how a call is answered, fails or is recorded, the
update queue behind getUpdates, and what a test can read back.

    telegram = FakeBotApi(clock=clock)
    bot = Bot(telegram.token, session=telegram.session())   # no HTTP: see `FakeBotApiSession`
    telegram.push_update(message_update("/start"))          # delivered through getUpdates
    assert telegram.sent_texts() == [...]

`FakeTelegramServer` (`tests.fakes.telegram`) serves the same object over real HTTP. Served:
`getMe`, `getUpdates` (offset/limit/timeout long polling over a queue filled by `push_update`;
a newer concurrent getUpdates ends the older one with 409 Conflict, and so does any getUpdates
while a webhook is set, as Telegram does), `setWebhook` (its URL and `secret_token` are kept in
`webhook_url` and `webhook_secret`; `FakeTelegramServer.post_to_webhook` delivers an update
there), `deleteWebhook`, `getWebhookInfo`, and the chat methods of `BotApiMethods`; any other
method is 404 "Not Found: method not found". A wrong token is 401 "Unauthorized". `fail_next` and
`disconnect_next` script failures of the next calls of a method.

Every answered call is recorded as an `ApiCall` in `calls` (successful) or `failed_calls`
(error answers, including 401 and scripted failures, and dropped connections).
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any, Final

from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod

from bot.chat.session import BotApiError, LocalSession
from tests.fakes.api_params import int_param, method_params
from tests.fakes.bot_api_methods import BotApiMethods
from tests.fakes.updates import next_update_id, update_type

logger = logging.getLogger(__name__)

JsonDict = dict[str, Any]

CONFLICT_GET_UPDATES: Final = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK: Final = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)

# Telegram does not send these kinds unless they are asked for by name in allowed_updates.
_OPT_IN_UPDATES: Final = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_DEFAULT_DESCRIPTIONS: Final = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass
class ApiCall:
    """One request the fake answered: the Bot API method and its decoded parameters.

    Parameters arrive as form fields; they are decoded the way aiogram encoded them: JSON-looking
    values (reply_markup, commands, scope, entities, numbers, booleans) become Python objects,
    text fields (`text`, `parse_mode`, …) stay exactly as sent, uploaded files become bytes.
    For a failed call `status` is the HTTP status answered (0: connection dropped) and
    `description` Telegram's error text.
    """

    method: str
    params: dict[str, Any]
    status: int = 200
    description: str | None = None

    def int_param(self, name: str) -> int:
        """Parameter `name` as an int, whether it came typed or as a string of digits."""
        value = self.params[name]
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise TypeError(f"{self.method}.{name} is {value!r}, not an integer")
        return int(value)

    @property
    def text(self) -> str | None:
        """The `text` parameter, as sent (HTML tags included), or None."""
        value = self.params.get("text")
        return value if isinstance(value, str) else None


class ConnectionDropped(Exception):
    """A call `disconnect_next` scripted: the connection is lost without an answer."""


class FakeBotApi(BotApiMethods):
    """The Bot API of one bot (see the module docstring); `call` answers one request.

    Keyword arguments are `BotApiMethods`'s: the token, the bot's identity, the clock.
    """

    def __init__(self, **identity: Any) -> None:
        super().__init__(**identity)
        self.calls: list[ApiCall] = []
        self.failed_calls: list[ApiCall] = []
        self._closing = False
        # Futures resolved whenever something a waiter may care about happened.
        self._waiters: set[asyncio.Future[None]] = set()
        self._scripts: dict[str, deque[BotApiError | None]] = {}
        self._updates: list[JsonDict] = []
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.methods["setWebhook"] = self._set_webhook
        self.methods["deleteWebhook"] = self._delete_webhook
        self.methods["getWebhookInfo"] = self._get_webhook_info
        # getUpdates is asynchronous (it long-polls) and is served apart; it is listed here so
        # that method names, case-insensitive in the Bot API, resolve to one spelling.
        self._canonical = {name.lower(): name for name in [*self.methods, "getUpdates"]}

    def canonical(self, method: str) -> str:
        """The Bot API's spelling of `method` (method names are case-insensitive)."""
        return self._canonical.get(method.lower(), method)

    def session(self) -> FakeBotApiSession:
        """An aiogram session answered by this fake in-process, without HTTP."""
        return FakeBotApiSession(self)

    async def call(self, token: str, method: str, params: JsonDict) -> Any:
        """Answer one call of `method` made with `token`: its result, or `BotApiError` (then
        recorded in `failed_calls`); `ConnectionDropped` when `disconnect_next` says so."""
        method = self.canonical(method)
        if token != self.token:
            raise self._fail(method, params, BotApiError(401, "Unauthorized"))
        scripted, failure = self._pop_script(method)
        if scripted:
            if failure is None:
                self.failed_calls.append(ApiCall(method, params, 0, "connection dropped"))
                self._wake()
                logger.debug("fake Telegram: %s -> connection dropped", method)
                raise ConnectionDropped(method)
            raise self._fail(method, params, failure)
        if method == "getUpdates":
            if self.webhook_url:
                raise self._fail(method, params, BotApiError(409, CONFLICT_WEBHOOK))
            return await self._get_updates(params)
        handler = self.methods.get(method)
        if handler is None:
            raise self._fail(method, params, BotApiError(404, "Not Found: method not found"))
        try:
            result = handler(params)
        except BotApiError as error:
            raise self._fail(method, params, error) from None
        self._record(ApiCall(method, params))
        return result

    def close(self) -> None:
        """Answer every waiting long poll with no updates, now and from now on."""
        self._closing = True
        self._wake()

    # -- scripting and feeding -----------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        raw_body: str | None = None,
    ) -> None:
        """Make the next `times` calls of `method` fail with HTTP `status`.

        The answer is `{"ok": false, "error_code": status, "description": …}` plus
        `"parameters": {"retry_after": N}` when `retry_after` is set (a 429 always carries one,
        default 1 s, as Telegram's does). `raw_body` replaces the JSON with a verbatim body,
        e.g. the HTML page a proxy answers with on 502.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if status == 429
                else _DEFAULT_DESCRIPTIONS.get(status, "Error")
            )
        error = BotApiError(status, description, retry_after=retry_after, raw_body=raw_body)
        self._script(method, error, times)

    def disconnect_next(self, method: str, times: int = 1) -> None:
        """Make the next `times` calls of `method` lose their connection without an answer."""
        self._script(method, None, times)

    def push_update(self, update: JsonDict) -> JsonDict:
        """Queue `update` for getUpdates and return it (given an update_id if it had none).

        The chats and messages in it become known to the server, as with `observe_update`.
        """
        if "update_id" not in update:
            update["update_id"] = next_update_id()
        self.observe_update(update)
        self._updates.append(update)
        self._updates.sort(key=lambda u: int(u["update_id"]))
        self._wake()
        return update

    def observe_update(self, update: JsonDict) -> None:
        """Learn the chats and messages in `update` without queueing it.

        For tests that feed updates straight to a Dispatcher: afterwards the bot may delete the
        user's message, or edit its own message under a pressed button.
        """
        callback = update.get("callback_query")
        if isinstance(callback, dict) and isinstance(callback.get("message"), dict):
            message = callback["message"]
            author = message.get("from") or {}
            if (int(message["chat"]["id"]), int(message["message_id"])) not in self._messages:
                self._remember(message, by_bot=author.get("id") == self.bot_id)
        for kind in ("message", "edited_message", "channel_post", "edited_channel_post"):
            message = update.get(kind)
            if isinstance(message, dict):
                self._remember(message, by_bot=False)

    # -- inspection ----------------------------------------------------------------------------

    def calls_of(self, method: str) -> list[ApiCall]:
        """Successful calls of `method`, in order."""
        return [call for call in self.calls if call.method == method]

    def sent_texts(self) -> list[str]:
        """Texts of successful sendMessage and editMessageText calls, in order, as sent."""
        return [
            call.text
            for call in self.calls
            if call.method in ("sendMessage", "editMessageText") and call.text is not None
        ]

    def pending_updates(self) -> list[JsonDict]:
        """Queued updates not yet confirmed by a getUpdates offset."""
        return copy.deepcopy(self._updates)

    async def wait_for_call(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - a safety net, part of the fake's contract
        *,
        include_failed: bool = False,
    ) -> list[ApiCall]:
        """Wait until `method` has been called `count` times; return all its calls so far.

        Failed calls count only with `include_failed` (and are then returned too, in order of
        arrival within each list: successful first). `timeout` is a safety net in real seconds;
        on expiry TimeoutError names what did arrive.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout

        def matching() -> list[ApiCall]:
            found = self.calls_of(method)
            if include_failed:
                found += [call for call in self.failed_calls if call.method == method]
            return found

        while len(found := matching()) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = [call.method for call in self.calls]
                raise TimeoutError(
                    f"expected {count} call(s) of {method}, got {len(found)}; calls: {seen}"
                )
            await self._wait_for_activity(remaining)
        return found

    # -- recording ----------------------------------------------------------------------------

    def _fail(self, method: str, params: JsonDict, error: BotApiError) -> BotApiError:
        """Record `error` as the answer to a call; return it, for the caller to raise."""
        self.failed_calls.append(ApiCall(method, params, error.status, error.description))
        self._wake()
        logger.debug("fake Telegram: %s -> %s %s", method, error.status, error.description)
        return error

    def _record(self, call: ApiCall) -> None:
        self.calls.append(call)
        self._wake()
        logger.debug("fake Telegram: %s -> ok", call.method)

    def _script(self, method: str, failure: BotApiError | None, times: int) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        queue = self._scripts.setdefault(self.canonical(method), deque())
        queue.extend([failure] * times)

    def _pop_script(self, method: str) -> tuple[bool, BotApiError | None]:
        """Whether a failure is scripted for the next call of `method`, and which."""
        queue = self._scripts.get(method)
        return (True, queue.popleft()) if queue else (False, None)

    # -- waiting -------------------------------------------------------------------------------

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def _wait_for_activity(self, seconds: float) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait([waiter], timeout=seconds)
        finally:
            self._waiters.discard(waiter)
            waiter.cancel()

    # -- getUpdates ----------------------------------------------------------------------------

    async def _get_updates(self, params: JsonDict) -> list[JsonDict]:
        try:
            offset = int_param(params, "offset", 0)
            limit = min(max(int_param(params, "limit", 100), 1), 100)
            timeout = max(int_param(params, "timeout", 0), 0)
            allowed = params.get("allowed_updates")
            if allowed is not None and not (
                isinstance(allowed, list) and all(isinstance(kind, str) for kind in allowed)
            ):
                raise BotApiError(400, "Bad Request: can't parse allowed updates")
        except BotApiError as error:
            raise self._fail("getUpdates", params, error) from None
        if allowed is not None:
            # Telegram remembers the last list it was given; [] means "the default kinds".
            self._allowed_updates = frozenset(allowed) if allowed else None
        self._confirm(offset)
        # A getUpdates is recorded when accepted, before its wait, so that tests can see a
        # poller is waiting; a newer poll ends this one with 409, as Telegram does.
        self._poll_generation += 1
        generation = self._poll_generation
        self._record(ApiCall("getUpdates", params))

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation and not self._closing:
                raise BotApiError(409, CONFLICT_GET_UPDATES)  # not a failed call: a handover
            batch = self._deliverable(offset, limit)
            if batch or self._closing:
                return batch
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            await self._wait_for_activity(remaining)

    def _confirm(self, offset: int) -> None:
        """Forget updates confirmed by `offset` (Bot API getUpdates semantics)."""
        if offset > 0:
            self._updates = [u for u in self._updates if int(u["update_id"]) >= offset]
        elif offset < 0:
            # A negative offset keeps only the last -offset updates.
            self._updates = self._updates[offset:]

    def _deliverable(self, offset: int, limit: int) -> list[JsonDict]:
        found = []
        for update in self._updates:
            if offset > 0 and int(update["update_id"]) < offset:
                continue
            kind = update_type(update)
            if (self._allowed_updates is None and kind in _OPT_IN_UPDATES) or (
                self._allowed_updates is not None and kind not in self._allowed_updates
            ):
                continue
            found.append(update)
            if len(found) == limit:
                break
        return copy.deepcopy(found)

    def _set_webhook(self, params: JsonDict) -> bool:
        url = params.get("url")
        if not isinstance(url, str):
            raise BotApiError(400, "Bad Request: bad webhook: URL must be given")
        if url and not url.startswith(("http://", "https://")):
            raise BotApiError(400, "Bad Request: bad webhook: invalid URL")
        self.webhook_url = url
        secret = params.get("secret_token")
        self.webhook_secret = str(secret) if secret is not None else None
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        return True

    def _delete_webhook(self, params: JsonDict) -> bool:
        self.webhook_url, self.webhook_secret = "", None
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: JsonDict) -> JsonDict:
        pending = len(self._updates)
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": pending,
        }


class FakeBotApiSession(LocalSession):
    """An aiogram session whose calls `FakeBotApi.call` answers in-process.

    The parameters are encoded and decoded as a form (`method_params`), so the fake sees what
    it sees over HTTP; error answers become aiogram's exceptions through aiogram's own
    response checking; a dropped connection is `TelegramNetworkError`, as from aiohttp.
    """

    def __init__(self, api: FakeBotApi) -> None:
        super().__init__()
        self._api = api

    async def answer(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        """The fake's answer to `method`."""
        params = method_params(self, bot, method)
        try:
            return await self._api.call(bot.token, method.__api_method__, params)
        except ConnectionDropped:
            raise TelegramNetworkError(method=method, message="connection dropped") from None
