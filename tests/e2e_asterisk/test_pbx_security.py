"""The gateway's AMI user on a real Asterisk cannot run a shell: every way Originate (or another action the
user may send) could start a program or write a file is refused, and no file appears (issue 20, item 1).

The user has no `system` write class (manager.conf), so Asterisk's Originate blacklist applies to it;
live_dangerously = no (asterisk.conf) keeps dangerous functions away from AMI sessions besides."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pbx_ami import Ami
from pbx_harness import Pbx

pytestmark = pytest.mark.asterisk

# Local/s@hotline-survey answers: were an application let through, it would run.
ANSWERING = "Local/s@hotline-survey"


def attempts(marker: Path) -> list[tuple[str, str]]:
    """(Application, Data) an attacker on the gateway's AMI link would try."""
    return [
        ("System", f"touch {marker}"),
        ("system", f"/usr/bin/touch {marker}"),
        ("TrySystem", f"touch {marker}"),
        ("Exec", f"System(touch {marker})"),
        ("ExecIf", f"1?System(touch {marker})"),
        ("AGI", f"/usr/bin/touch,{marker}"),
        ("EAGI", f"/usr/bin/touch,{marker}"),
        ("MixMonitor", f"{marker.with_name('pwned.wav')},,touch {marker}"),
        ("Originate", f"Local/s@hotline-survey,app,System,touch {marker}"),
        ("NoOp", f"${{SHELL(touch {marker})}}"),
        ("Set", f"X=${{SHELL(touch {marker})}}"),
        ("Set", f"FILE({marker})=pwned"),
        ("NoOp", f"${{EVAL(${{SHELL(touch {marker})}})}}"),
        ("Queue", "hotline,,,,,/usr/bin/touch"),
    ]


async def test_originate_into_a_shell_is_refused_for_the_gateway_user(pbx: Pbx, ami: Ami) -> None:
    marker = pbx.root / "pwned"
    for application, data in attempts(marker):
        reply = await ami.action("Originate", Channel=ANSWERING, Application=application, Data=data, Async="true")
        assert reply["Response"] == "Error", (application, data, reply)
        assert "Forbidden" in reply.get("Message", ""), (application, data, reply)
    await asyncio.sleep(2)  # an application let through would have run by now
    assert not marker.exists()
    assert not marker.with_name("pwned.wav").exists()


async def test_actions_that_run_a_program_or_read_a_shell_are_refused(pbx: Pbx, ami: Ami) -> None:
    marker = pbx.root / "pwned"
    # The AMI MixMonitor action takes a shell Command; it needs `system`, which the gateway user lacks.
    mixmonitor = await ami.action(
        "MixMonitor", Channel="PJSIP/1001-00000001", File="x.wav", Command=f"touch {marker}"
    )
    assert mixmonitor["Response"] == "Error" and "Permission denied" in mixmonitor.get("Message", "")
    getvar = await ami.action("Getvar", Variable=f"SHELL(touch {marker})")
    assert getvar["Response"] == "Error", getvar
    command = await ami.action("Command", Command=f"!touch {marker}")
    assert command["Response"] == "Error" and "Permission denied" in command.get("Message", "")
    await asyncio.sleep(1)
    assert not marker.exists()


async def test_originate_into_the_fixed_contexts_still_works(pbx: Pbx, ami: Ami) -> None:
    """What the gateway does (Context/Exten, no Application) is untouched by the restrictions."""
    reply = await ami.action(
        "Originate", Channel="Local/s@hotline-spy-check", Context="hotline-spy", Exten="listen", Priority="1",
        Async="true",
    )
    assert reply["Response"] == "Success", reply
