"""The migrator: ordering, idempotence, tamper detection, and the schema it produces."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from matching.storage.migrator import Migration, MigrationError, load_migrations, upgrade
from matching.storage.schema_dump import SNAPSHOT_PATH, dump_schema


@pytest.fixture()
def empty_database(pg_server, request) -> str:
    """A brand-new, unmigrated database."""
    name = f"empty_{request.node.name.lower()[:40]}"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return pg_server.get_uri(name)


def test_migration_files_are_numbered_without_gaps():
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))


def test_upgrade_applies_everything_once(empty_database):
    first = upgrade(empty_database)
    assert [m.version for m in first] == [m.version for m in load_migrations()]
    assert upgrade(empty_database) == []


def test_edited_migration_is_detected(empty_database):
    migrations = [Migration(1, "one", "CREATE TABLE t1 (id int)")]
    upgrade(empty_database, migrations)
    with pytest.raises(MigrationError, match="edited"):
        upgrade(empty_database, [Migration(1, "one", "CREATE TABLE t1 (id bigint)")])


def test_failed_migration_rolls_back_and_reports(empty_database):
    migrations = [Migration(1, "ok", "CREATE TABLE ok_t (id int)"), Migration(2, "bad", "CREATE TABLE ok_t (id int)")]
    with pytest.raises(MigrationError, match="0002_bad"):
        upgrade(empty_database, migrations)
    with psycopg.connect(empty_database) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
    assert versions == [1]


def test_gaps_in_versions_are_refused(tmp_path: Path):
    (tmp_path / "0001_a.sql").write_text("SELECT 1")
    (tmp_path / "0003_c.sql").write_text("SELECT 1")
    with pytest.raises(MigrationError, match="without gaps"):
        load_migrations(tmp_path)


def test_concurrent_upgrades_apply_each_migration_once(empty_database):
    # A slow first migration: without the advisory lock both runs would try to apply it.
    migrations = [
        Migration(1, "slow", "SELECT pg_sleep(0.5); CREATE TABLE slow_t (id int)"),
        Migration(2, "next", "CREATE TABLE next_t (id int)"),
    ]
    results: list[list[Migration]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(upgrade(empty_database, migrations))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(len(r) for r in results) == [0, 2]


def test_migrated_schema_matches_the_snapshot(empty_database):
    """A fresh database migrated from zero has exactly the committed schema.

    After adding a migration, refresh the snapshot with `maillage db schema --write` on a migrated
    database and review its diff.
    """
    upgrade(empty_database)
    assert dump_schema(empty_database) == SNAPSHOT_PATH.read_text(encoding="utf-8")
