"""Who may see which console event: decided once, when the event is published, so a replay after a
reconnect shows a page exactly what it would have seen live.

- Supervisors (admin tokens) see every console event.
- Units never get a stream (their work is the tickets API and webhooks).
- An agent sees the calls it rings for or talks on, their transcript and draft, the tickets it worked
  on, and the public boards: queue counts without callers' numbers, agents' states, hotspot alerts.
- A remote seat (an agent token with a territory) sees only the hotspot alerts whose place is in its
  territory (the place names it; ``gateway.tickets.views`` decides the rest of what a seat sees).
- An expert seat (an agent token on the expert page) also sees a call while its group is consulted.
  Agents may already read every live call and ticket through the HTTP API, so this reveals nothing new.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

# Only these domain events are console events; the rest (sms., webhook., kb. …) stay on the server.
FORWARDED = ("call.", "agent.", "transcript.", "draft.", "ticket.", "hotspot.", "handoff.", "pbx.")
PUBLIC_TO_AGENTS = ("agent.", "hotspot.", "pbx.")
# What a queue board needs of a call: no caller number, no name.
BOARD_FIELDS = ("call_id", "state", "queue", "queued_at", "answered_at", "ended_at", "abandoned", "agent_id",
                "hold_seconds", "outcome")
REMEMBERED = 5000  # calls and tickets whose watchers we remember (oldest forgotten first)


@dataclass(frozen=True, slots=True)
class Audience:
    agents: frozenset[str] = frozenset()  # agent ids that see the whole event
    expert_groups: frozenset[str] = frozenset()  # expert pages of these groups see it too
    all_agents: bool = False
    board: dict[str, Any] | None = None  # what every other agent sees instead (None: nothing)
    place: str | None = None  # hotspot alerts: where, for remote seats' territories


@dataclass(frozen=True, slots=True)
class Viewer:
    kind: str  # "agent" | "admin"
    id: str
    expert_groups: frozenset[str] = frozenset()
    territory: str | None = None  # remote seats

    def sees(self, audience: Audience, data: dict[str, Any]) -> dict[str, Any] | None:
        """The event's data as this viewer may see it, or None."""
        if audience.place is not None and not in_territory(self.territory, audience.place):
            return None
        if self.kind == "admin" or audience.all_agents or self.id in audience.agents:
            return data
        if self.expert_groups & audience.expert_groups:
            return data
        return audience.board


def in_territory(territory: str | None, place: str | None) -> bool:
    return territory is None or territory in (place or "")


class _Bounded(OrderedDict[str, Any]):
    def remember(self, key: str, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > REMEMBERED:
            self.popitem(last=False)


@dataclass
class Router:
    """Keeps just enough state to route events: which agent sits at which interface, who handled which
    call, which expert group a call was offered to, which agents worked on which ticket."""

    interfaces: dict[str, str] = field(default_factory=dict)  # PJSIP/1001 → agent id
    call_agents: _Bounded = field(default_factory=_Bounded)  # call id → set of agent ids
    call_experts: _Bounded = field(default_factory=_Bounded)  # call id → expert group
    ticket_agents: _Bounded = field(default_factory=_Bounded)  # ticket number → set of agent ids

    def learn_agent(self, agent_id: str | None, interface: str | None) -> None:
        if agent_id and interface:
            self.interfaces[interface] = agent_id

    def route(self, kind: str, data: dict[str, Any]) -> Audience:
        if kind.startswith("agent."):
            self.learn_agent(data.get("agent_id"), data.get("interface"))
        if kind.startswith("hotspot."):
            return Audience(all_agents=True, place=str(data.get("place") or ""))
        if kind.startswith(PUBLIC_TO_AGENTS):
            return Audience(all_agents=True)
        if kind.startswith("call."):
            return self._call(kind, data)
        if kind.startswith(("transcript.", "draft.")):
            return self._of_call(str(data.get("call_key", "")))
        if kind.startswith("handoff."):
            return self._of_call(str(data.get("call_id", "")))
        if kind.startswith("ticket."):
            return self._ticket(data)
        return Audience()  # supervisors only

    def _call(self, kind: str, data: dict[str, Any]) -> Audience:
        call_id = str(data.get("call_id", ""))
        if data.get("call_kind") == "spy":
            return Audience()  # a supervisor listening in is not shown to the agent
        agents = set(self.call_agents.get(call_id, ()))
        for candidate in (data.get("agent_id"), self.interfaces.get(str(data.get("agent_interface"))),
                          self.interfaces.get(str(data.get("ringing_interface")))):
            if candidate:
                agents.add(str(candidate))
        if agents:
            self.call_agents.remember(call_id, agents)
        if kind == "call.consulting" and data.get("expert"):
            self.call_experts.remember(call_id, str(data["expert"]))
        if kind == "call.ticket_linked" and data.get("ticket_id"):
            self._watch_ticket(str(data["ticket_id"]), agents)
        board = {name: data.get(name) for name in BOARD_FIELDS if name in data} if "state" in data else None
        audience = self._of_call(call_id)
        return Audience(audience.agents, audience.expert_groups, board=board)

    def _of_call(self, call_id: str) -> Audience:
        group = self.call_experts.get(call_id)
        return Audience(agents=frozenset(self.call_agents.get(call_id, ())),
                        expert_groups=frozenset({group}) if group else frozenset())

    def _ticket(self, data: dict[str, Any]) -> Audience:
        number = str(data.get("number", ""))
        actor_kind, _, actor_id = str(data.get("actor", "")).partition(":")
        if actor_kind == "agent" and actor_id:
            self._watch_ticket(number, {actor_id})
        return Audience(agents=frozenset(self.ticket_agents.get(number, ())))

    def _watch_ticket(self, number: str, agents: set[str]) -> None:
        self.ticket_agents.remember(number, set(self.ticket_agents.get(number, ())) | agents)
