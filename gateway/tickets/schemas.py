"""Validated inputs of the ticket core (shared by the service, the HTTP API and the CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.phone import caller_e164
from gateway.tickets.lifecycle import Actor


class Channel(StrEnum):
    PHONE = "phone"
    WEB = "web"
    WECHAT = "wechat"
    MAIL = "mail"
    APP = "app"
    SMS = "sms"
    POLICE_110 = "110"  # transferred from the 110 platform
    NATIONAL_PLATFORM = "national_platform"  # 国家政务服务平台
    LEADER_BOARD = "leader_board"  # 领导留言板
    UPPER_PLATFORM = "upper_platform"  # dispatched by a parent 12345 platform
    OTHER = "other"


class SatisfactionLevel(StrEnum):
    VERY_SATISFIED = "very_satisfied"  # 非常满意
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意
    VERY_DISSATISFIED = "very_dissatisfied"  # 非常不满意

    @property
    def zh(self) -> str:
        return LEVEL_ZH[self]

    @property
    def satisfied(self) -> bool:
        return self in (self.VERY_SATISFIED, self.SATISFIED, self.BASICALLY_SATISFIED)


LEVEL_ZH = {
    SatisfactionLevel.VERY_SATISFIED: "非常满意",
    SatisfactionLevel.SATISFIED: "满意",
    SatisfactionLevel.BASICALLY_SATISFIED: "基本满意",
    SatisfactionLevel.DISSATISFIED: "不满意",
    SatisfactionLevel.VERY_DISSATISFIED: "非常不满意",
}


@dataclass(frozen=True, slots=True)
class ActorRef:
    """Who acts: an agent (id = agent id), a unit (id = unit id), an admin, or the system."""

    kind: Actor
    id: str | None = None
    person: str | None = None  # a unit's clerk: the id of the token they act with (audited by person)

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}" if self.id else self.kind.value


SYSTEM = ActorRef(Actor.SYSTEM, "gateway")


def normalise_phone(raw: str | None, region: str = "CN") -> str | None:
    """Caller numbers as E.164 (+8613800000000, +868711234567). Withheld numbers stay None."""
    return caller_e164(raw, region)


class NewTicket(BaseModel):
    """What an agent (or a draft, or another channel) gives to open a ticket."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: Channel = Channel.PHONE
    category: str  # Chinese name or English slug; checked against the policy pack
    urgent: bool = False
    provincial: bool = False
    title: str = Field(default="", max_length=200)
    content: str = Field(min_length=1, max_length=20_000)
    elements: dict[str, Any] = Field(default_factory=dict)
    location: str | None = Field(default=None, max_length=300)
    caller_number: str | None = None
    caller_name: str | None = Field(default=None, max_length=100)
    caller_address: str | None = Field(default=None, max_length=300)
    confidential: bool = False
    disclose_caller: bool = False  # the caller allows units to see name, number and address
    external_ref: str | None = Field(default=None, max_length=100)

    @field_validator("caller_number")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_phone(value)


EDITABLE_FIELDS = frozenset(
    {"category", "urgent", "title", "content", "elements", "location", "caller_name", "caller_address",
     "confidential", "provincial", "disclose_caller"}
)


# ---- answers of the HTTP API (documented in OpenAPI; further fields may follow) -----------------------


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class CallerOut(Open):
    number: str | None
    name: str | None
    address: str | None
    masked: bool


class TicketOut(Open):
    number: str
    status: str
    version: int
    category: str
    content: str
    caller: CallerOut
    confidential: bool
    lead_unit: str | None
    assignments: list[dict[str, Any]]
    allowed_actions: list[str]


class TicketPage(Open):
    items: list[TicketOut]
    limit: int
    offset: int


class SearchPage(TicketPage):
    has_more: bool


class WorklistOut(Open):
    name: str
    label: str
    count: int


class WorklistsOut(Open):
    items: list[WorklistOut]


class TicketEventOut(Open):
    seq: int
    action: str
    actor: dict[str, Any]
    at: datetime


class TicketEvents(Open):
    items: list[TicketEventOut]


class RequestOut(Open):
    id: int
    kind: str
    unit: str
    status: str


class Requests(Open):
    items: list[RequestOut]


class UnitOut(Open):
    id: str
    name: str
    region: str | None


class Units(Open):
    items: list[UnitOut]


class StatsOut(Open):
    items: list[dict[str, Any]]


class Items(Open):
    items: list[dict[str, Any]]
