"""What the /calls and /agents routes take and answer, as pydantic models.

The request models are checked at the HTTP edge before a handler runs (422 with the failing fields), and
they are what the OpenAPI document shows. Identifiers that end up in AMI actions or the dialplan are held
to a strict character set here, so a control character never gets as far as the PBX link.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

# A name, extension or id that is sent to Asterisk: letters, digits and a few separators.
Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@+-]*$")]
Digits = Annotated[str, Field(min_length=2, max_length=20, pattern=r"^[0-9]+$")]
# Free text that is still one line (pause reasons reach the queue log).
Line = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$")]
Interface = Annotated[str, Field(max_length=80, pattern=r"^(PJSIP|SIP|IAX2|Local)/[A-Za-z0-9_.@-]+$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Transfer(Body):
    target: Ident = Field(description="a configured transfer target's name, or its number")


class ConsultExpert(Body):
    expert: Ident = Field(description="a configured expert group")


class Conference(Body):
    party: Digits = Field(description="the third party's number")


class PoliceHandoffRecord(BaseModel):
    """The structured record handed to 110; further fields are kept as given."""

    model_config = ConfigDict(extra="allow")

    summary: str = Field(min_length=1, max_length=2000, pattern=r"\S")
    location: str = Field(min_length=1, max_length=500, pattern=r"\S")


class LinkTicket(Body):
    ticket_id: Ident


class Outbound(Body):
    kind: Literal["callback", "survey"]
    number: Digits
    agent_id: Ident | None = Field(default=None, description="the agent rung first (callback)")
    ticket_id: Ident | None = None


class RegisterAgent(Body):
    name: str = Field(default="", max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")
    interface: Interface | None = Field(default=None, description="default PJSIP/<agent_id>")
    queues: list[Ident] | None = Field(default=None, max_length=20)


class Login(Body):
    queues: list[Ident] | None = Field(default=None, max_length=20)


class Pause(Body):
    reason: Line


class Queues(Body):
    queues: list[Ident] = Field(max_length=20)


class Spy(Body):
    supervisor: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9]+$")]
    mode: Literal["listen", "whisper", "barge"]


class KpiQuery(Body):
    since: AwareDatetime | None = Field(default=None, description="ISO 8601 with a UTC offset")
    until: AwareDatetime | None = None
    queue: Ident | None = None


class HandoffQuery(Body):
    undelivered: Literal["0", "1", "true", "false"] | None = Field(
        default=None, description="1: only 12345→110 records the webhook still owes")


# ---- answers ---------------------------------------------------------------------------------------


class Open(BaseModel):
    """An answer whose listed fields are always there; more may follow."""

    model_config = ConfigDict(extra="allow")


class CallSummary(Open):
    call_id: str
    call_kind: str | None = None
    state: str | None = None
    caller: str | None = None
    started_at: datetime | None = None


class CallDetail(CallSummary):
    live: bool


class CallList(Open):
    calls: list[CallSummary]
    pbx: str


class CallAction(Open):
    call_id: str | None = None


class KpiList(Open):
    queues: list[dict[str, Any]]


class HandoffList(Open):
    handoffs: list[dict[str, Any]]


class Agent(Open):
    agent_id: str
    name: str
    interface: str
    queues: list[str]
    state: str
    pause_reason: str | None = None
    state_since: datetime | None = None
    asterisk: dict[str, Any]


class AgentList(Open):
    agents: list[Agent]
