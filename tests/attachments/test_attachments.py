"""A unit attaches files to its 退单 and 答复: stored under a random name, only accepted kinds (by their
bytes), within a size limit, and served only to who may see the ticket. The platform hears the
recordings of a ticket's calls; units never do."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.appkeys import SESSIONS
from gateway.attachments.store import MAX_BYTES, display_name
from gateway.auth.middleware import TOKENS
from gateway.calls.models import CallRecord
from gateway.db.scratch import scratch_schema
from gateway.speech.models import Transcript
from tests.conftest import PG_URL
from tests.consoles.support import Gateway, running_gateway

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def gateway(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Gateway]:
    if request.param == "sqlite":
        async with running_gateway(tmp_path, None) as gw:
            yield gw
        return
    if not PG_URL:
        pytest.skip("HOTLINE_TEST_PG_URL is not set (./dev test starts a private PostgreSQL and sets it)")
    async with scratch_schema(PG_URL, "att") as schema, \
            running_gateway(tmp_path, None, db={"url": PG_URL, "search_path": schema}) as gw:
        yield gw


async def signed_ticket(gateway: Gateway) -> str:
    t = await gateway.ok("agent", "POST", "/tickets", {"category": "求助", "content": "人民路停水一天了"}, status=201)
    await gateway.ok("agent", "POST", f"/tickets/{t['number']}/accept", {})
    await gateway.ok("agent", "POST", f"/tickets/{t['number']}/dispatch", {"lead_unit": "water"})
    await gateway.ok("water", "POST", f"/tickets/{t['number']}/sign")
    return str(t["number"])


async def upload(gateway: Gateway, who: str, number: str, name: str, data: bytes,
                 content_type: str = "application/octet-stream") -> tuple[int, Any]:
    form = aiohttp.FormData()
    form.add_field("file", io.BytesIO(data), filename=name, content_type=content_type)
    resp = await gateway.client.post(f"/api/v1/tickets/{number}/attachments", data=form,
                                     headers={"Authorization": f"Bearer {gateway.tokens[who]}"})
    return resp.status, await resp.json()


async def get(gateway: Gateway, who: str, path: str) -> aiohttp.ClientResponse:
    resp = await gateway.client.get(path, headers={"Authorization": f"Bearer {gateway.tokens[who]}"})
    await resp.read()
    return resp


def stored_files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "attachments"
    return sorted(folder.iterdir()) if folder.exists() else []


async def test_a_reply_carries_an_uploaded_file_that_the_supervisor_downloads(gateway: Gateway,
                                                                              tmp_path: Path) -> None:
    number = await signed_ticket(gateway)
    status, att = await upload(gateway, "water", number, "现场照片.png", PNG)
    assert status == 201, att
    assert (att["name"], att["size"], att["content_type"]) == ("现场照片.png", len(PNG), "image/png")
    await gateway.ok("water", "POST", f"/tickets/{number}/reply", {"text": "已恢复供水", "attachments": [att]})

    ticket = await gateway.ok("supervisor", "GET", f"/tickets/{number}")
    assert [a["url"] for a in ticket["reply"]["attachments"]] == [att["url"]]
    listed = await gateway.ok("supervisor", "GET", f"/tickets/{number}/attachments")
    assert [a["url"] for a in listed["items"]] == [att["url"]]
    resp = await get(gateway, "supervisor", att["url"])
    assert resp.status == 200
    assert await resp.read() == PNG
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E7%8E%B0" in resp.headers["Content-Disposition"]
    [stored] = stored_files(tmp_path)  # a random name, not the uploaded one
    assert stored.name != "现场照片.png" and len(stored.name) == 32 and stored.read_bytes() == PNG


async def test_return_evidence_is_kept_on_the_request(gateway: Gateway) -> None:
    number = await signed_ticket(gateway)
    status, att = await upload(gateway, "water", number, "三定方案.pdf", PDF)
    assert status == 201, att
    await gateway.ok("water", "POST", f"/tickets/{number}/return",
                     {"reason": "不属本单位职责", "basis": "三定方案第三条", "evidence": [att]})
    requests = await gateway.ok("supervisor", "GET", f"/tickets/{number}/requests")
    assert [e["url"] for e in requests["items"][0]["evidence"]] == [att["url"]]


async def test_office_documents_are_accepted(gateway: Gateway) -> None:
    number = await signed_ticket(gateway)
    status, att = await upload(gateway, "water", number, "说明.docx", docx())
    assert status == 201, att
    assert att["content_type"].endswith("wordprocessingml.document")


@pytest.mark.parametrize(("name", "data", "error_id"), [
    ("evil.pdf", b"<html><script>alert(1)</script></html>", "attachment-type-not-allowed"),
    ("report.html", PDF, "attachment-type-not-allowed"),  # a PDF under a name a browser would render
    ("photo.pdf", PNG, "attachment-type-not-allowed"),  # the extension must say what the bytes are
    ("fake.docx", b"PK\x03\x04" + bytes(40), "attachment-type-not-allowed"),  # not a real package
    ("noext", PNG, "attachment-type-not-allowed"),
    ("empty.png", b"", "empty-file"),
])
async def test_files_that_are_not_accepted_kinds_are_refused_and_nothing_is_kept(
        gateway: Gateway, tmp_path: Path, name: str, data: bytes, error_id: str) -> None:
    number = await signed_ticket(gateway)
    status, body = await upload(gateway, "water", number, name, data)
    assert (status // 100, body["error_id"]) == (4, error_id)
    assert stored_files(tmp_path) == []
    assert (await gateway.ok("water", "GET", f"/tickets/{number}/attachments"))["items"] == []


@pytest.mark.parametrize("extra", [MAX_BYTES, 2 * 1024 * 1024])  # over our limit; over the API's body limit
async def test_a_too_large_file_is_refused(gateway: Gateway, tmp_path: Path, extra: int) -> None:
    number = await signed_ticket(gateway)
    status, body = await upload(gateway, "water", number, "big.png", PNG + bytes(extra))
    assert (status, body["error_id"]) == (413, "attachment-too-large")
    assert stored_files(tmp_path) == []


async def test_a_body_that_is_not_a_multipart_file_is_a_400(gateway: Gateway) -> None:
    number = await signed_ticket(gateway)
    resp = await gateway.client.post(f"/api/v1/tickets/{number}/attachments", json={"file": "x"},
                                     headers={"Authorization": f"Bearer {gateway.tokens['water']}"})
    assert (resp.status, (await resp.json())["error_id"]) == (400, "multipart-required")


def test_the_uploaded_name_is_only_a_harmless_label() -> None:
    assert display_name("../../etc/passwd.png") == "passwd.png"
    assert display_name("C:\\Users\\x\\照片.jpg") == "照片.jpg"
    assert display_name(".hidden\r\n.png") == "hidden__.png"
    long = display_name("长" * 300 + ".pdf")
    assert len(long) == 200 and long.endswith(".pdf")


async def test_only_who_may_see_the_ticket_sees_its_files(gateway: Gateway) -> None:
    number = await signed_ticket(gateway)
    _, gateway.tokens["power"] = await gateway.app[TOKENS].create("unit", "power")
    _, att = await upload(gateway, "water", number, "a.png", PNG)
    for who in ("power",):  # a unit the ticket was never assigned to: as if it did not exist
        assert (await get(gateway, who, att["url"])).status == 404
        assert (await get(gateway, who, f"/api/v1/tickets/{number}/attachments")).status == 404
        assert (await upload(gateway, who, number, "b.png", PNG))[0] == 404
    assert (await upload(gateway, "agent", number, "c.png", PNG))[0] == 403  # units attach, the platform reads
    assert (await get(gateway, "agent", att["url"])).status == 200
    assert (await get(gateway, "water", att["url"])).status == 200
    other = await signed_ticket(gateway)  # the id of a file on one ticket names nothing on another
    moved = att["url"].replace(f"/tickets/{number}/", f"/tickets/{other}/")
    assert (await get(gateway, "water", moved)).status == 404
    assert (await get(gateway, "water", f"/api/v1/tickets/{number}/attachments/99999999999")).status == 404


async def add_call(gateway: Gateway, call_id: str, recording: Path | None) -> None:
    async with gateway.app[SESSIONS]() as session, session.begin():
        session.add(CallRecord(id=call_id, state="ended", caller="13800000001", started_at=datetime.now(UTC),
                               recording=str(recording) if recording else None))


async def test_the_platform_hears_the_recordings_of_a_tickets_calls_and_units_never(gateway: Gateway,
                                                                                    tmp_path: Path) -> None:
    number = await signed_ticket(gateway)
    (tmp_path / "rec").mkdir(exist_ok=True)
    wav = tmp_path / "rec" / "c1.wav"
    wav.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    outside = tmp_path / "secret.wav"
    outside.write_bytes(b"RIFF")
    await add_call(gateway, "c1", wav)
    await add_call(gateway, "c2", None)
    await add_call(gateway, "c3", outside)  # a path outside the recording folder is never served
    await add_call(gateway, "c4", wav)  # not this ticket's call
    for call in ("c1", "c2", "c3"):
        await gateway.ok("agent", "POST", f"/tickets/{number}/links", {"kind": "call", "ref": call})

    calls = await gateway.ok("agent", "GET", f"/tickets/{number}/calls")
    assert [(c["id"], c["recording_url"] is not None) for c in calls["items"]] == [
        ("c1", True), ("c2", False), ("c3", True)]
    base = f"/api/v1/tickets/{number}/calls"
    resp = await get(gateway, "supervisor", f"{base}/c1/recording")
    assert (resp.status, resp.headers["Content-Type"], await resp.read()) == (200, "audio/wav", wav.read_bytes())
    for call in ("c2", "c3", "c4"):
        assert (await get(gateway, "agent", f"{base}/{call}/recording")).status == 404
    assert (await get(gateway, "water", f"{base}/c1/recording")).status == 403
    assert (await get(gateway, "water", base)).status == 403


async def test_each_call_on_the_ticket_page_says_what_was_said_post_call_transcript_first(gateway: Gateway) -> None:
    number = await signed_ticket(gateway)
    await add_call(gateway, "c1", None)
    await add_call(gateway, "c2", None)
    async with gateway.app[SESSIONS]() as session, session.begin():
        session.add_all([
            Transcript(call_key="c1", source="live", text="我家门口路灯坏了", segments=[
                {"speaker": "citizen", "start": 1.0, "end": 3.0, "text": "我家门口路灯坏了"}]),
            Transcript(call_key="c1", source="post_call", text="您好 路灯坏了", segments=[
                {"speaker": "agent", "start": 0.2, "end": 1.0, "text": "您好"},
                {"speaker": "citizen", "start": 1.1, "end": 3.0, "text": "我家门口的路灯坏了三天了"}]),
            Transcript(call_key="c2", source="live", text="还是那个路灯", segments=[])])
    for call in ("c1", "c2"):
        await gateway.ok("agent", "POST", f"/tickets/{number}/links", {"kind": "call", "ref": call})
    calls = {c["id"]: c["transcript"] for c in (await gateway.ok("agent", "GET", f"/tickets/{number}/calls"))["items"]}
    assert calls["c1"] == [{"speaker": "agent", "start": 0.2, "text": "您好"},
                           {"speaker": "citizen", "start": 1.1, "text": "我家门口的路灯坏了三天了"}]
    assert calls["c2"] == [{"speaker": None, "start": None, "text": "还是那个路灯"}]


def part(name: str, data: bytes) -> bytes:
    return b'--x\r\nContent-Disposition: form-data; name="file"; filename="' + name.encode("latin-1") \
        + b'"\r\n\r\n' + data + b"\r\n"


@pytest.mark.parametrize(("content_type", "body"), [
    ("multipart/form-data", b"--x\r\n\r\n"),  # no boundary
    ("multipart/form-data; boundary=x", b"garbage"),
    ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc\r\n--x--\r\n'),
    ("multipart/form-data; boundary=x", part("a.png", PNG) + part("b.png", PNG) + b"--x--\r\n"),  # two files
    ("multipart/form-data; boundary=x", part("\xff\xfe.png", b"\x00") + b"--x--\r\n"),
    ("multipart/form-data; boundary=\"\xe4\"", b"--\xe4\r\n\r\n--\xe4--"),
])
async def test_malformed_multipart_bodies_are_4xx_and_keep_nothing(gateway: Gateway, tmp_path: Path,
                                                                   content_type: str, body: bytes) -> None:
    number = await signed_ticket(gateway)
    resp = await gateway.client.post(f"/api/v1/tickets/{number}/attachments", data=body, headers={
        "Authorization": f"Bearer {gateway.tokens['water']}", "Content-Type": content_type})
    assert 400 <= resp.status < 500, await resp.text()
    assert stored_files(tmp_path) == []
