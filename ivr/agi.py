"""A small asyncio FastAGI server: Asterisk's ``AGI(agi://host:port/<script>)`` lands here.

Same shape as ``panoramisk.fast_agi.Application`` (routes keyed by ``agi_network_script``, a request
object holding the ``agi_*`` headers and sending commands), written here because panoramisk 1.4's
server cannot be made safe from outside:

- a peer that closes before the blank line makes its header loop spin forever on ``read() == b''``;
- a closed socket during a command surfaces as ``ValueError`` (``int('')``), not as a hangup;
- the asynchronous ``HANGUP`` notice is taken as the command's reply, so the real ``200 result=-1`` that
  follows is read as the *next* command's reply: every later result is off by one;
- its handler catches ``BaseException`` (a shutdown's ``CancelledError`` is swallowed), never awaits
  ``wait_closed`` and keeps no list of live sessions, so a server cannot be stopped cleanly;
- no timeout on a reply, and ``add_route`` calls ``asyncio.coroutine`` (gone in Python 3.11).

Wire format (res_agi.c): Asterisk sends ``agi_name: value`` lines and a blank line, then waits for a
command; every command is answered by one line ``200 result=<r> [(<data>)] [key=value …]``, ``510``
(invalid command), ``511`` (channel is dead), ``520`` (usage, multi-line ending ``520 End of proper
usage.``). When the channel hangs up Asterisk also sends a lone ``HANGUP`` line, once, at any time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 16 * 1024  # one line (the stream's limit)
# Bounds on what a peer may make us hold, whoever connects to the port: the whole header block (Asterisk
# sends ~1 KiB plus its agi_arg_N), everything read while waiting for one reply (HANGUP notices, blank
# and "100" lines, 520- usage text), and live sessions per peer address (Asterisk is one peer carrying
# every IVR call, so this is sized for a busy PBX, not for one caller).
MAX_HEADER_BLOCK_BYTES = 64 * 1024
MAX_REPLY_BYTES = 64 * 1024
MAX_SESSIONS_PER_PEER = 500
# What Asterisk (res_agi.c setup_env) always sends; a session without them is not a call.
REQUIRED_HEADERS = ("agi_request", "agi_channel", "agi_uniqueid", "agi_network_script")
_REPLY = re.compile(r"^(?P<code>\d{3})[ -](?P<rest>.*)$")
_RESULT = re.compile(r"result=(?P<result>\S*)(?:\s+\((?P<data>.*)\))?(?P<tail>.*)$")
_KV = re.compile(r"(\w+)=(\S*)")


class AgiHangup(Exception):
    """The caller is gone: ``HANGUP`` notice, ``result=-1``, ``511`` or the socket closed."""


class AgiCommandError(Exception):
    """Asterisk refused a command (510 invalid, 520 usage) or answered something unreadable."""


class AgiProtocolError(ValueError):
    """The peer broke the wire format or its bounds; the connection is dropped."""


@dataclass(frozen=True, slots=True)
class AgiReply:
    code: int
    result: str
    data: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def number(self) -> int:
        try:
            return int(self.result)
        except ValueError:
            return 0

    @property
    def digit(self) -> str | None:
        """Commands that wait for a key answer its ASCII code (``result=49`` = "1"); 0 = no key."""
        code = self.number
        return chr(code) if code > 0 else None


def parse_reply(line: str) -> AgiReply:
    match = _REPLY.match(line)
    if match is None:
        raise AgiCommandError(f"unreadable AGI reply {line!r}")
    code, rest = int(match["code"]), match["rest"]
    if code == 200:
        found = _RESULT.search(rest)
        if found is None:
            raise AgiCommandError(f"AGI 200 reply without a result: {line!r}")
        return AgiReply(200, found["result"], found["data"] or "", dict(_KV.findall(found["tail"])))
    return AgiReply(code, "", rest)


def quote(arg: str) -> str:
    """One AGI argument: res_agi splits on spaces unless double-quoted, with backslash escapes."""
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


class AgiChannel:
    """One AGI session: the headers Asterisk sent and a command/reply conversation on its socket."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 headers: Mapping[str, str], *, command_timeout: float = 3600.0) -> None:
        self.reader = reader
        self.writer = writer
        self.headers = dict(headers)
        self.command_timeout = command_timeout
        self.hung_up = False
        self.commands = 0

    @property
    def script(self) -> str:
        return self.headers.get("agi_network_script", "")

    def header(self, name: str) -> str | None:
        value = self.headers.get(f"agi_{name}", "")
        return value if value and value != "unknown" else None

    async def command(self, *parts: str) -> AgiReply:
        """Send one command and read its reply. Raises AgiHangup when the caller is gone."""
        if self.hung_up:
            raise AgiHangup("the caller hung up earlier")
        line = " ".join(parts) + "\n"
        try:
            self.writer.write(line.encode())
            await self.writer.drain()
            reply = await asyncio.wait_for(self._read_reply(), self.command_timeout)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            self.hung_up = True
            raise AgiHangup("Asterisk closed the AGI socket") from exc
        except TimeoutError as exc:
            raise AgiCommandError(f"no reply to {parts[0]} within {self.command_timeout:g} s") from exc
        except AgiProtocolError as exc:
            self.hung_up = True  # out of step with the peer: nothing more may be sent
            raise AgiCommandError(str(exc)) from exc
        self.commands += 1
        if reply.code == 511:
            self.hung_up = True
            raise AgiHangup("channel is dead (511)")
        if reply.code != 200:
            raise AgiCommandError(f"{' '.join(parts)!r} refused: {reply.code} {reply.data}")
        if reply.result == "-1" and reply.data != "writefile":  # writefile: RECORD FILE could not open it
            self.hung_up = True
            raise AgiHangup(f"{parts[0]} ended with result=-1")
        return reply

    async def _read_line(self, budget: list[int]) -> str:
        raw = await self.reader.readline()
        if not raw:
            raise asyncio.IncompleteReadError(b"", None)
        budget[0] -= len(raw)
        if budget[0] < 0:
            raise AgiProtocolError(f"a reply longer than {MAX_REPLY_BYTES} bytes")
        return raw.decode("utf-8", "replace").rstrip("\r\n")

    async def _read_reply(self) -> AgiReply:
        budget = [MAX_REPLY_BYTES]
        while True:
            line = await self._read_line(budget)
            if line == "HANGUP":  # asynchronous notice; the command's own reply still follows
                self.hung_up = True
                continue
            if not line or line.startswith("100 "):
                continue
            if line.startswith("520-"):  # usage text: skip to "520 End of proper usage."
                usage = [line]
                while not usage[-1].startswith("520 "):
                    usage.append(await self._read_line(budget))
                return AgiReply(520, "", " ".join(usage))
            return parse_reply(line)

    # ---- the few commands the flows use ------------------------------------------------------------

    async def stream_file(self, name: str, escape: str = "") -> str | None:
        """Play a sound; returns the key that interrupted it, if any."""
        return (await self.command("STREAM FILE", name, quote(escape))).digit

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        return (await self.command("WAIT FOR DIGIT", str(timeout_ms))).digit

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> str:
        """Play ``prompt`` and collect up to ``max_digits`` keys (``#`` ends early). "" = nothing keyed."""
        reply = await self.command("GET DATA", prompt, str(timeout_ms), str(max_digits))
        return reply.result

    async def record_file(self, path: str, fmt: str, escape: str, timeout_ms: int, *,
                          beep: bool = True, silence_s: int | None = None) -> tuple[str | None, int]:
        """Record until a key in ``escape``, ``timeout_ms`` or ``silence_s`` of silence.
        Returns (the key that stopped it or None, samples recorded)."""
        parts = ["RECORD FILE", path, fmt, quote(escape), str(timeout_ms)]
        if beep:
            parts.append("BEEP")
        if silence_s:
            parts.append(f"s={silence_s}")
        reply = await self.command(*parts)
        if reply.data == "writefile":
            raise AgiCommandError(f"Asterisk cannot write {path}.{fmt} (does the directory exist?)")
        # A key during the beep ends the command before recording starts: "(randomerror)" with the key's
        # code in result (res_agi.c handle_recordfile); during the recording it is "(dtmf)".
        key = reply.digit if reply.data in ("dtmf", "randomerror") else None
        return key, int(reply.extra.get("endpos", "0") or 0)

    async def set_variable(self, name: str, value: str) -> None:
        await self.command("SET VARIABLE", name, quote(value))

    async def get_variable(self, name: str) -> str | None:
        reply = await self.command("GET VARIABLE", quote(name))
        return reply.data if reply.result == "1" else None

    async def goto(self, context: str, extension: str, priority: int = 1) -> None:
        """Where the dialplan resumes when this AGI returns."""
        await self.command("SET CONTEXT", context)
        await self.command("SET EXTENSION", extension)
        await self.command("SET PRIORITY", str(priority))

    async def hangup(self) -> None:
        with contextlib.suppress(AgiHangup):
            await self.command("HANGUP")
        self.hung_up = True


