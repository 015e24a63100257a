"""Connections to PostgreSQL: the pool used by the API and worker, and one-off connections."""

from __future__ import annotations

import orjson
import psycopg
from pgvector.psycopg import register_vector
from psycopg.rows import dict_row
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import ConnectionPool

from matching.config import Settings


def _json_dumps(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)


def configure_connection(conn: psycopg.Connection) -> None:
    """Prepare a new connection: pgvector types, fast JSON, plans fitted to each query's parameters."""
    register_vector(conn)
    # A ranking request decodes the skills of ~150 offers and encodes 20 feature snapshots: orjson, not json.
    set_json_dumps(_json_dumps, conn)
    set_json_loads(orjson.loads, conn)
    # Generic plans ignore how selective a radius or filter is; matching queries need custom ones.
    conn.execute("SET plan_cache_mode = force_custom_plan")
    conn.commit()


def connect(conninfo: str, **kwargs) -> psycopg.Connection:
    """Open one configured connection (CLI commands, scripts, tests)."""
    conn = psycopg.connect(conninfo, row_factory=dict_row, **kwargs)
    configure_connection(conn)
    return conn


def open_pool(conninfo: str, settings: Settings) -> ConnectionPool:
    """Open the shared connection pool, waiting until the server answers."""
    pool = ConnectionPool(
        conninfo,
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        kwargs={"row_factory": dict_row},
        configure=configure_connection,
        open=False,
        name="maillage",
    )
    pool.open(wait=True, timeout=30)
    return pool
