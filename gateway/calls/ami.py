"""AmiClient: our narrow interface to the Asterisk Manager Interface.

panoramisk 1.4 provides the wire layer (framing, ``Message`` parsing, ActionID matching); this module owns
everything panoramisk's ``Manager`` gets wrong for a call centre (see README "Why"):

- one supervisor task connects, reads the banner, logs in, and reconnects with a capped backoff;
- every action has a timeout; an action that was in flight when the link dropped fails, it is never
  re-sent; an idempotency key makes a repeated Originate/Redirect/Atxfer return the first outcome;
- a watchdog sends Ping and drops the link when no reply comes (half-open TCP);
- events go, in arrival order, into one ``asyncio.Queue`` read by one consumer (pipeline.py), with two
  markers of our own, ``LINK_UP`` and ``LINK_DOWN``, so the consumer can resync in order.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from panoramisk import actions
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from gateway.config import AmiSettings
from gateway.errors import Conflict, Unavailable, Unprocessable

log = logging.getLogger(__name__)
# panoramisk logs every message at DEBUG, which halves throughput: keep its logger quiet whatever root says.
logging.getLogger("panoramisk").setLevel(logging.INFO)

AmiEvent = dict[str, Any]
EOL = "\r\n"
LINK_UP = "GatewayLinkUp"  # marker events we put into the queue; Asterisk never sends these names
LINK_DOWN = "GatewayLinkDown"
_SURROGATES = re.compile("[\udc80-\udcff]")
KEY_TTL = 3600.0
KEY_LIMIT = 10_000


class UnsafeAmiField(Unprocessable):
    """A header name or value that cannot be written to AMI as one line: refused, nothing is sent."""

    default_error_id = "unsafe-ami-field"


class AsteriskUnavailable(Unavailable):
    default_error_id = "asterisk-unavailable"


class NotSent(AsteriskUnavailable):
    """The link is down: the action never left the gateway (safe to retry later)."""


class AsteriskRefused(Conflict):
    """Asterisk answered ``Response: Error`` (e.g. "Channel not found"): the call changed under us."""

    default_error_id = "asterisk-refused"


class OutcomeUnknown(Conflict):
    default_error_id = "action-outcome-unknown"


# AMI header names are plain words (Action, ActionID, ExtraContext, Variable …).
_HEADER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
# Cc: C0/C1 controls (CR, LF, NUL, TAB, NEL …); Zl/Zp: the Unicode line and paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def encode_action(fields: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> str:
    """The one place an AMI frame is built: ``Name: value`` lines ending in an empty line.

    A list or tuple value is one line per item (several ``Variable:`` lines), a dict value one
    ``key=value`` line per entry. Every name and every written text is checked for control characters
    (CR and LF would end the header or the whole frame and let the rest be read as a second action;
    NUL, tabs, NEL, U+2028 … have no business in AMI either): ``UnsafeAmiField`` before anything is
    written, so a refused action sends nothing at all."""
    items = fields.items() if isinstance(fields, Mapping) else fields
    lines = []
    for name, value in items:
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise UnsafeAmiField(f"AMI header name {name!r} is not a plain word", field=repr(name)[:80])
        for text in _header_values(name, value):
            lines.append(f"{name}: {text}")
    return EOL.join(lines) + EOL + EOL


def _header_values(name: str, value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [_scalar(name, item) for item in value]
    if isinstance(value, Mapping):
        out = []
        for key, item in value.items():
            key_text = _scalar(name, key)
            if "=" in key_text:
                raise UnsafeAmiField(f"AMI header {name}: variable name {key_text!r} contains '='", field=name)
            out.append(f"{key_text}={_scalar(name, item)}")
        return out
    return [_scalar(name, value)]


def _scalar(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value
    elif isinstance(value, int):
        text = str(value)
    else:
        raise UnsafeAmiField(f"AMI header {name}: a {type(value).__name__} cannot be sent", field=name)
    if any(unicodedata.category(ch) in _UNSAFE_CATEGORIES for ch in text):
        raise UnsafeAmiField(f"AMI header {name} contains a line break or another control character", field=name)
    return text


@dataclass(slots=True)
class AmiReply:
    fields: dict[str, Any]
    events: list[AmiEvent] = field(default_factory=list)  # the rows of a list action (QueueStatus …)

    @property
    def message(self) -> str:
        return str(self.fields.get("Message", ""))


class QuietRepeats:
    """When to repeat a warning that stays true: at once, then after 1 min, 2, 4 … at most hourly."""

    def __init__(self, first: float = 60.0, most: float = 3600.0) -> None:
        self.interval, self.most = first, most
        self._next: float | None = None
        self._since = 0

    def due(self, now: float) -> int | None:
        """The number of occurrences since the last report when this one is to be reported, else None."""
        self._since += 1
        if self._next is None:
            self._next = now + self.interval
        elif now >= self._next:
            self.interval = min(self.interval * 2, self.most)
            self._next = now + self.interval
        else:
            return None
        count, self._since = self._since, 0
        return count


def as_event(message: Message) -> AmiEvent:
    """A plain dict with Asterisk's own key spelling: faster than panoramisk's case-insensitive dict."""
    return {key: value for key, value in message._store.values()}


class _Action(actions.Action):
    """Completes on the first Response, unless that Response opens an event list (``EventList: start``):
    then on the event that closes it. panoramisk guesses from message text and hangs on QueueAdd/Atxfer."""

    on_reply: Callable[[AmiReply], None] | None = None  # runs synchronously, before later frames
    frame: str = ""  # encode_action() of the fields: what goes on the wire

    def __str__(self) -> str:
        return self.frame

    def add_message(self, message: Message) -> bool:
        self.responses.append(message)
        if self.future.done():
            return True
        first = self.responses[0]
        if len(self.responses) == 1:
            if str(first.get("EventList", "")).lower() == "start":
                return False
            reply = AmiReply(as_event(first))
            if self.on_reply is not None:
                self.on_reply(reply)
            self.future.set_result(reply)
            return True
        if str(message.get("EventList", "")).lower() == "complete":
            rows = [as_event(m) for m in self.responses[1:-1]]
            self.future.set_result(AmiReply(as_event(first), rows))
            return True
        return False


class _Protocol(AMIProtocol):
    """panoramisk's protocol with incremental decoding and our own close()."""

    client: AmiClient
    closed: bool

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.factory = self.client
        self.encoding = "utf-8"
        self.log = log
        # Incremental: a multi-byte character split across two reads survives. Bytes that are not UTF-8
        # (a GBK caller name from an old trunk) are kept as surrogates and re-read as GB18030 below.
        self._decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self._buffer = ""
        self.banner: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self._buffer += self._decoder.decode(data)
        if not self.banner.done():
            line, sep, rest = self._buffer.partition(EOL)
            if not sep:
                return
            self.version = line.partition("/")[2].strip()
            self.banner.set_result(line)
            self._buffer = rest
        frames = self._buffer.split(EOL + EOL)
        self._buffer = frames.pop()
        for frame in frames:
            frame = frame.strip("\r\n")
            if not frame:
                continue
            if _SURROGATES.search(frame):
                frame = _redecode(frame)
            message = Message.from_line(frame)
            if message is None:
                self.client.malformed_frame(frame)
                continue
            self.handle_message(message)

    def close(self) -> None:
        # panoramisk would queue unanswered actions for re-sending after reconnect; we fail them instead.
        for action in list(self.responses.values()):
            if not action.future.done():
                action.future.set_exception(ConnectionResetError("AMI connection closed"))
        self.responses.clear()
        if not self.closed:
            self.closed = True
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.close()
        self.client.connection_lost(self, exc)


