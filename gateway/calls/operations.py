"""Agent-console operations on live calls: each checks the call's state (409 with the reason when it does
not allow the operation), needs the AMI link (503 ``asterisk-unavailable``), and is idempotent: the same
``Idempotency-Key`` returns the first result and never sends the AMI action twice."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.bus import EventBus
from gateway.calls.agents import AgentService
from gateway.calls.ami import AmiClient, AsteriskUnavailable
from gateway.calls.handoffs import WebhooksLookup, enqueue_handoff
from gateway.calls.identifiers import EXTENSION, PHONE_NUMBER, TICKET_ID
from gateway.calls.model import Call, CallModel, conference_room
from gateway.calls.models import CallActionResult, CallRecord, PoliceHandoff
from gateway.config import CallSettings
from gateway.db.base import utcnow
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.http.jsonio import dumps

log = logging.getLogger(__name__)

RESULTS_KEPT = 5000
RESULTS_KEEP = timedelta(days=2)  # stored outcomes of keyed operations (as long as HTTP idempotency records)
SPY_MODES = {"listen", "whisper", "barge"}


def recording_legs(recording: str) -> dict[str, str]:
    """The separate legs MixMonitor writes next to the mixed file. On the citizen's channel r() is the
    audio Asterisk *reads* from it (what the citizen says), t() what it *writes* to it (the agent)."""
    base = recording.removesuffix(".wav")
    return {"citizen": f"{base}-citizen.wav", "agent": f"{base}-agent.wav"}


class CallOperations:
    def __init__(
        self,
        ami: AmiClient,
        model: CallModel,
        agents: AgentService,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        settings: CallSettings,
        webhooks: WebhooksLookup = lambda: None,
    ) -> None:
        """``webhooks`` finds the webhook outbox (started after us) when a 110 handoff is recorded."""
        self.ami = ami
        self.model = model
        self.agents = agents
        self.sessions = sessions
        self.bus = bus
        self.settings = settings
        self.webhooks = webhooks
        self._results: OrderedDict[str, asyncio.Future[dict[str, Any]]] = OrderedDict()

    # ---- plumbing --------------------------------------------------------------------------------

    async def idempotent(
        self, key: str | None, run: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        """Run once per key: a repeat (even concurrent) gets the first result, not a second action."""
        if key is None:
            return await run()
        if key in self._results:
            return await asyncio.shield(self._results[key])
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._results[key] = future
        while len(self._results) > RESULTS_KEPT:
            self._results.popitem(last=False)
        try:
            # Sent before this process started (a restart, or another instance): the stored outcome.
            result = await self._stored_result(key)
            if result is None:
                result = await run()
                await self._store_result(key, result)
        except Exception as exc:
            del self._results[key]  # refused or failed: the caller may fix things and retry
            future.set_exception(exc)
            future.exception()
            raise
        future.set_result(result)
        return result

    async def _stored_result(self, key: str) -> dict[str, Any] | None:
        async with self.sessions() as session:
            row = await session.get(CallActionResult, key)
            return None if row is None else dict(row.result)

    async def _store_result(self, key: str, result: dict[str, Any]) -> None:
        """Within an HTTP request this joins the request's transaction, so the outcome commits with the
        stored response; the action itself is outside any transaction (a crash between the two can repeat
        it: AMI has no idempotency of its own)."""
        now = utcnow()
        async with self.sessions() as session, session.begin():
            await session.execute(delete(CallActionResult).where(CallActionResult.created_at < now - RESULTS_KEEP))
            session.add(CallActionResult(key=key, result=json.loads(dumps(result)), created_at=now))

    def _require_ami(self) -> None:
        if not self.ami.connected:
            raise AsteriskUnavailable(f"Asterisk is not connected: {self.ami.problem()}")

    def live_call(self, call_id: str, *states: str, action: str) -> Call:
        call = self.model.get(call_id)
        if call is None and self.model.has_ended(call_id):
            raise Conflict(
                f"cannot {action}: the call has ended",
                error_id="call-state",
                state="ended",
                allowed=list(states),
            )
        if call is None:
            raise NotFound(f"no live call {call_id!r} (it may have ended)", error_id="no-such-call")
        if states and call.state not in states:
            raise Conflict(
                f"cannot {action}: the call is {call.state}, it must be {' or '.join(states)}",
                error_id="call-state",
                state=call.state,
                allowed=list(states),
            )
        return call

    def _agent_channel(self, call: Call, action: str) -> str:
        if not call.agent_channel:
            raise Conflict(
                f"cannot {action}: no agent is on the call", error_id="call-state", state=call.state
            )
        return call.agent_channel

    @staticmethod
    def _ak(key: str | None, step: str) -> str | None:
        return f"{key}/{step}" if key else None

    # ---- 一键转接 (blind) ------------------------------------------------------------------------

    async def blind_transfer(
        self, call_id: str, target: str, *, actor: str | None = None, key: str | None = None
    ) -> dict[str, Any]:
        number = self.settings.transfer_targets.get(target)
        if number is None and target in self.settings.transfer_targets.values():
            number = target
        if number is None:
            raise InvalidInput(
                f"unknown transfer target {target!r}",
                error_id="unknown-transfer-target",
                known=sorted(self.settings.transfer_targets),
            )

        async def run() -> dict[str, Any]:
            self._require_ami()
            call = self.live_call(call_id, "connected", action="transfer")
            channel = self._agent_channel(call, "transfer")
            call.pending = {"kind": "blind", "target": target}
            await self.ami.send(
                "BlindTransfer",
                {"Channel": channel, "Context": "hotline-transfer", "Exten": number},
                key=self._ak(key, "blind"),
            )
            self.bus.publish(
                "call.transfer_requested",
                transfer_kind="blind",
                target=target,
                number=number,
                actor=actor,
                **call.summary(),
            )
            return {"call_id": call_id, "transfer": "blind", "target": target, "number": number}

        return await self.idempotent(key, run)

    # ---- warm transfer to an expert seat ---------------------------------------------------------

    async def consult_expert(
        self, call_id: str, expert: str, *, actor: str | None = None, key: str | None = None
    ) -> dict[str, Any]:
        group = self.settings.experts.get(expert)
        if group is None:
            raise InvalidInput(
                f"unknown expert group {expert!r}",
                error_id="unknown-expert",
                known=sorted(self.settings.experts),
            )

        async def run() -> dict[str, Any]:
            self._require_ami()
            call = self.live_call(call_id, "connected", action="consult an expert")
            channel = self._agent_channel(call, "consult an expert")
            leg = call.leg_by_channel(channel)
            call.pending = {"kind": "warm", "target": expert, "citizen_bridge": leg.bridge if leg else None}
            call.state = "consulting"
            try:
                await self.ami.send(
                    "Atxfer",
                    {"Channel": channel, "Context": "hotline-expert", "Exten": group.number},
                    key=self._ak(key, "atxfer"),
                )
            except Exception:
                call.state, call.pending = "connected", None
                raise
            # The expert's console shows the ticket draft of this call (tickets subscribes to this event).
            self.bus.publish(
                "call.consulting", expert=expert, expert_label=group.label, actor=actor, **call.summary()
            )
            return {"call_id": call_id, "state": "consulting", "expert": expert}

        return await self.idempotent(key, run)

    async def complete_consultation(self, call_id: str, *, key: str | None = None) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            self._require_ami()
            call = self.live_call(call_id, "consulting", action="complete the transfer")
            channel = self._agent_channel(call, "complete the transfer")
            # Hanging up the transferer completes an attended transfer; an AttendedTransfer event follows.
            await self.ami.send("Hangup", {"Channel": channel, "Cause": 16}, key=self._ak(key, "complete"))
            return {"call_id": call_id, "state": "completing"}

        return await self.idempotent(key, run)

    async def cancel_consultation(self, call_id: str, *, key: str | None = None) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            self._require_ami()
            call = self.live_call(call_id, "consulting", action="cancel the transfer")
            channel = self._agent_channel(call, "cancel the transfer")
            await self.ami.send("CancelAtxfer", {"Channel": channel}, key=self._ak(key, "cancel"))
            return {"call_id": call_id, "state": "cancelling"}

        return await self.idempotent(key, run)

    # ---- 三方通话 ----------------------------------------------------------------------------------

    async def start_conference(
        self, call_id: str, party: str, *, actor: str | None = None, key: str | None = None
    ) -> dict[str, Any]:
        """Move citizen and agent into a ConfBridge; ring the third party (a unit's staff or 110) into it."""
        PHONE_NUMBER.check(party, "party")

        async def run() -> dict[str, Any]:
            self._require_ami()
            call = self.live_call(call_id, "connected", action="start a three-way call")
            agent_channel = self._agent_channel(call, "start a three-way call")
            if not call.citizen_channel:
                raise Conflict(
                    "cannot start a three-way call: the citizen's leg is unknown", error_id="call-state"
                )
            room = conference_room(call_id)
            call.pending = {"kind": "conference", "party": party}
            await self.ami.send(
                "Redirect",
                {
                    "Channel": call.citizen_channel,
                    "ExtraChannel": agent_channel,
                    "Context": "hotline-conference",
                    "Exten": room,
                    "Priority": 1,
                    "ExtraContext": "hotline-conference",
                    "ExtraExten": room,
                    "ExtraPriority": 1,
                },
                key=self._ak(key, "redirect"),
            )
            await self._ring_into_conference(call, party, room, key)
            self.bus.publish(
                "call.conference_requested", party=party, room=room, actor=actor, **call.summary()
            )
            return {"call_id": call_id, "room": room, "party": party}

        return await self.idempotent(key, run)

    async def _ring_into_conference(self, call: Call, party: str, room: str, key: str | None) -> None:
        context = "hotline-police" if party == self.settings.police_number else "hotline-outbound"
        channel_id = f"hl-{uuid.uuid4().hex[:16]}"
        self.model.expect_outbound(channel_id, attach_to=call.call_id, first_leg_role="third_party")
        await self.ami.send(
            "Originate",
            {
                "Channel": f"Local/{party}@{context}",
                "Context": "hotline-conference",
                "Exten": room,
                "Priority": 1,
                "Async": "true",
                "CallerID": "12345",
                "ChannelId": channel_id,
                "OtherChannelId": channel_id + "-2",
                "Variable": f"HOTLINE_CALL_ID={call.call_id}",
            },
            key=self._ak(key, "originate"),
        )

    async def leave_conference(self, call_id: str, *, key: str | None = None) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            self._require_ami()
            call = self.live_call(call_id, "conference", action="leave the three-way call")
            channel = self._agent_channel(call, "leave the three-way call")
            await self.ami.send(
                "ConfbridgeKick",
                {"Conference": conference_room(call_id), "Channel": channel},
                key=self._ak(key, "kick"),
            )
            return {"call_id": call_id, "state": "conference", "agent": "left"}

        return await self.idempotent(key, run)

    # ---- 12345 → 110 -----------------------------------------------------------------------------

    async def transfer_to_police(
        self, call_id: str, record: dict[str, Any], *, actor: str | None = None, key: str | None = None
    ) -> dict[str, Any]:
        """One-key transfer to 110 plus the structured handoff record (stored, published as
        ``handoff.police``; the webhook module signs and delivers it)."""
        for required in ("summary", "location"):
            if not str(record.get(required, "")).strip():
                raise InvalidInput(f"the handoff record needs '{required}'", error_id="handoff-incomplete")

        async def run() -> dict[str, Any]:
            self._require_ami()
            call = self.live_call(call_id, "connected", action="transfer to 110")
            channel = self._agent_channel(call, "transfer to 110")
            call.pending = {"kind": "police", "target": self.settings.police_number}
            await self.ami.send(
                "BlindTransfer",
                {"Channel": channel, "Context": "hotline-police", "Exten": self.settings.police_number},
                key=self._ak(key, "blind"),
            )
            handoff = await self._store_handoff(call, record, actor, key)
            self.bus.publish("handoff.police", **handoff)
            return {"call_id": call_id, "transfer": "police", "handoff": handoff}

        return await self.idempotent(key, run)

    async def _store_handoff(
        self, call: Call, record: dict[str, Any], actor: str | None, key: str | None
    ) -> dict[str, Any]:
        body = {
            "call_id": call.call_id,
            "ticket_id": call.ticket_id,
            "caller": call.caller,
            "caller_name": call.caller_name,
            "agent_id": await self.agents.agent_id_for(call.agent_interface),
            "actor": actor,
            "handed_over_at": utcnow().isoformat(),
            "recording": call.recording,
            **{k: v for k, v in record.items() if k not in ("call_id",)},
        }
        row = PoliceHandoff(
            direction="to_110",
            call_id=call.call_id,
            ticket_id=call.ticket_id,
            incident_id=None,
            idempotency_key=key,
            record=body,
        )
        try:
            async with self.sessions.begin() as session:
                session.add(row)
                await session.flush()
                # Same transaction: the record and its delivery to 110 commit together or not at all.
                await enqueue_handoff(session, self.webhooks(), row)
        except IntegrityError:
            raise Conflict("this handoff was already recorded", error_id="duplicate-handoff") from None
        return {"id": row.id, "direction": "to_110", **body}

    async def record_police_arrival(self, summary: dict[str, Any]) -> dict[str, Any]:
        """110 → 12345: the call from the 110 trunk and its incident id, kept so the ticket can link to it."""
        body = {
            "call_id": summary["call_id"],
            "incident_id": summary.get("incident_id"),
            "caller": summary.get("caller"),
            "arrived_at": utcnow().isoformat(),
        }
        async with self.sessions.begin() as session:
            row = PoliceHandoff(
                direction="from_110",
                call_id=summary["call_id"],
                incident_id=summary.get("incident_id"),
                record=body,
            )
            session.add(row)
        return {"id": row.id, "direction": "from_110", **body}

    # ---- spy, recording, outbound ----------------------------------------------------------------

    async def spy(
        self, agent_id: str, supervisor: str, mode: str, *, key: str | None = None
    ) -> dict[str, Any]:
        if mode not in SPY_MODES:
            raise InvalidInput(f"mode must be one of {sorted(SPY_MODES)}", error_id="invalid-spy-mode")
        EXTENSION.check(supervisor, "supervisor")

        async def run() -> dict[str, Any]:
            self._require_ami()
            agent = await self.agents.get(agent_id)
            if agent["state"] == "logged_out":
                raise Conflict("cannot spy: the agent is not logged in", error_id="agent-logged-out")
            call = self.model.call_of_agent(agent["interface"])
            # The exact channel when on a call; else the prefix with a dash so PJSIP/1001 never matches 10010.
            target = call.agent_channel if call and call.agent_channel else f"{agent['interface']}-"
            channel_id = f"hl-spy-{uuid.uuid4().hex[:12]}"
            self.model.expect_outbound(channel_id, kind="spy", first_leg_role="supervisor")
            await self.ami.send(
                "Originate",
                {
                    "Channel": f"PJSIP/{supervisor}",
                    "Context": "hotline-spy",
                    "Exten": mode,
                    "Priority": 1,
                    "Async": "true",
                    "CallerID": f"{mode} {agent_id}",
                    "ChannelId": channel_id,
                    "Variable": f"HOTLINE_SPY_TARGET={target}",
                },
                key=self._ak(key, "spy"),
            )
            return {"agent_id": agent_id, "supervisor": supervisor, "mode": mode, "target": target}

        return await self.idempotent(key, run)

    def announce_recording(self, call_id: str) -> str | None:
        """Publish ``call.recording`` once per call, when the citizen's leg shows its recording.

        The dialplan (asterisk_conf ``hotline-record``) starts MixMonitor on the citizen's leg as it joins
        the queue, with the separate legs of ``recording_legs``; it follows that channel through transfers
        and conferences. The gateway does not start it over AMI: the MixMonitor action needs the AMI
        ``system`` write class, which would also let the gateway's AMI user run shell commands."""
        call = self.model.get(call_id)
        if call is None or not call.recording:
            if call is not None:
                log.warning("call %s is not being recorded: is hotline-record in the dialplan?", call_id)
            return None
        if not call.recording_announced:
            call.recording_announced = True
            self.bus.publish("call.recording", **call.summary())
        return call.recording

    async def originate(
        self,
        kind: str,
        number: str,
        *,
        agent_id: str | None = None,
        ticket_id: str | None = None,
        key: str | None = None,
    ) -> dict[str, Any]:
        """Outbound calls: ``callback`` rings the agent first, then the citizen; ``survey`` rings the citizen
        into the voice-survey flow."""
        if kind not in ("callback", "survey"):
            raise InvalidInput("kind must be callback or survey", error_id="invalid-outbound-kind")
        PHONE_NUMBER.check(number, "number")
        TICKET_ID.optional(ticket_id, "ticket_id")

        async def run() -> dict[str, Any]:
            self._require_ami()
            call_id = f"hl-{uuid.uuid4().hex[:16]}"
            variables = [f"HOTLINE_CALL_ID={call_id}", f"HOTLINE_KIND={kind}"]
            if ticket_id:
                variables.append(f"HOTLINE_TICKET_ID={ticket_id}")
            if kind == "callback":
                if not agent_id:
                    raise InvalidInput("a callback needs agent_id", error_id="agent-required")
                agent = await self.agents.get(agent_id)
                self.model.expect_outbound(
                    call_id,
                    kind=kind,
                    caller=number,
                    ticket_id=ticket_id,
                    agent_interface=agent["interface"],
                    first_leg_role="agent",
                )
                fields = {"Channel": agent["interface"], "Context": "hotline-callback", "Exten": number}
            else:
                self.model.expect_outbound(
                    call_id, kind=kind, caller=number, ticket_id=ticket_id, first_leg_role="local"
                )
                fields = {
                    "Channel": f"Local/{number}@hotline-outbound",
                    "Context": "hotline-survey",
                    "Exten": "s",
                }
            await self.ami.send(
                "Originate",
                {
                    **fields,
                    "Priority": 1,
                    "Async": "true",
                    "CallerID": "12345",
                    "ChannelId": call_id,
                    "Variable": variables,
                },
                key=self._ak(key, "originate"),
            )
            return {"call_id": call_id, "kind": kind, "number": number, "ticket_id": ticket_id}

        return await self.idempotent(key, run)

    # ---- tickets -----------------------------------------------------------------------------------

    async def link_ticket(self, call_id: str, ticket_id: str) -> dict[str, Any]:
        call = self.model.get(call_id)
        if call is not None:
            call.ticket_id = ticket_id
        async with self.sessions.begin() as session:
            row = await session.get(CallRecord, call_id)
            if row is None and call is None:
                raise NotFound(f"no call {call_id!r}", error_id="no-such-call")
            if row is not None:
                row.ticket_id = ticket_id
        self.bus.publish("call.ticket_linked", call_id=call_id, ticket_id=ticket_id)
        return {"call_id": call_id, "ticket_id": ticket_id}
