"""AmiClient: our narrow interface to AMI, against a fake Asterisk speaking the real wire format."""

from __future__ import annotations

import asyncio

import pytest

from gateway.calls.ami import (
    LINK_DOWN,
    LINK_UP,
    AmiClient,
    AmiEvent,
    AsteriskRefused,
    AsteriskUnavailable,
    OutcomeUnknown,
    QuietRepeats,
    UnsafeAmiField,
    encode_action,
)
from tests.calls.conftest import fast_ami_settings
from tests.fakes.fake_ami import FakeAmi, Reply, capture_frames, frame, parse_frames


async def next_events(client: AmiClient, count: int, within: float = 5.0) -> list[AmiEvent]:
    out: list[AmiEvent] = []
    async with asyncio.timeout(within):
        while len(out) < count:
            out.append(await client.events.get())
    return out


async def drain_until(client: AmiClient, name: str, within: float = 5.0) -> list[AmiEvent]:
    out: list[AmiEvent] = []
    async with asyncio.timeout(within):
        while not out or out[-1]["Event"] != name:
            out.append(await client.events.get())
    return out


async def test_events_keep_asterisk_order_whatever_the_tcp_reads(fake_ami: FakeAmi, ami: AmiClient) -> None:
    await drain_until(ami, "FullyBooted")
    sent = await fake_ami.replay("attended_transfer.ami", chunk=7)
    received = await next_events(ami, sent)
    expected = [parse_frames(f)[0] for f in capture_frames("attended_transfer.ami")]
    assert [e["Event"] for e in received] == [e["Event"] for e in expected]
    assert [e.get("Uniqueid") for e in received] == [e.get("Uniqueid") for e in expected]


async def test_list_actions_return_rows_and_queueadd_does_not_hang(fake_ami: FakeAmi, ami: AmiClient) -> None:
    added = await ami.send("QueueAdd", {"Queue": "hotline", "Interface": "PJSIP/1001", "MemberName": "Li"})
    assert added.message == "Added interface to queue"
    status = await ami.send("QueueStatus")
    assert [row["Event"] for row in status.events] == ["QueueMember"]
    assert status.events[0]["Location"] == "PJSIP/1001"
    fake_ami.on("Atxfer", lambda s, a: Reply({"Message": "Atxfer successfully queued"}))
    atxfer = await ami.send("Atxfer", {"Channel": "PJSIP/1001-00000005", "Exten": "12333"})
    assert atxfer.fields["Response"] == "Success"


async def test_an_unanswered_action_times_out_as_unavailable(fake_ami: FakeAmi, ami: AmiClient) -> None:
    fake_ami.on("Redirect", lambda s, a: None)
    with pytest.raises(AsteriskUnavailable, match="did not answer Redirect"):
        await ami.send("Redirect", {"Channel": "PJSIP/citizen-1", "Context": "x", "Exten": "1"})


async def test_an_error_response_is_a_refusal_with_asterisks_words(ami: AmiClient) -> None:
    with pytest.raises(AsteriskRefused, match="No Conference by that name found") as info:
        await ami.send("ConfbridgeList", {"Conference": "404"})
    assert info.value.status == 409


async def test_actions_refused_plainly_while_disconnected() -> None:
    client = AmiClient(fast_ami_settings(1), secret="x")  # nothing listens on port 1
    client.start()
    try:
        await asyncio.sleep(0.1)
        assert not client.connected
        assert "PBX link down" in (client.problem() or "")
        with pytest.raises(AsteriskUnavailable) as info:
            await client.send("Ping")
        assert info.value.error_id == "asterisk-unavailable"
        assert info.value.status == 503
    finally:
        await client.close()


async def test_a_wrong_secret_is_reported_and_retried(fake_ami: FakeAmi) -> None:
    client = AmiClient(fast_ami_settings(fake_ami.port), secret="wrong")
    client.start()
    try:
        await fake_ami.wait_for_action("Login", count=2)
        assert not client.connected
        assert "login refused" in (client.problem() or "")
        fake_ami.secret = "wrong"
        await client.wait_connected(5)
    finally:
        await client.close()


