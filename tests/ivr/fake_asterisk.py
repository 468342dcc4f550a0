"""A fake Asterisk for FastAGI tests: it plays Asterisk's side of the real wire format.

It connects like ``AGI(agi://host:port/<script>)`` does, sends ``agi_*`` headers and a blank line, then
answers each command as res_agi would (``200 result=… (…) endpos=…``, DTMF as ASCII codes, ``HANGUP``
notices, ``511`` on a dead channel), behaving like a scripted caller:

    caller = FakeCaller(keys={"greeting": "1"}, data={"progress_enter_number": "2026111600001#"})
    await caller.call(port)
    caller.prompts      # prompt ids heard, in order
    caller.variables    # channel variables the IVR set
"""

from __future__ import annotations

import asyncio
import shlex
from dataclasses import dataclass, field
from pathlib import PurePosixPath


@dataclass
class FakeCaller:
    script: str = "voice-entry"
    callerid: str = "13800138000"
    uniqueid: str = "1763600000.1"
    linkedid: str = "1763600000.1"
    variables: dict[str, str] = field(default_factory=dict)
    # Key pressed while a prompt plays (a list: one per time the prompt plays; "" = none that time).
    keys: dict[str, str | list[str]] = field(default_factory=dict)
    # Digits keyed at a GET DATA prompt ("" = timeout), same list rule.
    data: dict[str, str | list[str]] = field(default_factory=dict)
    # Keys for successive WAIT FOR DIGIT commands ("" = timeout).
    waits: list[str] = field(default_factory=list)
    record_key: str | None = None  # a key that ends the recording (else it ends on silence)
    hang_up_at: str | None = None  # a prompt id or command name: the caller hangs up there
    close_at: str | None = None  # Asterisk drops the socket there without a word
    pause: float = 0.0  # seconds "spent" on each command (benchmarks)
    prompts: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    goto: tuple[str, str, str] | None = None
    hung_up: bool = False
    replies_after_hangup: int = 0

    def __post_init__(self) -> None:
        self.variables.setdefault("CHANNEL(linkedid)", self.linkedid)
        self._goto: dict[str, str] = {}

    def headers(self) -> str:
        lines = {
            "agi_network": "yes", "agi_network_script": self.script,
            "agi_request": f"agi://127.0.0.1/{self.script}", "agi_channel": "PJSIP/carrier-00000001",
            "agi_language": "zh", "agi_type": "PJSIP", "agi_uniqueid": self.uniqueid, "agi_version": "22.10.1",
            "agi_callerid": self.callerid or "unknown", "agi_calleridname": "unknown", "agi_callingpres": "0",
            "agi_dnid": "12345", "agi_rdnis": "unknown", "agi_context": "hotline-entry", "agi_extension": "s",
            "agi_priority": "5", "agi_enhanced": "0.0", "agi_accountcode": "", "agi_threadid": "140001",
        }
        return "".join(f"{k}: {v}\n" for k, v in lines.items()) + "\n"

    async def call(self, port: int, host: str = "127.0.0.1", limit: float = 10.0) -> FakeCaller:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(self.headers().encode())
            await writer.drain()
            async with asyncio.timeout(limit):
                await self._converse(reader, writer)
        finally:
            writer.close()
            await writer.wait_closed()
        if self._goto:
            self.goto = (self._goto["CONTEXT"], self._goto["EXTENSION"], self._goto["PRIORITY"])
        return self

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            raw = await reader.readline()
            if not raw:
                return  # the IVR is done and closed the socket: the dialplan goes on
            line = raw.decode().strip()
            self.commands.append(line)
            if self.pause:
                await asyncio.sleep(self.pause)
            reply = self.answer(line)
            if reply is None:  # the socket is dropped
                return
            writer.write(reply.encode())
            await writer.drain()

    def answer(self, line: str) -> str | None:
        if self.hung_up:
            self.replies_after_hangup += 1
            return "511 Command Not Permitted on a dead channel or intercept routine\n"
        words = shlex.split(line)
        name = " ".join(words[:2]).upper() if len(words) > 1 else words[0].upper()
        prompt = PurePosixPath(words[2]).name if name in ("STREAM FILE", "GET DATA") else None
        if prompt:
            self.prompts.append(prompt)
        if self.close_at and self.close_at in (prompt, name):
            return None
        if self.hang_up_at and self.hang_up_at in (prompt, name):
            self.hung_up = True
            # res_agi: the notice first, then the interrupted command's own reply.
            return "HANGUP\n200 result=-1 endpos=0\n"
        if name == "STREAM FILE":
            key = self._take(self.keys, prompt)
            return f"200 result={ord(key) if key else 0} endpos={100 if key else 8000}\n"
        if name == "GET DATA":
            digits = self._take(self.data, prompt)
            return f"200 result={digits.rstrip('#')}\n" if digits else "200 result= (timeout)\n"
        if name == "WAIT FOR":
            key = self.waits.pop(0) if self.waits else ""
            return f"200 result={ord(key) if key else 0}\n"
        if name == "RECORD FILE":
            if self.record_key:
                return f"200 result={ord(self.record_key)} (dtmf) endpos=16000\n"
            return "200 result=0 (timeout) endpos=48000\n"
        if name == "GET VARIABLE":
            value = self.variables.get(words[2])
            return f"200 result=1 ({value})\n" if value is not None else "200 result=0\n"
        if name == "SET VARIABLE":
            self.variables[words[2]] = words[3]
            return "200 result=1\n"
        if name in ("SET CONTEXT", "SET EXTENSION", "SET PRIORITY"):
            self._goto[words[1].upper()] = words[2]
            return "200 result=0\n"
        if name == "HANGUP":
            self.hung_up = True
            return "200 result=1\n"
        return "510 Invalid or unknown command\n"

    @staticmethod
    def _take(table: dict[str, str | list[str]], prompt: str | None) -> str:
        value = table.get(prompt or "")
        if isinstance(value, list):
            return value.pop(0) if value else ""
        return value or ""
