"""Run SIPp scenarios from tests/sip/ as the citizens, seats and trunks of a test."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from pbx_harness import SIP_DIR, TRUNK_IPS, Pbx, free_port


def _udp_free(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((ip, port))
        except OSError:
            return False
    return True


def find_sipp() -> str | None:
    return shutil.which("sipp")


@dataclass
class Sipp:
    name: str
    process: asyncio.subprocess.Process
    logs: Path

    async def wait(self, within: float = 20) -> int:
        return await asyncio.wait_for(self.process.wait(), within)

    async def stop(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()

    def report(self) -> str:
        """What this SIPp said about itself, for a failure message: whether it still runs, its output."""
        state = "running" if self.process.returncode is None else f"exited {self.process.returncode}"
        tail = "\n".join((self.log("stdout") + self.log("errors")).splitlines()[-12:])
        return f"SIPp {self.name} ({state}):\n{tail}"

    def log(self, kind: str = "log") -> str:
        """kind: log (scenario <log> actions), errors, messages, stdout."""
        path = self.logs / f"{self.name}.{kind}"
        return path.read_text(errors="replace") if path.exists() else ""


class SippRunner:
    """Starts SIPp processes against one Asterisk and stops whatever is left at the end."""

    def __init__(self, pbx: Pbx, logs: Path) -> None:
        self.pbx, self.logs = pbx, logs
        self.running: list[Sipp] = []
        self._booked: set[int] = set(pbx.trunk_ports.values())  # the trunks' far ends bind these
        logs.mkdir(parents=True, exist_ok=True)

    def _ports(self, ip: str, count: int) -> int:
        """The first of ``count`` ports two apart (SIPp binds its media on m and m + 2), all free now and
        none given to another SIPp of this test: a port found free is bound only once the process has
        started, and a clash kills that SIPp before it sends anything."""
        while True:
            first = free_port(host=ip) & ~1
            ports = {first + 2 * n for n in range(count)}
            if not ports & self._booked and all(_udp_free(ip, port) for port in ports):
                self._booked |= ports
                return first

    async def run(
        self,
        name: str,
        scenario: str,
        *args: str,
        ip: str = "127.0.0.1",
        port: int = 0,
        ooc: str | None = None,
    ) -> Sipp:
        port = port or self._ports(ip, 1)
        media = self._ports(ip, 2)
        command = [
            "sipp",
            f"127.0.0.1:{self.pbx.sip_port}",
            "-sf",
            scenario,
            "-i",
            ip,
            "-p",
            str(port),
            "-mi",
            ip,
            "-mp",
            str(media),
            "-m",
            "1",
            "-nostdin",
            "-aa",
            "-timeout",
            "120s",
            "-trace_err",
            "-error_file",
            str(self.logs / f"{name}.errors"),
            "-trace_msg",
            "-message_file",
            str(self.logs / f"{name}.messages"),
            "-trace_logs",
            "-log_file",
            str(self.logs / f"{name}.log"),
            *(("-oocsf", ooc) if ooc else ()),
            *args,
        ]
        out = (self.logs / f"{name}.stdout").open("wb")
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=SIP_DIR,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
        out.close()
        sipp = Sipp(name, process, self.logs)
        self.running.append(sipp)
        return sipp

    async def seat(self, seat: str) -> Sipp:
        """A registered seat phone (agent, supervisor or expert) that answers calls."""
        return await self.run(
            f"seat-{seat}",
            "seat_register.xml",
            "-s",
            seat,
            "-au",
            seat,
            "-ap",
            self.pbx.passwords[seat],
            ooc="seat_answer.xml",
        )

    async def citizen(
        self, scenario: str = "citizen_call.xml", caller: str = "13800138000", *args: str
    ) -> Sipp:
        """A citizen calling 12345 through the carrier trunk (from the carrier's address)."""
        return await self.run(
            f"citizen-{caller}-{scenario}",
            scenario,
            "-s",
            "12345",
            "-key",
            "caller",
            caller,
            *args,
            ip=TRUNK_IPS["carrier"],
        )

    async def trunk_far_end(self, trunk: str) -> Sipp:
        """The far end of a trunk, answering one call on the address and port pjsip.conf dials."""
        return await self.run(
            f"far-{trunk}", "trunk_answer.xml", ip=TRUNK_IPS[trunk], port=self.pbx.trunk_ports[trunk]
        )

    async def stop_all(self) -> None:
        for sipp in self.running:
            await sipp.stop()
