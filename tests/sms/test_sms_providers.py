"""The HTTP provider speaks to a carrier through a configured template; the outbox provider keeps messages."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.config import HttpSmsSettings, load_settings
from gateway.db import session_factory
from gateway.errors import ConfigError
from gateway.sms.providers import HttpSmsProvider, OutboxSmsProvider, SmsSendError
from tests.sms.carrier import FakeCarrier

TEXT = "【12345热线】您反映的问题（工单号20261122001）已办理答复，请回复数字评价：1非常满意 {不是占位符}"


def provider(http: aiohttp.ClientSession, **settings: object) -> HttpSmsProvider:
    return HttpSmsProvider(HttpSmsSettings.model_validate(settings), http)


async def test_json_template_auth_header_and_provider_id(
        carrier: FakeCarrier, http: aiohttp.ClientSession, tmp_path: Path) -> None:
    token_file = tmp_path / "sms.token"
    token_file.write_text("tok-123\n")
    p = provider(http, url=carrier.url(), token_file=token_file, headers={"X-Account": "hotline"},
                 body_template={"phone": "{to}", "content": "{text}", "extra": {"ref": "m-{message_id}"},
                                "sign": "12345热线"},
                 success_field="code", success_value="OK", message_id_field="msgid")

    receipt = await p.send("+8613800138000", TEXT, message_id="abc")

    assert receipt.provider_message_id == "C-1"
    [req] = carrier.requests
    assert (req.method, req.path) == ("POST", "/sms/send")
    assert req.headers["Authorization"] == "Bearer tok-123"
    assert req.headers["X-Account"] == "hotline"
    assert json.loads(req.body) == {"phone": "+8613800138000", "content": TEXT, "extra": {"ref": "m-abc"},
                                    "sign": "12345热线"}, "braces in the text itself stay as written"


async def test_form_body_and_placeholders_in_the_url(carrier: FakeCarrier, http: aiohttp.ClientSession) -> None:
    p = provider(http, url=carrier.url("/send?mobile={to}&id={message_id}"), body_format="form",
                 body_template={"msg": "{text}"}, auth_header="X-Api-Key", auth_prefix="", token="k-9")
    await p.send("+8613800138000", "回复1满意 & 2不满意", message_id="m1")
    [req] = carrier.requests
    assert req.query == {"mobile": "+8613800138000", "id": "m1"}
    assert req.headers["X-Api-Key"] == "k-9"
    assert parse_qs(req.body.decode()) == {"msg": ["回复1满意 & 2不满意"]}


@pytest.mark.parametrize(("status", "answer", "permanent"), [
    (503, {"code": "BUSY"}, False),
    (429, {"code": "RATE"}, False),
    (400, {"code": "BAD_NUMBER"}, True),
    (200, {"code": "isv.BUSINESS_LIMIT_CONTROL"}, False),
])
async def test_refusals_say_why_and_whether_to_retry(
        carrier: FakeCarrier, http: aiohttp.ClientSession, status: int, answer: dict[str, str],
        permanent: bool) -> None:
    carrier.status, carrier.answer = status, answer
    p = provider(http, url=carrier.url(), success_field="code", success_value="OK")
    with pytest.raises(SmsSendError) as caught:
        await p.send("+8613800138000", "hi", message_id="m1")
    assert caught.value.permanent is permanent
    assert answer["code"] in str(caught.value)


async def test_an_unreachable_gateway_is_a_retryable_error(http: aiohttp.ClientSession) -> None:
    p = provider(http, url="http://127.0.0.1:9/send", timeout=2)
    with pytest.raises(SmsSendError) as caught:
        await p.send("+8613800138000", "hi", message_id="m1")
    assert not caught.value.permanent


def test_the_token_is_a_secret_refused_in_toml(tmp_path: Path) -> None:
    cfg = tmp_path / "hotline.toml"
    cfg.write_text('[sms.http]\nurl = "https://sms.example.cn/send"\ntoken = "plain"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="HOTLINE_SMS__HTTP__TOKEN"):
        load_settings(cfg)


def test_the_http_provider_needs_a_url(http: aiohttp.ClientSession) -> None:
    with pytest.raises(ConfigError, match=r"sms\.http\.url"):
        provider(http)


async def test_the_outbox_keeps_a_resent_message_once(engine: AsyncEngine) -> None:
    outbox = OutboxSmsProvider(session_factory(engine))
    first = await outbox.send("+8613800138000", "hi", message_id="m1")
    again = await outbox.send("+8613800138000", "hi", message_id="m1")
    assert first == again
