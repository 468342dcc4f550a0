"""A minimal raw AMI client for the end-to-end tests: Login, actions, and waiting for events.

Deliberately independent of gateway/calls/ so these tests check Asterisk and asterisk_conf/ on their
own terms (the gateway's client is tested against the fake AMI server and, once merged, here too).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable

Message = dict[str, str]


def parse(block: str) -> Message:
    message: Message = {}
    for line in block.split("\r\n"):
        key, sep, value = line.partition(": ")
        if not sep:
            key, sep, value = line.partition(":")
        if sep:
            # Repeated keys (ChanVariable) are kept as one "name=value" per line under the key.
            message[key] = f"{message[key]}\n{value}" if key in message else value
    return message


def chan_vars(message: Message) -> dict[str, str]:
    """The channelvars= values attached to a channel event."""
    values = {}
    for item in message.get("ChanVariable", "").split("\n"):
        name, _, value = item.partition("=")
        if name:
            values[name] = value
    return values


class Ami:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[list[Message]]] = {}
        self._lists: dict[str, list[Message]] = {}
        self.events: list[Message] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, port: int, username: str, secret: str) -> Ami:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await reader.readline()  # banner
        ami = cls(reader, writer)
        ami._task = asyncio.create_task(ami._read_loop())
        reply = await ami.action("Login", Username=username, Secret=secret)
        if reply.get("Response") != "Success":
            await ami.close()
            raise PermissionError(f"AMI login refused: {reply}")
        return ami

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()

    async def _read_loop(self) -> None:
        buffer = ""
        while True:
            chunk = await self._reader.read(65536)
            if not chunk:
                return
            buffer += chunk.decode("utf-8", errors="replace")
            while "\r\n\r\n" in buffer:
                block, buffer = buffer.split("\r\n\r\n", 1)
                await self._dispatch(parse(block))

    async def _dispatch(self, message: Message) -> None:
        action_id = message.get("ActionID", "")
        if action_id in self._pending and "Event" not in message:
            if message.get("EventList") == "start":
                self._lists[action_id] = [message]
            else:
                self._pending.pop(action_id).set_result([message])
            return
        if action_id in self._lists:
            self._lists[action_id].append(message)
            if message.get("EventList") == "Complete":
                self._pending.pop(action_id).set_result(self._lists.pop(action_id))
            return
        async with self._changed:
            self.events.append(message)
            self._changed.notify_all()

    async def send(self, name: str, **headers: str) -> list[Message]:
        """Send an action; the reply, plus the listed events for list actions (…Complete last)."""
        action_id = f"t-{next(self._ids)}"
        future: asyncio.Future[list[Message]] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = future
        lines = [f"Action: {name}", f"ActionID: {action_id}"]
        lines += [f"{key}: {value}" for key, value in headers.items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        return await asyncio.wait_for(future, 10)

    async def action(self, name: str, **headers: str) -> Message:
        return (await self.send(name, **headers))[0]

    async def wait_for(
        self, event: str, within: float = 15, where: Callable[[Message], bool] | None = None, **match: str
    ) -> Message:
        """The first event (already received or still to come) named ``event`` with the given headers."""

        def found() -> Message | None:
            for message in self.events:
                if message.get("Event") == event and all(message.get(k) == v for k, v in match.items()):
                    if where is None or where(message):
                        return message
            return None

        async def wait() -> Message:
            async with self._changed:
                while (message := found()) is None:
                    await self._changed.wait()
                return message

        try:
            return await asyncio.wait_for(wait(), within)
        except TimeoutError:
            seen = sorted({m.get("Event", "?") for m in self.events})
            raise AssertionError(f"no {event} {match} within {within} s; events seen: {seen}") from None

    def named(self, event: str, **match: str) -> list[Message]:
        return [
            m for m in self.events if m.get("Event") == event and all(m.get(k) == v for k, v in match.items())
        ]
