"""A fake Asterisk Manager Interface: an asyncio TCP server speaking the real wire format.

It sends the banner, checks Login, answers actions by ActionID (scriptable per action), and pushes events:
replayed from the real captures in tests/data/ami (whole or cut short), or scripted with
``frame()`` in the same format. Tests can cut connections, go silent (half-open TCP), restart "Asterisk"
(forget channels and queue members), and send out-of-order, unknown or malformed frames.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EOL = "\r\n"
BANNER = "Asterisk Call Manager/11.0.0"


CAPTURES = Path(__file__).resolve().parents[1] / "data" / "ami"  # recorded from Asterisk 22.10.1

Fields = dict[str, Any]
# A handler gets (session, action) and returns the reply fields (ActionID is added) and, for list
# actions, the rows; it may also push events itself.
Handler = Callable[["Session", Fields], "Reply | Awaitable[Reply]"]


@dataclass
class Reply:
    fields: Fields
    rows: list[Fields] = field(default_factory=list)
    complete_event: str | None = None  # e.g. "QueueStatusComplete" for list actions
    events_after: list[Fields] = field(default_factory=list)  # events the action causes, sent after the reply


def frame(fields: Fields | None = None, /, **more: Any) -> str:
    """One AMI message in wire format. Lists become repeated headers (ChanVariable …)."""
    lines = []
    for key, value in {**(fields or {}), **more}.items():
        for item in value if isinstance(value, list) else [value]:
            lines.append(f"{key}: {item}")
    return EOL.join(lines) + EOL + EOL


def parse_frames(text: str) -> list[Fields]:
    messages = []
    for chunk in text.split(EOL + EOL):
        fields: Fields = {}
        for line in chunk.split(EOL):
            key, sep, value = line.partition(": ")
            if sep:
                fields[key] = value
            elif line.endswith(":"):
                fields[line[:-1]] = ""
        if fields:
            messages.append(fields)
    return messages


def capture_frames(name: str, *, events_only: bool = True) -> list[str]:
    """The raw frames of a capture (CRLF kept). With ``events_only``, the banner and the recorder's own
    Responses are left out: what Asterisk pushes unprompted."""
    text = (CAPTURES / name).read_bytes().decode("utf-8")
    if text.startswith(BANNER):
        text = text.split(EOL, 1)[1]
    frames = [f + EOL + EOL for f in text.split(EOL + EOL) if f.strip()]
    if events_only:
        frames = [f for f in frames if f.startswith("Event:")]
    return frames


class Session:
    def __init__(self, server: FakeAmi, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.logged_in = False
        self.silent = False  # half-open: reads but never answers

    async def send(self, text: str | bytes) -> None:
        if self.writer.is_closing():
            return
        self.writer.write(text.encode("utf-8") if isinstance(text, str) else text)
        await self.writer.drain()

    async def run(self) -> None:
        await self.send(BANNER + EOL)
        buffer = ""
        try:
            while data := await self.reader.read(65536):
                buffer += data.decode("utf-8")
                *chunks, buffer = buffer.split(EOL + EOL)
                for chunk in chunks:
                    action = parse_frames(chunk + EOL + EOL)
                    if action:
                        await self.handle(action[0])
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.close()

    async def handle(self, action: Fields) -> None:
        self.server.received.append(action)
        if self.silent:
            return
        name = action.get("Action", "")
        action_id = action.get("ActionID", "")
        if name != "Login" and not self.logged_in:
            await self.send(frame(Response="Error", ActionID=action_id, Message="Permission denied"))
            return
        handler = self.server.handlers.get(name.lower(), self.server.default_handler)
        reply = handler(self, action)
        if asyncio.iscoroutine(reply) or isinstance(reply, Awaitable):
            reply = await reply
        if reply is None:
            return  # the handler chose not to answer (a lost reply)
        out = [
            frame(
                {"Response": reply.fields.get("Response", "Success"), "ActionID": action_id, **reply.fields}
            )
        ]
        if reply.complete_event:
            out += [
                frame({"Event": row_event, "ActionID": action_id, **row})
                for row_event, row in _rows(reply.rows)
            ]
            out.append(
                frame(
                    Event=reply.complete_event,
                    ActionID=action_id,
                    EventList="Complete",
                    ListItems=len(reply.rows),
                )
            )
        out += [frame(event) for event in reply.events_after]
        await self.send("".join(out))

    def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()
        if self in self.server.sessions:
            self.server.sessions.remove(self)


def _rows(rows: Iterable[Fields]) -> Iterable[tuple[str, Fields]]:
    for row in rows:
        row = dict(row)
        yield row.pop("Event"), row


class FakeAmi:
    def __init__(self, secret: str = "s3cret") -> None:
        self.secret = secret
        self.sessions: list[Session] = []
        self.received: list[Fields] = []
        self.channels: list[Fields] = []  # CoreShowChannels rows
        self.queue_members: list[Fields] = []  # QueueStatus QueueMember rows
        self.queue_entries: list[Fields] = []  # QueueStatus QueueEntry rows
        self.conferences: dict[str, list[Fields]] = {}  # room → ConfbridgeList rows
        self.handlers: dict[str, Handler] = {
            "login": self._login,
            "ping": self._ping,
            "logoff": self._logoff,
            "coreshowchannels": self._core_show_channels,
            "queuestatus": self._queue_status,
            "confbridgelistrooms": self._conf_rooms,
            "confbridgelist": self._conf_list,
            "queueadd": self._queue_add,
            "queueremove": self._queue_remove,
            "queuepause": self._queue_pause,
        }
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        self.drop_all()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._tasks:  # the sessions end by themselves once their sockets are aborted
            await asyncio.wait(list(self._tasks), timeout=2)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(self, reader, writer)
        self.sessions.append(session)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await session.run()
        finally:
            self._tasks.discard(task)

    # ---- scripting ------------------------------------------------------------------------------

    def on(self, action: str, handler: Handler) -> None:
        self.handlers[action.lower()] = handler

    def actions(self, name: str) -> list[Fields]:
        return [a for a in self.received if a.get("Action", "").lower() == name.lower()]

    async def emit(self, *messages: Fields | str | bytes) -> None:
        """Push events (dicts or raw text) to every logged-in session, in order."""
        data = "".join(m if isinstance(m, str) else frame(m) for m in messages if not isinstance(m, bytes))
        raw = b"".join(m for m in messages if isinstance(m, bytes))
        for session in list(self.sessions):
            if session.logged_in:
                if data:
                    await session.send(data)
                if raw:
                    await session.send(raw)

    async def replay(self, name: str, *, limit: int | None = None, chunk: int | None = None) -> int:
        """Push a capture's events (the first ``limit`` of them); ``chunk`` splits the bytes into reads of
        that size to exercise framing. Returns how many frames were sent."""
        frames = capture_frames(name)[:limit]
        data = "".join(frames).encode("utf-8")
        for session in list(self.sessions):
            if not session.logged_in:
                continue
            if chunk:
                for i in range(0, len(data), chunk):
                    await session.send(data[i : i + chunk])
            else:
                await session.send(data)
        return len(frames)

    def drop_all(self) -> None:
        for session in list(self.sessions):
            session.writer.transport.abort()
            session.close()

    def go_silent(self) -> None:
        for session in self.sessions:
            session.silent = True

    def restart(self) -> None:
        """Asterisk restarted: its channels, conferences and dynamic queue members are gone."""
        self.channels.clear()
        self.queue_entries.clear()
        self.conferences.clear()
        self.queue_members = [m for m in self.queue_members if m.get("Membership") == "static"]
        self.drop_all()

    async def wait_for_action(self, name: str, count: int = 1, within: float = 5.0) -> list[Fields]:
        async with asyncio.timeout(within):
            while len(self.actions(name)) < count:  # noqa: ASYNC110 - polling a test fake
                await asyncio.sleep(0.01)
        return self.actions(name)

    async def wait_logged_in(self, count: int = 1, within: float = 5.0) -> Session:
        async with asyncio.timeout(within):
            while sum(s.logged_in for s in self.sessions) < count:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        return next(s for s in self.sessions if s.logged_in)

    # ---- default behaviour ----------------------------------------------------------------------

    def default_handler(self, session: Session, action: Fields) -> Reply:
        return Reply({"Response": "Success", "Message": f"{action.get('Action')} done"})

    def _login(self, session: Session, action: Fields) -> Reply:
        if action.get("Secret") != self.secret:
            return Reply({"Response": "Error", "Message": "Authentication failed"})
        session.logged_in = True
        return Reply(
            {"Message": "Authentication accepted"},
            events_after=[{"Event": "FullyBooted", "Privilege": "system,all", "Status": "Fully Booted"}],
        )

    def _ping(self, session: Session, action: Fields) -> Reply:
        return Reply({"Ping": "Pong", "Timestamp": "1795345159.000000"})

    def _logoff(self, session: Session, action: Fields) -> Reply:
        return Reply({"Response": "Goodbye", "Message": "Thanks for all the fish."})

    def _core_show_channels(self, session: Session, action: Fields) -> Reply:
        rows = [{"Event": "CoreShowChannel", **c} for c in self.channels]
        return Reply(
            {"EventList": "start", "Message": "Channels will follow"}, rows, "CoreShowChannelsComplete"
        )

    def _queue_status(self, session: Session, action: Fields) -> Reply:
        rows = [{"Event": "QueueMember", **m} for m in self.queue_members]
        rows += [{"Event": "QueueEntry", **e} for e in self.queue_entries]
        return Reply(
            {"EventList": "start", "Message": "Queue status will follow"}, rows, "QueueStatusComplete"
        )

    def _conf_rooms(self, session: Session, action: Fields) -> Reply:
        if not self.conferences:
            return Reply({"Response": "Error", "Message": "No active conferences."})
        rows = [
            {"Event": "ConfbridgeListRooms", "Conference": room, "Parties": len(users)}
            for room, users in self.conferences.items()
        ]
        return Reply(
            {"EventList": "start", "Message": "Confbridge conferences will follow"},
            rows,
            "ConfbridgeListRoomsComplete",
        )

    def _conf_list(self, session: Session, action: Fields) -> Reply:
        users = self.conferences.get(action.get("Conference", ""))
        if not users:
            return Reply({"Response": "Error", "Message": "No Conference by that name found."})
        rows = [{"Event": "ConfbridgeList", "Conference": action["Conference"], **u} for u in users]
        return Reply(
            {"EventList": "start", "Message": "Confbridge user list will follow"},
            rows,
            "ConfbridgeListComplete",
        )

    def _member(self, queue: str, interface: str) -> Fields | None:
        return next(
            (m for m in self.queue_members if m["Queue"] == queue and m["Location"] == interface), None
        )

    def _queue_add(self, session: Session, action: Fields) -> Reply:
        queue, interface = action["Queue"], action["Interface"]
        if self._member(queue, interface):
            return Reply({"Response": "Error", "Message": "Unable to add interface: Already there"})
        paused = "1" if action.get("Paused", "false").lower() in ("true", "1", "yes") else "0"
        member = {
            "Queue": queue,
            "Name": action.get("MemberName", interface),
            "Location": interface,
            "StateInterface": action.get("StateInterface", interface),
            "Membership": "dynamic",
            "Penalty": "0",
            "CallsTaken": "0",
            "Status": "1",
            "Paused": paused,
            "PausedReason": action.get("Reason", "") if paused == "1" else "",
        }
        self.queue_members.append(member)
        event = {
            "Event": "QueueMemberAdded",
            "Queue": queue,
            "MemberName": member["Name"],
            "Interface": interface,
            "StateInterface": member["StateInterface"],
            "Membership": "dynamic",
            "Status": "1",
            "Paused": paused,
            "PausedReason": "",
        }
        return Reply({"Message": "Added interface to queue"}, events_after=[event])

    def _queue_remove(self, session: Session, action: Fields) -> Reply:
        member = self._member(action["Queue"], action["Interface"])
        if member is None:
            return Reply({"Response": "Error", "Message": "Unable to remove interface: Not there"})
        self.queue_members.remove(member)
        event = {
            "Event": "QueueMemberRemoved",
            "Queue": action["Queue"],
            "MemberName": member["Name"],
            "Interface": action["Interface"],
        }
        return Reply({"Message": "Removed interface from queue"}, events_after=[event])

    def _queue_pause(self, session: Session, action: Fields) -> Reply:
        paused = "1" if action.get("Paused", "").lower() in ("true", "1", "yes") else "0"
        members = [
            m
            for m in self.queue_members
            if m["Location"] == action["Interface"]
            and (not action.get("Queue") or m["Queue"] == action["Queue"])
        ]
        if not members:
            return Reply({"Response": "Error", "Message": "Interface not found"})
        events = []
        for m in members:
            m["Paused"] = paused
            m["PausedReason"] = action.get("Reason", "") if paused == "1" else ""
            events.append(
                {
                    "Event": "QueueMemberPause",
                    "Queue": m["Queue"],
                    "MemberName": m["Name"],
                    "Interface": m["Location"],
                    "Paused": paused,
                    "PausedReason": m["PausedReason"],
                }
            )
        return Reply(
            {
                "Message": "Interface paused successfully"
                if paused == "1"
                else "Interface unpaused successfully"
            },
            events_after=events,
        )
