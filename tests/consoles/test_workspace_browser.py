"""The ticket workspace in a real headless Chromium, against the real server: an agent finds a ticket
whose 退单 was approved through its worklist and re-dispatches it; a supervisor approves a unit's extension
request from the same page; a ticket typed in without a call gets its survey. Only the set-up uses the API.
Screenshots at 1366×768 go to test-artifacts/."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.appkeys import SESSIONS
from gateway.sms.models import SmsMessage
from gateway.surveys.service import SURVEYS
from tests.consoles.browser import Browser
from tests.consoles.support import Gateway

pytestmark = pytest.mark.slow


async def returned_ticket(gateway: Gateway) -> str:
    """Dispatched to the water company, returned by it, the return approved: back to 已受理."""
    t = await gateway.ok("agent", "POST", "/tickets", {"category": "求助", "content": "人民路12号停水一天了",
                                                       "caller_number": "13800000001"}, status=201)
    number = t["number"]
    await gateway.ok("agent", "POST", f"/tickets/{number}/accept", {})
    await gateway.ok("agent", "POST", f"/tickets/{number}/dispatch", {"lead_unit": "water"})
    await gateway.ok("water", "POST", f"/tickets/{number}/return",
                     {"reason": "该路段供水由住建局管理", "basis": "三定方案"})
    await gateway.ok("supervisor", "POST", f"/tickets/{number}/return/review", {"approve": True, "note": "同意"})
    return number


async def test_agent_finds_a_returned_ticket_in_its_worklist_and_redispatches_it(
        gateway: Gateway, browser: Browser) -> None:
    number = await returned_ticket(gateway)
    await browser.sign_in(gateway.url, gateway.tokens["agent"], "tickets")
    todo = "document.querySelector('#worklists [data-name=to_dispatch]')"
    await browser.until(f"{todo}?.innerText.includes('待转派') && {todo}.querySelector('.count').innerText === '1'")
    await browser.click("#worklists [data-name=to_dispatch]")
    await browser.until("document.querySelector('#results-title').innerText.includes('待转派')")
    row = f"#results tbody tr[data-number='{number}']"
    await browser.until("document.querySelector(arguments[0])", row)
    await browser.click(row)
    await browser.until("document.querySelector('#ticket-number').innerText.includes('已受理')")
    timeline = await browser.text(".timeline")
    assert "申请退单" in timeline and "该路段供水由住建局管理" in timeline and "同意退单" in timeline
    assert "县自来水公司" in timeline  # units by name, not id
    await browser.screenshot("workspace-returned-ticket")

    await browser.js("document.querySelector('#dispatch-unit').value = 'housing'")
    await browser.click("#dispatch")
    await browser.until("document.querySelector('#ticket-number').innerText.includes('已转派')")
    await browser.until(f"{todo}.querySelector('.count').innerText === '0'")
    ticket = await gateway.ok("agent", "GET", f"/tickets/{number}")
    assert (ticket["status"], ticket["lead_unit"]) == ("dispatched", "housing")


async def test_search_by_caller_and_keyboard_opens_the_ticket(gateway: Gateway, browser: Browser) -> None:
    number = await returned_ticket(gateway)
    other = await gateway.ok("agent", "POST", "/tickets", {"category": "咨询", "content": "咨询公积金提取",
                                                           "caller_number": "13900000002"}, status=201)
    await browser.sign_in(gateway.url, gateway.tokens["agent"], "tickets")
    await browser.until("document.querySelector('#results-title').innerText.includes('全部工单')")
    await browser.set_value("#search [name=caller]", "138 0000 0001")
    await browser.click("#search button[type=submit]")
    await browser.until("document.querySelectorAll('#results tbody tr').length === 1")
    assert await browser.js("return document.querySelector('#results tbody tr').dataset.number") == number
    await browser.js("document.querySelector('#results tbody tr').focus()")
    await browser.js("document.activeElement.dispatchEvent("
                     "new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}))")
    await browser.until("document.querySelector('#ticket-number').innerText.includes(arguments[0])", number)
    assert other["number"] not in await browser.text("#results")


async def test_supervisor_approves_an_extension_with_the_units_name_and_reason(
        gateway: Gateway, browser: Browser) -> None:
    t = await gateway.ok("agent", "POST", "/tickets", {"category": "投诉", "content": "小区水压低",
                                                       "caller_number": "13800000003"}, status=201)
    number = t["number"]
    await gateway.ok("agent", "POST", f"/tickets/{number}/accept", {})
    await gateway.ok("agent", "POST", f"/tickets/{number}/dispatch", {"lead_unit": "water"})
    await gateway.ok("water", "POST", f"/tickets/{number}/sign")
    await gateway.ok("water", "POST", f"/tickets/{number}/extension", {"working_days": 2, "reason": "需更换主管道"},
                     status=201)
    await browser.sign_in(gateway.url, gateway.tokens["supervisor"], "tickets")
    await browser.click("#worklists [data-name=to_review]")
    await browser.until("document.querySelector(arguments[0])", f"#results tbody tr[data-number='{number}']")
    await browser.click(f"#results tbody tr[data-number='{number}']")
    await browser.until("document.querySelector('.review')")
    review = await browser.text(".review")
    assert "县自来水公司" in review and "需更换主管道" in review
    await browser.screenshot("workspace-supervisor-review")
    await browser.click("[data-review=extension-approve]")
    await browser.until("document.querySelector('#status').innerText.includes('同意延期：完成')")
    ticket = await gateway.ok("supervisor", "GET", f"/tickets/{number}")
    assert ticket["extension_count"] == 1


async def test_a_ticket_made_without_a_call_reaches_the_citizen_with_its_survey(gateway: Gateway,
                                                                               browser: Browser) -> None:
    """A walk-in: the agent types the caller's number and the matter on the agent page, dispatches, takes
    the next ticket; when the unit has replied the survey SMS goes to that number."""
    await browser.sign_in(gateway.url, gateway.tokens["agent"], "agent")
    await browser.set_value("#draft [name=caller_number]", "139 0000 0009")
    await browser.set_value("#draft [name=caller_name]", "赵女士")
    await browser.set_value("#draft [name=caller_address]", "县城关镇人民路3号")
    await browser.js("document.querySelector('#draft [name=disclose_caller]').checked = true")
    await browser.js("document.querySelector('#draft [name=channel]').value = 'other'")
    await browser.js("document.querySelector('#draft [name=category]').value = 'help'")
    # The place from the county's divisions: a township, then one of its communities.
    divisions = await gateway.ok("agent", "GET", "/places/divisions")
    town = next(t for t in divisions["townships"] if t["communities"])
    await browser.until("document.querySelectorAll('#place-town option').length > 1")
    await browser.set_value("#place-town", town["name"])
    await browser.set_value("#place-community", town["communities"][0])
    place = divisions["county"] + town["name"] + town["communities"][0]
    assert await browser.js("return document.querySelector('#draft [name=location]').value") == place
    await browser.set_value("#draft [name=matter]", "停水")
    await browser.set_value("#draft [name=content]", "来访：人民路3号停水两天")
    await browser.js("document.querySelector('#draft [name=unit]').value = 'water'")
    await browser.screenshot("agent-walk-in-ticket")
    await browser.click("#dispatch")
    await browser.until("document.querySelector('#ticket-badge').innerText.includes('已转派')")
    number = (await browser.text("#ticket-badge")).split()[1]
    await browser.click("#next-ticket")
    await browser.until("document.querySelector('#ticket-badge').innerText === '未登记'")
    assert await browser.js("return document.querySelector('#draft [name=caller_number]').value") == ""

    ticket = await gateway.ok("agent", "GET", f"/tickets/{number}")
    assert ticket["caller"] == {"number": "+8613900000009", "name": "赵女士", "address": "县城关镇人民路3号",
                                "masked": False}
    assert (ticket["channel"], ticket["elements"]["matter"], ticket["lead_unit"]) == ("other", "停水", "water")
    assert ticket["location"] == place
    await gateway.ok("water", "POST", f"/tickets/{number}/sign")
    await gateway.ok("water", "POST", f"/tickets/{number}/reply", {"text": "已恢复供水"})
    await gateway.ok("supervisor", "POST", f"/tickets/{number}/reply/review", {"approve": True, "note": "同意"})
    assert await gateway.app[SURVEYS].open_pending() == [number]
    async with gateway.app[SESSIONS]() as session:
        texts = list(await session.scalars(select(SmsMessage.text).where(SmsMessage.to_number == "+8613900000009")))
    assert len(texts) == 1 and number in texts[0]

    # The ticket page shows what reached the citizen.
    await browser.sign_in(gateway.url, gateway.tokens["agent"], f"tickets?ticket={number}")
    await browser.until("document.querySelector('.contacts')?.innerText.includes('短信 → +8613900000009')")
    assert "回访（第 1 轮，sms）：待回复" in await browser.text(".contacts")
    await browser.screenshot("workspace-survey-history")
