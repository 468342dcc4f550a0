"""The ticket (工单) state machine: which action is allowed in which state, by whom, and where it leads.

Pure data and functions, no I/O: the service applies them inside a transaction. An illegal action
raises ``IllegalTransition`` naming the current state and the actions allowed now, and changes nothing.

    new ──accept──▶ accepted ──dispatch──▶ dispatched ──sign / deem_signed──▶ signed ──reply──▶ replied
     │                 ▲                        │                               │                │
     │ reject          └──approve_return── return_requested ◀──request_return──┘        approve_reply
     ▼                                                                                           ▼
  rejected        resolve_on_call (即时办结) ───────────────────────────────────────────▶ surveying
                                                                                             │
                           record_survey: satisfied / excluded → closed; unit at fault → dispatched (重办)
  Anywhere open: withdraw (撤单) → withdrawn; merge (并案) → merged; supervise (督办) keeps the state.
  signed ──request_termination──▶ termination_requested ──approve_termination──▶ terminated (终结办理)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gateway.errors import Conflict, Forbidden


class Status(StrEnum):
    NEW = "new"  # 待受理
    ACCEPTED = "accepted"  # 已受理, awaiting dispatch
    REJECTED = "rejected"  # 不予受理
    DISPATCHED = "dispatched"  # 已转派, awaiting the unit's 签收
    SIGNED = "signed"  # 已签收, being handled
    RETURN_REQUESTED = "return_requested"  # 退单 awaiting review
    REPLIED = "replied"  # 已答复, awaiting review
    SURVEYING = "surveying"  # 待回访
    TERMINATION_REQUESTED = "termination_requested"  # 终结办理 awaiting review
    TERMINATED = "terminated"  # 终结办理
    WITHDRAWN = "withdrawn"  # 撤单
    MERGED = "merged"  # 并案 into another ticket
    CLOSED = "closed"  # 办结

    @property
    def zh(self) -> str:
        return STATUS_ZH[self]

    @property
    def is_final(self) -> bool:
        return self in FINAL


STATUS_ZH = {
    Status.NEW: "待受理",
    Status.ACCEPTED: "已受理",
    Status.REJECTED: "不予受理",
    Status.DISPATCHED: "已转派",
    Status.SIGNED: "办理中",
    Status.RETURN_REQUESTED: "退单审核中",
    Status.REPLIED: "已答复待审核",
    Status.SURVEYING: "待回访",
    Status.TERMINATION_REQUESTED: "终结审核中",
    Status.TERMINATED: "已终结",
    Status.WITHDRAWN: "已撤单",
    Status.MERGED: "已并案",
    Status.CLOSED: "已办结",
}

FINAL = frozenset({Status.REJECTED, Status.TERMINATED, Status.WITHDRAWN, Status.MERGED, Status.CLOSED})
OPEN = frozenset(Status) - FINAL


class Actor(StrEnum):
    AGENT = "agent"  # 话务员
    UNIT = "unit"  # 承办单位
    ADMIN = "admin"  # platform reviewer / supervisor
    SYSTEM = "system"  # the gateway itself (timers)


class Action(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    RESOLVE_ON_CALL = "resolve_on_call"
    UPDATE = "update"
    DISPATCH = "dispatch"
    SIGN = "sign"
    DEEM_SIGNED = "deem_signed"
    REQUEST_RETURN = "request_return"
    APPROVE_RETURN = "approve_return"
    REJECT_RETURN = "reject_return"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    REJECT_EXTENSION = "reject_extension"
    REPLY = "reply"
    APPROVE_REPLY = "approve_reply"
    REJECT_REPLY = "reject_reply"
    RECORD_SURVEY = "record_survey"
    REOPEN = "reopen"
    CLOSE = "close"
    WITHDRAW = "withdraw"
    REQUEST_TERMINATION = "request_termination"
    APPROVE_TERMINATION = "approve_termination"
    REJECT_TERMINATION = "reject_termination"
    MERGE = "merge"
    SUPERVISE = "supervise"
    LINK = "link"


@dataclass(frozen=True, slots=True)
class Rule:
    sources: frozenset[Status]
    # None: the service decides (e.g. back to the state before a return request, or reopen vs close).
    target: Status | None
    actors: frozenset[Actor]


def _rule(sources: set[Status] | frozenset[Status], target: Status | None, *actors: Actor) -> Rule:
    return Rule(frozenset(sources), target, frozenset(actors))


HANDLING = {Status.DISPATCHED, Status.SIGNED}
PLATFORM = (Actor.AGENT, Actor.ADMIN)

RULES: dict[Action, Rule] = {
    Action.ACCEPT: _rule({Status.NEW}, Status.ACCEPTED, *PLATFORM),
    Action.REJECT: _rule({Status.NEW}, Status.REJECTED, *PLATFORM),
    Action.RESOLVE_ON_CALL: _rule({Status.NEW, Status.ACCEPTED}, Status.SURVEYING, *PLATFORM),
    Action.UPDATE: _rule({Status.NEW, Status.ACCEPTED}, None, *PLATFORM),
    Action.DISPATCH: _rule({Status.ACCEPTED}, Status.DISPATCHED, *PLATFORM),
    Action.SIGN: _rule(HANDLING, None, Actor.UNIT),
    Action.DEEM_SIGNED: _rule({Status.DISPATCHED}, Status.SIGNED, Actor.SYSTEM),
    Action.REQUEST_RETURN: _rule(HANDLING, Status.RETURN_REQUESTED, Actor.UNIT),
    Action.APPROVE_RETURN: _rule({Status.RETURN_REQUESTED}, Status.ACCEPTED, Actor.ADMIN),
    Action.REJECT_RETURN: _rule({Status.RETURN_REQUESTED}, None, Actor.ADMIN),
    Action.REQUEST_EXTENSION: _rule(HANDLING, None, Actor.UNIT),
    Action.APPROVE_EXTENSION: _rule(HANDLING, None, Actor.ADMIN),
    Action.REJECT_EXTENSION: _rule(HANDLING, None, Actor.ADMIN),
    Action.REPLY: _rule({Status.SIGNED}, Status.REPLIED, Actor.UNIT),
    Action.APPROVE_REPLY: _rule({Status.REPLIED}, Status.SURVEYING, Actor.ADMIN),
    Action.REJECT_REPLY: _rule({Status.REPLIED}, Status.SIGNED, Actor.ADMIN),
    Action.RECORD_SURVEY: _rule({Status.SURVEYING}, None, Actor.SYSTEM, Actor.AGENT, Actor.ADMIN),
    Action.REOPEN: _rule({Status.SURVEYING, Status.CLOSED}, Status.DISPATCHED, Actor.ADMIN, Actor.SYSTEM),
    Action.CLOSE: _rule({Status.SURVEYING}, Status.CLOSED, Actor.ADMIN, Actor.SYSTEM),
    Action.WITHDRAW: _rule(
        {Status.NEW, Status.ACCEPTED, Status.DISPATCHED, Status.SIGNED, Status.RETURN_REQUESTED},
        Status.WITHDRAWN, *PLATFORM,
    ),
    Action.REQUEST_TERMINATION: _rule({Status.SIGNED}, Status.TERMINATION_REQUESTED, Actor.UNIT),
    Action.APPROVE_TERMINATION: _rule({Status.TERMINATION_REQUESTED}, Status.TERMINATED, Actor.ADMIN),
    Action.REJECT_TERMINATION: _rule({Status.TERMINATION_REQUESTED}, Status.SIGNED, Actor.ADMIN),
    Action.MERGE: _rule({Status.NEW, Status.ACCEPTED, Status.DISPATCHED, Status.SIGNED}, Status.MERGED,
                        *PLATFORM),
    Action.SUPERVISE: _rule(
        {Status.DISPATCHED, Status.SIGNED, Status.RETURN_REQUESTED, Status.REPLIED,
         Status.TERMINATION_REQUESTED},
        None, Actor.ADMIN, Actor.SYSTEM,
    ),
    Action.LINK: _rule(frozenset(Status), None, Actor.AGENT, Actor.ADMIN, Actor.SYSTEM),
}


class IllegalTransition(Conflict):
    default_error_id = "illegal-transition"


def allowed_actions(status: Status, actor: Actor | None = None) -> list[str]:
    return [
        action.value
        for action, rule in RULES.items()
        if status in rule.sources and (actor is None or actor in rule.actors)
    ]


def check(action: Action, status: Status, actor: Actor) -> Rule:
    """Return the rule for ``action`` if it may happen now; otherwise raise with what is allowed."""
    rule = RULES[action]
    if actor not in rule.actors:
        raise Forbidden(
            f"a {actor.value} may not {action.value} a ticket",
            error_id="action-not-permitted", action=action.value, actor=actor.value,
        )
    if status not in rule.sources:
        allowed = allowed_actions(status)
        yours = allowed_actions(status, actor)
        raise IllegalTransition(
            f"cannot {action.value} a ticket that is {status.value} ({status.zh}); "
            f"allowed now: {', '.join(allowed) or 'nothing'}"
            + (f"; of these a {actor.value} may: {', '.join(yours)}" if yours != allowed else ""),
            current_status=status.value, allowed_actions=allowed, your_actions=yours,
        )
    return rule