async def test_an_idempotency_key_sends_the_action_once(fake_ami: FakeAmi, ami: AmiClient) -> None:
    fields = {
        "Channel": "Local/13800000000@hotline-outbound",
        "Context": "hotline-survey",
        "Exten": "s",
        "Priority": 1,
        "Async": "true",
    }
    first, second = await asyncio.gather(
        ami.send("Originate", fields, key="survey-42"), ami.send("Originate", fields, key="survey-42")
    )
    third = await ami.send("Originate", fields, key="survey-42")
    assert first is second is third
    assert len(fake_ami.actions("Originate")) == 1
    await ami.send("Originate", fields, key="survey-43")
    assert len(fake_ami.actions("Originate")) == 2


async def test_a_refused_keyed_action_may_be_retried(fake_ami: FakeAmi, ami: AmiClient) -> None:
    fake_ami.on("Redirect", lambda s, a: Reply({"Response": "Error", "Message": "Channel not found"}))
    fields = {"Channel": "PJSIP/gone", "Context": "c", "Exten": "1", "Priority": 1}
    with pytest.raises(AsteriskRefused):
        await ami.send("Redirect", fields, key="k")
    with pytest.raises(AsteriskRefused):
        await ami.send("Redirect", fields, key="k")
    assert len(fake_ami.actions("Redirect")) == 2


async def test_an_action_in_flight_when_the_link_drops_is_never_resent(
    fake_ami: FakeAmi, ami: AmiClient
) -> None:
    fake_ami.on("Originate", lambda s, a: None)  # Asterisk got it but the reply is lost with the link
    fields = {"Channel": "PJSIP/1001", "Context": "hotline-callback", "Exten": "13800000000", "Priority": 1}
    pending = asyncio.create_task(ami.send("Originate", fields, key="callback-7"))
    await fake_ami.wait_for_action("Originate")
    fake_ami.drop_all()
    with pytest.raises(AsteriskUnavailable, match="dropped"):
        await pending
    await fake_ami.wait_logged_in()
    await ami.wait_connected(5)
    await asyncio.sleep(0.1)
    assert len(fake_ami.actions("Originate")) == 1  # panoramisk's Manager would have sent it again here
    with pytest.raises(OutcomeUnknown):
        await ami.send("Originate", fields, key="callback-7")
    assert len(fake_ami.actions("Originate")) == 1


async def test_the_watchdog_drops_a_silent_link_and_reconnects(fake_ami: FakeAmi, ami: AmiClient) -> None:
    await drain_until(ami, "FullyBooted")
    fake_ami.go_silent()  # TCP stays open, nothing answers: half-open
    down = await drain_until(ami, LINK_DOWN, within=3)
    assert down[-1]["Event"] == LINK_DOWN
    up = await drain_until(ami, LINK_UP, within=3)
    assert up[-1]["Connects"] == 2
    assert ami.connected


async def test_malformed_frames_and_unknown_events_do_not_stop_the_stream(
    fake_ami: FakeAmi, ami: AmiClient
) -> None:
    await drain_until(ami, "FullyBooted")
    await fake_ami.emit(
        "this is not an AMI frame\r\nno colon here\r\n\r\n",
        {"Event": "SomethingFromAsterisk23", "Foo": "bar"},
        b"\xff\xfe garbage\r\n\r\n",
        {"Event": "Hangup", "Uniqueid": "1.1", "Linkedid": "1.1", "Cause": "16"},
    )
    events = await drain_until(ami, "Hangup")
    assert [e["Event"] for e in events] == ["SomethingFromAsterisk23", "Hangup"]
    assert ami.malformed == 2


async def test_chinese_caller_names_survive_split_reads_and_gbk(fake_ami: FakeAmi, ami: AmiClient) -> None:
    await drain_until(ami, "FullyBooted")
    utf8 = frame(Event="Newchannel", Uniqueid="1.1", Linkedid="1.1", CallerIDName="张三").encode("utf-8")
    cut = utf8.index("张".encode()) + 1  # in the middle of a three-byte character
    session = await fake_ami.wait_logged_in()
    await session.send(utf8[:cut])
    await asyncio.sleep(0.05)
    await session.send(utf8[cut:])
    gbk = frame(Event="Newchannel", Uniqueid="1.2", Linkedid="1.2").encode()[
        :-2
    ] + "CallerIDName: 李四\r\n\r\n".encode("gbk")
    await session.send(gbk)
    first, second = await next_events(ami, 2)
    assert first["CallerIDName"] == "张三"
    assert second["CallerIDName"] == "李四"