def _redecode(frame: str) -> str:
    lines = []
    for line in frame.split(EOL):
        if _SURROGATES.search(line):
            line = line.encode("utf-8", "surrogateescape").decode("gb18030", "replace")
        lines.append(line)
    return EOL.join(lines)


@dataclass(slots=True)
class _Keyed:
    future: asyncio.Future[AmiReply]
    at: float


class AmiClient:
    def __init__(self, settings: AmiSettings, secret: str | None = None) -> None:
        self.settings = settings
        self.secret = secret if secret is not None else settings.resolved_secret()
        self.events: asyncio.Queue[AmiEvent] = asyncio.Queue()
        self.malformed = 0
        self.connects = 0
        self._protocol: _Protocol | None = None
        self._logged_in = False
        self._lost: asyncio.Event = asyncio.Event()
        self._up = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self._keys: OrderedDict[str, _Keyed] = OrderedDict()
        self._problem: str | None = "not connected yet"
        self._down_since = time.time()
        # Active/standby (gateway/leadership): asked before every action, a reason refuses it (not-leader);
        # the tag (instance and term) prefixes every ActionID so Asterisk's logs show whose action it was.
        self.fence: Callable[[], str | None] | None = None
        self.action_tag: str | None = None
        self._action_count = 0

    # ---- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        self._closing = False  # a leader deposed and elected again starts the same client anew
        if self._supervisor is None:
            self._supervisor = asyncio.create_task(self._supervise(), name="ami-supervisor")

    async def close(self) -> None:
        self._closing = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        self._drop()

    @property
    def connected(self) -> bool:
        return self._logged_in

    def problem(self) -> str | None:
        """None when the link is up, else a plain sentence for /readyz."""
        return None if self._logged_in else self._problem

    async def wait_connected(self, within: float) -> None:
        async with asyncio.timeout(within):
            await self._up.wait()

    async def _supervise(self) -> None:
        delay = self.settings.reconnect_delay
        where = f"{self.settings.host}:{self.settings.port}"
        quiet = QuietRepeats()
        while not self._closing:
            try:
                await self._connect_and_login()
            except (OSError, TimeoutError, ConnectionError, AsteriskRefused, UnsafeAmiField) as exc:
                self._drop()
                reason = str(exc) or exc.__class__.__name__
                self._problem = f"PBX link down: cannot reach AMI at {where} ({reason}); retrying"
                if (failed := quiet.due(time.monotonic())) is not None:
                    again = f" ({failed} attempts since the last report)" if failed > 1 else ""
                    log.warning("%s every %.0f s or less%s; next report in %.0f s", self._problem,
                                self.settings.reconnect_max_delay, again, quiet.interval)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.reconnect_max_delay)
                continue
            quiet = QuietRepeats()
            delay = self.settings.reconnect_delay
            log.info("PBX link up: logged in to AMI at %s as %s", where, self.settings.username)
            watchdog = asyncio.create_task(self._watchdog(), name="ami-watchdog")
            try:
                await self._lost.wait()
            finally:
                watchdog.cancel()
            self._logged_in = False
            self._down_since = time.time()
            self._problem = f"PBX link down: lost the AMI connection to {where}; reconnecting"
            log.warning(self._problem)
            self.events.put_nowait({"Event": LINK_DOWN})

    async def _connect_and_login(self) -> None:
        self._lost = asyncio.Event()
        loop = asyncio.get_running_loop()
        timeout = self.settings.action_timeout

        def factory() -> _Protocol:
            protocol = _Protocol()
            protocol.client = self
            return protocol

        async with asyncio.timeout(timeout):
            _, protocol = await loop.create_connection(factory, self.settings.host, self.settings.port)
        self._protocol = protocol
        async with asyncio.timeout(timeout):
            await protocol.banner
        reply = await self._send_now(
            {
                "Action": "Login",
                "Username": self.settings.username,
                "Secret": self.secret or "",
                "Events": "on",
            },
            timeout,
            on_reply=self._logged_in_now,
        )
        if reply.fields.get("Response") != "Success":
            raise AsteriskRefused(f"login refused for user {self.settings.username!r}: {reply.message}")

    def _logged_in_now(self, reply: AmiReply) -> None:
        # Synchronous, inside the read of the Login reply: LINK_UP enters the queue before any event
        # Asterisk sends after it (FullyBooted often shares the same TCP read).
        if reply.fields.get("Response") == "Success":
            self.connects += 1
            self._logged_in = True
            self._up.set()
            self._problem = None
            self.events.put_nowait({"Event": LINK_UP, "Connects": self.connects})

    async def _watchdog(self) -> None:
        """Ping and expect the reply: a half-open TCP connection otherwise goes unnoticed for hours."""
        while True:
            await asyncio.sleep(self.settings.ping_interval)
            try:
                await self._send_now({"Action": "Ping"}, self.settings.action_timeout)
            except (TimeoutError, ConnectionError):
                log.warning(
                    "no reply to Ping within %.1f s: dropping the AMI link", self.settings.action_timeout
                )
                self._drop()
                return

    def _drop(self) -> None:
        protocol, self._protocol = self._protocol, None
        if protocol is not None:
            protocol.close()
            transport = protocol.transport
            if transport is not None:
                transport.abort()
        self._logged_in = False
        self._up.clear()
        self._lost.set()

    # ---- called by the protocol ------------------------------------------------------------------

    def dispatch(self, message: Message) -> None:
        # One sync callback, one queue: events keep Asterisk's order (panoramisk's coroutine handlers don't).
        self.events.put_nowait(as_event(message))

    def connection_lost(self, protocol: _Protocol, exc: Exception | None) -> None:
        if protocol is not self._protocol:
            return  # a connection we already dropped; its late close must not touch the new one
        self._protocol = None
        self._logged_in = False
        self._up.clear()
        self._lost.set()

    def malformed_frame(self, frame: str) -> None:
        self.malformed += 1
        log.warning("ignored a malformed AMI frame: %r", frame[:120])

    # ---- actions ---------------------------------------------------------------------------------

    async def send(
        self,
        action: str,
        fields: Mapping[str, Any] | None = None,
        *,
        key: str | None = None,
        reply_within: float | None = None,
    ) -> AmiReply:
        """Send one action and return its reply (raising ``AsteriskRefused`` on ``Response: Error``).

        With ``key``, the action runs at most once: a second call with the same key returns the first
        reply (or waits for it). If the first attempt was sent but never answered, the outcome is unknown
        and later calls get ``OutcomeUnknown`` rather than risk ringing a phone twice."""
        if key is None:
            return await self._send_checked(action, fields, reply_within)
        self._expire_keys()
        entry = self._keys.get(key)
        if entry is not None:
            return await asyncio.shield(entry.future)
        future: asyncio.Future[AmiReply] = asyncio.get_running_loop().create_future()
        self._keys[key] = _Keyed(future, time.monotonic())
        try:
            reply = await self._send_checked(action, fields, reply_within)
        except (NotSent, AsteriskRefused, UnsafeAmiField) as exc:
            # Asterisk did nothing: forget the key so a retry may run; concurrent waiters share the error.
            del self._keys[key]
            _fail(future, exc)
            raise
        except AsteriskUnavailable as exc:
            _fail(
                future,
                OutcomeUnknown(
                    f"{action} was sent but Asterisk never answered; check the call before retrying",
                    action=action,
                ),
            )
            raise exc
        future.set_result(reply)
        return reply

    async def _send_checked(
        self, action: str, fields: Mapping[str, Any] | None, reply_within: float | None
    ) -> AmiReply:
        if self.fence is not None and (refusal := self.fence()) is not None:
            raise NotSent(f"{action} was not sent: {refusal}", error_id="not-leader", action=action)
        if not self._logged_in or self._protocol is None:
            raise NotSent(f"Asterisk is not connected, {action} was not sent: {self._problem}", action=action)
        try:
            reply = await self._send_now(
                {"Action": action, **(fields or {})}, reply_within or self.settings.action_timeout
            )
        except TimeoutError:
            raise AsteriskUnavailable(f"Asterisk did not answer {action} in time", action=action) from None
        except ConnectionError:
            raise AsteriskUnavailable(
                f"the AMI link dropped while {action} was waiting for its reply", action=action
            ) from None
        if reply.fields.get("Response") == "Error":
            raise AsteriskRefused(
                f"Asterisk refused {action}: {reply.message}", action=action, asterisk_message=reply.message
            )
        return reply

    async def _send_now(
        self, fields: dict[str, Any], reply_within: float, on_reply: Callable[[AmiReply], None] | None = None
    ) -> AmiReply:
        protocol = self._protocol
        if protocol is None or protocol.closed:
            raise ConnectionResetError("not connected")
        if self.action_tag is not None:
            self._action_count += 1
            fields = {**fields, "ActionID": f"{self.action_tag}/{self._action_count}"}
        encode_action(fields)  # refuses an unsafe field before panoramisk registers or writes anything
        action = _Action(fields, as_list=False)
        action.frame = encode_action(action.items())  # the same fields plus the ActionID panoramisk added
        action.on_reply = on_reply
        future = protocol.send(action, as_list=False)
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation (close() hangs).
            async with asyncio.timeout(reply_within):
                return await asyncio.shield(future)
        finally:
            protocol.responses.pop(action.id, None)
            if not future.done():
                future.cancel()

    def _expire_keys(self) -> None:
        now = time.monotonic()
        while self._keys:
            oldest_key, oldest = next(iter(self._keys.items()))
            if now - oldest.at < KEY_TTL and len(self._keys) < KEY_LIMIT:
                break
            if not oldest.future.done():
                break
            del self._keys[oldest_key]


def _fail(future: asyncio.Future[AmiReply], error: Exception) -> None:
    future.set_exception(error)
    future.exception()  # mark retrieved: nobody waiting is fine, no "exception never retrieved" warning
