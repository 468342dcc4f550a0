"""End to end in a real headless Chromium against the real server and the fake AMI server: the agent
console follows a call from offer to dispatch, the expert page shows a warm transfer, the supervisor's
wallboard counts the call. Screenshots of each console go to test-artifacts/screenshots/."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from gateway.speech.drafts import DraftBuilder
from gateway.speech.extract import Segmenter
from gateway.speech.lexicon import Lexicon, ResponsibilityList
from tests.consoles.browser import Browser
from tests.consoles.support import Gateway, running_gateway, transcript_events
from tests.fakes import scenarios

pytestmark = pytest.mark.slow

CALLER = "13800000001"
SPOKEN = ["你好，我家住在人民路12号", "从今天早上开始停水了，一直没有自来水", "麻烦你们赶紧派人来修一下"]


@pytest.fixture(scope="module")
def drafts() -> DraftBuilder:
    """The speech capability's own draft extraction (no ASR model needed: the text is given)."""
    return DraftBuilder(lexicon=Lexicon.load(), duties=ResponsibilityList.load(None), segmenter=Segmenter())


async def speak(gateway: Gateway, drafts: DraftBuilder, call_id: str, lines: list[str],
                heard: list[str] | None = None) -> None:
    """What the speech service publishes as the caller speaks: a final line, then the draft of everything
    heard so far (``heard``: the lines spoken before)."""
    heard = heard if heard is not None else []
    for kind, data in transcript_events(gateway, call_id, lines):
        heard.append(data["text"])
        gateway.publish(kind, **data)
        draft = await drafts.build("，".join(heard), call_key=call_id)
        gateway.publish("draft.updated", call_key=call_id, draft=draft.as_dict())
        await asyncio.sleep(0.3)


async def test_agent_console_from_offer_to_dispatch(gateway: Gateway, browser: Browser,
                                                    drafts: DraftBuilder) -> None:
    earlier = await gateway.ok("agent", "POST", "/tickets", {"category": "咨询", "content": "咨询水费缴纳方式",
                                                             "caller_number": CALLER}, status=201)
    await browser.sign_in(gateway.url, gateway.tokens["agent"], "agent")
    await browser.click("#login")
    await browser.until("document.querySelector('#seat-state').innerText.includes('空闲')")

    call_id = "1795346000.50"
    await gateway.fake.emit(*scenarios.queued_call(call_id, citizen=CALLER))
    await browser.until("document.querySelector('#queue-count').innerText.includes('排队 1 人')")
    await gateway.fake.emit(*scenarios.answered_call(call_id, citizen=CALLER, agent="1001")[3:])
    await browser.until("document.querySelector('#call-info .caller')?.innerText === arguments[0]", CALLER)
    await browser.until("document.querySelector('#history').innerText.includes(arguments[0])", earlier["number"])

    # The draft fills as the caller speaks; a field the agent edited by hand is left alone.
    heard: list[str] = []
    await speak(gateway, drafts, call_id, SPOKEN[:1], heard)
    await browser.until("document.querySelector('#draft [name=location]').value === '人民路12号'")
    await browser.set_value("#draft [name=title]", "人民路12号停水")
    await speak(gateway, drafts, call_id, SPOKEN[1:2], heard)
    await browser.until("document.querySelector('#draft [name=category]').value === 'help'")
    unit = "document.querySelector('#draft [name=unit]')"
    await browser.until(f"{unit}.options[{unit}.selectedIndex].text === '县自来水公司'")
    await speak(gateway, drafts, call_id, SPOKEN[2:], heard)
    await browser.until("document.querySelector('#draft [name=urgent]').checked")
    assert await browser.js("return document.querySelector('#draft [name=title]').value") == "人民路12号停水"
    assert "停水" in await browser.text("#draft-panel .evidence[data-for=category]")
    assert await browser.js("return document.querySelectorAll('#draft-text mark').length") >= 3
    assert (await browser.text("#transcript")).splitlines() == SPOKEN
    await browser.until("document.querySelectorAll('#kb-suggest li').length > 0")

    # A page that loses its connection reconnects and catches up without a reload.
    await browser.js("window.__notReloaded = true; window.__console.socket.ws.close()")
    gateway.publish("agent.state", agent_id="a1001", name="张敏", interface="PJSIP/1001", state="paused",
                    pause_reason="用餐")
    await browser.until("window.__console.socket.connects === 2 && window.__notReloaded")
    await browser.until("document.querySelector('#seat-state').innerText.includes('用餐')")

    # A refused operation shows the API's plain message (no 三方 without a number).
    await browser.click("#conference")
    await browser.until("document.querySelector('#status').dataset.kind === 'error'")
    assert "三方通话失败" in await browser.status() and "party" in await browser.status()

    await browser.click("#dispatch")
    await browser.until("document.querySelector('#ticket-badge').innerText.includes('已转派')")
    number = (await browser.text("#ticket-badge")).split()[1]
    await browser.screenshot("agent-console")

    seen = await gateway.ok("water", "GET", "/tickets")
    [ticket] = [t for t in seen["items"] if t["number"] == number]
    assert (ticket["status"], ticket["category"], ticket["urgent"]) == ("dispatched", "help", True)
    assert ticket["title"] == "人民路12号停水" and ticket["location"] == "人民路12号"
    assert "停水" in ticket["content"]
    assert (await gateway.ok("supervisor", "GET", f"/calls/{call_id}"))["ticket_id"] == number


