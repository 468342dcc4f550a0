"""Scripted AMI event sequences in the shape of the real captures (same event names and fields).

Each function returns a list of event dicts; ``FakeAmi.emit(*events)`` puts them on the wire.
The field sets follow tests/data/ami (Asterisk 22.10.1); sequences the captures do not cover
(BlindTransfer, ConfBridge, UserEvent) follow the Asterisk 22 AMI event documentation.
"""

from __future__ import annotations

from typing import Any

Event = dict[str, Any]


def channel(
    prefix: str,
    name: str,
    uniqueid: str,
    linkedid: str,
    *,
    caller: str = "<unknown>",
    context: str = "from-citizen",
    exten: str = "12345",
    state: str = "Up",
) -> Event:
    codes = {"Down": "0", "Ring": "4", "Ringing": "5", "Up": "6"}
    return {
        f"{prefix}Channel": name,
        f"{prefix}ChannelState": codes[state],
        f"{prefix}ChannelStateDesc": state,
        f"{prefix}CallerIDNum": caller,
        f"{prefix}CallerIDName": "<unknown>",
        f"{prefix}ConnectedLineNum": "<unknown>",
        f"{prefix}ConnectedLineName": "<unknown>",
        f"{prefix}Language": "en",
        f"{prefix}AccountCode": "",
        f"{prefix}Context": context,
        f"{prefix}Exten": exten,
        f"{prefix}Priority": "1",
        f"{prefix}Uniqueid": uniqueid,
        f"{prefix}Linkedid": linkedid,
    }


def core_show_channel(
    name: str,
    uniqueid: str,
    linkedid: str,
    *,
    application: str = "",
    bridge: str = "",
    caller: str = "citizen",
    context: str = "from-citizen",
    exten: str = "12345",
) -> Event:
    return {
        **channel("", name, uniqueid, linkedid, caller=caller, context=context, exten=exten),
        "Application": application,
        "ApplicationData": "",
        "Duration": "00:00:10",
        "BridgeId": bridge,
    }


def _ids(call_id: str) -> tuple[str, str]:
    base, _, seq = call_id.partition(".")
    return call_id, f"{base}.{int(seq) + 1}"


def citizen_channel(call_id: str) -> str:
    return f"PJSIP/citizen-{int(call_id.partition('.')[2]):08x}"


def agent_channel(call_id: str, agent: str) -> str:
    return f"PJSIP/{agent}-{int(call_id.partition('.')[2]) + 1:08x}"


RECORDING_DIR = "/var/spool/asterisk/monitor/hotline"


def recording_of(call_id: str) -> str:
    """Where the dialplan (hotline-record) records the citizen's leg, before it enters the queue."""
    return f"{RECORDING_DIR}/{call_id}.wav"


def recorded(call_id: str) -> Event:
    """The channel variable a recorded citizen's leg carries on its events (manager.conf channelvars)."""
    return {"ChanVariable": f"MIXMONITOR_FILENAME={recording_of(call_id)}"}


def queued_call(call_id: str, *, citizen: str = "13800000000", queue: str = "hotline") -> list[Event]:
    cit = channel("", citizen_channel(call_id), call_id, call_id, caller=citizen)
    return [
        {
            "Event": "Newchannel",
            "Privilege": "call,all",
            **cit,
            "ChannelState": "4",
            "ChannelStateDesc": "Ring",
        },
        {"Event": "Newstate", "Privilege": "call,all", **cit},
        {
            "Event": "QueueCallerJoin",
            "Privilege": "agent,all",
            **cit,
            **recorded(call_id),
            "Queue": queue,
            "Position": "1",
            "Count": "1",
        },
    ]


