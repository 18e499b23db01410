"""The simulated SMS Center (bot/smsc/simulator.py) and its test-only fault switches
(tests/fakes/smsc_faults.py), spoken to over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import ssl
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.smsc import HistoryEntry
from bot.smsc import __main__ as smsc_cli
from bot.smsc.records import STATUS_NAMES_RU
from bot.smsc.simulator import (
    BALANCE_MINUTE_LIMIT,
    DEMO_API_KEY,
    DEMO_BALANCE,
    DEMO_NUMBERS,
    HISTORY_HOURLY_LIMIT,
    SimulatedSmsc,
)
from tests.fakes.clock import FakeClock
from tests.fakes.smsc_faults import Faults, FaultySmsc

MOSCOW = ZoneInfo("Europe/Moscow")
# The simulator must answer every field the client reads: one protocol, one list.
HISTORY_FIELDS = {field.name for field in dataclasses.fields(HistoryEntry)}
STATUS_FIELDS_0 = {"status", "last_date", "last_timestamp", "flag", "err"}
STATUS_FIELDS_1 = STATUS_FIELDS_0 | {
    "send_date",
    "send_timestamp",
    "phone",
    "cost",
    "sender_id",
    "status_name",
    "message",
    "comment",
    "type",
    "sms_cnt",
}
STATUS_FIELDS_2 = STATUS_FIELDS_1 | {"country", "operator", "region"}
OTHER_KEY = "testKey-9a8b7c6d5e4f"
# Built once: httpx would load the CA bundle for every client, which dominates a test's setup.
TLS = ssl.create_default_context()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[FaultySmsc]:
    """The demo account, served with fault switches (all off until a test sets one)."""
    async with FaultySmsc(clock=clock) as running:
        yield running


@pytest.fixture
async def client(sim: SimulatedSmsc) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.base_url, timeout=5, verify=TLS) as http:
        yield http


async def call(
    client: httpx.AsyncClient, script: str, *, apikey: str = DEMO_API_KEY, **params: Any
) -> Any:
    """POST as the bot does (key in the body, JSON, UTF-8) and decode the JSON answer."""
    data = {"apikey": apikey, "fmt": "3", "charset": "utf-8"}
    if script == "get":
        data["get_messages"] = "1"
    data.update({key: str(value) for key, value in params.items()})
    response = await client.post(f"/sys/{script}.php", data=data)
    assert response.status_code == 200
    return json.loads(response.content.decode("utf-8"))


def error_code(answer: Any) -> int | None:
    return answer.get("error_code") if isinstance(answer, dict) else None


# --- history ---------------------------------------------------------------------------------


async def test_history_objects_carry_every_field_with_sms_centers_types(
    client: httpx.AsyncClient,
) -> None:
    answer = await call(client, "get", cnt=1000)

    assert isinstance(answer, list)
    assert len(answer) >= 350
    for item in answer:
        assert set(item) == HISTORY_FIELDS
        assert isinstance(item["status"], int)
        assert isinstance(item["last_timestamp"], int)
        assert isinstance(item["send_timestamp"], int)
        assert isinstance(item["cost"], str)
        assert isinstance(item["phone"], str)
        assert item["status_name"] == STATUS_NAMES_RU[item["status"]]
        sent = datetime.fromtimestamp(item["send_timestamp"], MOSCOW)
        assert item["send_date"] == sent.strftime("%d.%m.%Y %H:%M:%S")
        assert item["last_timestamp"] >= item["send_timestamp"]
    assert any(item["operator"] == "" for item in answer)


async def test_history_is_newest_first(client: httpx.AsyncClient) -> None:
    answer = await call(client, "get", cnt=1000)

    int_ids = [item["int_id"] for item in answer]
    sent = [item["send_timestamp"] for item in answer]
    assert int_ids == sorted(int_ids, reverse=True)
    assert sent == sorted(sent, reverse=True)


async def test_cnt_and_prev_id_page_through_the_whole_history(
    client: httpx.AsyncClient, sim: SimulatedSmsc
) -> None:
    pages: list[list[dict[str, Any]]] = [await call(client, "get", cnt=150)]
    while pages[-1]:
        pages.append(await call(client, "get", cnt=150, prev_id=pages[-1][-1]["int_id"]))

    assert [len(page) for page in pages[:-1]][:2] == [150, 150]
    assert [item for page in pages for item in page] == sim.messages()


async def test_missing_cnt_answers_the_default_hundred(client: httpx.AsyncClient) -> None:
    data = {"apikey": DEMO_API_KEY, "get_messages": "1", "fmt": "3", "charset": "utf-8"}
    answer = (await client.post("/sys/get.php", data=data)).json()

    assert len(answer) == 100


@pytest.mark.parametrize("cnt", ["0", "1001", "-5", "ten"])
async def test_cnt_out_of_range_is_error_1(client: httpx.AsyncClient, cnt: str) -> None:
    assert error_code(await call(client, "get", cnt=cnt)) == 1


@pytest.mark.parametrize(
    "typed", ["79161234567", "+7 (916) 123-45-67", "8 916 123-45-67", "9161234567"]
)
async def test_phone_filter_compares_normalised_digits(
    client: httpx.AsyncClient, sim: SimulatedSmsc, typed: str
) -> None:
    answer = await call(client, "get", cnt=100, phone=typed)

    expected = [m for m in sim.messages() if m["phone"] == "79161234567"]
    assert answer == expected
    assert len(answer) == 3


async def test_phone_filter_takes_a_comma_separated_list(
    client: httpx.AsyncClient, sim: SimulatedSmsc
) -> None:
    answer = await call(client, "get", cnt=1000, phone="79161234567, +79031112233")

    assert {item["phone"] for item in answer} == {"79161234567", "79031112233"}
    assert len(answer) == sum(m["phone"] in {"79161234567", "79031112233"} for m in sim.messages())


async def test_start_and_end_select_whole_days_in_the_account_zone(
    client: httpx.AsyncClient, sim: SimulatedSmsc
) -> None:
    days = Counter(m["send_date"][:10] for m in sim.messages())
    day = sorted(days)[1]  # a full day inside the demo period

    answer = await call(client, "get", cnt=1000, start=day, end=day)

    assert len(answer) == days[day] > 0
    assert {item["send_date"][:10] for item in answer} == {day}
    since = await call(client, "get", cnt=1000, start=day)
    assert len(since) == sum(n for d, n in days.items() if iso(d) >= iso(day))
    until = await call(client, "get", cnt=1000, end=day)
    assert len(until) == sum(n for d, n in days.items() if iso(d) <= iso(day))


def iso(day: str) -> str:
    """``dd.mm.yyyy`` -> ``yyyy-mm-dd``, which sorts."""
    return datetime.strptime(day, "%d.%m.%Y").date().isoformat()


@pytest.mark.parametrize("start", ["2026-09-01", "31.02.2026", "yesterday"])
async def test_a_bad_date_is_error_1(client: httpx.AsyncClient, start: str) -> None:
    assert error_code(await call(client, "get", cnt=10, start=start)) == 1


async def test_start_more_than_six_months_back_is_error_1(client: httpx.AsyncClient) -> None:
    # The fake clock starts on 21.09.2026 (Moscow): six months back is 21.03.2026.
    assert error_code(await call(client, "get", cnt=10, start="20.03.2026")) == 1
    assert await call(client, "get", cnt=10, start="21.03.2026", end="22.03.2026") == []


async def test_a_query_matching_nothing_answers_an_empty_array_or_error_3(
    client: httpx.AsyncClient, sim: SimulatedSmsc
) -> None:
    assert await call(client, "get", cnt=10, phone="79990000000") == []

    sim.empty_as_error3 = True
    answer = await call(client, "get", cnt=10, phone="79990000000")
    assert answer == {"error": "no messages", "error_code": 3}


async def test_answers_are_windows_1251_unless_utf8_is_asked(client: httpx.AsyncClient) -> None:
    form = {"apikey": DEMO_API_KEY, "get_messages": "1", "fmt": "3", "cnt": "5"}

    legacy = await client.post("/sys/get.php", data=form)
    modern = await client.post("/sys/get.php", data={**form, "charset": "utf-8"})

    assert legacy.headers["content-type"] == "application/json; charset=windows-1251"
    assert modern.headers["content-type"] == "application/json; charset=utf-8"
    with pytest.raises(UnicodeDecodeError):
        legacy.content.decode("utf-8")
    assert json.loads(legacy.content.decode("windows-1251")) == json.loads(modern.content)
    assert "Россия" in modern.content.decode("utf-8")


async def test_get_and_post_both_work_and_post_keeps_the_key_out_of_the_url(
    client: httpx.AsyncClient, sim: SimulatedSmsc
) -> None:
    form = {"apikey": DEMO_API_KEY, "fmt": "3", "charset": "utf-8"}

    by_get = await client.get("/sys/balance.php", params=form)
    by_post = await client.post("/sys/balance.php", data=form)

    assert by_get.json() == by_post.json() == {"balance": DEMO_BALANCE}
    got, posted = sim.requests
    assert (got.method, posted.method) == ("GET", "POST")
    assert DEMO_API_KEY in got.query_string
    assert posted.query_string == ""
    assert posted.params["apikey"] == DEMO_API_KEY
    assert sim.count("balance", DEMO_API_KEY) == 2
    assert sim.count("get") == 0


async def test_get_php_without_get_messages_is_error_1(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/sys/get.php", data={"apikey": DEMO_API_KEY, "fmt": "3", "cnt": "5"}
    )

    assert response.json()["error_code"] == 1


async def test_plain_text_format_answers_sms_centers_text_error(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/sys/balance.php", data={"apikey": "nope"})

    assert response.text == "ERROR = 2 (authorise error)"


# --- authorisation ---------------------------------------------------------------------------


@pytest.mark.parametrize("apikey", ["wrong-key", ""])
async def test_a_wrong_or_missing_key_is_error_2(client: httpx.AsyncClient, apikey: str) -> None:
    answer = await call(client, "balance", apikey=apikey)

    assert answer == {"error": "authorise error", "error_code": 2}


async def test_five_authorisation_errors_block_the_ip_for_thirty_minutes(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    for _ in range(5):
        assert error_code(await call(client, "balance", apikey="wrong-key")) == 2
        clock.advance(60)

    assert error_code(await call(client, "balance")) == 4  # any key, even the right one
    assert error_code(await call(client, "get", cnt=1)) == 4
    clock.advance(1800)
    assert await call(client, "balance") == {"balance": DEMO_BALANCE}


async def test_authorisation_errors_older_than_thirty_minutes_do_not_block(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    for _ in range(4):
        await call(client, "balance", apikey="wrong-key")
    clock.advance(1801)
    assert error_code(await call(client, "balance", apikey="wrong-key")) == 2

    assert await call(client, "balance") == {"balance": DEMO_BALANCE}


# --- history limits --------------------------------------------------------------------------


async def test_a_fourth_identical_history_request_within_a_minute_is_error_9(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    for _ in range(3):
        assert isinstance(await call(client, "get", cnt=5), list)
        clock.advance(10)

    assert error_code(await call(client, "get", cnt=5)) == 9
    assert error_code(await call(client, "get", cnt=5, psw="other")) == 9  # credentials aside
    assert isinstance(await call(client, "get", cnt=6), list)  # not identical: fine
    # The same request from a different-looking number spelling is still the same request.
    for _ in range(3):
        await call(client, "get", cnt=5, phone="79161234567")
    assert error_code(await call(client, "get", cnt=5, phone="+7 916 123-45-67")) == 9
    clock.advance(31)  # the first of the three is now more than 60 s old
    assert isinstance(await call(client, "get", cnt=5), list)


async def test_a_thirty_first_history_request_within_an_hour_is_error_9(
    client: httpx.AsyncClient, clock: FakeClock, sim: SimulatedSmsc
) -> None:
    for n in range(1, HISTORY_HOURLY_LIMIT + 1):
        assert isinstance(await call(client, "get", cnt=n), list)
        clock.advance(60)

    assert error_code(await call(client, "get", cnt=100)) == 9
    # Another account has its own budget.
    sim.add_account(OTHER_KEY)
    assert await call(client, "get", apikey=OTHER_KEY, cnt=1) == []
    clock.advance(3600 - 30 * 60 + 1)  # the first request leaves the window
    assert isinstance(await call(client, "get", cnt=100), list)
    assert error_code(await call(client, "get", cnt=99)) == 9


async def test_refused_history_requests_do_not_use_up_the_quota(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    for _ in range(3):
        await call(client, "get", cnt=5)
    for _ in range(20):
        assert error_code(await call(client, "get", cnt=5)) == 9
        assert error_code(await call(client, "get", cnt=0)) == 1

    for n in range(6, 6 + HISTORY_HOURLY_LIMIT - 3):
        assert isinstance(await call(client, "get", cnt=n), list)
    assert error_code(await call(client, "get", cnt=1)) == 9


# --- status.php ------------------------------------------------------------------------------


async def test_status_answers_more_fields_with_all_1_and_2(
    client: httpx.AsyncClient, sim: SimulatedSmsc
) -> None:
    newest = next(m for m in sim.messages() if m["phone"] == "79031112233")
    ask = {"phone": "+7 903 111-22-33", "id": newest["id"]}

    plain = await call(client, "status", **ask)
    full = await call(client, "status", all=1, **ask)
    located = await call(client, "status", all=2, **ask)

    assert set(plain) == STATUS_FIELDS_0
    assert set(full) == STATUS_FIELDS_1
    assert set(located) == STATUS_FIELDS_2
    assert (plain["status"], plain["err"], plain["flag"]) == (20, 6, 0)
    assert plain["last_timestamp"] == newest["last_timestamp"]
    assert full["sender_id"] == newest["sender"]
    assert full["message"] == newest["message"]
    assert located["operator"] == "Билайн"


async def test_status_of_an_unknown_message_is_minus_3_not_an_error(
    client: httpx.AsyncClient,
) -> None:
    answer = await call(client, "status", phone="79990000000", id=1, all=1)

    assert answer["status"] == -3
    assert "error_code" not in answer


@pytest.mark.parametrize("ask", [{"phone": "79161234567"}, {"id": "1"}, {"id": "1", "phone": "x"}])
async def test_status_without_phone_or_id_is_error_1(
    client: httpx.AsyncClient, ask: dict[str, str]
) -> None:
    assert error_code(await call(client, "status", **ask)) == 1


async def test_status_with_several_messages_answers_an_array(
    client: httpx.AsyncClient, sim: SimulatedSmsc
) -> None:
    first = next(m for m in sim.messages() if m["phone"] == "79161234567")
    answer = await call(
        client, "status", phone=f"{first['phone']},79990000000", id=f"{first['id']},5"
    )

    assert [item["status"] for item in answer] == [1, -3]
    assert error_code(await call(client, "status", phone="79161234567,", id="1,")) == 9


async def test_a_sixth_status_request_for_one_message_within_a_minute_is_error_9(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    for _ in range(5):
        assert (await call(client, "status", phone="79161234567", id=7))["status"] == -3
    assert error_code(await call(client, "status", phone="79161234567", id=7)) == 9
    assert (await call(client, "status", phone="79161234567", id=8))["status"] == -3

    clock.advance(61)
    assert (await call(client, "status", phone="79161234567", id=7))["status"] == -3


async def test_five_simultaneous_status_requests_are_one_too_many(
    client: httpx.AsyncClient, sim: FaultySmsc
) -> None:
    sim.faults = Faults(delay=0.3, only="status")

    answers = await asyncio.gather(
        *(call(client, "status", phone="79161234567", id=n) for n in range(5))
    )

    assert sorted(error_code(answer) or 0 for answer in answers) == [0, 0, 0, 0, 9]


# --- balance.php -----------------------------------------------------------------------------


async def test_balance_is_a_string(client: httpx.AsyncClient, sim: SimulatedSmsc) -> None:
    assert await call(client, "balance") == {"balance": "1843.20"}

    sim.add_account(OTHER_KEY, balance="0.50")
    assert await call(client, "balance", apikey=OTHER_KEY) == {"balance": "0.50"}


async def test_an_eleventh_balance_request_within_a_minute_is_error_9(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    for _ in range(BALANCE_MINUTE_LIMIT):
        assert "balance" in await call(client, "balance")
    assert error_code(await call(client, "balance")) == 9

    clock.advance(60)
    assert "balance" in await call(client, "balance")


async def test_fifteen_simultaneous_balance_requests_are_one_too_many(
    client: httpx.AsyncClient, sim: FaultySmsc, clock: FakeClock
) -> None:
    sim.faults = Faults(delay=0.4, only="balance")
    first = [asyncio.create_task(call(client, "balance")) for _ in range(8)]
    while sim.in_flight("balance") < 8:  # noqa: ASYNC110 - a counter, no event to wait on
        await asyncio.sleep(0.005)
    clock.advance(61)  # the per-minute quota starts over; the eight are still in flight
    second = [asyncio.create_task(call(client, "balance")) for _ in range(7)]

    answers = await asyncio.gather(*first, *second)

    assert sorted(error_code(answer) or 0 for answer in answers) == [0] * 14 + [9]


# --- fault switches (tests/fakes/smsc_faults.py) -------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_fault_http_status(client: httpx.AsyncClient, sim: FaultySmsc, status: int) -> None:
    sim.faults.http_status = status

    response = await client.post("/sys/balance.php", data={"apikey": DEMO_API_KEY, "fmt": "3"})

    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert str(status) in response.text


@pytest.mark.parametrize(
    ("script", "kind", "check"),
    [
        ("get", "html", lambda body: body.lstrip().startswith("<html>")),
        ("get", "truncated", None),
        ("status", "truncated", None),
        ("get", "wrong_shape", lambda body: not isinstance(json.loads(body), list)),
        ("status", "wrong_shape", lambda body: not isinstance(json.loads(body), dict)),
        ("balance", "wrong_shape", lambda body: not isinstance(json.loads(body), dict)),
        ("get", "bad_types", lambda body: json.loads(body)[0]["status"] == "abc"),
        ("status", "bad_types", lambda body: json.loads(body)["status"] == "abc"),
        ("balance", "bad_types", lambda body: json.loads(body)["balance"] == "abc"),
    ],
)
async def test_fault_malformed_bodies(
    client: httpx.AsyncClient, sim: FaultySmsc, script: str, kind: Any, check: Any
) -> None:
    sim.faults.malformed = kind
    params = {"cnt": 5} if script == "get" else {"phone": "79161234567", "id": 1}

    response = await client.post(
        f"/sys/{script}.php",
        data={"apikey": DEMO_API_KEY, "fmt": "3", "charset": "utf-8", "get_messages": "1"}
        | {k: str(v) for k, v in params.items()},
    )

    assert response.status_code == 200
    if check is None:
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.text)
    else:
        assert check(response.text)


async def test_fault_error_code_and_only(client: httpx.AsyncClient, sim: FaultySmsc) -> None:
    sim.faults = Faults(error_code=9, only="get")

    assert await call(client, "get", cnt=5) == {"error": "too many requests", "error_code": 9}
    assert await call(client, "balance") == {"balance": DEMO_BALANCE}
    sim.faults.error_code = 77
    assert error_code(await call(client, "get", cnt=5)) == 77


async def test_faulted_answers_use_no_quota(client: httpx.AsyncClient, sim: FaultySmsc) -> None:
    sim.faults = Faults(http_status=502)
    for _ in range(5):
        await client.post("/sys/get.php", data={"apikey": DEMO_API_KEY, "cnt": "5"})
    sim.faults = Faults()

    assert isinstance(await call(client, "get", cnt=5), list)


async def test_fault_times_switches_itself_off(client: httpx.AsyncClient, sim: FaultySmsc) -> None:
    sim.faults = Faults(http_status=502, times=2)
    form = {"apikey": DEMO_API_KEY, "fmt": "3"}

    statuses = [(await client.post("/sys/balance.php", data=form)).status_code for _ in range(3)]

    assert statuses == [502, 502, 200]
    assert sim.faults == Faults()


async def test_fault_delay_holds_the_answer(client: httpx.AsyncClient, sim: FaultySmsc) -> None:
    sim.faults.delay = 0.3

    with pytest.raises(httpx.ReadTimeout):
        await client.post("/sys/balance.php", data={"apikey": DEMO_API_KEY}, timeout=0.1)


async def test_refuse_and_resume_on_the_same_port(
    client: httpx.AsyncClient, sim: FaultySmsc
) -> None:
    base = sim.base_url
    assert await call(client, "balance") == {"balance": DEMO_BALANCE}  # a pooled connection

    await sim.refuse()
    with pytest.raises(httpx.ConnectError):
        await call(client, "balance")
    assert await sim.resume() == base
    assert await call(client, "balance") == {"balance": DEMO_BALANCE}


# --- data ------------------------------------------------------------------------------------


def test_demo_history_is_deterministic_for_a_seed_and_a_clock() -> None:
    first = SimulatedSmsc(clock=FakeClock(), seed=7).messages()
    again = SimulatedSmsc(clock=FakeClock(), seed=7).messages()
    other = SimulatedSmsc(clock=FakeClock(), seed=8).messages()

    assert first == again
    assert first != other


def test_demo_history_looks_like_a_real_account() -> None:
    now = FakeClock()()
    messages = SimulatedSmsc(clock=FakeClock()).messages()
    statuses = Counter(m["status"] for m in messages)
    per_phone = Counter(m["phone"] for m in messages)
    last_hour = [m for m in messages if m["send_timestamp"] >= now - 3600]

    assert 350 <= len(messages) <= 500
    assert set(statuses) == {-2, -1, 0, 1, 2, 3, 4, 20, 22, 23, 24, 25}
    assert statuses[1] > len(messages) / 2
    assert {m["operator"] for m in messages} >= {"МТС", "МегаФон", "Билайн", "Tele2", "Yota"}
    assert {m["mccmnc"] for m in messages} >= {"25001", "25002", "25099", "25020", "25011"}
    assert {m["err"] for m in messages if m["status"] == 20} >= {1, 6, 11, 13, 219, 220}
    assert {m["err"] for m in messages} >= {245, 248, 249, 253, 254, 255}
    assert sum(n >= 30 for n in per_phone.values()) >= 2
    assert sum(m["status"] in {3, 20, 22, 23, 24, 25} for m in last_hour) >= 4
    assert all(m["phone"].isdigit() and m["phone"].startswith("7") for m in messages)
    assert {m["sms_cnt"] for m in messages} >= {1, 2}
    assert any("<" in m["message"] and "&" in m["message"] for m in messages)
    assert all(m["last_timestamp"] <= now for m in messages)
    # A mailing shares one id between many numbers; per number an id is unique.
    assert max(Counter(m["id"] for m in messages).values()) > 5
    assert len({(m["phone"], m["id"]) for m in messages}) == len(messages)
    for m in messages:  # the default charset must carry every text
        m["message"].encode("windows-1251")


def test_demo_numbers_show_what_they_promise() -> None:
    messages = SimulatedSmsc(clock=FakeClock()).messages()
    newest = {phone: next(m for m in messages if m["phone"] == phone) for phone in DEMO_NUMBERS}

    assert (newest["79161234567"]["status"], newest["79161234567"]["err"]) == (1, 0)
    assert "код" in newest["79161234567"]["message"]
    assert (newest["79031112233"]["status"], newest["79031112233"]["err"]) == (20, 6)
    assert (newest["79095550011"]["status"], newest["79095550011"]["err"]) == (20, 1)
    assert newest["79772223344"]["status"] == 0
    assert newest["79257654321"]["status"] == 1
    assert sum(m["phone"] == "79257654321" for m in messages) == 36


def test_messages_in_progress_settle_as_the_clock_moves() -> None:
    clock = FakeClock()
    sim = SimulatedSmsc(clock=clock)
    waiting = {m["int_id"] for m in sim.messages() if m["status"] in {-1, 0}}

    clock.advance(86_400)
    after = {m["int_id"]: m for m in sim.messages()}

    moved = [after[i] for i in waiting if after[i]["status"] not in {-1, 0}]
    assert moved
    assert all(m["status_name"] == STATUS_NAMES_RU[m["status"]] for m in moved)
    assert all(m["last_timestamp"] <= clock() for m in moved)
    pending = max(
        (m for m in after.values() if m["phone"] == "79772223344"), key=lambda m: m["int_id"]
    )
    assert pending["status"] == 0  # DEMO_NUMBERS stay as promised


async def test_hand_made_accounts_and_add_message(clock: FakeClock) -> None:
    accounts = {OTHER_KEY: [{"phone": "79990000001", "status": 20, "err": 6}]}
    async with (
        SimulatedSmsc(clock=clock, accounts=accounts, with_demo=False) as sim,
        httpx.AsyncClient(base_url=sim.base_url, verify=TLS) as client,
    ):
        clock.advance(30)
        added = sim.add_message(OTHER_KEY, phone="79161112233", message="<b>Код</b> & 1234")

        answer = await call(client, "get", apikey=OTHER_KEY, cnt=10)
        status = await call(
            client, "status", apikey=OTHER_KEY, phone="79161112233", id=added["id"], all=2
        )
        demo = await call(client, "balance")

    assert answer == [added, *answer[1:]]
    assert len(answer) == 2
    assert answer[1]["status"] == 20
    assert answer[1]["status_name"] == "Невозможно доставить"
    assert added["int_id"] > answer[1]["int_id"]
    assert added["send_timestamp"] == int(clock())
    assert added["operator"] == "МТС"
    assert added["mccmnc"] == "25001"
    assert status["status"] == 1
    assert status["message"] == "<b>Код</b> & 1234"
    assert error_code(demo) == 2
    with pytest.raises(ValueError, match="unknown message fields"):
        sim.add_message(OTHER_KEY, stauts=1)


# --- command line (python -m bot.smsc) -------------------------------------------------------


async def test_the_command_line_serves_the_demo_account(
    capsys: pytest.CaptureFixture[str],
) -> None:
    serving = asyncio.create_task(smsc_cli.serve("127.0.0.1", 0))
    try:
        async with asyncio.timeout(10):
            while "demo key" not in (printed := capsys.readouterr().out):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        base = printed.split(" on ", 1)[1].split(";", 1)[0]
        async with httpx.AsyncClient(base_url=base, verify=TLS) as client:
            assert await call(client, "balance") == {"balance": DEMO_BALANCE}
    finally:
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
    assert DEMO_API_KEY in printed
    assert all(number in printed for number in DEMO_NUMBERS)


def test_the_command_line_names_itself(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        smsc_cli.main(["--help"])

    assert exit_.value.code == 0
    assert "python -m bot.smsc" in capsys.readouterr().out
