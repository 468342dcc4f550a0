"""The call model rebuilt from real Asterisk 22 sessions (tests/data/ami) and scripted sequences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.calls.model import CallModel, conference_room
from tests.fakes import scenarios
from tests.fakes.fake_ami import capture_frames, parse_frames


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def run(model: CallModel, events: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for event in events:
        out += model.apply(event)
    return out


def capture(name: str) -> list[dict[str, Any]]:
    return [parse_frames(f)[0] for f in capture_frames(name)]


def kinds(published: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [kind for kind, _ in published]


def test_a_caller_who_hangs_up_in_the_queue_is_an_abandoned_call() -> None:
    model = CallModel(Clock())
    published = run(model, capture("basic_call.ami"))
    assert kinds(published) == ["call.offered", "call.abandoned", "call.ended"]
    ended = published[-1][1]
    assert ended["call_id"] == "1795345125.0"
    assert ended["caller"] == "citizen"
    assert ended["queue"] == "hotline"
    assert ended["abandoned"] is True
    assert ended["hold_seconds"] == 7
    assert ended["answered_at"] is None
    assert model.calls == {}  # nothing left in memory


def test_an_answered_queue_call_has_agent_hold_and_talk_times() -> None:
    model = CallModel(Clock())
    published = run(model, capture("agent_answers_queue_call.ami"))
    assert kinds(published) == [
        "call.offered",
        "call.ringing",
        "call.connected",
        "call.agent_completed",
        "call.ended",
    ]
    connected = dict(published)["call.connected"]
    assert connected["agent_interface"] == "PJSIP/1001"
    assert connected["agent_channel"] == "PJSIP/1001-00000002"
    assert connected["citizen_channel"] == "PJSIP/citizen-00000001"
    assert (connected["hold_seconds"], connected["ring_seconds"]) == (1, 1)
    ended = published[-1][1]
    assert ended["talk_seconds"] == 18
    assert ended["hangup_cause"] == 16
    assert ended["abandoned"] is False
    assert model.bridges == {}


def test_an_attended_transfer_through_local_channels_leaves_the_citizen_with_the_second_agent() -> None:
    model = CallModel(Clock())
    events = capture("attended_transfer.ami")
    cut = next(i for i, e in enumerate(events) if e["Event"] == "AttendedTransfer")
    published = run(model, events[:cut])
    call = model.get("1795345245.4")
    assert call is not None
    model.get("1795345245.4").pending = {"kind": "warm", "target": "1002"}  # as operations.py does
    roles = {leg.channel: leg.role for leg in call.legs.values()}
    assert roles["PJSIP/citizen-00000004"] == "citizen"
    assert roles["PJSIP/1001-00000005"] == "agent"
    assert roles["Local/1002@from-agents-00000000;1"] == "local"
    assert roles["Local/1002@from-agents-00000000;2"] == "local"
    published = run(model, events[cut:])
    assert kinds(published) == ["call.transferred", "call.agent_completed", "call.ended"]
    transferred = published[0][1]
    assert transferred["transfer"]["kind"] == "warm"
    assert transferred["transfer"]["result"] == "success"
    assert transferred["transfer"]["dest_type"] == "Bridge"
    assert published[1][1]["reason"] == "transfer"
    assert model.calls == {}


def test_asterisk_counts_a_redirect_out_of_the_queue_as_an_abandon_unless_we_did_it() -> None:
    events = capture("redirect_queue_caller.ami")
    model = CallModel(Clock())
    assert "call.abandoned" in kinds(run(model, events))
    ours = CallModel(Clock())
    join = next(i for i, e in enumerate(events) if e["Event"] == "QueueCallerJoin")
    run(ours, events[: join + 1])
    ours.get("1795345204.3").pending = {"kind": "redirect"}
    assert "call.abandoned" not in kinds(run(ours, events[join + 1 :]))


def test_events_for_an_ended_call_are_ignored_and_unknown_events_too() -> None:
    model = CallModel(Clock())
    events = capture("basic_call.ami")
    run(model, events)
    late = [e for e in events if e["Event"] == "QueueCallerJoin"]
    assert run(model, [*late, {"Event": "BrandNewEvent", "Linkedid": "x"}]) == []
    assert model.calls == {}


def test_a_call_seen_first_mid_way_is_adopted() -> None:
    model = CallModel(Clock())
    events = capture("agent_answers_queue_call.ami")
    start = next(i for i, e in enumerate(events) if e["Event"] == "AgentConnect")
    published = run(model, events[start:])
    assert kinds(published)[0] == "call.connected"
    assert published[0][1]["caller"] == "citizen"
    assert kinds(published)[-1] == "call.ended"


def test_resync_ends_calls_that_vanished_and_adopts_live_channels() -> None:
    model = CallModel(Clock())
    events = capture("agent_answers_queue_call.ami")
    start = next(i for i, e in enumerate(events) if e["Event"] == "AgentConnect")
    run(model, events[: start + 1])
    assert model.get("1795345161.1") is not None
    published = model.resync(
        [
            scenarios.core_show_channel(
                "PJSIP/citizen-00000009", "1795345300.9", "1795345300.9", application="Queue"
            )
        ],
        [{"Queue": "hotline", "Uniqueid": "1795345300.9", "Position": "1"}],
    )
    assert kinds(published) == ["call.ended", "call.adopted"]
    assert published[0][1]["end_reason"] == "ended while the gateway was away"
    adopted = model.get("1795345300.9")
    assert adopted is not None and (adopted.state, adopted.queue) == ("queued", "hotline")
    assert model.resync([]) and model.calls == {}  # Asterisk restarted: nothing survives


def test_resync_adopts_a_call_answered_while_the_link_was_down() -> None:
    model = CallModel(Clock())
    citizen = {
        **scenarios.core_show_channel(
            "PJSIP/carrier-00000004", "1795345400.4", "1795345400.4", application="Queue", bridge="b-1"
        ),
        "ApplicationData": "hotline,t",
        "ChanVariable": ["HOTLINE_KIND=police", "HOTLINE_INCIDENT_ID=JJ-7", "MIXMONITOR_FILENAME=/rec/x.wav"],
    }
    agent = {
        **scenarios.core_show_channel(
            "PJSIP/1001-00000005", "1795345400.5", "1795345400.4", application="AppQueue", bridge="b-1"
        ),
        "Duration": "00:00:04",
    }
    published = model.resync([citizen, agent])
    assert kinds(published) == ["call.adopted", "call.connected"]
    call = model.get("1795345400.4")
    assert call is not None
    assert (call.state, call.queue, call.kind, call.incident_id) == ("connected", "hotline", "police", "JJ-7")
    assert (call.agent_interface, call.agent_channel) == ("PJSIP/1001", "PJSIP/1001-00000005")
    assert call.recording == "/rec/x.wav"  # already recording: the gateway must not start a second one
    assert call.answered_at is not None and (call.answered_at - call.started_at).total_seconds() == 6


def stored_call(call_id: str, **fields: Any) -> dict[str, Any]:
    """A calls-table row as the recorder reads it back (what a gateway that died had saved)."""
    at = datetime(2026, 11, 22, 8, 50, tzinfo=UTC)
    return {"call_id": call_id, "call_kind": "citizen", "direction": "inbound", "state": "connected",
            "queue": "hotline", "caller": "13800000001", "caller_name": "", "agent_id": "a1001",
            "agent_interface": "PJSIP/1001", "incident_id": None, "ticket_id": "20261122007", "recording": None,
            "started_at": at, "queued_at": at + timedelta(seconds=20), "answered_at": at + timedelta(seconds=45),
            "ended_at": None, "hold_seconds": 25, "ring_seconds": 2, "talk_seconds": None, "on_hold_seconds": 0,
            "holds": 0, "abandoned": False, "transfers": [], **fields}


def test_a_call_stored_as_up_that_asterisk_no_longer_has_is_closed_and_its_agent_completed() -> None:
    """The gateway died with the call up; it ended while the gateway was away."""
    clock = Clock()
    model = CallModel(clock)
    published = model.resync([], [], {"1795345500.1": stored_call("1795345500.1")})
    assert kinds(published) == ["call.agent_completed", "call.ended"]
    completed, ended = published[0][1], published[1][1]
    assert (completed["agent_interface"], completed["reason"]) == ("PJSIP/1001", "unknown")
    assert completed["reconciled"] is True  # no wrap-up pause for a call that may have ended long ago
    assert (ended["state"], ended["end_reason"], ended["outcome"]) == (
        "ended", "ended while the gateway was away", "answered")
    assert ended["ended_at"] == clock.now  # closed when found gone: the latest it can have ended
    assert (ended["ticket_id"], ended["hold_seconds"], ended["agent_id"]) == ("20261122007", 25, "a1001")
    assert model.calls == {} and model.has_ended("1795345500.1")


def test_a_stored_call_never_answered_is_closed_without_an_agent() -> None:
    model = CallModel(Clock())
    published = model.resync([], [], {"1795345500.2": stored_call(
        "1795345500.2", state="queued", agent_id=None, agent_interface=None, answered_at=None)})
    assert kinds(published) == ["call.ended"]
    assert published[0][1]["outcome"] == "unanswered"


def test_a_stored_call_asterisk_still_has_is_adopted_with_what_was_stored() -> None:
    """The snapshot has no wait, ring time, queue join or ticket; the stored row does, and they are kept."""
    model = CallModel(Clock())
    citizen = scenarios.core_show_channel("PJSIP/citizen-00000001", "1795345600.1", "1795345600.1",
                                          application="Queue", bridge="b-1")
    agent = scenarios.core_show_channel("PJSIP/1001-00000002", "1795345600.2", "1795345600.1",
                                        application="AppQueue", bridge="b-1")
    stored = stored_call("1795345600.1")
    published = model.resync([citizen, agent], [], {"1795345600.1": stored})
    assert kinds(published) == ["call.adopted", "call.connected"]
    call = model.get("1795345600.1")
    assert call is not None
    assert (call.state, call.agent_interface) == ("connected", "PJSIP/1001")
    assert (call.started_at, call.queued_at, call.answered_at) == (
        stored["started_at"], stored["queued_at"], stored["answered_at"])
    assert (call.hold_seconds, call.ring_seconds, call.ticket_id) == (25, 2, "20261122007")


def test_a_stored_call_the_model_already_ended_is_not_closed_twice() -> None:
    model = CallModel(Clock())
    call_id = "1795346000.10"
    run(model, scenarios.answered_call(call_id))
    first = model.resync([])  # the link dropped; the call ended meanwhile
    assert kinds(first)[-1] == "call.ended"
    assert model.resync([], [], {call_id: stored_call(call_id)}) == []  # its row was not written yet


def test_blind_transfer_and_three_way_conference_scripts() -> None:
    model = CallModel(Clock())
    call_id = "1795346000.10"
    run(model, scenarios.answered_call(call_id, citizen="13800000001", agent="1001"))
    model.get(call_id).pending = {"kind": "police"}
    published = run(
        model, scenarios.blind_transfer(call_id, agent="1001", exten="110", context="hotline-police")
    )
    assert kinds(published)[0] == "call.transferred"
    assert published[0][1]["transfer"]["kind"] == "police"
    assert published[0][1]["state"] == "transferred"

    conf_id = "1795346000.20"
    run(model, scenarios.answered_call(conf_id, citizen="13800000002", agent="1002"))
    model.expect_outbound("hl-third-1", attach_to=conf_id, first_leg_role="third_party")  # as operations do
    published = run(
        model,
        scenarios.three_way(
            conf_id, agent="1002", third="110", room=conference_room(conf_id), third_id="hl-third-1"
        ),
    )
    assert kinds(published)[:2] == ["call.conference", "call.conference_joined"]
    left = [data for kind, data in published if kind == "call.conference_left"]
    assert left[0]["role"] == "agent"
    assert model.get(conf_id).state == "conference"
    call = model.get(conf_id)
    assert call is not None and call.agent_channel is None
    assert sorted(leg.role for leg in call.live_legs()) == ["citizen", "third_party"]
    assert len(model.calls) == 2  # the police call transferred away is still up; no call for the third party


def test_a_transfer_the_target_does_not_take_sends_the_citizen_back_to_the_queue() -> None:
    model = CallModel(Clock())
    call_id = "1795346100.20"
    run(model, scenarios.answered_call(call_id, agent="1001", hold=4))
    first_answer = model.get(call_id).answered_at
    citizen = scenarios.channel("", scenarios.citizen_channel(call_id), call_id, call_id)
    published = run(
        model,
        [
            {
                "Event": "BlindTransfer",
                "Result": "Success",
                "Extension": "8001",
                "Context": "hotline-transfer",
                **{"Transferee" + k: v for k, v in citizen.items()},
            },
            {"Event": "UserEvent", "UserEvent": "HotlineTransferFailed", "DialStatus": "BUSY", **citizen},
        ],
    )
    assert kinds(published) == ["call.transferred", "call.transfer_failed"]
    call = model.get(call_id)
    assert call.state == "queued" and call.outcome == "answered"  # not "transferred": nobody took it
    assert (call.transfers[-1]["result"], call.transfers[-1]["dial_status"]) == ("failed", "BUSY")
    # Answered again from the queue: the first answer (and its wait) is what the KPIs count.
    run(model, scenarios.answered_call(call_id, agent="1002", hold=30))
    assert (call.state, call.agent_interface, call.answered_at, call.hold_seconds) == (
        "connected",
        "PJSIP/1002",
        first_answer,
        4,
    )


def test_the_live_speech_id_of_a_call_comes_with_its_queue_join() -> None:
    model = CallModel(Clock())
    events = scenarios.queued_call("1795346200.30")
    join = next(e for e in events if e["Event"] == "QueueCallerJoin")
    join["ChanVariable"] = ["HOTLINE_KIND=citizen", "HOTLINE_SPEECH_ID=6f1c2a9e-0b7d-4e36-9a51-2d8b7f0c4e11"]
    (offered,) = [data for kind, data in run(model, events) if kind == "call.offered"]
    assert offered["speech_id"] == "6f1c2a9e-0b7d-4e36-9a51-2d8b7f0c4e11"


# ---- hold from the console --------------------------------------------------------------------------


class SetClock:
    """A clock the test moves by hand, so hold and talk seconds are exact."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)


