"""The fake Telegram Bot API server answers a real aiogram Bot as Telegram would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)

from tests.fakes.bot_api import FakeBotApi
from tests.fakes.bot_api_methods import NOT_MODIFIED
from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegramServer, close_quickly
from tests.fakes.updates import BOT_USERNAME, callback_update, message_update

CHAT = 4242


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(clock=FakeClock()) as server:
        yield server


@pytest.fixture
async def bot(telegram: FakeTelegramServer) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(telegram.base_url))
    bot = Bot(telegram.token, session=session)
    yield bot
    await close_quickly(bot)


def dump(commands: list[BotCommand]) -> list[dict[str, object]]:
    return [command.model_dump() for command in commands]


def keyboard(data: str = "refresh:1") -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Refresh", callback_data=data)]]
    )


# -- basics ------------------------------------------------------------------------------------


async def test_get_me_returns_the_configured_bot(bot: Bot, telegram: FakeTelegramServer) -> None:
    me = await bot.get_me()

    assert (me.id, me.username, me.is_bot) == (123456, "smsc_status_bot", True)
    assert [call.method for call in telegram.calls] == ["getMe"]


async def test_wrong_token_is_unauthorized_and_recorded_as_failed(
    telegram: FakeTelegramServer,
) -> None:
    session = AiohttpSession(api=telegram.api_server())
    intruder = Bot("999:WRONG", session=session)
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await intruder.get_me()
    finally:
        await close_quickly(intruder)

    assert telegram.calls == []
    assert [(c.method, c.status) for c in telegram.failed_calls] == [("getMe", 401)]


async def test_unknown_method_is_not_found(bot: Bot, telegram: FakeTelegramServer) -> None:
    with pytest.raises(TelegramNotFound, match="method not found"):
        await bot.get_chat(CHAT)

    assert telegram.failed_calls[0].method == "getChat"


# -- sendMessage -------------------------------------------------------------------------------


async def test_send_message_records_parsed_markup_and_returns_parsed_html(
    bot: Bot, telegram: FakeTelegramServer
) -> None:
    sent = await bot.send_message(
        CHAT, "<b>Delivered</b> to +7 999 &lt;x&gt;", parse_mode="HTML", reply_markup=keyboard()
    )

    call = telegram.calls_of("sendMessage")[0]
    assert call.params["chat_id"] == CHAT
    assert call.params["parse_mode"] == "HTML"
    assert call.text == "<b>Delivered</b> to +7 999 &lt;x&gt;"
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Refresh", "callback_data": "refresh:1"}]]
    }
    assert sent.text == "Delivered to +7 999 <x>"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [("bold", 0, 9)]
    assert sent.reply_markup is not None
    assert sent.reply_markup.model_dump() == keyboard().model_dump()
    assert sent.chat.id == CHAT
    assert sent.from_user is not None
    assert sent.from_user.id == 123456
    assert telegram.sent_texts() == ["<b>Delivered</b> to +7 999 &lt;x&gt;"]


async def test_default_parse_mode_from_bot_properties_is_applied(
    telegram: FakeTelegramServer,
) -> None:
    bot = telegram.make_bot(default=DefaultBotProperties(parse_mode="HTML"))
    try:
        sent = await bot.send_message(CHAT, "<i>fresh</i>")
    finally:
        await close_quickly(bot)

    assert telegram.calls_of("sendMessage")[0].params["parse_mode"] == "HTML"
    assert sent.text == "fresh"


async def test_unescaped_html_is_refused_like_telegram(
    bot: Bot, telegram: FakeTelegramServer
) -> None:
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "value" at byte offset 9'):
        await bot.send_message(CHAT, "/history <value>", parse_mode="HTML")

    assert telegram.calls == []
    assert telegram.failed_calls[0].status == 400


async def test_message_ids_increase_within_a_chat(bot: Bot) -> None:
    first = await bot.send_message(CHAT, "one")
    second = await bot.send_message(CHAT, "two")
    other = await bot.send_message(CHAT + 1, "elsewhere")

    assert second.message_id > first.message_id
    assert other.chat.id == CHAT + 1


async def test_message_date_comes_from_the_injected_clock() -> None:
    clock = FakeClock(start=1_800_000_000.0)
    async with FakeTelegramServer(clock=clock) as server:
        bot = server.make_bot()
        try:
            sent = await bot.send_message(CHAT, "dated")
        finally:
            await close_quickly(bot)

    assert int(sent.date.timestamp()) == 1_800_000_000


async def test_too_long_and_empty_texts_are_refused(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(CHAT, "x" * 4097)
    # Tags do not count: 4096 characters after parsing are fine.
    await bot.send_message(CHAT, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(CHAT, "<b> </b>", parse_mode="HTML")


async def test_callback_data_over_64_bytes_is_refused(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "x", reply_markup=keyboard("я" * 33))


# -- editMessageText, deleteMessage ------------------------------------------------------------


async def test_edit_changes_text_and_refuses_an_identical_edit(
    bot: Bot, telegram: FakeTelegramServer
) -> None:
    sent = await bot.send_message(CHAT, "as of 14:05", reply_markup=keyboard())

    edited = await bot.edit_message_text(
        text="as of 14:06", chat_id=CHAT, message_id=sent.message_id, reply_markup=keyboard()
    )
    assert isinstance(edited, Message)
    assert edited.text == "as of 14:06"
    assert edited.edit_date is not None

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="as of 14:06", chat_id=CHAT, message_id=sent.message_id, reply_markup=keyboard()
        )
    assert telegram.failed_calls[-1].description == NOT_MODIFIED

    # Same text without the keyboard is a change: Telegram removes the keyboard.
    bare = await bot.edit_message_text(text="as of 14:06", chat_id=CHAT, message_id=sent.message_id)
    assert isinstance(bare, Message)
    assert bare.reply_markup is None
    assert telegram.sent_texts() == ["as of 14:05", "as of 14:06", "as of 14:06"]


async def test_edit_of_unknown_or_foreign_message_is_refused(
    bot: Bot, telegram: FakeTelegramServer
) -> None:
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=CHAT, message_id=999_999)

    users_message = message_update("hello", user_id=CHAT)
    telegram.observe_update(users_message)
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text(
            text="x", chat_id=CHAT, message_id=users_message["message"]["message_id"]
        )


async def test_edit_of_a_message_under_a_pressed_button_works_after_observing(
    bot: Bot, telegram: FakeTelegramServer
) -> None:
    press = callback_update("refresh:1", user_id=CHAT, message_id=777, message_text="old")
    telegram.observe_update(press)

    edited = await bot.edit_message_text(text="new", chat_id=CHAT, message_id=777)

    assert isinstance(edited, Message)
    assert edited.text == "new"


async def test_delete_known_message_then_it_is_gone(bot: Bot, telegram: FakeTelegramServer) -> None:
    sent = await bot.send_message(CHAT, "key received")

    assert await bot.delete_message(CHAT, sent.message_id) is True
    assert telegram.message(CHAT, sent.message_id) is None
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(CHAT, sent.message_id)


async def test_users_message_can_be_deleted_unless_refused(
    bot: Bot, telegram: FakeTelegramServer
) -> None:
    key_message = telegram.push_update(message_update("/login SECRET", user_id=CHAT))
    message_id = key_message["message"]["message_id"]
    telegram.fail_next(
        "deleteMessage", status=400, description="Bad Request: message can't be deleted"
    )

    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await bot.delete_message(CHAT, message_id)
    assert await bot.delete_message(CHAT, message_id) is True
    assert telegram.messages_in(CHAT) == []


# -- scripted failures -------------------------------------------------------------------------


async def test_fail_next_429_raises_retry_after_then_recovers(
    bot: Bot, telegram: FakeTelegramServer
) -> None:
    telegram.fail_next("sendMessage", retry_after=7, times=2)

    for _ in range(2):
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(CHAT, "hi")
        assert caught.value.retry_after == 7
    await bot.send_message(CHAT, "hi")

    assert [c.status for c in telegram.failed_calls] == [429, 429]
    assert len(telegram.calls_of("sendMessage")) == 1


async def test_fail_next_502_raises_server_error(bot: Bot, telegram: FakeTelegramServer) -> None:
    telegram.fail_next("sendMessage", status=502)

    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_message(CHAT, "hi")


async def test_fail_next_with_a_proxy_page_is_a_decode_error(
    bot: Bot, telegram: FakeTelegramServer
) -> None:
    telegram.fail_next("sendMessage", status=502, raw_body="<html>502 Bad Gateway</html>")

    with pytest.raises(ClientDecodeError):
        await bot.send_message(CHAT, "hi")


async def test_fail_next_403_blocked_by_user(bot: Bot, telegram: FakeTelegramServer) -> None:
    telegram.fail_next("sendMessage", status=403)

    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await bot.send_message(CHAT, "hi")


async def test_disconnect_next_raises_network_error_then_recovers(
    bot: Bot, telegram: FakeTelegramServer
) -> None:
    telegram.disconnect_next("sendMessage")

    with pytest.raises(TelegramNetworkError):
        await bot.send_message(CHAT, "hi")
    await bot.send_message(CHAT, "hi again")

    assert [(c.method, c.status) for c in telegram.failed_calls] == [("sendMessage", 0)]
    assert telegram.sent_texts() == ["hi again"]


# -- commands, small methods -------------------------------------------------------------------


async def test_commands_are_kept_per_scope_and_language(
    bot: Bot, telegram: FakeTelegramServer
) -> None:
    member = [BotCommand(command="last", description="last message")]
    admin = [*member, BotCommand(command="keys", description="accounts")]
    await bot.set_my_commands(member)
    await bot.set_my_commands(admin, scope=BotCommandScopeChat(chat_id=CHAT))
    await bot.set_my_commands(
        [BotCommand(command="last", description="последнее")], language_code="ru"
    )

    # aiogram objects compare unequal once bound to a Bot, so compare their data.
    assert dump(await bot.get_my_commands()) == dump(member)
    assert dump(await bot.get_my_commands(scope=BotCommandScopeChat(chat_id=CHAT))) == dump(admin)
    assert await bot.get_my_commands(scope=BotCommandScopeChat(chat_id=CHAT + 1)) == []
    assert telegram.commands({"type": "chat", "chat_id": str(CHAT)}) == [
        {"command": "last", "description": "last message"},
        {"command": "keys", "description": "accounts"},
    ]
    assert telegram.commands(language_code="ru")[0]["description"] == "последнее"
    scope_param = telegram.calls_of("setMyCommands")[1].params["scope"]
    assert scope_param == {"type": "chat", "chat_id": CHAT}

    await bot.delete_my_commands(scope=BotCommandScopeDefault())
    assert await bot.get_my_commands() == []


async def test_invalid_command_name_is_refused(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Last", description="x")])


async def test_small_methods_answer_true(bot: Bot, telegram: FakeTelegramServer) -> None:
    assert await bot.send_chat_action(CHAT, "typing") is True
    assert await bot.answer_callback_query("123", text="ok") is True
    assert await bot.delete_webhook(drop_pending_updates=True) is True

    assert [c.method for c in telegram.calls] == [
        "sendChatAction",
        "answerCallbackQuery",
        "deleteWebhook",
    ]


# -- getUpdates --------------------------------------------------------------------------------


async def test_get_updates_returns_pushed_updates_and_respects_offset(
    bot: Bot, telegram: FakeTelegramServer
) -> None:
    first = telegram.push_update(message_update("/start"))
    second = telegram.push_update(message_update("79991234567"))

    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [first["update_id"], second["update_id"]]
    assert isinstance(updates[0].message, Message)
    assert updates[0].message.text == "/start"

    # Confirming the first drops it for good.
    again = await bot.get_updates(offset=second["update_id"])
    assert [u.update_id for u in again] == [second["update_id"]]
    assert [u.update_id for u in await bot.get_updates()] == [second["update_id"]]

    assert await bot.get_updates(offset=second["update_id"] + 1) == []
    assert telegram.pending_updates() == []


async def test_get_updates_limit(bot: Bot, telegram: FakeTelegramServer) -> None:
    for n in range(3):
        telegram.push_update(message_update(f"m{n}"))

    updates = await bot.get_updates(limit=2)

    assert [u.message.text for u in updates if u.message] == ["m0", "m1"]


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    bot: Bot, telegram: FakeTelegramServer
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await telegram.wait_for_call("getUpdates")
    assert not poll.done()

    pushed = telegram.push_update(message_update("hello"))
    updates = await asyncio.wait_for(poll, timeout=5)

    assert [u.update_id for u in updates] == [pushed["update_id"]]


async def test_second_poller_terminates_the_first_with_conflict(
    telegram: FakeTelegramServer, bot: Bot
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await telegram.wait_for_call("getUpdates")

    second = asyncio.create_task(bot.get_updates(timeout=0))

    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await asyncio.wait_for(first, timeout=5)
    assert await second == []


async def test_stop_answers_a_waiting_long_poll() -> None:
    async with FakeTelegramServer() as server:
        bot = server.make_bot()
        try:
            poll = asyncio.create_task(bot.get_updates(timeout=30))
            await server.wait_for_call("getUpdates")
            await server.stop()
            assert await asyncio.wait_for(poll, timeout=5) == []
        finally:
            await close_quickly(bot)


async def test_dispatcher_polling_answers_a_pushed_update_and_stops_cleanly(
    bot: Bot, telegram: FakeTelegramServer
) -> None:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
    update = telegram.push_update(message_update("ping", user_id=CHAT))

    [answer] = await telegram.wait_for_call("sendMessage")
    # The poller confirms the update with its next getUpdates.
    calls = await telegram.wait_for_call("getUpdates", count=2)
    await dp.stop_polling()
    await asyncio.wait_for(polling, timeout=5)

    assert answer.params["chat_id"] == CHAT
    assert answer.text == "echo: ping"
    assert calls[1].params["offset"] == update["update_id"] + 1
    assert calls[0].params["allowed_updates"] == ["message"]
    assert telegram.pending_updates() == []


async def test_fake_clock_only_moves_when_advanced() -> None:
    clock = FakeClock()

    assert clock() == 1_790_000_000.0
    clock.advance(90)
    assert clock() == clock.now == 1_790_000_090.0
    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance(-1)


# -- request decoding --------------------------------------------------------------------------


async def test_json_and_query_string_bodies_are_decoded(telegram: FakeTelegramServer) -> None:
    url = f"{telegram.base_url}/bot{telegram.token}/sendmessage?disable_notification=true"
    payload = {"chat_id": "-1001234", "text": "123", "reply_markup": '{"keyboard": []}'}
    async with aiohttp.ClientSession() as http, http.post(url, json=payload) as response:
        body = await response.json()

    assert body["ok"] is True
    assert body["result"]["chat"] == {"id": -1001234, "type": "supergroup", "title": "Test group"}
    call = telegram.calls_of("sendMessage")[0]
    assert call.params == {
        "chat_id": -1001234,
        "text": "123",
        "reply_markup": {"keyboard": []},
        "disable_notification": True,
    }
    assert call.int_param("chat_id") == -1001234


async def test_multipart_body_is_decoded(telegram: FakeTelegramServer) -> None:
    form = aiohttp.FormData()
    form.add_field("chat_id", "42")
    form.add_field("text", "true")
    form.add_field("document", b"bytes", filename="a.txt")
    url = f"{telegram.base_url}/bot{telegram.token}/sendMessage"
    async with aiohttp.ClientSession() as http, http.post(url, data=form) as response:
        assert response.status == 200

    assert telegram.calls[0].params == {"chat_id": 42, "text": "true", "document": b"bytes"}


async def test_unknown_path_is_json_404(telegram: FakeTelegramServer) -> None:
    url = f"{telegram.base_url}/file/bot{telegram.token}/photos/1.jpg"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 404
        body = await response.json()

    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}


# -- in-process ------------------------------------------------------------------------------


async def test_the_in_process_session_answers_as_the_server_does() -> None:
    """`FakeBotApi.session()`: the same fake without HTTP; parameters arrive decoded as from a
    form, error answers become aiogram's exceptions, and every call is recorded."""
    api = FakeBotApi(clock=FakeClock())
    bot = Bot(api.token, session=api.session())
    sent = await bot.send_message(
        CHAT, "<b>1</b> &amp; 2", parse_mode="HTML", reply_markup=keyboard()
    )
    assert sent.text == "1 & 2"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [("bold", 0, 1)]
    (call,) = api.calls_of("sendMessage")
    assert call.params["chat_id"] == CHAT and call.text == "<b>1</b> &amp; 2"
    assert call.params["reply_markup"] == keyboard().model_dump(exclude_none=True)

    api.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(CHAT, "x")
    assert caught.value.retry_after == 3
    api.fail_next("sendMessage", status=502, raw_body="<html>502 Bad Gateway</html>")
    with pytest.raises(ClientDecodeError):
        await bot.send_message(CHAT, "x")
    api.disconnect_next("getMe")
    with pytest.raises(TelegramNetworkError):
        await bot.get_me()
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(CHAT, "<p>x</p>", parse_mode="HTML")
    with pytest.raises(TelegramUnauthorizedError):
        await Bot("1:WRONG", session=api.session()).get_me()

    assert [(c.method, c.status) for c in api.failed_calls] == [
        ("sendMessage", 429),
        ("sendMessage", 502),
        ("getMe", 0),
        ("sendMessage", 400),
        ("getMe", 401),
    ]
    assert [m["message_id"] for m in api.messages_in(CHAT)] == [sent.message_id]


