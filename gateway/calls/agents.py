"""Agents (话务员): login/logout, pause with reason, wrap-up, queues served; our DB is the state of record.

Asterisk's queue membership is made to match the ``agents`` table: by each operation here, and by
``reconcile`` after every reconnect or Asterisk restart (dynamic members vanish when Asterisk restarts).
Asterisk forgets a pause reason on unpause and after restarts; we keep it.

What an agent is doing right now comes from Asterisk: a logged-in member whose device is in use (or who is
in a queue call) is ``on_call``, one whose phone rings is ``ringing``; otherwise the recorded state
(``available``, ``paused``, ``wrap_up``) holds. ``login_state`` is always the recorded one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.bus import EventBus
from gateway.calls.ami import AmiClient, AsteriskRefused, AsteriskUnavailable
from gateway.calls.models import AgentRecord, AgentStateChange
from gateway.config import CallSettings
from gateway.db.base import utcnow
from gateway.errors import Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)

WRAPUP_REASON = "wrapup"
MEMBER_EVENTS = frozenset({
    "QueueMemberAdded", "QueueMemberStatus", "QueueMemberPause", "QueueMemberRemoved",
    "AgentCalled", "AgentConnect", "AgentRingNoAnswer", "AgentDump",
})
WRAP_UP = "wrap_up"
WRAP_UP_STATES = (WRAP_UP, "wrapup")  # "wrapup": the name rows written before issue 15 carry
# QueueMember Status (Asterisk's device states): 2 in use, 3 busy (a seat is busy at one call:
# device_state_busy_at = 1), 7 ringing while in use, 8 on hold: all mean the agent is on a call.
ON_CALL_STATUSES = frozenset({"2", "3", "7", "8"})
RINGING_STATUS = "6"


def live_state(live: dict[str, Any] | None) -> str | None:
    """What Asterisk says the member is doing: "on_call", "ringing", or None (not on the phone)."""
    live = live or {}
    if str(live.get("status")) in ON_CALL_STATUSES or str(live.get("incall")) == "1":
        return "on_call"
    if str(live.get("status")) == RINGING_STATUS:
        return "ringing"
    return None


def agent_view(
    agent: AgentRecord, live: dict[str, Any] | None = None, talking: str | None = None
) -> dict[str, Any]:
    """``live``: the member as Asterisk last showed it (with "ringing": the call whose AgentCalled rings
    it); ``talking``: the call the agent's leg is in, from the call model."""
    live = live or {}
    recorded = WRAP_UP if agent.state in WRAP_UP_STATES else agent.state
    state, call_id = recorded, None
    if recorded != "logged_out":
        phone = live_state(live)
        if phone == "on_call" or talking is not None:
            state, call_id = "on_call", talking
        elif phone == "ringing" or live.get("ringing"):
            state, call_id = "ringing", live.get("ringing")
    return {
        "agent_id": agent.id,
        "name": agent.name,
        "interface": agent.interface,
        "queues": agent.queues,
        "state": state,
        "login_state": recorded,
        "call_id": call_id,
        "pause_reason": agent.pause_reason,
        "state_since": agent.state_since,
        "asterisk": {k: v for k, v in live.items() if k != "ringing"},
    }