def agent_hangs_up(call_id: str, agent: str = "1001") -> list[dict[str, Any]]:
    agent_leg = f"{call_id.partition('.')[0]}.{int(call_id.partition('.')[2]) + 1}"
    return [scenarios.hangup(scenarios.agent_channel(call_id, agent), agent_leg, call_id)]


def citizen_hangs_up(call_id: str) -> list[dict[str, Any]]:
    return [scenarios.hangup(scenarios.citizen_channel(call_id), call_id, call_id)]


def test_hold_time_is_kept_apart_from_talk_time_and_the_agent_completes_once() -> None:
    clock, call_id = SetClock(), "1795346000.10"
    model = CallModel(clock)
    run(model, scenarios.answered_call(call_id))
    clock.advance(20)
    held = run(model, scenarios.hold(call_id))
    assert kinds(held) == ["call.held"]
    assert (held[0][1]["state"], held[0][1]["holds"]) == ("held", 1)
    clock.advance(30)
    resumed = run(model, scenarios.resume(call_id))
    assert kinds(resumed) == ["call.resumed"]
    assert (resumed[0][1]["state"], resumed[0][1]["on_hold_seconds"]) == ("connected", 30)
    clock.advance(10)
    run(model, scenarios.hold(call_id, bridge=f"resumed-{call_id}"))
    clock.advance(5)
    run(model, scenarios.resume(call_id, bridge="again"))
    clock.advance(7)

    # Asterisk sends no AgentComplete once the call left the queue's bridge: the model completes the agent.
    ended = run(model, agent_hangs_up(call_id) + citizen_hangs_up(call_id))
    assert kinds(ended) == ["call.agent_completed", "call.ended"]
    completed, summary = ended[0][1], ended[1][1]
    assert (completed["agent_interface"], completed["reason"]) == ("PJSIP/1001", "agent")
    assert (summary["holds"], summary["on_hold_seconds"], summary["talk_seconds"]) == (2, 35, 37)
    assert summary["outcome"] == "answered"