# -- photos ------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


async def test_send_photo_over_http_and_in_process_keeps_the_upload(
    bot: Bot, telegram: FakeTelegramServer
) -> None:
    """sendPhoto as multipart over HTTP and in-process: the bytes uploaded, the caption parsed,
    a caption over 1024 characters and a file that is no image refused as Telegram does."""
    api = FakeBotApi(clock=FakeClock())
    local = Bot(api.token, session=api.session())
    for sender, fake in ((bot, telegram), (local, api)):
        sent = await sender.send_photo(
            CHAT,
            BufferedInputFile(PNG, "chart.png"),
            caption="<b>7</b> failed",
            parse_mode="HTML",
            reply_markup=keyboard(),
        )
        assert sent.caption == "7 failed" and sent.photo
        (call,) = fake.calls_of("sendPhoto")
        assert call.params["photo"] == PNG
        assert call.params["reply_markup"] == keyboard().model_dump(exclude_none=True)
        with pytest.raises(TelegramBadRequest, match="caption is too long"):
            await sender.send_photo(CHAT, BufferedInputFile(PNG, "c.png"), caption="x" * 1025)
        with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
            await sender.send_photo(CHAT, BufferedInputFile(b"GIF89a", "c.gif"))
        with pytest.raises(TelegramBadRequest, match="no photo"):
            await sender.send_photo(CHAT, "")
    await close_quickly(local)


