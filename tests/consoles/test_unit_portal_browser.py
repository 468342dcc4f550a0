"""The unit portal (承办单位工作台) in a real headless Chromium: a unit's clerk sees a new ticket arrive in the
inbox with the caller masked, signs it, requests an extension and replies with a file attached; the
supervisor approves both in the ticket workspace, where the file can be downloaded and the call's
recording played. Only the set-up uses the API. Screenshots at 1366×768 go to test-artifacts/."""

from __future__ import annotations

import wave
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.appkeys import SESSIONS
from gateway.calls.models import CallRecord
from tests.consoles.browser import Browser
from tests.consoles.support import Gateway

pytestmark = pytest.mark.slow


async def unit_sign_in(browser: Browser, gateway: Gateway) -> None:
    await browser.open(f"{gateway.url}/console/")
    await browser.js("sessionStorage.clear(); sessionStorage.setItem('hotline.token', arguments[0])",
                     gateway.tokens["water"])
    await browser.open(f"{gateway.url}/console/unit")
    await browser.until("document.querySelector('#who').innerText === '县自来水公司'")


async def recorded_call(gateway: Gateway, tmp_path: Path, number: str) -> None:
    """The citizen's call, recorded (a short silent WAV in the recording folder) and linked to the ticket."""
    (tmp_path / "rec").mkdir(exist_ok=True)
    with wave.open(str(tmp_path / "rec" / "call-1.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(16000))
    async with gateway.app[SESSIONS]() as session, session.begin():
        session.add(CallRecord(id="call-1", state="ended", caller="13800000001", agent_id="a1001",
                               started_at=datetime.now(UTC), talk_seconds=95,
                               recording=str(tmp_path / "rec" / "call-1.wav")))
    await gateway.ok("agent", "POST", f"/tickets/{number}/links", {"kind": "call", "ref": "call-1"})


async def test_a_clerk_signs_extends_and_replies_and_the_supervisor_approves(gateway: Gateway, browser: Browser,
                                                                             tmp_path: Path) -> None:
    t = await gateway.ok("agent", "POST", "/tickets", {
        "category": "求助", "content": "人民路12号停水一天了，请回电13800000001", "caller_number": "13800000001",
        "caller_name": "王建国", "caller_address": "汉阴县城关镇人民路12号"}, status=201)
    number = t["number"]
    await recorded_call(gateway, tmp_path, number)
    evidence = tmp_path / "维修记录.pdf"
    evidence.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    await gateway.ok("agent", "POST", f"/tickets/{number}/accept", {})
    await gateway.ok("agent", "POST", f"/tickets/{number}/dispatch", {"lead_unit": "water"})

    await unit_sign_in(browser, gateway)
    row = f"#inbox tbody tr[data-number='{number}']"
    await browser.until("document.querySelector(arguments[0])", row)
    await browser.click(row)
    await browser.until("document.querySelector('#sign')")
    shown = await browser.text("#ticket")
    assert "13800000001" not in shown and "王建国" not in shown and "*******0001" in shown  # masked caller
    await browser.screenshot("unit-portal-new-ticket")

    await browser.click("#sign")
    await browser.until("document.querySelector('#ticket-number').innerText.includes('办理中')")
    await browser.set_value("#ext-days", "2")
    await browser.set_value("#ext-reason", "需更换主管道，协调施工")
    await browser.click("#extension")
    await browser.until("document.querySelector('#status').innerText.includes('申请延期：完成')")
    await browser.until("document.querySelector('#ticket').innerText.includes('需更换主管道，协调施工 — 待审核')")
    await supervisor_approves(browser, gateway, number, "extension")
    ticket = await gateway.ok("supervisor", "GET", f"/tickets/{number}")
    assert ticket["extension_count"] == 1

    await unit_sign_in(browser, gateway)
    await browser.until("document.querySelector(arguments[0])", row)
    await browser.click(row)
    await browser.until("document.querySelector('#ticket').innerText.includes('需更换主管道，协调施工 — 已同意')")
    await browser.set_value("#reply-text", "已更换主管道，恢复供水")
    await browser.attach("#reply-files", evidence)
    await browser.click("#reply")
    await browser.until("document.querySelector('#ticket-number').innerText.includes('已答复待审核')")
    await browser.until("document.querySelector('#ticket').innerText.includes('维修记录.pdf')")
    await browser.screenshot("unit-portal-replied")

    await browser.sign_in(gateway.url, gateway.tokens["supervisor"], f"tickets?ticket={number}")
    link = "#ticket .attachments a.attachment"
    await browser.until("document.querySelector(arguments[0])", link)
    assert await browser.text(link) == "维修记录.pdf"
    await browser.click(link)  # fetched with the page's token, then saved by the browser
    await browser.until("document.querySelector('#status').innerText.includes('下载附件 维修记录.pdf：完成')")
    # Pressed until the player is there: a live refresh may redraw the ticket between two polls.
    await browser.until("""(() => {
        if (document.querySelector("[data-call='call-1'] audio")?.src.startsWith('blob:')) return true;
        document.querySelector("[data-call='call-1'] button.play:not([disabled])")?.click();
        return false; })()""")
    await browser.screenshot("workspace-ticket-attachment-recording")

    await supervisor_approves(browser, gateway, number, "reply")
    ticket = await gateway.ok("supervisor", "GET", f"/tickets/{number}")
    assert (ticket["status"], ticket["reply"]["text"]) == ("surveying", "已更换主管道，恢复供水")
    [attached] = ticket["reply"]["attachments"]
    assert (attached["name"], attached["content_type"]) == ("维修记录.pdf", "application/pdf")


async def supervisor_approves(browser: Browser, gateway: Gateway, number: str, kind: str) -> None:
    """The supervisor opens the ticket in the workspace (a link with ?ticket=) and approves with one click."""
    await browser.sign_in(gateway.url, gateway.tokens["supervisor"], f"tickets?ticket={number}")
    await browser.until("document.querySelector(arguments[0])", f"[data-review={kind}-approve]")
    assert "县自来水公司" in await browser.text(".review")
    await browser.click(f"[data-review={kind}-approve]")
    await browser.until("!document.querySelector(arguments[0])", f"[data-review={kind}-approve]")