async def test_agent_holds_resumes_and_hangs_up_from_the_console(gateway: Gateway, browser: Browser) -> None:
    await browser.sign_in(gateway.url, gateway.tokens["agent"], "agent")
    call_id = "1795346000.70"
    await gateway.fake.emit(*scenarios.answered_call(call_id, citizen=CALLER, agent="1001"))
    state = "document.querySelector('#call-info .call-state')?.innerText"
    await browser.until(f"{state} === '通话中'")

    await browser.click("#hold")
    (redirect,) = await gateway.fake.wait_for_action("Redirect")
    assert (redirect["Channel"], redirect["Context"]) == (scenarios.citizen_channel(call_id), "hotline-hold")
    await gateway.fake.emit(*scenarios.hold(call_id))  # what Asterisk reports once the music plays
    await browser.until(f"{state} === '保持中'")
    assert "保持开始" in await browser.text("#call-info")
    await browser.screenshot("agent-console-on-hold")

    await browser.click("#resume")
    (bridge,) = await gateway.fake.wait_for_action("Bridge")
    assert bridge["Channel2"] == scenarios.agent_channel(call_id, "1001")
    await gateway.fake.emit(*scenarios.resume(call_id))
    await browser.until(f"{state} === '通话中'")
    await browser.until("document.querySelector('#call-info').innerText.includes('1 次')")

    await browser.click("#hangup")
    (hangup,) = await gateway.fake.wait_for_action("Hangup")
    assert hangup["Channel"] == scenarios.citizen_channel(call_id)
    await gateway.fake.emit(
        scenarios.hangup(scenarios.citizen_channel(call_id), call_id, call_id),
        scenarios.hangup(scenarios.agent_channel(call_id, "1001"), "1795346000.71", call_id),
    )
    await browser.until(f"{state} === '已结束'")

    # The call is over: a late click is refused with the reason, in plain words.
    await browser.click("#hold")
    await browser.until("document.querySelector('#status').dataset.kind === 'error'")
    assert "the call has ended" in await browser.status()
    assert len(gateway.fake.actions("Redirect")) == 1


@pytest.fixture(scope="module")
def understood_drafts(tmp_path_factory: pytest.TempPathFactory) -> DraftBuilder:
    """Drafts overlaid with the trained understanding pipeline (trained here from the shipped corpus)."""
    from gateway.understanding.pipeline import Understander

    understander = Understander.load(data_dir=tmp_path_factory.mktemp("understanding"))
    return DraftBuilder(lexicon=Lexicon.load(), duties=ResponsibilityList.load(None), segmenter=Segmenter(),
                        understander=understander)


