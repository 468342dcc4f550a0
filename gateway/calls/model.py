"""The call model: what is happening on the PBX, rebuilt from AMI events alone. Pure: no I/O, no awaits.

A call is keyed by ``Linkedid`` (the oldest channel of the call; it is also our call id), its legs by
``Uniqueid``. Bridges hold any number of channels. ``apply(event)`` updates the model and returns the
domain events to publish (``("call.connected", {...})``). Events may arrive out of order or for calls the
model never saw begin (the gateway reconnected mid-call): a call is adopted from any channel event;
events for a call that already ended are ignored. ``resync`` reconciles with a CoreShowChannels
snapshot after a reconnect or an Asterisk restart.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gateway.db.base import utcnow

AmiEvent = dict[str, Any]
DomainEvents = list[tuple[str, dict[str, Any]]]

LIVE_STATES = ("new", "queued", "ringing", "connected", "held", "consulting", "conference", "transferred")
HOLD_CONTEXT = "hotline-hold"  # asterisk_conf: the citizen hears music at s, the agent's leg waits at agent
ENDED_MEMORY = 10_000  # how many ended call ids we remember to ignore their late events
# HOTLINE_ENTRY_OUTCOME, which the voice entry (ivr/) sets when it, not the citizen, ends the entry.
ENTRY_OUTCOMES = {"emergency": "emergency", "callback": "self_service", "self_service": "self_service"}


@dataclass(slots=True)
class Leg:
    uniqueid: str
    channel: str
    role: str = "other"  # citizen | agent | expert | third_party | local | supervisor | other
    state: str = ""
    bridge: str | None = None
    on_hold: bool = False  # the phone itself put this leg on hold (SIP re-INVITE)
    hangup_cause: int | None = None
    # An agent's leg answered from the queue: since when it talks, and the call's hold total then. Cleared
    # once its talk time is counted (Asterisk's AgentComplete, or ours when the call left the queue bridge).
    talk_from: datetime | None = None
    hold_base: int = 0
    interface: str | None = None  # the queue member (PJSIP/1001) an agent's leg belongs to


@dataclass(slots=True)
class Call:
    call_id: str  # = Linkedid
    caller: str = ""
    caller_name: str = ""
    kind: str = "citizen"  # citizen | police | callback | survey | spy
    direction: str = "inbound"
    state: str = "new"
    queue: str | None = None
    agent_interface: str | None = None
    agent_id: str | None = None  # the agent of agent_interface (the pipeline knows the agents)
    agent_channel: str | None = None
    citizen_channel: str | None = None
    incident_id: str | None = None
    # The other 12345 platform's call id (its X-Hotline-Call-Id) when it one-key-transferred the call to us.
    remote_call_id: str | None = None
    ticket_id: str | None = None
    conference: str | None = None
    recording: str | None = None  # MIXMONITOR_FILENAME: the dialplan (hotline-record) starts it
    recording_announced: bool = False  # call.recording was published
    speech_id: str | None = None
    started_at: datetime = field(default_factory=utcnow)
    queued_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    hold_seconds: int | None = None  # Asterisk's HoldTime: the wait in the queue before an agent answered
    ring_seconds: int | None = None
    talk_seconds: int | None = None  # the agent's talk, without the time the citizen was on hold
    on_hold_seconds: int = 0  # put on hold by the agent (console hold), in total
    holds: int = 0
    held_at: datetime | None = None
    # Citizen and agent left app_queue's bridge (hold, 三方通话): Asterisk sends no AgentComplete after that,
    # so the model counts the agent's talk itself when the agent's leg goes.
    left_queue_bridge: bool = False
    abandoned: bool = False
    entry_outcome: str | None = None  # HOTLINE_ENTRY_OUTCOME of the citizen's leg (see ENTRY_OUTCOMES)
    complete_reason: str | None = None
    hangup_cause: int | None = None
    hangup_text: str | None = None
    end_reason: str | None = None
    pending: dict[str, Any] | None = None  # an operation in progress (warm transfer …)
    transfers: list[dict[str, Any]] = field(default_factory=list)
    legs: dict[str, Leg] = field(default_factory=dict)
    updated_at: datetime | None = None  # when a summary of this call was last published

    def live_legs(self) -> list[Leg]:
        return [leg for leg in self.legs.values() if leg.hangup_cause is None]

    def leg_by_channel(self, channel: str | None) -> Leg | None:
        return next((leg for leg in self.legs.values() if leg.channel == channel), None)

    @property
    def outcome(self) -> str | None:
        """answered | abandoned (in a queue) | transferred | unanswered, and for a citizen who never reached
        a queue: entry_abandoned (hung up in the voice entry), emergency (sent to 110/119/120/122 by the
        voice entry) or self_service (the voice entry ended the call, e.g. a callback registered)."""
        if any(t.get("result") == "success" for t in self.transfers):
            return "transferred"
        if self.answered_at is not None:
            return "answered"
        if self.abandoned:
            return "abandoned"
        if self.state != "ended":
            return None
        if self.direction == "inbound" and self.kind == "citizen" and self.queue is None and self.queued_at is None:
            return ENTRY_OUTCOMES.get(self.entry_outcome or "", "entry_abandoned")
        return "unanswered"

    def summary(self) -> dict[str, Any]:
        """What a console (and the tickets capability) needs to know about a call."""
        return {
            "call_id": self.call_id,
            "linkedid": self.call_id,
            "caller": self.caller,
            "caller_name": self.caller_name,
            "call_kind": self.kind,
            "direction": self.direction,
            "state": self.state,
            "queue": self.queue,
            "agent_interface": self.agent_interface,
            "agent_id": self.agent_id,
            "agent_channel": self.agent_channel,
            "citizen_channel": self.citizen_channel,
            "incident_id": self.incident_id,
            "remote_call_id": self.remote_call_id,
            "ticket_id": self.ticket_id,
            "conference": self.conference,
            "recording": self.recording,
            "speech_id": self.speech_id,
            "started_at": self.started_at,
            "queued_at": self.queued_at,
            "answered_at": self.answered_at,
            "ended_at": self.ended_at,
            "hold_seconds": self.hold_seconds,
            "ring_seconds": self.ring_seconds,
            "talk_seconds": self.talk_seconds,
            "on_hold_seconds": self.on_hold_seconds,
            "holds": self.holds,
            "held_at": self.held_at,
            "abandoned": self.abandoned,
            "hangup_cause": self.hangup_cause,
            "hangup_text": self.hangup_text,
            "end_reason": self.end_reason,
            "transfers": list(self.transfers),
            "outcome": self.outcome,
            "updated_at": self.updated_at or self.started_at,
        }


def conference_room(call_id: str) -> str:
    """The ConfBridge room (an extension in hotline-conference) of a call: its id's digits."""
    return "".join(ch for ch in call_id if ch.isdigit())


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class CallModel:
    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self.clock = clock
        self.calls: dict[str, Call] = {}
        self.bridges: dict[str, set[str]] = {}  # BridgeUniqueid → Uniqueids in it
        self._leg_call: dict[str, str] = {}  # Uniqueid → call id
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._expected: dict[str, dict[str, Any]] = {}  # Uniqueid we chose on Originate → call tags
        self._first_role: dict[str, str] = {}  # Uniqueid → role of the leg we originated
        self._alias: dict[str, str] = {}  # Linkedid of an originated party → the call it joined

    def forget(self) -> None:
        """Drop everything known (a deposed leader): whoever leads next rebuilds it from Asterisk's resync,
        and a stale picture must never end, on a later resync, calls another leader already recorded."""
        for state in (self.calls, self.bridges, self._leg_call, self._ended, self._expected, self._first_role,
                      self._alias):
            state.clear()

    # ---- queries ---------------------------------------------------------------------------------

    def get(self, call_id: str) -> Call | None:
        return self.calls.get(call_id)

    def has_ended(self, call_id: str) -> bool:
        """True for a call that ended recently (the last ``ENDED_MEMORY`` calls)."""
        return call_id in self._ended

    def call_of_agent(self, interface: str) -> Call | None:
        """The call the agent at ``interface`` is in: its leg is still in the call."""
        return next(
            (c for c in self.calls.values() if c.agent_interface == interface and c.agent_channel), None
        )

    def expect_outbound(self, uniqueid: str, **tags: Any) -> None:
        """Operations pick the Uniqueid of an originated channel (Originate ChannelId) and tag it here."""
        self._expected[uniqueid] = tags

    # ---- events ----------------------------------------------------------------------------------

    def apply(self, event: AmiEvent) -> DomainEvents:
        handler = getattr(self, "_on_" + str(event.get("Event", "")), None)
        if handler is None:
            return []  # an event we do not use (or do not know yet: newer Asterisk)
        out: DomainEvents = []
        handler(event, out)
        return out

    def _call(self, event: AmiEvent, *, adopt: bool = True, prefix: str = "") -> Call | None:
        linkedid = str(event.get(prefix + "Linkedid") or "")
        uniqueid = str(event.get(prefix + "Uniqueid") or "")
        if not linkedid:
            return None
        if linkedid in self._expected and "attach_to" in self._expected[linkedid]:
            # A party we originated into an existing call (三方通话): its channels join that call.
            self._alias[linkedid] = self._expected[linkedid]["attach_to"]
            self._first_role[linkedid] = self._expected.pop(linkedid).get("first_leg_role", "other")
        call_id = self._alias.get(linkedid, linkedid)
        if call_id in self._ended:
            return None
        call = self.calls.get(call_id)
        if call is None:
            if not adopt:
                return None
            call = Call(call_id=call_id, started_at=self.clock())
            self.calls[call_id] = call
            tags = self._expected.pop(call_id, None)
            if tags:
                first_role = tags.pop("first_leg_role", "other")
                for name, value in tags.items():
                    setattr(call, name, value)
                call.direction = "outbound"
                self._first_role[call_id] = first_role
        if uniqueid and uniqueid not in call.legs:
            channel = str(event.get(prefix + "Channel", ""))
            leg = Leg(uniqueid=uniqueid, channel=channel)
            if uniqueid == call_id and call.direction == "inbound":
                leg.role = "citizen"
                call.citizen_channel = channel
                call.caller = _number(event.get(prefix + "CallerIDNum"))
                call.caller_name = _number(event.get(prefix + "CallerIDName"))
            elif uniqueid in self._first_role:
                leg.role = self._first_role.pop(uniqueid)
                if leg.role == "agent":
                    call.agent_channel = channel
            elif channel.startswith("Local/"):
                leg.role = "local"
            call.legs[uniqueid] = leg
            self._leg_call[uniqueid] = call_id
        return call

    def _on_Newchannel(self, e: AmiEvent, out: DomainEvents) -> None:
        call = self._call(e)
        if call is not None and e.get("Uniqueid") in call.legs:
            call.legs[e["Uniqueid"]].state = str(e.get("ChannelStateDesc", ""))

    def _on_Newstate(self, e: AmiEvent, out: DomainEvents) -> None:
        self._on_Newchannel(e, out)

    def _on_NewCallerid(self, e: AmiEvent, out: DomainEvents) -> None:
        call = self._call(e)
        if call is not None and e.get("Uniqueid") == call.call_id and call.direction == "inbound":
            call.caller = _number(e.get("CallerIDNum")) or call.caller
            call.caller_name = _number(e.get("CallerIDName")) or call.caller_name

    def _on_UserEvent(self, e: AmiEvent, out: DomainEvents) -> None:
        call = self._call(e)
        if call is None:
            return
        name = e.get("UserEvent")
        if name == "HotlineSpeech":
            # The entry's live-speech stream started: name its UUID now, before the first words are heard.
            call.speech_id = chan_vars(e).get("HOTLINE_SPEECH_ID") or call.speech_id
            out.append(("call.speech_started", call.summary()))
        elif name == "HotlinePolice":
            call.kind = "police"
            call.incident_id = str(e.get("IncidentId", "")) or None
            out.append(("call.police_incoming", call.summary()))
        elif name == "HotlineCall" and e.get("Kind"):
            call.kind = str(e["Kind"])
        elif name == "HotlineHoldEnded" and call.state == "held":
            # Nobody resumed (hold limit) or the agent's leg dropped: the citizen goes back to the queue.
            self._end_hold(call)
            call.state = "queued"
            out.append(("call.hold_requeued", {**call.summary(), "reason": e.get("Reason")}))
        elif name == "HotlineTransferFailed":
            # hotline-transfer(-failed): the target did not answer and the citizen goes back to the queue.
            transfer = next((t for t in reversed(call.transfers) if t.get("result") == "success"), None)
            if transfer is not None:
                transfer["result"] = "failed"
                transfer["dial_status"] = str(e.get("DialStatus", "")) or None
            call.state = "queued"
            call.agent_channel = None
            out.append(("call.transfer_failed", {**call.summary(), "transfer": transfer}))

    def _on_QueueCallerJoin(self, e: AmiEvent, out: DomainEvents) -> None:
        call = self._call(e)
        if call is None:
            return
        call.queue = str(e.get("Queue"))
        call.state = "queued"
        call.queued_at = call.queued_at or self.clock()
        # The live-speech stream of this call (AudioSocket UUID), so the speech service can tell calls apart.
        call.speech_id = chan_vars(e).get("HOTLINE_SPEECH_ID") or call.speech_id
        call.remote_call_id = chan_vars(e).get("HOTLINE_REMOTE_CALL_ID") or call.remote_call_id
        call.recording = chan_vars(e).get("MIXMONITOR_FILENAME") or call.recording
        out.append(
            (
                "call.offered",
                {**call.summary(), "position": _int(e.get("Position")), "waiting": _int(e.get("Count"))},
            )
        )

    def _on_AgentCalled(self, e: AmiEvent, out: DomainEvents) -> None:
        call = self._call(e)
        if call is None:
            return
        self._call(e, prefix="Dest")  # the agent's leg
        if leg := call.legs.get(str(e.get("DestUniqueid"))):
            leg.role = "agent"
        if call.state in ("new", "queued"):
            call.state = "ringing"
        out.append(
            (
                "call.ringing",
                {
                    **call.summary(),
                    "ringing_interface": e.get("Interface"),
                    "member_name": e.get("MemberName"),
                },
            )
        )

    def _on_AgentRingNoAnswer(self, e: AmiEvent, out: DomainEvents) -> None:
        call = self._call(e)
        if call is not None and call.state == "ringing":
            call.state = "queued"
        if call is not None:
            out.append(("call.ring_no_answer", {**call.summary(), "ringing_interface": e.get("Interface")}))

    def _on_AgentConnect(self, e: AmiEvent, out: DomainEvents) -> None:
        call = self._call(e)
        if call is None:
            return
        self._call(e, prefix="Dest")
        if leg := call.legs.get(str(e.get("DestUniqueid"))):
            leg.role = "agent"
            leg.talk_from, leg.hold_base, leg.interface = self.clock(), call.on_hold_seconds, e.get("Interface")
        call.state = "connected"
        call.queue = str(e.get("Queue") or call.queue)
        call.agent_interface = str(e.get("Interface"))
        call.agent_channel = str(e.get("DestChannel"))
        if call.answered_at is None:  # the first answer counts for the KPIs, not one after a failed transfer
            call.hold_seconds = _int(e.get("HoldTime"))
            call.ring_seconds = _int(e.get("RingTime"))
            call.answered_at = self.clock()
        out.append(("call.connected", call.summary()))

    def _on_QueueCallerAbandon(self, e: AmiEvent, out: DomainEvents) -> None:
        call = self._call(e)
        if call is None:
            return
        if call.pending and call.pending.get("kind") == "redirect":
            return  # our own one-key transfer out of the queue: Asterisk reports it as an abandon
        call.abandoned = True
        call.hold_seconds = _int(e.get("HoldTime"))
        out.append(("call.abandoned", call.summary()))

    def _on_AgentComplete(self, e: AmiEvent, out: DomainEvents) -> None:
        call = self._call(e)
        if call is None:
            return
        call.talk_seconds = _int(e.get("TalkTime"))
        call.complete_reason = str(e.get("Reason", "")) or None
        if leg := call.legs.get(str(e.get("DestUniqueid"))):
            leg.talk_from = None  # counted by Asterisk
        out.append(
            (
                "call.agent_completed",
                {**call.summary(), "agent_interface": e.get("Interface"), "reason": call.complete_reason},
            )
        )

    # ---- bridges ---------------------------------------------------------------------------------

    def _on_BridgeCreate(self, e: AmiEvent, out: DomainEvents) -> None:
        self.bridges.setdefault(str(e.get("BridgeUniqueid")), set())

    def _on_BridgeEnter(self, e: AmiEvent, out: DomainEvents) -> None:
        bridge = str(e.get("BridgeUniqueid"))
        self.bridges.setdefault(bridge, set()).add(str(e.get("Uniqueid")))
        call = self._call(e)
        if call is None or (leg := call.legs.get(str(e.get("Uniqueid")))) is None:
            return
        leg.bridge = bridge
        if call.state == "held" and self._citizen_with_agent(call, bridge):
            # AMI Bridge brought the citizen back from hotline-hold to the agent.
            self._end_hold(call)
            call.state = "connected"
            out.append(("call.resumed", call.summary()))
            return
        pending = call.pending
        # The agent coming back to the citizen's bridge ends a consultation (cancelled warm transfer).
        if (
            call.state == "consulting"
            and leg.role == "agent"
            and pending
            and pending.get("citizen_bridge") == bridge
            and pending.get("consulted")
        ):
            call.state = "connected"
            call.pending = None
            call.transfers.append(
                {"kind": "warm", "target": pending.get("target"), "result": "cancelled", "at": self.clock()}
            )
            out.append(("call.transfer_cancelled", call.summary()))

    def _on_BridgeLeave(self, e: AmiEvent, out: DomainEvents) -> None:
        bridge = str(e.get("BridgeUniqueid"))
        self.bridges.get(bridge, set()).discard(str(e.get("Uniqueid")))
        call = self._call(e, adopt=False)
        if call is not None and (leg := call.legs.get(str(e.get("Uniqueid")))) and leg.bridge == bridge:
            leg.bridge = None
            if call.state == "consulting" and leg.role == "agent" and call.pending:
                call.pending["consulted"] = True

    def _on_BridgeMerge(self, e: AmiEvent, out: DomainEvents) -> None:
        source = self.bridges.pop(str(e.get("FromBridgeUniqueid")), set())
        target = str(e.get("ToBridgeUniqueid"))
        self.bridges.setdefault(target, set()).update(source)
        for uniqueid in source:
            if (call := self.calls.get(self._leg_call.get(uniqueid, ""))) and uniqueid in call.legs:
                call.legs[uniqueid].bridge = target

    def _on_BridgeDestroy(self, e: AmiEvent, out: DomainEvents) -> None:
        self.bridges.pop(str(e.get("BridgeUniqueid")), None)

    def _on_MusicOnHoldStart(self, e: AmiEvent, out: DomainEvents) -> None:
        """The citizen hears the hold music of hotline-hold: the agent's console put the call on hold (the
        queue's and a warm transfer's music play elsewhere)."""
        call = self._call(e, adopt=False)
        leg = call.legs.get(str(e.get("Uniqueid"))) if call else None
        if call is None or leg is None or leg.role != "citizen" or e.get("Context") != HOLD_CONTEXT:
            return
        if call.state != "held":
            call.state, call.held_at, call.pending = "held", self.clock(), None
            call.holds += 1
            call.left_queue_bridge = True
            out.append(("call.held", call.summary()))

    def _citizen_with_agent(self, call: Call, bridge: str) -> bool:
        citizen, agent = call.leg_by_channel(call.citizen_channel), call.leg_by_channel(call.agent_channel)
        return citizen is not None and agent is not None and citizen.bridge == agent.bridge == bridge

    def _end_hold(self, call: Call) -> None:
        if call.held_at is not None:
            call.on_hold_seconds += round((self.clock() - call.held_at).total_seconds())
            call.held_at = None

    def _on_Hold(self, e: AmiEvent, out: DomainEvents) -> None:
        call = self._call(e, adopt=False)
        if call is not None and (leg := call.legs.get(str(e.get("Uniqueid")))):
            leg.on_hold = e.get("Event") == "Hold"

    _on_Unhold = _on_Hold

    def _on_DialBegin(self, e: AmiEvent, out: DomainEvents) -> None:
        call = self._call(e, prefix="Dest")
        if call is None:
            return
        leg = call.legs.get(str(e.get("DestUniqueid")))
        if leg is None or leg.role not in ("other", "local"):
            return
        pending = call.pending or {}
        if leg.channel.startswith("Local/"):
            return
        if pending.get("kind") == "warm":
            leg.role = "expert"
        elif call.state == "conference":
            leg.role = "third_party"
        elif call.direction == "outbound" and call.citizen_channel is None:
            leg.role = "citizen"
            call.citizen_channel = leg.channel

    def _on_DialEnd(self, e: AmiEvent, out: DomainEvents) -> None:
        call = self._call(e, adopt=False, prefix="Dest")
        if call is None or call.direction != "outbound" or e.get("DialStatus") != "ANSWER":
            return
        leg = call.legs.get(str(e.get("DestUniqueid")))
        if leg is not None and leg.role == "citizen" and call.answered_at is None:
            call.answered_at = self.clock()
            call.state = "connected"
            out.append(("call.connected", call.summary()))

    def _on_LocalBridge(self, e: AmiEvent, out: DomainEvents) -> None:
        for prefix in ("LocalOne", "LocalTwo"):
            if (call := self._call(e, prefix=prefix)) and (leg := call.legs.get(str(e.get(prefix + "Uniqueid")))):
                # A half we originated keeps the role we gave it (the ;1 half of Local/110@hotline-police
                # is the third party in the 三方通话: Asterisk sends LocalBridge after its Newchannel).
                if leg.role == "other":
                    leg.role = "local"

    def _on_LocalOptimizationEnd(self, e: AmiEvent, out: DomainEvents) -> None:
        # The Local halves are swapped out of the path; their Hangup events follow and close the legs.
        pass

    # ---- transfers and conferences ---------------------------------------------------------------

    def _on_BlindTransfer(self, e: AmiEvent, out: DomainEvents) -> None:
        call = self._call(e, adopt=False, prefix="Transferee") or self._call(e, adopt=False, prefix="Transferer")
        if call is None:
            return
        result = str(e.get("Result", ""))
        transfer = {
            "kind": "blind",
            "target": e.get("Extension"),
            "context": e.get("Context"),
            "result": result.lower(),
            "at": self.clock(),
        }
        if call.pending and call.pending.get("kind") in ("blind", "police"):
            transfer["kind"] = call.pending["kind"]
            call.pending = None
        call.transfers.append(transfer)
        if result == "Success":
            call.state = "transferred"
            out.append(("call.transferred", {**call.summary(), "transfer": transfer}))
        else:
            out.append(("call.transfer_failed", {**call.summary(), "transfer": transfer}))

    def _on_AttendedTransfer(self, e: AmiEvent, out: DomainEvents) -> None:
        call = self._call(e, adopt=False, prefix="Transferee") or self._call(e, adopt=False, prefix="OrigTransferer")
        if call is None:
            return
        result = str(e.get("Result", ""))
        target = (call.pending or {}).get("target")
        transfer = {
            "kind": "warm",
            "target": target,
            "dest_type": e.get("DestType"),
            "result": result.lower(),
            "at": self.clock(),
        }
        call.pending = None
        call.transfers.append(transfer)
        if result == "Success":
            call.state = "transferred"
            out.append(("call.transferred", {**call.summary(), "transfer": transfer}))
        else:
            call.state = "connected"
            out.append(("call.transfer_failed", {**call.summary(), "transfer": transfer}))

    def _on_ConfbridgeJoin(self, e: AmiEvent, out: DomainEvents) -> None:
        call = self._call(e)
        if call is None:
            return
        call.conference = str(e.get("Conference"))
        call.left_queue_bridge = True
        if call.state != "conference":
            call.state = "conference"
            out.append(("call.conference", call.summary()))
        leg = call.legs.get(str(e.get("Uniqueid")))
        if leg is not None and leg.role == "other":
            leg.role = "third_party"
        out.append(
            (
                "call.conference_joined",
                {**call.summary(), "channel": e.get("Channel"), "role": leg.role if leg else None},
            )
        )

    def _on_ConfbridgeLeave(self, e: AmiEvent, out: DomainEvents) -> None:
        call = self._call(e, adopt=False)
        if call is None:
            return
        leg = call.legs.get(str(e.get("Uniqueid")))
        if leg is not None and leg.role == "agent":
            call.agent_channel = None  # the agent left; citizen and third party talk on
        out.append(
            (
                "call.conference_left",
                {**call.summary(), "channel": e.get("Channel"), "role": leg.role if leg else None},
            )
        )

    def _on_OriginateResponse(self, e: AmiEvent, out: DomainEvents) -> None:
        if e.get("Response") == "Failure":
            uniqueid = str(e.get("Uniqueid", ""))
            tags = self._expected.pop(uniqueid, {})
            out.append(
                (
                    "call.originate_failed",
                    {
                        "call_id": uniqueid,
                        "reason": e.get("Reason"),
                        "channel": e.get("Channel"),
                        "call_kind": tags.get("kind"),
                        "ticket_id": tags.get("ticket_id"),
                    },
                )
            )

    # ---- the end ---------------------------------------------------------------------------------

    def _on_Hangup(self, e: AmiEvent, out: DomainEvents) -> None:
        call = self._call(e, adopt=False)
        if call is None:
            return
        leg = call.legs.get(str(e.get("Uniqueid")))
        if leg is None:
            return
        leg.hangup_cause = _int(e.get("Cause")) or 0
        if leg.role == "citizen":
            call.entry_outcome = chan_vars(e).get("HOTLINE_ENTRY_OUTCOME") or call.entry_outcome
        if leg.role == "citizen" or call.hangup_cause is None:
            call.hangup_cause = leg.hangup_cause
            call.hangup_text = str(e.get("Cause-txt", "")) or None
        if leg.talk_from is not None and call.left_queue_bridge:
            self._agent_done(call, leg, out)
        if leg.role == "agent" and call.agent_channel == leg.channel:
            call.agent_channel = None
        if leg.role == "citizen" and call.state == "held" and call.live_legs():
            out.append(("call.hold_abandoned", call.summary()))  # the agent's leg still waits in hotline-hold
        if not call.live_legs():
            self._end(call, "hangup", out)

    def _agent_done(self, call: Call, leg: Leg, out: DomainEvents) -> None:
        """The agent's leg of a call that left the queue bridge is gone: its talk time (holds excluded) and
        the agent's completion, which Asterisk does not report for such calls."""
        assert leg.talk_from is not None
        now = self.clock()
        on_hold = call.on_hold_seconds - leg.hold_base
        if call.held_at is not None:
            on_hold += round((now - call.held_at).total_seconds())
        call.talk_seconds = max(0, round((now - leg.talk_from).total_seconds()) - on_hold)
        leg.talk_from = None
        citizen = next((other for other in call.legs.values() if other.role == "citizen"), None)
        call.complete_reason = "caller" if citizen is not None and citizen.hangup_cause is not None else "agent"
        out.append(
            (
                "call.agent_completed",
                {
                    **call.summary(),
                    "agent_interface": leg.interface or call.agent_interface,
                    "reason": call.complete_reason,
                },
            )
        )

    def _end(self, call: Call, reason: str, out: DomainEvents) -> None:
        self._end_hold(call)
        call.state = "ended"
        call.ended_at = self.clock()
        call.end_reason = reason
        out.append(("call.ended", call.summary()))
        del self.calls[call.call_id]
        for uniqueid in call.legs:
            self._leg_call.pop(uniqueid, None)
            self._alias.pop(uniqueid, None)
        self._ended[call.call_id] = None
        while len(self._ended) > ENDED_MEMORY:
            self._ended.popitem(last=False)

    def resync(
        self,
        channels: Iterable[AmiEvent],
        queue_entries: Iterable[AmiEvent] = (),
        stored: Mapping[str, dict[str, Any]] | None = None,
    ) -> DomainEvents:
        """Reconcile with CoreShowChannels rows (and QueueStatus QueueEntry rows) taken after a reconnect:
        legs missing from the snapshot hung up while we were away; unknown live channels are adopted.

        ``stored``: the calls the database holds as not ended (summaries by call id), e.g. from before the
        gateway restarted. One Asterisk no longer has is closed now (``AWAY``); one it still has is adopted
        with what was stored about it (times, wait, agent, ticket), which the snapshot cannot tell."""
        out: DomainEvents = []
        stored = stored or {}
        alive = {str(row.get("Uniqueid")): row for row in channels}
        for call in list(self.calls.values()):
            for leg in call.live_legs():
                if leg.uniqueid not in alive:
                    leg.hangup_cause = 0
            if not call.live_legs():
                self._end(call, AWAY, out)
        known = set(self.calls)
        for row in alive.values():
            adopted = self._call(row)
            if adopted is None:
                continue
            leg = adopted.legs[str(row["Uniqueid"])]
            leg.state = str(row.get("ChannelStateDesc", leg.state))
            if row.get("BridgeId"):
                leg.bridge = str(row["BridgeId"])
                self.bridges.setdefault(leg.bridge, set()).add(leg.uniqueid)
        for entry in queue_entries:
            uniqueid = str(entry.get("Uniqueid", ""))
            waiting = self.calls.get(self._leg_call.get(uniqueid, ""))
            if waiting is not None and waiting.state in ("new", "queued"):
                waiting.queue = str(entry.get("Queue"))
                waiting.state = "queued"
        for bridge, members in list(self.bridges.items()):
            members.intersection_update(alive)
            if not members:
                del self.bridges[bridge]
        for call_id in set(self.calls) - known:
            self._adopt(self.calls[call_id], alive, out, stored.get(call_id))
        for call_id, summary in stored.items():
            if call_id not in self.calls and not self.has_ended(call_id):
                self._close_stored(summary, out)
        return out

    def _close_stored(self, summary: dict[str, Any], out: DomainEvents) -> None:
        """A call stored as up that Asterisk no longer has: it ended while we were away. When exactly is
        not known; it is closed now (the latest it can have ended), its agent's part completed."""
        call = Call(call_id=summary["call_id"])
        _restore(call, summary)
        call.answered_at, call.talk_seconds = summary.get("answered_at"), summary.get("talk_seconds")
        call.agent_id, call.agent_interface = summary.get("agent_id"), summary.get("agent_interface")
        call.abandoned = bool(summary.get("abandoned"))
        call.state = "ended"  # for the outcome: a call that was never answered is "unanswered" or abandoned
        call.ended_at = self.clock()
        call.end_reason = AWAY
        if call.agent_interface and call.answered_at is not None and summary.get("state") != "transferred":
            out.append(("call.agent_completed", {**call.summary(), "reason": "unknown", "reconciled": True}))
        out.append(("call.ended", {**call.summary(), "reconciled": True}))
        self._ended[call.call_id] = None

    def _adopt(
        self, call: Call, rows: dict[str, AmiEvent], out: DomainEvents, stored: dict[str, Any] | None = None
    ) -> None:
        """A call that began while we were away, as the snapshot shows it: the citizen's leg tells its kind,
        its queue (Application Queue) and a recording already running; a queue agent's leg (AppQueue) in the
        citizen's bridge means it was answered. Times are bounded by the legs' ages; the wait is unknown —
        unless ``stored`` (what an earlier run of the gateway saved) knows them: then they are kept."""
        citizen = call.legs.get(call.call_id)
        row = rows.get(call.call_id)
        if citizen is None or row is None or call.direction != "inbound":
            if stored is not None:
                _restore(call, stored)
            out.append(("call.adopted", call.summary()))
            return
        now = self.clock()
        variables = chan_vars(row)
        call.kind = variables.get("HOTLINE_KIND") or call.kind
        call.incident_id = variables.get("HOTLINE_INCIDENT_ID") or call.incident_id
        call.recording = variables.get("MIXMONITOR_FILENAME") or call.recording
        call.started_at = now - timedelta(seconds=_seconds(row.get("Duration")))
        if row.get("Application") == "Queue":
            # When it joined is not in the snapshot: queued_at stays unknown rather than made up.
            queue = str(row.get("ApplicationData", "")).split(",")[0] or variables.get("HOTLINE_QUEUE")
            call.queue = queue or call.queue
            call.state = "queued"
        if row.get("Context") == HOLD_CONTEXT:  # on hold, or resumed after one (AMI Bridge)
            call.queue = call.queue or variables.get("HOTLINE_QUEUE")
            call.left_queue_bridge = True
            if row.get("Application") == "MusicOnHold":
                call.state, call.held_at, call.holds = "held", now, max(call.holds, 1)

        def answered_it(leg: Leg) -> bool:
            agent_row = rows.get(leg.uniqueid, {})
            if agent_row.get("Context") == HOLD_CONTEXT and agent_row.get("Exten") == "agent":
                return True
            return (
                citizen.bridge is not None
                and leg.bridge == citizen.bridge
                and (agent_row.get("Application") == "AppQueue")
            )

        agent = next((leg for leg in call.live_legs() if leg is not citizen and answered_it(leg)), None)
        if stored is not None:
            _restore(call, stored)
        out.append(("call.adopted", call.summary()))
        if agent is not None:
            agent.role = "agent"
            call.state = "held" if call.state == "held" else "connected"
            call.agent_channel = agent.channel
            call.agent_interface = agent.interface = agent.channel.rpartition("-")[0]
            answered_at = (stored or {}).get("answered_at")
            if answered_at is None:  # the agent's leg is as old as the answer (within a ring)
                answered_at = now - timedelta(seconds=_seconds(rows[agent.uniqueid].get("Duration")))
            call.answered_at = answered_at
            agent.talk_from = call.answered_at  # the holds before we came back are not known
            out.append(("call.connected", call.summary()))


