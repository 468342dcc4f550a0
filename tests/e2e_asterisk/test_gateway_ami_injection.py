"""Issue 20, item 1, on a real Asterisk: the agent-token request that used to put a second, attacker-written
Originate (Application: System) on the AMI socket is refused at the HTTP edge, the gateway's AMI client
refuses the same frame on its own, and Asterisk sees no action and creates no channel."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pbx_ami import Ami
from pbx_gateway import running_gateway
from pbx_harness import Pbx

from gateway.calls.ami import UnsafeAmiField

pytestmark = pytest.mark.asterisk

ISSUE_20_BODY = {
    "kind": "survey",
    "number": "13800000000",
    "ticket_id": "T1\r\n\r\nAction: Originate\r\nChannel: Local/s@default\r\nApplication: System\r\n"
    "Data: touch pwned\r\nActionID: x",
}


async def test_the_issue_20_payload_reaches_neither_ami_nor_a_shell(pbx: Pbx, ami: Ami, tmp_path: Path) -> None:
    async with running_gateway(pbx, tmp_path / "gateway") as gw:
        status, answer = await gw.request("POST", "/calls/outbound", ISSUE_20_BODY, who="1001")
        assert status == 422 and answer["error_id"] in ("invalid-ticket-id", "validation-failed"), answer
        assert "ticket_id" in str(answer)  # the refusal names the field
        # Below the HTTP edge: the AMI client refuses the list-valued Variable that carried the CR/LF.
        with pytest.raises(UnsafeAmiField):
            await gw.svc.ami.send(
                "Originate",
                {
                    "Channel": "Local/13800000000@hotline-outbound",
                    "Context": "hotline-survey",
                    "Exten": "s",
                    "Priority": 1,
                    "Async": "true",
                    "Variable": ["HOTLINE_KIND=survey", f"HOTLINE_TICKET_ID={ISSUE_20_BODY['ticket_id']}"],
                },
            )
        assert (await gw.svc.ami.send("Ping")).fields["Response"] == "Success"  # the link is still in step
    await asyncio.sleep(1)
    assert ami.named("Newchannel") == []  # nothing was originated, neither the survey nor the injected one
    assert ami.named("OriginateResponse") == []
    assert not any(pbx.root.rglob("pwned"))
    assert not (Path.cwd() / "pwned").exists()
