"""The model registry (`models`, `model_events`): list, show, store, promote and roll back champions.

Champion changes run in one transaction under a registry advisory lock and are logged in `model_events`, so
that a rollback returns to the model the current champion replaced. A model is promoted only once its
artifact has been rebuilt by the serving loader inside that transaction: an unloadable model never serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from psycopg.types.range import Range

from matching.features import FEATURE_VERSION
from matching.scoring import SELECT_CHAMPION_VERSION, ensure_v0_model, load_active_model

# Shared by every Maillage process (distinct from the migrator's and the re-training's keys).
REGISTRY_LOCK_KEY = 7_236_118_006

LIST_MODELS = """
SELECT version, kind, status, feature_version, created_at, promoted_at, data_window,
       metrics #> '{holdout,challenger,overall}' AS holdout
FROM models ORDER BY created_at DESC, id DESC
LIMIT %(limit)s
"""
SHOW_MODEL = """
SELECT version, kind, status, artifact_format, octet_length(artifact) AS artifact_bytes, feature_names,
       feature_version, data_window, metrics, library_versions, params, created_at, promoted_at
FROM models WHERE version = %(version)s
"""
MODEL_EVENTS = """
SELECT action, version, previous_version, actor, reason, at FROM model_events
WHERE version = %(version)s OR previous_version = %(version)s ORDER BY id
"""
LOCK_REGISTRY = "SELECT pg_advisory_xact_lock(%(key)s)"
MODEL_STATUS = "SELECT status, feature_version FROM models WHERE version = %(version)s"
RETIRE = "UPDATE models SET status = %(status)s WHERE version = %(version)s"
CROWN = "UPDATE models SET status = 'champion', promoted_at = now() WHERE version = %(version)s"
INSERT_EVENT = """
INSERT INTO model_events (action, version, previous_version, actor, reason)
VALUES (%(action)s, %(version)s, %(previous)s, %(actor)s, %(reason)s)
"""
# The model the champion replaced when it was last promoted (rollbacks pop this stack).
REPLACED_BY_CHAMPION = """
SELECT previous_version FROM model_events
WHERE version = %(version)s AND action = 'promote' AND previous_version IS NOT NULL
ORDER BY id DESC LIMIT 1
"""
INSERT_LEARNED = """
INSERT INTO models (version, kind, status, artifact, artifact_format, feature_names, feature_version, data_window,
                    metrics, library_versions, params)
VALUES (%(version)s, %(kind)s, %(status)s, %(artifact)s, %(artifact_format)s, %(feature_names)s,
        %(feature_version)s, %(data_window)s, %(metrics)s, %(library_versions)s, %(params)s)
"""


class RegistryError(RuntimeError):
    """A registry operation that cannot be done (unknown model, nothing to roll back to…)."""


@dataclass(frozen=True, slots=True)
class ChampionChange:
    """A change of champion: from which version to which."""

    previous: str | None
    champion: str


def list_models(conn: psycopg.Connection, limit: int = 50) -> list[dict[str, Any]]:
    """Registered models, newest first, with their holdout metrics when trained here."""
    ensure_v0_model(conn)
    return conn.execute(LIST_MODELS, {"limit": limit}).fetchall()


def show_model(conn: psycopg.Connection, version: str) -> dict[str, Any]:
    """One model's metadata (no artifact bytes) and its promotion history."""
    row = conn.execute(SHOW_MODEL, {"version": version}).fetchone()
    if row is None:
        raise RegistryError(f"unknown model {version!r}")
    return {**row, "events": conn.execute(MODEL_EVENTS, {"version": version}).fetchall()}


def store_model(
    conn: psycopg.Connection, *, version: str, kind: str, status: str, artifact: bytes, artifact_format: str,
    feature_names: tuple[str, ...], window: tuple[datetime, datetime] | None, metrics: dict,
    library_versions: dict, params: dict,
) -> None:  # fmt: skip
    """Insert a learned model (as 'candidate' or 'rejected') in the caller's transaction."""
    conn.execute(INSERT_LEARNED, {
        "version": version, "kind": kind, "status": status, "artifact": artifact, "artifact_format": artifact_format,
        "feature_names": list(feature_names), "feature_version": FEATURE_VERSION,
        "data_window": Range(window[0], window[1], "[]") if window else None, "metrics": Jsonb(metrics),
        "library_versions": Jsonb(library_versions), "params": Jsonb(params),
    })  # fmt: skip


def log_event(conn: psycopg.Connection, action: str, version: str, previous: str | None, actor: str,
              reason: str | None = None) -> None:  # fmt: skip
    """Append to the registry's history in the caller's transaction."""
    conn.execute(INSERT_EVENT, {"action": action, "version": version, "previous": previous, "actor": actor,
                                "reason": reason})  # fmt: skip


def _swap(conn: psycopg.Connection, version: str, old_status: str) -> str | None:
    """Make `version` champion (the current one gets `old_status`); the caller holds the registry lock."""
    current = conn.execute(SELECT_CHAMPION_VERSION).fetchone()
    previous = current["version"] if current else None
    if previous is not None:
        conn.execute(RETIRE, {"status": old_status, "version": previous})
    conn.execute(CROWN, {"version": version})
    model = load_active_model(conn)  # the serving loader must rebuild it, or the transaction is undone
    if model.version != version:
        raise RegistryError(f"champion is {model.version}, expected {version}")
    return previous


def lock_registry(conn: psycopg.Connection) -> None:
    """Serialise champion changes until the end of the caller's transaction."""
    conn.execute(LOCK_REGISTRY, {"key": REGISTRY_LOCK_KEY})


def promote_in_transaction(conn: psycopg.Connection, version: str, actor: str, reason: str | None) -> ChampionChange:
    """Promote within the caller's transaction (which must hold the registry lock)."""
    row = conn.execute(MODEL_STATUS, {"version": version}).fetchone()
    if row is None:
        raise RegistryError(f"unknown model {version!r}")
    if row["status"] == "champion":
        raise RegistryError(f"{version} is already the champion")
    if row["feature_version"] != FEATURE_VERSION:
        raise RegistryError(f"{version} reads features {row['feature_version']}, serving computes {FEATURE_VERSION}")
    previous = _swap(conn, version, "retired")
    log_event(conn, "promote", version, previous, actor, reason)
    return ChampionChange(previous, version)


def promote(
    conn: psycopg.Connection, version: str, actor: str = "operator", reason: str | None = None
) -> ChampionChange:
    """Make a registered model the champion (served at the next request, no restart)."""
    ensure_v0_model(conn)
    conn.commit()
    with conn.transaction():
        lock_registry(conn)
        change = promote_in_transaction(conn, version, actor, reason)
    conn.commit()
    return change


def rollback(conn: psycopg.Connection, actor: str = "operator", reason: str | None = None) -> ChampionChange:
    """Restore the model the current champion replaced; the current one is retired."""
    ensure_v0_model(conn)
    conn.commit()
    with conn.transaction():
        lock_registry(conn)
        current = conn.execute(SELECT_CHAMPION_VERSION).fetchone()["version"]
        row = conn.execute(REPLACED_BY_CHAMPION, {"version": current}).fetchone()
        if row is None:
            raise RegistryError(f"{current} replaced no model: nothing to roll back to")
        previous = row["previous_version"]
        _swap(conn, previous, "retired")
        log_event(conn, "rollback", previous, current, actor, reason)
    conn.commit()
    return ChampionChange(current, previous)