# What a call that was stored as up, and is not up any more, was closed with after a gap.
AWAY = "ended while the gateway was away"
# What the database knows of a call better than a CoreShowChannels snapshot (which has no wait, no ring
# time, no queue join time, no ticket and only the legs' ages).
# (Who answers is the snapshot's to say: an adopted call's agent comes from its live legs.)
RESTORED = ("caller", "caller_name", "kind", "queue", "incident_id", "ticket_id", "recording", "started_at",
            "queued_at", "hold_seconds", "ring_seconds", "on_hold_seconds", "holds", "transfers")


def _restore(call: Call, stored: dict[str, Any]) -> None:
    for name in RESTORED:
        value = stored.get("call_kind" if name == "kind" else name)
        if value is not None and value != "" and value != []:
            setattr(call, name, list(value) if name == "transfers" else value)
    if stored.get("direction"):
        call.direction = str(stored["direction"])


def chan_vars(event: AmiEvent) -> dict[str, str]:
    """The manager.conf ``channelvars`` on a channel event (one ``ChanVariable`` header each)."""
    raw = event.get("ChanVariable")
    items = raw if isinstance(raw, list) else str(raw or "").split("\n")
    return dict(str(item).partition("=")[::2] for item in items if item)


def _seconds(duration: Any) -> int:
    """CoreShowChannel's Duration, ``HH:MM:SS``."""
    try:
        hours, minutes, seconds = (int(part) for part in str(duration).split(":"))
    except ValueError:
        return 0
    return hours * 3600 + minutes * 60 + seconds


def _number(value: Any) -> str:
    text = str(value or "")
    return "" if text == "<unknown>" else text
