"""Hot-issue summaries written before they were made of matter words quoted a ticket's text (a
confidential one's too): the upgrade empties them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from gateway.db import create_engine, upgrade


async def test_the_upgrade_forgets_summaries_that_quote_a_ticket(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        await upgrade(engine, "federation_0002")
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO hotspot_warnings (key, category, place, summary, tickets, count, status, first_at,"
                " last_at, created_at) VALUES ('k', 'complaint', '汉滨区', '举报人电话13787654321，化工厂偷排',"
                " '[]', 3, 'open', '2026-11-02 10:00:00', '2026-11-02 10:00:00', '2026-11-02 10:00:00')"))
        await upgrade(engine)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT summary FROM hotspot_warnings"))).scalars().all() == [""]
    finally:
        await engine.dispose()
