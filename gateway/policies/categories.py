"""The seven ticket categories every pack shares (庆阳 第二十条(一) lists them; the others use subsets)."""

from __future__ import annotations

from enum import StrEnum

from gateway.errors import InvalidInput

_ZH = {
    "consultation": "咨询",
    "help": "求助",
    "complaint": "投诉",
    "report": "举报",
    "suggestion": "建议",
    "thanks": "致谢",
    "other": "其他",
}


class Category(StrEnum):
    """A ticket category. The value is the English slug used in packs, APIs and the database."""

    CONSULTATION = "consultation"
    HELP = "help"
    COMPLAINT = "complaint"
    REPORT = "report"
    SUGGESTION = "suggestion"
    THANKS = "thanks"
    OTHER = "other"

    @property
    def zh(self) -> str:
        return _ZH[self.value]

    @classmethod
    def parse(cls, text: str) -> Category:
        """Accept the slug ("complaint"), the Chinese name ("投诉") or its "…类" form ("投诉类")."""
        cleaned = text.strip()
        lowered = cleaned.lower()
        for category in cls:
            if lowered == category.value or cleaned in (category.zh, category.zh + "类"):
                return category
        known = ", ".join(f"{c.value}/{c.zh}" for c in cls)
        raise InvalidInput(f"unknown category {text!r}; known: {known}", error_id="unknown-category")
