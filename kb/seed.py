"""The starter entries built from the regulations (kb/data/seed_entries.json).

The file names each source document once and lists entries against it; ``seed_rows`` expands that into
ordinary import rows, so seeding goes through the same validation and versioning as any import.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from kb.access import Actor
from kb.service import ImportReport, KnowledgeBase

log = logging.getLogger(__name__)

SEED_FILE = Path(__file__).with_name("data") / "seed_entries.json"
SEED_ACTOR = Actor(kind="admin", id="seed")


def seed_rows(path: Path = SEED_FILE) -> list[tuple[int, dict[str, Any]]]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    documents = doc["documents"]
    rows = []
    for number, item in enumerate(doc["entries"], 1):
        source = documents[item["doc"]]
        rows.append((number, {
            "id": item["id"],
            "question": item["question"],
            "answer": item["answer"],
            "alternatives": item.get("alternatives", []),
            "basis_document": source["document"],
            "basis_article": item["article"],
            "unit_id": source["unit_id"],
            "region": source["region"],
            "is_public": item.get("is_public", True),
            "tags": [*item.get("tags", []), *source.get("tags", [])],
            "effective_at": source["effective_at"],
            "expires_at": item.get("expires_at"),
        }))
    return rows


async def seed(kb: KnowledgeBase, *, only_if_empty: bool = True) -> ImportReport | None:
    """Load the starter entries. With ``only_if_empty`` (start-up), do nothing if any entry exists.
    Otherwise (``hotline kb seed --update``) entries whose seed text changed get a new version."""
    if only_if_empty and await kb.count() > 0:
        return None
    report = await kb.import_rows(SEED_ACTOR, seed_rows(), strict=True)
    if report.rejected:  # the shipped file is checked by the tests; this means someone edited it badly
        log.error("seed file rejected: %s", report.rejected)
    else:
        log.info("knowledge base seeded with %d entries", len(report.imported))
    return report