Handler = Callable[[AgiChannel], Awaitable[None]]


class AgiServer:
    """Accepts FastAGI connections and runs the handler routed by ``agi_network_script``."""

    def __init__(self, routes: Mapping[str, Handler], *, host: str = "127.0.0.1", port: int = 4573,
                 header_timeout: float = 5.0, command_timeout: float = 3600.0,
                 max_sessions_per_peer: int = MAX_SESSIONS_PER_PEER) -> None:
        self.routes = dict(routes)
        self.host, self.port = host, port
        self.header_timeout = header_timeout
        self.command_timeout = command_timeout
        self.max_sessions_per_peer = max_sessions_per_peer
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()  # one per live call
        self._per_peer: dict[str, int] = {}
        self.served = 0
        self.refused = 0

    @property
    def active(self) -> int:
        return len(self._sessions)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port, limit=MAX_HEADER_BYTES)
        self.port = self._server.sockets[0].getsockname()[1]  # port 0 → the one the OS chose
        log.info("FastAGI listening on %s:%d (%s)", self.host, self.port, ", ".join(sorted(self.routes)))

    async def stop(self, grace: float = 5.0) -> None:
        """Stop accepting, give live calls ``grace`` seconds, then cancel what remains."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._sessions:
            _, pending = await asyncio.wait(set(self._sessions), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = str((writer.get_extra_info("peername") or ("unknown",))[0])
        if self._per_peer.get(peer, 0) >= self.max_sessions_per_peer:
            self.refused += 1
            log.warning("FastAGI connection from %s refused: %d sessions open from there", peer,
                        self._per_peer[peer])
            writer.close()
            return
        self._per_peer[peer] = self._per_peer.get(peer, 0) + 1
        # The session runs in its own task so that stop() can cancel it without cancelling the task
        # asyncio's server owns (which would log a spurious error for every call cut short).
        session = asyncio.get_running_loop().create_task(self._serve(reader, writer))
        self._sessions.add(session)
        try:
            await session
        except asyncio.CancelledError:
            if not session.cancelled():
                raise  # we are being cancelled ourselves, not just the session
        finally:
            self._sessions.discard(session)
            self._per_peer[peer] -= 1
            if not self._per_peer[peer]:
                del self._per_peer[peer]
            writer.close()
            with contextlib.suppress(ConnectionError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            headers = await asyncio.wait_for(read_headers(reader), self.header_timeout)
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError) as exc:
            log.warning("FastAGI connection dropped before its headers: %s", exc.__class__.__name__)
            return
        missing = [name for name in REQUIRED_HEADERS if not headers.get(name)]
        if missing:
            log.warning("FastAGI connection dropped: not an AGI environment (no %s)", ", ".join(missing))
            return
        script = headers.get("agi_network_script", "")
        handler = self.routes.get(script)
        if handler is None:
            log.error("no FastAGI route for %r (known: %s)", script, ", ".join(sorted(self.routes)))
            return
        self.served += 1
        channel = AgiChannel(reader, writer, headers, command_timeout=self.command_timeout)
        try:
            await handler(channel)
        except (AgiHangup, AgiCommandError) as exc:
            log.info("AGI %s on %s ended: %s", script, channel.header("uniqueid"), exc)
        except Exception:  # a bug in one call must not take the server down; it is logged loudly
            log.exception("AGI %s on %s failed", script, channel.header("uniqueid"))


async def read_headers(reader: asyncio.StreamReader) -> dict[str, str]:
    """The ``agi_*: value`` lines up to the blank line. Raises IncompleteReadError on early close and
    AgiProtocolError past ``MAX_HEADER_BLOCK_BYTES``."""
    headers: dict[str, str] = {}
    left = MAX_HEADER_BLOCK_BYTES
    while True:
        raw = await reader.readuntil(b"\n")
        left -= len(raw)
        if left < 0:
            raise AgiProtocolError(f"AGI headers longer than {MAX_HEADER_BLOCK_BYTES} bytes")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            return headers
        name, sep, value = line.partition(": ")
        if sep:
            headers[name] = value