async def test_agent_console_shows_each_fields_evidence_confidence_and_the_top_3_units_with_reasons(
        gateway: Gateway, browser: Browser, understood_drafts: DraftBuilder) -> None:
    await browser.sign_in(gateway.url, gateway.tokens["agent"], "agent")
    call_id = "1795346000.55"
    await gateway.fake.emit(*scenarios.answered_call(call_id, citizen="13800000005", agent="1001"))
    await gateway.settle()
    spoken = ["喂 我住在递铺街道阳光花园", "小区门口那个路灯坏了快一个月了 晚上黑乎乎的"]
    await speak(gateway, understood_drafts, call_id, spoken)

    line = "document.querySelector('#draft-panel .evidence[data-for=%s]').innerText"
    await browser.until(f"{line % 'unit'}.includes('建议单位')")
    category = await browser.text("#draft-panel .evidence[data-for=category]")
    assert "依据：" in category and "置信度" in category and "事项：城乡建设/路灯照明" in category
    assert "置信度" in await browser.text("#draft-panel .evidence[data-for=place]")
    assert "置信度" in await browser.text("#draft-panel .evidence[data-for=urgency]")
    units = (await browser.text("#draft-panel .evidence[data-for=unit]")).partition("建议单位：")[2]
    assert units.count("职责清单：") == 3  # three units, each with its reasons
    assert units.count("%：") == 3  # and its score
    await browser.screenshot("agent-console-understood")


async def test_expert_page_shows_the_draft_and_the_agents_note_before_the_citizen_is_connected(
        gateway: Gateway, browser: Browser, drafts: DraftBuilder) -> None:
    await browser.sign_in(gateway.url, gateway.tokens["expert"], "expert")
    call_id = "1795346000.60"
    await gateway.fake.emit(*scenarios.answered_call(call_id, citizen="13800000006", agent="1001"))
    await gateway.settle()
    await speak(gateway, drafts, call_id, ["我在工地干了三个月，老板一直拖欠工资不给", "我想咨询一下该怎么办"])
    # The agent's side, as its console does it: register the ticket, write a note, link, consult.
    ticket = await gateway.ok("agent", "POST", "/tickets", {"category": "求助", "content": "工地拖欠工资三个月",
                                                            "title": "拖欠工资", "caller_number": "13800000006",
                                                            "call_ref": call_id}, status=201)
    number = ticket["number"]
    await gateway.ok("agent", "POST", f"/tickets/{number}/notes", {"text": "市民想先了解仲裁流程"}, status=201)
    await gateway.ok("agent", "PUT", f"/calls/{call_id}/ticket", {"ticket_id": number})
    await gateway.ok("agent", "POST", f"/calls/{call_id}/expert", {"expert": "12333"})

    card = f"#consults [data-call='{call_id}']"
    await browser.until(f"document.querySelector(\"{card}\")?.innerText.includes('市民想先了解仲裁流程')")
    shown = await browser.text(card)
    assert "人社 12333" in shown and "工地拖欠工资三个月" in shown and number in shown
    assert "拖欠工资" in await browser.text(f"{card} .source")  # the speech draft, evidence marked

    await browser.set_value(f"{card} textarea", "建议先申请劳动仲裁")
    await browser.click(f"{card} .row button")
    await browser.until(f"document.querySelector(\"{card}\").innerText.includes('建议先申请劳动仲裁')")
    notes = (await gateway.ok("supervisor", "GET", f"/tickets/{number}/notes"))["items"]
    assert [n["role"] for n in notes] == ["agent", "expert"]
    await browser.screenshot("expert-console")
    await browser.click(f"{card} button.primary")
    await browser.until("document.querySelector('#status').innerText.includes('接受转接：完成')")
    hangups = gateway.fake.actions("Hangup")  # completing an attended transfer hangs up the agent leg
    assert hangups and hangups[-1]["Channel"] == scenarios.agent_channel(call_id, "1001")