def test_the_queue_and_warm_transfer_music_is_not_a_console_hold() -> None:
    model = CallModel(SetClock())
    call_id = "1795346000.10"
    run(model, scenarios.answered_call(call_id))
    queue_music = {**scenarios.hold(call_id)[2], "Context": "hotline-queue"}
    assert run(model, [queue_music]) == []
    assert model.calls[call_id].state == "connected"


def test_the_agent_leg_dropping_during_a_hold_completes_the_agent_and_the_citizen_is_queued_again() -> None:
    clock, call_id = SetClock(), "1795346000.10"
    model = CallModel(clock)
    run(model, scenarios.answered_call(call_id))
    clock.advance(12)
    run(model, scenarios.hold(call_id))
    clock.advance(40)
    dropped = run(model, agent_hangs_up(call_id))
    assert kinds(dropped) == ["call.agent_completed"]
    assert (dropped[0][1]["state"], dropped[0][1]["talk_seconds"]) == ("held", 12)  # the gateway requeues
    clock.advance(1)
    requeued = run(model, scenarios.hold_requeued(call_id))
    assert kinds(requeued) == ["call.hold_requeued", "call.offered"]
    call = model.calls[call_id]
    assert (call.state, call.on_hold_seconds, call.agent_channel) == ("queued", 41, None)
    assert call.answered_at is not None  # the first answer still counts for the KPIs