def answered_call(
    call_id: str,
    *,
    citizen: str = "13800000000",
    agent: str = "1001",
    queue: str = "hotline",
    hold: int = 3,
    bridge: str | None = None,
) -> list[Event]:
    cit_id, agent_id = _ids(call_id)
    cit = channel("", citizen_channel(call_id), cit_id, call_id, caller=citizen)
    dest = channel(
        "Dest", agent_channel(call_id, agent), agent_id, call_id, caller="12345", context="from-agents"
    )
    ag = channel("", agent_channel(call_id, agent), agent_id, call_id, caller="12345", context="from-agents")
    bridge = bridge or f"bridge-{call_id}"
    member = {"Queue": queue, "Interface": f"PJSIP/{agent}", "MemberName": f"Agent {agent}"}
    return [
        *queued_call(call_id, citizen=citizen, queue=queue),
        {"Event": "Newchannel", **ag, "ChannelState": "0", "ChannelStateDesc": "Down"},
        {"Event": "AgentCalled", **cit, **dest, **member},
        {"Event": "QueueCallerLeave", **cit, "Queue": queue, "Position": "1", "Count": "0"},
        {"Event": "AgentConnect", **cit, **dest, **member, "HoldTime": str(hold), "RingTime": "1"},
        {"Event": "BridgeCreate", "BridgeUniqueid": bridge, "BridgeType": "basic", "BridgeNumChannels": "0"},
        {"Event": "BridgeEnter", "BridgeUniqueid": bridge, "BridgeNumChannels": "1", **ag},
        {"Event": "BridgeEnter", "BridgeUniqueid": bridge, "BridgeNumChannels": "2", **cit},
    ]


def hangup(name: str, uniqueid: str, linkedid: str, cause: int = 16) -> Event:
    return {
        "Event": "Hangup",
        **channel("", name, uniqueid, linkedid),
        "Cause": str(cause),
        "Cause-txt": "Normal Clearing",
    }


def agent_completes(
    call_id: str, *, agent: str = "1001", talk: int = 60, reason: str = "caller", queue: str = "hotline"
) -> list[Event]:
    cit_id, agent_id = _ids(call_id)
    cit = channel("", citizen_channel(call_id), cit_id, call_id)
    dest = channel("Dest", agent_channel(call_id, agent), agent_id, call_id, context="from-agents")
    return [
        {
            "Event": "AgentComplete",
            **cit,
            **dest,
            "Queue": queue,
            "Interface": f"PJSIP/{agent}",
            "MemberName": f"Agent {agent}",
            "HoldTime": "3",
            "TalkTime": str(talk),
            "Reason": reason,
        },
        hangup(citizen_channel(call_id), cit_id, call_id),
        hangup(agent_channel(call_id, agent), agent_id, call_id),
    ]


def blind_transfer(
    call_id: str, *, agent: str, exten: str, context: str = "hotline-transfer", result: str = "Success"
) -> list[Event]:
    cit_id, agent_id = _ids(call_id)
    events = [
        {
            "Event": "BlindTransfer",
            "Result": result,
            **channel("Transferer", agent_channel(call_id, agent), agent_id, call_id, context="from-agents"),
            **channel("Transferee", citizen_channel(call_id), cit_id, call_id),
            "IsExternal": "No",
            "Context": context,
            "Extension": exten,
        }
    ]
    if result == "Success":
        events += [
            {
                "Event": "AgentComplete",
                **channel("", citizen_channel(call_id), cit_id, call_id),
                "Queue": "hotline",
                "Interface": f"PJSIP/{agent}",
                "TalkTime": "30",
                "Reason": "transfer",
                "DestUniqueid": agent_id,
                "DestLinkedid": call_id,
            },
            hangup(agent_channel(call_id, agent), agent_id, call_id),
        ]
    return events


def hold(call_id: str, *, agent: str = "1001", bridge: str | None = None) -> list[Event]:
    """The console's hold as Asterisk 22 reports it: AMI Redirect takes both legs out of the queue's bridge
    (the citizen to hotline-hold,s where MusicOnHold starts, the agent's leg to hotline-hold,agent)."""
    cit_id, agent_id = _ids(call_id)
    cit = channel("", citizen_channel(call_id), cit_id, call_id, context="hotline-hold", exten="s")
    ag = channel("", agent_channel(call_id, agent), agent_id, call_id, context="hotline-hold", exten="agent")
    bridge = bridge or f"bridge-{call_id}"
    return [
        {"Event": "BridgeLeave", "BridgeUniqueid": bridge, "BridgeNumChannels": "1", **ag},
        {"Event": "BridgeLeave", "BridgeUniqueid": bridge, "BridgeNumChannels": "0", **cit},
        {"Event": "MusicOnHoldStart", **cit, "Priority": "2", "Class": "default"},
        {"Event": "BridgeDestroy", "BridgeUniqueid": bridge, "BridgeNumChannels": "0"},
    ]


