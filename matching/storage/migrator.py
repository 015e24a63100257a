"""A small migrator for versioned plain-SQL migrations, safe against concurrent runs."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import psycopg

MIGRATIONS_PACKAGE = "matching.storage.migrations"
# Arbitrary constant shared by every Maillage process: two migrators never run at once.
MIGRATION_LOCK_KEY = 7_236_118_001
_FILENAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")

CREATE_TRACKING_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""
SELECT_APPLIED = "SELECT version, name, checksum FROM schema_migrations ORDER BY version"
INSERT_APPLIED = "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)"


class MigrationError(RuntimeError):
    """A migration could not be applied, or the database disagrees with the migration files."""


@dataclass(frozen=True)
class Migration:
    """One versioned SQL migration file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the file's text, to detect edits of an applied migration."""
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(directory: Path | None = None) -> list[Migration]:
    """Read the migration files in version order, refusing gaps, duplicates and bad names."""
    root = directory or Path(str(resources.files(MIGRATIONS_PACKAGE)))
    migrations = []
    for path in sorted(root.glob("*.sql")):
        match = _FILENAME.match(path.name)
        if not match:
            raise MigrationError(f"bad migration file name {path.name!r}: expected NNNN_name.sql")
        migrations.append(Migration(int(match["version"]), match["name"], path.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise MigrationError(f"migration versions must be 1..N without gaps, got {versions}")
    return migrations


def pending_migrations(conn: psycopg.Connection, migrations: list[Migration]) -> list[Migration]:
    """Return the migrations not yet applied, checking applied ones were not edited since."""
    conn.execute(CREATE_TRACKING_TABLE)
    applied = {version: (name, checksum) for version, name, checksum in conn.execute(SELECT_APPLIED)}
    known = {m.version for m in migrations}
    unknown = sorted(set(applied) - known)
    if unknown:
        raise MigrationError(f"database has migrations this code does not know: {unknown}")
    for migration in migrations:
        if migration.version in applied and applied[migration.version][1] != migration.checksum:
            raise MigrationError(
                f"migration {migration.version:04d}_{migration.name} was edited after being applied"
            )
    return [m for m in migrations if m.version not in applied]


def upgrade(
    conninfo: str,
    migrations: list[Migration] | None = None,
    on_applied: Callable[[Migration], None] | None = None,
) -> list[Migration]:
    """Apply pending migrations, each in its own transaction, under an advisory lock."""
    migrations = load_migrations() if migrations is None else migrations
    applied: list[Migration] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            for migration in pending_migrations(conn, migrations):
                try:
                    with conn.transaction():
                        conn.execute(migration.sql)  # type: ignore[arg-type]  # trusted file, no parameters
                        conn.execute(INSERT_APPLIED, (migration.version, migration.name, migration.checksum))
                except psycopg.Error as exc:
                    raise MigrationError(
                        f"migration {migration.version:04d}_{migration.name} failed: {exc}"
                    ) from exc
                applied.append(migration)
                if on_applied:
                    on_applied(migration)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    return applied
