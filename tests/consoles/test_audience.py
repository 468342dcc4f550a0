"""Who sees which console event (decided when it is published, so a replay shows the same)."""

from __future__ import annotations

from gateway.consoles.audience import Router, Viewer

AGENT, OTHER = Viewer("agent", "a1001"), Viewer("agent", "a1002")
EXPERT = Viewer("agent", "e2001", frozenset({"12333"}))
SUPERVISOR = Viewer("admin", "banzhang")


def call(state: str, **more: object) -> dict[str, object]:
    return {"call_id": "1795.1", "caller": "13800000001", "caller_name": "王", "state": state, "queue": "hotline",
            "agent_interface": None, **more}


def test_a_queued_call_is_a_count_on_every_agents_board_without_the_callers_number() -> None:
    router = Router()
    audience = router.route("call.offered", call("queued"))
    assert SUPERVISOR.sees(audience, call("queued"))["caller"] == "13800000001"
    board = AGENT.sees(audience, call("queued"))
    assert board is not None and board["state"] == "queued" and "caller" not in board


def test_the_agent_it_rings_for_sees_the_whole_call_and_its_transcript_and_draft() -> None:
    router = Router()
    router.learn_agent("a1001", "PJSIP/1001")
    router.route("call.offered", call("queued"))
    ringing = router.route("call.ringing", call("ringing", ringing_interface="PJSIP/1001"))
    assert AGENT.sees(ringing, {"x": 1}) == {"x": 1}
    assert OTHER.sees(ringing, {"x": 1}) != {"x": 1}
    draft = router.route("draft.updated", {"call_key": "1795.1", "draft": {}})
    assert AGENT.sees(draft, {"d": 1}) == {"d": 1}
    assert OTHER.sees(draft, {"d": 1}) is None and SUPERVISOR.sees(draft, {"d": 1}) == {"d": 1}


def test_an_expert_group_sees_a_call_once_it_is_consulted_and_the_agent_keeps_seeing_it() -> None:
    router = Router()
    router.route("call.connected", call("connected", agent_id="a1001", agent_interface="PJSIP/1001"))
    before = router.route("draft.updated", {"call_key": "1795.1", "draft": {}})
    assert EXPERT.sees(before, {"d": 1}) is None
    router.route("call.consulting", call("consulting", agent_id="a1001", expert="12333"))
    after = router.route("draft.updated", {"call_key": "1795.1", "draft": {}})
    assert EXPERT.sees(after, {"d": 1}) == {"d": 1} and AGENT.sees(after, {"d": 1}) == {"d": 1}
    assert Viewer("agent", "e3000", frozenset({"12348"})).sees(after, {"d": 1}) is None


def test_ticket_events_reach_the_agents_who_worked_on_the_ticket_or_its_call() -> None:
    router = Router()
    router.route("call.connected", call("connected", agent_id="a1001"))
    router.route("call.ticket_linked", {"call_id": "1795.1", "ticket_id": "20261122-0001"})
    dispatched = router.route("ticket.dispatch", {"number": "20261122-0001", "actor": "admin:banzhang"})
    assert AGENT.sees(dispatched, {"t": 1}) == {"t": 1} and OTHER.sees(dispatched, {"t": 1}) is None
    accepted = router.route("ticket.accept", {"number": "20261122-0002", "actor": "agent:a1002"})
    assert OTHER.sees(accepted, {"t": 1}) == {"t": 1} and AGENT.sees(accepted, {"t": 1}) is None


def test_a_supervisor_listening_in_is_never_shown_to_agents() -> None:
    router = Router()
    spy = router.route("call.connected", call("connected", call_kind="spy", agent_id="a1001"))
    assert AGENT.sees(spy, {"s": 1}) is None and SUPERVISOR.sees(spy, {"s": 1}) == {"s": 1}


def test_agent_states_and_hotspot_alerts_are_public_boards() -> None:
    router = Router()
    for kind in ("agent.state", "hotspot.warning"):
        assert OTHER.sees(router.route(kind, {"agent_id": "a1001"}), {"p": 1}) == {"p": 1}
