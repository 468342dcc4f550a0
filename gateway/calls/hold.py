"""Hold, resume and hang up from the agent's console, and what the gateway does when a hold goes wrong.

AMI has no hold action, and the agent's phone cannot be told to hold. So the gateway holds on the PBX:

- **hold**: AMI Redirect of the citizen to ``hotline-hold,s`` (music) and of the agent's leg to
  ``hotline-hold,agent`` (silence). Both leave app_queue's bridge; the recording (MixMonitor on the
  citizen's leg) goes on, with the music muted out of it.
- **resume**: AMI Setvar ``HOTLINE_HOLD=resumed`` on the citizen, then AMI Bridge of the two legs. When that
  bridge ends, the dialplan hangs both up (it knows the hold was resumed from the variable).
- **the agent's leg drops during a hold**: the citizen goes back to the head of the queue (Redirect to
  ``hotline-hold,requeue``); the dialplan does the same after ``HOTLINE_HOLD_LIMIT`` without a resume.
- **the citizen hangs up during a hold**: the agent's leg is hung up instead of waiting out the limit.

The call model sees the result in AMI events (``call.held``, ``call.resumed``, ``call.hold_requeued``,
``call.hold_abandoned``), so the state is right whoever started it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from gateway.calls.ami import AsteriskRefused
from gateway.calls.model import HOLD_CONTEXT, Call, conference_room
from gateway.calls.operations import CallOperations
from gateway.errors import Conflict

log = logging.getLogger(__name__)

HANG_UP_STATES = ("connected", "held", "conference")


class HoldControl:
    def __init__(self, operations: CallOperations) -> None:
        self.ops = operations
        self.ami = operations.ami

    async def hold(self, call_id: str, *, actor: str | None = None, key: str | None = None) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            self.ops._require_ami()
            call = self.ops.live_call(call_id, "connected", action="hold the call")
            agent = self.ops._agent_channel(call, "hold the call")
            citizen = self._citizen_channel(call, "hold the call")
            await self.ami.send(
                "Redirect",
                {
                    "Channel": citizen,
                    "Context": HOLD_CONTEXT,
                    "Exten": "s",
                    "Priority": 1,
                    "ExtraChannel": agent,
                    "ExtraContext": HOLD_CONTEXT,
                    "ExtraExten": "agent",
                    "ExtraPriority": 1,
                },
                key=self.ops._ak(key, "hold"),
            )
            self.ops.bus.publish("call.hold_requested", actor=actor, **call.summary())
            return {"call_id": call_id, "state": "holding"}

        return await self.ops.idempotent(key, run)

    async def resume(self, call_id: str, *, actor: str | None = None, key: str | None = None) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            self.ops._require_ami()
            call = self.ops.live_call(call_id, "held", action="resume the call")
            agent = self.ops._agent_channel(call, "resume the call")
            citizen = self._citizen_channel(call, "resume the call")
            await self.ami.send(
                "Setvar",
                {"Channel": citizen, "Variable": "HOTLINE_HOLD", "Value": "resumed"},
                key=self.ops._ak(key, "mark"),
            )
            try:
                await self.ami.send(
                    "Bridge", {"Channel1": citizen, "Channel2": agent, "Tone": "no"}, key=self.ops._ak(key, "bridge")
                )
            except AsteriskRefused:
                # Still on hold: if the hold now runs out, the citizen must go back to the queue, not hang up.
                await self.ami.send("Setvar", {"Channel": citizen, "Variable": "HOTLINE_HOLD", "Value": "held"})
                raise
            self.ops.bus.publish("call.resume_requested", actor=actor, **call.summary())
            return {"call_id": call_id, "state": "resuming"}

        return await self.ops.idempotent(key, run)

    async def hang_up(self, call_id: str, *, actor: str | None = None, key: str | None = None) -> dict[str, Any]:
        """The agent ends the call: the citizen's leg (the agent's goes with it); on hold both legs; in a
        三方通话 everyone in the room."""

        async def run() -> dict[str, Any]:
            self.ops._require_ami()
            call = self.ops.live_call(call_id, *HANG_UP_STATES, action="hang up")
            if call.state == "conference":
                await self.ami.send(
                    "ConfbridgeKick",
                    {"Conference": conference_room(call_id), "Channel": "all"},
                    key=self.ops._ak(key, "kick-all"),
                )
            else:
                citizen = self._citizen_channel(call, "hang up")
                await self.ami.send("Hangup", {"Channel": citizen, "Cause": 16}, key=self.ops._ak(key, "citizen"))
                if call.state == "held" and call.agent_channel:
                    await self._hang_up_leg(call.agent_channel)
            self.ops.bus.publish("call.hangup_requested", actor=actor, **call.summary())
            return {"call_id": call_id, "state": "ending"}

        return await self.ops.idempotent(key, run)

    # ---- reactions to the call model's events (run by the pipeline, off the event path) -----------------

    def react(self, kind: str, data: dict[str, Any]) -> Awaitable[None] | None:
        citizen = data.get("citizen_channel")
        if kind == "call.held" and data.get("recording") and citizen:
            return self._mute_recording(citizen, True)
        if kind == "call.resumed" and data.get("recording") and citizen:
            return self._mute_recording(citizen, False)
        if kind == "call.hold_requeued":
            return self._after_requeue(data)
        if kind == "call.agent_completed" and data.get("state") == "held" and citizen:
            return self._requeue(citizen)
        if kind == "call.hold_abandoned" and data.get("agent_channel"):
            return self._hang_up_leg(str(data["agent_channel"]))
        return None

    async def _mute_recording(self, channel: str, mute: bool) -> None:
        """Keep the hold music out of the recording (and so out of the agent side of the transcript);
        what the citizen says on hold is still recorded."""
        await self.ami.send("MixMonitorMute", {"Channel": channel, "Direction": "write", "State": 1 if mute else 0})

    async def _after_requeue(self, data: dict[str, Any]) -> None:
        """Back in the queue: record everything again; the agent's leg (if the hold ran out) need not wait."""
        if data.get("recording") and data.get("citizen_channel"):
            await self._mute_recording(str(data["citizen_channel"]), False)
        if data.get("agent_channel"):
            await self._hang_up_leg(str(data["agent_channel"]))

    async def _requeue(self, citizen: str) -> None:
        log.info("the agent's leg dropped during a hold: %s goes back to the queue", citizen)
        await self.ami.send(
            "Redirect", {"Channel": citizen, "Context": HOLD_CONTEXT, "Exten": "requeue", "Priority": 1}
        )

    async def _hang_up_leg(self, channel: str) -> None:
        try:
            await self.ami.send("Hangup", {"Channel": channel, "Cause": 16})
        except AsteriskRefused:
            pass  # already gone

    @staticmethod
    def _citizen_channel(call: Call, action: str) -> str:
        if not call.citizen_channel:
            raise Conflict(f"cannot {action}: the citizen's leg is unknown", error_id="call-state", state=call.state)
        return call.citizen_channel
