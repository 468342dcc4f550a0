"""Database engine, sessions and migrations (SQLAlchemy 2 async).

SQLite (aiosqlite, WAL) is the embedded default; PostgreSQL (asyncpg) serves several gateway instances.
Every capability declares its tables on ``Base`` in its own ``models.py``; Alembic migrations in
``gateway/db/migrations`` create them on both engines.
"""

from gateway.db.base import Base, utcnow
from gateway.db.engine import create_engine, session_factory
from gateway.db.migrate import upgrade

__all__ = ["Base", "create_engine", "session_factory", "upgrade", "utcnow"]
