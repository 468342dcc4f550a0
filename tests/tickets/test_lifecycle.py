"""The ticket state machine: who may do what, from which state, and what an illegal move says."""

import pytest

from gateway.errors import Forbidden
from gateway.tickets.lifecycle import FINAL, RULES, Action, Actor, IllegalTransition, Status, allowed_actions, check


def test_every_action_has_a_rule_and_every_open_state_a_way_forward() -> None:
    assert set(RULES) == set(Action)
    for status in set(Status) - FINAL:
        moves = [a for a, r in RULES.items() if status in r.sources and a is not Action.LINK]
        assert moves, f"{status} is a dead end"


def test_final_states_allow_nothing_but_linking_and_reopening_a_closed_ticket() -> None:
    for status in FINAL:
        allowed = set(allowed_actions(status))
        expected = {"link", "reopen"} if status is Status.CLOSED else {"link"}
        assert allowed == expected, status


@pytest.mark.parametrize(
    ("action", "status", "actor", "target"),
    [
        (Action.ACCEPT, Status.NEW, Actor.AGENT, Status.ACCEPTED),
        (Action.REJECT, Status.NEW, Actor.AGENT, Status.REJECTED),
        (Action.DISPATCH, Status.ACCEPTED, Actor.AGENT, Status.DISPATCHED),
        (Action.REQUEST_RETURN, Status.SIGNED, Actor.UNIT, Status.RETURN_REQUESTED),
        (Action.APPROVE_RETURN, Status.RETURN_REQUESTED, Actor.ADMIN, Status.ACCEPTED),
        (Action.REPLY, Status.SIGNED, Actor.UNIT, Status.REPLIED),
        (Action.APPROVE_REPLY, Status.REPLIED, Actor.ADMIN, Status.SURVEYING),
        (Action.REJECT_REPLY, Status.REPLIED, Actor.ADMIN, Status.SIGNED),
        (Action.APPROVE_TERMINATION, Status.TERMINATION_REQUESTED, Actor.ADMIN, Status.TERMINATED),
        (Action.WITHDRAW, Status.SIGNED, Actor.AGENT, Status.WITHDRAWN),
        (Action.MERGE, Status.NEW, Actor.AGENT, Status.MERGED),
    ],
)
def test_legal_moves(action: Action, status: Status, actor: Actor, target: Status) -> None:
    assert check(action, status, actor).target is target


def test_illegal_move_names_current_state_and_allowed_actions() -> None:
    with pytest.raises(IllegalTransition) as err:
        check(Action.SIGN, Status.NEW, Actor.UNIT)
    assert err.value.status == 409
    assert err.value.details["current_status"] == "new"
    assert "待受理" in err.value.message
    with pytest.raises(IllegalTransition) as err:
        check(Action.REPLY, Status.DISPATCHED, Actor.UNIT)
    assert set(err.value.details["your_actions"]) == {"sign", "request_return", "request_extension"}
    assert "supervise" in err.value.details["allowed_actions"]


def test_units_cannot_review_and_agents_cannot_sign() -> None:
    with pytest.raises(Forbidden):
        check(Action.APPROVE_RETURN, Status.RETURN_REQUESTED, Actor.UNIT)
    with pytest.raises(Forbidden):
        check(Action.SIGN, Status.DISPATCHED, Actor.AGENT)
