"""What an entry is made of, validated the same way for the API, imports and the seed file."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from gateway.errors import InvalidInput

ENTRY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CONTENT_FIELDS = ("question", "answer", "alternatives", "basis_document", "basis_article", "unit_id",
                  "region", "is_public", "tags", "effective_at", "expires_at")


def _clean_list(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


class EntryContent(BaseModel):
    """One question with its answer (一问一答), its basis (依据) and when it is in force (生效/下架)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    question: str = Field(min_length=2, max_length=500)
    answer: str = Field(min_length=1, max_length=20000)
    alternatives: list[str] = Field(default_factory=list, max_length=50)
    basis_document: str = Field(min_length=2, max_length=500)
    basis_article: str = Field(default="", max_length=200)
    unit_id: str = Field(min_length=1, max_length=64)
    region: str = Field(min_length=1, max_length=64)
    is_public: bool = True
    tags: list[str] = Field(default_factory=list, max_length=50)
    effective_at: AwareDatetime
    expires_at: AwareDatetime | None = None

    @field_validator("alternatives", "tags")
    @classmethod
    def _no_blanks(cls, values: list[str]) -> list[str]:
        return _clean_list(values)

    @model_validator(mode="after")
    def _expires_after_effective(self) -> EntryContent:
        if self.expires_at is not None and self.expires_at <= self.effective_at:
            raise ValueError("expires_at must be later than effective_at")
        return self

    def in_force(self, at: datetime) -> bool:
        return self.effective_at <= at and (self.expires_at is None or at < self.expires_at)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def parse_content(data: Any) -> EntryContent:
    """Validate an entry's content, turning pydantic's complaint into a plain 400."""
    try:
        return EntryContent.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput("the entry is not valid: " + describe(exc), error_id="invalid-entry",
                           problems=problems(exc)) from exc


def problems(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        out.append(f"{where}: {err['msg']}" if where else err["msg"])
    return out


def describe(exc: ValidationError) -> str:
    return "; ".join(problems(exc))


def check_entry_id(entry_id: str) -> str:
    if not ENTRY_ID.fullmatch(entry_id):
        raise InvalidInput(f"bad entry id {entry_id!r}: letters, digits, '.', '_', '-', at most 64",
                           error_id="invalid-entry-id")
    return entry_id


# ---- the HTTP API: request bodies and queries (checked at the edge) and answers -------------------------

UNIT_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SuggestBody(ApiModel):
    text: str = Field(max_length=5000, description="live transcript text")
    unit_id: str | None = Field(default=None, pattern=UNIT_ID)
    region: str | list[str] | None = Field(default=None, max_length=20)
    public: bool = False
    limit: int = Field(default=3, ge=1, le=50)


class ChangeBody(ApiModel):
    kind: str = Field(pattern="^(create|update|retire)$")
    entry_id: str | None = Field(default=None, pattern=ENTRY_ID.pattern)
    content: EntryContent | None = Field(default=None, description="the whole entry (create, update)")
    base_version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    question_id: int | None = Field(default=None, ge=1, le=2**63 - 1, description="the question this answers")
    publish: bool = Field(default=False, description="platform only: approve in the same step")


class ReviewBody(ApiModel):
    note: str = Field(default="", max_length=2000)


class QuestionBody(ApiModel):
    unit_id: str = Field(pattern=UNIT_ID)
    text: str = Field(min_length=1, max_length=2000)


class SearchQuery(ApiModel):
    q: str = Field(min_length=1, max_length=500, pattern=r"\S")
    region: str | None = Field(default=None, max_length=64)
    unit_id: str | None = Field(default=None, pattern=UNIT_ID)
    public: bool = False
    limit: int = Field(default=10, ge=1, le=50)


class ChangesQuery(ApiModel):
    status: str | None = Field(default=None, pattern="^(pending|approved|rejected)$")


class QuestionsQuery(ApiModel):
    status: str | None = Field(default=None, pattern="^(open|answered)$")


class ImportQuery(ApiModel):
    format: str = Field(default="json", pattern="^(csv|json|xlsx)$")
    strict: bool = Field(default=False, description="import nothing if any row is bad")


class ExportQuery(ApiModel):
    format: str = Field(default="json", pattern="^(csv|json|xlsx)$")
    include_inactive: bool = False


class Open(BaseModel):
    """An answer whose listed fields are always there; more may follow."""

    model_config = ConfigDict(extra="allow")


class EntryOut(Open):
    id: str
    question: str
    answer: str
    unit_id: str
    region: str
    version: int


class SearchHits(Open):
    results: list[EntryOut]


class ChangeOut(Open):
    id: int
    kind: str
    entry_id: str | None
    status: str


class QuestionOut(Open):
    id: int
    unit_id: str
    text: str
    status: str


class Changes(Open):
    changes: list[ChangeOut]


class Questions(Open):
    questions: list[QuestionOut]


class Versions(Open):
    versions: list[dict[str, Any]]


class Reminders(Open):
    reminders: list[dict[str, Any]]


class ImportReport(Open):
    imported: int
    rejected: list[Any]