# -- update builders ---------------------------------------------------------------------------


def test_message_update_marks_commands_with_bot_suffix() -> None:
    raw = message_update(f"/last@{BOT_USERNAME} +7 999", chat_type="group", user_id=7)

    update = Update.model_validate(raw)
    assert update.message is not None
    assert update.message.chat.type == "group"
    assert update.message.chat.id == -7
    assert raw["message"]["entities"] == [
        {"type": "bot_command", "offset": 0, "length": len(f"/last@{BOT_USERNAME}")}
    ]


def test_message_update_without_command_has_no_entities() -> None:
    raw = message_update("79991234567", language_code="ru")

    assert "entities" not in raw["message"]
    assert raw["message"]["from"]["language_code"] == "ru"
    assert raw["message"]["chat"]["id"] == raw["message"]["from"]["id"]


def test_builders_hand_out_unique_ids() -> None:
    first, second = message_update("a"), message_update("b")
    press = callback_update("x", message_id=5)

    assert first["update_id"] < second["update_id"] < press["update_id"]
    assert first["message"]["message_id"] != second["message"]["message_id"]
    parsed = Update.model_validate(press)
    assert parsed.callback_query is not None
    assert parsed.callback_query.data == "x"
    assert isinstance(parsed.callback_query.message, Message)
    assert parsed.callback_query.message.from_user is not None
    assert parsed.callback_query.message.from_user.is_bot
