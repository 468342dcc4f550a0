"""The search migration fills the text index for tickets stored before it (SQLite: the FTS table)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from gateway.db import create_engine, upgrade


async def test_tickets_stored_before_the_upgrade_are_found_by_their_words(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        await upgrade(engine, "tickets_0001")
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO tickets (number, version, status, policy_id, channel, category, urgent, provincial, "
                "title, content, elements, location, confidential, disclose_caller, reply_attachments, "
                "resolved_on_call, created_at, deemed_signed, extension_count, reopen_count, return_count, "
                "supervise_level, updated_at) VALUES ('2026111600001', 1, 'new', 'national', 'phone', "
                "'complaint', 0, 0, '', '幸福路路灯坏了', '{}', '城关镇', 0, 0, '[]', 0, "
                "'2026-11-16 01:00:00.000000', 0, 0, 0, 0, 0, '2026-11-16 01:00:00.000000')"))
        await upgrade(engine)
        async with engine.connect() as conn:
            stored = (await conn.execute(text("SELECT search_text FROM tickets"))).scalar_one()
            found = (await conn.execute(text(
                "SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH '\"路灯 灯坏\"'"))).all()
        assert stored == "幸福 福路 路路 路灯 灯坏 坏了 城关 关镇"
        assert found == [(1,)]
    finally:
        await engine.dispose()