async def test_supervisor_wallboard_counts_the_call_and_reviews_a_return(gateway: Gateway, browser: Browser) -> None:
    await gateway.ok("supervisor", "POST", "/agents/a1001/login", {})
    await gateway.fake.emit(*scenarios.answered_call("1795346000.70", citizen="13800000007", agent="1001"))
    await gateway.fake.emit(*scenarios.queued_call("1795346000.80", citizen="13800000008"))
    await gateway.settle()
    number = await returned_ticket(gateway)
    await replied_ticket(gateway)

    # Signing in through the form this time.
    await browser.open(f"{gateway.url}/console/supervisor")
    await browser.until("!document.querySelector('#signin').hidden")
    await browser.set_value("#token", gateway.tokens["supervisor"])
    await browser.click("#signin button[type=submit]")
    await browser.until("document.querySelector('#link').dataset.state === 'online'")

    await browser.until("document.querySelector('#tiles').innerText.includes('排队人数')")
    tiles = await browser.js("return [...document.querySelectorAll('#tiles .tile')].map(t => t.innerText)")
    assert any(t.startswith("1\n") and "排队人数" in t for t in tiles)
    assert any(t.startswith("2（1）") and "今日来电" in t for t in tiles)
    assert "1795346000.70" in await browser.text("#agents")

    await browser.set_value("#extension", "2001")
    await browser.click("#agents tr[data-agent=a1001] button")  # 监听
    await browser.until("document.querySelector('#status').innerText.includes('监听 a1001：完成')")
    spy = gateway.fake.actions("Originate")[-1]
    assert (spy["Channel"], spy["Context"], spy["Exten"]) == ("PJSIP/2001", "hotline-spy", "listen")

    gateway.publish("hotspot.warning", call_keys=["x", "y", "z"], category="求助", place="人民路",
                    unit="县自来水公司")
    await browser.until("document.querySelector('#alerts').innerText.includes('人民路')")
    await browser.until("document.querySelectorAll('#charts svg').length === 5")
    assert await browser.js("return document.querySelectorAll('#charts rect.bar').length") >= 2

    row = "#reviews tr[data-request] td:first-child"
    await browser.until(f"document.querySelector('{row}')?.innerText === arguments[0]", number)
    review = await browser.text("#reviews")
    assert "县自来水公司" in review and "规则：退单须在派单后" in review  # the unit's name, the rule applied
    await browser.click("#performance-period button[type=submit]")
    await browser.until("document.querySelector('#performance tr[data-agent=a1001]')")
    assert "登记工单" in await browser.text("#performance") and "质检均分" in await browser.text("#performance")
    await browser.screenshot("supervisor-console")
    await browser.click("#reviews tr[data-request] button.primary")
    await browser.until("document.querySelector('#reviews').innerText.includes('没有待审核的申请')")
    assert (await gateway.ok("supervisor", "GET", f"/tickets/{number}"))["status"] == "accepted"


async def returned_ticket(gateway: Gateway) -> str:
    new: dict[str, Any] = {"category": "投诉", "content": "小区路灯不亮", "caller_number": "13800000009"}
    number = (await gateway.ok("agent", "POST", "/tickets", new, status=201))["number"]
    await gateway.ok("agent", "POST", f"/tickets/{number}/accept", {})
    await gateway.ok("agent", "POST", f"/tickets/{number}/dispatch", {"lead_unit": "water"})
    await gateway.ok("water", "POST", f"/tickets/{number}/sign")
    await gateway.ok("water", "POST", f"/tickets/{number}/return", {"reason": "路灯不归自来水公司管",
                                                                     "basis": "县城市管理局三定方案"})
    return str(number)




async def replied_ticket(gateway: Gateway) -> None:
    """A ticket answered in time: the on-time chart has a bar."""
    new: dict[str, Any] = {"category": "求助", "content": "楼道灯坏了", "caller_number": "13800000010"}
    number = (await gateway.ok("agent", "POST", "/tickets", new, status=201))["number"]
    await gateway.ok("agent", "POST", f"/tickets/{number}/accept", {})
    await gateway.ok("agent", "POST", f"/tickets/{number}/dispatch", {"lead_unit": "water"})
    await gateway.ok("water", "POST", f"/tickets/{number}/sign")
    await gateway.ok("water", "POST", f"/tickets/{number}/reply", {"text": "已派人更换"})


async def test_without_a_telephone_system_the_call_buttons_are_off_and_say_why(tmp_path: Path,
                                                                               browser: Browser) -> None:
    async with running_gateway(tmp_path, None) as gateway:
        await browser.sign_in(gateway.url, gateway.tokens["agent"], "agent")
        await browser.until("document.querySelector('#sys-pbx').dataset.up === 'no'")
        assert "电话系统未接入" in await browser.text("#sys-pbx")
        assert "实时转写未开启" in await browser.text("#sys-asr")
        buttons = await browser.js("return [...document.querySelectorAll('#call .ops button')]"
                                   ".map(b => [b.disabled, b.title])")
        assert buttons and all(off and "电话系统" in why for off, why in buttons)
        assert (await browser.text("#link")).startswith("页面推送")