class AgentService:
    def __init__(
        self,
        ami: AmiClient,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        settings: CallSettings,
        talking_on: Callable[[str], str | None] = lambda interface: None,
    ) -> None:
        self.ami = ami
        self.sessions = sessions
        self.bus = bus
        self.settings = settings
        self.talking_on = talking_on  # interface → id of the call the agent's leg is in (the call model)
        # interface → last QueueMember* fields seen, and "ringing": the call whose AgentCalled rings it
        self.live: dict[str, dict[str, Any]] = {}
        self._wrapups: dict[str, asyncio.Task[None]] = {}
        self._by_interface: dict[str, str] = {}

    # ---- records ---------------------------------------------------------------------------------

    async def register(
        self, agent_id: str, *, name: str = "", interface: str | None = None, queues: list[str] | None = None
    ) -> dict[str, Any]:
        """Create or update an agent (not a login)."""
        interface = interface or f"PJSIP/{agent_id}"
        async with self.sessions.begin() as session:
            agent = await session.get(AgentRecord, agent_id)
            if agent is None:
                agent = AgentRecord(
                    id=agent_id,
                    interface=interface,
                    queues=list(queues or self.settings.queues),
                    name=name,
                    state="logged_out",
                    state_since=utcnow(),
                )
                session.add(agent)
            else:
                if agent.state != "logged_out" and (interface != agent.interface or queues is not None):
                    raise Conflict(
                        "log the agent out before changing the interface or queues here; "
                        "use PUT …/queues while logged in",
                        error_id="agent-logged-in",
                    )
                agent.name = name or agent.name
                agent.interface = interface
                if queues is not None:
                    agent.queues = list(queues)
        self._by_interface[interface] = agent_id
        return agent_view(agent)

    async def get(self, agent_id: str) -> dict[str, Any]:
        async with self.sessions() as session:
            agent = await self._load(session, agent_id)
        return self._view(agent)

    async def all(self) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            agents = (await session.scalars(select(AgentRecord).order_by(AgentRecord.id))).all()
        return [self._view(a) for a in agents]

    def _view(self, agent: AgentRecord) -> dict[str, Any]:
        return agent_view(agent, self.live.get(agent.interface), self.talking_on(agent.interface))

    async def agent_id_for(self, interface: str | None) -> str | None:
        if not interface:
            return None
        if interface not in self._by_interface:
            async with self.sessions() as session:
                agent_id = await session.scalar(
                    select(AgentRecord.id).where(AgentRecord.interface == interface)
                )
            if agent_id is None:
                return None
            self._by_interface[interface] = agent_id
        return self._by_interface[interface]

    async def _load(self, session: AsyncSession, agent_id: str) -> AgentRecord:
        agent = await session.get(AgentRecord, agent_id)
        if agent is None:
            raise NotFound(
                f"no agent {agent_id!r}; register it first (PUT /api/v1/agents/{agent_id})",
                error_id="unknown-agent",
            )
        return agent

    async def _set_state(self, agent_id: str, state: str, reason: str | None = None) -> dict[str, Any]:
        async with self.sessions.begin() as session:
            agent = await self._load(session, agent_id)
            agent.state = state
            agent.pause_reason = reason
            agent.state_since = utcnow()
            session.add(AgentStateChange(agent_id=agent_id, state=state, pause_reason=reason, at=agent.state_since))
        view = self._view(agent)
        self.bus.publish("agent.state", **view)
        return view

    # ---- operations ------------------------------------------------------------------------------

    def _require_ami(self) -> None:
        if not self.ami.connected:
            raise AsteriskUnavailable(f"Asterisk is not connected: {self.ami.problem()}")

    async def login(self, agent_id: str, queues: list[str] | None = None) -> dict[str, Any]:
        self._require_ami()
        async with self.sessions.begin() as session:
            agent = await self._load(session, agent_id)
            if queues is not None:
                agent.queues = list(queues)
            interface, name, served = agent.interface, agent.name or agent.id, list(agent.queues)
        if not served:
            raise InvalidInput("the agent serves no queue", error_id="no-queues")
        for queue in served:
            await self._queue_add(queue, interface, name, paused=False)
        return await self._set_state(agent_id, "available")

    async def logout(self, agent_id: str) -> dict[str, Any]:
        self._require_ami()
        async with self.sessions() as session:
            agent = await self._load(session, agent_id)
        self._cancel_wrapup(agent.interface)
        for queue in agent.queues:
            await self._queue_remove(queue, agent.interface)
        return await self._set_state(agent_id, "logged_out")

    async def pause(self, agent_id: str, reason: str) -> dict[str, Any]:
        if not reason.strip():
            raise InvalidInput("a pause needs a reason", error_id="pause-reason-required")
        self._require_ami()
        async with self.sessions() as session:
            agent = await self._load(session, agent_id)
        if agent.state == "logged_out":
            raise Conflict("the agent is not logged in", error_id="agent-logged-out")
        self._cancel_wrapup(agent.interface)
        await self.ami.send("QueuePause", {"Interface": agent.interface, "Paused": "true", "Reason": reason})
        return await self._set_state(agent_id, "paused", reason)

    async def ready(self, agent_id: str) -> dict[str, Any]:
        """End a pause or wrap-up: the agent takes calls again."""
        self._require_ami()
        async with self.sessions() as session:
            agent = await self._load(session, agent_id)
        if agent.state == "logged_out":
            raise Conflict("the agent is not logged in", error_id="agent-logged-out")
        self._cancel_wrapup(agent.interface)
        await self.ami.send("QueuePause", {"Interface": agent.interface, "Paused": "false"})
        return await self._set_state(agent_id, "available")

    async def set_queues(self, agent_id: str, queues: list[str]) -> dict[str, Any]:
        async with self.sessions() as session:
            agent = await self._load(session, agent_id)
        if agent.state != "logged_out":
            self._require_ami()
            paused = agent.state in ("paused", *WRAP_UP_STATES)
            for queue in sorted(set(queues) - set(agent.queues)):
                await self._queue_add(
                    queue, agent.interface, agent.name or agent.id, paused=paused, reason=agent.pause_reason
                )
            for queue in sorted(set(agent.queues) - set(queues)):
                await self._queue_remove(queue, agent.interface)
        async with self.sessions.begin() as session:
            agent = await self._load(session, agent_id)
            agent.queues = list(queues)
        view = self._view(agent)
        self.bus.publish("agent.state", **view)
        return view

    async def _queue_add(
        self, queue: str, interface: str, name: str, *, paused: bool, reason: str | None = None
    ) -> None:
        fields = {
            "Queue": queue,
            "Interface": interface,
            "MemberName": name,
            "StateInterface": interface,
            "Paused": "true" if paused else "false",
        }
        if paused and reason:
            fields["Reason"] = reason
        try:
            await self.ami.send("QueueAdd", fields)
        except AsteriskRefused as exc:
            if "already there" not in exc.message.lower():
                raise

    async def _queue_remove(self, queue: str, interface: str) -> None:
        try:
            await self.ami.send("QueueRemove", {"Queue": queue, "Interface": interface})
        except AsteriskRefused as exc:
            if "not there" not in exc.message.lower():
                raise

    # ---- wrap-up ---------------------------------------------------------------------------------

    def start_wrapup(self, interface: str) -> None:
        """After a queue call: pause with reason "wrapup", then back to available (unless paused since)."""
        if self.settings.wrapup_seconds <= 0 or interface in self._wrapups:
            return
        self._wrapups[interface] = asyncio.create_task(self._wrapup(interface), name=f"wrapup {interface}")

    async def _wrapup(self, interface: str) -> None:
        try:
            agent_id = await self.agent_id_for(interface)
            if agent_id is None:
                return
            async with self.sessions() as session:
                agent = await self._load(session, agent_id)
            if agent.state != "available":
                return
            await self.ami.send(
                "QueuePause", {"Interface": interface, "Paused": "true", "Reason": WRAPUP_REASON}
            )
            await self._set_state(agent_id, WRAP_UP, WRAPUP_REASON)
            await asyncio.sleep(self.settings.wrapup_seconds)
            async with self.sessions() as session:
                agent = await self._load(session, agent_id)
            if agent.state in WRAP_UP_STATES:
                await self.ami.send("QueuePause", {"Interface": interface, "Paused": "false"})
                await self._set_state(agent_id, "available")
        except (AsteriskUnavailable, AsteriskRefused) as exc:
            log.warning("wrap-up of %s: %s (reconcile will fix Asterisk)", interface, exc.message)
        finally:
            if self._wrapups.get(interface) is asyncio.current_task():
                del self._wrapups[interface]

    def _cancel_wrapup(self, interface: str) -> None:
        task = self._wrapups.pop(interface, None)
        if task is not None:
            task.cancel()

    async def close(self) -> None:
        for task in list(self._wrapups.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ---- events and reconcile --------------------------------------------------------------------

    def apply(self, event: dict[str, Any]) -> str | None:
        """Keep the live Asterisk view of members (status, in call, paused, the call ringing them).
        Returns the interface whose on-the-phone state changed (its view should be published), else None."""
        name = event.get("Event")
        interface = str(event.get("Interface") or "")
        if not interface or name not in MEMBER_EVENTS:
            if name == "QueueCallerAbandon":  # stops every phone ringing for it; their status events follow
                for live in self.live.values():
                    if live.get("ringing") == event.get("Linkedid"):
                        live.pop("ringing")
            return None
        live = self.live.setdefault(interface, {})
        before = (live_state(live), live.get("ringing"))
        if name == "QueueMemberRemoved":
            self.live.pop(interface)
            return interface if before != (None, None) else None
        for field in ("Status", "InCall", "Paused", "CallsTaken"):
            if field in event:
                live[field.lower()] = event[field]
        if name == "AgentCalled":
            live["ringing"] = event.get("Linkedid")
        elif name in ("AgentConnect", "AgentRingNoAnswer", "AgentDump"):
            live.pop("ringing", None)
        return interface if (live_state(live), live.get("ringing")) != before else None

    async def publish_view(self, interface: str) -> None:
        """Publish ``agent.state`` for the agent at ``interface`` (its phone started or stopped ringing or
        talking): the consoles show what Asterisk sees."""
        agent_id = await self.agent_id_for(interface)
        if agent_id is None:
            return
        async with self.sessions() as session:
            agent = await self._load(session, agent_id)
        self.bus.publish("agent.state", **self._view(agent))

    async def reconcile(self, members: list[dict[str, Any]]) -> list[str]:
        """Make Asterisk's queue members match the DB after a (re)connect. ``members`` are QueueStatus
        QueueMember rows. Returns a line per change made. Members of no known agent are left alone
        (static members from queues.conf)."""
        have: dict[tuple[str, str], dict[str, Any]] = {
            (str(m.get("Queue")), str(m.get("Location") or m.get("Interface"))): m for m in members
        }
        changes: list[str] = []
        async with self.sessions() as session:
            agents = (await session.scalars(select(AgentRecord))).all()
        for agent in agents:
            self._by_interface[agent.interface] = agent.id
            logged_in = agent.state != "logged_out"
            want_paused = agent.state in ("paused", *WRAP_UP_STATES)
            for queue in agent.queues:
                member = have.pop((queue, agent.interface), None)
                if logged_in and member is None:
                    await self._queue_add(
                        queue,
                        agent.interface,
                        agent.name or agent.id,
                        paused=want_paused,
                        reason=agent.pause_reason,
                    )
                    changes.append(f"added {agent.interface} to {queue}")
                elif logged_in and member is not None and (str(member.get("Paused")) == "1") != want_paused:
                    fields = {
                        "Interface": agent.interface,
                        "Queue": queue,
                        "Paused": "true" if want_paused else "false",
                    }
                    if want_paused and agent.pause_reason:
                        fields["Reason"] = agent.pause_reason
                    await self.ami.send("QueuePause", fields)
                    changes.append(f"{'paused' if want_paused else 'unpaused'} {agent.interface} in {queue}")
                elif not logged_in and member is not None and member.get("Membership") != "static":
                    await self._queue_remove(queue, agent.interface)
                    changes.append(f"removed {agent.interface} from {queue}")
            if agent.state in WRAP_UP_STATES and agent.interface not in self._wrapups:
                # The wrap-up timer died with the link; finish it now rather than leave the agent paused.
                await self.ami.send("QueuePause", {"Interface": agent.interface, "Paused": "false"})
                await self._set_state(agent.id, "available")
                changes.append(f"ended the wrap-up of {agent.interface}")
        for line in changes:
            log.info("agent reconcile: %s", line)
        return changes