def test_a_citizen_hanging_up_on_hold_is_reported_so_the_waiting_agent_leg_is_ended() -> None:
    clock, call_id = SetClock(), "1795346000.10"
    model = CallModel(clock)
    run(model, scenarios.answered_call(call_id))
    clock.advance(8)
    run(model, scenarios.hold(call_id))
    clock.advance(15)
    gone = run(model, citizen_hangs_up(call_id))
    assert kinds(gone) == ["call.hold_abandoned"]
    assert gone[0][1]["agent_channel"] == scenarios.agent_channel(call_id, "1001")
    ended = run(model, agent_hangs_up(call_id))
    assert kinds(ended) == ["call.agent_completed", "call.ended"]
    assert (ended[0][1]["reason"], ended[1][1]["talk_seconds"], ended[1][1]["on_hold_seconds"]) == ("caller", 8, 15)


def test_the_agent_leaving_a_three_way_call_completes_the_agent() -> None:
    clock, call_id = SetClock(), "1795346000.10"
    model = CallModel(clock)
    run(model, scenarios.answered_call(call_id))
    clock.advance(25)
    room = conference_room(call_id)
    published = run(model, scenarios.three_way(call_id, agent="1001", third="110", room=room))
    completed = [data for kind, data in published if kind == "call.agent_completed"]
    assert [(c["agent_interface"], c["talk_seconds"], c["state"]) for c in completed] == [
        ("PJSIP/1001", 25, "conference")
    ]


def test_resync_adopts_a_held_call_with_its_agent() -> None:
    model = CallModel(SetClock())
    call_id = "1795346000.10"
    agent_leg = "1795346000.11"
    rows = [
        scenarios.core_show_channel(
            scenarios.citizen_channel(call_id), call_id, call_id,
            application="MusicOnHold", context="hotline-hold", exten="s",
        ),
        scenarios.core_show_channel(
            scenarios.agent_channel(call_id, "1001"), agent_leg, call_id,
            application="Wait", context="hotline-hold", exten="agent",
        ),
    ]
    published = model.resync(rows)
    assert kinds(published) == ["call.adopted", "call.connected"]
    call = model.calls[call_id]
    assert (call.state, call.agent_interface, call.agent_channel) == (
        "held", "PJSIP/1001", scenarios.agent_channel(call_id, "1001")
    )
    assert kinds(run(model, scenarios.resume(call_id))) == ["call.resumed"]
