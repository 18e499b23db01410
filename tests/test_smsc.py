"""The SMS Center client against the simulated SMS Center over real HTTP on 127.0.0.1."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import httpcore
import httpx
import pytest

from bot.smsc import (
    HistoryEntry,
    SmscApiError,
    SmscBadCredentials,
    SmscBadParameters,
    SmscClient,
    SmscConnectError,
    SmscDeleteFailed,
    SmscHTTPError,
    SmscIPBlocked,
    SmscMalformedResponse,
    SmscNotFound,
    SmscRateLimited,
    SmscTimeout,
    SmscTransportError,
)
from bot.smsc.simulator import SimulatedSmsc
from tests.conftest import API_KEY
from tests.fakes.clock import FakeClock
from tests.fakes.smsc_faults import FaultySmsc

ERROR_CLASSES: dict[int, type[SmscApiError]] = {
    1: SmscBadParameters,
    2: SmscBadCredentials,
    3: SmscNotFound,
    4: SmscIPBlocked,
    5: SmscDeleteFailed,
    9: SmscRateLimited,
}


def assert_no_key(text: str) -> None:
    assert API_KEY not in text
    assert API_KEY[:12] not in text


async def test_history_entry_carries_every_field(sim: SimulatedSmsc, client: SmscClient) -> None:
    sim.add_message(API_KEY, phone="79161234567", status=20, err=6, message="Код: 4821")
    [entry] = await client.get_messages(API_KEY, phone="79161234567", cnt=5)
    assert isinstance(entry, HistoryEntry)
    assert (entry.status, entry.err, entry.phone, entry.message) == (
        20,
        6,
        "79161234567",
        "Код: 4821",
    )
    assert entry.send_timestamp is not None and entry.sent_at == float(entry.send_timestamp)
    assert entry.last_timestamp is not None and entry.send_date and entry.last_date
    assert entry.int_id is not None and entry.id is not None
    assert isinstance(entry.cost, Decimal) and entry.sms_cnt == 1
    assert entry.operator and entry.mccmnc and entry.sender and entry.status_name


async def test_history_is_newest_first_and_pages_with_prev_id(
    sim: SimulatedSmsc, client: SmscClient, clock: FakeClock
) -> None:
    for n in range(5):
        sim.add_message(API_KEY, phone="79161234567", message=f"m{n}")
        clock.advance(10)
    first = await client.get_messages(API_KEY, phone="79161234567", cnt=2)
    assert [e.message for e in first] == ["m4", "m3"]
    older = await client.get_messages(API_KEY, phone="79161234567", cnt=2, prev_id=first[-1].int_id)
    assert [e.message for e in older] == ["m2", "m1"]


async def test_credentials_travel_in_the_post_body_not_the_url(
    sim: SimulatedSmsc, client: SmscClient
) -> None:
    await client.balance(API_KEY)
    request = sim.requests[-1]
    assert request.method == "POST"
    assert API_KEY not in request.query_string
    assert request.params["apikey"] == API_KEY
    assert request.params["fmt"] == "3" and request.params["charset"] == "utf-8"


async def test_cnt_outside_the_protocol_is_refused_before_any_request(
    sim: SimulatedSmsc, client: SmscClient
) -> None:
    for cnt in (0, 1001):
        with pytest.raises(ValueError, match="cnt"):
            await client.get_messages(API_KEY, cnt=cnt)
    assert sim.count() == 0


async def test_empty_history_is_an_empty_list_whether_or_not_smsc_says_error_3(
    sim: SimulatedSmsc, client: SmscClient
) -> None:
    assert await client.get_messages(API_KEY, phone="79990001122", cnt=5) == []
    sim.empty_as_error3 = True
    assert await client.get_messages(API_KEY, phone="79990001122", cnt=5) == []


@pytest.mark.parametrize(("code", "cls"), sorted(ERROR_CLASSES.items()))
async def test_each_error_code_is_its_own_exception_without_the_key(
    sim: FaultySmsc,
    client: SmscClient,
    caplog: pytest.LogCaptureFixture,
    code: int,
    cls: type[SmscApiError],
) -> None:
    caplog.set_level(logging.DEBUG)
    sim.faults.error_code = code
    with pytest.raises(cls) as caught:
        await client.status(API_KEY, phone="79161234567", message_id=1)
    assert caught.value.error_code == code
    assert_no_key(str(caught.value))
    assert_no_key(repr(caught.value))
    assert_no_key(caplog.text)


async def test_an_unknown_error_code_is_the_base_api_error(
    sim: FaultySmsc, client: SmscClient
) -> None:
    sim.faults.error_code = 7
    with pytest.raises(SmscApiError) as caught:
        await client.balance(API_KEY)
    assert type(caught.value) is SmscApiError and caught.value.error_code == 7


async def test_a_wrong_key_is_bad_credentials_for_real(
    sim: SimulatedSmsc, client: SmscClient
) -> None:
    with pytest.raises(SmscBadCredentials) as caught:
        await client.balance("not-the-key")
    assert "not-the-key" not in str(caught.value)


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_http_errors(sim: FaultySmsc, client: SmscClient, status: int) -> None:
    sim.faults.http_status = status
    with pytest.raises(SmscHTTPError) as caught:
        await client.get_messages(API_KEY, cnt=10)
    assert caught.value.status == status
    assert_no_key(str(caught.value))


@pytest.mark.parametrize("kind", ["html", "truncated", "wrong_shape", "bad_types"])
async def test_malformed_bodies(sim: FaultySmsc, client: SmscClient, kind: str) -> None:
    sim.add_message(API_KEY)
    sim.faults.malformed = kind  # type: ignore[assignment]
    with pytest.raises(SmscMalformedResponse) as caught:
        await client.get_messages(API_KEY, cnt=10)
    assert_no_key(str(caught.value))


async def test_a_slow_answer_is_a_timeout_and_is_not_asked_twice(sim: FaultySmsc) -> None:
    sim.faults.delay = 1.0
    async with SmscClient(sim.base_url, timeout=0.1) as client:
        with pytest.raises(SmscTimeout) as caught:
            await client.balance(API_KEY)
    assert_no_key(str(caught.value))
    assert sim.count("balance") == 1  # it arrived: repeating it could cross a limit


def connect_attempts(caplog: pytest.LogCaptureFixture) -> int:
    """Connections the client's transport tried to open (httpcore's own debug log)."""
    return sum(
        1
        for record in caplog.records
        if record.name == "httpcore.connection"
        and record.getMessage().startswith("connect_tcp.started")
    )


async def test_refused_connection_is_retried_once_then_a_connect_error(
    sim: FaultySmsc, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await sim.refuse()
    async with SmscClient(sim.base_url, timeout=1.0) as client:
        with pytest.raises(SmscConnectError) as caught:
            await client.balance(API_KEY)
    assert_no_key(str(caught.value))
    assert connect_attempts(caplog) == 2
    assert_no_key(caplog.text)


async def test_connect_error_retry_reaches_smsc_on_the_second_attempt(
    sim: SimulatedSmsc, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = 0
    connect_tcp = httpcore.AnyIOBackend.connect_tcp

    async def refused_once(
        self: httpcore.AnyIOBackend, *args: Any, **kwargs: Any
    ) -> httpcore.AsyncNetworkStream:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise httpcore.ConnectError("refused")
        return await connect_tcp(self, *args, **kwargs)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", refused_once)
    async with SmscClient(sim.base_url) as client:
        balance = await client.balance(API_KEY)
    assert balance == Decimal("100.00")
    assert attempts == 2
    assert sim.count("balance") == 1


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ConnectError("refused"), SmscConnectError),
        (httpx.ConnectTimeout("no route"), SmscConnectError),
        (httpx.ReadTimeout("slow"), SmscTimeout),
        (httpx.WriteTimeout("slow"), SmscTimeout),
        (httpx.RemoteProtocolError("dropped"), SmscConnectError),
        (httpx.ReadError("reset"), SmscConnectError),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else value.__name__,
)
async def test_an_injected_transport_s_failures_become_the_client_s_exceptions(
    failure: httpx.TransportError, expected: type[SmscTransportError]
) -> None:
    seen: list[httpx.Request] = []

    def fail(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise failure

    transport = httpx.MockTransport(fail)
    async with SmscClient("https://smsc.example", transport=transport) as client:
        with pytest.raises(expected) as caught:
            await client.get_messages(API_KEY, cnt=5)
    assert type(caught.value) is expected
    assert caught.value.__cause__ is failure
    assert_no_key(str(caught.value))
    [request] = seen
    assert str(request.url) == "https://smsc.example/sys/get.php"


async def test_rate_limit_error_is_never_retried(sim: FaultySmsc, client: SmscClient) -> None:
    sim.faults.error_code = 9
    with pytest.raises(SmscRateLimited):
        await client.get_messages(API_KEY, cnt=10)
    assert sim.count("get") == 1


async def test_status_of_an_unknown_message_is_not_found_not_an_error(
    sim: SimulatedSmsc, client: SmscClient
) -> None:
    answer = await client.status(API_KEY, phone="79161234567", message_id=999)
    assert not answer.found and answer.entry.status == -3


async def test_status_with_full_information(sim: SimulatedSmsc, client: SmscClient) -> None:
    sent = sim.add_message(API_KEY, phone="79161234567", status=1, sender="SHOP")
    answer = await client.status(API_KEY, phone="79161234567", message_id=int(sent["id"]))
    assert answer.found and answer.entry.status == 1
    assert answer.entry.sender == "SHOP" and answer.entry.operator


async def test_smsc_limits_are_real_three_identical_a_minute(
    sim: SimulatedSmsc, client: SmscClient
) -> None:
    for _ in range(3):
        await client.get_messages(API_KEY, phone="79161234567", cnt=5)
    with pytest.raises(SmscRateLimited):
        await client.get_messages(API_KEY, phone="79161234567", cnt=5)


def test_client_repr_has_no_key(client: SmscClient) -> None:
    assert "apikey" not in repr(client).lower()