# The ticket id of issue 20, as an agent token could post it to /api/v1/calls/outbound.
INJECTED_TICKET = (
    "T1\r\n\r\nAction: Originate\r\nChannel: Local/s@default\r\nApplication: System\r\n"
    "Data: touch pwned\r\nActionID: x"
)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"Variable": ["HOTLINE_KIND=survey", f"HOTLINE_TICKET_ID={INJECTED_TICKET}"]}, id="list value"),
        pytest.param({"Variable": {"HOTLINE_TICKET_ID": INJECTED_TICKET}}, id="dict value"),
        pytest.param({"Variable": {INJECTED_TICKET: "1"}}, id="dict key"),
        pytest.param({"Channel": "Local/1@x\r\nAction: Hangup"}, id="str value"),
        pytest.param({"Channel": "Local/1@x\nAction: Hangup"}, id="bare LF"),
        pytest.param({"Channel": "Local/1@x\rAction: Hangup"}, id="bare CR"),
        pytest.param({"Channel": "Local/1@x\x00"}, id="NUL"),
        pytest.param({"Channel": "Local/1@x\x85Action: Hangup"}, id="NEL"),
        pytest.param({"Channel": "Local/1@x\u2028Action: Hangup"}, id="line separator"),
        pytest.param({"Data\r\nAction: Hangup\r\nX": "1"}, id="header name"),
        pytest.param({"Channel: Local/2@x\r\nExten": "1"}, id="colon in name"),
        pytest.param({"Priority": 1.5}, id="float"),
        pytest.param({"Variable": [["nested"]]}, id="nested list"),
    ],
)
async def test_an_unsafe_field_of_any_type_is_refused_and_nothing_is_written(
    fake_ami: FakeAmi, ami: AmiClient, fields: dict[str, object]
) -> None:
    with pytest.raises(UnsafeAmiField) as refused:
        await ami.send("Originate", {"Channel": "Local/13800000000@hotline-outbound", "Exten": "s", **fields})
    assert refused.value.status == 422 and refused.value.error_id == "unsafe-ami-field"
    await ami.send("Ping")  # the link is still in step: the next action gets its own reply
    assert [a["Action"] for a in fake_ami.received] == ["Login", "Ping"]


async def test_a_refused_keyed_action_can_be_sent_again_once_fixed(fake_ami: FakeAmi, ami: AmiClient) -> None:
    bad = {"Channel": "Local/13800000000@hotline-outbound", "Variable": [f"HOTLINE_TICKET_ID={INJECTED_TICKET}"]}
    for _ in range(2):  # the same key again: refused again, not left waiting for a reply that never comes
        with pytest.raises(UnsafeAmiField):
            await asyncio.wait_for(ami.send("Originate", bad, key="outbound-1"), 2)
    reply = await ami.send("Originate", {**bad, "Variable": ["HOTLINE_TICKET_ID=T1"]}, key="outbound-1")
    assert reply.fields["Response"] == "Success"
    assert [a["Variable"] for a in fake_ami.actions("Originate")] == ["HOTLINE_TICKET_ID=T1"]


def test_the_encoder_writes_one_line_per_list_item_and_dict_entry() -> None:
    frame = encode_action(
        {"Action": "Originate", "Priority": 1, "Async": True, "Variable": ["A=1", "B=2"], "Codecs": {"C": "x"}}
    )
    assert frame == (
        "Action: Originate\r\nPriority: 1\r\nAsync: true\r\nVariable: A=1\r\nVariable: B=2\r\n"
        "Codecs: C=x\r\n\r\n"
    )
    assert encode_action({"CallerIDName": "张三 (12345)"}) == "CallerIDName: 张三 (12345)\r\n\r\n"


def test_a_warning_that_stays_true_is_repeated_at_growing_intervals() -> None:
    quiet = QuietRepeats(first=60, most=240)
    reported = [(t, n) for t in range(0, 1000, 10) if (n := quiet.due(float(t))) is not None]
    # at once, then 60 s later, then 120 s, then every 240 s; each report counts what it summarises
    assert reported == [(0, 1), (60, 6), (180, 12), (420, 24), (660, 24), (900, 24)]
