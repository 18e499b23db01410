"""``/watch``, ``/unwatch``, ``/watches`` (PRODUCT.md §10) through the real Dispatcher against
the fake Telegram: ranges, one watch per chat and account, membership on every command, the
setter's language kept, bad input one line each."""

from __future__ import annotations

from typing import Any

import pytest

from bot.store import WatchStore
from tests.harness import ADMIN, AGENT, STRANGER, Harness

GROUP: dict[str, Any] = {"chat_id": -4242, "chat_type": "supergroup"}
USAGE = (
    "Usage: <code>/watch [PERCENT] [MINUTES]</code>, PERCENT from 1 to 100 (default 20), "
    "MINUTES from 1 to 1440 (default 15). Example: <code>/watch 20 15</code>"
)


async def test_watch_in_a_group_stores_one_watch_with_the_setter_and_language(
    harness: Harness,
) -> None:
    await harness.grant(AGENT, ADMIN)
    answer = await harness.say("/watch 20 5", language_code="ru", **GROUP)
    assert answer.startswith("👁 Этот чат теперь наблюдает за <b>main</b>")
    assert "20 %" in answer and "5 мин" in answer
    (watch,) = await WatchStore(harness.services.storage).all_watches()
    assert (watch.chat_id, watch.account_name, watch.percent, watch.minutes) == (
        -4242,
        "main",
        20,
        5,
    )
    assert (watch.set_by, watch.language) == (AGENT, "ru")

    listed = await harness.say("/watches", user_id=ADMIN, **GROUP)
    assert listed == (
        "<b>Watches in this chat</b>\n"
        f"• <b>main</b>: 20 % in 5 min, set by <code>{AGENT}</code> · no data yet"
    )  # no status pushes, nothing fetched: the watch says so rather than "current"


async def test_a_second_watch_replaces_the_first_and_says_so(harness: Harness) -> None:
    await harness.grant(AGENT, ADMIN)
    await harness.say("/watch", **GROUP)
    answer = await harness.say("/watch 50 60", user_id=ADMIN, **GROUP)
    assert "an alert when 50 % or more" in answer and "the last 60 min" in answer
    assert answer.endswith("It replaces this chat's watch of <b>main</b> at 20 % in 15 min.")
    (watch,) = await WatchStore(harness.services.storage).all_watches()
    assert (watch.percent, watch.minutes, watch.set_by) == (50, 60, ADMIN)
    # The same account watched in a private chat too is another watch.
    assert "replaces" not in await harness.say("/watch")
    assert len(await WatchStore(harness.services.storage).all_watches()) == 2


@pytest.mark.parametrize("args", ["0", "101", "abc", "20 0", "20 100000"])
async def test_bad_input_is_one_line_with_the_ranges(harness: Harness, args: str) -> None:
    await harness.grant()
    answer = await harness.say(f"/watch {args}", **GROUP)
    assert answer == USAGE
    assert await WatchStore(harness.services.storage).all_watches() == []


async def test_unwatch_stops_it_and_says_when_there_was_none(harness: Harness) -> None:
    await harness.grant()
    await harness.say("/watch", **GROUP)
    assert await harness.say("/unwatch", **GROUP) == "This chat no longer watches <b>main</b>."
    assert await harness.say("/unwatch", **GROUP) == (
        "This chat does not watch <b>main</b>; /watch starts it."
    )
    assert await harness.say("/watches", **GROUP) == (
        "This chat watches no account; /watch starts it."
    )


async def test_membership_is_checked_on_every_command(harness: Harness) -> None:
    await harness.grant()
    await harness.say("/watch", **GROUP)
    for command in ("/watch", "/unwatch", "/watches"):
        answer = await harness.say(command, user_id=STRANGER, chat_type="private")
        assert "no access" in answer, command
    # Access taken away: the next command is refused, and the watch stays.
    await harness.say(f"/revoke {AGENT}", user_id=ADMIN)
    assert "no access" in await harness.say("/unwatch", chat_type="private")
    assert len(await WatchStore(harness.services.storage).all_watches()) == 1