def resume(call_id: str, *, agent: str = "1001", bridge: str = "resumed") -> list[Event]:
    """AMI Bridge of the two legs in hotline-hold: a new basic bridge, the music stops."""
    cit_id, agent_id = _ids(call_id)
    cit = channel("", citizen_channel(call_id), cit_id, call_id, context="hotline-hold", exten="s")
    ag = channel("", agent_channel(call_id, agent), agent_id, call_id, context="hotline-hold", exten="agent")
    bridge = f"{bridge}-{call_id}"
    return [
        {"Event": "BridgeCreate", "BridgeUniqueid": bridge, "BridgeType": "basic", "BridgeNumChannels": "0"},
        {"Event": "MusicOnHoldStop", **cit, "Priority": "2"},
        {"Event": "BridgeEnter", "BridgeUniqueid": bridge, "BridgeNumChannels": "1", **cit, "Priority": "3"},
        {"Event": "BridgeEnter", "BridgeUniqueid": bridge, "BridgeNumChannels": "2", **ag, "Priority": "2"},
    ]


def hold_requeued(call_id: str, *, reason: str = "agent-gone", queue: str = "hotline") -> list[Event]:
    """hotline-hold,requeue: the citizen goes back to the head of the queue."""
    cit_id, _ = _ids(call_id)
    cit = channel("", citizen_channel(call_id), cit_id, call_id, context="hotline-hold", exten="requeue")
    return [
        {"Event": "MusicOnHoldStop", **cit},
        {"Event": "UserEvent", "Privilege": "user,all", **cit, "UserEvent": "HotlineHoldEnded", "Reason": reason},
        {"Event": "QueueCallerJoin", **cit, **recorded(call_id), "Queue": queue, "Position": "1", "Count": "1"},
    ]


def three_way(call_id: str, *, agent: str, third: str, room: str, third_id: str | None = None) -> list[Event]:
    """Citizen and agent redirected into ConfBridge ``room``, the third party originated into it,
    then the agent leaves: the other two stay."""
    cit_id, agent_id = _ids(call_id)
    third_id = third_id or f"hl-{room}-3"
    cit = channel("", citizen_channel(call_id), cit_id, call_id)
    ag = channel("", agent_channel(call_id, agent), agent_id, call_id, context="from-agents")
    other = channel(
        "",
        f"PJSIP/police-trunk-{room[-6:]}",
        third_id,
        third_id,
        caller=third,
        context="hotline-conference",
        exten=room,
    )
    bridge = f"bridge-{call_id}"
    conf = f"conf-{room}"
    return [
        {"Event": "BridgeLeave", "BridgeUniqueid": bridge, "BridgeNumChannels": "1", **cit},
        {"Event": "BridgeLeave", "BridgeUniqueid": bridge, "BridgeNumChannels": "0", **ag},
        {"Event": "BridgeDestroy", "BridgeUniqueid": bridge, "BridgeNumChannels": "0"},
        {"Event": "ConfbridgeStart", "Conference": room, "BridgeUniqueid": conf},
        {"Event": "ConfbridgeJoin", "Conference": room, "BridgeUniqueid": conf, **cit, "Admin": "No"},
        {"Event": "ConfbridgeJoin", "Conference": room, "BridgeUniqueid": conf, **ag, "Admin": "No"},
        {"Event": "Newchannel", **other},
        {"Event": "ConfbridgeJoin", "Conference": room, "BridgeUniqueid": conf, **other, "Admin": "No"},
        {"Event": "ConfbridgeLeave", "Conference": room, "BridgeUniqueid": conf, **ag},
        hangup(agent_channel(call_id, agent), agent_id, call_id),
    ]


def police_entry(call_id: str, incident_id: str, *, caller: str = "110") -> list[Event]:
    """A call from the 110 trunk: the dialplan announces its incident id with UserEvent(HotlinePolice)."""
    cit = channel(
        "",
        f"PJSIP/police-{int(call_id.partition('.')[2]):08x}",
        call_id,
        call_id,
        caller=caller,
        context="from-police",
    )
    return [
        {"Event": "Newchannel", **cit},
        {
            "Event": "UserEvent",
            "Privilege": "user,all",
            **cit,
            "UserEvent": "HotlinePolice",
            "IncidentId": incident_id,
        },
        {"Event": "QueueCallerJoin", **cit, **recorded(call_id), "Queue": "hotline", "Position": "1", "Count": "1"},
    ]
