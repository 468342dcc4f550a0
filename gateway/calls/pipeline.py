"""The single consumer of AMI events: event → call model → agents → domain events on the bus.

One task reads ``AmiClient.events`` in order. On ``LINK_UP`` it resyncs (CoreShowChannels, QueueStatus,
ConfbridgeListRooms/ConfbridgeList) and reconciles the agents *before* reading further, so events that
arrive meanwhile wait in the queue and are applied after the snapshot, in order. Slow side effects
(MixMonitor, wrap-up, agent views) run in other tasks: the pipeline never waits on them.

Stored before announced: the pipeline applies every event already waiting (a batch), the recorder writes
the batch's call summaries in one transaction, and only then are its domain events published and its
reactions started. So a call anyone has seen answered or ended (consoles, webhooks, wrap-up) is in the
database even if the process is killed the next instant, at one commit per batch rather than per event
(events that arrive during the commit form the next batch). While the database fails the pipeline does
not wait: it announces at once and the recorder keeps retrying.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from gateway.bus import EventBus
from gateway.calls.agents import AgentService
from gateway.calls.ami import LINK_UP, AmiClient, AsteriskRefused, AsteriskUnavailable
from gateway.calls.hold import HoldControl
from gateway.calls.model import CallModel
from gateway.calls.operations import CallOperations
from gateway.calls.recorder import CallRecorder

log = logging.getLogger(__name__)

BATCH = 1000  # events applied before their summaries are stored and announced: bounds the batch's latency
STORE_WAIT = 2.0  # longest the announcements of a batch wait for its commit (a slow database)

SAVED = {
    "call.offered",
    "call.adopted",
    "call.connected",
    "call.abandoned",
    "call.transferred",
    "call.transfer_failed",
    "call.conference",
    "call.ended",
    "call.recording",
    "call.police_incoming",
    "call.held",
    "call.resumed",
}


class CallPipeline:
    def __init__(
        self,
        ami: AmiClient,
        model: CallModel,
        agents: AgentService,
        operations: CallOperations,
        recorder: CallRecorder | None,
        bus: EventBus,
        holds: HoldControl | None = None,
    ) -> None:
        self.ami = ami
        self.model = model
        self.agents = agents
        self.operations = operations
        self.recorder = recorder
        self.bus = bus
        self.holds = holds or HoldControl(operations)
        self.processed = 0
        self.resyncs = 0
        self._synced = False
        self._side_tasks: set[asyncio.Task[Any]] = set()
        self._held: list[tuple[str, dict[str, Any]]] = []  # published, not yet announced (see _release)

    async def run(self) -> None:
        events = self.ami.events
        while True:
            batch = [await events.get()]
            while len(batch) < BATCH and not events.empty():
                batch.append(events.get_nowait())
            for event in batch:
                if event.get("Event") == LINK_UP:
                    await self._release()  # what came before the gap, announced before the resync
                    self._synced = await self.resync()
                    continue
                if event.get("Event") == "FullyBooted" and not self._synced:
                    # We logged in while Asterisk was still starting (after a restart its modules load after
                    # the AMI listener: QueueStatus was an unknown command). Now everything is loaded.
                    await self._release()
                    self._synced = await self.resync()
                    continue
                try:
                    published = self.model.apply(event)
                    if (interface := self.agents.apply(event)) is not None:
                        self._side(self.agents.publish_view(interface), f"agent state {interface}")
                    self.processed += 1
                    for kind, data in published:
                        self.publish(kind, data)
                except Exception:  # a bug on one odd event must not stop call control
                    log.exception("could not apply AMI event %s", event.get("Event"))
            await self._release()

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Save the summary now; announce it (bus, reactions) at ``_release``, once it is stored."""
        if data.get("agent_interface") and not data.get("agent_id"):
            data["agent_id"] = self.agents._by_interface.get(data["agent_interface"])
        if (call := self.model.get(str(data.get("call_id", "")))) is not None:
            # The live call carries what its stored row carries: the agent and when it last changed.
            if call.agent_interface == data.get("agent_interface") and data.get("agent_id"):
                call.agent_id = data["agent_id"]
            call.updated_at = data["updated_at"] = self.model.clock()
        if self.recorder is not None and kind in SAVED:
            self.recorder.save(data)
        self._held.append((kind, data))

    async def _release(self) -> None:
        """Wait until the summaries saved so far are committed, then announce what was held back."""
        if not self._held:
            return
        if self.recorder is not None and self.recorder.healthy:
            try:
                async with asyncio.timeout(STORE_WAIT):
                    await self.recorder.drain()
            except TimeoutError:
                log.warning("call summaries not stored within %.0f s: announced before they are", STORE_WAIT)
        held, self._held = self._held, []
        for kind, data in held:
            self._announce(kind, data)

    def _announce(self, kind: str, data: dict[str, Any]) -> None:
        self.bus.publish(kind, **data)  # summaries use "call_kind": "kind" is the bus's own argument
        if kind in ("call.offered", "call.adopted") and data.get("direction") == "inbound":
            self.operations.announce_recording(data["call_id"])
        elif kind == "call.agent_completed" and data.get("agent_interface") and not data.get("reconciled"):
            # (A call found ended after a gap ended long ago, maybe: no wrap-up pause for it now.)
            self.agents.start_wrapup(str(data["agent_interface"]))
        elif kind == "call.police_incoming":
            self._side(self._police_arrival(data), f"110 arrival {data['call_id']}")
        if (reaction := self.holds.react(kind, data)) is not None:
            self._side(reaction, f"{kind} {data.get('call_id')}")

    async def _police_arrival(self, data: dict[str, Any]) -> None:
        handoff = await self.operations.record_police_arrival(data)
        self.bus.publish("handoff.police_incoming", **handoff)

    def _side(self, coro: Any, what: str) -> None:
        task = asyncio.create_task(coro, name=what)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_done)

    def _side_done(self, task: asyncio.Task[Any]) -> None:
        self._side_tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            message = getattr(exc, "message", repr(exc))
            log.warning("%s failed: %s", task.get_name(), message)

    async def settle(self) -> None:
        """Wait for the side tasks started so far (tests, shutdown)."""
        while self._side_tasks:
            await asyncio.gather(*self._side_tasks, return_exceptions=True)

    async def resync(self) -> bool:
        """After a (re)connect: rebuild what changed while we were away; make Asterisk match our agents.
        False when it could not run (it runs again on FullyBooted or the next connect)."""
        try:
            channels = await self.ami.send("CoreShowChannels")
            status = await self.ami.send("QueueStatus")
            rooms = await self._conference_rooms()
        except (AsteriskUnavailable, AsteriskRefused) as exc:
            log.warning("resync after reconnect failed (%s); it runs again when Asterisk is up", exc.message)
            return False
        entries = [row for row in status.events if row.get("Event") == "QueueEntry"]
        members = [row for row in status.events if row.get("Event") == "QueueMember"]
        for kind, data in self.model.resync(channels.events, entries, await self._stored_open_calls()):
            self.publish(kind, data)
        await self._release()
        for room, rows in rooms.items():
            for row in rows:
                call = next((c for c in self.model.calls.values() if c.leg_by_channel(row.get("Channel"))), None)
                if call is not None:
                    call.conference, call.state, call.left_queue_bridge = room, "conference", True
        for row in members:
            self.agents.apply({**row, "Event": "QueueMemberStatus", "Interface": row.get("Location")})
        try:
            await self.agents.reconcile(members)
        except (AsteriskUnavailable, AsteriskRefused) as exc:
            log.warning("agent reconcile failed (%s); it runs again when Asterisk is up", exc.message)
            return False
        self.resyncs += 1
        self.bus.publish(
            "pbx.resynced",
            calls=len(self.model.calls),
            channels=len(channels.events),
            connects=self.ami.connects,
        )
        return True

    async def _stored_open_calls(self) -> dict[str, dict[str, Any]]:
        """What the database holds as up (a gateway that died left it so); the recorder's pending writes
        first, so a call the model ended a moment ago is not read back as up."""
        if self.recorder is None:
            return {}
        try:
            async with asyncio.timeout(5):
                await self.recorder.drain()
                return await self.recorder.open_calls()
        except Exception as exc:  # the database down must not stop call control: Asterisk is the truth
            log.warning("stored calls unreadable (%s): calls stored as up are reconciled at the next resync", exc)
            return {}

    async def _conference_rooms(self) -> dict[str, list[dict[str, Any]]]:
        try:
            rooms = await self.ami.send("ConfbridgeListRooms")
        except AsteriskRefused:
            return {}  # "No active conferences."
        out = {}
        for row in rooms.events:
            room = str(row.get("Conference"))
            try:
                out[room] = (await self.ami.send("ConfbridgeList", {"Conference": room})).events
            except AsteriskRefused:
                out[room] = []  # emptied between the two actions
        return out
